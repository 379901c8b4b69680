# SPDX-License-Identifier: MIT
#
# Helpers for the transfer tests (test_transfer_*.sh), on top of lib.sh:
# one-shot get/put runners, file comparisons, clients run in the
# background so that they can be killed mid-transfer, and the corrupting
# relay (relay.py). Source it right after lib.sh:
#     . "$(dirname "$0")/lib.sh"
#     . "$(dirname "$0")/xfer_lib.sh"
# Every wait here is bounded; every process started here is in BG_PIDS,
# so lib.sh's EXIT trap kills it whatever way the script ends.

XFER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MiB=1048576
RELAY_N=0
BGC_N=0

# The address one-shot clients use: the server, unless a test points it
# at a relay (XFER_ADDR=127.0.0.1:PORT).
xfer_addr() {
	printf '%s' "${XFER_ADDR:-$(host_port)}"
}

# wput USER PASSWORD ARGS...: `wharf put USER@ADDR ARGS...`; sets RC,
# OUT, ERR (lib.sh's run), then waits for the server to finish the
# session (settle_server), so that its log, CSV and files are final.
wput() {
	local user=$1 password=$2

	shift 2
	run env WHARF_PASSWORD="$password" "$W" put "$user@$(xfer_addr)" \
		"$@" --no-progress
	settle_server
}

# wget1 USER PASSWORD ARGS...: `wharf get USER@ADDR ARGS...`, the same.
wget1() {
	local user=$1 password=$2

	shift 2
	run env WHARF_PASSWORD="$password" "$W" get "$user@$(xfer_addr)" \
		"$@" --no-progress
	settle_server
}

# sha FILE: the SHA-256 of FILE, or "missing".
sha() {
	if [ -f "$1" ]; then
		sha256sum <"$1" | cut -c1-64
	else
		echo missing
	fi
}

# fsize FILE: its size in bytes, or -1 if it does not exist.
fsize() {
	stat -c %s -- "$1" 2>/dev/null || echo -1
}

# assert_same EXPECTED_FILE ACTUAL_FILE [WHAT]: both exist, same bytes
# (cmp; and the same SHA-256 for files up to 64 MiB, where it is cheap:
# sha256sum takes over a second per 200 MiB here, cmp a tenth of that).
assert_same() {
	[ -f "$1" ] || fail "${3:-compare}: source $1 missing"
	[ -f "$2" ] || fail "${3:-compare}: $2 does not exist"
	cmp -s -- "$1" "$2" ||
		fail "${3:-compare}: $2 differs from $1 (sizes $(fsize "$1")" \
			"and $(fsize "$2"))"
	if [ "$(fsize "$1")" -le $((64 * MiB)) ]; then
		[ "$(sha "$1")" = "$(sha "$2")" ] ||
			fail "${3:-compare}: SHA-256 of $2 differs from $1's"
	fi
	pass
}

# assert_ge A B [WHAT]: integer A >= B.
assert_ge() {
	[ "$1" -ge "$2" ] 2>/dev/null || fail "${3:-too small}: $1 < $2"
	pass
}

# assert_gt_float A B [WHAT]: number A > B.
assert_gt_float() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }' ||
		fail "${3:-too small}: $1 is not above $2"
	pass
}

# summary_line DIR NAME: the "DIR NAME  SIZE in ..." line of $OUT.
summary_line() {
	printf '%s\n' "$OUT" | grep -F -- "$1 $2  " | head -n 1
}

# ratio_of LINE: the X.XX of "wire W (X.XXx)" in a summary line.
ratio_of() {
	printf '%s\n' "$1" | sed -n 's/.*, wire .* (\([0-9.]*\)x).*/\1/p'
}

# log_field FIELD LINE: the value of FIELD= in a server log line.
log_field() {
	printf '%s\n' "$2" | sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p"
}

# last_log ERE: the last line of $LOG matching ERE.
last_log() {
	grep -E -- "$1" "$LOG" 2>/dev/null | tail -n 1
}

# settle_server [SECONDS]: waits (default 10 s) until every session that
# connected to the server has logged its disconnect. A client may exit as
# soon as it has its PutDone or GetEnd, before the server has written its
# log line and CSV row, or (after an error or a killed client) truncated
# the partial: only after the disconnect line is all of that done.
settle_server() {
	local n=0 limit=$((${1:-10} * 10))

	while [ $n -lt $limit ]; do
		[ "$(count_log ' connect$')" -le \
			"$(count_log ' disconnect secs=')" ] && return 0
		sleep 0.1
		n=$((n + 1))
	done
	fail "the server did not finish its sessions within ${1:-10} s"
}

# csv_rows FILE: number of data rows (lines after the header).
csv_rows() {
	if [ -f "$1" ]; then
		echo $(($(wc -l <"$1") - 1))
	else
		echo 0
	fi
}

# proc_alive PID: running (not a zombie waiting to be reaped).
proc_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	case $(sed 's/^[0-9]* (.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) in
	Z | X | "") return 1 ;;
	esac
	return 0
}

# bg_client CMD...: starts CMD in the background (no stdin, no time limit
# of its own: the caller bounds it with bg_wait or kill_at_size). Sets
# BGC_PID, BGC_OUT, BGC_ERR.
bg_client() {
	BGC_N=$((BGC_N + 1))
	BGC_OUT=$T/bgc.$BGC_N.out
	BGC_ERR=$T/bgc.$BGC_N.err
	"$@" </dev/null >"$BGC_OUT" 2>"$BGC_ERR" &
	BGC_PID=$!
	BG_PIDS+=("$BGC_PID")
}

# bg_wait PID [SECONDS]: waits (default 30 s) for a background client to
# exit; sets RC, OUT and ERR from it. Fails the test on a hang.
bg_wait() {
	local pid=$1 n=0 limit=$((${2:-30} * 10))

	while proc_alive "$pid" && [ $n -lt $limit ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if proc_alive "$pid"; then
		kill_wait "$pid"
		forget_pid "$pid"
		fail "background client $pid did not exit within ${2:-30} s"
	fi
	wait "$pid"
	RC=$?
	forget_pid "$pid"
	LAST_CMD="background client $BGC_N"
	OUT=$(cat "$BGC_OUT")
	ERR=$(cat "$BGC_ERR")
	check_sanitizers "$BGC_ERR"
}

# kill_at_size FILE BYTES PID [SECONDS]: polls FILE every 20 ms and sends
# SIGKILL to PID as soon as FILE holds at least BYTES. Returns 0 once it
# killed PID (and reaped it), 1 if PID ended on its own first (too fast),
# 2 if neither happened within SECONDS (default 30; PID is then killed).
kill_at_size() {
	local file=$1 min=$2 pid=$3 n=0 limit=$((${4:-30} * 50)) sz

	while [ $n -lt $limit ]; do
		sz=$(stat -c %s -- "$file" 2>/dev/null || echo 0)
		if [ "$sz" -ge "$min" ]; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			forget_pid "$pid"
			KILLED_AT=$sz
			return 0
		fi
		proc_alive "$pid" || return 1
		sleep 0.02
		n=$((n + 1))
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	forget_pid "$pid"
	return 2
}

# start_relay [RELAY ARGS...]: starts relay.py in front of the current
# server (one connection, then it exits; 60 s at most) and waits up to
# 10 s for its port. Sets RELAY_PID, RELAY_PORT, RELAY_LOG.
start_relay() {
	local pf n=0

	RELAY_N=$((RELAY_N + 1))
	pf=$T/relay.$RELAY_N.port
	RELAY_LOG=$T/relay.$RELAY_N.log
	python3 "$XFER_DIR/relay.py" --target "$HOST:$PORT" \
		--port-file "$pf" --log "$RELAY_LOG" --lifetime 60 "$@" \
		</dev/null >/dev/null 2>>"$RELAY_LOG" &
	RELAY_PID=$!
	BG_PIDS+=("$RELAY_PID")
	while [ ! -s "$pf" ] && [ $n -lt 100 ]; do
		proc_alive "$RELAY_PID" || break
		sleep 0.1
		n=$((n + 1))
	done
	[ -s "$pf" ] || fail "relay did not start: $(cat "$RELAY_LOG")"
	RELAY_PORT=$(cat "$pf")
}

# stop_relay: lets the relay end on its own (up to 10 s; its connection is
# over by now), else kills it.
stop_relay() {
	local n=0

	while proc_alive "$RELAY_PID" && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill_wait "$RELAY_PID"
	forget_pid "$RELAY_PID"
}

# rand_file PATH BYTES: BYTES random bytes.
rand_file() {
	head -c "$2" /dev/urandom >"$1" || fail "cannot write $1"
}
