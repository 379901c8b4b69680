#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `wharf sync` against a real server: a tree with added, changed, renamed
# and deleted files, with and without --delete; --dry-run changes nothing;
# --checksum; the download direction; an interrupted sync finishes on the
# next run without sending finished files again.
. "$(dirname "$0")/lib.sh"

start_server
add_user alice pw

wsync() { run env WHARF_PASSWORD=pw "$W" sync --no-progress \
	"alice@$(host_port)" "$@"; }
puts_of() { grep -c "op=put path=\"$1\" result=ok" "$LOG"; }

SRC=$T/src
mkdir -p "$SRC/docs/old" "$SRC/img" "$SRC/empty"
for i in $(seq 1 30); do head -c $((i * 3000)) /dev/urandom >"$SRC/docs/d$i"; done
head -c 2000000 /dev/urandom >"$SRC/img/big.bin"
printf 'keep\n' >"$SRC/docs/old/keep.txt"

wsync "$SRC" /mirror --dry-run
assert_exit 0 "dry run"
assert_contains "$OUT" "put docs/d1 (new)"
assert_contains "$OUT" "would transfer 32 files"
assert_no_file "$ROOT/mirror" "a dry run changes nothing"

wsync "$SRC" /mirror
assert_exit 0 "first sync"
diff -r "$SRC" "$ROOT/mirror" >/dev/null || fail "first sync differs"
pass
assert_dir_exists "$ROOT/mirror/empty" "empty folders are synced"

# Nothing changed: nothing sent.
n=$(grep -c 'op=put .*result=ok' "$LOG")
wsync "$SRC" /mirror
assert_exit 0
assert_contains "$OUT" "0 transferred"
assert_eq "$n" "$(grep -c 'op=put .*result=ok' "$LOG")" "no file sent again"

# Added, changed, renamed, deleted.
printf 'new\n' >"$SRC/docs/added.txt"
printf 'x' | dd of="$SRC/img/big.bin" bs=1 seek=1000000 conv=notrunc 2>/dev/null
mv "$SRC/docs/d5" "$SRC/docs/d5.renamed"
rm "$SRC/docs/d7"
printf 'extra' >"$ROOT/mirror/only-there.txt"
before_big=$(puts_of /mirror/img/big.bin)
wsync "$SRC" /mirror
assert_exit 0 "sync without --delete"
assert_file_exists "$ROOT/mirror/docs/d7" "without --delete nothing goes"
assert_file_exists "$ROOT/mirror/only-there.txt"
cmp -s "$SRC/img/big.bin" "$ROOT/mirror/img/big.bin" || fail "changed file"
pass
assert_contains "$OUT" "reused" "the changed file went as a delta"
assert_eq $((before_big + 1)) "$(puts_of /mirror/img/big.bin)"
cmp -s "$SRC/docs/d5.renamed" "$ROOT/mirror/docs/d5.renamed" ||
	fail "renamed file"
pass

wsync "$SRC" /mirror --delete --dry-run
assert_exit 0
assert_contains "$OUT" "delete docs/d7"
assert_contains "$OUT" "delete only-there.txt"
assert_file_exists "$ROOT/mirror/docs/d7" "a dry run deletes nothing"
wsync "$SRC" /mirror --delete
assert_exit 0 "sync --delete"
diff -r "$SRC" "$ROOT/mirror" >/dev/null || fail "sync --delete differs"
pass

# --checksum finds a change that keeps size and mtime.
mt=$(stat -c %Y "$ROOT/mirror/docs/d3")
printf 'Z' | dd of="$ROOT/mirror/docs/d3" bs=1 seek=10 conv=notrunc 2>/dev/null
touch -d "@$mt" "$ROOT/mirror/docs/d3"
touch -d "@$mt" "$SRC/docs/d3"
wsync "$SRC" /mirror
assert_contains "$OUT" "0 transferred" "size+mtime alone cannot see it"
wsync "$SRC" /mirror --checksum
assert_exit 0
cmp -s "$SRC/docs/d3" "$ROOT/mirror/docs/d3" || fail "--checksum missed it"
pass

# Download direction, into a new folder, and back in sync after a change.
wsync "$T/back" /mirror --download
assert_exit 0 "sync --download"
diff -r "$ROOT/mirror" "$T/back" >/dev/null || fail "download differs"
pass
rm "$ROOT/mirror/docs/d9"
printf 'server side\n' >"$ROOT/mirror/docs/server.txt"
wsync "$T/back" /mirror --download --delete
assert_exit 0
diff -r "$ROOT/mirror" "$T/back" >/dev/null || fail "download --delete"
pass

# An interrupted sync: killed part way, then run again. Files finished
# the first time are not sent again.
mkdir -p "$T/many"
for i in $(seq 1 40); do head -c 400000 /dev/urandom >"$T/many/f$i"; done
env WHARF_PASSWORD=pw "$W" sync -q --no-progress --compress=off \
	"alice@$(host_port)" "$T/many" /many </dev/null >/dev/null 2>&1 &
pid=$!
BG_PIDS+=("$pid")
i=0
while [ "$(grep -c 'op=put path="/many/.*result=ok' "$LOG")" -lt 5 ] &&
	[ $i -lt 200 ]; do
	sleep 0.02
	i=$((i + 1))
done
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
# Let the server notice the dead client and release its upload.
wait_disconnects
done_first=$(grep -c 'op=put path="/many/.*result=ok' "$LOG")
wsync "$T/many" /many
assert_exit 0 "the re-run finishes the job"
diff -r "$T/many" "$ROOT/many" >/dev/null || fail "interrupted sync differs"
pass
total=$(grep -c 'op=put path="/many/.*result=ok' "$LOG")
[ "$total" -le 40 ] || fail "$((total - 40)) finished files were sent again"
pass
echo "interrupted sync: $done_first files before the kill, $total in all"

finish
