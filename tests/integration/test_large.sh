#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A file over 4 GiB goes up and comes back intact: sizes, offsets and
# chunk indices are 64-bit all the way. The file is sparse (zeros), sent
# with -z so that the test costs hashing time, not link time. Skipped, with
# a message, where the disk cannot hold three copies.
. "$(dirname "$0")/lib.sh"

# Hashing 4 GiB twice takes a while on a busy 2-core machine.
CLIENT_TIMEOUT=240
SIZE=$(((4 << 30) + 12345))
free_kb=$(df -Pk "$T" | awk 'NR == 2 { print $4 }')
if [ "${free_kb:-0}" -lt $((14 * 1024 * 1024)) ]; then
	skip "needs 14 GiB free in $T, has $((free_kb / 1024)) MiB"
	finish
fi

start_server
add_user alice pw
truncate -s "$SIZE" "$T/huge"
printf 'tail marker' | dd of="$T/huge" bs=1 seek=$((SIZE - 11)) \
	conv=notrunc 2>/dev/null

run env WHARF_PASSWORD=pw "$W" put -q --no-progress -z \
	"alice@$(host_port)" "$T/huge" /huge
assert_exit 0 "put of a file over 4 GiB"
assert_eq "$SIZE" "$(stat -c %s "$ROOT/huge")" "size on the server"
cmp -s "$T/huge" "$ROOT/huge" || fail "the server's copy differs"
pass
rm -f "$T/huge"
run env WHARF_PASSWORD=pw "$W" get -q --no-progress -z \
	"alice@$(host_port)" /huge "$T/back"
assert_exit 0 "get of a file over 4 GiB"
cmp -s "$ROOT/huge" "$T/back" || fail "the downloaded copy differs"
pass
assert_eq "tail marker" "$(tail -c 11 "$T/back")" "the last bytes"
finish
