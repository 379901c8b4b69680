#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Trees beyond their files, both ways (put -r, get -r): symbolic links are
# skipped by default with one line each and a closing count, and the exit
# status is 23 (the tree is incomplete, as rsync's partial transfer);
# -l keeps links as links where their target stays inside (the server's
# root on upload, the downloaded tree on download) and reports the
# others; -L copies what they point to. Folder modes (700 stays 700) and
# old mtimes are kept on both sides, set after the files inside; with
# --no-perms new files and folders get default modes. FIFOs and other
# special files are skipped the same way, named and counted (exit 23).
# Before this, links were skipped with exit 0 and folders became 755.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer_lib.sh"

U=lou
P='lou pw'
add_user $U "$P"
start_server

OLD='2001-02-03 04:05:06'
OLD_EPOCH=$(date -d "$OLD" +%s)

# mtime_of PATH: seconds since the epoch (the link itself for a link).
mtime_of() { stat -c %Y -- "$1"; }
mode_of() { stat -c %a -- "$1"; }

SRC=$T/src/tree
mkdir -p "$SRC/private/deep" "$SRC/pub" "$T/outside"
printf 'top\n' >"$SRC/top.txt"
printf 'secret\n' >"$SRC/private/deep/s.txt"
printf 'pub\n' >"$SRC/pub/p.txt"
printf 'outside\n' >"$T/outside/o.txt"
ln -s top.txt "$SRC/good"
ln -s ../top.txt "$SRC/pub/up"
ln -s ../pub "$SRC/private/pubdir"
ln -s /etc/passwd "$SRC/pub/abs"
ln -s ../../../../../../../../etc "$SRC/pub/climb"
chmod 700 "$SRC/private"
chmod 750 "$SRC/private/deep"
touch -h -d "$OLD" "$SRC/private/deep" "$SRC/private" "$SRC/pub" "$SRC"

# --- default: every link reported, exit 23, no link on the server.
wput $U "$P" -r "$SRC" /plain
assert_exit 23 "put -r with links, default: the tree is incomplete"
for l in good pub/up private/pubdir pub/abs pub/climb; do
	assert_contains "$ERR" "skipped symbolic link $SRC/$l" "names $l"
	assert_no_file "$ROOT/plain/$l" "$l is not on the server"
done
assert_contains "$ERR" "5 symbolic links skipped" "the closing count"
assert_same "$SRC/top.txt" "$ROOT/plain/top.txt" "files still arrive"

# With --json, each skipped link is also an object on stdout.
wput $U "$P" -r --json "$SRC" /plainjson
assert_exit 23 "put -r --json with links"
printf '%s\n' "$OUT" >"$T/json.out"
python3 - "$T/json.out" "$SRC/good" <<'PY' || fail "put --json: $OUT"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sk = [o for o in objs if o.get("result") == "skipped"]
assert len(sk) == 5, sk
assert any(o["path"] == sys.argv[2] and o["type"] == "link" and
           o["op"] == "put" for o in sk), sk
PY
pass

# --- folder modes and mtimes on the server.
assert_eq 700 "$(mode_of "$ROOT/plain/private")" "a 700 folder stays 700"
assert_eq 750 "$(mode_of "$ROOT/plain/private/deep")" "750 stays 750"
assert_eq "$OLD_EPOCH" "$(mtime_of "$ROOT/plain/private")" "old mtime kept"
assert_eq "$OLD_EPOCH" "$(mtime_of "$ROOT/plain/private/deep")" \
	"old mtime kept below"
assert_eq "$OLD_EPOCH" "$(mtime_of "$ROOT/plain")" "the top's mtime kept"

# --- and back: get -r keeps them here too.
wget1 $U "$P" -r /plain "$T/back"
assert_exit 0 "get -r of a tree without links"
assert_eq 700 "$(mode_of "$T/back/private")" "700 stays 700 on download"
assert_eq 750 "$(mode_of "$T/back/private/deep")" "750 on download"
assert_eq "$OLD_EPOCH" "$(mtime_of "$T/back/private")" "old mtime here"
assert_eq "$OLD_EPOCH" "$(mtime_of "$T/back")" "the top's mtime here"

# --- --no-perms: default modes; mtimes are still kept.
chmod 600 "$SRC/top.txt"
wput $U "$P" -r --no-perms "$SRC" /np
assert_exit 23 "put -r --no-perms (links still skipped)"
assert_eq 755 "$(mode_of "$ROOT/np/private")" "--no-perms: default folder mode"
assert_eq 644 "$(mode_of "$ROOT/np/top.txt")" "--no-perms: default file mode"
assert_eq "$OLD_EPOCH" "$(mtime_of "$ROOT/np/private")" "mtimes kept anyway"
wput $U "$P" -r -p "$SRC" /withp
assert_eq 600 "$(mode_of "$ROOT/withp/top.txt")" "-p keeps the file mode"
chmod 644 "$SRC/top.txt"

# --- -l: safe links kept, unsafe ones refused by the server, reported.
wput $U "$P" -r -l "$SRC" /links
assert_exit 23 "put -r -l with two unsafe links"
assert_eq top.txt "$(readlink "$ROOT/links/good")" "a safe link is kept"
assert_eq ../top.txt "$(readlink "$ROOT/links/pub/up")" "a safe ../ link"
assert_eq ../pub "$(readlink "$ROOT/links/private/pubdir")" "a folder link"
for l in pub/abs pub/climb; do
	assert_no_file "$ROOT/links/$l" "the unsafe link $l is not made"
	assert_contains "$ERR" "skipped symbolic link /links/$l: unsafe" \
		"the unsafe link $l is reported"
done
assert_contains "$ERR" "2 symbolic links skipped" "the closing count"
assert_eq 700 "$(mode_of "$ROOT/links/private")" "modes kept with -l too"
assert_eq "$OLD_EPOCH" "$(mtime_of "$ROOT/links/pub")" \
	"a folder's mtime survives the links made in it"

# Downloads: a safe link is made here; one the server holds that leads
# out of its root is never reported, and one that leaves the downloaded
# tree (but not the root) is not made either.
ln -s "$T/outside" "$ROOT/links/pub/escape"
ln -s ../../plain/top.txt "$ROOT/links/pub/above"
give_tree "$ROOT"
wget1 $U "$P" -r -l /links "$T/dl"
assert_exit 23 "get -r -l with unsafe links on the server"
assert_eq top.txt "$(readlink "$T/dl/good")" "get -l makes the safe link"
assert_eq ../pub "$(readlink "$T/dl/private/pubdir")" "and the folder link"
assert_no_file "$T/dl/pub/escape" "a link out of the root is not made"
assert_no_file "$T/dl/pub/above" "a link out of the tree is not made"
assert_contains "$ERR" "skipped symbolic link /links/pub/escape: unsafe" \
	"the escaping link is reported"
assert_contains "$ERR" "skipped symbolic link /links/pub/above: unsafe" \
	"the link above the tree is reported"
assert_eq 700 "$(mode_of "$T/dl/private")" "modes kept on get -l"

# Default get of the same tree: links skipped and named, exit 23.
wget1 $U "$P" -r /links "$T/dl2"
assert_exit 23 "get -r default with links on the server"
assert_contains "$ERR" "skipped symbolic link /links/good" "names good"
assert_no_file "$T/dl2/good" "no link made by default"
assert_same "$SRC/top.txt" "$T/dl2/top.txt" "files still arrive"

# --- -L: what links point to, as files and folders.
rm -f "$SRC/pub/abs" "$SRC/pub/climb"
ln -s "$T/outside" "$SRC/pub/out"
touch -h -d "$OLD" "$SRC/pub"
wput $U "$P" -r -L "$SRC" /follow
assert_exit 0 "put -r -L"
assert_same "$SRC/top.txt" "$ROOT/follow/good" "a file link became a file"
[ -L "$ROOT/follow/good" ] && fail "put -L made a link"
assert_same "$SRC/pub/p.txt" "$ROOT/follow/private/pubdir/p.txt" \
	"a folder link became a folder"
assert_same "$T/outside/o.txt" "$ROOT/follow/pub/out/o.txt" \
	"-L follows links out of the tree, as rsync -L does"
wget1 $U "$P" -r -L /links "$T/dlL"
assert_exit 23 "get -r -L: the links out of the root cannot be followed"
assert_same "$SRC/top.txt" "$T/dlL/good" "get -L: a file link is a file"
[ -L "$T/dlL/good" ] && fail "get -L made a link"
assert_same "$SRC/pub/p.txt" "$T/dlL/private/pubdir/p.txt" \
	"get -L: a folder link is a folder"
assert_contains "$ERR" "skipped symbolic link /links/pub/escape" \
	"get -L: the link out of the root is reported"

# Special files are not silently missing either.
mkdir -p "$T/spec"
printf 'x\n' >"$T/spec/f"
mkfifo "$T/spec/pipe"
wput $U "$P" -r "$T/spec" /spec
assert_exit 23 "put -r of a tree with a FIFO"
assert_contains "$ERR" "skipped $T/spec/pipe: not a regular file" "named"
assert_contains "$ERR" "1 special file" "counted"
mkfifo "$ROOT/spec/rpipe"
give_tree "$ROOT"
wget1 $U "$P" -r /spec "$T/specdown"
assert_exit 23 "get -r of a tree with a FIFO on the server"
assert_contains "$ERR" "skipped /spec/rpipe: not a regular file" "named"
assert_same "$T/spec/f" "$T/specdown/f" "the file still arrives"

# A loop of links under -L ends, reported, instead of running forever.
mkdir -p "$T/loop/a"
ln -s .. "$T/loop/a/back"
wput $U "$P" -r -L "$T/loop" /loop
assert_exit 23 "put -r -L of a link loop"
assert_contains "$ERR" "nest too deep" "the loop is reported"

stop_server
finish
