#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `wharf ping` and the shell's ping against a real server: the number of
# samples, no loss on loopback, the statistics lines, JSON and CSV output.
. "$(dirname "$0")/lib.sh"

start_server
add_user alice pw

run env WHARF_PASSWORD=pw "$W" ping "alice@$(host_port)" -n 20 \
	--csv "$T/ping.csv"
assert_exit 0 "wharf ping"
assert_contains "$OUT" "20 samples"
assert_match "$OUT" 'loss +0/20 \(0\.0%\)'
assert_match "$OUT" 'latency +min [0-9.]+ ms +avg [0-9.]+ ms +max [0-9.]+ ms +stddev [0-9.]+ ms'
assert_match "$OUT" '^  up +[0-9.]+ MB/s'
assert_match "$OUT" '^  down +[0-9.]+ MB/s'
assert_eq 2 "$(wc -l <"$T/ping.csv")" "CSV: a header and one row"
assert_eq "timestamp,host,samples,min_ms,avg_ms,max_ms,stddev_ms,loss_pct,up_mb_s,down_mb_s" \
	"$(head -n 1 "$T/ping.csv")" "CSV header"
assert_match "$(tail -n 1 "$T/ping.csv")" \
	"^[0-9T:Z-]+,127\.0\.0\.1:$PORT,20,[0-9.]+,[0-9.]+,[0-9.]+,[0-9.]+,0\.0,[0-9.]+,[0-9.]+$"

# A second run appends a row under the same header.
run env WHARF_PASSWORD=pw "$W" ping "alice@$(host_port)" -n 3 \
	--csv "$T/ping.csv" --json
assert_exit 0 "wharf ping --json"
assert_match "$OUT" '^\{"host":"127\.0\.0\.1:[0-9]+","samples":3,"received":3,.*"loss_pct":0\.0,'
assert_eq 3 "$(wc -l <"$T/ping.csv")" "CSV: rows append"

# The shell command, through -c.
wharf_c alice pw "ping -n 5"
assert_exit 0 "ping in -c"
assert_contains "$OUT" "5 samples"

run env WHARF_PASSWORD=pw "$W" ping "alice@$(host_port)" -n 0
assert_exit 2 "ping -n 0 is a usage error"

finish
