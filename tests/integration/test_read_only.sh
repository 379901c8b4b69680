#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# A read-only user may look (ls, stat, cd, pwd) but every change is
# refused with exit 1, and the served tree is byte-for-byte unchanged.
. "$(dirname "$0")/lib.sh"

add_user reader 'reader pw' --read-only
add_user writer 'writer pw'
start_server
U=reader
P='reader pw'

mkdir -p "$ROOT/pub/empty" "$ROOT/pub/full"
printf 'data\n' >"$ROOT/pub/file.txt"
printf 'more\n' >"$ROOT/pub/full/inner.txt"

run "$W" user list --state "$STATE"
assert_exit 0 "user list"
assert_match "$OUT" $'^reader\tro\t' "reader is listed read-only"
assert_match "$OUT" $'^writer\trw\t' "writer is listed read-write"

SUM=$(tree_sum "$ROOT")

# --- looking works
wharf_c $U "$P" "ls; ls -l pub; ls -a pub; stat pub/file.txt; cd pub; pwd; cd full; ls; cd /; pwd"
assert_exit 0 "ls, stat, cd, pwd for a read-only user"
assert_contains "$OUT" "pub"
assert_match "$OUT" '^-rw-r--r-- +5 .* file\.txt$'
assert_contains "$OUT" "Size: 5"
assert_contains "$OUT" "/pub"
assert_contains "$OUT" "inner.txt"
assert_match "$(cat "$LOG")" 'user=reader op=login result=ok rights=ro'
assert_eq "$SUM" "$(tree_sum "$ROOT")" "looking changed nothing"

# --- changing is refused
refused_ro() { # COMMANDS WHAT
	wharf_c $U "$P" "$1"
	assert_exit 1 "$2 ($1)"
	assert_contains "$ERR" "read-only user" "$2: the reason is given"
	assert_eq "$SUM" "$(tree_sum "$ROOT")" "nothing changed after: $1"
}
refused_ro "mkdir newdir" "mkdir"
assert_no_file "$ROOT/newdir"
refused_ro "mkdir -p pub/a/b" "mkdir -p"
assert_no_file "$ROOT/pub/a"
refused_ro "mkdir -p pub" "mkdir -p of an existing directory"
refused_ro "rmdir pub/empty" "rmdir of an empty directory"
assert_dir_exists "$ROOT/pub/empty"
refused_ro "rm pub/file.txt" "rm"
assert_file_exists "$ROOT/pub/file.txt"
refused_ro "mv pub/file.txt pub/moved.txt" "mv rename"
assert_no_file "$ROOT/pub/moved.txt"
refused_ro "mv pub/file.txt pub/full" "mv into a directory"
assert_no_file "$ROOT/pub/full/file.txt"
refused_ro "cd pub; rm file.txt" "rm relative to the cwd"

# A '-' line does not turn a refusal into a change.
printf -- '-mkdir x\n-rm pub/file.txt\npwd\n' >"$T/ro.batch"
wharf_b $U "$P" "$T/ro.batch"
assert_exit 0 "ignored refusals in a batch"
assert_eq "$SUM" "$(tree_sum "$ROOT")" "nothing changed by the batch"

# The same server lets a read-write user change things.
wharf_c writer 'writer pw' "mkdir made; rm pub/file.txt"
assert_exit 0 "a read-write user on the same server"
assert_dir_exists "$ROOT/made"
assert_no_file "$ROOT/pub/file.txt"

stop_server
finish
