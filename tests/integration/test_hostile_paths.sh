#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Paths that try to leave the served root, through the real server: "..",
# absolute tricks, symlinks planted in the root, over-long names. Each is
# refused or confined, and a directory beside the root (with a marker
# file) is proven unchanged by a checksum taken before and after.
. "$(dirname "$0")/lib.sh"

ROOT=$T/srv/root
OUTSIDE=$T/srv/outside
mkdir -p "$ROOT/sub/deeper" "$OUTSIDE/dir"
printf 'do not touch\n' >"$OUTSIDE/marker"
printf 'also private\n' >"$OUTSIDE/dir/file"
printf 'inside\n' >"$ROOT/sub/inner.txt"
# Planted by the test, as an admin with shell access might.
ln -s /etc "$ROOT/evil"
ln -s ../outside "$ROOT/evil2"
ln -s ../outside/marker "$ROOT/evil_file"
ln -s /etc/passwd "$ROOT/passwd_link"
ln -s "$OUTSIDE" "$ROOT/sub/abs_outside"
ln -s sub "$ROOT/good_link"

add_user mallory 'mallory pw'
start_server
U=mallory
P='mallory pw'

OUTSIDE_SUM=$(tree_sum "$OUTSIDE")
ETC_PASSWD_SUM=$(sha256sum /etc/passwd | cut -d' ' -f1)
ROOT_SUM=$(tree_sum "$ROOT")

# refused CMD WHAT: CMD must fail with exit 1 and change nothing.
refused() {
	wharf_c $U "$P" "$1"
	assert_exit 1 "$2 ($1)"
	assert_eq "$OUTSIDE_SUM" "$(tree_sum "$OUTSIDE")" \
		"outside unchanged after: $1"
	assert_eq "$ROOT_SUM" "$(tree_sum "$ROOT")" \
		"root unchanged after: $1"
	assert_not_contains "$OUT" "marker" "nothing outside listed: $1"
	assert_not_contains "$OUT" "root:" "no /etc content shown: $1"
}

# --- ".." and absolute tricks
refused "mkdir ../escape" "mkdir above the root"
assert_contains "$ERR" "wharf: mkdir ../escape: invalid path"
assert_no_file "$T/srv/escape"
refused "mkdir ../../tmp/x" "mkdir far above the root"
refused "mkdir /../x" "mkdir of /../x"
assert_no_file "$T/srv/x"
refused "mkdir -p ../outside/new" "mkdir -p into the sibling"
refused "mkdir sub/../../outside/new" ".. that climbs out mid-path"
refused "cd .." "cd above the root"
refused "cd ../.." "cd two above the root"
refused "cd sub; cd ../.." "cd above the root from a subdirectory"
refused "ls ../.." "ls above the root"
refused "ls .." "ls of the parent of the root"
refused "ls ../outside" "ls of the sibling by name"
refused "stat ../outside/marker" "stat outside"
refused "rm ../outside/marker" "rm outside"
refused "rmdir ../outside/dir" "rmdir outside"
refused "mv ../outside/marker stolen" "mv from outside"
refused "mv sub/inner.txt ../outside/" "mv to outside"
refused "mv sub ../sub2" "mv a directory to outside"
refused "cd sub; mv inner.txt ../../inner.txt" "relative mv to outside"

# "." and ".." that stay inside are fine, and "/" is the root.
wharf_c $U "$P" "cd sub/deeper; cd ..; pwd; cd ../sub/./deeper/..; pwd; cd /..//./; pwd; ls /sub/../sub"
assert_exit 1 "/.. is refused even where it would end at the root"
wharf_c $U "$P" "cd sub/deeper; cd ..; pwd; cd ../sub/./deeper/..; pwd; cd //sub//; pwd; ls /sub/../sub"
assert_exit 0 "dots that stay inside"
assert_eq "$(printf '/sub\n/sub\n/sub\nabs_outside\ndeeper\ninner.txt')" "$OUT" \
	"normalised paths"

# --- symlinks planted in the root
refused "ls evil" "ls through a symlink to /etc"
refused "ls evil/" "ls through a symlink to /etc with a slash"
refused "cd evil" "cd through a symlink to /etc"
refused "stat evil/passwd" "stat through a symlink to /etc"
refused "mkdir evil/x" "mkdir through a symlink to /etc"
refused "mkdir -p evil/x/y" "mkdir -p through a symlink to /etc"
refused "rm evil/passwd" "rm through a symlink to /etc"
refused "rmdir evil/ssl" "rmdir through a symlink to /etc"
refused "mv evil/passwd stolen" "mv from /etc through a symlink"
refused "ls evil2" "ls through a relative symlink to the sibling"
refused "cd evil2" "cd through a relative symlink to the sibling"
refused "ls evil2/dir" "ls beneath a relative symlink to the sibling"
refused "mkdir evil2/x" "mkdir through a relative symlink"
refused "rm evil2/marker" "rm through a relative symlink"
refused "rmdir evil2/dir" "rmdir through a relative symlink"
refused "mv evil2/marker x" "mv from outside through a symlink"
assert_no_file "$ROOT/x"
refused "mv sub/inner.txt evil2/inner.txt" "mv to outside through a symlink"
refused "mv sub/inner.txt evil2" "mv onto a symlink to a directory outside"
refused "mv sub evil2/" "mv a directory to outside through a symlink"
refused "stat evil_file" "stat of a symlink to a file outside"
refused "ls evil_file" "ls of a symlink to a file outside"
refused "stat passwd_link" "stat of a symlink to /etc/passwd"
refused "ls sub/abs_outside" "ls through an absolute symlink in a subdir"
refused "mkdir sub/abs_outside/new" "mkdir through an absolute symlink"
refused "cd sub; ls abs_outside" "relative ls through an absolute symlink"

# A listing shows the links themselves, not what they point at.
wharf_c $U "$P" "ls -l"
assert_exit 0 "ls -l of a root holding symlinks"
assert_match "$OUT" '^l[-rwx]{9} +0 .* evil$' "evil listed as a symlink"
assert_match "$OUT" '^l[-rwx]{9} +0 .* evil2$' "evil2 listed as a symlink"
assert_eq "$OUTSIDE_SUM" "$(tree_sum "$OUTSIDE")" "outside unchanged"

# A symlink that stays inside the root may be followed.
if grep -q "openat2 unavailable" "$LOG"; then
	skip "openat2 unavailable: in-root symlinks are not followed here"
else
	wharf_c $U "$P" "ls good_link; cd good_link; pwd; stat inner.txt; mkdir -p /good_link/made/here"
	assert_exit 0 "a symlink that stays inside the root"
	assert_contains "$OUT" "inner.txt"
	assert_dir_exists "$ROOT/sub/made/here" "mkdir -p through it"
	rm -r "$ROOT/sub/made"
fi

# Removing a planted link removes the link only.
wharf_c $U "$P" "rm evil2; rm passwd_link"
assert_exit 0 "rm of the symlinks themselves"
assert_no_file "$ROOT/evil2"
assert_no_file "$ROOT/passwd_link"
assert_eq "$OUTSIDE_SUM" "$(tree_sum "$OUTSIDE")" \
	"outside unchanged after removing the link to it"
assert_eq "$ETC_PASSWD_SUM" "$(sha256sum /etc/passwd | cut -d' ' -f1)" \
	"/etc/passwd unchanged"
ROOT_SUM=$(tree_sum "$ROOT")

# --- over-long names and paths
NAME255=$(printf 'n%.0s' $(seq 1 255))
NAME256=$(printf 'm%.0s' $(seq 1 256))
NAME300=$(printf 'q%.0s' $(seq 1 300))
refused "mkdir $NAME300" "a 300-byte name"
assert_contains "$ERR" "invalid path"
assert_eq 0 "$(find "$ROOT" -name 'qqq*' | wc -l)" "no 300-byte name made"
refused "mkdir $NAME256" "a 256-byte name"
refused "mkdir -p sub/$NAME300/x" "a 300-byte name in the middle of a path"
refused "cd sub; mkdir $NAME300" "a 300-byte name relative to the cwd"
refused "mv sub/inner.txt sub/$NAME300" "mv to a 300-byte name"
refused "ls $NAME300" "ls of a 300-byte name"
refused "stat $NAME300" "stat of a 300-byte name"
refused "cd $NAME300" "cd to a 300-byte name"
assert_eq 0 "$(find "$ROOT" -name 'mmm*' | wc -l)" "no 256-byte name made"

wharf_c $U "$P" "mkdir $NAME255"
assert_exit 0 "a 255-byte name is allowed"
assert_dir_exists "$ROOT/$NAME255"
wharf_c $U "$P" "rmdir $NAME255"
assert_exit 0 "rmdir of a 255-byte name"
assert_no_file "$ROOT/$NAME255"
ROOT_SUM=$(tree_sum "$ROOT")

# A path of more than 4096 bytes made of allowed 203-byte names is
# refused whole; one just under the limit is made.
LONG=
for i in $(seq 1 21); do
	LONG="$LONG/$(printf 'd%02d%0200d' "$i" 0)"
done
refused "mkdir -p $LONG" "a path longer than 4096 bytes"
refused "ls $LONG" "ls of a path longer than 4096 bytes"
assert_no_file "$ROOT/d01$(printf '%0200d' 0)" "no part of it made"
wharf_c $U "$P" "mkdir -p ${LONG:0:4080}"
assert_exit 0 "a 4080-byte path is allowed"
# Too long for stat(2) from here: find walks it relative to each dir.
assert_eq 1 "$(find "$ROOT" -mindepth 20 -maxdepth 20 -type d \
	-name 'd20*' | wc -l)" "all 20 levels made"
wharf_c $U "$P" "cd ${LONG:0:4080}; mkdir $(printf 'z%0200d' 0)"
assert_exit 1 "a name that takes the joined path past 4096 bytes"
assert_contains "$ERR" "invalid path"
assert_eq 0 "$(find "$ROOT" -name 'z000*' | wc -l)" "nothing made"
rm -rf "$ROOT/d01$(printf '%0200d' 0)"
ROOT_SUM=$(tree_sum "$ROOT")

# Control characters in a name are refused, not created.
refused "mkdir $(printf "'bad\tname'")" "a name with a tab"
refused "mkdir $(printf "'esc\033name'")" "a name with an escape"

refused "mkdir $(printf "'a\n2030-01-01T00:00:00.000Z INFO forged'")" \
	"a name with a newline"
assert_eq 0 "$(grep -c '^2030-01-01' "$LOG")" "no forged log line"
BAD=$(grep -Ev -- "$LOG_LINE_RE" "$LOG")
assert_eq "" "$BAD" "every log line starts with a timestamp"

# The server is still there and still serving.
wharf_c $U "$P" "ls sub"
assert_exit 0 "the server still serves"
assert_eq "$(printf 'abs_outside\ndeeper\ninner.txt')" "$OUT"
assert_eq "$OUTSIDE_SUM" "$(tree_sum "$OUTSIDE")" "outside unchanged at the end"
assert_eq "$ETC_PASSWD_SUM" "$(sha256sum /etc/passwd | cut -d' ' -f1)" \
	"/etc/passwd unchanged at the end"
assert_no_file "$T/srv/escape"
assert_no_file "$T/srv/x"
assert_no_file "$T/srv/sub2"
assert_no_file "$T/srv/inner.txt"
assert_no_file "/tmp/x/.wharf-test-should-not-exist"

# --- no answer may depend on what lies outside (checked last: see the
# report). "mkdir -p LINK" must not look through a link that leaves the
# root: a link to /etc and a link to nothing get the same refusal.
ln -s /nonexistent "$ROOT/dangling"
ROOT_SUM=$(tree_sum "$ROOT")
refused "mkdir -p dangling" "mkdir -p of a dangling symlink"
DANGLING_ERR=$ERR
refused "mkdir -p evil" "mkdir -p of a symlink to a directory outside"
assert_eq "${DANGLING_ERR/dangling/evil}" "$ERR" \
	"the same answer whatever the outside target is"

stop_server
finish
