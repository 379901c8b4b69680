#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer harnesses with clang in build-fuzz/ and runs each for
# SECONDS (default 60) on a scratch copy of its seed corpus, with the
# dictionary. Fails if any harness finds something; the input is kept in
# fuzz/corpus/<target>/ as crash-* (leaks, timeouts and OOMs as
# crash-leak-*, crash-timeout-*, crash-oom-*), where ctest replays it.
#
# Environment: WHARF_FUZZ_TARGETS (space-separated subset), WHARF_FUZZ_JOBS
# (harnesses at once, default 1), WHARF_FUZZ_BUILD (build folder),
# WHARF_FUZZ_KEEP (folder to keep the grown corpora and logs in),
# WHARF_FUZZ_SKIP_KNOWN=1 (steer around known, unfixed findings; see
# docs/fuzzing.md).
set -euo pipefail

secs=${1:-60}
case $secs in
'' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")/.." && pwd)
build=${WHARF_FUZZ_BUILD:-$here/build-fuzz}
jobs=${WHARF_FUZZ_JOBS:-1}
all="frame envelope handshake_server handshake_client seal chunk path session conf proxy"
read -r -a targets <<<"${WHARF_FUZZ_TARGETS:-$all}"

command -v clang >/dev/null || { echo "run.sh: clang is needed" >&2; exit 2; }
cmake -S "$here" -B "$build" -DWHARF_FUZZ=ON -DCMAKE_C_COMPILER=clang \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" \
    --target "${targets[@]/%/_fuzz}" >/dev/null

scratch=$(mktemp -d "${TMPDIR:-/tmp}/wharf-fuzz-run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# Sanitizer findings are crashes; UBSan would otherwise only print.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

fuzz_one() { # target
	local t=$1 dir=$scratch/$1 rc=0 f name
	local -a opts=(-timeout=10 -rss_limit_mb=2560)
	mkdir -p "$dir/corpus" "$dir/artifacts"
	# Seeds only: crash-* files are regressions for ctest, and would
	# stop the run at once.
	find "$here/fuzz/corpus/$t" -maxdepth 1 -type f ! -name 'crash-*' \
	    -exec cp {} "$dir/corpus/" \;
	case $t in
	# A session may legitimately wait on its 2 s I/O timeouts; the
	# harness itself reports a stall after 15 s and a hang after 30 s.
	session) opts=(-timeout=60 -rss_limit_mb=3072 -max_len=8192) ;;
	esac
	"$build/fuzz/${t}_fuzz" "$dir/corpus" -dict="$here/fuzz/wharf.dict" \
	    -max_total_time="$secs" -print_final_stats=1 \
	    -artifact_prefix="$dir/artifacts/" "${opts[@]}" \
	    >"$dir/log" 2>&1 || rc=$?
	for f in "$dir/artifacts"/*; do
		[ -e "$f" ] || continue
		name=$(basename "$f")
		case $name in crash-*) ;; *) name=crash-$name ;; esac
		cp "$f" "$here/fuzz/corpus/$t/$name"
		echo "run.sh: $t: kept fuzz/corpus/$t/$name" >&2
	done
	echo "$rc" >"$dir/rc"
	if [ -n "${WHARF_FUZZ_KEEP:-}" ]; then
		mkdir -p "$WHARF_FUZZ_KEEP/$t"
		cp "$dir/log" "$WHARF_FUZZ_KEEP/$t/log"
		cp -r "$dir/corpus" "$WHARF_FUZZ_KEEP/$t/"
	fi
}

running=0
for t in "${targets[@]}"; do
	echo "run.sh: fuzzing $t for ${secs}s" >&2
	fuzz_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
done
wait

status=0
printf '%-17s %12s %8s %7s %7s %6s  %s\n' target execs exec/s cov ft corp \
    result
for t in "${targets[@]}"; do
	log=$scratch/$t/log
	rc=$(cat "$scratch/$t/rc" 2>/dev/null || echo 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	line=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$line")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$line")
	corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$line")
	result=ok
	if [ "$rc" != 0 ]; then
		result="FAILED (exit $rc)"
		status=1
		grep -E 'ERROR: |fuzz invariant failed|SUMMARY' "$log" |
		    head -5 | sed "s/^/  $t: /" >&2 || true
	fi
	printf '%-17s %12s %8s %7s %7s %6s  %s\n' "$t" "${execs:--}" \
	    "${rate:--}" "${cov:--}" "${ft:--}" "${corp:--}" "$result"
done
exit $status
