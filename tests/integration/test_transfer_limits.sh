#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Transfers that must be refused, and refused cleanly: over the server's
# --max-file-size (TOO_LARGE before any data moves), by a read-only user,
# of missing files on either side, of a directory without -r, into a
# remote folder that does not exist, and to hostile remote paths that
# climb out of the served root. Each refusal exits 1 with a message that
# says why, and leaves nothing behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer_lib.sh"

U=erin
P='erin pw'
RO=reader
RP='reader pw'
add_user $U "$P"
add_user $RO "$RP" --read-only

# The root sits two levels down in a jail folder of its own, so that a
# path that climbed out of it ("../../x") would still land in $T, where
# this test can see it.
JAIL=$T/jail
ROOT=$JAIL/a/root
mkdir -p "$ROOT"
start_server --max-file-size 1M

S=$T/src
mkdir -p "$S" "$T/dl"
rand_file "$S/two_mib.bin" $((2 * MiB))
rand_file "$S/just_over.bin" $((MiB + 1))
rand_file "$S/exactly.bin" $MiB
rand_file "$S/small.bin" $((500 * 1024))

# --- --max-file-size 1M: 2 MiB and 1 MiB + 1 are refused before any data
# moves; exactly 1 MiB and 500 KiB are fine.
for f in two_mib.bin just_over.bin; do
	size=$(fsize "$S/$f")
	wput $U "$P" "$S/$f" "$f"
	assert_exit 1 "put of $size bytes over --max-file-size 1M"
	assert_contains "$ERR" "1048576" "the refusal names the limit"
	assert_contains "$ERR" "$size" "the refusal names the file's size"
	assert_match "$ERR" "wharf: put $S/$f: .*at most" \
		"the refusal says what the limit is"
	assert_no_file "$ROOT/$f" "a refused upload creates no file"
	part=$ROOT/.$f.wharf-part
	[ ! -e "$part" ] || [ "$(fsize "$part")" = 0 ] ||
		fail "a refused upload left a partial of $(fsize "$part") bytes"
	pass
	wait_log "op=put path=\"/$f\" result=TOO_LARGE" 10 ||
		fail "the server did not log the refusal of $f as TOO_LARGE"
	pass
	line=$(last_log "op=put path=\"/$f\" result=TOO_LARGE")
	assert_eq 0 "$(log_field wire "$line")" "no data moved for $f (wire=0)"
	assert_eq "$size" "$(log_field size "$line")" "the log has the size"
	assert_eq 0 "$(log_field bytes "$line")" "and no bytes moved"
done
for f in exactly.bin small.bin; do
	wput $U "$P" "$S/$f" "$f"
	assert_exit 0 "put of $(fsize "$S/$f") bytes under --max-file-size 1M"
	assert_same "$S/$f" "$ROOT/$f" "an upload within the limit"
done
# In a tree the file over the limit fails, the others still arrive.
mkdir -p "$S/tree"
cp "$S/small.bin" "$S/two_mib.bin" "$S/tree/"
wput $U "$P" -r "$S/tree" tree
assert_exit 1 "put -r with one file over the limit"
assert_same "$S/small.bin" "$ROOT/tree/small.bin" "the file within the limit"
assert_no_file "$ROOT/tree/two_mib.bin" "the file over the limit"
assert_contains "$ERR" "1048576"

# --- a read-only user can get but not put.
SUM_BEFORE=$(tree_sum "$ROOT")
wput $RO "$RP" "$S/small.bin" ro.bin
assert_exit 1 "put by a read-only user"
assert_match "$ERR" "wharf: put $S/small.bin: .*(permission|read-only|denied)" \
	"the refusal says why"
wput $RO "$RP" "$S/exactly.bin" ro2.bin
assert_exit 1 "put of a whole chunk by a read-only user"
wput $RO "$RP" "$S/small.bin" small.bin
assert_exit 1 "put over an existing file by a read-only user"
wput $RO "$RP" -r "$S/tree" rotree
assert_exit 1 "put -r by a read-only user"
wharf_c $RO "$RP" "put $S/small.bin ro3.bin"
settle_server
assert_exit 1 "connect -c put by a read-only user"
assert_eq "$SUM_BEFORE" "$(tree_sum "$ROOT")" \
	"a read-only user's puts change nothing on the server"
assert_eq "" "$(find "$ROOT" -name '*.wharf-part')" \
	"a read-only user's puts leave no partials"
wget1 $RO "$RP" small.bin "$T/dl/ro_small.bin"
assert_exit 0 "get by a read-only user"
assert_same "$S/small.bin" "$T/dl/ro_small.bin" "get by a read-only user"
wget1 $RO "$RP" -r tree "$T/dl/ro_tree"
assert_exit 0 "get -r by a read-only user"
assert_same "$S/small.bin" "$T/dl/ro_tree/small.bin" "get -r by a read-only user"

# --- missing files.
wget1 $U "$P" no_such.bin "$T/dl/no_such.bin"
assert_exit 1 "get of a missing remote file"
assert_contains "$ERR" "no such file"
assert_no_file "$T/dl/no_such.bin" "a failed get creates no file"
assert_no_file "$T/dl/.no_such.bin.wharf-part" "a failed get leaves no partial"
wharf_c $U "$P" "get no_such.bin $T/dl/no_such.bin"
settle_server
assert_exit 1 "connect -c get of a missing remote file"
assert_contains "$ERR" "no such file"

SUM_BEFORE=$(tree_sum "$ROOT")
wput $U "$P" "$S/no_such_local.bin" missing.bin
assert_exit 1 "put of a missing local file"
assert_contains "$ERR" "no_such_local.bin" "the error names the file"
assert_contains "$ERR" "No such file"
assert_eq "$SUM_BEFORE" "$(tree_sum "$ROOT")" \
	"a put of a missing file changes nothing on the server"
# One missing source among good ones: the others still go.
mkdir -p "$ROOT/multi"
wput $U "$P" "$S/small.bin" "$S/no_such_local.bin" multi
assert_exit 1 "put of a good and a missing file"
assert_same "$S/small.bin" "$ROOT/multi/small.bin" "the good file arrives"

# --- a directory without -r.
mkdir -p "$ROOT/adir"
cp "$S/small.bin" "$ROOT/adir/"
wget1 $U "$P" adir "$T/dl/adir"
assert_exit 1 "get of a directory without -r"
assert_contains "$ERR" "use -r"
assert_no_file "$T/dl/adir" "a refused get creates nothing"

# --- a remote folder that does not exist.
SUM_BEFORE=$(tree_sum "$ROOT")
wput $U "$P" "$S/small.bin" nodir/small.bin
assert_exit 1 "put into a missing remote folder"
assert_contains "$ERR" "no such directory"
wput $U "$P" "$S/exactly.bin" nodir/deeper/exactly.bin
assert_exit 1 "put of a whole chunk into a missing remote folder"
assert_contains "$ERR" "no such directory"
assert_eq "$SUM_BEFORE" "$(tree_sum "$ROOT")" \
	"a put into a missing folder changes nothing"
assert_no_file "$ROOT/nodir"

# --- hostile remote paths: nothing is written outside the root (nor,
# clamped, inside it under the climbing name).
printf 'outside the root\n' >"$JAIL/outside.txt"
JAIL_BEFORE=$(tree_sum "$JAIL")
for remote in ../../escape ../escape /../escape sub/../../escape \
	../../a/escape ..; do
	wput $U "$P" "$S/small.bin" "$remote"
	assert_exit 1 "put to '$remote'"
	assert_eq "" "$(find "$T" -name 'escape*')" \
		"put to '$remote' writes no file, outside the root or in it"
done
assert_contains "$ERR" "wharf: put: ..: invalid path" "the refusal says why"
wharf_c $U "$P" "put $S/exactly.bin ../../escape"
settle_server
assert_exit 1 "connect -c put to a climbing path"
assert_eq "" "$(find "$T" -name 'escape*')" \
	"connect -c put to ../../escape writes no file"
assert_eq "$JAIL_BEFORE" "$(tree_sum "$JAIL")" \
	"nothing outside the root changed"

# The same for get: nothing outside the root is read.
for remote in ../outside.txt ../../outside.txt /../../outside.txt; do
	wget1 $U "$P" "$remote" "$T/dl/stolen.txt"
	assert_exit 1 "get of '$remote'"
	assert_no_file "$T/dl/stolen.txt" "get of '$remote' fetched nothing"
done

server_alive
stop_server
finish
