#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Interrupted transfers resume, and only from a proven prefix. A client is
# killed with SIGKILL in the middle of a 200 MiB upload or download (once
# the partial holds a few MiB): the target is untouched (absent, or still
# the old file), the partial ".NAME.wharf-part" holds a verified prefix,
# and repeating the command sends only the rest ("resumed" in the summary
# and resumed=N in the server log) and produces the right file. A partial
# whose bytes do not match the source is discarded, never trusted, on
# either side, and a partial longer than a new, shorter source does not
# leak its tail into the result. These runs use --no-delta: they test the
# fixed-chunk resume; delta transfers over an old file are covered by
# test_delta.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer_lib.sh"

U=carol
P='carol pw'
add_user $U "$P"
start_server

S=$T/src
mkdir -p "$S" "$T/dl"
BIG=$S/big.bin
BIG_SIZE=$((200 * MiB))
rand_file "$BIG" "$BIG_SIZE"
chmod 640 "$BIG"
touch -d '2021-03-04 05:06:07' "$BIG"
# Kill the client once its partial holds this much: well inside the file.
KILL_AT=$((4 * MiB))

# too_fast WHAT: the client ended before it could be interrupted. If it
# failed, that is a failure; if it succeeded, this machine is too fast
# for the test (200 MiB before a 20 ms poll saw 4 MiB): skip the rest.
too_fast() {
	bg_wait "$BGC_PID" 10
	assert_exit 0 "the $1 that ended before it could be interrupted"
	skip "$1 of 200 MiB finished before its partial reached" \
		"$KILL_AT bytes; this machine is too fast for the test"
	finish
}

# interrupt_put REMOTE: starts `put BIG REMOTE` (REMOTE a name in the
# root) and SIGKILLs the client once the server's partial holds KILL_AT
# bytes; then waits for the server to log the broken upload, so that the
# partial is in its final state. Sets PART and PART_SIZE.
interrupt_put() {
	local remote=$1 before line

	PART=$ROOT/.$remote.wharf-part
	before=$(count_log "op=put path=\"/$remote\" ")
	bg_client env WHARF_PASSWORD="$P" "$W" put "$U@$(host_port)" \
		"$BIG" "$remote" --no-progress --no-delta
	kill_at_size "$PART" "$KILL_AT" "$BGC_PID" 60
	case $? in
	1) too_fast "put" ;;
	2) fail "the server's partial $PART never reached $KILL_AT bytes" ;;
	esac
	check_sanitizers "$BGC_ERR"
	wait_count "op=put path=\"/$remote\" " $((before + 1)) 10 ||
		fail "the server did not log the interrupted upload of $remote"
	pass
	settle_server # the partial is truncated after the log line
	line=$(last_log "op=put path=\"/$remote\" ")
	assert_not_contains "$line" "result=ok" "the interrupted put is no success"
	assert_file_exists "$PART" "the server keeps the partial of $remote"
	PART_SIZE=$(fsize "$PART")
	# Only whole, verified chunks stay: a prefix of the source.
	[ "$PART_SIZE" -gt 0 ] && [ $((PART_SIZE % MiB)) = 0 ] &&
		[ "$PART_SIZE" -lt "$BIG_SIZE" ] ||
		fail "partial of $remote has $PART_SIZE bytes: not a whole" \
			"number of chunks below the file's size"
	pass
	cmp -s -n "$PART_SIZE" "$PART" "$BIG" ||
		fail "the partial of $remote is not a prefix of the source"
	pass
}

# resumed_put REMOTE: repeats the put; it must resume from the partial.
resumed_put() {
	local remote=$1 line n

	wput $U "$P" --no-delta "$BIG" "$remote"
	assert_exit 0 "the repeated put of $remote"
	assert_match "$OUT" "^put $BIG  200\.00 MiB in .*, wire .*, resumed [0-9.]+ (KiB|MiB)$" \
		"the summary of the repeated put says resumed"
	line=$(last_log "op=put path=\"/$remote\" result=ok")
	n=$(log_field resumed "$line")
	assert_eq "$PART_SIZE" "$n" "server log: resumed= the partial's size"
	assert_ge "$n" 1 "server log: resumed=N>0"
	assert_eq $((BIG_SIZE - PART_SIZE)) "$(log_field wire "$line")" \
		"only the rest went over the wire"
	assert_same "$BIG" "$ROOT/$remote" "the resumed upload of $remote"
	assert_eq "$(stat -c '%a %Y' "$BIG")" \
		"$(stat -c '%a %Y' "$ROOT/$remote")" "mode and mtime of $remote"
	assert_no_file "$PART" "the partial is gone after the commit"
}

# --- put, no earlier file.
interrupt_put big_a
assert_no_file "$ROOT/big_a" "an interrupted put leaves no target"
resumed_put big_a

# --- put over an older, different file: untouched until the commit.
rand_file "$ROOT/big_b" $((MiB + 7))
chmod 604 "$ROOT/big_b"
touch -d '2001-02-03 04:05:06' "$ROOT/big_b"
OLD_SHA=$(sha "$ROOT/big_b")
OLD_STAT=$(stat -c '%s %a %Y' "$ROOT/big_b")
interrupt_put big_b
assert_eq "$OLD_SHA" "$(sha "$ROOT/big_b")" \
	"an interrupted put leaves the old file's content"
assert_eq "$OLD_STAT" "$(stat -c '%s %a %Y' "$ROOT/big_b")" \
	"an interrupted put leaves the old file's size, mode and mtime"
resumed_put big_b
rm -f "$ROOT/big_b"

# --- a server partial that does not match the source is not trusted.
interrupt_put big_c
rand_file "$PART" "$PART_SIZE" # same size, other bytes
wput $U "$P" "$BIG" big_c
assert_exit 0 "put over a partial with foreign bytes"
assert_same "$BIG" "$ROOT/big_c" "put over a partial with foreign bytes"
assert_not_contains "$OUT" "resumed" "a foreign partial is not resumed"
line=$(last_log 'op=put path="/big_c" result=ok')
assert_eq 0 "$(log_field resumed "$line")" "server log: resumed=0"
assert_eq "$BIG_SIZE" "$(log_field wire "$line")" \
	"the whole file went over the wire"
assert_no_file "$PART" "no partial left"
rm -f "$ROOT/big_c"

# --- get: SIGKILL halfway, then resume; once to a new local file, once
# over an older local file.
rand_file "$T/dl/old.bin" 12345
OLD_SHA=$(sha "$T/dl/old.bin")
for target in new.bin old.bin; do
	LOCAL=$T/dl/$target
	LPART=$T/dl/.$target.wharf-part
	bg_client env WHARF_PASSWORD="$P" "$W" get "$U@$(host_port)" \
		big_a "$LOCAL" --no-progress --no-delta
	kill_at_size "$LPART" "$KILL_AT" "$BGC_PID" 60
	case $? in
	1) too_fast "get" ;;
	2) fail "the local partial $LPART never reached $KILL_AT bytes" ;;
	esac
	check_sanitizers "$BGC_ERR"
	assert_file_exists "$LPART" "an interrupted get keeps its partial"
	if [ "$target" = new.bin ]; then
		assert_no_file "$LOCAL" "an interrupted get leaves no target"
	else
		assert_eq "$OLD_SHA" "$(sha "$LOCAL")" \
			"an interrupted get leaves the old local file"
	fi
	have=$(fsize "$LPART")
	[ "$have" -lt "$BIG_SIZE" ] ||
		fail "the local partial is complete ($have bytes)"
	pass
	before=$(count_log 'op=get path="/big_a" result=ok')
	wget1 $U "$P" --no-delta big_a "$LOCAL"
	assert_exit 0 "the repeated get to $target"
	assert_match "$OUT" "^get big_a  200\.00 MiB in .*, wire .*, resumed [0-9.]+ (KiB|MiB)$" \
		"the summary of the repeated get says resumed"
	wait_count 'op=get path="/big_a" result=ok' $((before + 1)) 10 ||
		fail "the server did not log the resumed get"
	line=$(last_log 'op=get path="/big_a" result=ok')
	n=$(log_field resumed "$line")
	assert_ge "$n" 1 "server log: the get resumed=N>0"
	[ $((n % MiB)) = 0 ] && [ "$n" -le "$have" ] ||
		fail "get resumed from $n bytes, partial had $have"
	pass
	assert_same "$BIG" "$LOCAL" "the resumed download to $target"
	assert_eq "$(stat -c '%a %Y' "$ROOT/big_a")" \
		"$(stat -c '%a %Y' "$LOCAL")" "mode and mtime of the download"
	assert_no_file "$LPART" "the local partial is gone after the commit"
	rm -f "$LOCAL"
done

# --- a local partial with foreign bytes is not trusted either.
rand_file "$ROOT/mid.bin" $((8 * MiB + 99))
rand_file "$T/dl/.mid.bin.wharf-part" $((3 * MiB))
wget1 $U "$P" mid.bin "$T/dl/mid.bin"
assert_exit 0 "get over a local partial with foreign bytes"
assert_same "$ROOT/mid.bin" "$T/dl/mid.bin" "get over a foreign partial"
assert_not_contains "$OUT" "resumed" "a foreign local partial is not resumed"
line=$(last_log 'op=get path="/mid.bin" result=ok')
assert_eq 0 "$(log_field resumed "$line")" "server log: get resumed=0"
assert_no_file "$T/dl/.mid.bin.wharf-part"

# A local partial longer than the file, with a true prefix: the result is
# the server's file, not the partial's tail.
{
	head -c $((2 * MiB)) "$ROOT/mid.bin"
	head -c $((10 * MiB)) /dev/urandom
} >"$T/dl/.mid2.bin.wharf-part"
wget1 $U "$P" mid.bin "$T/dl/mid2.bin"
assert_exit 0 "get over a longer local partial"
assert_same "$ROOT/mid.bin" "$T/dl/mid2.bin" "get over a longer local partial"

# A small file (committed in a batch) over a stale, longer server partial:
# without resuming (smaller than a chunk) the partial is emptied; resuming
# (--chunk-size 64 KiB: the server offers the partial's 4 whole chunks
# within the file's size, which are the file's own) it is cut to size at
# the end. Either way the result is the new file, without the tail.
SMALL=$S/small.bin
TINY=$S/tiny.bin
head -c 300000 /dev/urandom >"$SMALL"
head -c 100000 "$SMALL" >"$TINY"
head -c 900000 /dev/urandom >"$ROOT/.small_a.wharf-part"
wput $U "$P" "$TINY" small_a --no-delta
assert_exit 0 "put of a small file over a longer stale partial"
assert_same "$TINY" "$ROOT/small_a" "small file over a stale partial"
{
	head -c 262144 "$SMALL"
	head -c 900000 /dev/urandom
} >"$ROOT/.small_b.wharf-part"
wput $U "$P" "$SMALL" small_b --chunk-size 65536 --no-delta
assert_exit 0 "resumed put of a small file over a longer partial"
assert_same "$SMALL" "$ROOT/small_b" "resumed small file over a partial"
line=$(last_log 'op=put path="/small_b" result=ok')
assert_eq 262144 "$(log_field resumed "$line")" "server log: small_b resumed"
assert_no_file "$ROOT/.small_a.wharf-part"
assert_no_file "$ROOT/.small_b.wharf-part"

# --- a server partial longer than a new, shorter source that shares its
# first chunks (the source was cut short after an interrupted upload):
# the upload may resume from the shared whole chunks, but the result must
# be exactly the new source, without the rest of the old partial.
# Checked last, so that a failure here hides none of the rest.
interrupt_put big_d
SHORT=$S/short.bin
{
	head -c $((2 * MiB)) "$BIG"
	head -c $((MiB / 2)) /dev/urandom
} >"$SHORT"
wput $U "$P" "$SHORT" big_d
assert_exit 0 "put of a shorter source over a longer partial"
assert_eq "$(fsize "$SHORT")" "$(fsize "$ROOT/big_d")" \
	"the target has the new source's size, not the old partial's"
assert_same "$SHORT" "$ROOT/big_d" "put of a shorter source over a partial"

server_alive
stop_server
finish
