#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Names from a hostile server: get -r and sync take a local path from
# every name the server lists, so both must refuse the same names
# (src/client/tree.c, tree_name_safe). The real server never lists a
# control byte; relay.py plays the hostile server by rewriting "evil~name"
# to "evil<DEL>name" in the plaintext listing. Each command refuses it,
# says so, fetches the rest, exits 1, and (sync) deletes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer_lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip "python3 is needed for relay.py"
	finish
fi

U=alice
P='alice pw'
add_user $U "$P"
start_server --allow-plaintext

mkdir -p "$ROOT/tree/sub"
printf 'good\n' >"$ROOT/tree/good"
printf 'also\n' >"$ROOT/tree/sub/also"
printf 'evil\n' >"$ROOT/tree/sub/evil~name"
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
REWRITE="$(hex 'evil~name'):$(hex "$(printf 'evil\177name')")"
DEL_NAME=$(printf 'evil\177name')

# --- get -r
start_relay --replace-s2c "$REWRITE"
XFER_ADDR=127.0.0.1:$RELAY_PORT wget1 $U "$P" --plaintext -q -r tree \
	"$T/got"
stop_relay
assert_contains "$(cat "$RELAY_LOG")" "rewrote" "the relay sent the DEL name"
assert_exit 1 "get -r with a DEL name from the server"
assert_contains "$ERR" 'refusing unsafe name'
assert_same "$ROOT/tree/good" "$T/got/good" "get -r fetched the rest"
assert_same "$ROOT/tree/sub/also" "$T/got/sub/also"
assert_no_file "$T/got/sub/$DEL_NAME" "get -r made no DEL name"

# --- sync --download, with --delete: the same refusal, and nothing
# deleted by a listing that left a name out.
mkdir -p "$T/mirror/sub"
printf 'old\n' >"$T/mirror/sub/stale"
start_relay --replace-s2c "$REWRITE"
run env WHARF_PASSWORD="$P" "$W" sync --no-progress --plaintext -q \
	--delete --download "$U@127.0.0.1:$RELAY_PORT" "$T/mirror" tree
settle_server
stop_relay
assert_contains "$(cat "$RELAY_LOG")" "rewrote" "the relay sent the DEL name"
assert_exit 1 "sync with a DEL name from the server"
assert_contains "$ERR" 'refusing unsafe name'
assert_contains "$ERR" "not deleting"
assert_same "$ROOT/tree/good" "$T/mirror/good" "sync fetched the rest"
assert_same "$ROOT/tree/sub/also" "$T/mirror/sub/also"
assert_no_file "$T/mirror/sub/$DEL_NAME" "sync made no DEL name"
assert_file_exists "$T/mirror/sub/stale" "sync deleted nothing"

# --- without the relay, the same sync is clean and deletes.
run env WHARF_PASSWORD="$P" "$W" sync --no-progress -q --delete \
	--download "$U@$(host_port)" "$T/mirror" tree
assert_exit 0 "the same sync from the real server"
assert_no_file "$T/mirror/sub/stale" "deleted once the listing is whole"
assert_same "$ROOT/tree/sub/evil~name" "$T/mirror/sub/evil~name"

stop_server
finish
