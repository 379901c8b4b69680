#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Stream compression (the ZSTREAM feature, docs/protocol.md §9.3): the
# compressed chunks of one transfer continue one zstd stream, so a chunk
# can refer to the chunks before it. A file of one MiB repeated (64 KiB
# of text, then random bytes) shrinks only that way (each chunk alone
# hardly shrinks), and does so both ways; a resumed transfer starts a new stream where it resumes, in both
# directions; files of one `put -r` or `get -r` each have their own
# stream; the default (auto) mode streams text; --compress=off does not
# stream at all. Every result is compared byte for byte with its source.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer_lib.sh"

U=sam
P='sam pw'
add_user $U "$P"
start_server

S=$T/src
mkdir -p "$S/tree" "$T/back"
# The text head makes the stream take the chunk (its first 64 KiB are
# probed); the random rest can only be found again in the stream.
seq -f 'head %.0f' 1 100000 | head -c 65536 >"$S/block"
head -c $((MiB - 65536)) /dev/urandom >>"$S/block"
assert_eq $MiB "$(fsize "$S/block")" "test data: a MiB block"
for i in 1 2 3 4 5 6; do
	cat "$S/block" >>"$S/rep"
done
head -c 1000 "$S/block" >>"$S/rep" # a short last chunk
REP_SIZE=$((6 * MiB + 1000))
assert_eq $REP_SIZE "$(fsize "$S/rep")" "test data: six equal MiB and a tail"
seq -f 'line %.0f of a text that a stream compresses well' 1 120000 \
	>"$S/text"

# one_stream LINE WHAT: the server logged a transfer of the repeated
# block as one stream (compress=zstd-stream) that sent the block about
# once: wire= under 1.25 MiB.
one_stream() {
	local w
	assert_eq zstd-stream "$(log_field compress "$1")" \
		"server log: $2 was one stream"
	w=$(log_field wire "$1")
	[ -n "$w" ] && [ "$w" -lt $((MiB + MiB / 4)) ] ||
		fail "$2: wire=$w, expected under $((MiB + MiB / 4)) ($1)"
}

# --- upload: chunks 2..6 repeat chunk 1, and say so in a few bytes.
wput $U "$P" -z --no-delta "$S/rep" rep
assert_exit 0 "put -z of the repeated block"
assert_same "$S/rep" "$ROOT/rep" "put -z of the repeated block"
one_stream "$(last_log 'op=put path="/rep" result=ok')" "put -z of six equal MiB"
pass

# --- download, the same way round.
wget1 $U "$P" -z --no-delta rep "$T/back/rep"
assert_exit 0 "get -z of the repeated block"
assert_same "$S/rep" "$T/back/rep" "get -z of the repeated block"
one_stream "$(last_log 'op=get path="/rep" result=ok')" "get -z of six equal MiB"
pass

# --- a resumed upload: the server holds the first two chunks; the stream
# starts at chunk 2, and chunks 3.. still refer back to it.
head -c $((2 * MiB)) "$S/rep" >"$ROOT/.rep2.wharf-part"
wput $U "$P" -z --no-delta "$S/rep" rep2
assert_exit 0 "resumed put -z"
assert_same "$S/rep" "$ROOT/rep2" "resumed put -z"
line=$(last_log 'op=put path="/rep2" result=ok')
assert_eq $((2 * MiB)) "$(log_field resumed "$line")" \
	"server log: the put resumed after two chunks"
one_stream "$line" "resumed put -z"
pass

# --- a resumed download: the client holds the first two chunks.
head -c $((2 * MiB)) "$S/rep" >"$T/back/.rep3.wharf-part"
wget1 $U "$P" -z --no-delta rep "$T/back/rep3"
assert_exit 0 "resumed get -z"
assert_same "$S/rep" "$T/back/rep3" "resumed get -z"
line=$(last_log 'op=get path="/rep" result=ok')
assert_eq $((2 * MiB)) "$(log_field resumed "$line")" \
	"server log: the get resumed after two chunks"
one_stream "$line" "resumed get -z"
pass

# --- the default mode (auto) streams text, both ways.
wput $U "$P" --no-delta "$S/text" text
assert_exit 0 "put of text, auto"
assert_same "$S/text" "$ROOT/text" "put of text, auto"
line=$(last_log 'op=put path="/text" result=ok')
assert_eq zstd-stream "$(log_field compress "$line")" \
	"server log: auto mode streams text up"
wget1 $U "$P" --no-delta text "$T/back/text"
assert_exit 0 "get of text, auto"
assert_same "$S/text" "$T/back/text" "get of text, auto"
line=$(last_log 'op=get path="/text" result=ok')
assert_eq auto-stream "$(log_field compress "$line")" \
	"server log: auto mode streams text down"
pass

# --- --compress=off: no stream, the bytes as they are.
wput $U "$P" --compress=off --no-delta "$S/rep" rep_off
assert_exit 0 "put --compress=off"
assert_same "$S/rep" "$ROOT/rep_off" "put --compress=off"
line=$(last_log 'op=put path="/rep_off" result=ok')
assert_eq raw "$(log_field compress "$line")" "server log: off is raw"
assert_eq $REP_SIZE "$(log_field wire "$line")" "off: wire = bytes"
wget1 $U "$P" --compress=off --no-delta rep_off "$T/back/rep_off"
assert_exit 0 "get --compress=off"
line=$(last_log 'op=get path="/rep_off" result=ok')
assert_eq off "$(log_field compress "$line")" "server log: off, no stream"
assert_eq $REP_SIZE "$(log_field wire "$line")" "get off: wire = bytes"
pass

# --- a tree: each file its own stream, one after another on one
# connection; the second copy of the block gains nothing from the first.
cp "$S/rep" "$S/tree/a"
cp "$S/text" "$S/tree/b"
cp "$S/block" "$S/tree/c"
cat "$S/block" "$S/block" >"$S/tree/d"
wput $U "$P" -z --no-delta -r "$S/tree" tree
assert_exit 0 "put -r -z of a tree"
for f in a b c d; do
	assert_same "$S/tree/$f" "$ROOT/tree/$f" "put -r -z: $f"
done
line=$(last_log 'op=put path="/tree/d" result=ok')
one_stream "$line" "put -r -z: d, streamed on its own,"
[ "$(log_field wire "$line")" -gt $((MiB / 2)) ] ||
	fail "put -r -z: d had history from another file: $line"
wget1 $U "$P" -z --no-delta -r tree "$T/back/tree"
assert_exit 0 "get -r -z of a tree"
for f in a b c d; do
	assert_same "$S/tree/$f" "$T/back/tree/$f" "get -r -z: $f"
done
pass

finish
