#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Negotiated primitives (issue 20): every cipher and hash pair moves a
# file both ways intact; the sender's automatic hash follows its CPU;
# a side without AES instructions (WHARF_DISABLE_AESNI=1) falls back to
# secretbox; a server's --ciphers list is obeyed; xxh128 is refused in a
# sealed session by the client and by the server, and accepted in
# --plaintext.
. "$(dirname "$0")/lib.sh"

add_user pat 'pat pw'
export WHARF_PASSWORD='pat pw'
start_server --allow-plaintext
TGT=pat@$(host_port)

# 3 MiB and a bit: several chunks and a short last one.
head -c $((3 * 1024 * 1024 + 4321)) /dev/urandom >"$T/src.bin"
mkdir -p "$T/dl"

# put_get NAME ARGS...: uploads src.bin as NAME, downloads it again and
# checks both copies; ARGS go to both clients.
put_get() {
	local name=$1

	shift
	run "$W" put "$TGT" "$T/src.bin" "/$name" -q --no-progress "$@"
	assert_exit 0 "put $name ($*): $ERR"
	cmp -s "$T/src.bin" "$ROOT/$name" || fail "put $name ($*): differs"
	pass
	rm -f "$T/dl/$name"
	run "$W" get "$TGT" "/$name" "$T/dl/" -q --no-progress "$@"
	assert_exit 0 "get $name ($*): $ERR"
	cmp -s "$T/src.bin" "$T/dl/$name" || fail "get $name ($*): differs"
	pass
}

# last_log PATTERN: the value of key PATTERN= in the newest log line
# that has it.
last_log() {
	grep -o " $1=[^ ]*" "$LOG" | tail -n 1 | cut -d= -f2
}

n=0
for cipher in secretbox aes256gcm; do
	for hash in auto blake2b sha256; do
		n=$((n + 1))
		put_get "f$n-$cipher-$hash" --cipher "$cipher" --hash "$hash"
		assert_eq "$cipher" "$(last_log cipher)" "session cipher"
		if [ "$hash" != auto ]; then
			assert_eq "$hash" "$(last_log hash)" "forced hash"
		fi
	done
done
for hash in auto blake2b sha256 xxh128; do
	n=$((n + 1))
	put_get "f$n-plain-$hash" --plaintext --hash "$hash"
	assert_contains "$(grep 'handshake ok' "$LOG" | tail -n 1)" PLAINTEXT
	if [ "$hash" != auto ]; then
		assert_eq "$hash" "$(last_log hash)" "forced hash, plaintext"
	fi
done

# auto: SHA-256 where the sender has SHA extensions, else BLAKE2b.
if grep -qw sha_ni /proc/cpuinfo; then
	want=sha256
else
	want=blake2b
fi
run "$W" put "$TGT" "$T/src.bin" /auto.bin -q --no-progress
assert_exit 0 "put, auto hash"
assert_eq "$want" "$(last_log hash)" "upload: the client's CPU chooses"
run "$W" get "$TGT" /auto.bin "$T/dl/" -q --no-progress
assert_exit 0 "get, auto hash"
assert_eq "$want" "$(last_log hash)" "download: the server's CPU chooses"
# Masked on the sending side: BLAKE2b.
run env WHARF_DISABLE_SHANI=1 "$W" put "$TGT" "$T/src.bin" /auto2.bin -q \
	--no-progress
assert_exit 0 "put, SHA masked"
assert_eq blake2b "$(last_log hash)" "upload without SHA extensions"

# A client without AES instructions offers only secretbox and says so.
run env WHARF_DISABLE_AESNI=1 "$W" put "$TGT" "$T/src.bin" /noaes.bin \
	--no-progress --cipher aes256gcm
assert_exit 0 "put, client AES masked: $ERR"
assert_eq secretbox "$(last_log cipher)" "client without AES: secretbox"
assert_contains "$ERR" "sealed with secretbox (this CPU has no AES"
cmp -s "$T/src.bin" "$ROOT/noaes.bin" || fail "noaes.bin differs"
pass

# xxh128 in a sealed session: the client refuses before sending.
run "$W" put "$TGT" "$T/src.bin" /x.bin -q --no-progress --hash xxh128
assert_exit 2 "xxh128 sealed: usage error"
assert_contains "$ERR" "--hash xxh128 is for plaintext sessions only"
assert_no_file "$ROOT/x.bin"
run "$W" get "$TGT" /auto.bin "$T/dl/x.bin" -q --no-progress --hash xxh128
assert_exit 2 "xxh128 sealed get: usage error"
assert_no_file "$T/dl/x.bin"
stop_server

# A server without AES instructions chooses secretbox.
WHARF_DISABLE_AESNI=1 start_server --allow-plaintext
TGT=pat@$(host_port)
put_get srv-noaes.bin --cipher aes256gcm
assert_eq secretbox "$(last_log cipher)" "server without AES: secretbox"
run "$W" put "$TGT" "$T/src.bin" /srv-noaes2.bin --no-progress \
	--cipher aes256gcm
assert_exit 0 "put, server AES masked: $ERR"
assert_contains "$ERR" "sealed with secretbox (the server did not choose"
assert_contains "$(grep 'ciphers=' "$LOG" | tail -n 1)" "aes=no"
stop_server

# --ciphers: secretbox only declines AES; aes256gcm only refuses a
# client that does not offer it, with a reason.
start_server --ciphers secretbox
TGT=pat@$(host_port)
put_get list-sb.bin --cipher aes256gcm
assert_eq secretbox "$(last_log cipher)" "--ciphers secretbox"
stop_server
start_server --ciphers aes256gcm
TGT=pat@$(host_port)
put_get list-aes.bin --cipher aes256gcm
assert_eq aes256gcm "$(last_log cipher)" "--ciphers aes256gcm"
run "$W" put "$TGT" "$T/src.bin" /refused.bin -q --no-progress
assert_ne 0 "$RC" "secretbox client, aes256gcm-only server"
assert_contains "$ERR" "server allows only the aes256gcm cipher"
assert_no_file "$ROOT/refused.bin"
stop_server
run "$W" serve --ciphers chacha --root "$ROOT" --state "$STATE"
assert_exit 2 "--ciphers with an unknown name"
assert_contains "$ERR" "--ciphers: expected"

finish
