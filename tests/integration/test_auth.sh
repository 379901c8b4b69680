#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Logins and the users file: the first admin, wrong and unknown users,
# `wharf user add|passwd|del|list` against a running server, and what the
# users file and the log may (not) contain.
. "$(dirname "$0")/lib.sh"

# --- a state folder that is not one: refused, not started quietly
run "$W" user list --state "$T/elsewhere"
assert_exit 1 "user list on a folder with no state"
assert_contains "$ERR" "not a server's state folder"
LAST_CMD="wharf user add carol --state (no state there)"
OUT=$(printf 'pw\n' | timeout 60 "$W" user add carol --state "$T/elsewhere" 2>&1)
RC=$?
assert_exit 1 "user add where there is no state, without --init"
assert_contains "$OUT" "--init"
assert_no_file "$T/elsewhere" "nothing was made there"
OUT=$(printf 'pw\n' | timeout 60 "$W" user add carol --init \
	--state "$T/elsewhere" 2>&1)
RC=$?
assert_exit 0 "user add --init starts a new state folder: $OUT"
assert_file_exists "$T/elsewhere/users"
run "$W" user list --state "$T/elsewhere"
assert_exit 0 "user list of the new state"
assert_contains "$OUT" "carol"

# --- first start: an admin with a random password, shown once
start_server
assert_ne "" "$ADMIN_PASSWORD" "first start prints an admin password"
# Started as root with no terminal (as here: stderr is a file), the
# password is also kept for root alone in the state folder, since stderr
# may end in a log others read; made before the server drops to its user.
if [ "$(id -u)" = 0 ]; then
	assert_contains "$(cat "$SERVER_ERR")" "also kept in "
	assert_file_exists "$STATE/admin-password"
	assert_eq "600 root" "$(stat -c '%a %U' "$STATE/admin-password")" \
		"admin-password: root's alone"
	assert_eq "$ADMIN_PASSWORD" "$(cat "$STATE/admin-password")" \
		"admin-password holds the printed password"
else
	assert_contains "$(cat "$SERVER_ERR")" "shown only this once"
	assert_no_file "$STATE/admin-password"
fi
# The last thing the start prints, between rules, so that it is not
# lost among other lines (README's serve command shows build output too).
assert_match "$(tail -n 4 "$SERVER_ERR" | head -n 1)" '^wharf: -{20,}$' \
	"a rule above the password"
assert_match "$(tail -n 3 "$SERVER_ERR" | head -n 1)" \
	"^wharf: created user 'admin' with password: " "the password, last"
assert_match "$(tail -n 1 "$SERVER_ERR")" '^wharf: -{20,}$' \
	"a rule below it"
ADMIN_PW=$ADMIN_PASSWORD
[ ${#ADMIN_PW} -ge 16 ] || fail "admin password too short: ${#ADMIN_PW}"
pass

wharf_c admin "$ADMIN_PW" "pwd"
assert_exit 0 "the printed admin password works"
assert_match "$(cat "$LOG")" 'user=admin op=login result=ok rights=rw'

USERS=$STATE/users
assert_file_exists "$USERS"
assert_eq 600 "$(stat -c %a "$USERS")" "users file mode"
assert_eq 700 "$(stat -c %a "$STATE")" "state folder mode"
assert_eq 600 "$(stat -c %a "$STATE/host_key")" "host key mode"
grep -qF -- "$ADMIN_PW" "$USERS" && fail "users file holds the admin password"
pass
assert_match "$(cat "$USERS")" '^admin:\$argon2id\$'

# --- wrong password, unknown user: one answer, after a pause
T0=$(now_ms)
wharf_c admin 'Wr0ng-Passw0rd-1' "pwd"
T1=$(now_ms)
assert_exit 3 "a wrong password"
assert_contains "$ERR" "authentication failed"
[ $((T1 - T0)) -ge 1000 ] ||
	fail "a failed login answered in $((T1 - T0)) ms, expected >= 1000"
pass
ERR_WRONG=$(printf '%s' "$ERR" | grep -v 'pinned host key')

T0=$(now_ms)
wharf_c ghost 'Wr0ng-Passw0rd-2' "pwd"
T1=$(now_ms)
assert_exit 3 "an unknown user"
assert_eq "$ERR_WRONG" "$(printf '%s' "$ERR" | grep -v 'pinned host key')" \
	"an unknown user gets the same message as a wrong password"
[ $((T1 - T0)) -ge 1000 ] ||
	fail "an unknown user answered in $((T1 - T0)) ms, expected >= 1000"
pass

wharf_c admin '' "pwd"
assert_exit 3 "an empty password"
assert_contains "$ERR" "authentication failed"

wharf_c 'bad name!' 'x' "pwd"
assert_exit 3 "a user name that cannot exist"
assert_contains "$ERR" "authentication failed"

# A user name made to forge log lines is logged on one line, cleaned.
wharf_c "$(printf 'x\n2030-01-01T00:00Z forged')" 'x' "pwd"
assert_exit 3 "a user name with a newline"
BAD=$(grep -Ev -- "$LOG_LINE_RE" "$LOG")
assert_eq "" "$BAD" "no log line without a timestamp"
assert_eq 0 "$(grep -c '^2030-01-01' "$LOG")" "no forged log line"

assert_match "$(cat "$LOG")" 'user="admin" op=login result=AUTH_FAILED attempt=1'
assert_match "$(cat "$LOG")" 'user="ghost" op=login result=AUTH_FAILED'

# --- users added, changed and removed while the server runs
add_user dave 'dave pw one'
wharf_c dave 'dave pw one' "pwd"
assert_exit 0 "a user added while the server runs can log in"

LAST_CMD="wharf user passwd dave"
OUT=$(printf 'dave pw two\n' | timeout 60 "$W" user passwd dave \
	--state "$STATE" 2>&1)
RC=$?
assert_exit 0 "wharf user passwd"
assert_contains "$OUT" "password changed"

wharf_c dave 'dave pw one' "pwd"
assert_exit 3 "the old password fails after passwd"
assert_contains "$ERR" "authentication failed"
wharf_c dave 'dave pw two' "pwd"
assert_exit 0 "the new password works after passwd"

run "$W" user list --state "$STATE"
assert_exit 0 "user list"
assert_match "$OUT" $'^admin\trw\t'
assert_match "$OUT" $'^dave\trw\t'

run "$W" user del dave --state "$STATE"
assert_exit 0 "wharf user del"
wharf_c dave 'dave pw two' "pwd"
assert_exit 3 "a deleted user cannot log in"
assert_contains "$ERR" "authentication failed"
run "$W" user list --state "$STATE"
assert_not_contains "$OUT" "dave" "a deleted user is not listed"

# --- user command errors
add_user erin 'erin pw'
LAST_CMD="wharf user add erin (again)"
OUT=$(printf 'other\n' | timeout 60 "$W" user add erin --state "$STATE" 2>&1)
RC=$?
assert_exit 1 "adding an existing user"
assert_contains "$OUT" "already exists"
wharf_c erin 'erin pw' "pwd"
assert_exit 0 "the existing user keeps the old password"

run "$W" user del nobody --state "$STATE"
assert_exit 1 "deleting a missing user"
assert_contains "$ERR" "no user nobody"

LAST_CMD="wharf user passwd nobody"
OUT=$(printf 'x\n' | timeout 60 "$W" user passwd nobody --state "$STATE" 2>&1)
RC=$?
assert_exit 1 "passwd of a missing user"

LAST_CMD="wharf user add 'bad/name'"
OUT=$(printf 'x\n' | timeout 60 "$W" user add 'bad/name' --state "$STATE" 2>&1)
RC=$?
assert_exit 2 "an invalid user name"
assert_contains "$OUT" "invalid user name"

LAST_CMD="wharf user add frank (empty password)"
OUT=$(printf '\n' | timeout 60 "$W" user add frank --state "$STATE" 2>&1)
RC=$?
assert_ne 0 "$RC" "an empty password is refused"
assert_contains "$OUT" "empty password"
run "$W" user list --state "$STATE"
assert_not_contains "$OUT" "frank" "no user made from an empty password"

run "$W" user frob x --state "$STATE"
assert_exit 2 "an unknown user command"
run "$W" user add --state "$STATE"
assert_exit 2 "user add without a name"

# --- what the files and the log hold
assert_eq 600 "$(stat -c %a "$USERS")" "users file mode after edits"
for secret in "$ADMIN_PW" 'dave pw one' 'dave pw two' 'erin pw' \
	'Wr0ng-Passw0rd-1' 'Wr0ng-Passw0rd-2'; do
	grep -qF -- "$secret" "$USERS" &&
		fail "users file holds a plaintext password: $secret"
	grep -qF -- "$secret" "$LOG" &&
		fail "server log holds a password: $secret"
	pass
done

# --- a restart keeps the users and prints no new password
stop_server
start_server
assert_eq "" "$ADMIN_PASSWORD" "no admin password printed on a restart"
wharf_c admin "$ADMIN_PW" "pwd"
assert_exit 0 "the admin password survives a restart"
wharf_c erin 'erin pw' "pwd"
assert_exit 0 "other users survive a restart"

# --- passwords typed on a terminal: retries, and the server's limit of 3
# pty_login USER PASSWORD...: runs `wharf connect USER@... -c pwd` with no
# WHARF_PASSWORD on a pseudo-terminal (script(1), in its own session so
# that the runner's terminal is never touched) and types each password
# after each prompt. Sets RC and OUT (the terminal's text).
pty_login() {
	local user=$1 fifo=$T/pty.fifo i=0 n pid pw logins try

	shift
	rm -f "$fifo"
	mkfifo "$fifo"
	exec {PTY_FD}<>"$fifo"
	: >"$T/pty.out"
	LAST_CMD="wharf connect $user@$(host_port) on a pty"
	setsid -w timeout -k 5 30 script -qec \
		"'$W' connect '$user@$(host_port)' -c pwd" /dev/null \
		<"$fifo" >"$T/pty.out" 2>&1 &
	pid=$!
	BG_PIDS+=("$pid")
	for pw in "$@"; do
		i=$((i + 1))
		n=0
		while [ "$(grep -c "password: " "$T/pty.out")" -lt $i ] &&
			kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		# The client flushes the terminal's input as it turns echo
		# off after the prompt, so a line typed in that instant is
		# lost: type it again if the server has not seen it.
		logins=$(count_log 'op=login result=')
		for try in 1 2 3; do
			sleep 0.3
			printf '%s\n' "$pw" >&"$PTY_FD"
			wait_count 'op=login result=' $((logins + 1)) 3 && break
		done
	done
	n=0
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 150 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -0 "$pid" 2>/dev/null && fail "the pty client did not finish"
	wait "$pid"
	RC=$?
	forget_pid "$pid"
	exec {PTY_FD}>&-
	OUT=$(tr -d '\r' <"$T/pty.out")
	ERR=
}

if command -v script >/dev/null && command -v setsid >/dev/null; then
	pty_login erin 'wrong once' 'erin pw'
	assert_exit 0 "a wrong password typed, then the right one"
	assert_eq 2 "$(printf '%s\n' "$OUT" | grep -c "password: ")" \
		"asked twice"
	assert_contains "$OUT" "/" "the session ran after the retry"
	assert_not_contains "$OUT" "erin pw" "the password is not echoed"

	BEFORE=$(count_log 'too many failed attempts')
	T0=$(now_ms)
	pty_login erin 'wrong 1' 'wrong 2' 'wrong 3'
	T1=$(now_ms)
	assert_exit 3 "three wrong passwords typed"
	assert_eq 3 "$(printf '%s\n' "$OUT" | grep -c "password: ")" \
		"asked three times, then no more"
	wait_count 'login aborted: too many failed attempts' $((BEFORE + 1)) 5 ||
		fail "the server did not close after 3 failures"
	pass
	[ $((T1 - T0)) -ge 3000 ] ||
		fail "3 failed logins took $((T1 - T0)) ms, expected >= 3000"
	pass
	# Only a retry that can still happen is offered.
	assert_eq 2 "$(printf '%s\n' "$OUT" | grep -c "try again")" \
		"'try again' only while a try is left"
else
	skip "script(1) or setsid missing: terminal logins not tested"
fi

stop_server
finish
