#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The shape of --bwlimit: uploads a file at a limit and samples the bytes
# the client's connection has had acknowledged (ss -ti, bytes_acked) every
# 100 ms, then prints the average rate and the
# spread of the 100 ms rates around the limit. A smooth limiter (a token
# bucket paced per slice, as src/util/ratelimit.c) keeps every interval
# near the limit; a per-chunk sleep would show 1 MiB bursts and pauses.
# Timing belongs here, not in the tests (integ_bwlimit checks only a
# lower bound). Usage: bench/bwlimit.sh [RATE [MiB]]   (default 1M, 8)
#
# It uses the integration tests' helpers (a private temp dir, a server
# on an ephemeral loopback port, everything stopped on exit).
set -u
RATE=${1:-1M}
MIB=${2:-8}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../tests/integration/lib.sh"

add_user bench bench
start_server
head -c $((MIB * 1048576)) /dev/urandom >"$T/data.bin"
command -v ss >/dev/null || { echo "needs ss (iproute2)"; exit 1; }

env WHARF_PASSWORD=bench "$W" put "bench@$(host_port)" --bwlimit "$RATE" \
	--no-progress -q "$T/data.bin" data.bin &
PUT=$!
BG_PIDS+=("$PUT")
: >"$T/samples"
# Bounded: at most 10 minutes of samples.
for _ in $(seq 1 6000); do
	kill -0 "$PUT" 2>/dev/null || break
	# The largest bytes_acked towards the server: the upload's socket.
	acked=$(ss -tinH state established "( dport = :$PORT )" 2>/dev/null |
		grep -o 'bytes_acked:[0-9]*' | cut -d: -f2 | sort -n | tail -n 1)
	printf '%s %s\n' "${EPOCHREALTIME/./}" "${acked:-0}" >>"$T/samples"
	sleep 0.1
done
wait "$PUT"
forget_pid "$PUT"

python3 - "$T/samples" "$RATE" "$MIB" <<'PY'
import statistics, sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
# Only while data flowed: from the first byte to the last sample.
rows = [r for r in rows if r[1] > 0]
rates = []
for (t0, b0), (t1, b1) in zip(rows, rows[1:]):
    if t1 > t0 and b1 >= b0:
        rates.append((b1 - b0) / ((t1 - t0) / 1e6))
if len(rates) < 5:
    sys.exit("too few samples: is the limit too high for the file?")
mean = sum(b1 - b0 for (_, b0), (_, b1) in zip(rows, rows[1:])) / \
    ((rows[-1][0] - rows[0][0]) / 1e6)
kib = lambda x: x / 1024
print(f"--bwlimit {sys.argv[2]}, {sys.argv[3]} MiB, {len(rates)} intervals "
      f"of ~100 ms")
print(f"average   {kib(mean):9.1f} KiB/s")
print(f"100 ms    min {kib(min(rates)):9.1f}  median "
      f"{kib(statistics.median(rates)):9.1f}  max {kib(max(rates)):9.1f} KiB/s")
print(f"spread    stdev {100 * statistics.pstdev(rates) / mean:5.1f}% "
      f"of the average")
PY
