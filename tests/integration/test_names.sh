#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# File names beyond plain ASCII words: spaces, quotes, ';', backslashes,
# UTF-8, names the server cannot show as text, and the longest names a
# path may hold. Each is made or found on disk, and listed back exactly.
. "$(dirname "$0")/lib.sh"

add_user carol 'carol pw'
start_server
U=carol
P='carol pw'

# --- making them: the -c line is split like a shell would
wharf_c $U "$P" "mkdir 'my dir'; mkdir \"two  spaces\"; mkdir 'Grüße 日本語 ✓'; mkdir with\\ backslash; mkdir \"it's\""
assert_exit 0 "mkdir of names with spaces, quotes and UTF-8"
assert_dir_exists "$ROOT/my dir"
assert_dir_exists "$ROOT/two  spaces"
assert_dir_exists "$ROOT/Grüße 日本語 ✓"
assert_dir_exists "$ROOT/with backslash"
assert_dir_exists "$ROOT/it's"

wharf_c $U "$P" "mkdir 'semi;colon'"
assert_exit 0 "a quoted ';' does not split the commands"
assert_dir_exists "$ROOT/semi;colon"

wharf_c $U "$P" "mkdir 'unbalanced"
assert_exit 2 "unbalanced quotes are a usage error"
assert_no_file "$ROOT/unbalanced"
assert_no_file "$ROOT/'unbalanced"

printf "mkdir 'from batch; still one'\n" >"$T/names.batch"
wharf_b $U "$P" "$T/names.batch"
assert_exit 0 "a batch line with a quoted ';'"
assert_dir_exists "$ROOT/from batch; still one"

# --- using them
printf 'u' >"$ROOT/my dir/ünï cødé.txt"
wharf_c $U "$P" "cd 'my dir'; pwd; ls; stat 'ünï cødé.txt'; mv 'ünï cødé.txt' '/Grüße 日本語 ✓'"
assert_exit 0 "cd, ls, stat, mv with such names"
assert_eq "$(printf '/my dir\nünï cødé.txt')" \
	"$(printf '%s\n' "$OUT" | head -n 2)" "pwd and ls with a space"
assert_contains "$OUT" "Path: /my dir/ünï cødé.txt"
assert_file_exists "$ROOT/Grüße 日本語 ✓/ünï cødé.txt"
assert_no_file "$ROOT/my dir/ünï cødé.txt"

wharf_c $U "$P" "ls"
assert_exit 0
assert_contains "$OUT" "Grüße 日本語 ✓" "UTF-8 names listed as they are"
assert_contains "$OUT" "it's"

wharf_c $U "$P" "rmdir 'two  spaces' 'semi;colon' \"it's\""
assert_exit 0 "rmdir of several such names"
assert_no_file "$ROOT/two  spaces"
assert_no_file "$ROOT/semi;colon"
assert_no_file "$ROOT/it's"

# Names the server cannot show as text are left out, not sent, and the
# server says so in its log.
mkdir "$ROOT/odd"
: >"$ROOT/odd/good"
: >"$ROOT/odd/$(printf 'bad\377name')"
: >"$ROOT/odd/$(printf 'new\nline')"
: >"$ROOT/odd/$(printf 'esc\033[31mred')"
wharf_c $U "$P" "ls -a odd"
assert_exit 0 "ls of a directory with non-UTF-8 and control names"
assert_eq good "$OUT" "only the clean name is listed"
assert_match "$(cat "$LOG")" 'not listing name="[^ ]*" in path="/odd"'
server_alive

# --- exactly what is on disk comes back (checked last: these show the
# client's display limits, see the report)
LONGNAME=$(printf 'L%.0s' $(seq 1 250))
UTF8NAME=$(printf 'é%.0s' $(seq 1 120)) # 240 bytes
QUOTED='say "hi"'
mkdir "$ROOT/show"
: >"$ROOT/show/$LONGNAME"
: >"$ROOT/show/$UTF8NAME"
: >"$ROOT/show/$QUOTED"
wharf_c $U "$P" "ls show"
assert_exit 0 "ls of long and quoted names"
assert_eq "$(ls "$ROOT/show" | sort)" "$OUT" \
	"ls shows long names and double quotes exactly as on disk"

mkdir -p "$ROOT/$LONGNAME/$LONGNAME"
wharf_c $U "$P" "cd $LONGNAME/$LONGNAME; pwd"
assert_exit 0 "cd into a deep path"
assert_eq "/$LONGNAME/$LONGNAME" "$OUT" "pwd shows the whole path"

wharf_c $U "$P" "stat 'show/$QUOTED'"
assert_exit 0 "stat of a quoted name"
assert_contains "$OUT" "Path: /show/$QUOTED" "stat shows the path as it is"

stop_server
finish
