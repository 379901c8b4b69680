#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The server as a service: driven by its configuration file alone,
# --check-config, `wharf user` finding the server's state through the same
# file, sd_notify READY/RELOADING/STOPPING on a socket of the test's, SIGHUP
# (a new user, a changed setting, a rotated log), and SIGTERM's drain: an
# upload in flight completes while new connections are refused, a second
# SIGTERM stops at once, and past drain-timeout the partial upload stays
# resumable.
. "$(dirname "$0")/lib.sh"

MiB=$((1024 * 1024))
CONF=$T/etc/service.conf
LOGDIR=$T/logs
LOG=$LOGDIR/wharf.log
SINK=$T/notify.txt
mkdir -p "$LOGDIR"
# The server reopens its log after a rotation as the account it serves
# as, in a folder of that account's (as tmpfiles.d makes /var/log/wharf).
give_tree "$LOGDIR"

# write_conf [EXTRA LINES...]: the whole server configuration (its root
# $CONF_ROOT if set).
write_conf() {
	{
		echo "# the test's server: no option but --config"
		echo "listen = 127.0.0.1:0"
		echo "root = ${CONF_ROOT:-$ROOT}"
		echo "state = $STATE"
		# Relative: from the file's folder, not the working one.
		echo "log = ../logs/wharf.log"
		[ -z "$SERVE_USER" ] || echo "user = $SERVE_USER"
		printf '%s\n' "$@"
	} >"$CONF"
	chmod 644 "$CONF"
}

# A datagram socket standing in for systemd's: one line per datagram.
cat >"$T/sink.py" <<'EOF'
import os, socket, sys, time
name, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name[1:] if name.startswith("@") else name)
if not name.startswith("@"):
    os.chmod(name, 0o666)
s.settimeout(1)
open(out + ".ready", "w").close()
end = time.monotonic() + 200
with open(out, "ab", buffering=0) as f:
    while time.monotonic() < end:
        try:
            d = s.recv(4096)
        except socket.timeout:
            continue
        f.write(d.replace(b"\n", b" ") + b"\n")
EOF

# start_sink NAME: listens on NAME (a path or @abstract) into $SINK.
start_sink() {
	local n=0

	rm -f "$SINK" "$SINK.ready"
	python3 "$T/sink.py" "$1" "$SINK" </dev/null >/dev/null 2>&1 &
	BG_PIDS+=($!)
	while [ ! -e "$SINK.ready" ] && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -e "$SINK.ready" ] || fail "the notify socket did not start"
	export NOTIFY_SOCKET=$1
}

# wait_sink ERE [N]: until N (default 1) datagrams match.
wait_sink() {
	local n=0

	while [ "$(grep -Ec -- "$1" "$SINK" 2>/dev/null)" -lt "${2:-1}" ] &&
		[ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ "$(grep -Ec -- "$1" "$SINK" 2>/dev/null)" -ge "${2:-1}" ]
}

# serve_conf [OPTIONS...]: `wharf serve --config $CONF` (and OPTIONS);
# sets SERVER_PID and PORT.
serve_conf() {
	local off n=0

	off=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
	SERVER_N=$((SERVER_N + 1))
	SERVER_ERR=$T/server.$SERVER_N.stderr
	give_tree "$ROOT"
	"$W" serve --config "$CONF" "$@" </dev/null 2>"$SERVER_ERR" &
	SERVER_PID=$!
	BG_PIDS+=("$SERVER_PID")
	PORT=
	while [ -z "$PORT" ] && [ $n -lt 100 ]; do
		PORT=$(tail -c +$((off + 1)) "$LOG" 2>/dev/null |
			sed -n 's/.* listening on .*:\([0-9][0-9]*\)$/\1/p' |
			head -n 1)
		[ -n "$PORT" ] && break
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
		n=$((n + 1))
	done
	[ -n "$PORT" ] || fail "server did not start: $(cat "$SERVER_ERR")"
	export PORT
}

# wait_exit [PID]: up to 10 s for the server to exit; sets RC.
wait_exit() {
	local pid=${1:-$SERVER_PID} n=0

	while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -0 "$pid" 2>/dev/null && fail "server $pid did not exit in 10 s"
	wait "$pid"
	RC=$?
	forget_pid "$pid"
	check_sanitizers "$SERVER_ERR"
}

# slow_put FILE NAME: uploads FILE as NAME through a relay that lets 1 MiB
# a second through, in the background (BGP_PID; BGP_OUT, BGP_ERR), and
# waits until the server holds at least 1 MiB of it.
slow_put() {
	local pf=$T/throttle.$SERVER_N.port n=0

	python3 "$(dirname "$0")/rel_throttle.py" --target "127.0.0.1:$PORT" \
		--port-file "$pf" --rate "$MiB" --lifetime 60 \
		</dev/null >/dev/null 2>&1 &
	BG_PIDS+=($!)
	while [ ! -s "$pf" ] && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -s "$pf" ] || fail "the throttling relay did not start"
	BGP_OUT=$T/put.$SERVER_N.out
	BGP_ERR=$T/put.$SERVER_N.err
	env WHARF_PASSWORD=pw timeout -k 5 60 "$W" put \
		"alice@127.0.0.1:$(cat "$pf")" "$1" "$2" --no-progress \
		--compress=off </dev/null >"$BGP_OUT" 2>"$BGP_ERR" &
	BGP_PID=$!
	BG_PIDS+=("$BGP_PID")
	PART=$ROOT/.$2.wharf-part
	n=0
	while [ "$(stat -c %s "$PART" 2>/dev/null || echo 0)" -lt "$MiB" ] &&
		[ $n -lt 300 ]; do
		kill -0 "$BGP_PID" 2>/dev/null || break
		sleep 0.05
		n=$((n + 1))
	done
	[ "$(stat -c %s "$PART" 2>/dev/null || echo 0)" -ge "$MiB" ] ||
		fail "the slowed upload never wrote 1 MiB: $(cat "$BGP_ERR")"
	pass
}

# --- --check-config: the file alone, checked and left.
write_conf "max-clients = 8" "idle-timeout = 60" "drain-timeout = 30"
run "$W" serve --config "$CONF" --check-config
assert_exit 0 "a good file checks: $ERR"
assert_contains "$ERR" "is valid"
assert_no_file "$STATE/users" "checking starts nothing"

cp "$CONF" "$T/etc/bad.conf"
printf 'max-clients = 8\nbogus-key = 1\n' >"$T/etc/bad.conf"
run "$W" serve --config "$T/etc/bad.conf" --check-config
assert_exit 1 "an unknown key"
assert_contains "$ERR" "bad.conf:2: unknown key 'bogus-key'"
printf '# values\n\nmax-clients = lots\n' >"$T/etc/bad.conf"
run "$W" serve --config "$T/etc/bad.conf" --check-config
assert_exit 1 "a bad value"
assert_contains "$ERR" "bad.conf:3: max-clients: expected a number"
printf 'allow-plaintext = maybe\n' >"$T/etc/bad.conf"
run "$W" serve --config "$T/etc/bad.conf" --check-config
assert_exit 1 "a bad boolean"
assert_contains "$ERR" "bad.conf:1: allow-plaintext: expected yes or no"
printf 'root = /a\nroot = /b\n' >"$T/etc/bad.conf"
run "$W" serve --config "$T/etc/bad.conf" --check-config
assert_exit 1 "a key given twice"
assert_contains "$ERR" "bad.conf:2: root given twice"
printf '[server]\nroot = /a\n' >"$T/etc/bad.conf"
run "$W" serve --config "$T/etc/bad.conf" --check-config
assert_exit 1 "a section"
assert_contains "$ERR" "bad.conf:2: [server]: the file has no sections"
printf 'max-clients 8\n' >"$T/etc/bad.conf"
run "$W" serve --config "$T/etc/bad.conf" --check-config
assert_exit 1 "no ="
assert_contains "$ERR" "bad.conf:1: expected KEY = VALUE"
printf 'max-clients = 8\nproxy-from = 10.0.0.0/8,10.0.0.300\n' \
	>"$T/etc/bad.conf"
run "$W" serve --config "$T/etc/bad.conf" --check-config
assert_exit 1 "a bad address range"
assert_contains "$ERR" \
	"bad.conf:2: proxy-from: '10.0.0.300' is not an address or ADDRESS/BITS"
run "$W" serve --config "$CONF" --check-config --proxy-from ::1/129
assert_exit 2 "a bad range on the command line is a usage error"
assert_contains "$ERR" "--proxy-from: '::1/129' is not an address"
run "$W" serve --config "$T/etc/missing.conf" --check-config
assert_exit 1 "a named file that does not exist"
# The command line overrides the file, and is checked as strictly.
run "$W" serve --config "$T/etc/bad.conf" --check-config --max-clients 0
assert_exit 1 "the file is read even when options follow"
run "$W" serve --config "$CONF" --check-config --max-clients 0
assert_exit 2 "a bad option is a usage error"
assert_contains "$ERR" "--max-clients: expected a number"

# --- served by the file alone, announced on the notify socket.
start_sink "$T/notify.sock"
serve_conf
wait_sink 'READY=1' || fail "no READY=1 on NOTIFY_SOCKET: $(cat "$SINK")"
pass
assert_contains "$(cat "$SINK")" "STATUS=serving"
assert_match "$(cat "$LOG")" "config=$T/etc/service.conf"
assert_match "$(cat "$LOG")" "max-clients=8 "
# `wharf user` finds the state through the same file...
run sh -c "printf 'pw\n' | '$W' user add alice --config '$CONF'"
assert_exit 0 "wharf user add through --config: $ERR"
# ... and through the default file, as it does without options.
run env WHARF_SERVE_CONFIG="$CONF" "$W" user list
assert_exit 0 "wharf user list with the default file: $ERR"
assert_match "$OUT" '^alice	'
head -c 200000 /dev/urandom >"$T/a.bin"
run env WHARF_PASSWORD=pw "$W" put "alice@$(host_port)" "$T/a.bin" a.bin
assert_exit 0 "put to the server of the file: $ERR"
assert_eq "$(sha256sum <"$T/a.bin")" "$(sha256sum <"$ROOT/a.bin")"

# --- SIGHUP: a new user, a changed setting, a rotated log.
run sh -c "printf 'bobpw\n' | '$W' user add bob --config '$CONF'"
assert_exit 0 "wharf user add bob: $ERR"
CONF_ROOT=$T/elsewhere write_conf "max-clients = 8" "idle-timeout = 60" \
	"drain-timeout = 30" "max-file-size = 100K"
mv "$LOG" "$LOG.1"
kill -HUP "$SERVER_PID"
n=0
until grep -q 'reloaded:' "$LOG" 2>/dev/null || [ $n -ge 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
server_alive
assert_file_exists "$LOG" "the log is opened again under its name"
assert_match "$(cat "$LOG")" 'SIGHUP: reloading'
assert_match "$(cat "$LOG")" 'SIGHUP: 3 users in '
assert_match "$(cat "$LOG")" \
	'SIGHUP: changed root: takes effect at the next start'
assert_match "$(cat "$LOG")" 'reloaded: .*max-file-size=102400 '
wait_sink 'RELOADING=1 MONOTONIC_USEC=[0-9]+' ||
	fail "no RELOADING=1 with MONOTONIC_USEC: $(cat "$SINK")"
wait_sink 'READY=1' 2 || fail "no READY=1 after the reload: $(cat "$SINK")"
pass
lines_old=$(wc -l <"$LOG.1")
wharf_c bob bobpw "put $T/a.bin b.bin"
assert_ne 0 "$RC" "max-file-size applies at once"
assert_contains "$ERR" "accepts at most 102400"
head -c 1000 /dev/urandom >"$T/small.bin"
wharf_c bob bobpw "put $T/small.bin small.bin; ls"
assert_exit 0 "the user added before SIGHUP logs in: $ERR"
assert_contains "$OUT" "small.bin"
assert_file_exists "$ROOT/small.bin" "root stays until a restart"
wait_log 'user=bob op=login result=ok' || fail "bob's login not in the new log"
pass
assert_eq "$lines_old" "$(wc -l <"$LOG.1")" "nothing more in the moved log"
# A file that no longer parses changes nothing.
printf 'keys-only = perhaps\n' >>"$CONF"
bad_line=$(wc -l <"$CONF")
kill -HUP "$SERVER_PID"
wait_log 'the running configuration stays' ||
	fail "a bad file on SIGHUP: $(tail -n 3 "$LOG")"
assert_match "$(cat "$LOG")" \
	"service.conf:$bad_line: keys-only: expected yes or no"
server_alive
wharf_c bob bobpw "put $T/a.bin b2.bin"
assert_ne 0 "$RC" "the running max-file-size stays"

# --- SIGTERM: an upload in flight completes, new connections are refused.
write_conf "drain-timeout = 30"
kill -TERM "$SERVER_PID"
wait_exit
assert_eq 0 "$RC" "exit status after SIGTERM with nobody connected"
wait_sink 'STOPPING=1' || fail "no STOPPING=1: $(cat "$SINK")"
pass

start_sink "@wharf-test-notify-$$"
serve_conf
wait_sink 'READY=1' || fail "no READY=1 on an abstract NOTIFY_SOCKET"
pass
head -c $((4 * MiB)) /dev/urandom >"$T/big.bin"
slow_put "$T/big.bin" big.bin
kill -TERM "$SERVER_PID"
wait_log 'stopping \(1 clients connected\): no new connections' ||
	fail "no drain in the log: $(tail -n 3 "$LOG")"
wait_sink 'STOPPING=1' || fail "no STOPPING=1 at the drain"
pass
wharf_c alice pw "ls"
assert_exit 3 "a new connection while draining is refused"
server_alive
n=0
while kill -0 "$BGP_PID" 2>/dev/null && [ $n -lt 300 ]; do
	sleep 0.1
	n=$((n + 1))
done
wait "$BGP_PID"
assert_eq 0 $? "the upload in flight completed: $(cat "$BGP_ERR")"
forget_pid "$BGP_PID"
assert_eq "$(sha256sum <"$T/big.bin")" "$(sha256sum <"$ROOT/big.bin")" \
	"the drained upload is whole"
wait_exit
assert_eq 0 "$RC" "exit status after the drain"
assert_match "$(cat "$LOG")" 'stopped: every connection ended'

# --- a second SIGTERM stops at once.
serve_conf
logins=$(count_log 'user=alice op=login result=ok')
hold_client alice pw
wait_count 'user=alice op=login result=ok' $((logins + 1)) ||
	fail "the held client did not log in: $(cat "$HELD_ERR")"
pass
kill -TERM "$SERVER_PID"
wait_log 'stopping \(1 clients connected\)' 10 || fail "no drain"
pass
sleep 1
server_alive
kill -TERM "$SERVER_PID"
wait_exit
assert_eq 0 "$RC" "exit status after a second SIGTERM"
assert_match "$(cat "$LOG")" 'stopping at once: 1 connections cut'
end_held

# --- past drain-timeout (the command line's, over the file's), the cut
# upload's partial stays, and the next server resumes it.
serve_conf --drain-timeout 1
# An idle session too, which never ends by itself: the deadline comes
# even if a loaded machine slows the upload's connection to a stop.
logins=$(count_log 'user=alice op=login result=ok')
hold_client alice pw
wait_count 'user=alice op=login result=ok' $((logins + 1)) ||
	fail "the held client did not log in: $(cat "$HELD_ERR")"
head -c $((4 * MiB)) /dev/urandom >"$T/cut.bin"
slow_put "$T/cut.bin" cut.bin
kill -TERM "$SERVER_PID"
wait_exit
assert_eq 0 "$RC" "exit status at the drain deadline"
assert_match "$(cat "$LOG")" \
	'stopped: drain-timeout \(1 s\) reached with [12] connections'
end_held
n=0
while kill -0 "$BGP_PID" 2>/dev/null && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
wait "$BGP_PID"
assert_ne 0 $? "the cut upload failed"
forget_pid "$BGP_PID"
assert_file_exists "$ROOT/.cut.bin.wharf-part" "its partial stays"
serve_conf
run env WHARF_PASSWORD=pw "$W" put "alice@$(host_port)" "$T/cut.bin" \
	cut.bin --no-progress
assert_exit 0 "the upload again: $ERR"
assert_eq "$(sha256sum <"$T/cut.bin")" "$(sha256sum <"$ROOT/cut.bin")"
assert_match "$(cat "$LOG")" 'op=put path="/cut.bin" result=ok .*resumed=[1-9]'
kill -TERM "$SERVER_PID"
wait_exit
assert_eq 0 "$RC"

# --- stderr that is the journal's stream ($JOURNAL_STREAM names its
# device and inode): sd-daemon priorities instead of timestamps; stderr
# redirected elsewhere keeps the timestamps.
unset NOTIFY_SOCKET
journal_serve() { # STDERR_FILE JOURNAL_STREAM_OF
	: >"$1"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$2") "$W" serve --listen 127.0.0.1:0 \
		--root "$ROOT" --state "$STATE" "${SERVE_AS[@]}" \
		</dev/null 2>>"$1" &
	SERVER_PID=$!
	BG_PIDS+=("$SERVER_PID")
	SERVER_ERR=$1
	n=0
	until grep -q 'listening on' "$1" || [ $n -ge 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -TERM "$SERVER_PID"
	wait_exit
	assert_eq 0 "$RC" "exit status of the server logging to stderr"
}
journal_serve "$T/journal.err" "$T/journal.err"
assert_match "$(cat "$T/journal.err")" '^<6>INFO listening on 127\.0\.0\.1:'
assert_match "$(cat "$T/journal.err")" '^<6>INFO stopped: every connection'
assert_not_contains "$(cat "$T/journal.err")" "$(date -u +%Y-%m-)" \
	"no timestamps: the journal has its own"
journal_serve "$T/plain.err" "$T/journal.err"
assert_match "$(cat "$T/plain.err")" "${LOG_LINE_RE}listening on"

finish
