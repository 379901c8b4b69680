#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Load: 100 clients at once against one server (--max-clients 120), each
# uploading four files (4 KiB, 300 KiB, 3 MiB and a random size up to
# 512 KiB, its own random bytes) with one `wharf put`, then downloading
# them with one `wharf get`: every transfer succeeds and every file is
# byte-identical (SHA-256) in the server's root and back on the client.
# The server's peak RSS (VmHWM) and the wall time are printed, never
# asserted. Memory must not grow with the number of clients or the size
# of a file: after the clients have gone the server's RSS is back near
# its idle level, and during a 128 MiB upload and download it stays
# within 32 MiB of it (transfers stream; nothing buffers a whole file).
# --max-clients is enforced: with 3 held sessions a 4th client is
# refused with "busy" (exit 3) and the held ones carry on.
# Leaks: a 10-client load on the sanitizer build (WHARF_ASAN_BIN, or
# WHARF_BIN itself when it is one) ends with no LeakSanitizer report at
# SIGTERM; and, if valgrind is installed, a 5-client load on a server
# under `valgrind --leak-check=full` ends with "definitely lost: 0".
#
# Knobs: REL_LOAD_CLIENTS (default 100), REL_SKIP_VALGRIND=1,
# REL_SKIP_BIG=1 (the 128 MiB streaming check). About 60 s here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer_lib.sh"

N=${REL_LOAD_CLIENTS:-100}
# Seconds the whole load phase may take before it counts as hung.
LOAD_LIMIT=${REL_LOAD_LIMIT:-150}
U=loader
P='loader pw 7'
KiB=1024
CW=$W # the client binary (the server's may differ, see the leak checks)

add_user $U "$P"

# rss_kb PID FIELD: VmRSS or VmHWM of PID, in KiB.
rss_kb() {
	sed -n "s/^$2:[[:space:]]*\\([0-9]*\\) kB$/\\1/p" "/proc/$1/status" \
		2>/dev/null
}

mib() { # KIB: as MiB with one decimal
	awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

is_sanitizer_bin() {
	grep -aq '__asan_init' "$1" 2>/dev/null
}

# ThreadSanitizer (WHARF_TSAN, ctest -L concurrency): its allocator and
# shadow memory make RSS meaningless too, and it has no LeakSanitizer.
is_tsan_bin() {
	grep -aq '__tsan_init' "$1" 2>/dev/null
}

# make_sources COUNT: $T/src/I/{a,b,c,d} for I in 1..COUNT, each client's
# own random bytes.
make_sources() {
	local i

	for i in $(seq 1 "$1"); do
		mkdir -p "$T/src/$i"
		head -c $((4 * KiB)) /dev/urandom >"$T/src/$i/a"
		head -c $((300 * KiB)) /dev/urandom >"$T/src/$i/b"
		head -c $((3 * MiB)) /dev/urandom >"$T/src/$i/c"
		head -c $((RANDOM * 16 + RANDOM % 16 + 1)) /dev/urandom \
			>"$T/src/$i/d"
	done
}

# load_client I: one client's put, then get; appends "I put RC" and
# "I get RC" to $T/results. Runs in the background.
load_client() {
	local i=$1 rc

	mkdir -p "$T/dl/$i" "$T/clog"
	WHARF_PASSWORD="$P" timeout -k 5 "$LOAD_LIMIT" "$CW" put \
		"$U@$(host_port)" "$T/src/$i/a" "$T/src/$i/b" "$T/src/$i/c" \
		"$T/src/$i/d" "/c$i/" -q --no-progress </dev/null \
		>"$T/clog/$i.put.out" 2>"$T/clog/$i.put.err"
	rc=$?
	echo "$i put $rc" >>"$T/results"
	[ "$rc" = 0 ] || return 0
	WHARF_PASSWORD="$P" timeout -k 5 "$LOAD_LIMIT" "$CW" get \
		"$U@$(host_port)" "/c$i/a" "/c$i/b" "/c$i/c" "/c$i/d" \
		"$T/dl/$i/" -q --no-progress </dev/null \
		>"$T/clog/$i.get.out" 2>"$T/clog/$i.get.err"
	echo "$i get $?" >>"$T/results"
}

# run_load COUNT: COUNT clients at once against the current server, all
# waited for (at most LOAD_LIMIT + 10 s); samples the server's VmRSS
# meanwhile. Sets LOAD_MS and PEAK_SAMPLED_KB. Then checks every result
# and every byte.
run_load() {
	local n=$1 i pids=() t0 left rss f bad names

	rm -rf "$T/dl" "$T/results" "$T/clog"
	mkdir -p "$T/dl"
	: >"$T/results"
	for i in $(seq 1 "$n"); do
		mkdir -p "$ROOT/c$i"
	done
	# The clients run without run(): the server's user gets them here.
	give_tree "$ROOT"
	PEAK_SAMPLED_KB=0
	t0=$(now_ms)
	for i in $(seq 1 "$n"); do
		load_client "$i" &
		pids+=($!)
		BG_PIDS+=($!)
	done
	while :; do
		left=0
		for i in "${pids[@]}"; do
			kill -0 "$i" 2>/dev/null && left=$((left + 1))
		done
		rss=$(rss_kb "$SERVER_PID" VmRSS)
		[ -n "$rss" ] && [ "$rss" -gt "$PEAK_SAMPLED_KB" ] &&
			PEAK_SAMPLED_KB=$rss
		[ "$left" = 0 ] && break
		[ $(($(now_ms) - t0)) -lt $(((LOAD_LIMIT + 10) * 1000)) ] ||
			fail "$left of $n clients still running after" \
				"$((LOAD_LIMIT + 10)) s"
		sleep 0.2
	done
	LOAD_MS=$(($(now_ms) - t0))
	for i in "${pids[@]}"; do
		wait "$i" 2>/dev/null # results are in $T/results
		forget_pid "$i"
	done
	server_alive

	# Every transfer succeeded...
	bad=$(awk '$3 != 0' "$T/results")
	[ -z "$bad" ] || fail "failed transfers (client exit status):" \
		"$(echo "$bad" | head -n 10 | tr '\n' ';')" \
		"$(cat "$T/clog/$(echo "$bad" | head -n 1 | cut -d' ' -f1).$(echo \
			"$bad" | head -n 1 | cut -d' ' -f2).err")"
	pass
	assert_eq "$n" "$(grep -c ' put 0$' "$T/results")" "puts that succeeded"
	assert_eq "$n" "$(grep -c ' get 0$' "$T/results")" "gets that succeeded"
	for f in "$T"/clog/*.err; do
		check_sanitizers "$f"
	done
	# ...and every byte is where it belongs: one sha256sum list for the
	# sources, the server's copies and the downloads, "HASH I/NAME".
	names=$(for i in $(seq 1 "$n"); do
		printf '%s/a %s/b %s/c %s/d ' "$i" "$i" "$i" "$i"
	done)
	# shellcheck disable=SC2086 # simple names, split on purpose
	(cd "$T/src" && sha256sum -- $names) | sort >"$T/sum.src"
	# shellcheck disable=SC2046,SC2086
	(cd "$ROOT" && sha256sum -- $(printf 'c%s ' $names)) |
		sed 's/  c/  /' | sort >"$T/sum.root"
	# shellcheck disable=SC2086
	(cd "$T/dl" && sha256sum -- $names) | sort >"$T/sum.dl"
	assert_eq $((n * 4)) "$(wc -l <"$T/sum.src")" "source files"
	cmp -s "$T/sum.src" "$T/sum.root" || fail "the server's copies" \
		"differ: $(diff "$T/sum.src" "$T/sum.root" | head -n 6)"
	pass
	cmp -s "$T/sum.src" "$T/sum.dl" || fail "the downloads differ:" \
		"$(diff "$T/sum.src" "$T/sum.dl" | head -n 6)"
	pass
	# Nothing half-done left behind.
	assert_eq "" "$(cd "$ROOT" && find . -name '*.wharf-part' | head -n 3)" \
		"partials left in the root"
	assert_eq "" "$(cd "$T/dl" && find . -name '*.wharf-part' | head -n 3)" \
		"partials left on the clients"
	for i in $(seq 1 "$n"); do
		rm -rf "${ROOT:?}/c$i"
	done
}

# ============================================ 1. 100 clients at once
# All from 127.0.0.1, and logging in at once (two Argon2id at a time):
# past the defaults for connections not logged in yet from one address
# (docs/design.md), so raised as a server behind one NAT would raise them.
start_server --max-clients 120 --max-startups 120 \
	--per-source-max-startups 120
# Idle level: after one login (Argon2id's 64 MiB come and go) and a
# small transfer, so that the allocator's and the threads' fixed costs
# are in.
make_sources 1
wharf_c $U "$P" "put $T/src/1/b /warm; get /warm $T/warm; rm /warm"
assert_exit 0 "the warm-up session"
settle_server
sleep 0.5
IDLE_KB=$(rss_kb "$SERVER_PID" VmRSS)
echo "server idle: VmRSS $(mib "$IDLE_KB") MiB"

make_sources "$N"
run_load "$N"
settle_server 30
HWM_KB=$(rss_kb "$SERVER_PID" VmHWM)
sleep 1
AFTER_KB=$(rss_kb "$SERVER_PID" VmRSS)
MB_EACH=$(awk -v n="$N" 'BEGIN { printf "%.1f", n * (4 + 300 + 3072) / 1024 }')
echo "FIGURE: $N clients, each put+get of 4 files (3.30 MiB + random):" \
	"$((LOAD_MS / 1000)).$(printf '%03d' $((LOAD_MS % 1000))) s wall," \
	"${MB_EACH}+ MiB each way"
echo "FIGURE: server VmRSS idle $(mib "$IDLE_KB") MiB, peak sampled" \
	"$(mib "$PEAK_SAMPLED_KB") MiB, VmHWM $(mib "$HWM_KB") MiB," \
	"after the clients left $(mib "$AFTER_KB") MiB"
# A sanitizer build's allocator keeps freed memory in its quarantine (256
# MiB by default) and its shadow: RSS says nothing about the program
# there, and LeakSanitizer (below) checks for leaks instead.
RSS_CHECKS=1
if is_sanitizer_bin "$W" || is_tsan_bin "$W"; then
	RSS_CHECKS=
	skip "sanitizer build: RSS figures printed, not checked"
fi
if [ -n "$RSS_CHECKS" ]; then
	[ "$AFTER_KB" -lt $((IDLE_KB + 32 * KiB)) ] ||
		fail "RSS after the load $(mib "$AFTER_KB") MiB is not back" \
			"near idle ($(mib "$IDLE_KB") MiB + 32 MiB)"
	pass
fi

# ---------------- a 128 MiB file each way: memory does not follow size
if [ -n "${REL_SKIP_BIG:-}" ]; then
	skip "REL_SKIP_BIG set: the 128 MiB streaming check"
else
	rand_file "$T/big.bin" $((128 * MiB))
	# sample_during PID: max VmRSS of the server (KiB) while PID runs,
	# from the moment its session has logged in (Argon2id's 64 MiB are
	# the login's, not the transfer's).
	sample_during() {
		local pid=$1 logins=$2 max=0 r n=0

		while proc_alive "$pid" && [ $n -lt 1500 ]; do
			if [ "$(count_log 'op=login result=ok')" -gt "$logins" ]; then
				r=$(rss_kb "$SERVER_PID" VmRSS)
				[ -n "$r" ] && [ "$r" -gt "$max" ] && max=$r
			fi
			sleep 0.02
			n=$((n + 1))
		done
		echo "$max"
	}
	BASE_KB=$(rss_kb "$SERVER_PID" VmRSS)
	for dir in put get; do
		logins=$(count_log 'op=login result=ok')
		if [ $dir = put ]; then
			bg_client env WHARF_PASSWORD="$P" "$CW" put \
				"$U@$(host_port)" "$T/big.bin" /big.bin -q \
				--no-progress --compress=off
		else
			bg_client env WHARF_PASSWORD="$P" "$CW" get \
				"$U@$(host_port)" /big.bin "$T/big.back" -q \
				--no-progress --compress=off
		fi
		MAX_KB=$(sample_during "$BGC_PID" "$logins")
		bg_wait "$BGC_PID" 60
		assert_exit 0 "the 128 MiB $dir"
		settle_server
		echo "FIGURE: 128 MiB $dir: server VmRSS at most" \
			"$(mib "$MAX_KB") MiB during the transfer (before:" \
			"$(mib "$BASE_KB") MiB)"
		if [ -n "$RSS_CHECKS" ]; then
			[ "$MAX_KB" -lt $((BASE_KB + 32 * KiB)) ] ||
				fail "server RSS rose to $(mib "$MAX_KB") MiB" \
					"during a 128 MiB $dir (from" \
					"$(mib "$BASE_KB") MiB): it buffers" \
					"instead of streaming"
			pass
		fi
	done
	assert_same "$T/big.bin" "$ROOT/big.bin" "the 128 MiB upload"
	assert_same "$T/big.bin" "$T/big.back" "the 128 MiB download"
	rm -f "$T/big.bin" "$T/big.back" "$ROOT/big.bin"
fi
stop_server

# ================================================ 2. --max-clients 3
start_server --max-clients 3
logins=$(count_log 'op=login result=ok')
H_PID=()
H_FD=()
H_OUT=()
H_ERR=()
H_N=()
for k in 1 2 3; do
	hold_client $U "$P"
	H_PID+=("$HELD_PID")
	H_FD+=("$HELD_FD")
	H_OUT+=("$HELD_OUT")
	H_ERR+=("$HELD_ERR")
	H_N+=("$HELD_N")
done
wait_count 'op=login result=ok' $((logins + 3)) 30 ||
	fail "the 3 held clients did not all log in"
pass
wharf_c $U "$P" "pwd"
assert_exit 3 "a 4th client over --max-clients 3"
assert_contains "$ERR" "busy" "the 4th client is told why"
wait_log 'refused: server busy' 5 || fail "no 'server busy' log line"
pass
for k in 0 1 2; do
	echo "mkdir held$k" >&"${H_FD[$k]}"
	echo "ls" >&"${H_FD[$k]}"
	echo "bye" >&"${H_FD[$k]}"
done
# Newest first: each held client inherited the fifos of the ones started
# before it, so an older one sees EOF only once the newer ones are gone.
for k in 2 1 0; do
	HELD_PID=${H_PID[$k]} HELD_FD=${H_FD[$k]} HELD_OUT=${H_OUT[$k]}
	HELD_ERR=${H_ERR[$k]} HELD_N=${H_N[$k]}
	end_held 20
	assert_exit 0 "held client $k after the refusal"
	assert_dir_exists "$ROOT/held$k" "held client $k still works"
done
# With the three gone, a new client gets in.
settle_server
wharf_c $U "$P" "pwd"
assert_exit 0 "a client once the held ones left"
stop_server

# ================================================== 3. leak checks
ASAN_SERVER=
if is_sanitizer_bin "$W"; then
	echo "LSan: WHARF_BIN is a sanitizer build: the $N-client load" \
		"above ended with no sanitizer report at SIGTERM"
	ASAN_SERVER=$W
elif [ -n "${WHARF_ASAN_BIN:-}" ]; then
	is_sanitizer_bin "$WHARF_ASAN_BIN" ||
		fail "WHARF_ASAN_BIN=$WHARF_ASAN_BIN is not a sanitizer build"
	ASAN_SERVER=$WHARF_ASAN_BIN
fi
if [ -n "$ASAN_SERVER" ]; then
	SAVED_W=$W
	W=$ASAN_SERVER
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1 \
		start_server --max-clients 20 --max-startups 20 \
		--per-source-max-startups 20
	W=$SAVED_W
	run_load 10
	settle_server 30
	stop_server # exit 0 and no report (LeakSanitizer runs at exit)
	echo "FIGURE: LeakSanitizer: 10-client load on $(basename \
		"$(dirname "$ASAN_SERVER")")/wharf: no report at exit"
else
	skip "no sanitizer build (set WHARF_ASAN_BIN): LeakSanitizer check"
fi

if [ -n "${REL_SKIP_VALGRIND:-}" ]; then
	skip "REL_SKIP_VALGRIND set: valgrind check"
elif ! command -v valgrind >/dev/null; then
	skip "valgrind is not installed: valgrind leak check"
elif is_sanitizer_bin "$W" || is_tsan_bin "$W"; then
	skip "valgrind cannot run a sanitizer build: valgrind leak check"
else
	VG_LOG=$T/valgrind.log
	off=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
	SERVER_ERR=$T/server.vg.stderr
	valgrind --leak-check=full --error-exitcode=99 --log-file="$VG_LOG" \
		"$W" serve --root "$ROOT" --state "$STATE" --listen "$LISTEN" \
		--log "$LOG" "${SERVE_AS[@]}" </dev/null 2>"$SERVER_ERR" &
	SERVER_PID=$!
	BG_PIDS+=("$SERVER_PID")
	PORT=
	for n in $(seq 1 300); do
		PORT=$(tail -c +$((off + 1)) "$LOG" 2>/dev/null |
			sed -n 's/.* listening on .*:\([0-9][0-9]*\)$/\1/p' |
			head -n 1)
		[ -n "$PORT" ] && break
		proc_alive "$SERVER_PID" || break
		sleep 0.1
	done
	[ -n "$PORT" ] || fail "server under valgrind did not start:" \
		"$(tail -n 20 "$VG_LOG")"
	export PORT
	# Five sessions, each an upload and a download of its own files, one
	# after another: valgrind runs the server's threads one at a time,
	# so concurrent handshakes would queue past the client's 10 s
	# connect timeout on a busy machine.
	t0=$(now_ms)
	for i in 1 2 3 4 5; do
		WHARF_PASSWORD="$P" timeout -k 5 120 "$CW" connect \
			"$U@$(host_port)" -c "put $T/src/$i/b /vg$i.b; put \
$T/src/$i/c /vg$i.c; get /vg$i.b $T/vg$i.b; get /vg$i.c $T/vg$i.c" \
			</dev/null >"$T/vg$i.out" 2>&1
		rc=$?
		[ $rc = 0 ] || fail "client $i under the valgrind" \
			"server: exit $rc: $(cat "$T/vg$i.out")"
		pass
		assert_same "$T/src/$i/c" "$T/vg$i.c" \
			"download from the valgrind server"
	done
	settle_server 60
	kill -TERM "$SERVER_PID"
	n=0
	while proc_alive "$SERVER_PID" && [ $n -lt 600 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	proc_alive "$SERVER_PID" && fail "valgrind server still running" \
		"60 s after SIGTERM"
	wait "$SERVER_PID"
	rc=$?
	forget_pid "$SERVER_PID"
	VG_MS=$(($(now_ms) - t0))
	LEAK=$(grep -E 'definitely lost:|ERROR SUMMARY:' "$VG_LOG" |
		sed 's/^==[0-9]*== *//' | tr '\n' ' ')
	echo "FIGURE: valgrind: 5 sessions (put+get of 3.3 MiB each) in" \
		"$((VG_MS / 1000)) s: $LEAK"
	grep -q 'definitely lost: 0 bytes in 0 blocks' "$VG_LOG" ||
		grep -q 'All heap blocks were freed' "$VG_LOG" ||
		fail "valgrind found leaks: $(grep -A3 'LEAK SUMMARY' \
			"$VG_LOG")"
	pass
	assert_eq 0 "$rc" "exit status of the server under valgrind (99:" \
		"valgrind found errors; see the summary above)"
fi
finish
