#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# A corrupted chunk is rejected, never written as good data. relay.py sits
# between client and server and flips one byte inside the chunk data of a
# plaintext session (where only the chunk digests stand guard): the upload
# fails with exit 1 and "hash mismatch" naming the chunk, the target is
# not created, the partial keeps only verified chunks, and the next put
# (without the relay) produces the right file. The same for a download:
# the get fails and the local target is not created. In a sealed session
# the same flip breaks the frame's authentication and ends the connection.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer_lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip "python3 is needed for relay.py"
	finish
fi

U=dave
P='dave pw'
add_user $U "$P"
start_server --allow-plaintext

S=$T/src
mkdir -p "$S" "$T/dl"
SIZE=$((10 * MiB))
rand_file "$S/up.bin" "$SIZE"
# Byte 3 000 000 of either stream lies in the data of chunk 2 (chunks
# 0 and 1 with their headers take about 2 097 300 bytes, plus the few
# hundred bytes of preface, handshake, login and stat before them). The
# relay also makes sure that the byte lies at least 96 bytes into a
# frame's payload, past any message header, so it is chunk data.
FLIP=3000000
INSIDE=96

# check_partial PATH WHAT: a partial, if any, is a whole number of
# chunks, all before the corrupted one, and a prefix of the source.
check_partial() {
	local part=$1 n

	if [ -e "$part" ]; then
		n=$(fsize "$part")
		[ $((n % MiB)) = 0 ] && [ "$n" -le $((2 * MiB)) ] ||
			fail "$2: the partial holds $n bytes, beyond the" \
				"verified chunks 0 and 1"
		cmp -s -n "$n" "$part" "$S/up.bin" ||
			fail "$2: the partial is not a prefix of the source"
	fi
	pass
}

# --- upload through the relay, plaintext, one byte flipped.
start_relay --flip-c2s "$FLIP" --min-payload-pos $INSIDE
XFER_ADDR=127.0.0.1:$RELAY_PORT wput $U "$P" --plaintext --compress=off \
	"$S/up.bin" up.bin
stop_relay
assert_match "$(cat "$RELAY_LOG")" "flipped byte [0-9]+ of the stream \(at byte [0-9]+ of the [0-9]+-byte payload" \
	"the relay flipped a byte inside a frame's payload"
assert_exit 1 "a put with a corrupted chunk"
assert_contains "$ERR" "hash mismatch" "the error names the hash"
assert_contains "$ERR" "chunk 2" "the error names the chunk"
assert_no_file "$ROOT/up.bin" "no target after a corrupted chunk"
wait_log 'op=put path="/up.bin" result=BAD_HASH' 10 ||
	fail "the server did not log the rejected upload as BAD_HASH"
pass
check_partial "$ROOT/.up.bin.wharf-part" "after a corrupted upload"

# The next put, straight to the server, completes correctly.
wput $U "$P" "$S/up.bin" up.bin
assert_exit 0 "the put after the corrupted one"
assert_same "$S/up.bin" "$ROOT/up.bin" "the put after the corrupted one"
assert_no_file "$ROOT/.up.bin.wharf-part"

# --- the same with compression on compressible data: the flip lands in
# a zstd frame (the whole upload is about 300 KB on the wire), which must
# not decode to anything accepted.
seq -f 'compressible line %.0f for the relay' 1 400000 >"$S/text"
start_relay --flip-c2s 150000 --min-payload-pos $INSIDE
XFER_ADDR=127.0.0.1:$RELAY_PORT wput $U "$P" --plaintext -z1 \
	--chunk-size 65536 "$S/text" text
stop_relay
assert_match "$(cat "$RELAY_LOG")" "flipped byte [0-9]+ of the stream \(at byte [0-9]+ of the [0-9]+-byte payload" \
	"the relay flipped a byte of a compressed chunk"
assert_exit 1 "a put with a corrupted compressed chunk"
assert_match "$ERR" "chunk [0-9]+ of /text: " "the error names the chunk"
assert_no_file "$ROOT/text" "no target after a corrupted chunk"
wput $U "$P" -z "$S/text" text
assert_exit 0 "the compressed put after the corrupted one"
assert_same "$S/text" "$ROOT/text" "the compressed put"

# --- download through the relay, one byte flipped.
cp "$S/up.bin" "$ROOT/down.bin"
start_relay --flip-s2c "$FLIP" --min-payload-pos $INSIDE
XFER_ADDR=127.0.0.1:$RELAY_PORT wget1 $U "$P" --plaintext \
	--compress=off down.bin "$T/dl/down.bin"
stop_relay
assert_match "$(cat "$RELAY_LOG")" "flipped byte [0-9]+ of the stream \(at byte [0-9]+ of the [0-9]+-byte payload" \
	"the relay flipped a byte inside a frame's payload"
assert_exit 1 "a get with a corrupted chunk"
assert_contains "$ERR" "hash mismatch" "the error names the hash"
assert_contains "$ERR" "chunk 2" "the error names the chunk"
assert_no_file "$T/dl/down.bin" "no local target after a corrupted chunk"
check_partial "$T/dl/.down.bin.wharf-part" "after a corrupted download"
# The server file is untouched, and the next get completes correctly.
assert_same "$S/up.bin" "$ROOT/down.bin" "the server's file is unchanged"
wget1 $U "$P" down.bin "$T/dl/down.bin"
assert_exit 0 "the get after the corrupted one"
assert_same "$S/up.bin" "$T/dl/down.bin" "the get after the corrupted one"
assert_no_file "$T/dl/.down.bin.wharf-part"

# --- a sealed session: the same flip fails the frame's authentication;
# the connection ends (exit 3) and nothing is committed on either side.
start_relay --flip-c2s "$FLIP" --min-payload-pos $INSIDE
XFER_ADDR=127.0.0.1:$RELAY_PORT wput $U "$P" --compress=off \
	"$S/up.bin" sealed.bin
stop_relay
assert_match "$(cat "$RELAY_LOG")" "flipped byte [0-9]+ of the stream" \
	"the relay flipped its byte"
assert_exit 3 "a sealed put with a flipped byte"
assert_no_file "$ROOT/sealed.bin" "no target after a forged frame"
wait_log 'op=put path="/sealed.bin" result=' 10 ||
	fail "the server did not log the broken sealed upload"
pass
check_partial "$ROOT/.sealed.bin.wharf-part" "after a forged frame"

start_relay --flip-s2c "$FLIP" --min-payload-pos $INSIDE
XFER_ADDR=127.0.0.1:$RELAY_PORT wget1 $U "$P" --compress=off \
	down.bin "$T/dl/sealed.bin"
stop_relay
assert_match "$(cat "$RELAY_LOG")" "flipped byte [0-9]+ of the stream" \
	"the relay flipped its byte"
assert_exit 3 "a sealed get with a flipped byte"
assert_contains "$ERR" "authentication" "the client says the frame was forged"
assert_no_file "$T/dl/sealed.bin" "no local target after a forged frame"
check_partial "$T/dl/.sealed.bin.wharf-part" "after a forged frame"

server_alive
stop_server
finish
