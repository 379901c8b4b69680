#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Bytes that are not wharf, sent to the real server over raw TCP (bash's
# /dev/tcp): the server hangs up promptly, never crashes, and still serves
# a real client afterwards. A peer that connects and says nothing is
# dropped after the 10 s login deadline.
. "$(dirname "$0")/lib.sh"

add_user hal 'hal pw'
start_server
U=hal
P='hal pw'

# --- a peer that connects and sends nothing (runs while the rest goes on)
bash -c '
	exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 99
	t0=${EPOCHREALTIME/./}
	timeout 20 cat <&3 >/dev/null
	rc=$?
	t1=${EPOCHREALTIME/./}
	echo "$rc $(((t1 - t0) / 1000))"
' _ "$PORT" >"$T/silent.result" 2>&1 &
SILENT_PID=$!
BG_PIDS+=("$SILENT_PID")

# --- a real client that shakes hands, then never sends its password: it
# waits at the password prompt on a pseudo-terminal (script(1), in its own
# session) that nobody types into.
HAVE_PTY=
if command -v script >/dev/null && command -v setsid >/dev/null; then
	HAVE_PTY=1
	mkfifo "$T/stall.fifo"
	exec {STALL_FD}<>"$T/stall.fifo"
	STALL_T0=$(now_ms)
	setsid -w timeout -k 5 40 script -qec \
		"'$W' connect --host-key-policy accept-new '$U@127.0.0.1:$PORT' -c 'mkdir after_stall'" \
		/dev/null <"$T/stall.fifo" >"$T/stall.out" 2>&1 &
	STALL_PID=$!
	BG_PIDS+=("$STALL_PID")
fi

# raw_exchange FILE [close]: connects, sends FILE, and reads until the
# server hangs up (at most 5 s); with "close", hangs up itself at once
# instead. Sets RC (124: the server kept the connection) and RESP (the
# file holding what the server sent back).
raw_exchange() {
	RESP=$T/raw.resp
	LAST_CMD="raw bytes from $1 ${2:-}"
	: >"$RESP"
	timeout 10 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 99
		cat "$2" >&3 2>/dev/null
		[ "$4" = close ] && exit 0
		timeout 5 cat <&3 >"$3" 2>/dev/null
		rc=$?
		[ $rc = 124 ] && exit 124
		exit 0
	' _ "$PORT" "$1" "$RESP" "${2:-}"
	RC=$?
	OUT=
	ERR=
}

hangs_up() { # FILE WHAT [close]
	local before

	before=$(count_log 'disconnect secs=')
	raw_exchange "$1" "${3:-}"
	assert_exit 0 "$2: the server hangs up promptly"
	wait_count 'disconnect secs=' $((before + 1)) 5 ||
		fail "$2: no disconnect logged"
	pass
	server_alive
}

MAGIC='\x89WHARF\r\n'

printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' >"$T/http"
hangs_up "$T/http" "an HTTP request"
assert_match "$(cat "$LOG")" 'not a wharf client \(bad preface\)'

printf 'SSH-2.0-OpenSSH_9.6\r\n' >"$T/ssh"
hangs_up "$T/ssh" "an SSH banner"

head -c 65536 /dev/urandom >"$T/random"
hangs_up "$T/random" "64 KiB of random bytes"

printf "${MAGIC}"'\x00\x00\x00\x00' >"$T/v0"
hangs_up "$T/v0" "a preface with version 0"
[ -s "$RESP" ] || fail "no refusal sent for version 0"
pass

printf "${MAGIC}"'\x00\x02\x00\x01' >"$T/vrange"
hangs_up "$T/vrange" "a preface with min > max"

printf "${MAGIC}"'\x00\x01\x00\x01\xff\xff\xff\xff' >"$T/huge"
hangs_up "$T/huge" "a 4 GiB frame length before login"
assert_match "$(cat "$LOG")" 'reading ClientHello: '

printf "${MAGIC}"'\x00\x01\x00\x01\x00\x01\x00\x01' >"$T/big"
hangs_up "$T/big" "a 64 KiB + 1 frame length before login"

printf "${MAGIC}"'\x00\x01\x00\x01\x00\x00\x00\x00' >"$T/zero"
hangs_up "$T/zero" "a zero frame length"

printf "${MAGIC}"'\x00\x01\x00\x01\x00\x00\x00\x10' >"$T/junkframe"
head -c 16 /dev/urandom >>"$T/junkframe"
hangs_up "$T/junkframe" "a ClientHello of random bytes"

# A valid protobuf that is not a ClientHello: field 1 (id) = 1.
printf "${MAGIC}"'\x00\x01\x00\x01\x00\x00\x00\x02\x08\x01' >"$T/notahello"
hangs_up "$T/notahello" "a frame that is not a ClientHello"

printf "${MAGIC}"'\x00\x01\x00\x01\x00\x00\x00\x08\x08\x01' >"$T/short"
hangs_up "$T/short" "a frame shorter than its length, then EOF" close

printf "${MAGIC}" >"$T/half"
hangs_up "$T/half" "half a preface, then EOF" close

: >"$T/empty"
hangs_up "$T/empty" "connect and close at once" close

# Many peers opening and closing at once.
FLOOD=()
for i in $(seq 1 40); do
	timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
		head -c 100 /dev/urandom >&3' _ "$PORT" 2>/dev/null &
	FLOOD+=("$!")
	BG_PIDS+=("$!")
done
for pid in "${FLOOD[@]}"; do
	wait "$pid" # bounded by its timeout
	forget_pid "$pid"
done
server_alive

# A real client is served after all that.
wharf_c $U "$P" "mkdir still_serving; ls"
assert_exit 0 "a real client after the garbage"
assert_dir_exists "$ROOT/still_serving"
assert_contains "$OUT" "still_serving"

# --- the silent peer was dropped at the login deadline (10 s)
n=0
while kill -0 "$SILENT_PID" 2>/dev/null && [ $n -lt 200 ]; do
	sleep 0.1
	n=$((n + 1))
done
wait "$SILENT_PID"
forget_pid "$SILENT_PID"
read -r SILENT_RC SILENT_MS <"$T/silent.result" ||
	fail "the silent peer's result is missing"
assert_ne 124 "$SILENT_RC" "the silent peer was dropped within 20 s"
[ "$SILENT_MS" -ge 9000 ] && [ "$SILENT_MS" -le 14000 ] ||
	fail "the silent peer was dropped after $SILENT_MS ms, expected ~10000"
pass
assert_match "$(cat "$LOG")" 'reading preface: timed out'

if [ -n "$HAVE_PTY" ]; then
	wait_log 'login aborted: no login in time' 20 ||
		fail "a client that never logged in was not dropped"
	STALL_T1=$(now_ms)
	pass
	[ $((STALL_T1 - STALL_T0)) -ge 9000 ] &&
		[ $((STALL_T1 - STALL_T0)) -le 15000 ] ||
		fail "dropped after $((STALL_T1 - STALL_T0)) ms, expected ~10000"
	pass
	# Typing the password now is too late.
	printf '%s\n' "$P" >&"$STALL_FD"
	n=0
	while kill -0 "$STALL_PID" 2>/dev/null && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -0 "$STALL_PID" 2>/dev/null && fail "the stalled client hangs"
	wait "$STALL_PID"
	RC=$?
	forget_pid "$STALL_PID"
	LAST_CMD="stalled client"
	OUT=$(tr -d '\r' <"$T/stall.out")
	assert_exit 3 "the stalled client fails once dropped"
	assert_no_file "$ROOT/after_stall"
else
	skip "script(1) or setsid missing: a stalled login not tested"
fi

server_alive
stop_server
finish
