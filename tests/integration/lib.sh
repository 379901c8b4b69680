# SPDX-License-Identifier: MIT
#
# Shared helpers for the integration tests, which run the real wharf
# binary: a private temp dir, a server on an ephemeral port, clients run
# with their output captured, and assertions that stop the script with a
# clear message. Source it first thing:  . "$(dirname "$0")/lib.sh"
#
# Every wait is bounded; every background process is recorded in BG_PIDS
# and killed (and reaped) by the EXIT trap, whatever way the script ends.

set -u

if [ -z "${WHARF_BIN:-}" ]; then
	WHARF_BIN=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." &&
		pwd)/build/wharf
fi
if [ ! -x "$WHARF_BIN" ]; then
	echo "FAIL: WHARF_BIN=$WHARF_BIN is not an executable"
	echo "0 passed, 1 failed"
	exit 1
fi
W=$WHARF_BIN

TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/wharf-$TEST_NAME.XXXXXX") || {
	echo "FAIL: mktemp -d"
	exit 1
}

# Nothing from the developer's own setup may leak in: known_hosts lives in
# the temp dir, and no password comes from the environment.
export XDG_CONFIG_HOME=$T/config
export HOME=$T/home
export LC_ALL=C
export TZ=UTC
unset WHARF_PASSWORD
mkdir -p "$HOME" "$XDG_CONFIG_HOME"
# Nor from the machine's server configuration (/etc/wharf/wharf.conf as
# root): every server and `wharf user` reads this file instead. Its
# drain-timeout is short, so that a connection a test leaves open does
# not hold the server's stop (SIGTERM) past stop_server's 10 s.
mkdir -p "$T/etc"
printf '# written by tests/integration/lib.sh\ndrain-timeout = 3\n' \
	>"$T/etc/wharf.conf"
chmod 755 "$T/etc"
chmod 644 "$T/etc/wharf.conf"
export WHARF_SERVE_CONFIG=$T/etc/wharf.conf

# The default server: tests may point these elsewhere before start_server.
ROOT=$T/root
STATE=$T/state
LOG=$T/server.log
HOST=127.0.0.1
LISTEN=127.0.0.1:0
mkdir -p "$ROOT"

# A server started as root serves as an unprivileged user (docs/security.md).
# The tests run as root in CI, so their servers serve as this test account:
# it must reach the temp dir, and own what the test puts in the served root
# (give_tree) as an administrator would chown it.
SERVE_AS=()
SERVE_USER=
if [ "$(id -u)" = 0 ]; then
	SERVE_USER=${WHARF_TEST_USER:-wharf-test}
	n=0
	# Tests start in parallel: one of them adds the account, the others
	# may lose the race for the passwd lock and find it made.
	until id -u "$SERVE_USER" >/dev/null 2>&1; do
		useradd --system --no-create-home --shell /usr/sbin/nologin \
			"$SERVE_USER" 2>/dev/null ||
			[ $n -lt 50 ] || {
			echo "FAIL: cannot create the test account $SERVE_USER"
			exit 1
		}
		sleep 0.1
		n=$((n + 1))
	done
	SERVE_AS=(--user "$SERVE_USER")
	chmod 711 "$T"
fi

# give_tree PATH...: as root, gives PATH and everything beneath it (links
# not followed) to the account the test servers run as.
give_tree() {
	[ -n "$SERVE_USER" ] || return 0
	chown -R -h "$SERVE_USER:" "$@" 2>/dev/null
	return 0
}

# How every server log line starts: an ISO-8601 time, then the level.
LOG_LINE_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}'
LOG_LINE_RE+='(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2}) (ERROR|WARN|INFO|DEBUG) '

# Seconds a single client run may take before it counts as hung.
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-30}

PASSED=0
BG_PIDS=()
SERVER_N=0
HELD_N=0
RC=
OUT=
ERR=
LAST_CMD=

# kill_wait PID: TERM, up to 5 s to go, then KILL; always reaped.
kill_wait() {
	local pid=$1 i=0

	kill -TERM "$pid" 2>/dev/null || {
		wait "$pid" 2>/dev/null
		return 0
	}
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

forget_pid() {
	local pid=$1 i

	for i in "${!BG_PIDS[@]}"; do
		[ "${BG_PIDS[$i]}" = "$pid" ] && unset "BG_PIDS[$i]"
	done
	return 0
}

cleanup() {
	local pid

	for pid in "${BG_PIDS[@]}"; do
		kill_wait "$pid"
	done
	if [ -n "${WHARF_KEEP_TMP:-}" ]; then
		echo "kept $T"
	else
		chmod -R u+rwx "$T" 2>/dev/null
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---------------------------------------------------------------- results

pass() {
	PASSED=$((PASSED + 1))
}

# fail MESSAGE: says what went wrong, with the last client run and the
# server log for context, and ends the script.
fail() {
	echo "FAIL: $TEST_NAME: $*"
	if [ -n "$LAST_CMD" ]; then
		echo "--- last client run: $LAST_CMD"
		echo "--- exit status: $RC"
		echo "--- stdout:"
		printf '%s\n' "$OUT" | head -c 3000
		echo "--- stderr:"
		printf '%s\n' "$ERR" | head -c 3000
	fi
	if [ -s "$LOG" ]; then
		echo "--- server log (last 25 lines of $LOG):"
		tail -n 25 "$LOG"
	fi
	echo "$PASSED passed, 1 failed"
	exit 1
}

# finish: the closing line that ctest's output and CI read.
finish() {
	echo "$PASSED passed, 0 failed"
	exit 0
}

skip() {
	echo "SKIP: $TEST_NAME: $*"
}

# ------------------------------------------------------------- assertions

assert_eq() { # EXPECTED ACTUAL [WHAT]
	[ "$1" = "$2" ] ||
		fail "${3:-values differ}: expected '$1', got '$2'"
	pass
}

assert_ne() { # UNEXPECTED ACTUAL [WHAT]
	[ "$1" != "$2" ] || fail "${3:-values equal}: both are '$1'"
	pass
}

assert_exit() { # EXPECTED [WHAT]: the exit status of the last run
	[ "$RC" = "$1" ] ||
		fail "${2:-exit status}: expected exit $1, got $RC"
	pass
}

assert_contains() { # HAYSTACK NEEDLE [WHAT]
	case $1 in
	*"$2"*) pass ;;
	*) fail "${3:-missing text}: '$2' not found in: $(printf '%s' "$1" |
		head -c 600)" ;;
	esac
}

assert_not_contains() { # HAYSTACK NEEDLE [WHAT]
	case $1 in
	*"$2"*) fail "${3:-unexpected text}: '$2' found in: $(printf '%s' \
		"$1" | head -c 600)" ;;
	*) pass ;;
	esac
}

assert_match() { # TEXT ERE [WHAT]: some line of TEXT matches ERE
	printf '%s\n' "$1" | grep -Eq -- "$2" ||
		fail "${3:-no match}: no line matches /$2/ in: $(printf '%s' \
			"$1" | head -c 600)"
	pass
}

assert_file_exists() { # PATH [WHAT]
	[ -e "$1" ] || [ -L "$1" ] || fail "${2:-file missing}: $1"
	pass
}

assert_dir_exists() { # PATH [WHAT]
	[ -d "$1" ] || fail "${2:-directory missing}: $1"
	pass
}

assert_no_file() { # PATH [WHAT]
	[ ! -e "$1" ] && [ ! -L "$1" ] ||
		fail "${2:-should not exist}: $1"
	pass
}

# tree_sum DIR: one checksum over names, types, modes, sizes, mtimes, link
# targets and contents of everything under DIR (links not followed), to
# prove that a refused operation changed nothing.
tree_sum() {
	(
		cd "$1" || exit 1
		find . -printf '%p %y %m %s %T@ %l\n' | sort
		find . -type f -exec sha256sum {} + | sort
	) | sha256sum | cut -d' ' -f1
}

# ----------------------------------------------------------------- server

# host_port: the address clients use for the current server.
host_port() {
	printf '%s:%s' "$HOST" "$PORT"
}

# start_server [SERVE ARGS...]: runs `wharf serve` on $ROOT, $STATE, $LOG
# and $LISTEN, waits up to 10 s for its "listening on" line, and sets
# PORT (exported), SERVER_PID, SERVER_ERR (its stderr) and
# ADMIN_PASSWORD (if it created the first admin).
start_server() {
	local off n=0 fresh=0

	[ -s "$STATE/users" ] || fresh=1
	off=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
	SERVER_N=$((SERVER_N + 1))
	SERVER_ERR=$T/server.$SERVER_N.stderr
	give_tree "$ROOT"
	"$W" serve --root "$ROOT" --state "$STATE" --listen "$LISTEN" \
		--log "$LOG" "${SERVE_AS[@]}" "$@" </dev/null 2>"$SERVER_ERR" &
	SERVER_PID=$!
	BG_PIDS+=("$SERVER_PID")
	PORT=
	while [ $n -lt 100 ]; do
		# Only lines this start wrote: the log is appended to.
		PORT=$(tail -c +$((off + 1)) "$LOG" 2>/dev/null |
			sed -n 's/.* listening on .*:\([0-9][0-9]*\)$/\1/p' |
			head -n 1)
		[ -n "$PORT" ] && break
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
		n=$((n + 1))
	done
	[ -n "$PORT" ] || fail "server did not start within 10 s" \
		"(wharf serve $*): $(cat "$SERVER_ERR")"
	export PORT
	# A first start shows the admin's password last of all its lines.
	n=0
	while [ "$fresh" = 1 ] && [ $n -lt 50 ] &&
		! grep -q "^wharf: created user 'admin'" "$SERVER_ERR"; do
		sleep 0.1
		n=$((n + 1))
	done
	ADMIN_PASSWORD=$(sed -n \
		"s/^wharf: created user 'admin' with password: //p" \
		"$SERVER_ERR")
}

# check_sanitizers FILE: fails if a sanitizer reported anything in FILE.
check_sanitizers() {
	if grep -Eq 'Sanitizer|runtime error:' "$1" 2>/dev/null; then
		fail "sanitizer report in $1: $(head -c 3000 "$1")"
	fi
	pass
}

# stop_server [PID]: stops a server (default the last one) with SIGTERM,
# up to 10 s, and checks that it exited 0 without sanitizer reports.
stop_server() {
	local pid=${1:-$SERVER_PID} i=0 rc

	kill -TERM "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "server $pid did not stop within 10 s of SIGTERM"
	fi
	wait "$pid"
	rc=$?
	forget_pid "$pid"
	check_sanitizers "$SERVER_ERR"
	[ "$rc" = 0 ] ||
		fail "server exited $rc after SIGTERM: $(cat "$SERVER_ERR")"
	pass
}

# server_alive [PID]: asserts that the server process is still running.
server_alive() {
	kill -0 "${1:-$SERVER_PID}" 2>/dev/null ||
		fail "the server died: $(cat "$SERVER_ERR")"
	pass
}

# wait_log ERE [SECONDS]: waits (default 10 s) until a line of $LOG
# matches; returns 1 on timeout.
wait_log() {
	local n=0 limit=$((${2:-10} * 10))

	while [ $n -lt $limit ]; do
		grep -Eq -- "$1" "$LOG" 2>/dev/null && return 0
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# count_log ERE: how many lines of $LOG match.
count_log() {
	grep -Ec -- "$1" "$LOG" 2>/dev/null
}

# wait_count ERE N [SECONDS]: waits (default 10 s) until at least N lines
# of $LOG match; returns 1 on timeout.
wait_count() {
	local n=0 limit=$((${3:-10} * 10))

	while [ $n -lt $limit ]; do
		[ "$(count_log "$1")" -ge "$2" ] && return 0
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# add_user NAME PASSWORD [--read-only]: `wharf user add` on $STATE, the
# password as one line on stdin.
add_user() {
	local name=$1 password=$2 out

	shift 2
	out=$(printf '%s\n' "$password" | timeout 60 "$W" user add "$name" \
		--state "$STATE" --init "$@" 2>&1) ||
		fail "wharf user add $name failed: $out"
}

# ----------------------------------------------------------------- client

# run CMD...: runs CMD with no stdin and a time limit; sets RC, OUT, ERR.
# A sanitizer report on stderr fails the test at once.
run() {
	LAST_CMD="$*"
	# What the test made in the root since, the server must own.
	give_tree "$ROOT"
	timeout -k 5 "$CLIENT_TIMEOUT" "$@" </dev/null >"$T/run.out" \
		2>"$T/run.err"
	RC=$?
	OUT=$(cat "$T/run.out")
	ERR=$(cat "$T/run.err")
	check_sanitizers "$T/run.err"
	[ "$RC" != 124 ] ||
		fail "timed out after $CLIENT_TIMEOUT s: $LAST_CMD"
}

# wharf_c USER PASSWORD COMMANDS [CONNECT ARGS...]: one `wharf connect
# USER@HOST:PORT -c COMMANDS` run; sets RC, OUT, ERR.
wharf_c() {
	local user=$1 password=$2 cmds=$3

	shift 3
	run env WHARF_PASSWORD="$password" "$W" connect \
		"$user@$(host_port)" -c "$cmds" "$@"
}

# wharf_b USER PASSWORD BATCHFILE [CONNECT ARGS...]: the same with -b.
wharf_b() {
	local user=$1 password=$2 batch=$3

	shift 3
	run env WHARF_PASSWORD="$password" "$W" connect \
		"$user@$(host_port)" -b "$batch" "$@"
}

# wait_disconnects [SECONDS]: until the server has logged a disconnect
# for every connection (default 10 s), e.g. after a client was killed, so
# that what the session held (a partial, a lock) has been let go of.
wait_disconnects() {
	local n=0 limit=$((${1:-10} * 10))

	while [ "$(grep -c ' connect$' "$LOG")" -gt \
		"$(grep -c ' disconnect ' "$LOG")" ] && [ $n -lt $limit ]; do
		sleep 0.1
		n=$((n + 1))
	done
}

# hold_client USER PASSWORD [CONNECT ARGS...]: starts an interactive
# `wharf connect` that reads its commands from a fifo this script keeps
# open, so that the session stays up. Sets HELD_PID, HELD_FD (send
# commands with: echo CMD >&"$HELD_FD"), HELD_OUT and HELD_ERR.
hold_client() {
	local user=$1 password=$2 fifo

	shift 2
	HELD_N=$((HELD_N + 1))
	fifo=$T/held.$HELD_N.fifo
	HELD_OUT=$T/held.$HELD_N.out
	HELD_ERR=$T/held.$HELD_N.err
	give_tree "$ROOT"
	mkfifo "$fifo" || fail "mkfifo $fifo"
	# Read-write: opening never blocks, and closing it is the client's EOF.
	exec {HELD_FD}<>"$fifo"
	# The client gets the fifo alone: holding our write end too, it
	# would never see EOF when end_held closes ours.
	WHARF_PASSWORD=$password timeout -k 5 60 "$W" connect \
		"$user@$(host_port)" "$@" <"$fifo" >"$HELD_OUT" \
		2>"$HELD_ERR" {HELD_FD}>&- &
	HELD_PID=$!
	BG_PIDS+=("$HELD_PID")
}

# end_held [SECONDS]: closes the held client's stdin and waits (default
# 10 s) for it to exit; sets RC, OUT, ERR from it.
end_held() {
	local n=0 limit=$((${1:-10} * 10))

	exec {HELD_FD}>&-
	while kill -0 "$HELD_PID" 2>/dev/null && [ $n -lt $limit ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -0 "$HELD_PID" 2>/dev/null &&
		fail "held client did not exit within ${1:-10} s"
	wait "$HELD_PID"
	RC=$?
	forget_pid "$HELD_PID"
	LAST_CMD="held client $HELD_N"
	OUT=$(cat "$HELD_OUT")
	ERR=$(cat "$HELD_ERR")
	check_sanitizers "$HELD_ERR"
}

# now_ms: wall clock in milliseconds, for timing checks.
now_ms() {
	local t=${EPOCHREALTIME/./}

	echo $((t / 1000))
}
