#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Delta transfers against a real server: after an edit, only the changed
# content-defined blocks cross the wire, in both directions, and the
# result is byte-identical; random edit scripts (insert, delete, replace,
# reorder, truncate, grow) all sync exactly; an interrupted delta upload
# over an old file completes on the next try; --no-delta sends it all.
. "$(dirname "$0")/lib.sh"

MiB=1048576
start_server
add_user alice pw

put_q() { run env WHARF_PASSWORD=pw "$W" put --no-progress "alice@$(host_port)" "$@"; }
get_q() { run env WHARF_PASSWORD=pw "$W" get --no-progress "alice@$(host_port)" "$@"; }
last_wire() { # OP PATH: wire= of the last successful transfer
	grep "op=$1 path=\"$2\" result=ok" "$LOG" | tail -n 1 |
		sed -n 's/.* wire=\([0-9]*\) .*/\1/p'
}
wait_logged() { # OP PATH N: until N successful lines (bounded)
	local i=0
	while [ "$(grep -c "op=$1 path=\"$2\" result=ok" "$LOG")" -lt "$3" ] &&
		[ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

head -c $((32 * MiB)) /dev/urandom >"$T/base"
put_q "$T/base" /f.bin
assert_exit 0 "first upload"
wait_logged put /f.bin 1

# 1 MiB inserted in the middle.
{ head -c $((16 * MiB)) "$T/base"; head -c $MiB /dev/urandom
  tail -c +$((16 * MiB + 1)) "$T/base"; } >"$T/ins"
put_q "$T/ins" /f.bin
assert_exit 0 "delta upload after an insertion"
assert_contains "$OUT" "reused"
cmp -s "$T/ins" "$ROOT/f.bin" || fail "insert: server copy differs"
pass
wait_logged put /f.bin 2
wire=$(last_wire put /f.bin)
[ "$wire" -lt $((4 * MiB)) ] || fail "insert: $wire bytes on the wire"
pass

# 1 MiB appended.
{ cat "$T/ins"; head -c $MiB /dev/urandom; } >"$T/app"
put_q "$T/app" /f.bin
assert_exit 0 "delta upload after an append"
cmp -s "$T/app" "$ROOT/f.bin" || fail "append: server copy differs"
pass
wait_logged put /f.bin 3
wire=$(last_wire put /f.bin)
[ "$wire" -lt $((2 * MiB)) ] || fail "append: $wire bytes on the wire"
pass

# Download direction: the local old copy is reused.
cp "$T/base" "$T/local.bin"
get_q /f.bin "$T/local.bin"
assert_exit 0 "delta download"
assert_contains "$OUT" "reused"
cmp -s "$T/app" "$T/local.bin" || fail "delta get: local copy differs"
pass
wait_logged get /f.bin 1
wire=$(last_wire get /f.bin)
[ "$wire" -lt $((4 * MiB)) ] || fail "delta get: $wire bytes on the wire"
pass

# --no-delta: the whole file goes.
put_q --no-delta "$T/ins" /f.bin
assert_exit 0
wait_logged put /f.bin 4
[ "$(last_wire put /f.bin)" -ge $((33 * MiB)) ] || fail "--no-delta sent less"
pass

# Random edit scripts: every one syncs to a byte-identical file.
for seed in 1 2 3 4 5 6; do
	python3 - "$T/ins" "$T/edit$seed" "$seed" <<'PY'
import os, random, sys
src, dst, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(seed)
data = bytearray(open(src, "rb").read())
for _ in range(rnd.randint(1, 6)):
    op = rnd.choice(["insert", "delete", "replace", "reorder",
                     "truncate", "grow"])
    n = len(data)
    at = rnd.randrange(max(n, 1))
    k = rnd.randint(1, 3 << 20)
    if op == "insert":
        data[at:at] = os.urandom(k)
    elif op == "delete":
        del data[at:at + k]
    elif op == "replace":
        data[at:at + k] = os.urandom(min(k, n - at))
    elif op == "reorder" and n > 4 << 20:
        a = rnd.randrange(n // 2)
        b = rnd.randrange(n // 2, n)
        x, y = data[a:a + (1 << 20)], data[b:b + (1 << 20)]
        data[b:b + (1 << 20)] = x
        data[a:a + (1 << 20)] = y
    elif op == "truncate":
        del data[n // 2 + rnd.randrange(max(n // 2, 1)):]
    elif op == "grow":
        data += os.urandom(k)
open(dst, "wb").write(data)
PY
	put_q "$T/edit$seed" /f.bin
	assert_exit 0 "edit script $seed uploads"
	cmp -s "$T/edit$seed" "$ROOT/f.bin" ||
		fail "edit script $seed: server copy differs"
	pass
	cp "$T/ins" "$T/back$seed"
	get_q /f.bin "$T/back$seed"
	assert_exit 0 "edit script $seed downloads"
	cmp -s "$T/edit$seed" "$T/back$seed" ||
		fail "edit script $seed: local copy differs"
	pass
	put_q "$T/ins" /f.bin # back to the base for the next script
	assert_exit 0
done

# An interrupted delta upload over the old file completes next time.
head -c $((160 * MiB)) /dev/urandom >"$T/big"
put_q --no-delta "$T/big" /big.bin
assert_exit 0
{ head -c $MiB /dev/urandom; cat "$T/big"; } >"$T/big2"
env WHARF_PASSWORD=pw "$W" put --no-progress "alice@$(host_port)" \
	"$T/big2" /big.bin </dev/null >/dev/null 2>&1 &
pid=$!
BG_PIDS+=("$pid")
i=0
while [ ! -s "$ROOT/.big.bin.wharf-part" ] && [ $i -lt 200 ]; do
	sleep 0.02
	i=$((i + 1))
done
# Kill at once: on a fast machine the whole delta takes under half a second
# after the partial appears (CI once saw it finish within a 0.2 s wait).
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
# The server notices the dead client and lets go of the partial.
wait_disconnects
cmp -s "$T/big" "$ROOT/big.bin" || fail "interrupted delta: old file touched"
pass
put_q "$T/big2" /big.bin
assert_exit 0 "the delta upload completes on the next try"
cmp -s "$T/big2" "$ROOT/big.bin" || fail "interrupted delta: result differs"
pass
assert_no_file "$ROOT/.big.bin.wharf-part"

finish
