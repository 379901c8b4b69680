#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# `wharf serve` start-up checks (state inside the root, bad options, bad
# state files, a busy port), IPv6 listening, and the log format.
. "$(dirname "$0")/lib.sh"

# serve_fails EXPECTED_EXIT WHAT SERVE ARGS...: a serve run that must stop
# by itself at once with that status.
serve_fails() {
	local expected=$1 what=$2

	shift 2
	run "$W" serve "$@"
	assert_exit "$expected" "$what"
}

# --- the state folder may not be inside the served root
mkdir -p "$T/r/sub"
serve_fails 1 "state inside root" --root "$T/r" --state "$T/r/state" \
	--listen 127.0.0.1:0 --log "$T/refused.log"
assert_contains "$ERR" "is inside the served root"
assert_contains "$ERR" "Choose a state folder outside the root"
assert_no_file "$T/r/state/users" "no users file written inside the root"
assert_no_file "$T/r/state/host_key" "no host key written inside the root"
assert_not_contains "$ERR" "created user" "no admin made"

serve_fails 1 "state equal to root" --root "$T/r" --state "$T/r" \
	--listen 127.0.0.1:0 --log "$T/refused.log"
assert_contains "$ERR" "is inside the served root"
assert_no_file "$T/r/users"

ln -s "$T/r/sub" "$T/state_link"
serve_fails 1 "state reached through a symlink into the root" \
	--root "$T/r" --state "$T/state_link" --listen 127.0.0.1:0 \
	--log "$T/refused.log"
assert_contains "$ERR" "is inside the served root"
assert_no_file "$T/r/sub/users"

serve_fails 1 "state inside root given with .." --root "$T/r" \
	--state "$T/r/sub/../state2" --listen 127.0.0.1:0 \
	--log "$T/refused.log"
assert_contains "$ERR" "is inside the served root"

# A root that is "/" would hold every state folder.
serve_fails 1 "the root is /" --root / --state "$T/st" \
	--listen 127.0.0.1:0 --log "$T/refused.log"
assert_contains "$ERR" "is inside the served root"

# A sibling whose name starts with the root's is not inside it.
add_user ivy 'ivy pw'
STATE=$T/r-state ROOT=$T/r start_server
assert_ne "" "$PORT" "state beside the root (same prefix) is accepted"
stop_server

# --- bad options and bad files
serve_fails 2 "--max-clients 0" --max-clients 0
assert_contains "$ERR" "--max-clients"
serve_fails 2 "--max-clients not a number" --max-clients lots
serve_fails 2 "--idle-timeout 0" --idle-timeout 0
assert_contains "$ERR" "--idle-timeout"
serve_fails 2 "--idle-timeout with junk" --idle-timeout 5s
serve_fails 2 "an unknown option" --frobnicate
serve_fails 2 "an extra argument" extra
run "$W" serve --help
assert_exit 0 "serve --help"
assert_contains "$OUT" "--max-clients N"

serve_fails 1 "a --listen that is not HOST:PORT" --root "$ROOT" \
	--state "$STATE" --listen 'not an address' --log "$T/bad.log"
assert_contains "$ERR" "--listen"

: >"$T/a_file"
serve_fails 1 "a root that is a file" --root "$T/a_file" --state "$STATE" \
	--listen 127.0.0.1:0 --log "$T/bad.log"
assert_contains "$ERR" "root"

serve_fails 1 "a log that cannot be opened" --root "$ROOT" \
	--state "$STATE" --listen 127.0.0.1:0 --log "$T/no/such/dir/log"
assert_contains "$ERR" "--log"

# A port already taken.
start_server
BUSY_PORT=$PORT
serve_fails 1 "a port in use" --root "$ROOT" --state "$STATE" \
	--listen "127.0.0.1:$BUSY_PORT" --log "$T/bad.log"
assert_contains "$ERR" "in use"
server_alive
stop_server

# A host key others can read is refused.
chmod 644 "$STATE/host_key"
serve_fails 1 "a host key readable by others" --root "$ROOT" \
	--state "$STATE" --listen 127.0.0.1:0 --log "$T/bad.log"
assert_contains "$ERR" "readable by others"
chmod 600 "$STATE/host_key"

# A malformed users file is refused, naming the line.
cp "$STATE/users" "$T/users.good"
printf '# comment\nthis line is not a user\n' >>"$STATE/users"
serve_fails 1 "a malformed users file" --root "$ROOT" --state "$STATE" \
	--listen 127.0.0.1:0 --log "$T/bad.log"
assert_contains "$ERR" "line 3 is malformed"
cp "$T/users.good" "$STATE/users"

# --- the host key persists across restarts
start_server
FP1=$(grep -o 'host key SHA256:[^ ]*' "$LOG" | tail -n 1)
stop_server
start_server
FP2=$(grep -o 'host key SHA256:[^ ]*' "$LOG" | tail -n 1)
assert_ne "" "$FP1"
assert_eq "$FP1" "$FP2" "the same host key after a restart"

# --- the log: ISO-8601 UTC timestamps, one line per operation
wharf_c ivy 'ivy pw' "mkdir logged; mkdir logged"
assert_exit 1 "second mkdir fails"
stop_server
assert_match "$(cat "$LOG")" 'stopping \(0 clients connected\)' \
	"SIGTERM is logged"
BAD=$(grep -Ev -- "$LOG_LINE_RE" "$LOG")
assert_eq "" "$BAD" "every log line starts with an ISO-8601 time and level"
assert_match "$(cat "$LOG")" \
	'user=ivy op=mkdir path="/logged" result=ok ms=[0-9]+(\.[0-9]+)?$' \
	"a successful mkdir is logged with path, result and ms"
assert_match "$(cat "$LOG")" \
	'user=ivy op=mkdir path="/logged" result=EXISTS ms=[0-9]+(\.[0-9]+)?$' \
	"a failed mkdir is logged with its result"
assert_match "$(cat "$LOG")" 'user=ivy op=login result=ok'
assert_match "$(cat "$LOG")" \
	'user=ivy disconnect secs=[0-9.]+ bytes_in=[0-9]+ bytes_out=[0-9]+'
assert_not_contains "$(cat "$LOG")" 'ivy pw' "no password in the log"

# -v adds debug lines, in the same format.
: >"$T/verbose.log"
LOG=$T/verbose.log start_server -v
wharf_c ivy 'ivy pw' "pwd"
assert_exit 0 "a session on a server run with -v"
stop_server
BAD=$(grep -Ev -- "$LOG_LINE_RE" "$T/verbose.log")
assert_eq "" "$BAD" "-v log lines keep the same format"
assert_match "$(cat "$T/verbose.log")" 'user=ivy op=pwd path="/" result=ok'

# --- IPv6
if grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; then
	LISTEN='[::1]:0' start_server
	assert_match "$(cat "$LOG")" 'listening on \[::1\]:[0-9]+$'
	HOST='[::1]' wharf_c ivy 'ivy pw' "mkdir over_ipv6; pwd"
	assert_exit 0 "connect to [::1]:PORT"
	assert_dir_exists "$ROOT/over_ipv6"
	assert_contains "$ERR" "pinned host key of [::1]:$PORT"
	assert_match "$(cat "$XDG_CONFIG_HOME/wharf/known_hosts")" \
		"^\\[::1\\]:$PORT ed25519 "
	assert_match "$(cat "$LOG")" 'peer=\[::1\]:[0-9]+ connect'
	# An IPv4 client does not reach an IPv6-only listener.
	wharf_c ivy 'ivy pw' "pwd"
	assert_exit 3 "IPv4 to a server listening on [::1] only"
	stop_server
else
	skip "::1 is not configured on this machine; IPv6 not tested"
fi

finish
