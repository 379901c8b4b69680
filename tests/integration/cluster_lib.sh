# SPDX-License-Identifier: MIT
#
# Checks for several servers on one state folder and one root, shared by
# test_cluster.sh (a local folder) and test_gluster.sh (two FUSE mounts of
# one GlusterFS volume). Source after lib.sh and xfer_lib.sh. The caller
# sets ROOT1/STATE1 and ROOT2/STATE2 (the same folder, seen through one
# path or two mounts) and starts the servers with cl_start.

CL_USER=ann
CL_PW='ann pw'
CL_LOGS=()
CL_PORTS=()
CL_PIDS=()

# want CHECK: whether WHARF_CLUSTER_CHECKS (default all) names CHECK; a
# subset of the checks, by name, for debugging and for measuring.
want() {
	case " ${WHARF_CLUSTER_CHECKS:-all} " in
	*" all "* | *" $1 "*) return 0 ;;
	esac
	return 1
}

# cl_start N [SERVE ARGS...]: server N on ROOT$N and STATE$N, its own log.
cl_start() {
	local n=$1 r s

	shift
	r=ROOT$n
	s=STATE$n
	ROOT=${!r} STATE=${!s} LOG=$T/s$n.log start_server "$@"
	CL_PORTS[n]=$PORT
	CL_PIDS[n]=$SERVER_PID
	CL_LOGS[n]=$T/s$n.log
}

# cl_on N: clients talk to server N (and ROOT/LOG are its).
cl_on() {
	local r=ROOT$1

	PORT=${CL_PORTS[$1]}
	LOG=${CL_LOGS[$1]}
	ROOT=${!r}
}

cl_put() { # SERVER LOCAL REMOTE [ARGS]
	local n=$1 src=$2 dst=$3

	shift 3
	cl_on "$n"
	run env WHARF_PASSWORD="$CL_PW" "$W" put -q "$CL_USER@$(host_port)" \
		"$src" "$dst" "$@"
}

cl_get() { # SERVER REMOTE LOCAL [ARGS]
	local n=$1 src=$2 dst=$3

	shift 3
	cl_on "$n"
	run env WHARF_PASSWORD="$CL_PW" "$W" get -q "$CL_USER@$(host_port)" \
		"$src" "$dst" "$@"
}

# check_first_start DIR ROUNDS [SERVE ARGS]: two servers started at once on
# an empty state folder: one admin password printed, one host key.
check_first_start() {
	local dir=$1 rounds=$2 i k pids fp1 fp2 shown n
	shift 2

	for i in $(seq 1 "$rounds"); do
		rm -rf "$dir/fs-state" && mkdir -p "$dir/fs-state" "$dir/fs-root"
		give_tree "$dir/fs-root"
		pids=()
		for k in 1 2; do
			"$W" serve --root "$dir/fs-root" --state "$dir/fs-state" \
				--listen 127.0.0.1:0 --log "$T/fs.$i.$k.log" \
				"${SERVE_AS[@]}" "$@" </dev/null \
				2>"$T/fs.$i.$k.err" &
			pids+=($!)
			BG_PIDS+=($!)
		done
		for k in 1 2; do
			n=0
			until grep -q ' listening on ' "$T/fs.$i.$k.log" 2>/dev/null ||
				[ $n -ge 200 ]; do
				sleep 0.1
				n=$((n + 1))
			done
			grep -q ' listening on ' "$T/fs.$i.$k.log" ||
				fail "first start $i: server $k did not start:" \
					"$(cat "$T/fs.$i.$k.err")"
		done
		# The password is printed after the listening line.
		sleep 0.5
		shown=$(cat "$T/fs.$i.1.err" "$T/fs.$i.2.err" |
			grep -c "created user 'admin'")
		assert_eq 1 "$shown" "first start $i: admin passwords printed"
		fp1=$(sed -n 's/.* host key \(SHA256:[^ ]*\).*/\1/p' \
			"$T/fs.$i.1.log" | head -n 1)
		fp2=$(sed -n 's/.* host key \(SHA256:[^ ]*\).*/\1/p' \
			"$T/fs.$i.2.log" | head -n 1)
		[ -n "$fp1" ] || fail "first start $i: no host key logged"
		assert_eq "$fp1" "$fp2" "first start $i: one host key"
		for k in 0 1; do
			kill -TERM "${pids[k]}" 2>/dev/null
			wait "${pids[k]}" 2>/dev/null
			forget_pid "${pids[k]}"
		done
	done
}

# check_cross: an upload through one server downloads through the other,
# both ways.
check_cross() {
	rand_file "$T/cross.a" 3000000
	rand_file "$T/cross.b" 70000
	cl_put 1 "$T/cross.a" /cross.a
	assert_exit 0 "put through server 1"
	cl_get 2 /cross.a "$T/cross.a.got"
	assert_exit 0 "get through server 2"
	assert_same "$T/cross.a" "$T/cross.a.got" "server 1 -> server 2"
	cl_put 2 "$T/cross.b" /cross.b
	assert_exit 0 "put through server 2"
	cl_get 1 /cross.b "$T/cross.b.got"
	assert_exit 0 "get through server 1"
	assert_same "$T/cross.b" "$T/cross.b.got" "server 2 -> server 1"
}

# check_resume SIZE KILL_AT: an upload cut on server 1 resumes on server 2.
check_resume() {
	local size=$1 at=$2 part

	rand_file "$T/res.bin" "$size"
	cl_on 1
	part=$ROOT1/.res.bin.wharf-part
	bg_client env WHARF_PASSWORD="$CL_PW" "$W" put "$CL_USER@$(host_port)" \
		"$T/res.bin" res.bin --no-progress --no-delta
	kill_at_size "$part" "$at" "$BGC_PID" 60
	case $? in
	1) skip "the upload ended before it could be cut; too fast"; return ;;
	2) fail "the partial never reached $at bytes" ;;
	esac
	wait_log 'op=put path="/res.bin" .*result=' 10 ||
		fail "server 1 did not log the cut upload"
	cl_put 2 "$T/res.bin" res.bin --no-delta
	assert_exit 0 "resume through server 2"
	cl_get 1 /res.bin "$T/res.got"
	assert_same "$T/res.bin" "$T/res.got" "resumed across servers"
	cl_on 2
	assert_match "$(grep 'op=put path="/res.bin"' "$LOG")" 'resumed=[1-9]' \
		"server 2 resumed from server 1's partial"
}

# check_protect: a file protected through one server is refused by the
# other; protecting another file through the second keeps the first.
check_protect() {
	printf 'plan A' >"$ROOT1/pa.txt"
	printf 'plan B' >"$ROOT1/pb.txt"
	give_tree "$ROOT1"
	cl_on 1
	run env WHARF_PASSWORD="$CL_PW" WHARF_PASSCODE=s3cret "$W" connect \
		"$CL_USER@$(host_port)" -c "protect pa.txt"
	assert_exit 0 "protect through server 1"
	cl_get 2 /pa.txt "$T/pa.got"
	assert_exit 1 "server 2 refuses what server 1 protected"
	assert_contains "$ERR" "passcode missing or wrong"
	assert_no_file "$T/pa.got"
	cl_on 2
	run env WHARF_PASSWORD="$CL_PW" WHARF_PASSCODE=other "$W" connect \
		"$CL_USER@$(host_port)" -c "protect pb.txt"
	assert_exit 0 "protect through server 2"
	cl_get 1 /pb.txt "$T/pb.got"
	assert_exit 1 "server 1 refuses what server 2 protected"
	assert_no_file "$T/pb.got"
	assert_contains "$(cat "$STATE1/protected")" "/pa.txt" \
		"server 2's save kept server 1's entry"
	assert_contains "$(cat "$STATE1/protected")" "/pb.txt"
	cl_get 1 /pa.txt "$T/pa.got"
	assert_exit 1 "server 1 still refuses pa.txt"
	run env WHARF_PASSWORD="$CL_PW" WHARF_PASSCODE=s3cret "$W" get -q \
		"$CL_USER@127.0.0.1:${CL_PORTS[2]}" /pa.txt "$T/pa.got"
	assert_exit 0 "the passcode opens it through server 2"
	assert_eq "plan A" "$(cat "$T/pa.got")"
	# Removing a protected file through the other server is refused.
	cl_on 2
	run env WHARF_PASSWORD="$CL_PW" "$W" connect "$CL_USER@$(host_port)" \
		-c "rm pa.txt"
	assert_exit 1 "rm of a file protected through the other server"
	assert_file_exists "$ROOT1/pa.txt"
}

# check_quota QUSER MIB: four uploads of MIB MiB at once, two through each
# server, under a quota of 2.5 times MIB (the user's, set by the caller):
# what the home holds never passes the quota. Uploads long enough to
# overlap every login make the race certain.
check_quota() {
	local qu=$1 mib=$2 i pids=() ok=0 total home=$ROOT1/homes/$1 n srv

	rand_file "$T/q.src" $((mib * 1024 * 1024))
	# A first login makes the home.
	cl_on 1
	run env WHARF_PASSWORD="$CL_PW" "$W" connect "$qu@$(host_port)" -c ls
	assert_exit 0 "quota user logs in"
	for i in 1 2 3 4; do
		srv=$(((i % 2) + 1))
		env WHARF_PASSWORD="$CL_PW" "$W" put -q \
			"$qu@127.0.0.1:${CL_PORTS[srv]}" "$T/q.src" "q$i.bin" \
			--no-delta </dev/null >"$T/q.$i.out" 2>"$T/q.$i.err" &
		pids+=($!)
		BG_PIDS+=($!)
	done
	for i in 0 1 2 3; do
		n=0
		while proc_alive "${pids[i]}" && [ $n -lt 600 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		proc_alive "${pids[i]}" && kill -KILL "${pids[i]}"
		wait "${pids[i]}" && ok=$((ok + 1))
		forget_pid "${pids[i]}"
		check_sanitizers "$T/q.$((i + 1)).err"
	done
	total=$(find "$home" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
	[ "$total" -le $((mib * 5 * 1024 * 1024 / 2)) ] ||
		fail "quota: $total bytes in a home with a quota of" \
			"$((mib * 5 / 2)) MiB" \
			"($ok of 4 uploads succeeded)"
	pass
	[ "$ok" -ge 1 ] || fail "quota: no upload succeeded: $(cat "$T"/q.*.err)"
	pass
	[ "$ok" -le 2 ] || fail "quota: $ok uploads of $mib MiB fit"
	pass
	for i in 1 2 3 4; do
		if ! grep -q . "$T/q.$i.err"; then continue; fi
		assert_contains "$(cat "$T/q.$i.err")" "quota exceeded" \
			"refused upload $i says why"
	done
}

# check_race ROUNDS SIZE: each round two clients upload different content
# to one path, one through each server, at once. Every round: the file is
# exactly one of the two, and a loser is told BUSY, never an internal or
# stale error.
check_race() {
	local rounds=$1 size=$2 i k pids got ea eb

	rand_file "$T/race.1" "$size"
	rand_file "$T/race.2" "$size"
	for i in $(seq 1 "$rounds"); do
		pids=()
		for k in 1 2; do
			env WHARF_PASSWORD="$CL_PW" "$W" put -q \
				"$CL_USER@127.0.0.1:${CL_PORTS[k]}" "$T/race.$k" \
				/race.bin --no-delta </dev/null >/dev/null \
				2>"$T/race.$i.$k.err" &
			pids+=($!)
			BG_PIDS+=($!)
		done
		for k in 0 1; do
			n=0
			while proc_alive "${pids[k]}" && [ $n -lt 600 ]; do
				sleep 0.1
				n=$((n + 1))
			done
			proc_alive "${pids[k]}" && kill -KILL "${pids[k]}"
			wait "${pids[k]}"
			forget_pid "${pids[k]}"
		done
		got=$(sha256sum <"$ROOT1/race.bin" | cut -d' ' -f1)
		[ "$got" = "$(sha256sum <"$T/race.1" | cut -d' ' -f1)" ] ||
			[ "$got" = "$(sha256sum <"$T/race.2" | cut -d' ' -f1)" ] ||
			fail "race round $i: the file is neither upload" \
				"($(stat -c %s "$ROOT1/race.bin") bytes)"
		pass
		ea=$(cat "$T/race.$i.1.err")
		eb=$(cat "$T/race.$i.2.err")
		for e in "$ea" "$eb"; do
			[ -z "$e" ] && continue
			case $e in
			*"upload of this file is in progress"*) ;;
			*"was replaced during the upload; nothing committed"*) ;;
			*) fail "race round $i: unexpected error: $e" ;;
			esac
		done
		pass
	done
}

# check_mv: mv of a file and of a folder never replaces what is there.
check_mv() {
	cl_on 2
	printf one >"$ROOT1/mv1.txt"
	printf two >"$ROOT1/mv2.txt"
	mkdir -p "$ROOT1/mvd1/in" "$ROOT1/mvd2"
	printf x >"$ROOT1/mvd1/in/f"
	give_tree "$ROOT1"
	run env WHARF_PASSWORD="$CL_PW" "$W" connect "$CL_USER@$(host_port)" \
		-c "mv mv1.txt mv3.txt"
	assert_exit 0 "mv of a file"
	assert_eq one "$(cat "$ROOT1/mv3.txt")"
	assert_no_file "$ROOT1/mv1.txt"
	run env WHARF_PASSWORD="$CL_PW" "$W" connect "$CL_USER@$(host_port)" \
		-c "mv mv3.txt mv2.txt"
	assert_exit 1 "mv onto an existing file"
	assert_contains "$ERR" "destination exists"
	assert_eq two "$(cat "$ROOT1/mv2.txt")" "the existing file is kept"
	assert_eq one "$(cat "$ROOT1/mv3.txt")" "the source is kept"
	run env WHARF_PASSWORD="$CL_PW" "$W" connect "$CL_USER@$(host_port)" \
		-c "mv mvd1 mvd3"
	assert_exit 0 "mv of a folder: $ERR"
	assert_eq x "$(cat "$ROOT1/mvd3/in/f")"
	run env WHARF_PASSWORD="$CL_PW" "$W" connect "$CL_USER@$(host_port)" \
		-c "mv mvd3/in mvd2/"
	assert_exit 0 "mv of a folder into a folder: $ERR"
	assert_eq x "$(cat "$ROOT1/mvd2/in/f")"
	run env WHARF_PASSWORD="$CL_PW" "$W" connect "$CL_USER@$(host_port)" \
		-c "mv mvd2/in mv2.txt"
	assert_exit 1 "mv of a folder onto an existing file"
	assert_contains "$ERR" "destination exists"
	assert_eq two "$(cat "$ROOT1/mv2.txt")" "the file is kept"
	assert_eq x "$(cat "$ROOT1/mvd2/in/f")"
}

# check_batch WHERE: 500 small files in one `put -r` through server 1 (one
# session: group commits), all seen through server 2. The time is printed
# for docs/deployment.md, never judged.
check_batch() {
	local i t0 t1

	mkdir -p "$T/small"
	for i in $(seq 1 500); do
		printf 'small file %d\n' "$i" >"$T/small/f$i.txt"
	done
	cl_on 1
	t0=$(date +%s%N)
	run env WHARF_PASSWORD="$CL_PW" "$W" put -q -r \
		"$CL_USER@$(host_port)" "$T/small" small
	t1=$(date +%s%N)
	assert_exit 0 "500 small files through server 1"
	echo "INFO: 500 small files on $1 in $(((t1 - t0) / 1000000)) ms"
	assert_eq 500 "$(find "$ROOT2/small" -type f | wc -l)" \
		"all 500 seen through server 2"
	assert_same "$T/small/f377.txt" "$ROOT2/small/f377.txt"
}
