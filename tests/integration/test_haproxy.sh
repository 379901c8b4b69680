#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# HAProxy in TCP mode with send-proxy-v2 in front of two servers on one
# state folder and root, on loopback (docs/deployment.md). The servers
# take PROXY headers from 127.0.0.1 only (--proxy-from). Checked: 100
# clients through the balancer, every file identical; the servers log the
# clients' own addresses (a raw client bound to 127.0.0.5 is logged as
# 127.0.0.5 with its port, a wharf client as the port it used, never the
# balancer's); a PROXY header from an address not listed is a wrong
# preface; and one server killed in the middle of uploads: the clients
# that retry finish through the other, resuming. Skipped (exit 77) where
# haproxy is not installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer_lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

command -v haproxy >/dev/null || {
	skip "haproxy is not installed (Debian haproxy)"
	exit 77
}

# Load bounds: clients in all, and at once.
CLIENTS=100
WAVE=20

ROOT1=$ROOT ROOT2=$ROOT STATE1=$STATE STATE2=$STATE
add_user "$CL_USER" "$CL_PW"
# One server told by the command line, the other by its configuration
# file (the proxy-from key, which SIGHUP reloads: below).
printf 'proxy-from = 127.0.0.1\n' >"$T/s2.conf"
chmod 644 "$T/s2.conf"
# Every test client's real address is 127.0.0.1, so the per-source limit
# on connections not logged in yet (10) would refuse part of a wave of 20
# plus haproxy's health checks whenever logins are slow (ASan in CI saw
# "server busy"); a lab's clients come from many addresses.
cl_start 1 --proxy-from 127.0.0.1 --per-source-max-startups 64 -v
cl_start 2 --config "$T/s2.conf" --per-source-max-startups 64 -v

HP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T/haproxy.cfg" <<EOC
global
    maxconn 1000
    pidfile $T/haproxy.pid
defaults
    mode tcp
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    retries 2
    option redispatch
frontend wharf
    bind 127.0.0.1:$HP
    default_backend servers
backend servers
    balance roundrobin
    server s1 127.0.0.1:${CL_PORTS[1]} send-proxy-v2 check inter 500 fall 1 rise 2
    server s2 127.0.0.1:${CL_PORTS[2]} send-proxy-v2 check inter 500 fall 1 rise 2
EOC
haproxy -c -q -f "$T/haproxy.cfg" || fail "haproxy rejects the test's configuration"
haproxy -db -f "$T/haproxy.cfg" </dev/null >"$T/haproxy.out" 2>&1 &
HAPROXY_PID=$!
BG_PIDS+=("$HAPROXY_PID")
n=0
until (exec 3<>"/dev/tcp/127.0.0.1/$HP") 2>/dev/null || [ $n -ge 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
proc_alive "$HAPROXY_PID" || fail "haproxy did not start: $(cat "$T/haproxy.out")"

via() { # the balancer's address for clients
	printf '127.0.0.1:%s' "$HP"
}

# --- 100 clients, in waves, every file identical
mkdir -p "$T/src" "$ROOT/hp"
give_tree "$ROOT"
for i in $(seq 1 $CLIENTS); do
	head -c $((20000 + i * 997)) /dev/urandom >"$T/src/c$i.bin"
done
i=1
while [ $i -le $CLIENTS ]; do
	pids=()
	for k in $(seq $i $((i + WAVE - 1))); do
		[ $k -le $CLIENTS ] || break
		timeout 120 env WHARF_PASSWORD="$CL_PW" "$W" put -q \
			"$CL_USER@$(via)" "$T/src/c$k.bin" "hp/c$k.bin" \
			</dev/null >/dev/null 2>"$T/c$k.err" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || true
	done
	i=$((i + WAVE))
done
bad=0
for i in $(seq 1 $CLIENTS); do
	check_sanitizers "$T/c$i.err"
	cmp -s "$T/src/c$i.bin" "$ROOT/hp/c$i.bin" || {
		bad=$((bad + 1))
		echo "client $i: $(cat "$T/c$i.err")"
	}
done
assert_eq 0 "$bad" "files not identical after $CLIENTS clients through haproxy"
n1=$(grep -c 'op=put path="/hp/c[0-9]*.bin" result=ok' "${CL_LOGS[1]}")
n2=$(grep -c 'op=put path="/hp/c[0-9]*.bin" result=ok' "${CL_LOGS[2]}")
assert_eq $CLIENTS $((n1 + n2)) "uploads logged by the two servers"
[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] ||
	fail "haproxy sent every client to one server ($n1 and $n2)"
pass

# Every proxied connection is logged with the client's address, and the
# balancer's own connection beside it: never the same port.
vias=$(cat "${CL_LOGS[1]}" "${CL_LOGS[2]}" | grep -c ' via balancer=127.0.0.1:')
[ "$vias" -ge $CLIENTS ] || fail "only $vias connections logged as proxied"
pass
same=$(cat "${CL_LOGS[1]}" "${CL_LOGS[2]}" |
	sed -n 's/.* peer=\([^ ]*\) via balancer=\([^ ]*\)$/\1 \2/p' |
	awk '$1 == $2' | wc -l)
assert_eq 0 "$same" "connections logged with the balancer's address"

# A raw client bound to 127.0.0.5: logged as 127.0.0.5 and its port.
src_port=$(python3 - "$HP" <<'EOP'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.5", 0))
s.connect(("127.0.0.1", int(sys.argv[1])))
# The wharf preface (magic, versions 1..1): the server answers with its.
s.sendall(b"\x89WHARF\r\n\x00\x01\x00\x01")
s.shutdown(socket.SHUT_WR)
s.settimeout(10)
try:
    s.recv(100)
except OSError:
    pass
print(s.getsockname()[1])
s.close()
EOP
)
n=0
until cat "${CL_LOGS[1]}" "${CL_LOGS[2]}" |
	grep -q " peer=127.0.0.5:$src_port connect" || [ $n -ge 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
assert_contains "$(cat "${CL_LOGS[1]}" "${CL_LOGS[2]}")" \
	" peer=127.0.0.5:$src_port connect" "the client's own address logged"

# The same PROXY header straight from an address not listed (127.0.0.6
# is not in --proxy-from): a wrong preface, and the address is its own.
python3 - "${CL_PORTS[1]}" <<'EOP'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.6", 0))
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"PROXY TCP4 192.0.2.9 127.0.0.1 1234 4450\r\n")
s.shutdown(socket.SHUT_WR)
s.settimeout(10)
try:
    s.recv(100)
except OSError:
    pass
s.close()
EOP
cl_on 1
wait_log 'peer=127\.0\.0\.6:[0-9]+ not a wharf client \(bad preface\)' 10 ||
	fail "the untrusted PROXY header was not refused as a wrong preface:" \
		"$(grep '127.0.0.6' "$LOG")"
assert_not_contains "$(cat "${CL_LOGS[1]}")" "peer=192.0.2.9" \
	"an untrusted header's address is never believed"

# Listed by a SIGHUP (server 2's file), 127.0.0.6 is a balancer: the same
# header is read, and the address it gives is the one logged.
printf 'proxy-from = 127.0.0.1,127.0.0.6\n' >"$T/s2.conf"
kill -HUP "${CL_PIDS[2]}"
cl_on 2
wait_log 'reloaded: .* proxy-from=127\.0\.0\.1,127\.0\.0\.6' 10 ||
	fail "SIGHUP did not reload proxy-from: $(grep SIGHUP "$LOG")"
python3 - "${CL_PORTS[2]}" <<'EOP'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.6", 0))
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"PROXY TCP4 192.0.2.9 127.0.0.1 1234 4450\r\n"
          b"\x89WHARF\r\n\x00\x01\x00\x01")
s.shutdown(socket.SHUT_WR)
s.settimeout(10)
try:
    s.recv(100)
except OSError:
    pass
s.close()
EOP
wait_log ' peer=192\.0\.2\.9:1234 connect' 10 ||
	fail "the header from a balancer added by SIGHUP was not believed:" \
		"$(grep '127.0.0.6\|192.0.2.9' "$LOG")"
pass

# --- one server killed in the middle; the clients retry, resuming
BIGN=6
for i in $(seq 1 $BIGN); do
	rand_file "$T/src/big$i.bin" $((24 * 1024 * 1024))
done
pids=()
for i in $(seq 1 $BIGN); do
	env WHARF_PASSWORD="$CL_PW" "$W" put -q "$CL_USER@$(via)" \
		"$T/src/big$i.bin" "hp/big$i.bin" --no-delta \
		</dev/null >/dev/null 2>"$T/big$i.err" &
	pids+=($!)
	BG_PIDS+=($!)
done
# Once server 1 has a partial well under way, it dies.
n=0
while [ $n -lt 600 ]; do
	grown=0
	for i in $(seq 1 $BIGN); do
		sz=$(stat -c %s "$ROOT/hp/.big$i.bin.wharf-part" 2>/dev/null || echo 0)
		[ "$sz" -ge $((2 * 1024 * 1024)) ] && grown=$((grown + 1))
	done
	[ $grown -ge 2 ] && break
	sleep 0.05
	n=$((n + 1))
done
kill -KILL "${CL_PIDS[1]}"
wait "${CL_PIDS[1]}" 2>/dev/null
forget_pid "${CL_PIDS[1]}"
failed=0
for i in $(seq 1 $BIGN); do
	n=0
	while proc_alive "${pids[i - 1]}" && [ $n -lt 1200 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	proc_alive "${pids[i - 1]}" && kill -KILL "${pids[i - 1]}"
	wait "${pids[i - 1]}" || failed=$((failed + 1))
	forget_pid "${pids[i - 1]}"
done
echo "INFO: $failed of $BIGN uploads broke with server 1"
[ "$failed" -ge 1 ] || skip "no upload was on server 1 when it died"
# Retry as a user would: up to 3 times, through the balancer.
for i in $(seq 1 $BIGN); do
	cmp -s "$T/src/big$i.bin" "$ROOT/hp/big$i.bin" && continue
	for try in 1 2 3; do
		run env WHARF_PASSWORD="$CL_PW" "$W" put -q "$CL_USER@$(via)" \
			"$T/src/big$i.bin" "hp/big$i.bin" --no-delta
		[ "$RC" = 0 ] && break
		sleep 1
	done
	assert_exit 0 "upload $i retried through the balancer"
done
for i in $(seq 1 $BIGN); do
	assert_same "$T/src/big$i.bin" "$ROOT/hp/big$i.bin" "big file $i"
done
if [ "$failed" -ge 1 ]; then
	assert_match "$(grep 'op=put path="/hp/big' "${CL_LOGS[2]}")" \
		'resumed=[1-9]' "a retried upload resumed on server 2"
fi
cl_on 2
server_alive "${CL_PIDS[2]}"
kill_wait "$HAPROXY_PID"
forget_pid "$HAPROXY_PID"
stop_server "${CL_PIDS[2]}"
finish
