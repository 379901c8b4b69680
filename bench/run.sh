#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# wharf side by side with nc, scp, sftp and rsync, on this machine, in one
# run: every peer is set up here on loopback or in a network namespace of
# our own, each case runs several times (median reported), every received
# file is verified, and everything started or made is undone on exit.
# See docs/benchmarks.md for what each case measures and the commands.

set -u
set -o pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
START_US=${EPOCHREALTIME/./}

usage() {
	cat <<EOF
usage: bench/run.sh [--quick] [--keep] [--reps N] [--cases LIST]
                    [--tmpfs] [--wait-idle SECS] [--nice N] [--results DIR]

  --quick        smaller data and one repetition (about 3 minutes)
  --keep         keep the temp dir (data, logs) instead of removing it
  --reps N       repetitions per measurement (default 3, --quick 1)
  --cases LIST   comma-separated subset of 1,2,3,4,mem,delta,stripe
                 (default all;
                 the primitives, one core's MB/s, are always measured)
  --tmpfs        put the temp dir on a tmpfs (no disk, no fsync cost)
  --wait-idle S  before each case, wait up to S seconds for the other
                 load on the machine to drop below 15% CPU
  --nice N       run everything at this nice value (e.g. -10) and at the
                 best-effort I/O class's top priority, so that other work
                 on a shared machine disturbs the timings less (and is
                 itself slowed meanwhile)
  --results DIR  where the table and CSV go (default bench/results)

Needs root and Debian (packages missing are installed with apt-get).
Environment: WHARF_BIN (a wharf binary to use instead of building
build-bench/), WHARF_BENCH_DIR (parent of the temp dir, default /tmp),
WHARF_BENCH_NET (first three octets of the namespace /30, default
10.201.0: the host side is .1, the namespace side .2).

Results: RESULTS/latest.{txt,csv} for a full run, quick.{txt,csv} for
--quick or a subset of cases.
EOF
}

# ------------------------------------------------------------ options

QUICK=0
KEEP=0
REPS=
ALL_CASES=1,2,3,4,mem,delta,stripe
CASES=$ALL_CASES
USE_TMPFS=0
WAIT_IDLE=0
NICE=
RESULTS=$HERE/results
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--keep) KEEP=1 ;;
	--reps)
		REPS=${2:-}
		shift
		;;
	--reps=*) REPS=${1#*=} ;;
	--cases)
		CASES=${2:-}
		shift
		;;
	--cases=*) CASES=${1#*=} ;;
	--tmpfs) USE_TMPFS=1 ;;
	--wait-idle)
		WAIT_IDLE=${2:-}
		shift
		;;
	--wait-idle=*) WAIT_IDLE=${1#*=} ;;
	--nice)
		NICE=${2:-}
		shift
		;;
	--nice=*) NICE=${1#*=} ;;
	--results)
		RESULTS=${2:-}
		shift
		;;
	--results=*) RESULTS=${1#*=} ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
	shift
done

die() {
	echo "bench: $*" >&2
	exit 1
}

if [ $QUICK = 1 ]; then
	BIG_MIB=256       # case 1 file
	CORPUS_MIB=80     # compressible corpus
	SLICE_MIB=16      # case 2 slice of it
	SMALL_N=500       # case 3 files
	SCALE_N=100       # case 4 clients
	SCALE_MIB=2       # case 4 bytes per client
	IDLE_N=100        # idle sessions for the memory case
	DELTA_MIB=64      # delta case file
	STRIPE_MIB=16     # striping case file
	: "${REPS:=1}"
	NEED_GIB=2
	BUDGET=150        # seconds; past it, no further repetitions
else
	BIG_MIB=1024
	CORPUS_MIB=320
	SLICE_MIB=64
	SMALL_N=2000
	SCALE_N=100
	SCALE_MIB=10
	IDLE_N=100
	DELTA_MIB=256
	STRIPE_MIB=32
	: "${REPS:=3}"
	NEED_GIB=6
	BUDGET=780
fi
case $REPS in
'' | *[!0-9]*) die "--reps needs a positive number" ;;
esac
[ "$REPS" -ge 1 ] || die "--reps needs a positive number"
case $WAIT_IDLE in
'' | *[!0-9]*) die "--wait-idle needs a number of seconds" ;;
esac
case $NICE in
'' | -[0-9] | -1[0-9] | -20 | [0-9] | 1[0-9]) ;;
*) die "--nice needs a value from -20 to 19" ;;
esac
for c in ${CASES//,/ }; do
	case $c in
	1 | 2 | 3 | 4 | mem | delta | stripe) ;;
	*) die "unknown case '$c' (cases: $ALL_CASES)" ;;
	esac
done
want() { # want CASE: is CASE in --cases?
	case ",$CASES," in *",$1,"*) return 0 ;; esac
	return 1
}
if [ $QUICK = 0 ] && [ "$CASES" = "$ALL_CASES" ]; then
	RUN_NAME=latest
else
	RUN_NAME=quick
fi

# Link shaping for case 2 and the delta case (both directions of the
# veth pair), and the striping case's limit per TCP connection.
LINK_RATE=20mbit
TBF="rate $LINK_RATE burst 32kbit latency 400ms"
FLOW_RATE=40mbit
NET=${WHARF_BENCH_NET:-10.201.0}
HOST_ADDR=$NET.1
NS_ADDR=$NET.2

[ "$(id -u)" = 0 ] || die "run as root (namespaces, tc, sshd, apt-get)"

# Started as root, wharf serves as an unprivileged user (docs/security.md):
# the benchmark's servers serve as this account, which owns what they serve.
BENCH_USER=${WHARF_TEST_USER:-wharf-test}
id -u "$BENCH_USER" >/dev/null 2>&1 ||
	useradd --system --no-create-home --shell /usr/sbin/nologin \
		"$BENCH_USER" || die "cannot create the account $BENCH_USER"

# give_srv: the served tree and wharf's state to that account, after root
# put files there (the other tools run as root and need nothing).
give_srv() {
	chown -R -h "$BENCH_USER:" "$T/srv" "$T/wstate" 2>/dev/null
	return 0
}
[ "$(uname -s)" = Linux ] || die "Linux only"
[ "${BASH_VERSINFO[0]}" -ge 5 ] || die "bash 5 or later needed"

# ------------------------------------------------------------ cleanup

T=
BG_PIDS=()
NS=
VETH_H=
VETH_N=
MADE_RUN_SSHD=0
MADE_POLICY=0
MOUNTED=0

# descendants PID: PID's children, grandchildren, ... (by /proc).
descendants() {
	local c

	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}

# kill_tree PID: TERM to PID and its descendants, up to 3 s, then KILL.
kill_tree() {
	local pid=$1 all p i=0

	all="$pid $(descendants "$pid")"
	for p in $all; do kill -TERM "$p" 2>/dev/null; done
	while [ $i -lt 30 ]; do
		local alive=0
		for p in $all; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.1
		i=$((i + 1))
	done
	for p in $all; do kill -KILL "$p" 2>/dev/null; done
	wait "$pid" 2>/dev/null
	return 0
}

forget_pid() {
	local i

	for i in "${!BG_PIDS[@]}"; do
		[ "${BG_PIDS[$i]}" = "$1" ] && unset "BG_PIDS[$i]"
	done
	return 0
}

cleanup() {
	local pid p

	trap '' INT TERM HUP
	rm -f /dev/shm/wharf-bench-warm
	for pid in "${BG_PIDS[@]}"; do
		kill_tree "$pid"
	done
	if [ -n "$NS" ]; then
		# Anything left in our namespace was started by this script.
		for p in $(ip netns pids "$NS" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip netns del "$NS" 2>/dev/null
	fi
	[ -n "$VETH_H" ] && ip link del "$VETH_H" 2>/dev/null
	[ $MADE_POLICY = 1 ] && rm -f /usr/sbin/policy-rc.d
	[ $MADE_RUN_SSHD = 1 ] && rmdir /run/sshd 2>/dev/null
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ $KEEP = 1 ]; then
			echo "bench: kept $T"
		else
			[ $MOUNTED = 1 ] && umount "$T" 2>/dev/null
			rm -rf "$T"
		fi
	fi
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM HUP

# ------------------------------------------------------------ helpers

log() { printf '%s\n' "$*"; }

elapsed() { # seconds since the script started
	echo $(((${EPOCHREALTIME/./} - START_US) / 1000000))
}

# us_to_s MICROSECONDS: "1.234"
us_to_s() {
	awk -v u="$1" 'BEGIN { printf "%.3f", u / 1e6 }'
}

mib() { echo $(($1 * 1024 * 1024)); }

# cpu_busy: percent of CPU time not idle over one second, machine-wide
# (this script sleeps meanwhile, so it is everyone else's load).
cpu_busy() {
	local a b

	a=$(awk '$1 == "cpu" { print $2+$3+$4+$6+$7+$8, $5 }' /proc/stat)
	sleep 1
	b=$(awk '$1 == "cpu" { print $2+$3+$4+$6+$7+$8, $5 }' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		busy = y[1] - x[1]; idle = y[2] - x[2]
		printf "%d", (busy + idle) ? 100 * busy / (busy + idle) : 0
	}'
}

# case_start TITLE: the heading, the time so far and the machine's other
# load, which a benchmark on a shared machine needs to be read with.
CASE_T0=0
WAITED=0
case_start() {
	local busy waited=0

	busy=$(cpu_busy)
	while [ "$busy" -gt 15 ] && [ $waited -lt "$WAIT_IDLE" ]; do
		[ $waited = 0 ] &&
			log "   (waiting up to $WAIT_IDLE s for a quieter machine: ${busy}% CPU busy)"
		sleep 4
		waited=$((waited + 5))
		busy=$(cpu_busy)
	done
	WAITED=$((WAITED + waited))
	CASE_T0=${EPOCHREALTIME/./}
	log ""
	log "== $1  [t=$(elapsed) s, other CPU load ${busy}%]"
	META+=("load before '$1': ${busy}% CPU busy")
	[ "$busy" -le 15 ] ||
		log "   warning: the machine is busy (${busy}% CPU); timings will be noisy"
}

# rep_allowed REP: the first repetition always runs; later ones only
# while the run is within its time budget (time spent waiting for an idle
# machine not counted), so that a slow machine still finishes in bounds.
rep_allowed() {
	[ "$1" = 1 ] && return 0
	[ $(($(elapsed) - WAITED)) -lt $BUDGET ] && return 0
	log "   time budget of $BUDGET s reached: repetitions from $1 on skipped"
	META+=("time budget reached: some cases have fewer than $REPS repetitions")
	return 1
}

case_end() {
	log "   ($(( (${EPOCHREALTIME/./} - CASE_T0) / 1000000 )) s)"
}

# wait_port ADDR PORT [NS]: until something listens there (10 s).
wait_port() {
	local addr=$1 port=$2 ns=${3:-} i=0 pre=()

	[ -n "$ns" ] && pre=(ip netns exec "$ns")
	while [ $i -lt 100 ]; do
		"${pre[@]}" ss -Hltn "src $addr and sport = :$port" 2>/dev/null |
			grep -q . && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

port_free() { # port_free PORT: nothing listens on it here
	! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# status_kib PID FIELD: a /proc/PID/status field (VmRSS, VmHWM) in KiB.
status_kib() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# ------------------------------------------------------------ packages

install_missing() {
	local pkgs=() p

	# Peers and tools, then what building wharf needs (as bootstrap.sh).
	for p in openssh-server openssh-client rsync netcat-openbsd \
		iproute2 zstd procps perl cmake make gcc pkg-config \
		protobuf-c-compiler libprotobuf-c-dev libsodium-dev \
		libzstd-dev libcunit1-dev libedit-dev; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'ok installed' || pkgs+=("$p")
	done
	[ ${#pkgs[@]} = 0 ] && return 0
	log "bench: installing ${pkgs[*]}"
	# Installing openssh-server would start the system's sshd on port
	# 22; a policy-rc.d stops that (only if there is none already).
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d &&
			chmod 755 /usr/sbin/policy-rc.d && MADE_POLICY=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || die "apt-get update failed"
	apt-get install -y -qq --no-install-recommends "${pkgs[@]}" \
		>/dev/null || die "apt-get install ${pkgs[*]} failed"
	if [ $MADE_POLICY = 1 ]; then
		rm -f /usr/sbin/policy-rc.d
		MADE_POLICY=0
	fi
}

# ------------------------------------------------------------ data

# make_logs BYTES: generated log lines (web access, key=value app lines,
# JSON, syslog) with varied fields, deterministic.
make_logs() {
	awk -v target="$1" '
	function hex(n,   s, i) {
		s = ""
		for (i = 0; i < n; i += 4)
			s = s sprintf("%04x", int(rand() * 65536))
		return substr(s, 1, n)
	}
	function pick(arr, n) { return arr[int(rand() * n) + 1] }
	function clock(   d, h, m, s) {
		t += rand() * 0.05
		d = int(t / 86400); s = t - d * 86400
		h = int(s / 3600); m = int((s - h * 3600) / 60)
		s = s - h * 3600 - m * 60
		day = (d % 28) + 1
		return sprintf("%02d:%02d:%06.3f", h, m, s)
	}
	BEGIN {
		srand(42)
		split("GET GET GET GET POST POST PUT DELETE HEAD", meth, " ")
		split("200 200 200 200 200 200 201 204 301 304 400 401 403 " \
		    "404 404 500 502 503", code, " ")
		split("/api/v1/items /api/v1/items/%d /api/v1/users/%d " \
		    "/api/v2/orders/%d/lines /static/js/app.%x.js " \
		    "/static/css/site.%x.css /login /logout /search?q=%x " \
		    "/healthz /metrics /img/p/%d.jpg /cart/%d/checkout " \
		    "/api/v1/reports/%d?format=csv", path, " ")
		nua = split("Mozilla/5.0 (X11; Linux x86_64) Firefox/119.0|" \
		    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/119.0|" \
		    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Safari/17.1|" \
		    "curl/7.88.1|python-requests/2.31.0|Go-http-client/2.0|" \
		    "kube-probe/1.28|Prometheus/2.47.0", ua, "|")
		split("orders-api billing auth-gateway search-indexer " \
		    "inventory mailer scheduler", svc, " ")
		split("INFO INFO INFO INFO INFO DEBUG DEBUG WARN ERROR", lvl, " ")
		nmsg = split("request completed|order created|cache miss, " \
		    "loading from db|retrying payment provider call|user " \
		    "session refreshed|slow query detected|connection pool " \
		    "exhausted, waiting|job finished|token validation " \
		    "failed|index segment merged", msg, "|")
		split("sshd cron systemd kernel dockerd postfix/smtpd", dmn, " ")
		for (i = 1; i <= 4000; i++)
			ip[i] = sprintf("%d.%d.%d.%d", int(rand() * 223) + 1,
			    int(rand() * 256), int(rand() * 256),
			    int(rand() * 254) + 1)
		t = 3 * 86400; n = 0
		while (n < target) {
			r = rand(); c = clock()
			if (r < 0.40) {
				p = sprintf(pick(path, 14), int(rand() * 99999))
				line = sprintf("%s - - [%02d/Nov/2026:%s +0000] " \
				    "\"%s %s HTTP/1.1\" %s %d \"-\" \"%s\" " \
				    "rt=%.3f rid=%s", pick(ip, 4000), day,
				    substr(c, 1, 8), pick(meth, 9), p,
				    pick(code, 18), int(rand() * 90000),
				    pick(ua, nua), rand() * 2, hex(16))
			} else if (r < 0.70) {
				line = sprintf("2026-11-%02dT%sZ %-5s svc=%s " \
				    "host=web-%02d pid=%d req=%s user=u%d " \
				    "msg=\"%s\" latency_ms=%.1f bytes=%d",
				    day, c, pick(lvl, 9), pick(svc, 7),
				    int(rand() * 24), 1000 + int(rand() * 30000),
				    hex(16), int(rand() * 50000),
				    pick(msg, nmsg), rand() * 800,
				    int(rand() * 200000))
			} else if (r < 0.90) {
				line = sprintf("{\"ts\":\"2026-11-%02dT%sZ\"," \
				    "\"level\":\"%s\",\"service\":\"%s\"," \
				    "\"trace_id\":\"%s\",\"span_id\":\"%s\"," \
				    "\"msg\":\"%s\",\"attempt\":%d," \
				    "\"duration_ms\":%d}", day, c,
				    tolower(pick(lvl, 9)), pick(svc, 7), hex(32),
				    hex(16), pick(msg, nmsg), int(rand() * 4),
				    int(rand() * 5000))
			} else {
				line = sprintf("Nov %2d %s host-%02d %s[%d]: " \
				    "%s from %s port %d", day, substr(c, 1, 8),
				    int(rand() * 16), pick(dmn, 6),
				    100 + int(rand() * 60000), pick(msg, nmsg),
				    pick(ip, 4000), 1024 + int(rand() * 64000))
			}
			print line
			n += length(line) + 1
		}
	}' | head -c "$1"
}

# make_corpus FILE MIB: text from this machine (headers, docs, man pages,
# licences) and generated logs, interleaved in 1 MiB blocks so that any
# slice from the start is a fair mix of all of them.
make_corpus() {
	local out=$1 total dir=$T/corpus-parts part i f
	total=$(mib "$2")
	local inc=$((total * 30 / 100)) doc=$((total * 15 / 100))
	local man=$((total * 20 / 100)) have list=() parts=() more

	mkdir -p "$dir"
	find /usr/include -type f -print0 2>/dev/null | sort -z |
		xargs -0 cat 2>/dev/null | head -c "$inc" >"$dir/include"
	{
		find /usr/share/doc -type f ! -name '*.gz' \( -name '*.txt' \
			-o -name '*.md' -o -name '*.html' -o -name '*.rst' \
			-o -name copyright -o -name 'README*' \
			-o -name 'NEWS*' -o -name 'changelog*' \) -print0 |
			sort -z | xargs -0 cat 2>/dev/null
		find /usr/share/doc -type f -name '*.gz' -print0 | sort -z |
			xargs -0 zcat -f 2>/dev/null
	} | head -c "$doc" >"$dir/doc"
	find /usr/share/man -type f -name '*.gz' -print0 2>/dev/null |
		sort -z | xargs -0 zcat -f 2>/dev/null | head -c "$man" \
		>"$dir/man"
	cat /usr/share/common-licenses/* >"$dir/licenses" 2>/dev/null
	have=$(cat "$dir"/* | wc -c)
	more=$((total - have))
	[ "$more" -lt "$(mib 16)" ] && more=$(mib 16)
	make_logs "$more" >"$dir/logs"
	for part in include doc man licenses logs; do
		[ -s "$dir/$part" ] || continue
		split -b 1M -d -a 4 "$dir/$part" "$dir/blk.$part."
		parts+=("$part")
	done
	for ((i = 0; i < 10000; i++)); do
		local any=0
		for part in "${parts[@]}"; do
			f=$dir/blk.$part.$(printf %04d $i)
			[ -f "$f" ] && list+=("$f") && any=1
		done
		[ $any = 0 ] && break
	done
	cat "${list[@]}" >"$out"
	rm -rf "$dir"
}

# make_tree DIR N: N files of 1-16 KiB of random bytes in 20 folders.
make_tree() {
	perl -e '
		my ($dir, $n) = @ARGV;
		srand(7);
		open(my $r, "<:raw", "/dev/urandom") or die "urandom: $!";
		for my $d (0 .. 19) { mkdir sprintf("%s/d%02d", $dir, $d) }
		for my $i (0 .. $n - 1) {
			my $len = 1024 + int(rand(15 * 1024 + 1));
			read($r, my $buf, $len) == $len or die "urandom";
			my $p = sprintf("%s/d%02d/f%04d.bin", $dir, $i % 20, $i);
			open(my $f, ">:raw", $p) or die "$p: $!";
			print $f $buf;
			close($f) or die "$p: $!";
		}' "$1" "$2"
}

# ------------------------------------------------------------ results

ROWS=()              # "case|dir|tool" in the order measured
declare -A TIMES     # key -> "1.234 1.301 ..."
declare -A STATUS    # key -> ok | FAILED (reason)
declare -A BYTES     # key -> payload bytes
declare -A FILES     # key -> file count
declare -A SHOW      # key -> the client command
declare -A MEDIAN    # key -> seconds (after finish_rows)
declare -A MED_CC    # key -> client CPU seconds, median
declare -A MED_CS    # key -> server CPU seconds, median
declare -A MED_SY    # key -> sync seconds, median
declare -A MED_DUR   # key -> seconds until on disk (run + sync after), median
declare -A MED_WR    # key -> payload/wire ratio, median
declare -A RSS       # key -> KiB
declare -A HWM       # key -> KiB
META=()              # "name=value" lines for the CSV header

median() { # median NUMBERS...
	printf '%s\n' "$@" | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) exit
			if (NR % 2) printf "%.3f", v[(NR + 1) / 2]
			else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}

add_row() { # add_row KEY BYTES FILES SHOW
	if [ -z "${STATUS[$1]+x}" ]; then
		ROWS+=("$1")
		STATUS[$1]=ok
		TIMES[$1]=
	fi
	BYTES[$1]=$2
	FILES[$1]=$3
	SHOW[$1]=$4
}

# show_cmd ARGS...: the command as a shell line, temp paths as $T.
show_cmd() {
	local s

	s=$(printf '%q ' "$@")
	s=${s% }
	s=${s//$T/\$T}
	printf '%s' "${s//$REPO\//}"
}

# verify KIND SRC DST: file (cmp), size (length only), tree (diff -r).
verify() {
	case $1 in
	file) cmp -s "$2" "$3" ;;
	size) [ -f "$3" ] &&
		[ "$(stat -c %s "$2")" = "$(stat -c %s "$3")" ] ;;
	tree) diff -rq "$2" "$3" >/dev/null 2>&1 ;;
	esac
}

RUN_TIMEOUT=300
RUN_LOG=
CLK_TCK=$(getconf CLK_TCK)
declare -A CPU_C     # key -> client CPU seconds per run
declare -A CPU_S     # key -> server CPU seconds per run
declare -A SYNC_S    # key -> seconds a `sync` took right after the run
declare -A WIRE      # key -> wharf's payload bytes / wire bytes, per run
declare -A LINKB     # key -> bytes through the namespace link, per run
declare -A MED_LB    # key -> the same, median
RUN_LINK=            # set by on_link: the last run's bytes on the link

# wire_ratio LOG: payload/wire bytes of the last transfer wharf logged
# (how much its compression saved), or nothing.
wire_ratio() {
	grep -E 'op=(put|get) .*result=ok' "$1" 2>/dev/null | tail -n 1 |
		awk '{
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^bytes=/) b = substr($i, 7)
				if ($i ~ /^wire=/) w = substr($i, 6)
			}
			if (w > 0) printf "%.2f", b / w
		}'
}

# cpu_children: user+sys ms of this shell's finished children (builtins
# only: a forked helper would count itself).
cpu_children() {
	local a u s x

	times >"$T/times.txt"
	{
		read -r a
		read -r u s
	} <"$T/times.txt"
	CPU_MS=0
	for x in "$u" "$s"; do
		a=${x#*m}
		a=${a%s}
		CPU_MS=$((CPU_MS + ${x%%m*} * 60000 + 10#${a/./}))
	done
}

# cpu_proc PID: user+sys ms of PID, its threads and its finished children.
cpu_proc() {
	local st

	CPU_MS=0
	[ -n "$1" ] && read -r -a st <"/proc/$1/stat" 2>/dev/null || return 0
	CPU_MS=$(((st[13] + st[14] + st[15] + st[16]) * 1000 / CLK_TCK))
}

# server_of CMD...: the server process that does the other end of CMD
# (sshd and rsyncd fork a child per connection and reap it).
server_of() {
	local a

	case $1 in
	nc_up | nc_down) return 0 ;;
	"$WHARF")
		echo "$WHARFD_PID"
		return 0
		;;
	esac
	for a in "$@"; do
		case $a in rsync://*)
			echo "$RSYNCD_PID"
			return 0
			;;
		esac
	done
	echo "$SSHD_PID"
}

# reaped PID: waits (3 s at most) until PID has no children, so that
# their CPU time has been added to PID's.
reaped() {
	local i=0

	[ -n "$1" ] || return 0
	while [ $i -lt 30 ] && [ -n "$(ps -o pid= --ppid "$1")" ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# bench_one CASE DIR TOOL REP SRC DST -- CMD...: one timed run of CMD
# (a program, or a function with an optional FUNC_pre run untimed first).
# DST is removed first; the result is checked against SRC (in full on the
# first repetition and for anything up to 256 MiB, by size otherwise).
# A failed exit or check marks the tool FAILED and later runs are skipped.
# warm_memory BYTES: touch a little more than BYTES of memory and free it,
# just before a timed run. On a VM with free page reporting (Firecracker,
# virtio-balloon: "Free page reporting enabled" in dmesg) memory that has
# been free for a few seconds goes back to the host, and the next process
# to touch it pays the host's page faults: writing 1 GiB into the page
# cache cost 2.1 CPU-s after 8 s idle and 0.38 CPU-s right after this
# warm-up (docs/benchmarks.md). Without it the receiver of each run,
# whichever tool it is, is charged a varying share of the hypervisor's
# work. The receiver's page cache then comes from these freshly freed pages.
warm_memory() {
	local mib=$(($1 * 5 / 4 / 1048576 + 1))
	[ -d /dev/shm ] && [ -w /dev/shm ] || return 0
	[ "$(df -Pm /dev/shm | awk 'NR == 2 { print $4 }')" -gt $((mib + 256)) ] ||
		return 0
	dd if=/dev/zero of=/dev/shm/wharf-bench-warm bs=1M count="$mib" \
		status=none 2>/dev/null
	rm -f /dev/shm/wharf-bench-warm
}

bench_one() {
	local case=$1 dir=$2 tool=$3 rep=$4 src=$5 dst=$6 key rc t0 t1
	local bytes files kind show srv c0 c1 s0 s1 y0 y1

	shift 7
	key="$case|$dir|$tool"
	if [ -d "$src" ]; then
		bytes=$(du -sb --apparent-size "$src" | cut -f1)
		files=$(find "$src" -type f | wc -l)
		kind=tree
	else
		bytes=$(stat -c %s "$src")
		files=1
		kind="file"
		[ "$rep" -gt 1 ] && [ "$bytes" -gt "$(mib 256)" ] && kind="size"
	fi
	show=${CMD_SHOW:-$(show_cmd "$@")}
	add_row "$key" "$bytes" "$files" "$show"
	[ "${STATUS[$key]}" = ok ] || return 0
	rm -rf "$dst"
	mkdir -p "$(dirname "$dst")"
	give_srv
	sync
	[ "$bytes" -gt "$(mib 64)" ] && warm_memory "$bytes"
	RUN_LOG=$T/log/c$case-$dir-${tool//[^a-zA-Z0-9.-]/_}-$rep
	srv=$(server_of "$@")
	reaped "$srv"
	if declare -F "$1" >/dev/null; then
		if declare -F "$1_pre" >/dev/null; then
			"$1_pre" "${@:2}" || {
				STATUS[$key]="FAILED (setup)"
				log "  $tool: FAILED to set up, see $RUN_LOG.err"
				return 0
			}
		fi
		cpu_proc "$srv"
		s0=$CPU_MS
		cpu_children
		c0=$CPU_MS
		RUN_LINK=
		t0=${EPOCHREALTIME/./}
		"$@" </dev/null >"$RUN_LOG.out" 2>"$RUN_LOG.err"
		rc=$?
		t1=${EPOCHREALTIME/./}
	else
		cpu_proc "$srv"
		s0=$CPU_MS
		cpu_children
		c0=$CPU_MS
		t0=${EPOCHREALTIME/./}
		timeout -k 5 "$RUN_TIMEOUT" "$@" </dev/null >"$RUN_LOG.out" \
			2>"$RUN_LOG.err"
		rc=$?
		t1=${EPOCHREALTIME/./}
	fi
	cpu_children
	c1=$CPU_MS
	# What the received data still needs to reach the disk: wharf fsyncs
	# before it reports success, the others leave it to the kernel.
	y0=${EPOCHREALTIME/./}
	sync
	y1=${EPOCHREALTIME/./}
	reaped "$srv"
	cpu_proc "$srv"
	s1=$CPU_MS
	if [ $rc != 0 ]; then
		STATUS[$key]="FAILED (exit $rc)"
		log "  $(printf '%-8s %-28s' "$dir" "$tool") FAILED: exit $rc:" \
			"$(tail -c 300 "$RUN_LOG.err" | tr '\n' ' ')"
		return 0
	fi
	if ! verify "$kind" "$src" "$dst"; then
		STATUS[$key]="FAILED (verify)"
		log "  $(printf '%-8s %-28s' "$dir" "$tool")" \
			"FAILED: $dst differs from $src"
		return 0
	fi
	TIMES[$key]+="$(us_to_s $((t1 - t0))) "
	if [ "$srv" = "$WHARFD_PID" ] && [ "$kind" != tree ]; then
		WIRE[$key]+="$(wire_ratio "$WHARFD_LOG") "
	fi
	[ -n "$RUN_LINK" ] && LINKB[$key]+="$RUN_LINK "
	CPU_C[$key]+="$(us_to_s $(((c1 - c0) * 1000))) "
	CPU_S[$key]+="$(us_to_s $(((s1 - s0) * 1000))) "
	SYNC_S[$key]+="$(us_to_s $((y1 - y0))) "
	log "  $(printf '%-8s %-24s rep %d/%d %8s s  cpu client %6s s, server %6s s, sync after %6s s' \
		"$dir" "$tool" "$rep" "$REPS" "$(us_to_s $((t1 - t0)))" \
		"$(us_to_s $(((c1 - c0) * 1000)))" "$(us_to_s $(((s1 - s0) * 1000)))" \
		"$(us_to_s $((y1 - y0)))")${WIRE[$key]:+  payload/wire ${WIRE[$key]}}${RUN_LINK:+  link $RUN_LINK bytes}"
}

finish_rows() {
	local k w

	for k in "${ROWS[@]}"; do
		if [ "${STATUS[$k]}" = ok ] && [ -n "${TIMES[$k]}" ]; then
			# shellcheck disable=SC2086
			MEDIAN[$k]=$(median ${TIMES[$k]})
			# shellcheck disable=SC2086
			[ -n "${CPU_C[$k]:-}" ] && MED_CC[$k]=$(median ${CPU_C[$k]})
			# shellcheck disable=SC2086
			[ -n "${CPU_S[$k]:-}" ] && MED_CS[$k]=$(median ${CPU_S[$k]})
			# shellcheck disable=SC2086
			[ -n "${SYNC_S[$k]:-}" ] && MED_SY[$k]=$(median ${SYNC_S[$k]})
			# Time until the data is on the receiver's disk: the
			# run and the sync after it, repetition by repetition.
			# shellcheck disable=SC2046
			[ -n "${SYNC_S[$k]:-}" ] && MED_DUR[$k]=$(median $(
				paste -d' ' <(tr ' ' '\n' <<<"${TIMES[$k]}") \
					<(tr ' ' '\n' <<<"${SYNC_S[$k]}") |
					awk 'NF == 2 { printf "%.3f\n", $1 + $2 }'))
			w=${WIRE[$k]:-}
			# shellcheck disable=SC2086
			[ -n "${w// /}" ] && MED_WR[$k]=$(median $w | sed 's/0$//')
			# shellcheck disable=SC2086
			[ -n "${LINKB[$k]:-}" ] &&
				MED_LB[$k]=$(median ${LINKB[$k]} | sed 's/\..*//')
		else
			MEDIAN[$k]=
		fi
	done
}

mbps() { # mbps BYTES SECONDS
	awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / s / 1e6 }'
}

ratio() { # ratio TOOL_SECONDS WHARF_SECONDS: how many times faster wharf is
	[ -n "$1" ] && [ -n "$2" ] || return 0
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

# ------------------------------------------------------------ peers

CFG=            # ssh client config
WHARFD_PID='' WHARFD_LOG='' SSHD_PID='' RSYNCD_PID=''
PW=             # wharf password
P_SSH='' P_RSYNC='' P_WHARF='' P_NC='' P_W4='' P_WM=''

# pick_ports: ten free ports below the kernel's ephemeral range (where
# other programs' outgoing connections and port-0 servers would collide).
pick_ports() {
	local base p ok lo

	lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range)
	[ "${lo:-0}" -gt 12000 ] || lo=32768
	for _ in $(seq 1 50); do
		base=$((10000 + RANDOM % (lo - 10020)))
		ok=1
		for p in $(seq "$base" $((base + 9))); do
			port_free "$p" || ok=0
		done
		if [ $ok = 1 ]; then
			P_SSH=$base P_RSYNC=$((base + 1)) P_WHARF=$((base + 2))
			P_NC=$((base + 3)) P_W4=$((base + 4)) P_WM=$((base + 5))
			return 0
		fi
	done
	die "no 10 free ports in 10000-$lo"
}

setup_ssh() {
	local d=$T/ssh

	mkdir -p "$d"
	chmod 700 "$d"
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519" -C bench-host ||
		die "ssh-keygen"
	ssh-keygen -q -t ed25519 -N '' -f "$d/id_ed25519" -C bench-user ||
		die "ssh-keygen"
	cp "$d/id_ed25519.pub" "$d/authorized_keys"
	local addr
	for addr in lo ns; do
		local listen=127.0.0.1
		[ $addr = ns ] && listen=$NS_ADDR
		cat >"$d/sshd_$addr.conf" <<EOF
Port $P_SSH
ListenAddress $listen
HostKey $d/host_ed25519
PidFile none
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $d/authorized_keys
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
LogLevel ERROR
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
	done
	CFG=$d/ssh_config
	cat >"$CFG" <<EOF
Host bench-lo
	HostName 127.0.0.1
Host bench-ns
	HostName $NS_ADDR
Host *
	Port $P_SSH
	User root
	IdentityFile $d/id_ed25519
	IdentitiesOnly yes
	UserKnownHostsFile $d/known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking no
	UpdateHostKeys no
	BatchMode yes
	LogLevel ERROR
	ControlMaster no
EOF
	if [ ! -d /run/sshd ]; then
		mkdir -m 755 /run/sshd && MADE_RUN_SSHD=1
	fi
}

setup_rsyncd() {
	local addr

	for addr in lo ns; do
		local listen=127.0.0.1
		[ $addr = ns ] && listen=$NS_ADDR
		cat >"$T/rsyncd_$addr.conf" <<EOF
address = $listen
port = $P_RSYNC
use chroot = no
log file = $T/log/rsyncd_$addr.log
[bench]
	path = $T/srv
	read only = no
	uid = root
	gid = root
EOF
	done
}

# start_bg NAME NS CMD...: a server in the background (in namespace NS
# if not empty), logged to $T/log/NAME.log; sets BG_PID.
start_bg() {
	local name=$1 ns=$2

	shift 2
	if [ -n "$ns" ]; then
		ip netns exec "$ns" "$@" </dev/null >"$T/log/$name.log" 2>&1 &
	else
		"$@" </dev/null >"$T/log/$name.log" 2>&1 &
	fi
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

# start_peers WHERE: sshd, rsyncd and wharf on loopback (lo) or inside
# the namespace (ns); sets SSHD_PID, RSYNCD_PID, WHARFD_PID.
start_peers() {
	local where=$1 ns='' addr=127.0.0.1

	[ "$where" = ns ] && ns=$NS addr=$NS_ADDR
	# Checked again at each start: another run on this machine that made
	# /run/sshd removes it when it ends.
	if [ ! -d /run/sshd ]; then
		mkdir -m 755 /run/sshd && MADE_RUN_SSHD=1
	fi
	start_bg "sshd_$where" "$ns" /usr/sbin/sshd -D -e \
		-f "$T/ssh/sshd_$where.conf"
	SSHD_PID=$BG_PID
	start_bg "rsyncd_$where" "$ns" rsync --daemon --no-detach \
		--config="$T/rsyncd_$where.conf"
	RSYNCD_PID=$BG_PID
	give_srv
	start_bg "wharfd_$where" "$ns" "$WHARF" serve --root "$T/srv" \
		--state "$T/wstate" --listen "$addr:$P_WHARF" \
		--allow-plaintext --max-clients 128 --user "$BENCH_USER"
	WHARFD_PID=$BG_PID
	WHARFD_LOG=$T/log/wharfd_$where.log
	wait_port "$addr" "$P_SSH" "$ns" ||
		die "sshd ($where) did not start: $(cat "$T/log/sshd_$where.log")"
	wait_port "$addr" "$P_RSYNC" "$ns" ||
		die "rsyncd ($where) did not start: $(cat "$T/log/rsyncd_$where.log")"
	wait_port "$addr" "$P_WHARF" "$ns" ||
		die "wharf ($where) did not start: $(cat "$T/log/wharfd_$where.log")"
}

stop_peers() {
	local p

	for p in "$SSHD_PID" "$RSYNCD_PID" "$WHARFD_PID"; do
		kill_tree "$p"
		forget_pid "$p"
	done
}

setup_netns() {
	local a

	# The /30 must be ours alone.
	if ip -4 -o addr show | grep -q " $NET\.[0-3]/"; then
		die "$NET.0/30 is already in use here; set WHARF_BENCH_NET"
	fi
	NS=wbench$$
	VETH_H=wbh$$
	VETH_N=wbn$$
	local veth_n=$VETH_N
	ip netns add "$NS" || die "ip netns add $NS"
	ip link add "$VETH_H" type veth peer name "$veth_n" ||
		die "ip link add veth"
	ip link set "$veth_n" netns "$NS" || die "ip link set netns"
	ip addr add "$HOST_ADDR/30" dev "$VETH_H" || die "ip addr add"
	ip link set "$VETH_H" up || die "ip link set up"
	ip netns exec "$NS" ip addr add "$NS_ADDR/30" dev "$veth_n" ||
		die "ip addr add (ns)"
	ip netns exec "$NS" ip link set "$veth_n" up || die "ip link up (ns)"
	ip netns exec "$NS" ip link set lo up || die "ip link lo up (ns)"
	# shellcheck disable=SC2086
	tc qdisc add dev "$VETH_H" root tbf $TBF || die "tc (host side)"
	# shellcheck disable=SC2086
	ip netns exec "$NS" tc qdisc add dev "$veth_n" root tbf $TBF ||
		die "tc (namespace side)"
	a=$(ip -4 route get "$NS_ADDR" | head -n 1)
	case $a in
	*"dev $VETH_H"*) ;;
	*) die "route to $NS_ADDR does not use $VETH_H: $a" ;;
	esac
	META+=("link=veth pair, tc tbf $TBF, both directions")
}

# ------------------------------------------------------------ nc

NC_PID=

# nc_up ADDR PORT NS SRC DST: listener (in NS) writes DST; client sends
# SRC and shuts its side down at EOF; done when the listener exits.
nc_up_pre() {
	local addr=$1 port=$2 ns=$3 dst=$5 pre=()

	[ -n "$ns" ] && pre=(ip netns exec "$ns")
	timeout -k 5 "$RUN_TIMEOUT" "${pre[@]}" nc -l "$addr" "$port" \
		>"$dst" 2>"$RUN_LOG.server.err" </dev/null &
	NC_PID=$!
	BG_PIDS+=("$NC_PID")
	wait_port "$addr" "$port" "$ns"
}

nc_up() {
	local addr=$1 port=$2 src=$4 rc

	timeout -k 5 "$RUN_TIMEOUT" nc -N "$addr" "$port" <"$src"
	rc=$?
	wait "$NC_PID" || rc=1
	forget_pid "$NC_PID"
	return $rc
}

# nc_down ADDR PORT NS SRC DST: listener (in NS) sends SRC; the client
# writes DST until the server closes.
nc_down_pre() {
	local addr=$1 port=$2 ns=$3 src=$4 pre=()

	[ -n "$ns" ] && pre=(ip netns exec "$ns")
	timeout -k 5 "$RUN_TIMEOUT" "${pre[@]}" nc -N -l "$addr" "$port" \
		<"$src" >/dev/null 2>"$RUN_LOG.server.err" &
	NC_PID=$!
	BG_PIDS+=("$NC_PID")
	wait_port "$addr" "$port" "$ns"
}

nc_down() {
	local addr=$1 port=$2 dst=$5 rc

	timeout -k 5 "$RUN_TIMEOUT" nc -d "$addr" "$port" >"$dst"
	rc=$?
	wait "$NC_PID" || rc=1
	forget_pid "$NC_PID"
	return $rc
}

# sftp_batch BATCHLINE HOST: sftp -b with one command.
sftp_batch() {
	printf '%s\n' "$1" >"$RUN_LOG.batch"
	timeout -k 5 "$RUN_TIMEOUT" sftp -q -F "$CFG" -b "$RUN_LOG.batch" "$2"
}

# ------------------------------------------------------------ cases

W_FLAGS=(-q --no-progress)

case1() {
	local src=$T/srv/pub/big.bin up=$T/srv/recv/big.bin dl=$T/dl/big.bin
	local lo=bench-lo wl=bench@127.0.0.1:$P_WHARF rep
	local rs=rsync://127.0.0.1:$P_RSYNC/bench

	RUN_TIMEOUT=300
	case_start "case 1: loopback, $BIG_MIB MiB of random bytes, up and down"
	cat "$src" >/dev/null
	for ((rep = 1; rep <= REPS; rep++)); do
		rep_allowed $rep || break
		CMD_SHOW="server: nc -l 127.0.0.1 PORT > FILE; client: nc -N 127.0.0.1 PORT < big.bin" \
			bench_one 1 up "nc (raw TCP)" $rep "$src" "$up" -- \
			nc_up 127.0.0.1 "$P_NC" "" "$src" "$up"
		bench_one 1 up "scp" $rep "$src" "$up" -- \
			scp -q -F "$CFG" "$src" "$lo:$up"
		bench_one 1 up "scp -c aes128-gcm" $rep "$src" "$up" -- \
			scp -q -F "$CFG" -c aes128-gcm@openssh.com "$src" "$lo:$up"
		CMD_SHOW="sftp -q -F \$T/ssh/ssh_config -b BATCH bench-lo  (BATCH: put \$T/srv/pub/big.bin \$T/srv/recv/big.bin)" \
			bench_one 1 up "sftp" $rep "$src" "$up" -- \
			sftp_batch "put $src $up" "$lo"
		bench_one 1 up "rsync (ssh)" $rep "$src" "$up" -- \
			rsync -a -e "ssh -F $CFG" "$src" "$lo:$T/srv/recv/"
		bench_one 1 up "rsync (daemon)" $rep "$src" "$up" -- \
			rsync -a "$src" "$rs/recv/"
		bench_one 1 up "wharf" $rep "$src" "$up" -- \
			"$WHARF" put "$wl" "$src" /recv/ "${W_FLAGS[@]}"
		bench_one 1 up "wharf --plaintext" $rep "$src" "$up" -- \
			"$WHARF" put "$wl" "$src" /recv/ --plaintext "${W_FLAGS[@]}"
		bench_one 1 up "wharf --cipher aes256gcm" $rep "$src" "$up" -- \
			"$WHARF" put "$wl" "$src" /recv/ --cipher aes256gcm "${W_FLAGS[@]}"
		bench_one 1 up "wharf --plaintext --hash xxh128" $rep "$src" "$up" -- \
			"$WHARF" put "$wl" "$src" /recv/ --plaintext --hash xxh128 "${W_FLAGS[@]}"

		CMD_SHOW="server: nc -N -l 127.0.0.1 PORT < big.bin; client: nc -d 127.0.0.1 PORT > FILE" \
			bench_one 1 down "nc (raw TCP)" $rep "$src" "$dl" -- \
			nc_down 127.0.0.1 "$P_NC" "" "$src" "$dl"
		bench_one 1 down "scp" $rep "$src" "$dl" -- \
			scp -q -F "$CFG" "$lo:$src" "$T/dl/"
		bench_one 1 down "scp -c aes128-gcm" $rep "$src" "$dl" -- \
			scp -q -F "$CFG" -c aes128-gcm@openssh.com "$lo:$src" "$T/dl/"
		CMD_SHOW="sftp -q -F \$T/ssh/ssh_config -b BATCH bench-lo  (BATCH: get \$T/srv/pub/big.bin \$T/dl/big.bin)" \
			bench_one 1 down "sftp" $rep "$src" "$dl" -- \
			sftp_batch "get $src $dl" "$lo"
		bench_one 1 down "rsync (ssh)" $rep "$src" "$dl" -- \
			rsync -a -e "ssh -F $CFG" "$lo:$src" "$T/dl/"
		bench_one 1 down "rsync (daemon)" $rep "$src" "$dl" -- \
			rsync -a "$rs/pub/big.bin" "$T/dl/"
		bench_one 1 down "wharf" $rep "$src" "$dl" -- \
			"$WHARF" get "$wl" /pub/big.bin "$T/dl/" "${W_FLAGS[@]}"
		bench_one 1 down "wharf --plaintext" $rep "$src" "$dl" -- \
			"$WHARF" get "$wl" /pub/big.bin "$T/dl/" --plaintext "${W_FLAGS[@]}"
		bench_one 1 down "wharf --cipher aes256gcm" $rep "$src" "$dl" -- \
			"$WHARF" get "$wl" /pub/big.bin "$T/dl/" --cipher aes256gcm "${W_FLAGS[@]}"
		bench_one 1 down "wharf --plaintext --hash xxh128" $rep "$src" "$dl" -- \
			"$WHARF" get "$wl" /pub/big.bin "$T/dl/" --plaintext --hash xxh128 "${W_FLAGS[@]}"
	done
	rm -f "$up" "$dl"
	case_end
}

case2() {
	local src=$T/srv/pub/slice.txt up=$T/srv/recv/slice.txt rep
	local wn=bench@$NS_ADDR:$P_WHARF rs=rsync://$NS_ADDR:$P_RSYNC/bench
	local secs

	# Raw link time, and a generous bound for the slowest tool.
	secs=$((SLICE_MIB * 8 * 1048576 / 20000000))
	RUN_TIMEOUT=$((secs * 3 + 60))
	case_start "case 2: 20 Mbit/s link (namespace), $SLICE_MIB MiB of the corpus, upload"
	cat "$src" >/dev/null
	for ((rep = 1; rep <= REPS; rep++)); do
		rep_allowed $rep || break
		CMD_SHOW="server (namespace): nc -l $NS_ADDR PORT > FILE; client: nc -N $NS_ADDR PORT < slice.txt" \
			bench_one 2 up "nc (raw TCP)" $rep "$src" "$up" -- \
			nc_up "$NS_ADDR" "$P_NC" "$NS" "$src" "$up"
		bench_one 2 up "scp" $rep "$src" "$up" -- \
			scp -q -F "$CFG" "$src" "bench-ns:$up"
		bench_one 2 up "scp -C" $rep "$src" "$up" -- \
			scp -q -C -F "$CFG" "$src" "bench-ns:$up"
		bench_one 2 up "rsync -z (ssh)" $rep "$src" "$up" -- \
			rsync -a -z -e "ssh -F $CFG" "$src" "bench-ns:$T/srv/recv/"
		bench_one 2 up "rsync -z zstd (daemon)" $rep "$src" "$up" -- \
			rsync -a -z --compress-choice=zstd "$src" "$rs/recv/"
		bench_one 2 up "wharf" $rep "$src" "$up" -- \
			"$WHARF" put "$wn" "$src" /recv/ "${W_FLAGS[@]}"
		bench_one 2 up "wharf -z" $rep "$src" "$up" -- \
			"$WHARF" put "$wn" "$src" /recv/ -z "${W_FLAGS[@]}"
	done
	rm -f "$up"
	case_end
}

# Each run of case 3 writes into a folder of its own, and the trees are
# removed only at the end of the case. On ext4 without a journal (as here)
# the inode allocator skips inodes freed in the last minute or more
# (recently_deleted() in fs/ext4/ialloc.c), so a run made just after the
# previous tool's 2000 files were deleted paid for scanning past them, and
# the later a tool ran in a repetition the more it paid: up to half of
# the server's CPU in a run, always against wharf, which ran last.
case3() {
	local src=$T/srv/pub/small rep d
	local wl=bench@127.0.0.1:$P_WHARF

	RUN_TIMEOUT=300
	case_start "case 3: loopback, $SMALL_N files of 1-16 KiB, upload"
	find "$src" -type f -exec cat {} + >/dev/null
	for ((rep = 1; rep <= REPS; rep++)); do
		rep_allowed $rep || break
		d=c3-$rep
		bench_one 3 up "scp -r" $rep "$src" "$T/srv/recv/$d-scp/small" -- \
			scp -q -r -F "$CFG" "$src" "bench-lo:$T/srv/recv/$d-scp/"
		CMD_SHOW="sftp -q -F \$T/ssh/ssh_config -b BATCH bench-lo  (BATCH: put -r \$T/srv/pub/small \$T/srv/recv/DIR/small)" \
			bench_one 3 up "sftp put -r" $rep "$src" \
			"$T/srv/recv/$d-sftp/small" -- \
			sftp_batch "put -r $src $T/srv/recv/$d-sftp/small" bench-lo
		bench_one 3 up "rsync (daemon)" $rep "$src" \
			"$T/srv/recv/$d-rsync/small" -- rsync -a "$src" \
			"rsync://127.0.0.1:$P_RSYNC/bench/recv/$d-rsync/"
		bench_one 3 up "wharf put -r" $rep "$src" \
			"$T/srv/recv/$d-wharf/small" -- \
			"$WHARF" put "$wl" -r "$src" "/recv/$d-wharf/" "${W_FLAGS[@]}"
		bench_one 3 up "wharf put -r (key)" $rep "$src" \
			"$T/srv/recv/$d-wharfk/small" -- \
			"$WHARF" put "$wl" -r "$src" "/recv/$d-wharfk/" \
			-i "$T/home/wharf_key" "${W_FLAGS[@]}"
	done
	rm -rf "$T"/srv/recv/c3-*
	case_end
}

# ------------------------------------------------------------ delta, striping

# link_bytes: bytes through the namespace link so far, both directions,
# Ethernet, IP and TCP headers included (counted on the host's end).
link_bytes() {
	local d=/sys/class/net/$VETH_H/statistics r x

	read -r r <"$d/rx_bytes"
	read -r x <"$d/tx_bytes"
	echo $((r + x))
}

# on_link OLD DST CMD...: CMD over the namespace link, with DST holding a
# copy of OLD beforehand (the receiver's old version; none if OLD is -);
# RUN_LINK gets the bytes CMD moved over the link.
LINK0=0
on_link_pre() {
	if [ "$1" != - ]; then
		cp "$1" "$2" && touch -d 2001-01-01 "$2" || return 1
		sync
	fi
	LINK0=$(link_bytes)
}

on_link() {
	local rc

	shift 2
	timeout -k 5 "$RUN_TIMEOUT" "$@"
	rc=$?
	RUN_LINK=$(($(link_bytes) - LINK0))
	return $rc
}

# make_edits DIR: DIR/orig/data.bin ($DELTA_MIB MiB of random bytes) and
# three edited versions of it, each in its own folder under the same name:
# ins (1 MiB inserted in the middle), app (1 MiB appended) and ovw (1 MiB
# overwritten in place, at an offset no block size divides).
make_edits() {
	local d=$1 half=$(($(mib "$DELTA_MIB") / 2)) e

	for e in orig ins app ovw; do mkdir -p "$d/$e"; done
	head -c "$(mib "$DELTA_MIB")" /dev/urandom >"$d/orig/data.bin" || return 1
	head -c "$(mib 1)" /dev/urandom >"$d/one.bin" || return 1
	{
		head -c "$half" "$d/orig/data.bin"
		cat "$d/one.bin"
		tail -c +$((half + 1)) "$d/orig/data.bin"
	} >"$d/ins/data.bin" || return 1
	cat "$d/orig/data.bin" "$d/one.bin" >"$d/app/data.bin" || return 1
	cp "$d/orig/data.bin" "$d/ovw/data.bin" &&
		dd if="$d/one.bin" of="$d/ovw/data.bin" bs=64K \
			oflag=seek_bytes seek=$((half / 3 * 2 + 12345)) \
			conv=notrunc status=none
}

# The delta case: the receiver holds the old version of a file and the
# sender the edited one; what crosses the 20 Mbit/s link, and how long it
# takes, for rsync's delta and for wharf's.
DELTA_EDITS="ins app ovw"
declare -A EDIT_NAME=([ins]="1 MiB inserted in the middle"
	[app]="1 MiB appended" [ovw]="1 MiB overwritten in place")
case_delta() {
	local d=$T/delta old=$T/delta/orig/data.bin up=$T/srv/recv/data.bin
	local dl=$T/dl/data.bin wn=bench@$NS_ADDR:$P_WHARF e src rep
	local rs=rsync://$NS_ADDR:$P_RSYNC/bench

	RUN_TIMEOUT=300
	case_start "delta: $DELTA_MIB MiB random file, edited, over the $LINK_RATE link"
	mkdir -p "$T/srv/pub/delta"
	cp "$d/ins/data.bin" "$T/srv/pub/delta/data.bin"
	cat "$d"/*/data.bin >/dev/null
	for ((rep = 1; rep <= REPS; rep++)); do
		rep_allowed $rep || break
		for e in $DELTA_EDITS; do
			src=$d/$e/data.bin
			CMD_SHOW="rsync -a \$T/delta/$e/data.bin $rs/recv/  (receiver holds \$T/delta/orig/data.bin)" \
				bench_one delta "$e" "rsync (daemon)" $rep "$src" "$up" -- \
				on_link "$old" "$up" rsync -a "$src" "$rs/recv/"
			CMD_SHOW="wharf put $wn \$T/delta/$e/data.bin /recv/ -q --no-progress  (receiver holds \$T/delta/orig/data.bin)" \
				bench_one delta "$e" "wharf" $rep "$src" "$up" -- \
				on_link "$old" "$up" "$WHARF" put "$wn" "$src" /recv/ \
				"${W_FLAGS[@]}"
		done
		src=$T/srv/pub/delta/data.bin
		CMD_SHOW="rsync -a $rs/pub/delta/data.bin \$T/dl/  (\$T/dl holds the old version)" \
			bench_one delta "ins-dn" "rsync (daemon)" $rep "$src" "$dl" -- \
			on_link "$old" "$dl" rsync -a "$rs/pub/delta/data.bin" "$T/dl/"
		CMD_SHOW="wharf get $wn /pub/delta/data.bin \$T/dl/ -q --no-progress  (\$T/dl holds the old version)" \
			bench_one delta "ins-dn" "wharf" $rep "$src" "$dl" -- \
			on_link "$old" "$dl" "$WHARF" get "$wn" /pub/delta/data.bin \
			"$T/dl/" "${W_FLAGS[@]}"
	done
	rm -rf "$up" "$dl" "$T/srv/pub/delta"
	case_end
}

# shape_per_flow DEV NS MASK: on DEV (in namespace NS, or here), an htb
# class of FLOW_RATE for each TCP connection, in place of the tbf. A u32
# hash of 8 bits of the client's port (MASK over the ports word of the
# TCP header) picks one of 256 classes: two connections share a class
# only if their ports agree in those bits (Linux gives connect() even
# ports, so bit 0 is left out).
shape_per_flow() {
	local dev=$1 ns=$2 mask=$3 f=$T/tc-$1.batch i pre=()

	[ -n "$ns" ] && pre=(ip netns exec "$ns")
	{
		echo "qdisc add dev $dev root handle 1: htb default 1"
		echo "class add dev $dev parent 1: classid 1:1 htb rate 10gbit quantum 60000"
		for ((i = 0; i < 256; i++)); do
			printf 'class add dev %s parent 1: classid 1:%x htb rate %s ceil %s quantum 60000\n' \
				"$dev" $((0x100 + i)) "$FLOW_RATE" "$FLOW_RATE"
		done
		echo "filter add dev $dev parent 1: prio 1 protocol ip u32"
		echo "filter add dev $dev parent 1: prio 1 handle 2: protocol ip u32 divisor 256"
		echo "filter add dev $dev parent 1: prio 1 protocol ip u32 ht 800:: match ip protocol 6 0xff hashkey mask $mask at 20 link 2:"
		for ((i = 0; i < 256; i++)); do
			printf 'filter add dev %s parent 1: prio 1 protocol ip u32 ht 2:%x: match u32 0 0 flowid 1:%x\n' \
				"$dev" "$i" $((0x100 + i))
		done
	} >"$f"
	"${pre[@]}" tc qdisc del dev "$dev" root 2>/dev/null
	"${pre[@]}" tc -batch "$f" || die "tc: per-flow shaping on $dev"
}

# The striping case: each TCP connection limited to FLOW_RATE (as by a
# provider's per-flow shaping); one stream against several.
case_stripe() {
	local src=$T/srv/pub/stripe.bin up=$T/srv/recv/stripe.bin
	local dl=$T/dl/stripe.bin wn=bench@$NS_ADDR:$P_WHARF n rep secs

	# Host side: client ports are the source; namespace side: destination.
	shape_per_flow "$VETH_H" "" 0x01fe0000
	shape_per_flow "$VETH_N" "$NS" 0x000001fe
	META+=("striping link: htb, $FLOW_RATE per TCP connection (u32 hash of the client port over 256 classes), both directions")
	secs=$((STRIPE_MIB * 8 * 1048576 / ${FLOW_RATE%mbit} / 1000000))
	RUN_TIMEOUT=$((secs * 3 + 60))
	case_start "striping: $STRIPE_MIB MiB, $FLOW_RATE per TCP connection (namespace)"
	cat "$src" >/dev/null
	for ((rep = 1; rep <= REPS; rep++)); do
		rep_allowed $rep || break
		CMD_SHOW="server (namespace): nc -l $NS_ADDR PORT > FILE; client: nc -N $NS_ADDR PORT < stripe.bin" \
			bench_one stripe up "nc (raw TCP)" $rep "$src" "$up" -- \
			nc_up "$NS_ADDR" "$P_NC" "$NS" "$src" "$up"
		for n in 1 2 4; do
			bench_one stripe up "wharf --streams $n" $rep "$src" "$up" -- \
				"$WHARF" put "$wn" "$src" /recv/ --streams $n "${W_FLAGS[@]}"
		done
		for n in 1 4; do
			bench_one stripe down "wharf --streams $n" $rep "$src" "$dl" -- \
				"$WHARF" get "$wn" /pub/stripe.bin "$T/dl/" --streams $n \
				"${W_FLAGS[@]}"
		done
	done
	rm -f "$up" "$dl"
	case_end
}

# case_prim: one core's MB/s for each primitive on wharf's data path
# (bench/primitives.c), to read the transfer numbers against.
declare -A PRIM
PRIM_ORDER=()
case_prim() {
	local cflags=() name line

	case_start "primitives: one core, 1 MiB chunks"
	if [ -f /usr/include/openssl/evp.h ]; then
		cflags=(-DWITH_OPENSSL -lcrypto)
	fi
	if [ -f /usr/include/xxhash.h ]; then
		cflags+=(-DWITH_XXHASH -lxxhash)
	fi
	if ! cc -O2 -o "$T/primitives" "$HERE/primitives.c" -lsodium -lzstd \
		"${cflags[@]}" 2>"$T/log/primitives.build"; then
		log "  could not build bench/primitives.c: $(head -c 300 "$T/log/primitives.build")"
		return 0
	fi
	mkdir -p "$T/srv/recv/commit"
	"$T/primitives" "$([ -f "$T/srv/pub/slice.txt" ] &&
		echo "$T/srv/pub/slice.txt" || echo /usr/share/common-licenses/GPL-3)" \
		"$T/srv/recv/commit" >"$T/log/primitives.txt" 2>&1
	rm -rf "$T/srv/recv/commit"
	while IFS= read -r line; do
		case $line in *" MB/s"* | *" ms per file"*) ;; *) continue ;; esac
		name=$(printf '%s' "${line:0:34}" | sed 's/ *$//')
		PRIM[$name]=$(printf '%s' "${line:34}" | sed 's/^ *//')
		PRIM_ORDER+=("$name")
		log "  $line"
	done <"$T/log/primitives.txt"
	case_end
}

# start_wharfd NAME PORT: a fresh server (its own peak RSS); sets W_PID.
# Case 4 and the idle sessions log 100 clients in at once from one
# address: the pre-login limits (sshd's MaxStartups, 10 per source by
# default) would refuse 90 of them, so they are raised to the client count.
start_wharfd() {
	give_srv
	start_bg "$1" "" "$WHARF" serve --root "$T/srv" --state "$T/wstate" \
		--listen "127.0.0.1:$2" --max-clients 128 --user "$BENCH_USER" \
		--max-startups 128 --per-source-max-startups 128
	W_PID=$BG_PID
	wait_port 127.0.0.1 "$2" || die "wharf ($1) did not start"
}

stop_wharfd() {
	kill_tree "$W_PID"
	forget_pid "$W_PID"
}

case4() {
	local src=$T/srv/pub/scale.bin dir=$T/srv/recv/scale rep i rc t0 t1
	local key pids fails hwm hwm_max=0 bytes c0 c1 s0 s1

	case_start "case 4: $SCALE_N concurrent wharf clients, $SCALE_MIB MiB each, upload"
	cat "$src" >/dev/null
	key="4|up|wharf x$SCALE_N"
	bytes=$(($(stat -c %s "$src") * SCALE_N))
	add_row "$key" "$bytes" "$SCALE_N" \
		"$SCALE_N x: wharf put bench@127.0.0.1:PORT scale.bin /recv/scale/fNNN.bin -q --no-progress"
	for ((rep = 1; rep <= REPS; rep++)); do
		rep_allowed $rep || break
		rm -rf "$dir"
		mkdir -p "$dir"
		sync
		start_wharfd "wharfd_scale$rep" "$P_W4"
		cpu_proc "$W_PID"
		s0=$CPU_MS
		cpu_children
		c0=$CPU_MS
		pids=()
		t0=${EPOCHREALTIME/./}
		for ((i = 0; i < SCALE_N; i++)); do
			timeout -k 5 300 "$WHARF" put "bench@127.0.0.1:$P_W4" \
				"$src" "/recv/scale/f$i.bin" "${W_FLAGS[@]}" \
				</dev/null >/dev/null 2>"$T/log/c4-$rep-$i.err" &
			pids+=($!)
			BG_PIDS+=($!)
		done
		fails=0
		for i in "${pids[@]}"; do
			wait "$i" || fails=$((fails + 1))
			forget_pid "$i"
		done
		t1=${EPOCHREALTIME/./}
		cpu_children
		c1=$CPU_MS
		cpu_proc "$W_PID"
		s1=$CPU_MS
		hwm=$(status_kib "$W_PID" VmHWM)
		[ "${hwm:-0}" -gt "$hwm_max" ] && hwm_max=$hwm
		stop_wharfd
		if [ $fails != 0 ]; then
			STATUS[$key]="FAILED ($fails clients failed)"
			log "  wharf x$SCALE_N: FAILED: $fails clients failed, e.g." \
				"$(cat "$T"/log/c4-$rep-*.err | head -c 300)"
			break
		fi
		for ((i = 0; i < SCALE_N; i++)); do
			if ! verify "$([ "$rep" = 1 ] && echo file || echo size)" \
				"$src" "$dir/f$i.bin"; then
				STATUS[$key]="FAILED (verify)"
				fails=1
			fi
		done
		if [ $fails != 0 ]; then
			log "  wharf x$SCALE_N: FAILED: a received file differs"
			break
		fi
		TIMES[$key]+="$(us_to_s $((t1 - t0))) "
		CPU_C[$key]+="$(us_to_s $(((c1 - c0) * 1000))) "
		CPU_S[$key]+="$(us_to_s $(((s1 - s0) * 1000))) "
		log "  $(printf '%-8s %-28s rep %d/%d %8s s  cpu client %s s, server %s s, server VmHWM %d KiB' \
			up "wharf x$SCALE_N" "$rep" "$REPS" \
			"$(us_to_s $((t1 - t0)))" "$(us_to_s $(((c1 - c0) * 1000)))" \
			"$(us_to_s $(((s1 - s0) * 1000)))" "$hwm")"
	done
	HWM[$key]=$hwm_max
	rm -rf "$dir"
	case_end
}

# held_start FIFO COUNT: COUNT `wharf connect -b -` sessions reading the
# fifo, which this shell keeps open (so they stay idle until it closes).
HELD_PIDS=()
held_start() {
	local fifo=$1 n=$2 i

	mkfifo "$fifo" || die "mkfifo"
	# Read-write: opening never blocks; the clients must not inherit it,
	# or closing it would not be their end of input.
	exec {HELD_FD}<>"$fifo"
	HELD_PIDS=()
	for ((i = 0; i < n; i++)); do
		timeout -k 5 600 "$WHARF" connect "bench@127.0.0.1:$P_WM" \
			-b - -q <"$fifo" >"$T/log/held-$i.out" \
			2>"$T/log/held-$i.err" {HELD_FD}>&- &
		HELD_PIDS+=($!)
		BG_PIDS+=($!)
	done
}

held_end() {
	local p i=0

	exec {HELD_FD}>&-
	for p in "${HELD_PIDS[@]}"; do
		while kill -0 "$p" 2>/dev/null && [ $i -lt 300 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill_tree "$p"
		forget_pid "$p"
	done
}

# wait_logins N [SECONDS]: until the memory server logged N logins.
wait_logins() {
	local n=0 limit=$((${2:-120} * 10))

	while [ $n -lt $limit ]; do
		[ "$(grep -c 'op=login result=ok' "$T/log/wharfd_mem.log")" \
			-ge "$1" ] && return 0
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# held_transfer CMD LOGPATTERN: sends CMD to the held session and
# samples the server's VmRSS until the server logs LOGPATTERN; prints the
# peak VmRSS seen (KiB).
held_transfer() {
	local peak=0 v n=0 before

	before=$(grep -c -- "$2" "$T/log/wharfd_mem.log")
	echo "$1" >&"$HELD_FD"
	while [ $n -lt 3000 ]; do
		v=$(status_kib "$W_PID" VmRSS)
		[ "${v:-0}" -gt "$peak" ] && peak=$v
		[ "$(grep -c -- "$2" "$T/log/wharfd_mem.log")" -gt "$before" ] &&
			break
		sleep 0.05
		n=$((n + 1))
	done
	echo "$peak"
}

case_mem() {
	local base login p10 pbig pget idle_rss idle_hwm threads k

	case_start "memory: server RSS against file size, and with $IDLE_N idle sessions"
	start_wharfd wharfd_mem "$P_WM"
	base=$(status_kib "$W_PID" VmRSS)
	rm -rf "$T/srv/recv/mem" "$T/dl/mem"
	mkdir -p "$T/srv/recv/mem" "$T/dl/mem"
	# The server runs as $BENCH_USER: the folder it writes is its own
	# (without this every put of the case was refused, PERMISSION).
	give_srv
	held_start "$T/held1.fifo" 1
	wait_logins 1 30 || die "memory: the held session did not log in"
	sleep 0.5
	login=$(status_kib "$W_PID" VmRSS)
	p10=$(held_transfer "put $T/srv/pub/scale.bin /recv/mem/small.bin" \
		'op=put path="/recv/mem/small.bin"')
	pbig=$(held_transfer "put $T/srv/pub/big.bin /recv/mem/big.bin" \
		'op=put path="/recv/mem/big.bin"')
	pget=$(held_transfer "get /pub/big.bin $T/dl/mem/big.bin" \
		'op=get path="/pub/big.bin"')
	held_end
	grep -q 'op=put path="/recv/mem/big.bin" result=ok' \
		"$T/log/wharfd_mem.log" || log "  memory: the 1 GiB put failed"
	k="mem|-|server RSS after start"
	add_row "$k" 0 0 "wharf serve --max-clients 128"
	RSS[$k]=$base
	k="mem|-|server RSS, 1 session logged in"
	add_row "$k" 0 0 "wharf connect -b - (idle)"
	RSS[$k]=$login
	k="mem|up|server peak RSS, put $SCALE_MIB MiB"
	add_row "$k" "$(stat -c %s "$T/srv/pub/scale.bin")" 1 "put (held session)"
	RSS[$k]=$p10
	k="mem|up|server peak RSS, put $BIG_MIB MiB"
	add_row "$k" "$(stat -c %s "$T/srv/pub/big.bin")" 1 "put (held session)"
	RSS[$k]=$pbig
	k="mem|down|server peak RSS, get $BIG_MIB MiB"
	add_row "$k" "$(stat -c %s "$T/srv/pub/big.bin")" 1 "get (held session)"
	RSS[$k]=$pget
	rm -rf "$T/srv/recv/mem" "$T/dl/mem"
	log "  RSS after start $base KiB, logged in $login KiB, peak during" \
		"put $SCALE_MIB MiB $p10 KiB, put $BIG_MIB MiB $pbig KiB," \
		"get $BIG_MIB MiB $pget KiB"

	held_start "$T/held2.fifo" "$IDLE_N"
	if wait_logins $((IDLE_N + 1)) 180; then
		sleep 1
		idle_rss=$(status_kib "$W_PID" VmRSS)
		idle_hwm=$(status_kib "$W_PID" VmHWM)
		threads=$(awk '$1 == "Threads:" { print $2 }' \
			"/proc/$W_PID/status")
		k="mem|-|server RSS, $IDLE_N idle sessions"
		add_row "$k" 0 "$IDLE_N" "$IDLE_N x: wharf connect bench@127.0.0.1:PORT -b - -q < FIFO"
		RSS[$k]=$idle_rss
		HWM[$k]=$idle_hwm
		log "  $IDLE_N idle sessions: VmRSS $idle_rss KiB, VmHWM" \
			"$idle_hwm KiB, $threads threads"
	else
		k="mem|-|server RSS, $IDLE_N idle sessions"
		add_row "$k" 0 "$IDLE_N" "wharf connect -b -"
		STATUS[$k]="FAILED (logins)"
		log "  idle sessions: FAILED: only" \
			"$(grep -c 'op=login result=ok' "$T/log/wharfd_mem.log")" \
			"logins"
	fi
	held_end
	stop_wharfd
	case_end
}

# ------------------------------------------------------------ report

print_table() { # print_table CASE TITLE REF1 REF2
	local case=$1 title=$2 ref1=$3 ref2=${4:-} k dir tool med st
	local r1 r2 m1 m2 hdr

	log ""
	log "$title"
	hdr=$(printf '  %-5s %-24s %9s %8s %8s %8s %13s %6s  %s' dir tool \
		"median s" "MB/s" "${ref1:+÷${ref1#wharf }}" "${ref2:+÷${ref2#wharf }}" \
		"cpu s cli+srv" "sync s" "runs (s)")
	log "$hdr"
	for k in "${ROWS[@]}"; do
		IFS='|' read -r c dir tool <<<"$k"
		[ "$c" = "$case" ] || continue
		med=${MEDIAN[$k]}
		st=${STATUS[$k]}
		m1=${MEDIAN["$case|$dir|$ref1"]:-}
		m2=
		[ -n "$ref2" ] && m2=${MEDIAN["$case|$dir|$ref2"]:-}
		if [ "$st" = ok ] && [ -n "$med" ]; then
			r1=$(ratio "$med" "$m1")
			r2=$(ratio "$med" "$m2")
			log "$(printf '  %-5s %-24s %9s %8s %8s %8s %13s %6s  %s' \
				"$dir" "$tool" "$med" "$(mbps "${BYTES[$k]}" "$med")" \
				"$r1" "$r2" "${MED_CC[$k]:-?}+${MED_CS[$k]:-?}" \
				"${MED_SY[$k]:--}" "${TIMES[$k]}")${MED_WR[$k]:+ (payload/wire ${MED_WR[$k]})}"
		else
			log "$(printf '  %-5s %-24s %9s' "$dir" "$tool" "$st")"
		fi
	done
}

# print_delta_table: per edit, each tool's time and bytes on the link.
print_delta_table() {
	local k c e tool med lb wm wl

	log ""
	log "Delta: $DELTA_MIB MiB random file, the receiver holds the old version; $LINK_RATE link (namespace)"
	log "  link MiB: bytes through the link, both directions, headers included (full copy: $DELTA_MIB MiB, $((DELTA_MIB * 8 * 1048576 / ${LINK_RATE%mbit} / 1000000)) s)"
	log "$(printf '  %-7s %-16s %9s %9s %8s %8s  %s' edit tool "median s" \
		"link MiB" "÷wharf" "÷bytes" "runs (s)")"
	for k in "${ROWS[@]}"; do
		IFS='|' read -r c e tool <<<"$k"
		[ "$c" = delta ] || continue
		med=${MEDIAN[$k]}
		if [ "${STATUS[$k]}" != ok ] || [ -z "$med" ]; then
			log "$(printf '  %-7s %-16s %s' "$e" "$tool" "${STATUS[$k]}")"
			continue
		fi
		lb=${MED_LB[$k]:-}
		wm=${MEDIAN["delta|$e|wharf"]:-}
		wl=${MED_LB["delta|$e|wharf"]:-}
		log "$(printf '  %-7s %-16s %9s %9s %8s %8s  %s' "$e" "$tool" "$med" \
			"$(awk -v b="${lb:-0}" 'BEGIN { printf "%.2f", b / 1048576 }')" \
			"$(ratio "$med" "$wm")" "$(ratio "$lb" "$wl")" "${TIMES[$k]}")"
	done
	for e in $DELTA_EDITS; do log "  $e: ${EDIT_NAME[$e]}, upload"; done
	log "  ins-dn: the ins file, download"
}

# target TEXT OK: one line of the targets list.
TARGETS=()
target() {
	TARGETS+=("$(printf '%-7s %s' "$2" "$1")")
}

# ge A B: A >= B (numbers)
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# over A B X: A / B >= X, judged on the medians themselves, not on the
# ratio as rounded for the table.
over() { awk -v a="$1" -v b="$2" -v x="$3" 'BEGIN { exit !(a >= x * b) }'; }

# cpu_sum KEY: median client + median server CPU seconds of a row.
cpu_sum() {
	[ -n "${MED_CC[$1]:-}" ] && [ -n "${MED_CS[$1]:-}" ] || return 0
	awk -v a="${MED_CC[$1]}" -v b="${MED_CS[$1]}" 'BEGIN { printf "%.2f", a + b }'
}

check_targets() {
	local d s w wp r best bk k t e

	if want 1; then
		for d in up down; do
			s=${MEDIAN["1|$d|scp"]:-}
			w=${MEDIAN["1|$d|wharf"]:-}
			if [ -n "$s" ] && [ -n "$w" ]; then
				r=$(ratio "$s" "$w")
				over "$s" "$w" 1.5 && t=MET || t=MISSED
				target "case 1 $d: wharf >= 1.5x scp (default cipher) throughput: ${r}x" $t
			else
				target "case 1 $d: wharf >= 1.5x scp: no result" n/a
			fi
			# CPU per GiB, both sides (the file is 1 GiB).
			s=$(cpu_sum "1|$d|scp")
			w=$(cpu_sum "1|$d|wharf")
			if [ -n "$s" ] && [ -n "$w" ]; then
				r=$(awk -v a="$w" -v b="$s" 'BEGIN { printf "%.2f", a / b }')
				awk -v r="$r" 'BEGIN { exit !(r <= 0.6) }' && t=MET || t=MISSED
				target "case 1 $d: wharf CPU-s client+server <= 0.6x scp's: $w against $s = ${r}x" $t
			fi
			# wharf's time includes its fsync; the others leave
			# the data to the kernel: to the disk, both pay it.
			for k in "scp|wharf" "scp -c aes128-gcm|wharf --cipher aes256gcm" \
			    "rsync (daemon)|wharf --plaintext --hash xxh128"; do
				s=${MED_DUR["1|$d|${k%%|*}"]:-}
				w=${MED_DUR["1|$d|${k#*|}"]:-}
				[ -n "$s" ] && [ -n "$w" ] || continue
				target "case 1 $d, to disk (time + sync after): ${k#*|} against ${k%%|*}: $(ratio "$s" "$w")x" info
			done
			s=${MEDIAN["1|$d|scp -c aes128-gcm"]:-}
			w=${MEDIAN["1|$d|wharf --cipher aes256gcm"]:-}
			if [ -n "$s" ] && [ -n "$w" ]; then
				r=$(ratio "$s" "$w")
				over "$s" "$w" 1.0 && t=MET || t=MISSED
				target "case 1 $d: wharf --cipher aes256gcm >= scp -c aes128-gcm: ${r}x" $t
			fi
			s=${MEDIAN["1|$d|rsync (daemon)"]:-}
			w=${MEDIAN["1|$d|wharf --plaintext --hash xxh128"]:-}
			if [ -n "$s" ] && [ -n "$w" ]; then
				r=$(ratio "$s" "$w")
				over "$s" "$w" 1.0 && t=MET || t=MISSED
				target "case 1 $d: wharf --plaintext --hash xxh128 >= rsync daemon: ${r}x" $t
			fi
			s=${MEDIAN["1|$d|rsync (daemon)"]:-}
			wp=${MEDIAN["1|$d|wharf --plaintext"]:-}
			if [ -n "$s" ] && [ -n "$wp" ]; then
				r=$(ratio "$s" "$wp")
				over "$s" "$wp" 1.0 && t=MET || t=MISSED
				target "case 1 $d: wharf --plaintext >= rsync daemon: ${r}x" $t
			else
				target "case 1 $d: wharf --plaintext >= rsync daemon: no result" n/a
			fi
		done
	fi
	if want 2; then
		best='' bk=''
		for k in "scp -C" "rsync -z (ssh)" "rsync -z zstd (daemon)"; do
			s=${MEDIAN["2|up|$k"]:-}
			[ -n "$s" ] || continue
			if [ -z "$best" ] || ge "$best" "$s"; then
				best=$s bk=$k
			fi
		done
		for k in wharf "wharf -z"; do
			w=${MEDIAN["2|up|$k"]:-}
			if [ -n "$w" ] && [ -n "$best" ]; then
				r=$(awk -v a="$w" -v b="$best" 'BEGIN { printf "%.2f", a / b }')
				over "$best" "$w" 1.25 && t=MET || t=MISSED
				target "case 2: $k time <= 0.8x best compressed tool ($bk, $best s): $w s = ${r}x" $t
			else
				target "case 2: $k <= 0.8x best compressed tool: no result" n/a
			fi
		done
	fi
	if want 3; then
		s=${MEDIAN["3|up|rsync (daemon)"]:-}
		w=${MEDIAN["3|up|wharf put -r (key)"]:-}
		if [ -n "$w" ] && [ -n "$s" ]; then
			r=$(ratio "$s" "$w")
			over "$s" "$w" 1.0 && t=MET || t=MISSED
			target "case 3: wharf put -r (key login) >= rsync (daemon): ${r}x" $t
		fi
		w=${MEDIAN["3|up|wharf put -r"]:-}
		for k in "rsync (daemon)" "sftp put -r" "scp -r"; do
			s=${MEDIAN["3|up|$k"]:-}
			if [ -n "$w" ] && [ -n "$s" ]; then
				r=$(ratio "$s" "$w")
				if [ "$k" = "rsync (daemon)" ]; then
					over "$s" "$w" 1.0 && t=MET || t=MISSED
					target "case 3: wharf >= $k: ${r}x" $t
				else
					over "$s" "$w" 1.0001 && t=MET || t=MISSED
					target "case 3: wharf faster than $k: ${r}x" $t
				fi
			else
				target "case 3: wharf vs $k: no result" n/a
			fi
		done
	fi
	if want mem; then
		k="mem|-|server RSS, $IDLE_N idle sessions"
		s=${RSS[$k]:-}
		if [ -n "$s" ] && [ "${STATUS[$k]}" = ok ]; then
			[ "$s" -lt 65536 ] && t=MET || t=MISSED
			target "memory: server VmRSS with $IDLE_N idle sessions < 64 MiB: $((s / 1024)) MiB" $t
		else
			target "memory: idle sessions: no result" n/a
		fi
		local small=${RSS["mem|up|server peak RSS, put $SCALE_MIB MiB"]:-}
		local big=${RSS["mem|up|server peak RSS, put $BIG_MIB MiB"]:-}
		local get=${RSS["mem|down|server peak RSS, get $BIG_MIB MiB"]:-}
		if [ -n "$small" ] && [ -n "$big" ]; then
			# Growth within 8 MiB counts as flat (allocator noise).
			[ $((big - small)) -le 8192 ] && [ $((get - small)) -le 8192 ] &&
				t=MET || t=MISSED
			target "memory: server peak RSS flat in file size: put $SCALE_MIB MiB $((small / 1024)) MiB, put $BIG_MIB MiB $((big / 1024)) MiB, get $BIG_MIB MiB $((get / 1024)) MiB" $t
		fi
	fi
	if want delta; then
		for e in ins:4 app:2; do
			k="delta|${e%:*}|wharf"
			s=${MED_LB[$k]:-}
			if [ -n "$s" ]; then
				[ "$s" -lt "$(mib "${e#*:}")" ] && t=MET || t=MISSED
				target "delta: ${EDIT_NAME[${e%:*}]} of $DELTA_MIB MiB, upload: under ${e#*:} MiB on the link: $(awk -v b="$s" 'BEGIN { printf "%.2f", b / 1048576 }') MiB (rsync daemon $(awk -v b="${MED_LB["delta|${e%:*}|rsync (daemon)"]:-0}" 'BEGIN { printf "%.2f", b / 1048576 }') MiB)" $t
			else
				target "delta: ${e%:*}: no result" n/a
			fi
		done
	fi
	if want stripe; then
		for d in up down; do
			s=${MEDIAN["stripe|$d|wharf --streams 1"]:-}
			w=${MEDIAN["stripe|$d|wharf --streams 4"]:-}
			[ -n "$s" ] && [ -n "$w" ] &&
				target "striping (no number set), $d: --streams 4 moves $(ratio "$s" "$w")x as fast as one stream at $FLOW_RATE per connection" info
		done
	fi
	if want 4; then
		k="4|up|wharf x$SCALE_N"
		[ -n "${HWM[$k]:-}" ] &&
			target "case 4 (no target): $SCALE_N clients, peak server VmHWM $((${HWM[$k]} / 1024)) MiB" info
	fi
}

csv_field() { # quote a CSV field
	local s=${1//\"/\"\"}
	printf '"%s"' "$s"
}

write_csv() {
	local f=$1 k c dir tool med r1 r2 m1 m2 ref1 ref2 m

	{
		echo "# wharf benchmark, bench/run.sh ($RUN_NAME)"
		for m in "${META[@]}"; do echo "# $m"; done
		echo "case,direction,tool,bytes,files,reps,status,median_s,mb_s,ratio_wharf,ratio_wharf2,rss_kib,hwm_kib,times_s,command,cpu_client_s,cpu_server_s,sync_s,wire_ratio,link_bytes"
		for k in "${PRIM_ORDER[@]}"; do
			case ${PRIM[$k]} in
			*MB/s*) mb=${PRIM[$k]%% *} ;;
			*) mb='' ;;
			esac
			printf 'prim,-,%s,,,,ok,,%s,,,,,,%s,,,,,\n' "$(csv_field "$k")" \
				"$mb" "$(csv_field "bench/primitives.c: ${PRIM[$k]}")"
		done
		for k in "${ROWS[@]}"; do
			IFS='|' read -r c dir tool <<<"$k"
			case $c in
			1) ref1=wharf ref2="wharf --plaintext" ;;
			2) ref1=wharf ref2="wharf -z" ;;
			3) ref1="wharf put -r" ref2= ;;
			delta) ref1=wharf ref2= ;;
			stripe) ref1="wharf --streams 1" ref2= ;;
			*) ref1='' ref2='' ;;
			esac
			med=${MEDIAN[$k]:-}
			m1='' m2=''
			[ -n "$ref1" ] && m1=${MEDIAN["$c|$dir|$ref1"]:-}
			[ -n "$ref2" ] && m2=${MEDIAN["$c|$dir|$ref2"]:-}
			r1='' r2='' mb=''
			if [ -n "$med" ]; then
				r1=$(ratio "$med" "$m1")
				r2=$(ratio "$med" "$m2")
				mb=$(mbps "${BYTES[$k]}" "$med")
			fi
			printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' \
				"$c" "$dir" "$(csv_field "$tool")" "${BYTES[$k]}" \
				"${FILES[$k]}" "$REPS" "$(csv_field "${STATUS[$k]}")" \
				"$med" "$mb" "$r1" "$r2" "${RSS[$k]:-}" \
				"${HWM[$k]:-}" "$(csv_field "${TIMES[$k]% }")" \
				"$(csv_field "${SHOW[$k]}")" "${MED_CC[$k]:-}" \
				"${MED_CS[$k]:-}" "${MED_SY[$k]:-}" "${MED_WR[$k]:-}" \
				"${MED_LB[$k]:-}"
		done
	} >"$f"
}

# ------------------------------------------------------------ main

main() {
	local parent=${WHARF_BENCH_DIR:-/tmp} free_kib

	[ -d "$parent" ] || die "WHARF_BENCH_DIR=$parent is not a directory"
	case $parent in *[[:space:]]*) die "the temp dir path may not contain spaces" ;; esac
	free_kib=$(df -Pk "$parent" | awk 'NR == 2 { print $4 }')
	if [ $USE_TMPFS = 0 ] && [ "$free_kib" -lt $((NEED_GIB * 1048576)) ]; then
		die "only $((free_kib / 1048576)) GiB free in $parent, need $NEED_GIB GiB (set WHARF_BENCH_DIR)"
	fi
	install_missing
	if [ -n "$NICE" ]; then
		# Children inherit both: every client and server started here.
		renice -n "$NICE" -p $$ >/dev/null || die "renice"
		ionice -c 2 -n 0 -p $$ || die "ionice"
		META+=("priority=nice $NICE, I/O best-effort 0 (--nice)")
	fi
	command -v /usr/sbin/sshd >/dev/null || die "sshd missing"
	case $(rsync --version) in *zstd*) ;; *) false ;; esac ||
		die "this rsync has no zstd (needed for --compress-choice=zstd)"

	if [ -n "${WHARF_BIN:-}" ]; then
		WHARF=$WHARF_BIN
	else
		log "bench: building wharf (Release) in build-bench/"
		mkdir -p "$REPO/build-bench"
		cmake -S "$REPO" -B "$REPO/build-bench" \
			-DCMAKE_BUILD_TYPE=Release >"$REPO/build-bench/bench-build.log" 2>&1 ||
			die "cmake configure failed: see build-bench/bench-build.log"
		cmake --build "$REPO/build-bench" -j"$(nproc)" --target wharf \
			>>"$REPO/build-bench/bench-build.log" 2>&1 ||
			die "wharf build failed: see build-bench/bench-build.log"
		WHARF=$REPO/build-bench/wharf
	fi
	[ -x "$WHARF" ] || die "$WHARF is not executable"

	T=$(mktemp -d "$parent/wharf-bench.XXXXXX") || die "mktemp"
	if [ $USE_TMPFS = 1 ]; then
		mount -t tmpfs -o size=$((NEED_GIB + 2))g,mode=700 tmpfs "$T" ||
			die "mount tmpfs"
		MOUNTED=1
	fi
	# The servers' account must reach $T/srv and $T/wstate.
	chmod 711 "$T"
	mkdir -p "$T/log" "$T/srv/pub" "$T/srv/recv" "$T/dl" "$T/home"
	# wharf's known_hosts, and nothing from the caller's own setup.
	export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config
	PW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	export WHARF_PASSWORD=$PW
	printf '%s\n' "$PW" | "$WHARF" user add bench --init --state "$T/wstate" \
		>/dev/null 2>&1 || die "wharf user add failed"
	# A key for the key-login rows (case 3 "wharf put -r (key)").
	"$WHARF" keygen -f "$T/home/wharf_key" -C bench >/dev/null 2>&1 &&
		"$WHARF" user key add bench "$T/home/wharf_key.pub" \
			--state "$T/wstate" >/dev/null 2>&1 ||
		die "wharf keygen / user key add failed"

	META+=("date=$(date -u +%Y-%m-%dT%H:%M:%SZ)")
	META+=("host=$(nproc) cores, $(awk '/MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo), $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)")
	META+=("kernel=$(uname -r)")
	META+=("wharf=$("$WHARF" --version 2>/dev/null | head -n 1) git $(git -C "$REPO" describe --always --dirty 2>/dev/null)")
	META+=("ssh=$(ssh -V 2>&1)")
	META+=("rsync=$(rsync --version | head -n 1)")
	META+=("nc=$(dpkg-query -W -f='netcat-openbsd ${Version}' netcat-openbsd)")
	META+=("zstd=$(zstd --version)")
	META+=("reps=$REPS (median reported)")
	META+=("storage=$([ $USE_TMPFS = 1 ] && echo tmpfs || df -PT "$T" | awk 'NR == 2 { print $2 " on " $1 }')")

	log "bench: temp dir $T, wharf $WHARF, $REPS repetition(s)"
	log "bench: making data"
	head -c "$(mib "$BIG_MIB")" /dev/urandom >"$T/srv/pub/big.bin" ||
		die "making big.bin"
	head -c "$(mib "$SCALE_MIB")" /dev/urandom >"$T/srv/pub/scale.bin"
	META+=("big=$BIG_MIB MiB random bytes (big.bin)")
	if want 2; then
		make_corpus "$T/corpus.txt" "$CORPUS_MIB"
		head -c "$(mib "$SLICE_MIB")" "$T/corpus.txt" >"$T/srv/pub/slice.txt"
		local csz zsz ssz szs gzs
		csz=$(stat -c %s "$T/corpus.txt")
		zsz=$(zstd -3 -T1 -c -q "$T/corpus.txt" | wc -c)
		ssz=$(stat -c %s "$T/srv/pub/slice.txt")
		szs=$(zstd -3 -T1 -c -q "$T/srv/pub/slice.txt" | wc -c)
		gzs=$(gzip -6 -c "$T/srv/pub/slice.txt" | wc -c)
		local line
		line="corpus=$((csz / 1048576)) MiB (headers, docs, man pages, licences, generated logs; 1 MiB blocks interleaved), zstd -3 ratio $(awk -v a="$csz" -v b="$zsz" 'BEGIN { printf "%.2f", a / b }'); slice $SLICE_MIB MiB: zstd -3 $(awk -v a="$ssz" -v b="$szs" 'BEGIN { printf "%.2f", a / b }'), gzip -6 $(awk -v a="$ssz" -v b="$gzs" 'BEGIN { printf "%.2f", a / b }')"
		META+=("$line")
		log "bench: $line"
		rm -f "$T/corpus.txt"
	fi
	if want 3; then
		mkdir -p "$T/srv/pub/small"
		make_tree "$T/srv/pub/small" "$SMALL_N" || die "making the tree"
		META+=("tree=$SMALL_N files of 1-16 KiB random bytes in 20 folders, $(du -sb --apparent-size "$T/srv/pub/small" | awk '{ printf "%.1f MiB", $1 / 1048576 }')")
	fi

	if want delta; then
		make_edits "$T/delta" || die "making the delta files"
		META+=("delta=$DELTA_MIB MiB random bytes; ins: ${EDIT_NAME[ins]}; app: ${EDIT_NAME[app]}; ovw: ${EDIT_NAME[ovw]}")
	fi
	if want stripe; then
		head -c "$(mib "$STRIPE_MIB")" /dev/urandom >"$T/srv/pub/stripe.bin" ||
			die "making stripe.bin"
	fi

	case_prim
	pick_ports
	setup_ssh
	setup_rsyncd
	log "bench: data ready after $(elapsed) s; ports from $P_SSH"

	if want 1 || want 3; then
		start_peers lo
		want 1 && case1
		want 3 && case3
		stop_peers
	fi
	if want 2 || want delta || want stripe; then
		setup_netns
		start_peers ns
		want 2 && case2
		want delta && case_delta
		want stripe && case_stripe
		stop_peers
	fi
	want 4 && case4
	want mem && case_mem

	finish_rows
	mkdir -p "$RESULTS"
	{
		log "wharf benchmark ($RUN_NAME), $(date -u +%Y-%m-%dT%H:%M:%SZ), $REPS repetition(s), median seconds; MB/s = 10^6 bytes/s"
		log "÷X = tool's median time / X's median time: how many times faster X is (above 1: X faster)"
		for m in "${META[@]}"; do log "  $m"; done
		if [ ${#PRIM_ORDER[@]} -gt 0 ]; then
			log ""
			log "Primitives: one core, 1 MiB chunks"
			for k in "${PRIM_ORDER[@]}"; do
				log "$(printf '  %-36s %s' "$k" "${PRIM[$k]}")"
			done
		fi
		want 1 && print_table 1 "Case 1: loopback, $BIG_MIB MiB random file" wharf "wharf --plaintext"
		want 2 && print_table 2 "Case 2: $LINK_RATE link (namespace), $SLICE_MIB MiB corpus slice, upload" wharf "wharf -z"
		want 3 && print_table 3 "Case 3: loopback, $SMALL_N small files, upload" "wharf put -r"
		want delta && print_delta_table
		want stripe && print_table stripe "Striping: $STRIPE_MIB MiB, $FLOW_RATE per TCP connection (namespace)" "wharf --streams 1"
		if want 4; then
			print_table 4 "Case 4: $SCALE_N concurrent wharf clients x $SCALE_MIB MiB, upload" ""
			k="4|up|wharf x$SCALE_N"
			log "  peak server VmHWM: ${HWM[$k]:-?} KiB"
		fi
		if want mem; then
			log ""
			log "Memory (wharf serve, KiB)"
			for k in "${ROWS[@]}"; do
				case $k in mem*) ;; *) continue ;; esac
				IFS='|' read -r c dir tool <<<"$k"
				if [ "${STATUS[$k]}" = ok ]; then
					log "$(printf '  %-40s VmRSS %8s%s' "$tool" \
						"${RSS[$k]}" "${HWM[$k]:+  VmHWM ${HWM[$k]}}")"
				else
					log "$(printf '  %-40s %s' "$tool" "${STATUS[$k]}")"
				fi
			done
		fi
		check_targets
		log ""
		log "Targets"
		for t in "${TARGETS[@]}"; do log "  $t"; done
		log ""
		log "total time $(elapsed) s"
	} | tee "$RESULTS/$RUN_NAME.txt"
	write_csv "$RESULTS/$RUN_NAME.csv"
	log "bench: wrote $RESULTS/$RUN_NAME.txt and $RESULTS/$RUN_NAME.csv"
}

main
