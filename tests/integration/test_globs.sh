#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Remote patterns behave alike in one-shot commands, -c and -b (issue 19):
# get, rm, ls, sum and stat expand them on the server with sftp's rules
# (quoted or backslash-escaped glob characters are literal, a pattern that
# matches nothing is an error, exit 1). Also the one-shot forms of the
# shell's commands, df and quota (with --json), chmod, and the batch
# prefixes '@' and '-'.
. "$(dirname "$0")/lib.sh"

add_user alice 'alice pw'
add_user carol 'carol pw' --home carol --quota 1M
add_user rita 'rita pw' --read-only
start_server
U=alice
P='alice pw'
HP=$(host_port)
export WHARF_PASSWORD=$P

mkdir -p "$ROOT/proj/logs" "$ROOT/proj/old" "$ROOT/proj/new"
printf 'one\n' >"$ROOT/proj/logs/a.log"
printf 'two\n' >"$ROOT/proj/logs/b.log"
printf 'keep\n' >"$ROOT/proj/logs/c.txt"
printf 'hidden\n' >"$ROOT/proj/logs/.h.log"
printf 'star\n' >"$ROOT/proj/logs/lit*.log"
printf 'x\n' >"$ROOT/proj/old/x.log"
printf 'y\n' >"$ROOT/proj/new/y.log"
give_tree "$ROOT"

# --- one-shot get, the manual page's own example
mkdir "$T/rep"
run "$W" get "$U@$HP" '/proj/logs/*.log' "$T/rep/"
assert_exit 0 "one-shot get with a pattern"
assert_eq one "$(cat "$T/rep/a.log" 2>/dev/null)" "a.log fetched"
assert_eq two "$(cat "$T/rep/b.log" 2>/dev/null)" "b.log fetched"
assert_no_file "$T/rep/c.txt"
assert_no_file "$T/rep/.h.log"

# scp's form, and a pattern in an inner component
mkdir "$T/rep2"
run "$W" get -P "$PORT" "$U@$HOST:/proj/*/?.log" "$T/rep2"
assert_exit 0 "one-shot get HOST:PATTERN over folders"
assert_eq x "$(cat "$T/rep2/x.log" 2>/dev/null)" "inner pattern: old/x.log"
assert_eq y "$(cat "$T/rep2/y.log" 2>/dev/null)" "inner pattern: new/y.log"

run "$W" get "$U@$HP" '/proj/logs/*.nothing' "$T/rep/"
assert_exit 1 "one-shot get: no match is an error"
assert_contains "$ERR" "/proj/logs/*.nothing: no match"

# A backslash makes the star literal: only the file named lit*.log.
mkdir "$T/rep3"
run "$W" get "$U@$HP" '/proj/logs/lit\*.log' "$T/rep3/"
assert_exit 0 "one-shot get of an escaped star"
assert_eq star "$(cat "$T/rep3/lit*.log" 2>/dev/null)" "literal name"
assert_eq 1 "$(ls "$T/rep3" | wc -l)" "only the literal file"

# --- one-shot ls, stat, sum
run "$W" ls "$U@$HP" '/proj/logs/*.log'
assert_exit 0 "one-shot ls with a pattern"
assert_contains "$OUT" "/proj/logs/a.log"
assert_contains "$OUT" "/proj/logs/b.log"
assert_not_contains "$OUT" "c.txt"
run "$W" ls -P "$PORT" "$U@$HOST:/proj/logs/*.zzz"
assert_exit 1 "one-shot ls: no match"
assert_contains "$ERR" "no match"

run "$W" stat -P "$PORT" "$U@$HOST:/proj/logs/[ab].log"
assert_exit 0 "one-shot stat with a pattern"
assert_eq 2 "$(grep -c 'Path:' <<<"$OUT")" "stat: one block per match"
run "$W" stat -P "$PORT" "$U@$HOST:/proj/logs/[xy].log"
assert_exit 1 "one-shot stat: no match"

run "$W" sum --hash sha256 -P "$PORT" "$U@$HOST:/proj/logs/*.log"
assert_exit 0 "one-shot sum with a pattern"
assert_contains "$OUT" "$(printf 'one\n' | sha256sum | cut -d' ' -f1)"
assert_contains "$OUT" "$(printf 'two\n' | sha256sum | cut -d' ' -f1)"
run "$W" sum -P "$PORT" "$U@$HOST:/proj/*.none"
assert_exit 1 "one-shot sum: no match"

# --- ls options, as sftp's: -1 -a -d -h -l -r -S -t, sizes aligned
mkdir -p "$ROOT/lsd"
head -c 5 /dev/zero >"$ROOT/lsd/b"
head -c 3000 /dev/zero >"$ROOT/lsd/a"
head -c 70 /dev/zero >"$ROOT/lsd/c"
: >"$ROOT/lsd/.dot"
touch -d '2020-01-01' "$ROOT/lsd/a"
touch -d '2021-01-01' "$ROOT/lsd/c"
touch -d '2022-01-01' "$ROOT/lsd/b"
give_tree "$ROOT"
run "$W" ls "$U@$HP" -1 /lsd
assert_eq "a b c" "$(echo $OUT)" "ls -1: by name, no dot names"
run "$W" ls "$U@$HP" -1a /lsd
assert_eq ".dot a b c" "$(echo $OUT)" "ls -a"
run "$W" ls "$U@$HP" -1S /lsd
assert_eq "a c b" "$(echo $OUT)" "ls -S: largest first"
run "$W" ls "$U@$HP" -1t /lsd
assert_eq "b c a" "$(echo $OUT)" "ls -t: newest first"
run "$W" ls "$U@$HP" -1tr /lsd
assert_eq "a c b" "$(echo $OUT)" "ls -tr"
run "$W" ls "$U@$HP" -1r /lsd
assert_eq "c b a" "$(echo $OUT)" "ls -r"
run "$W" ls "$U@$HP" -ld /lsd
assert_exit 0 "ls -ld"
assert_match "$OUT" '^drwx.* /lsd/$' "ls -d: the folder itself"
assert_eq 1 "$(wc -l <<<"$OUT")" "ls -d: one line"
run "$W" ls "$U@$HP" -l /lsd
# The size column is right-aligned: every name starts at one column.
assert_eq 1 "$(awk '{ print index($0, $NF) }' <<<"$OUT" | sort -u | wc -l)" \
	"ls -l: sizes aligned"
assert_match "$OUT" '^-rw.* 3000 2020-01-01 [0-9:]+ a$'
assert_match "$OUT" '^-rw.*    5 2022-01-01 [0-9:]+ b$'
run "$W" ls "$U@$HP" -lh /lsd
assert_match "$OUT" '^-rw.* 2\.9K 2020-01-01 [0-9:]+ a$' "ls -lh"
run "$W" ls "$U@$HP" -x /lsd
assert_exit 2 "ls: unknown option"

# --- lls with options, and ! for a local command
: >"$T/.lls-dot"
wharf_c $U "$P" "lls -a $T"
assert_exit 0 "lls -a"
assert_contains "$OUT" ".lls-dot" "lls passes its options to ls"
wharf_c $U "$P" "!echo bang \$((6*7)); !false"
assert_contains "$OUT" "bang 42" "!cmd runs through the shell"
assert_exit 1 "a failing !cmd fails the batch"

# --- local patterns: put's sources and lls's operands (glob(3), sftp's
# rules: quoting makes them literal, no match is an error)
mkdir -p "$T/loc" "$ROOT/upl"
give_tree "$ROOT"
printf 'p\n' >"$T/loc/p1.dat"
printf 'q\n' >"$T/loc/p2.dat"
printf 's\n' >"$T/loc/p*.dat"
wharf_c $U "$P" "put $T/loc/p[12].dat /upl/"
assert_exit 0 "put with a local pattern"
assert_file_exists "$ROOT/upl/p1.dat"
assert_file_exists "$ROOT/upl/p2.dat"
assert_no_file "$ROOT/upl/p*.dat"
wharf_c $U "$P" "put '$T/loc/p*.dat' /upl/"
assert_exit 0 "put of a quoted (literal) star"
assert_file_exists "$ROOT/upl/p*.dat"
wharf_c $U "$P" "put $T/loc/*.none /upl/"
assert_exit 1 "put: a local pattern that matches nothing"
assert_contains "$ERR" "no match"
wharf_c $U "$P" "lls -1 $T/loc/p[12].dat"
assert_exit 0 "lls with a pattern"
assert_eq "$T/loc/p1.dat $T/loc/p2.dat" "$(echo $OUT)"

# --- -c and -b: quoting decides, as in sftp
wharf_c $U "$P" "ls -1 /proj/logs/*.log"
assert_exit 0 "-c ls with a pattern"
assert_contains "$OUT" "/proj/logs/b.log"
wharf_c $U "$P" "ls -1 '/proj/logs/*.log'"
assert_exit 1 "-c: a quoted star is literal (no such file)"
wharf_c $U "$P" "stat '/proj/logs/lit*.log'"
assert_exit 0 "-c: a quoted star names the literal file"
wharf_c $U "$P" "stat /proj/logs/lit\\*.log"
assert_exit 0 "-c: an escaped star names the literal file"
wharf_c $U "$P" "sum /proj/logs/*.nope"
assert_exit 1 "-c sum: no match"
assert_contains "$ERR" "no match"

printf 'rm /proj/logs/[ab].log\nls -1 /proj/logs\n' >"$T/batch"
wharf_b $U "$P" "$T/batch"
assert_exit 0 "-b rm with a pattern"
assert_no_file "$ROOT/proj/logs/a.log"
assert_no_file "$ROOT/proj/logs/b.log"
assert_file_exists "$ROOT/proj/logs/c.txt"
assert_file_exists "$ROOT/proj/logs/lit*.log"

run "$W" rm -P "$PORT" "$U@$HOST:/proj/old/*.log"
assert_exit 0 "one-shot rm with a pattern"
assert_no_file "$ROOT/proj/old/x.log"
run "$W" rm -P "$PORT" "$U@$HOST:/proj/old/*.log"
assert_exit 1 "one-shot rm: no match"

# --- batch prefixes: '-' goes on after a failure, '@' is not echoed
printf 'rm /nothing/here\nls /proj\n' >"$T/b1"
wharf_b $U "$P" "$T/b1"
assert_exit 1 "-b stops at the first failure"
assert_not_contains "$OUT" "logs"
assert_contains "$ERR" "wharf> rm /nothing/here" "commands are echoed"
printf -- '-rm /nothing/here\n@ls /proj\n' >"$T/b2"
wharf_b $U "$P" "$T/b2"
assert_exit 0 "-b goes on after a '-' line"
assert_contains "$OUT" "logs"
assert_not_contains "$ERR" "wharf> ls /proj" "'@' is not echoed"
assert_contains "$ERR" "wharf> rm /nothing/here"
printf -- '@-rm /nothing/here\n-@pwd\n' >"$T/b3"
wharf_b $U "$P" "$T/b3"
assert_exit 0 "both prefixes, either order"
assert_not_contains "$ERR" "wharf> "

# --- df and quota
run "$W" df "$U@$HP"
assert_exit 0 "df"
assert_match "$OUT" '^ +1K-blocks +Used +Avail +%Capacity +Path$'
run "$W" df --json "$U@$HP"
assert_exit 0 "df --json"
python3 - "$OUT" "$ROOT" <<'PY' || fail "df --json does not match statvfs: $OUT"
import json, os, sys
d = json.loads(sys.argv[1])
st = os.statvfs(sys.argv[2])
assert d["size"] == st.f_blocks * st.f_frsize, d
assert d["quota"] is None
assert d["files"] == st.f_files, d
# Free space moves with other writers on the disk: only its order.
assert 0 < d["avail"] <= d["free"] <= d["size"], d
assert d["used"] == d["size"] - d["free"], d
PY
pass
run "$W" quota --json "$U@$HP"
assert_exit 0 "quota --json without a quota"
assert_eq '{"used":null,"quota":null}' "$OUT"
head -c 300000 /dev/urandom >"$T/up.bin"
WHARF_PASSWORD='carol pw' run "$W" put "carol@$HP" "$T/up.bin" /up.bin
assert_exit 0 "carol uploads"
WHARF_PASSWORD='carol pw' run "$W" quota --json "carol@$HP"
assert_exit 0 "quota --json"
assert_eq '{"used":300000,"quota":1048576,"avail":748576}' "$OUT"
WHARF_PASSWORD='carol pw' run "$W" quota -h "carol@$HP"
assert_eq "293K of 1.0M used (29%)" "$OUT"
WHARF_PASSWORD='carol pw' run "$W" df -h "carol@$HP"
assert_exit 0 "df -h with a quota"
assert_match "$OUT" '^ +1\.0M +293K +731K +29%  \(your quota\)$'

# --- chmod
printf 'm\n' >"$ROOT/proj/mode.txt"
mkdir "$ROOT/proj/mdir"
give_tree "$ROOT"
run "$W" chmod 640 -P "$PORT" "$U@$HOST:/proj/mode.txt"
assert_exit 0 "chmod 640"
assert_eq 640 "$(stat -c %a "$ROOT/proj/mode.txt")"
wharf_c $U "$P" "chmod 700 /proj/mdir; chmod 000 /proj/mode.txt; chmod 604 /proj/mode.txt"
assert_exit 0 "chmod a folder; and back from 000"
assert_eq 700 "$(stat -c %a "$ROOT/proj/mdir")"
assert_eq 604 "$(stat -c %a "$ROOT/proj/mode.txt")"
wharf_c $U "$P" "chmod 4755 /proj/mode.txt"
assert_exit 2 "chmod refuses setuid in the client"
assert_contains "$ERR" "only permission bits"
wharf_c $U "$P" "chmod u+x /proj/mode.txt"
assert_exit 2 "chmod takes an octal mode"
ln -s /etc/passwd "$ROOT/proj/link"
wharf_c $U "$P" "chmod 600 /proj/link"
assert_exit 1 "chmod of a symbolic link is refused"
assert_contains "$ERR" "symbolic link"
assert_ne 600 "$(stat -c %a /etc/passwd)" "no chmod through the link"
WHARF_PASSWORD='rita pw' run "$W" chmod 600 -P "$PORT" "rita@$HOST:/proj/mode.txt"
assert_exit 1 "chmod by a read-only user"
assert_contains "$ERR" "read-only"
assert_eq 604 "$(stat -c %a "$ROOT/proj/mode.txt")"
finish
