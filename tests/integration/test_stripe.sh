#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Striping (--streams N): a large file moves over N connections of one
# session and arrives byte-identical in both directions; the extra
# connections join the session (no second password); a striped upload
# that fails leaves no partial and never replaces the target.
. "$(dirname "$0")/lib.sh"

MiB=1048576
start_server
add_user alice pw
head -c $((64 * MiB + 12345)) /dev/urandom >"$T/big"

run env WHARF_PASSWORD=pw "$W" put --no-progress "alice@$(host_port)" \
	"$T/big" /big --streams 4
assert_exit 0 "put --streams 4"
cmp -s "$T/big" "$ROOT/big" || fail "striped upload differs"
pass
assert_eq 3 "$(grep -c 'op=join result=ok' "$LOG")" "three joined streams"
assert_eq 4 "$(grep -c 'op=put-range path="/big" result=ok' "$LOG")" \
	"four ranges"
assert_no_file "$ROOT/.big.wharf-part"
assert_eq "$(stat -c '%a %Y' "$T/big")" "$(stat -c '%a %Y' "$ROOT/big")" \
	"mode and mtime"

run env WHARF_PASSWORD=pw "$W" get --no-progress "alice@$(host_port)" \
	/big "$T/back" --streams 4
assert_exit 0 "get --streams 4"
cmp -s "$T/big" "$T/back" || fail "striped download differs"
pass
assert_no_file "$T/.back.wharf-part"

# A small file ignores --streams: one connection is enough.
head -c 1000 /dev/urandom >"$T/small"
before=$(grep -c 'op=join' "$LOG")
run env WHARF_PASSWORD=pw "$W" put --no-progress "alice@$(host_port)" \
	"$T/small" /small --streams 4
assert_exit 0
assert_eq "$before" "$(grep -c 'op=join' "$LOG")" "no streams for 1 KB"

# A file too small for four streams of 8 MiB gets as many as fit.
head -c $((20 * MiB)) /dev/urandom >"$T/mid"
before=$(grep -c 'op=join result=ok' "$LOG")
run env WHARF_PASSWORD=pw "$W" put --no-progress "alice@$(host_port)" \
	"$T/mid" /mid --streams 4
assert_exit 0 "put --streams 4 of 20 MiB"
cmp -s "$T/mid" "$ROOT/mid" || fail "two-stream upload differs"
pass
assert_eq $((before + 1)) "$(grep -c 'op=join result=ok' "$LOG")" \
	"20 MiB: two streams, one joined"

# A striped upload cut short (the client killed) leaves the old target
# and no partial behind once the session is gone.
head -c $((96 * MiB)) /dev/urandom >"$T/big2"
env WHARF_PASSWORD=pw "$W" put --no-progress "alice@$(host_port)" \
	"$T/big2" /big --streams 4 </dev/null >/dev/null 2>&1 &
pid=$!
BG_PIDS+=("$pid")
i=0
while [ ! -e "$ROOT/.big.wharf-part" ] && [ $i -lt 200 ]; do
	sleep 0.01
	i=$((i + 1))
done
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
i=0
while [ -e "$ROOT/.big.wharf-part" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
assert_no_file "$ROOT/.big.wharf-part" "an abandoned stripe is removed"
cmp -s "$T/big" "$ROOT/big" || fail "the old target was touched"
pass

finish
