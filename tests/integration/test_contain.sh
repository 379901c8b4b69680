#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Containment of a server started as root (docs/security.md): it serves as
# an unprivileged user with no capabilities, no-new-privs and a seccomp
# filter (read from /proc/PID/status), and the process itself - not only
# its path checks - cannot open a file outside the root and state folder
# or make a forbidden system call: gdb injects the calls into it.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	skip "needs root: starts servers as root to see them drop it"
	finish
fi

# status_field PID NAME: the value of one line of /proc/PID/status.
status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s ' \t' ' ' |
		sed 's/ $//'
}

# gdb_run PID COMMAND: runs one gdb command in process PID and detaches;
# prints all gdb printed.
gdb_run() {
	timeout 60 gdb -p "$1" -batch -nx -ex "$2" 2>&1
}

# inject PID EXPR: evaluates EXPR in process PID (its main thread); gdb
# prints "$1 = VALUE" for it.
inject() {
	gdb_run "$1" "call $2"
}

# inject_value PID EXPR: the value EXPR gave, or "" if there was none.
inject_value() {
	inject "$1" "$2" | sed -n 's/^\$1 = //p'
}

SVC=$SERVE_USER
SVC_UID=$(id -u "$SVC")
SVC_GID=$(id -g "$SVC")

# --- a root-started server drops to the service user, for good
start_server
wait_log ' contained: ' || fail "no 'contained' line in the log"
assert_match "$(cat "$LOG")" " contained: user=$SVC uid=$SVC_UID " \
	"the log names the service user"
assert_eq "$SVC_UID $SVC_UID $SVC_UID $SVC_UID" \
	"$(status_field "$SERVER_PID" Uid)" "real, effective, saved, fs uid"
assert_eq "$SVC_GID $SVC_GID $SVC_GID $SVC_GID" \
	"$(status_field "$SERVER_PID" Gid)" "real, effective, saved, fs gid"
assert_not_contains " $(status_field "$SERVER_PID" Groups) " " 0 " \
	"no supplementary group root"
for cap in CapInh CapPrm CapEff CapBnd CapAmb; do
	assert_eq 0000000000000000 "$(status_field "$SERVER_PID" $cap)" \
		"$cap is empty"
done
assert_eq 1 "$(status_field "$SERVER_PID" NoNewPrivs)" "no-new-privs"
assert_eq 2 "$(status_field "$SERVER_PID" Seccomp)" "a seccomp filter"
assert_eq "$SVC" "$(stat -c %U "$STATE")" "the state folder is the user's"
assert_eq "$SVC" "$(stat -c %U "$STATE/users")" "the users file is too"
assert_eq "$SVC" "$(stat -c %U "$STATE/host_key")" "and the host key"
assert_eq 600 "$(stat -c %a "$STATE/host_key")" "host key mode kept"

# It still serves: a user added by root while it runs can log in (the
# users file root rewrote stays readable by the service user) and write.
add_user alice 'alice pw'
assert_eq "$SVC" "$(stat -c %U "$STATE/users")" \
	"users file rewritten by root keeps the folder's owner"
echo inside >"$ROOT/inside.txt"
wharf_c alice 'alice pw' "put $ROOT/inside.txt up.txt; get inside.txt $T/got.txt"
assert_exit 0 "a session on the contained server"
assert_eq inside "$(cat "$T/got.txt")" "download from the contained server"
assert_eq "$SVC" "$(stat -c %U "$ROOT/up.txt")" "uploads belong to the user"

# --- the process cannot reach files outside the root and state
# A file the service user may read by its permissions, outside both.
echo outside >"$T/outside.txt"
chmod 644 "$T/outside.txt"
if ! command -v gdb >/dev/null; then
	skip "gdb is not installed: injected open/socket/execve"
	stop_server
	finish
fi
# gdb must be able to call a function in an ordinary process first: on
# some CPU and kernel pairs gdb 13 cannot restore the extended register
# state after a call ("Couldn't write extended state status"), and then
# no injection can say anything about the server.
sleep 120 </dev/null >/dev/null 2>&1 &
PROBE=$!
BG_PIDS+=("$PROBE")
probe_out=$(inject "$PROBE" '(int)getpid()')
kill_wait "$PROBE"
forget_pid "$PROBE"
gdb_values=yes
printf '%s\n' "$probe_out" | grep -q '^\$1 = ' || gdb_values=no
if [ "$gdb_values" = no ]; then
	skip "gdb cannot inject calls on this machine: $(printf '%s\n' \
		"$probe_out" | grep -iE 'error|couldn|cannot' | head -n 1)"
elif grep -q 'Landlock not applied' "$LOG"; then
	skip "the kernel lacks Landlock: $(grep -o 'Landlock not applied.*' \
		"$LOG" | head -n 1)"
else
	assert_eq -1 "$(inject_value "$SERVER_PID" \
		'(int)open("'"$T"'/outside.txt", 0)')" \
		"open of a file outside the root fails in the server"
	assert_eq -1 "$(inject_value "$SERVER_PID" \
		'(int)open("/etc/hostname", 0)')" \
		"open of /etc/hostname fails in the server"
	assert_eq 13 "$(inject_value "$SERVER_PID" \
		'*(int *)__errno_location()')" "with EACCES"
	v=$(inject_value "$SERVER_PID" '(int)open("'"$ROOT"'/inside.txt", 0)')
	[ -n "$v" ] && [ "$v" -ge 0 ] ||
		fail "open of a file in the root should work, got '$v'"
	pass
	v=$(inject_value "$SERVER_PID" '(int)open("'"$STATE"'/users", 0)')
	[ -n "$v" ] && [ "$v" -ge 0 ] ||
		fail "open of the users file should work, got '$v'"
	pass
	# The same call into an uncontained process of the same user works:
	# the refusal above is the confinement, not the file's permissions.
	setpriv --reuid="$SVC" --regid="$SVC" --init-groups \
		sleep 120 </dev/null >/dev/null 2>&1 &
	PLAIN=$!
	BG_PIDS+=("$PLAIN")
	n=0
	while [ "$(status_field "$PLAIN" Uid | cut -d' ' -f1)" != "$SVC_UID" ] &&
		[ $n -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	v=$(inject_value "$PLAIN" '(int)open("'"$T"'/outside.txt", 0)')
	[ -n "$v" ] && [ "$v" -ge 0 ] ||
		fail "control: an uncontained process of $SVC should open" \
			"$T/outside.txt, got '$v'"
	pass
	kill_wait "$PLAIN"
	forget_pid "$PLAIN"

	# A session of a user with a home confines its own thread to the
	# home: a file of the root outside it is out of that thread's
	# reach, and still in reach of the main thread.
	add_user hanna 'hanna pw' --home homes/hanna
	echo top >"$ROOT/top.txt"
	# The threads before the session (main, the control thread, which
	# serves the root): the session's thread is the one added after.
	before=" $(ls /proc/"$SERVER_PID"/task | tr '\n' ' ')"
	hold_client hanna 'hanna pw'
	echo pwd >&"$HELD_FD"
	wait_log 'user=hanna op=login result=ok' ||
		fail "hanna's session did not log in"
	wait_log 'user=hanna op=pwd|user=hanna .*op=stat' 5 || true
	gdb_run "$SERVER_PID" \
		'thread apply all call (int)open("'"$ROOT"'/top.txt", 0)' |
		awk '/^Thread .*\(LWP [0-9]+\)/ {
			lwp = $0; sub(/.*\(LWP /, "", lwp); sub(/\).*/, "", lwp) }
		/^\$[0-9]+ = / { print lwp, $3 }' >"$T/threads.txt"
	main=$(awk -v p="$SERVER_PID" '$1 == p { print $2 }' "$T/threads.txt")
	other=$(awk -v old="$before " 'index(old, " " $1 " ") == 0 { print $2 }' \
		"$T/threads.txt")
	[ -n "$main" ] && [ "$main" -ge 0 ] ||
		fail "the main thread should open the root's top.txt:" \
			"$(cat "$T/threads.txt")"
	pass
	assert_eq -1 "$other" "the home session's thread cannot open top.txt"
	end_held
	assert_exit 0 "the home session ends cleanly"
fi

# --- seccomp: unlisted calls fail, forbidden ones end the process
if [ "$gdb_values" = no ]; then
	skip "gdb cannot inject calls on this machine: seccomp refusals" \
		"(Seccomp: 2 above still shows the filter is on)"
	stop_server
else
	assert_eq -1 "$(inject_value "$SERVER_PID" '(int)setuid(0)')" \
		"setuid(0) is refused"
	assert_eq 1 "$(inject_value "$SERVER_PID" '*(int *)__errno_location()')" \
		"with EPERM"
	server_alive
	wharf_c alice 'alice pw' "ls"
	assert_exit 0 "the server still serves after the refused call"
	# socket(AF_INET, SOCK_STREAM, 0): no new connection out.
	inject "$SERVER_PID" '(int)socket(2, 1, 0)' >"$T/gdb.out"
	n=0
	while kill -0 "$SERVER_PID" 2>/dev/null && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	{ wait "$SERVER_PID"; } 2>/dev/null
	assert_eq $((128 + 31)) "$?" "socket(AF_INET) kills the server with SIGSYS"
	forget_pid "$SERVER_PID"

	start_server
	wait_log ' contained: .*seccomp=on' || fail "second server not contained"
	inject "$SERVER_PID" '(int)execve("/bin/sh", 0, 0)' >"$T/gdb.out"
	n=0
	while kill -0 "$SERVER_PID" 2>/dev/null && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	{ wait "$SERVER_PID"; } 2>/dev/null
	assert_eq $((128 + 31)) "$?" "execve kills the server with SIGSYS"
	forget_pid "$SERVER_PID"
fi

# --- which user: never root, an existing one, the default named
run "$W" serve --root "$ROOT" --state "$STATE" --listen 127.0.0.1:0 \
	--log "$T/refused.log" --user root
assert_exit 1 "--user root"
assert_contains "$ERR" "never serves as root"
run "$W" serve --root "$ROOT" --state "$STATE" --listen 127.0.0.1:0 \
	--log "$T/refused.log" --user wharf-no-such-user
assert_exit 1 "--user of a missing account"
assert_contains "$ERR" "no such user"
if ! id -u wharf >/dev/null 2>&1; then
	run "$W" serve --root "$ROOT" --state "$STATE" --listen 127.0.0.1:0 \
		--log "$T/refused.log"
	assert_exit 1 "root without --user and no 'wharf' account"
	assert_contains "$ERR" "--user NAME"
else
	skip "an account 'wharf' exists: the default user is not missing"
fi

# --- a fresh, empty root made by root goes to the service user
ROOT=$T/fresh-root STATE=$T/fresh-state start_server
wait_log ' contained: ' || fail "fresh server not contained"
assert_eq "$SVC" "$(stat -c %U "$T/fresh-root")" "an empty new root is given"
stop_server

# --- a server started by an ordinary user keeps it, and is confined too
SAVED_AS=("${SERVE_AS[@]}")
SERVE_AS=()
mkdir -p "$T/own-root" "$T/own-state"
touch "$T/own.log"
chown "$SVC:" "$T/own-root" "$T/own-state" "$T/own.log"
SERVER_ERR=$T/own.err
setpriv --reuid="$SVC" --regid="$SVC" --init-groups \
	"$W" serve --root "$T/own-root" --state "$T/own-state" \
	--listen 127.0.0.1:0 --log "$T/own.log" </dev/null >/dev/null \
	2>"$SERVER_ERR" &
OWN=$!
BG_PIDS+=("$OWN")
n=0
until grep -q ' contained: ' "$T/own.log" 2>/dev/null || [ $n -ge 100 ]; do
	kill -0 "$OWN" 2>/dev/null || break
	sleep 0.1
	n=$((n + 1))
done
assert_match "$(cat "$T/own.log")" " contained: user=self uid=$SVC_UID " \
	"a server of an ordinary user: $(cat "$SERVER_ERR")"
assert_eq 1 "$(status_field "$OWN" NoNewPrivs)" "no-new-privs, unprivileged"
assert_eq 2 "$(status_field "$OWN" Seccomp)" "seccomp, unprivileged"
stop_server "$OWN"
SERVE_AS=("${SAVED_AS[@]}")

finish
