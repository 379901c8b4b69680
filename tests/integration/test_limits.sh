#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Server limits with sessions held open: --max-clients turns the extra
# client away as busy while the first keeps working, --idle-timeout drops
# a silent session, and a client whose server goes away says so.
. "$(dirname "$0")/lib.sh"

add_user gus 'gus pw'
U=gus
P='gus pw'

# --- --max-clients 1
start_server --max-clients 1
hold_client $U "$P"
wait_log 'user=gus op=login result=ok' 10 ||
	fail "the held client did not log in: $(cat "$HELD_ERR")"
pass

wharf_c $U "$P" "mkdir second"
assert_exit 3 "a client over --max-clients"
assert_contains "$ERR" "busy"
assert_no_file "$ROOT/second"
assert_match "$(cat "$LOG")" 'refused: server busy \(1 clients\)'

# The held client still works.
echo "mkdir first_still_works" >&"$HELD_FD"
n=0
while [ ! -d "$ROOT/first_still_works" ] && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
assert_dir_exists "$ROOT/first_still_works" "the held client keeps working"

# Several refused at once do not upset it either.
BURST=()
for i in 1 2 3 4 5; do
	WHARF_PASSWORD=$P timeout 20 "$W" connect "$U@$(host_port)" \
		-c "mkdir burst$i" </dev/null >/dev/null 2>"$T/burst$i.err" &
	BURST+=("$!")
	BG_PIDS+=("$!")
done
for pid in "${BURST[@]}"; do
	wait "$pid" # each is bounded by its timeout
	assert_eq 3 "$?" "a burst client is refused with exit 3"
	forget_pid "$pid"
done
for i in 1 2 3 4 5; do
	assert_contains "$(cat "$T/burst$i.err")" "busy" "burst client $i"
	assert_no_file "$ROOT/burst$i"
done
echo "pwd" >&"$HELD_FD"
echo "bye" >&"$HELD_FD"
end_held 10
assert_exit 0 "the held client ends cleanly"
assert_contains "$OUT" "/" "the held client printed its pwd"

# Its slot is given back once it has gone.
wait_log 'user=gus disconnect' 10 || fail "no disconnect logged"
wharf_c $U "$P" "mkdir after_release"
assert_exit 0 "a new client once the first has left"
assert_dir_exists "$ROOT/after_release"
stop_server

# --- many clients at once, each making its own directories
start_server --max-clients 8
PAR=()
for i in 1 2 3 4 5 6; do
	cmds="mkdir -p par$i/a/b"
	for j in $(seq 1 20); do
		cmds="$cmds; mkdir par$i/d$j; rmdir par$i/a/b; mkdir par$i/a/b"
	done
	WHARF_PASSWORD=$P timeout 60 "$W" connect "$U@$(host_port)" \
		-c "$cmds; ls par$i" </dev/null >"$T/par$i.out" \
		2>"$T/par$i.err" &
	PAR+=("$!")
	BG_PIDS+=("$!")
done
i=0
for pid in "${PAR[@]}"; do
	i=$((i + 1))
	wait "$pid" # bounded by its timeout
	RC=$?
	forget_pid "$pid"
	LAST_CMD="parallel client $i"
	OUT=$(cat "$T/par$i.out")
	ERR=$(cat "$T/par$i.err")
	assert_exit 0 "parallel client $i"
	check_sanitizers "$T/par$i.err"
	assert_eq 21 "$(find "$ROOT/par$i" -mindepth 1 -maxdepth 1 -type d |
		wc -l)" "parallel client $i made all its directories"
	assert_eq 21 "$(printf '%s\n' "$OUT" | wc -l)" \
		"parallel client $i listed them"
done
server_alive
stop_server

# --- --idle-timeout 1
start_server --idle-timeout 1
hold_client $U "$P"
wait_log 'user=gus op=login result=ok' 10 ||
	fail "the held client did not log in: $(cat "$HELD_ERR")"
pass
T0=$(now_ms)
wait_log 'user=gus idle timeout' 10 || fail "no idle timeout logged"
T1=$(now_ms)
pass
[ $((T1 - T0)) -le 5000 ] ||
	fail "the idle timeout of 1 s took $((T1 - T0)) ms"
pass
wait_log 'user=gus disconnect' 5 || fail "no disconnect after idle timeout"
pass
echo "mkdir after_idle" >&"$HELD_FD"
end_held 10
assert_exit 3 "the dropped client fails its next command"
assert_contains "$ERR" "idle timeout" "the client says why"
assert_no_file "$ROOT/after_idle"

# A client that keeps talking is not idle.
LOGINS=$(count_log 'user=gus op=login result=ok')
hold_client $U "$P"
wait_count 'user=gus op=login result=ok' $((LOGINS + 1)) 10 ||
	fail "the second held client did not log in"
pass
for i in 1 2 3 4; do
	echo "pwd" >&"$HELD_FD"
	sleep 0.5
done
echo "mkdir busy_enough" >&"$HELD_FD"
echo "bye" >&"$HELD_FD"
end_held 10
assert_exit 0 "a client busy every 0.5 s is not dropped"
assert_dir_exists "$ROOT/busy_enough"
server_alive
stop_server

# --- the server goes away in the middle of a session
start_server
hold_client $U "$P"
wait_log 'user=gus op=login result=ok' 10 || fail "no login"
pass
echo "mkdir before_stop" >&"$HELD_FD"
n=0
while [ ! -d "$ROOT/before_stop" ] && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
assert_dir_exists "$ROOT/before_stop"
stop_server
echo "mkdir after_stop" >&"$HELD_FD"
end_held 10
assert_exit 3 "a client whose server has gone"
assert_contains "$ERR" "connection lost"
assert_no_file "$ROOT/after_stop"

finish
