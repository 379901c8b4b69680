#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --json output for scripts: ls, stat and transfer summaries as one JSON
# object per line; and no colour escapes when output is not a terminal.
. "$(dirname "$0")/lib.sh"

start_server
add_user alice pw
mkdir -p "$ROOT/d"
printf 'hello' >"$ROOT/d/a.txt"
printf 'x' >"$ROOT/d/quote\"d.txt"

wharf_c alice pw "ls -l d; stat d/a.txt" --json
assert_exit 0 "ls and stat with --json"
assert_contains "$OUT" '{"name":"a.txt","type":"file","size":5,'
assert_contains "$OUT" '{"name":"quote\"d.txt","type":"file","size":1,'
assert_match "$OUT" '^\{"path":"/d/a\.txt","type":"file","size":5,"mtime":[0-9]+,"mtime_nsec":[0-9]+,"mode":"0[0-7]{3}"\}$'
# Every line parses as JSON.
printf '%s\n' "$OUT" | python3 -c '
import json, sys
for line in sys.stdin:
    if line.strip():
        json.loads(line)
' || fail "a --json line is not valid JSON"
pass

head -c 100000 /dev/urandom >"$T/up.bin"
run env WHARF_PASSWORD=pw "$W" put "alice@$(host_port)" "$T/up.bin" /up.bin \
	--json
assert_exit 0 "put --json"
assert_match "$OUT" '^\{"op":"put","path":".*up\.bin","bytes":100000,"wire_bytes":100000,"resumed_bytes":0,"seconds":[0-9.]+,"mb_per_s":[0-9.]+,"hash":"(blake2b|sha256)","result":"ok"\}$'

# Output to a pipe never carries colour, even with ls.
wharf_c alice pw "ls d"
assert_not_contains "$OUT" $'\033' "no escape sequences on a pipe"

finish
