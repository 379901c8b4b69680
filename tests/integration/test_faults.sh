#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Faults: processes killed mid-transfer and a disk that fills up.
#
# - A client SIGKILLed in the middle of an upload (with and without an
#   older target): the target keeps its old content or does not exist,
#   the partial .NAME.wharf-part is kept (a verified prefix), and
#   repeating the put completes the file ("resumed", or "reused" where an
#   old target makes the client use delta mode).
# - The server SIGKILLed in the middle of an upload and, separately, of a
#   download, then restarted on the same root, state and port: no
#   half-written final file anywhere (the targets are absent or old, on
#   both sides), and both transfers resume ("resumed") and complete with
#   the right SHA-256. Also killed during a striped upload (--streams 4):
#   the partial with holes it leaves is never taken for a prefix.
# - The disk filling up (an 8 MiB tmpfs as the served root; skipped with
#   a SKIP line where mounting is not permitted): a 12 MiB put is refused
#   up front (exit 1, "not enough free space"); a 5 MiB put, slowed by a
#   relay, meets a disk filled from outside halfway (NO_SPACE, exit 1, a
#   message about space); nothing existing is corrupted, no final file
#   appears for either, and the server keeps serving (a get while the disk
#   is full; after space is freed, a small put, a get, and the failed put
#   repeated, which resumes).
# About 25 s here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer_lib.sh"

U=fran
P='fran pw 3'
add_user $U "$P"

MNT=$T/small
MOUNTED=
# The tmpfs must go before lib.sh's cleanup removes $T, and it can go
# only once no process (the server) has a file or folder of it open.
faults_cleanup() {
	local pid

	for pid in "${BG_PIDS[@]}"; do
		kill_wait "$pid"
	done
	BG_PIDS=()
	if [ -n "$MOUNTED" ]; then
		umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
	fi
	cleanup
}
trap faults_cleanup EXIT

S=$T/src
mkdir -p "$S" "$T/dl"
BIG=$S/big.bin
BIG_SIZE=$((100 * MiB))
rand_file "$BIG" "$BIG_SIZE"
KILL_AT=$((4 * MiB))

# finals DIR: the regular files of DIR that are not partials, with their
# size, mtime and inode, one a line (a commit renames a new inode into
# place; a write in place changes the mtime).
finals() {
	(cd "$1" && find . -type f ! -name '.*.wharf-part' \
		-printf '%p %s %T@ %i\n' | sort)
}

# too_fast WHAT: the transfer ended before it could be interrupted.
too_fast() {
	bg_wait "$BGC_PID" 10
	skip "$1 of 100 MiB finished before $KILL_AT bytes were seen; this" \
		"machine is too fast for the test"
	finish
}

# resumed_word CASE: what the summary of a repeated transfer must say.
# Without an old target it is a plain resume ("resumed N"); over an old
# target the client uses delta mode (docs/protocol.md section 9.8) and the
# partial's blocks come back as "reused N".
resumed_word() {
	if [ "$1" = new ]; then
		echo "resumed"
	else
		echo "(resumed|reused)"
	fi
}

start_server

# ================================= 1. the client killed mid-upload
for case in new old; do
	remote=c_$case.bin
	PART=$ROOT/.$remote.wharf-part
	if [ $case = old ]; then
		rand_file "$ROOT/$remote" $((MiB + 7))
	fi
	OLD_SHA=$(sha "$ROOT/$remote")
	bg_client env WHARF_PASSWORD="$P" "$W" put "$U@$(host_port)" "$BIG" \
		"$remote" --no-progress
	kill_at_size "$PART" "$KILL_AT" "$BGC_PID" 60
	case $? in
	1) too_fast "put" ;;
	2) fail "the partial $PART never reached $KILL_AT bytes" ;;
	esac
	settle_server
	assert_eq "$OLD_SHA" "$(sha "$ROOT/$remote")" \
		"a client killed mid-upload: the target ($case) is untouched"
	assert_file_exists "$PART" "the partial is kept"
	have=$(fsize "$PART")
	# A verified prefix: whole 1 MiB chunks in a plain upload; over an
	# old target the client uploads in delta mode (docs/protocol.md
	# section 9.8), whose chunks are content-defined, of any length.
	[ "$have" -gt 0 ] && cmp -s -n "$have" "$PART" "$BIG" ||
		fail "the partial ($have bytes) is not a prefix of the source"
	pass
	if [ $case = new ]; then
		assert_eq 0 $((have % MiB)) "the partial is whole chunks"
	fi
	wput $U "$P" "$BIG" "$remote"
	assert_exit 0 "the repeated put ($case)"
	# "resumed N" (a plain upload) or "reused N" (delta mode, over an
	# old target: the partial's blocks are offered and copied).
	assert_match "$OUT" "$(resumed_word $case) [0-9.]+ (KiB|MiB)" \
		"the repeated put says resumed"
	assert_same "$BIG" "$ROOT/$remote" "the resumed upload ($case)"
	assert_no_file "$PART" "no partial after the commit"
	echo "FIGURE: client SIGKILLed at a partial of $have bytes ($case" \
		"target); the repeated put:" \
		"$(printf '%s\n' "$OUT" | tail -n 1 | sed 's/^put [^ ]*  //')"
done

# ================================ 2. the server killed mid-transfer
# restart_server: the same root, state and port, after a SIGKILL. A new
# log: the killed server's sessions never logged their disconnect, and
# settle_server counts connects against disconnects.
RESTARTS=0
restart_server() {
	local port=$PORT

	RESTARTS=$((RESTARTS + 1))
	LOG=$T/server.restart$RESTARTS.log
	LISTEN=127.0.0.1:$port start_server
	assert_eq "$port" "$PORT" "the restarted server's port"
}

# --- uploads: to a new name, and over an older target
for case in new old; do
	remote=s_up_$case.bin
	PART=$ROOT/.$remote.wharf-part
	[ $case = old ] && rand_file "$ROOT/$remote" $((2 * MiB + 3))
	BEFORE=$(finals "$ROOT")
	bg_client env WHARF_PASSWORD="$P" "$W" put "$U@$(host_port)" "$BIG" \
		"$remote" --no-progress
	kill_at_size "$PART" "$KILL_AT" "$SERVER_PID" 60
	case $? in
	1) fail "the server exited on its own during the upload" ;;
	2) fail "the partial $PART never reached $KILL_AT bytes" ;;
	esac
	bg_wait "$BGC_PID" 30
	assert_ne 0 "$RC" "the client of a killed server fails ($case)"
	assert_eq "$BEFORE" "$(finals "$ROOT")" \
		"server killed mid-upload ($case): no final file changed or appeared"
	assert_file_exists "$PART" "the partial survives the server's death"
	KILLED_PART=$(fsize "$PART")
	restart_server
	wput $U "$P" "$BIG" "$remote"
	assert_exit 0 "the put after the restart ($case)"
	assert_match "$OUT" "$(resumed_word $case) [0-9.]+ (KiB|MiB)" \
		"the put after the restart resumes ($case)"
	assert_same "$BIG" "$ROOT/$remote" \
		"the upload resumed after the restart ($case)"
	assert_no_file "$PART" "no partial after the commit"
	echo "FIGURE: server SIGKILLed with an upload partial of" \
		"$((KILLED_PART / MiB)) MiB ($case target); after the restart:" \
		"$(printf '%s\n' "$OUT" | tail -n 1 | sed 's/^put [^ ]*  //')"
done

# --- downloads: to a new local name, and over an older local file
remote=s_up_new.bin
for case in new old; do
	LOCAL=$T/dl/s_down_$case.bin
	LPART=$T/dl/.s_down_$case.bin.wharf-part
	[ $case = old ] && rand_file "$LOCAL" 12345
	OLD_SHA=$(sha "$LOCAL")
	BEFORE=$(finals "$ROOT")
	bg_client env WHARF_PASSWORD="$P" "$W" get "$U@$(host_port)" \
		"$remote" "$LOCAL" --no-progress
	kill_at_size "$LPART" "$KILL_AT" "$SERVER_PID" 60
	case $? in
	1) fail "the server exited on its own during the download" ;;
	2) fail "the local partial $LPART never reached $KILL_AT bytes" ;;
	esac
	bg_wait "$BGC_PID" 30
	assert_ne 0 "$RC" "the client of a killed server fails ($case)"
	assert_eq "$OLD_SHA" "$(sha "$LOCAL")" \
		"server killed mid-download: the local target ($case) is untouched"
	assert_file_exists "$LPART" "the local partial is kept"
	assert_eq "$BEFORE" "$(finals "$ROOT")" \
		"server killed mid-download: nothing changed in the root"
	KILLED_PART=$(fsize "$LPART")
	restart_server
	wget1 $U "$P" "$remote" "$LOCAL"
	assert_exit 0 "the get after the restart ($case)"
	assert_match "$OUT" "$(resumed_word $case) [0-9.]+ (KiB|MiB)" \
		"the get after the restart resumes ($case)"
	assert_same "$BIG" "$LOCAL" \
		"the download resumed after the restart ($case)"
	assert_no_file "$LPART" "no local partial after the commit"
	echo "FIGURE: server SIGKILLed with a download partial of" \
		"$((KILLED_PART / MiB)) MiB ($case local file); after the" \
		"restart: $(printf '%s\n' "$OUT" | tail -n 1 | sed 's/^get [^ ]*  //')"
done

# --- a striped upload (--streams 4, ranges written at their offsets into
# one partial with holes): the partial left by the killed server must not
# be trusted as a prefix; the repeated put produces the right file.
remote=s_stripe.bin
PART=$ROOT/.$remote.wharf-part
rand_file "$ROOT/$remote" 4321
BEFORE=$(finals "$ROOT")
bg_client env WHARF_PASSWORD="$P" "$W" put "$U@$(host_port)" "$BIG" \
	"$remote" --no-progress --streams 4
# The partial's size jumps ahead (ranges write at their own offsets): wait
# for data actually written, in allocated blocks.
n=0
while [ $n -lt 1500 ]; do
	alloc=$(($(stat -c '%b * %B' "$PART" 2>/dev/null || echo 0)))
	[ "$alloc" -ge $((8 * MiB)) ] && break
	proc_alive "$BGC_PID" || break
	sleep 0.02
	n=$((n + 1))
done
if ! proc_alive "$BGC_PID"; then
	bg_wait "$BGC_PID" 10
	skip "the striped put finished before it could be interrupted"
else
	kill -KILL "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null
	forget_pid "$SERVER_PID"
	bg_wait "$BGC_PID" 30
	assert_ne 0 "$RC" "the striped client of a killed server fails"
	assert_eq "$BEFORE" "$(finals "$ROOT")" \
		"server killed mid striped upload: no final file changed"
	echo "FIGURE: server SIGKILLed during a 4-stream upload with" \
		"$((alloc / MiB)) MiB written; partial left: $(fsize "$PART") bytes"
	restart_server
	wput $U "$P" "$BIG" "$remote"
	assert_exit 0 "a plain put over the striped partial"
	assert_same "$BIG" "$ROOT/$remote" "a plain put over a striped partial"
	assert_no_file "$PART" "no partial after the commit"
	rm -f "$ROOT/$remote"
	wput $U "$P" "$BIG" "$remote" --streams 4
	assert_exit 0 "a striped put after the restart"
	assert_same "$BIG" "$ROOT/$remote" "the striped put after the restart"
fi
stop_server

# ======================================== 3. the disk fills up
if [ "$(id -u)" != 0 ]; then
	skip "not root: cannot mount a tmpfs; disk-full cases skipped"
	finish
fi
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=8m tmpfs "$MNT" 2>"$T/mount.err"; then
	skip "mount -t tmpfs is not permitted here ($(cat "$T/mount.err"));" \
		"disk-full cases skipped"
	finish
fi
MOUNTED=1
ROOT=$MNT
start_server
rand_file "$ROOT/keep.bin" $((MiB + 11))
KEEP_SHA=$(sha "$ROOT/keep.bin")

# free_bytes: what the tmpfs has left.
free_bytes() {
	echo $(($(stat -f -c '%a * %S' "$MNT")))
}

# --- the up-front check: 12 MiB into 8 MiB.
rand_file "$S/twelve.bin" $((12 * MiB))
wput $U "$P" "$S/twelve.bin" twelve.bin
assert_exit 1 "a 12 MiB put into an 8 MiB disk"
assert_contains "$ERR" "space" "the refusal names the free space"
echo "FIGURE: 12 MiB put into an 8 MiB tmpfs: exit $RC," \
	"'$(printf '%s\n' "$ERR" | tail -n 1)'"
assert_no_file "$ROOT/twelve.bin" "no final file for the refused put"
[ "$(fsize "$ROOT/.twelve.bin.wharf-part")" -le 0 ] ||
	fail "the refused put wrote data: $(fsize "$ROOT/.twelve.bin.wharf-part")"
pass
server_alive

# --- the disk fills from outside while a slowed 5 MiB upload runs.
rand_file "$S/five.bin" $((5 * MiB))
PF=$T/throttle.port
python3 "$(dirname "$0")/rel_throttle.py" --target "127.0.0.1:$PORT" \
	--port-file "$PF" --rate $((MiB)) --lifetime 60 \
	--log "$T/throttle.log" </dev/null >/dev/null 2>&1 &
THROTTLE_PID=$!
BG_PIDS+=("$THROTTLE_PID")
n=0
while [ ! -s "$PF" ] && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
[ -s "$PF" ] || fail "the throttling relay did not start"
TPORT=$(cat "$PF")
bg_client env WHARF_PASSWORD="$P" "$W" put "$U@127.0.0.1:$TPORT" \
	"$S/five.bin" five.bin --no-progress --compress=off
PART=$ROOT/.five.bin.wharf-part
n=0
while [ "$(fsize "$PART")" -lt "$MiB" ] && [ $n -lt 1500 ]; do
	proc_alive "$BGC_PID" || break
	sleep 0.02
	n=$((n + 1))
done
[ "$(fsize "$PART")" -ge "$MiB" ] ||
	fail "the slowed upload never wrote its first chunk: $(cat "$BGC_ERR")"
pass
FILLED_AT=$(fsize "$PART")
dd if=/dev/zero of="$ROOT/filler" bs=64k 2>/dev/null
echo "FIGURE: disk filled from outside when the 5 MiB upload had" \
	"$FILLED_AT bytes on disk; free now $(free_bytes) bytes"
bg_wait "$BGC_PID" 40
assert_exit 1 "the put that ran out of space"
assert_contains "$ERR" "space" "the NO_SPACE message names the space"
wait_log 'op=put path="/five.bin" result=NO_SPACE' 10 ||
	fail "the server did not log NO_SPACE for five.bin: $(last_log five)"
pass
echo "FIGURE: the put that met a full disk: exit $RC," \
	"'$(printf '%s\n' "$ERR" | tail -n 1)'"
wait "$THROTTLE_PID" 2>/dev/null
forget_pid "$THROTTLE_PID"
settle_server
assert_no_file "$ROOT/five.bin" "no final file for the failed upload"
assert_eq "$KEEP_SHA" "$(sha "$ROOT/keep.bin")" "the existing file is intact"
have=$(fsize "$PART")
[ $((have % MiB)) = 0 ] && cmp -s -n "$have" "$PART" "$S/five.bin" ||
	fail "after NO_SPACE the partial ($have bytes) is not a whole-chunk" \
		"prefix of the source"
pass
server_alive

# The server keeps serving: a get while the disk is still full...
wget1 $U "$P" keep.bin "$T/dl/keep.bin"
assert_exit 0 "a get from a full disk"
assert_same "$ROOT/keep.bin" "$T/dl/keep.bin" "the get from a full disk"
# ...and once space is freed, a small put, a get, and the failed put
# repeated (it resumes from the verified prefix).
rm -f "$ROOT/filler"
rand_file "$S/small.bin" 70000
wput $U "$P" "$S/small.bin" small.bin
assert_exit 0 "a small put after space was freed"
wget1 $U "$P" small.bin "$T/dl/small.bin"
assert_exit 0 "a get of it"
assert_same "$S/small.bin" "$T/dl/small.bin" "the small file round trip"
wput $U "$P" "$S/five.bin" five.bin
assert_exit 0 "the failed put, repeated once there is room"
if [ "$have" -gt 0 ]; then
	assert_match "$OUT" "(resumed|reused) [0-9.]+ (KiB|MiB)" \
		"the repeated put resumes after NO_SPACE"
fi
assert_same "$S/five.bin" "$ROOT/five.bin" "the repeated put"
assert_eq "$KEEP_SHA" "$(sha "$ROOT/keep.bin")" "the existing file, at the end"
stop_server
umount "$MNT" && MOUNTED= || fail "cannot unmount $MNT"
pass
finish
