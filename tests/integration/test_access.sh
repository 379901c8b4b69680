#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Access control against a real server: per-user homes (no way out through
# "..", symlinks or absolute paths), quotas (refused before data moves,
# resumed uploads counted once), and passcode-protected files (wrong,
# missing and right passcodes, rename keeps protection, restart keeps it,
# read-only users cannot protect, a corrupt store stops the server).
. "$(dirname "$0")/lib.sh"

put_file() { # USER PASS LOCAL REMOTE [ARGS...]
	local user=$1 pass=$2 src=$3 dst=$4

	shift 4
	run env WHARF_PASSWORD="$pass" "$W" put -q "$user@$(host_port)" \
		"$src" "$dst" "$@"
}

get_file() { # USER PASS REMOTE LOCAL [ARGS...]
	local user=$1 pass=$2 src=$3 dst=$4

	shift 4
	run env WHARF_PASSWORD="$pass" "$W" get -q "$user@$(host_port)" \
		"$src" "$dst" "$@"
}

add_user alice pa --home homes/alice --quota 3M
add_user bob pb --home homes/bob
add_user root pr
add_user viewer pv --read-only
start_server

# ---- homes

wharf_c alice pa "pwd; mkdir docs; ls"
assert_exit 0 "alice's first session"
assert_contains "$OUT" "/"
assert_dir_exists "$ROOT/homes/alice/docs" "alice's mkdir lands in her home"
wharf_c bob pb "mkdir secret"
printf 'bob only' >"$ROOT/homes/bob/secret/plan.txt"
printf 'top' >"$ROOT/top.txt"

before=$(tree_sum "$ROOT/homes/bob")$(sha256sum <"$ROOT/top.txt")
for p in ../bob ../../homes/bob /../bob ../bob/secret/plan.txt \
	/homes/bob ../../top.txt; do
	wharf_c alice pa "ls $p"
	assert_ne 0 "$RC" "alice: ls $p must fail"
	wharf_c alice pa "get $p $T/leak"
	assert_ne 0 "$RC" "alice: get $p must fail"
	assert_no_file "$T/leak"
	wharf_c alice pa "mkdir $p/x"
	assert_ne 0 "$RC" "alice: mkdir $p/x must fail"
done
# An absolute path is the home's, not the root's.
wharf_c alice pa "stat /top.txt"
assert_exit 1 "/top.txt is inside alice's home, where it does not exist"
# A symlink inside her home that points at bob's home.
ln -s ../bob "$ROOT/homes/alice/tobob"
ln -s /etc "$ROOT/homes/alice/etc"
wharf_c alice pa "ls tobob"
assert_exit 1 "a link out of the home is refused"
assert_contains "$ERR" "invalid path"
wharf_c alice pa "get tobob/secret/plan.txt $T/leak"
assert_ne 0 "$RC"
assert_no_file "$T/leak"
wharf_c alice pa "ls etc"
assert_exit 1 "a link to /etc is refused"
rm "$ROOT/homes/alice/tobob" "$ROOT/homes/alice/etc"
assert_eq "$before" "$(tree_sum "$ROOT/homes/bob")$(sha256sum <"$ROOT/top.txt")" \
	"nothing outside alice's home changed"
# A user without a home sees the whole root.
wharf_c root pr "ls homes"
assert_exit 0
assert_contains "$OUT" "alice"

# ---- quota: 3 MiB for alice

head -c 2097152 /dev/urandom >"$T/2m"
head -c 1572864 /dev/urandom >"$T/1.5m"
put_file alice pa "$T/2m" /a.bin
assert_exit 0 "2 MiB fits a 3 MiB quota"
put_file alice pa "$T/1.5m" /b.bin
assert_exit 1 "1.5 MiB more would pass the quota"
assert_contains "$ERR" "quota exceeded"
assert_contains "$ERR" "3145728"
assert_no_file "$ROOT/homes/alice/b.bin"
assert_no_file "$ROOT/homes/alice/.b.bin.wharf-part" "refused before data moves"
# Replacing a file counts only the difference.
put_file alice pa "$T/2m" /a.bin
assert_exit 0 "overwriting the same 2 MiB stays within the quota"
# A resumed upload counts once: a partial of the same file is not counted
# on top of the file it becomes.
rm "$ROOT/homes/alice/a.bin"
head -c 1048576 "$T/2m" >"$ROOT/homes/alice/.c.bin.wharf-part"
head -c 3000000 /dev/urandom >"$T/2.86m"
head -c 1048576 "$T/2.86m" >"$ROOT/homes/alice/.c.bin.wharf-part"
put_file alice pa "$T/2.86m" /c.bin
assert_exit 0 "a resumed 2.86 MB upload with a 1 MiB partial fits 3 MiB"
cmp -s "$T/2.86m" "$ROOT/homes/alice/c.bin" || fail "resumed file differs"
pass
wharf_c alice pa "rm c.bin"
# Bob has no quota.
head -c 5000000 /dev/urandom >"$T/5m"
put_file bob pb "$T/5m" /big.bin
assert_exit 0 "no quota, no limit"

# ---- protected files

printf 'the plans' >"$ROOT/plans.txt"
run env WHARF_PASSWORD=pr WHARF_PASSCODE=s3cret "$W" connect \
	"root@$(host_port)" -c "protect plans.txt"
assert_exit 0 "protect"
assert_not_contains "$(cat "$STATE/protected")" "s3cret" "only a hash is stored"
assert_contains "$(cat "$STATE/protected")" '$argon2id$'
assert_eq 600 "$(stat -c %a "$STATE/protected")" "store mode"

wharf_c root pr "ls -l"
assert_match "$OUT" 'plans\.txt +\[protected\]' "listing marks it"
wharf_c root pr "ls" --json
assert_contains "$OUT" '"name":"plans.txt","type":"file","size":9,'
assert_match "$OUT" '"name":"plans\.txt".*"protected":true'

t0=$(date +%s%N)
get_file root pr /plans.txt "$T/p1"
t1=$(date +%s%N)
assert_exit 1 "get without a passcode"
assert_contains "$ERR" "passcode missing or wrong"
assert_no_file "$T/p1"
[ $(((t1 - t0) / 1000000)) -ge 900 ] || fail "no delay after a refused passcode"
pass
run env WHARF_PASSWORD=pr WHARF_PASSCODE=wrong "$W" get -q \
	"root@$(host_port)" /plans.txt "$T/p2"
assert_exit 1 "get with a wrong passcode"
assert_contains "$ERR" "passcode missing or wrong" "same answer: no hint"
assert_no_file "$T/p2"
run env WHARF_PASSWORD=pr WHARF_PASSCODE=s3cret "$W" get -q \
	"root@$(host_port)" /plans.txt "$T/p3"
assert_exit 0 "get with the right passcode"
assert_eq "the plans" "$(cat "$T/p3")"

# Overwrite, rm, mv and sum need it too.
printf 'new plans' >"$T/new"
put_file root pr "$T/new" /plans.txt
assert_exit 1 "overwrite without a passcode"
assert_eq "the plans" "$(cat "$ROOT/plans.txt")" "content untouched"
wharf_c root pr "rm plans.txt"
assert_exit 1 "rm without a passcode"
assert_file_exists "$ROOT/plans.txt"
wharf_c root pr "mv plans.txt moved.txt"
assert_exit 1 "mv without a passcode"
assert_file_exists "$ROOT/plans.txt"
wharf_c root pr "sum plans.txt"
assert_exit 1 "sum without a passcode"
mkdir -p "$ROOT/vault"
wharf_c root pr "mv plans.txt vault/"
assert_exit 1
run env WHARF_PASSWORD=pr WHARF_PASSCODE=s3cret "$W" connect \
	"root@$(host_port)" -c "mv plans.txt vault/plans.txt"
assert_exit 0 "mv with the passcode"
assert_file_exists "$ROOT/vault/plans.txt"
# Protection followed the file.
get_file root pr /vault/plans.txt "$T/p4"
assert_exit 1 "still protected after the rename"
assert_contains "$(cat "$STATE/protected")" "/vault/plans.txt"
# A folder holding a protected file cannot be moved as a whole.
wharf_c root pr "mv vault vault2"
assert_exit 1 "moving the folder would move the protected file"
assert_contains "$ERR" "protected"
# Overwrite with the passcode keeps the protection.
run env WHARF_PASSWORD=pr WHARF_PASSCODE=s3cret "$W" put -q \
	"root@$(host_port)" "$T/new" /vault/plans.txt
assert_exit 0 "overwrite with the passcode"
assert_eq "new plans" "$(cat "$ROOT/vault/plans.txt")"
get_file root pr /vault/plans.txt "$T/p5"
assert_exit 1 "protection survives an overwrite"

# Restart: the store is read back.
stop_server
start_server
get_file root pr /vault/plans.txt "$T/p6"
assert_exit 1 "protection survives a restart"
run env WHARF_PASSWORD=pr WHARF_PASSCODE=s3cret "$W" get -q \
	"root@$(host_port)" /vault/plans.txt "$T/p6"
assert_exit 0

# Read-only users may not protect or unprotect.
printf 'x' >"$ROOT/other.txt"
run env WHARF_PASSWORD=pv WHARF_PASSCODE=abc "$W" connect \
	"viewer@$(host_port)" -c "protect other.txt"
assert_exit 1 "read-only protect"
assert_contains "$ERR" "read-only"
run env WHARF_PASSWORD=pv WHARF_PASSCODE=s3cret "$W" connect \
	"viewer@$(host_port)" -c "unprotect vault/plans.txt"
assert_exit 1 "read-only unprotect"
assert_not_contains "$(cat "$STATE/protected")" "other.txt"

# Unprotect needs the passcode; then it is a plain file; rm drops entries.
run env WHARF_PASSWORD=pr WHARF_PASSCODE=nope "$W" connect \
	"root@$(host_port)" -c "unprotect vault/plans.txt"
assert_exit 1 "unprotect with a wrong passcode"
run env WHARF_PASSWORD=pr WHARF_PASSCODE=s3cret "$W" connect \
	"root@$(host_port)" -c "unprotect vault/plans.txt"
assert_exit 0 "unprotect"
get_file root pr /vault/plans.txt "$T/p7"
assert_exit 0 "no passcode needed any more"
run env WHARF_PASSWORD=pr WHARF_PASSCODE=k1 "$W" connect \
	"root@$(host_port)" -c "protect other.txt"
assert_exit 0
run env WHARF_PASSWORD=pr WHARF_PASSCODE=k1 "$W" connect \
	"root@$(host_port)" -c "rm other.txt"
assert_exit 0 "rm with the passcode"
assert_not_contains "$(cat "$STATE/protected")" "other.txt" "entry dropped"

# A damaged store: the server refuses to start rather than unprotect.
stop_server
printf 'garbage line\n' >>"$STATE/protected"
run timeout 20 "$W" serve --root "$ROOT" --state "$STATE" \
	--listen 127.0.0.1:0
assert_ne 0 "$RC" "a corrupt store stops the server"
assert_contains "$ERR" "protection store"
assert_contains "$ERR" "damaged"

finish
