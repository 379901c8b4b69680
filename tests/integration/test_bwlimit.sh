#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# --bwlimit: a limited put, get, sync and shell transfer takes at least
# the time its size asks for at that rate (only a lower bound: a slow
# machine can only be slower, so nothing here can flake; the shape of
# the rate is measured in bench/). The same for the client configuration's
# BwLimit, for a striped upload (the streams share one limit), for the
# server's --bwlimit and for a per-user limit set with `wharf user mod`
# (shared by the user's sessions).
# Bad rates are refused before anything connects.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer_lib.sh"

U=bea
P='bea pw'
add_user $U "$P"
start_server

mkdir -p "$T/up" "$T/down"
head -c $((2 * MiB)) /dev/urandom >"$T/up/two.bin"

now_ms() { date +%s%3N; }

# took_at_least MS WHAT: the last timed run took MS ms or more.
took_at_least() {
	local took=$((END - START))

	[ "$took" -ge "$1" ] ||
		fail "$2: took $took ms, expected at least $1 ms"
	pass
}

# 2 MiB at 512 KiB/s is 4 s; the bucket lends one 10 KiB slice at the
# start, so 3.5 s is a safe floor on any machine.
FLOOR=3500

START=$(now_ms)
wput $U "$P" --bwlimit 512K "$T/up/two.bin" two.bin
END=$(now_ms)
assert_exit 0 "put --bwlimit 512K"
assert_same "$T/up/two.bin" "$ROOT/two.bin" "the limited upload"
took_at_least $FLOOR "put of 2 MiB at --bwlimit 512K"

START=$(now_ms)
wget1 $U "$P" --bwlimit=512 two.bin "$T/down/two.bin"
END=$(now_ms)
assert_exit 0 "get --bwlimit=512 (KiB/s without a suffix)"
assert_same "$T/up/two.bin" "$T/down/two.bin" "the limited download"
took_at_least $FLOOR "get of 2 MiB at --bwlimit 512"

mkdir -p "$T/tree"
cp "$T/up/two.bin" "$T/tree/a.bin"
START=$(now_ms)
run env WHARF_PASSWORD="$P" "$W" sync "$T/tree" -P "$PORT" "$U@$HOST:synced" \
	--bwlimit 512K --no-progress
END=$(now_ms)
settle_server
assert_exit 0 "sync --bwlimit 512K"
assert_same "$T/tree/a.bin" "$ROOT/synced/a.bin" "the limited sync"
took_at_least $FLOOR "sync of 2 MiB at --bwlimit 512K"

START=$(now_ms)
wharf_c $U "$P" "get two.bin $T/down/shell.bin" --bwlimit 512K
END=$(now_ms)
assert_exit 0 "connect --bwlimit 512K -c get"
assert_same "$T/up/two.bin" "$T/down/shell.bin" "the shell's download"
took_at_least $FLOOR "the shell's get of 2 MiB at --bwlimit 512K"

# The client configuration's BwLimit, and the command line beating it.
cat >"$T/client.conf" <<CONF
Host limited
	HostName $HOST
	Port $PORT
	BwLimit 512K
CONF
START=$(now_ms)
run env WHARF_PASSWORD="$P" "$W" put -F "$T/client.conf" \
	"$U@limited" "$T/up/two.bin" conf.bin --no-progress
END=$(now_ms)
settle_server
assert_exit 0 "put with BwLimit from the configuration"
assert_same "$T/up/two.bin" "$ROOT/conf.bin" "the configured upload"
took_at_least $FLOOR "put of 2 MiB with BwLimit 512K"
run env WHARF_PASSWORD="$P" "$W" put -F "$T/client.conf" --bwlimit 0 \
	"$U@limited" "$T/up/two.bin" conf0.bin --no-progress
assert_exit 0 "--bwlimit 0 lifts the configured limit"
printf 'Host bad\n\tBwLimit fast\n' >"$T/bad.conf"
run env WHARF_PASSWORD="$P" "$W" put -F "$T/bad.conf" "$U@bad" \
	"$T/up/two.bin" x.bin
assert_exit 2 "a bad BwLimit in the configuration"
assert_contains "$ERR" "bad value for BwLimit" "says which key"

# A striped upload: two streams share the one limit. 16 MiB at 4 MiB/s
# is 4 s together (2 s if each stream had its own).
head -c $((16 * MiB)) /dev/urandom >"$T/up/big.bin"
START=$(now_ms)
wput $U "$P" --bwlimit 4M --streams 2 "$T/up/big.bin" big.bin
END=$(now_ms)
assert_exit 0 "striped put --bwlimit 4M --streams 2"
assert_same "$T/up/big.bin" "$ROOT/big.bin" "the striped upload"
assert_match "$(cat "$LOG")" "op=join result=ok" "the upload was striped"
took_at_least $FLOOR "striped put of 16 MiB at --bwlimit 4M"

# Bad rates: refused with a clear message before connecting.
for bad in fast 10X -1 100B 5MM; do
	run env WHARF_PASSWORD="$P" "$W" put "$U@$(host_port)" \
		--bwlimit "$bad" "$T/up/two.bin" bad.bin
	assert_exit 2 "--bwlimit $bad"
	assert_contains "$ERR" "--bwlimit" "the message names the option"
done
assert_no_file "$ROOT/bad.bin" "nothing sent with a bad rate"
run "$W" serve --root "$ROOT" --state "$STATE" --bwlimit nope
assert_exit 2 "serve --bwlimit nope"
# The configuration file's key, checked by the same parser.
printf 'bwlimit = 512K\n' >"$T/good.conf"
run "$W" serve --config "$T/good.conf" --root "$ROOT" --state "$STATE" \
	--check-config
assert_exit 0 "bwlimit = 512K in wharf.conf"
printf 'bwlimit = fast\n' >"$T/bad-serve.conf"
run "$W" serve --config "$T/bad-serve.conf" --check-config
assert_exit 1 "bwlimit = fast in wharf.conf"
assert_contains "$ERR" "bwlimit" "the bad key is named"

# The server's global limit.
stop_server
start_server --bwlimit 512K
assert_match "$(cat "$LOG")" "bwlimit=524288 bytes/s" "the server logs it"
START=$(now_ms)
wput $U "$P" "$T/up/two.bin" srv.bin
END=$(now_ms)
assert_exit 0 "put to a server with --bwlimit 512K"
assert_same "$T/up/two.bin" "$ROOT/srv.bin" "upload under the server limit"
took_at_least $FLOOR "put of 2 MiB to serve --bwlimit 512K"
START=$(now_ms)
wget1 $U "$P" srv.bin "$T/down/srv.bin"
END=$(now_ms)
assert_exit 0 "get from a server with --bwlimit 512K"
took_at_least $FLOOR "get of 2 MiB from serve --bwlimit 512K"
stop_server

# A per-user limit, kept in the users file.
run "$W" user mod $U --state "$STATE" --bwlimit 512K
assert_exit 0 "wharf user mod --bwlimit 512K"
run "$W" user list --state "$STATE"
assert_contains "$OUT" "bwlimit=524288" "user list shows the limit"
run "$W" user mod $U --state "$STATE" --bwlimit lots
assert_exit 2 "wharf user mod --bwlimit lots"
start_server
START=$(now_ms)
wget1 $U "$P" two.bin "$T/down/user.bin"
END=$(now_ms)
assert_exit 0 "get as a user limited to 512K"
assert_same "$T/up/two.bin" "$T/down/user.bin" "the user's download"
took_at_least $FLOOR "get of 2 MiB as a user limited to 512K"
# Two sessions of the same user at once share the user's limit: 2 x 1 MiB
# at 512 KiB/s is 4 s together (2 s each if every login had its own).
head -c $((1 * MiB)) /dev/urandom >"$ROOT/one.bin"
give_tree "$ROOT"
START=$(now_ms)
for i in 1 2; do
	timeout -k 5 "$CLIENT_TIMEOUT" env WHARF_PASSWORD="$P" "$W" get \
		"$U@$(host_port)" one.bin "$T/down/one.$i" --no-progress -q \
		</dev/null >"$T/par.$i.out" 2>&1 &
	PAR[$i]=$!
	BG_PIDS+=("${PAR[$i]}")
done
for i in 1 2; do
	wait "${PAR[$i]}" || fail "parallel get $i: $(cat "$T/par.$i.out")"
	forget_pid "${PAR[$i]}"
done
END=$(now_ms)
assert_same "$ROOT/one.bin" "$T/down/one.1" "parallel get 1"
assert_same "$ROOT/one.bin" "$T/down/one.2" "parallel get 2"
took_at_least $FLOOR "two sessions of one user share its 512K limit"

run "$W" user mod $U --state "$STATE" --bwlimit none
assert_exit 0 "wharf user mod --bwlimit none"
run "$W" user list --state "$STATE"
assert_not_contains "$OUT" "bwlimit=" "the limit is gone"

stop_server
finish
