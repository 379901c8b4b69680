#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Remote file operations through the real server: each one is checked on
# disk in the served root, by exit status, and by what the client prints.
. "$(dirname "$0")/lib.sh"

add_user alice 'alice pw'
start_server
U=alice
P='alice pw'

# --- mkdir, mkdir -p
wharf_c $U "$P" "mkdir docs; mkdir -p a/b/c"
assert_exit 0 "mkdir and mkdir -p"
assert_dir_exists "$ROOT/docs"
assert_dir_exists "$ROOT/a/b/c"
assert_eq 755 "$(stat -c %a "$ROOT/docs")" "mode of a new directory"
assert_contains "$ERR" "pinned host key" "first connection pins the key"

wharf_c $U "$P" "mkdir docs"
assert_exit 1 "mkdir of an existing directory"
assert_contains "$ERR" "wharf: mkdir docs: already exists"

wharf_c $U "$P" "mkdir -p a/b/c; mkdir -p a"
assert_exit 0 "mkdir -p of existing directories"

wharf_c $U "$P" "mkdir x/y"
assert_exit 1 "mkdir with a missing parent"
assert_contains "$ERR" "wharf: mkdir x/y: " "the error names the path"
assert_contains "$ERR" "no such directory"
assert_no_file "$ROOT/x"

: >"$ROOT/plain"
wharf_c $U "$P" "mkdir -p plain/sub"
assert_exit 1 "mkdir -p through a file"
assert_contains "$ERR" "wharf: mkdir plain/sub: "
assert_no_file "$ROOT/plain/sub"
rm "$ROOT/plain"

# --- ls: sorted, -l with mode and size, -a for dotfiles
printf 'hello' >"$ROOT/docs/b.txt"
printf '0123456789' >"$ROOT/docs/a.txt"
printf 'x' >"$ROOT/docs/C.txt"
chmod 640 "$ROOT/docs/a.txt"
chmod 604 "$ROOT/docs/b.txt"
printf 'secret' >"$ROOT/docs/.hidden"
mkdir "$ROOT/docs/zdir"
wharf_c $U "$P" "ls docs"
assert_exit 0 "ls"
assert_eq "$(printf 'C.txt\na.txt\nb.txt\nzdir')" "$OUT" \
	"ls is sorted (bytewise) and hides dotfiles"

wharf_c $U "$P" "ls -a docs"
assert_exit 0 "ls -a"
assert_eq "$(printf '.hidden\nC.txt\na.txt\nb.txt\nzdir')" "$OUT" \
	"ls -a shows dotfiles, never . or .."

wharf_c $U "$P" "ls -l docs"
assert_exit 0 "ls -l"
assert_match "$OUT" '^-rw-r----- +10 [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} a\.txt$' \
	"ls -l shows mode and size of a.txt"
assert_match "$OUT" '^-rw----r-- +5 .* b\.txt$' "ls -l of b.txt"
assert_match "$OUT" '^drwxr-xr-x +0 .* zdir/$' "ls -l marks directories"
assert_eq 4 "$(printf '%s\n' "$OUT" | wc -l)" "ls -l line count"

wharf_c $U "$P" "ls -la docs"
assert_exit 0 "ls -la"
assert_match "$OUT" '^-rw-r--r-- +6 .* \.hidden$' "ls -la shows dotfiles"

# Times and sizes are the file's own: a date long ago, a 5 GiB sparse file.
touch -d '2001-02-03 04:05:06 UTC' "$ROOT/docs/C.txt"
truncate -s 5G "$ROOT/docs/huge.bin"
wharf_c $U "$P" "ls -l docs; stat docs/C.txt; stat docs/huge.bin"
assert_exit 0 "ls -l and stat of dated and huge files"
assert_match "$OUT" '^-rw-r--r-- +1 2001-02-03 04:05 C\.txt$' "mtime in ls -l"
assert_match "$OUT" '^-rw-r--r-- +5368709120 .* huge\.bin$' "64-bit size in ls -l"
assert_contains "$OUT" "Modified: 2001-02-03 04:05:06 +0000" "mtime in stat"
assert_contains "$OUT" "Size: 5368709120" "64-bit size in stat"
rm "$ROOT/docs/huge.bin"

wharf_c $U "$P" "ls docs/a.txt"
assert_exit 0 "ls of a file"
assert_eq "a.txt" "$OUT" "ls of a file lists the file"

wharf_c $U "$P" "ls nosuch"
assert_exit 1 "ls of a missing path"
assert_contains "$ERR" "wharf: ls nosuch: "

wharf_c $U "$P" "ls -z"
assert_exit 2 "ls with an unknown flag"

# --- cd, pwd, relative paths
wharf_c $U "$P" "pwd; cd a/b; pwd; mkdir rel; cd c; pwd; cd ..; pwd; cd /; pwd; cd docs; ls"
assert_exit 0 "cd and pwd"
assert_eq "$(printf '/\n/a/b\n/a/b/c\n/a/b\n/\nC.txt\na.txt\nb.txt\nzdir')" \
	"$OUT" "pwd after each cd, and ls relative to the cwd"
assert_dir_exists "$ROOT/a/b/rel" "mkdir relative to the cwd"
assert_no_file "$ROOT/rel"

wharf_c $U "$P" "cd nosuch"
assert_exit 1 "cd to a missing directory"
assert_contains "$ERR" "wharf: cd nosuch: no such directory"

wharf_c $U "$P" "cd docs/a.txt"
assert_exit 1 "cd to a file"
assert_contains "$ERR" "wharf: cd docs/a.txt: "

# --- stat
wharf_c $U "$P" "stat docs/a.txt"
assert_exit 0 "stat of a file"
assert_contains "$OUT" "Path: /docs/a.txt"
assert_contains "$OUT" "Type: file"
assert_contains "$OUT" "Size: 10"
assert_contains "$OUT" "Mode: 0640 (-rw-r-----)"
assert_match "$OUT" '^Modified: [0-9]{4}-[0-9]{2}-[0-9]{2} '

wharf_c $U "$P" "cd docs; stat zdir"
assert_exit 0 "stat of a directory, relative"
assert_contains "$OUT" "Path: /docs/zdir"
assert_contains "$OUT" "Type: directory"

wharf_c $U "$P" "stat /"
assert_exit 0 "stat of the root"
assert_contains "$OUT" "Path: /"

wharf_c $U "$P" "stat nosuch"
assert_exit 1 "stat of a missing path"
assert_contains "$ERR" "wharf: stat nosuch: "

# --- mv: rename, into a directory, never over an existing file
wharf_c $U "$P" "mv docs/b.txt docs/renamed.txt"
assert_exit 0 "mv rename"
assert_no_file "$ROOT/docs/b.txt"
assert_eq hello "$(cat "$ROOT/docs/renamed.txt")" "renamed file content"

wharf_c $U "$P" "mv docs/renamed.txt docs/zdir"
assert_exit 0 "mv into a directory"
assert_no_file "$ROOT/docs/renamed.txt"
assert_eq hello "$(cat "$ROOT/docs/zdir/renamed.txt")" "moved file"

wharf_c $U "$P" "mv a/b/rel /"
assert_exit 0 "mv a directory into the root"
assert_dir_exists "$ROOT/rel"
assert_no_file "$ROOT/a/b/rel"

printf 'keep me' >"$ROOT/docs/target.txt"
wharf_c $U "$P" "mv docs/a.txt docs/target.txt"
assert_exit 1 "mv onto an existing file"
assert_contains "$ERR" "wharf: mv docs/a.txt: destination exists"
assert_eq "keep me" "$(cat "$ROOT/docs/target.txt")" "target untouched"
assert_eq 0123456789 "$(cat "$ROOT/docs/a.txt")" "source untouched"

printf 'inner' >"$ROOT/docs/zdir/a.txt"
wharf_c $U "$P" "mv docs/a.txt docs/zdir"
assert_exit 1 "mv into a directory that has that name already"
assert_eq inner "$(cat "$ROOT/docs/zdir/a.txt")" "file in the directory kept"
assert_eq 0123456789 "$(cat "$ROOT/docs/a.txt")" "source kept"
rm "$ROOT/docs/zdir/a.txt"

wharf_c $U "$P" "mv a a/b"
assert_exit 1 "mv a directory into itself"
assert_dir_exists "$ROOT/a/b/c"

wharf_c $U "$P" "mv nosuch x"
assert_exit 1 "mv of a missing file"
assert_no_file "$ROOT/x"

wharf_c $U "$P" "mv onlyone"
assert_exit 2 "mv with one argument"

# --- rmdir, rm
mkdir "$ROOT/empty"
wharf_c $U "$P" "rmdir empty"
assert_exit 0 "rmdir of an empty directory"
assert_no_file "$ROOT/empty"

wharf_c $U "$P" "rmdir a"
assert_exit 1 "rmdir of a non-empty directory"
assert_contains "$ERR" "wharf: rmdir a: directory not empty"
assert_dir_exists "$ROOT/a/b/c"

wharf_c $U "$P" "rmdir docs/a.txt"
assert_exit 1 "rmdir of a file"
assert_file_exists "$ROOT/docs/a.txt"

wharf_c $U "$P" "rmdir /"
assert_exit 1 "rmdir of the root"
assert_dir_exists "$ROOT"

wharf_c $U "$P" "rm docs/target.txt"
assert_exit 0 "rm of a file"
assert_no_file "$ROOT/docs/target.txt"

wharf_c $U "$P" "rm docs/zdir"
assert_exit 1 "rm of a directory"
assert_contains "$ERR" "wharf: rm docs/zdir: is a directory"
assert_dir_exists "$ROOT/docs/zdir"
assert_file_exists "$ROOT/docs/zdir/renamed.txt"

wharf_c $U "$P" "rm docs/nosuch"
assert_exit 1 "rm of a missing file"
assert_contains "$ERR" "wharf: rm docs/nosuch: "

wharf_c $U "$P" "rm /"
assert_exit 1 "rm of the root"

# A symlink is removed itself; its target stays.
printf 'target' >"$ROOT/docs/linked.txt"
ln -s linked.txt "$ROOT/docs/link"
wharf_c $U "$P" "rm docs/link"
assert_exit 0 "rm of a symlink"
assert_no_file "$ROOT/docs/link"
assert_eq target "$(cat "$ROOT/docs/linked.txt")" "link target kept"

# --- a directory too big for one frame is streamed whole
mkdir "$ROOT/big"
for i in $(seq -w 1 1000); do
	: >"$ROOT/big/file-$i-with-a-longish-name-to-fill-frames"
done
wharf_c $U "$P" "ls big"
assert_exit 0 "ls of 1000 files"
assert_eq 1000 "$(printf '%s\n' "$OUT" | wc -l)" "all 1000 names listed"
assert_eq "$(ls "$ROOT/big" | sort)" "$OUT" "listing matches the disk, sorted"
wharf_c $U "$P" "ls -l big; pwd"
assert_exit 0 "ls -l of 1000 files, then another command"
assert_eq 1001 "$(printf '%s\n' "$OUT" | wc -l)" "1000 long lines and pwd"
assert_eq / "$(printf '%s\n' "$OUT" | tail -n 1)" \
	"the session goes on after a streamed listing"

# --- the log names each operation
assert_match "$(cat "$LOG")" 'user=alice op=mkdir path="/docs" result=ok ms=[0-9.]+$'
assert_match "$(cat "$LOG")" 'op=rmdir path="/a" result=NOT_EMPTY'

stop_server
finish
