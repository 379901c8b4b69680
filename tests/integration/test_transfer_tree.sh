#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Whole trees: put -r of nested folders with 500+ small random files,
# empty files and an empty folder, then get -r into a fresh folder and
# into an existing one, compared with diff -r; --exclude patterns (a base
# name glob and a path glob) on put and get; symbolic links in the local
# tree are skipped with a notice (exit 23: the tree is incomplete; more in
# test_tree_meta.sh) and never followed out of it; the server
# logs one put line per file. (The 500 files are pipelined, one round trip
# per file would still pass here: there is deliberately no timing check.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer_lib.sh"

U=bob
P='bob pw'
add_user $U "$P"
start_server

# --- the tree: 8 folders of 65 random files of 1-16 KiB (520), plus
# empty files, an empty folder, *.log files and sub/skip/*.
SRC=$T/src/tree
mkdir -p "$SRC"
dirs="a a/b a/b/c d d/e f sub sub/keep"
n=0
for d in $dirs; do
	mkdir -p "$SRC/$d"
	for i in $(seq 1 65); do
		head -c $((1024 + RANDOM % 15361)) /dev/urandom \
			>"$SRC/$d/f$i.dat" || fail "writing test data"
		n=$((n + 1))
	done
done
mkdir -p "$SRC/empty_dir" "$SRC/sub/skip" "$SRC/a/b/c/deep_empty"
: >"$SRC/empty1"
: >"$SRC/a/b/empty2"
printf 'top\n' >"$SRC/top.txt"
printf 'log 1\n' >"$SRC/one.log"
printf 'log 2\n' >"$SRC/a/b/two.log"
printf 'keep me\n' >"$SRC/sub/keep/k.txt"
printf 'skip 1\n' >"$SRC/sub/skip/s1.txt"
printf 'skip 2\n' >"$SRC/sub/skip/s2.dat"
NFILES=$(find "$SRC" -type f | wc -l)
assert_ge "$NFILES" 500 "test data: at least 500 files"
assert_ge "$n" 500 "test data: at least 500 small random files"

# Symbolic links out of the tree (a file and a folder) and one inside it.
OUTSIDE=$T/outside
mkdir -p "$OUTSIDE"
printf 'secret outside the tree\n' >"$OUTSIDE/secret.txt"
ln -s "$OUTSIDE/secret.txt" "$SRC/link_to_file"
ln -s "$OUTSIDE" "$SRC/a/link_to_dir"
ln -s ../top.txt "$SRC/d/link_inside"

# --- put -r into the remote working directory.
wput $U "$P" -r "$SRC"
assert_exit 23 "put -r of the tree, its links skipped"
for l in link_to_file a/link_to_dir d/link_inside; do
	assert_contains "$ERR" "skipped symbolic link $SRC/$l" \
		"a notice for the link $l"
	assert_no_file "$ROOT/tree/$l" "the link $l is not uploaded"
done
assert_eq "" "$(find "$ROOT" -name 'secret.txt')" \
	"nothing behind a link is uploaded"
assert_eq "$NFILES" "$(find "$ROOT/tree" -type f | wc -l)" \
	"every regular file arrived"
assert_eq "$NFILES" "$(printf '%s\n' "$OUT" | grep -c '^put ')" \
	"a summary line per file"
assert_dir_exists "$ROOT/tree/empty_dir" "an empty folder is created"
assert_dir_exists "$ROOT/tree/a/b/c/deep_empty" "a nested empty folder"
assert_eq 0 "$(fsize "$ROOT/tree/a/b/empty2")" "an empty file"
assert_eq 0 "$(find "$ROOT" -name '*.wharf-part' | wc -l)" \
	"no partials left on the server"
assert_eq "$(stat -c %a "$SRC/a/b/f7.dat")" \
	"$(stat -c %a "$ROOT/tree/a/b/f7.dat")" "file modes are kept"
assert_eq "$(stat -c %Y "$SRC/d/e/f9.dat")" \
	"$(stat -c %Y "$ROOT/tree/d/e/f9.dat")" "file mtimes are kept"
# The server logged every upload.
assert_eq "$NFILES" "$(count_log 'op=put path="/tree/.*" result=ok bytes=')" \
	"the server log has one put line per file"
assert_match "$(cat "$LOG")" 'op=put path="/tree/a/b/c/f65\.dat" result=ok bytes=[0-9]+ wire=[0-9]+ resumed=0' \
	"a put line for a nested file"

# The tree, without the links, is identical to the server's copy.
rm "$SRC/link_to_file" "$SRC/a/link_to_dir" "$SRC/d/link_inside"
diff -r "$SRC" "$ROOT/tree" >"$T/diff.out" 2>&1 ||
	fail "diff -r src and server: $(head -c 2000 "$T/diff.out")"
pass

# --- get -r into a folder that does not exist yet: it becomes the top.
wget1 $U "$P" -r tree "$T/fresh"
assert_exit 0 "get -r into a fresh folder"
diff -r "$SRC" "$T/fresh" >"$T/diff.out" 2>&1 ||
	fail "diff -r after get -r: $(head -c 2000 "$T/diff.out")"
pass
assert_dir_exists "$T/fresh/empty_dir" "get -r creates empty folders"
assert_eq 0 "$(find "$T/fresh" -name '*.wharf-part' | wc -l)" \
	"no local partials left"
assert_eq "$NFILES" "$(count_log 'op=get path="/tree/.*" result=ok bytes=')" \
	"the server log has one get line per file"
assert_eq "$(stat -c '%a %Y' "$SRC/a/f3.dat")" \
	"$(stat -c '%a %Y' "$T/fresh/a/f3.dat")" "get -r keeps modes and mtimes"

# --- get -r into an existing folder: the tree lands inside it.
mkdir "$T/existing"
wget1 $U "$P" -r tree "$T/existing"
assert_exit 0 "get -r into an existing folder"
diff -r "$SRC" "$T/existing/tree" >"$T/diff.out" 2>&1 ||
	fail "diff -r after get -r into a folder: $(head -c 2000 "$T/diff.out")"
pass

# --- put -r with excludes, to a new remote name.
wput $U "$P" -r --exclude '*.log' --exclude 'sub/skip/*' "$SRC" ex
assert_exit 0 "put -r with --exclude"
assert_eq "" "$(find "$ROOT/ex" -name '*.log')" "--exclude '*.log' on put"
assert_eq "" "$(find "$ROOT/ex/sub/skip" -type f 2>/dev/null)" \
	"--exclude 'sub/skip/*' on put"
assert_file_exists "$ROOT/ex/sub/keep/k.txt" "sub/keep is not excluded"
assert_file_exists "$ROOT/ex/a/b/f1.dat" "other files are not excluded"
assert_eq $((NFILES - 4)) "$(find "$ROOT/ex" -type f | wc -l)" \
	"exactly the 4 excluded files are left out"
diff -r -x '*.log' -x 's1.txt' -x 's2.dat' "$SRC" "$ROOT/ex" \
	>"$T/diff.out" 2>&1 ||
	fail "diff -r with excludes: $(head -c 2000 "$T/diff.out")"
pass

# --- connect -c form, into an existing remote directory.
wharf_c $U "$P" "mkdir into; put -r $SRC/a into; get -r into/a $T/cget"
settle_server
assert_exit 0 "connect -c put -r and get -r"
diff -r "$SRC/a" "$ROOT/into/a" >"$T/diff.out" 2>&1 ||
	fail "connect -c put -r: $(head -c 2000 "$T/diff.out")"
pass
diff -r "$SRC/a" "$T/cget" >"$T/diff.out" 2>&1 ||
	fail "connect -c get -r: $(head -c 2000 "$T/diff.out")"
pass

# --- a directory without -r is refused on both sides.
wput $U "$P" "$SRC" norec
assert_exit 1 "put of a folder without -r"
assert_contains "$ERR" "use -r"
assert_no_file "$ROOT/norec"

# --- several trees in one get -r: each file is fetched once.
# Checked late, with the excludes below, so that a failure here hides
# none of the rest.
mkdir "$T/two"
wget1 $U "$P" -r tree/d into/a "$T/two"
assert_exit 0 "get -r of two trees"
diff -r "$SRC/d" "$T/two/d" >"$T/diff.out" 2>&1 ||
	fail "get -r of two trees, the first: $(head -c 2000 "$T/diff.out")"
pass
diff -r "$SRC/a" "$T/two/a" >"$T/diff.out" 2>&1 ||
	fail "get -r of two trees, the second: $(head -c 2000 "$T/diff.out")"
pass
nd=$(find "$SRC/d" "$SRC/a" -type f | wc -l)
assert_eq "$nd" "$(printf '%s\n' "$OUT" | grep -c '^get ')" \
	"get -r of two trees: one summary line per file, none fetched twice"
assert_eq "$(find "$SRC/d" -type f | wc -l)" \
	"$(printf '%s\n' "$OUT" | grep -c '^get tree/d/')" \
	"get -r of two trees: the first tree's files are fetched once"

# --- get -r with the same excludes: they match the path relative to
# the top of the tree, as on put (docs/design.md, "Client destinations").
# Checked last, so that a failure here hides none of the rest.
wget1 $U "$P" -r --exclude '*.log' --exclude 'sub/skip/*' tree "$T/exget"
assert_exit 0 "get -r with --exclude"
assert_eq "" "$(find "$T/exget" -name '*.log')" "--exclude '*.log' on get"
assert_eq "" "$(find "$T/exget/sub/skip" -type f 2>/dev/null)" \
	"--exclude 'sub/skip/*' on get"
assert_eq $((NFILES - 4)) "$(find "$T/exget" -type f | wc -l)" \
	"get -r leaves out exactly the excluded files"

# A trailing slash on the remote tree changes nothing.
wget1 $U "$P" -r --exclude 'top.txt' --exclude 'sub/skip/*' tree/ "$T/exslash"
assert_exit 0 "get -r tree/ with --exclude"
assert_no_file "$T/exslash/top.txt" "--exclude 'top.txt' on get -r tree/"
assert_eq "" "$(find "$T/exslash/sub/skip" -type f 2>/dev/null)" \
	"--exclude 'sub/skip/*' on get -r tree/"
assert_file_exists "$T/exslash/a/f1.dat" "other files are fetched"

server_alive
stop_server
finish
