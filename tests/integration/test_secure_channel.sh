#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The channel: pre-shared keys (same, missing, wrong, loose file modes),
# plaintext only when both sides ask for it, and host key pinning in
# known_hosts (first use, silence after, refusal of a changed key).
. "$(dirname "$0")/lib.sh"

add_user pat 'pat pw'
U=pat
P='pat pw'
KH=$XDG_CONFIG_HOME/wharf/known_hosts

# --- known_hosts: trust on first use
start_server
MAIN_PORT=$PORT
MAIN_PID=$SERVER_PID
MAIN_ERR=$SERVER_ERR
assert_no_file "$KH"
wharf_c $U "$P" "pwd"
assert_exit 0 "first connection"
assert_contains "$ERR" "pinned host key of 127.0.0.1:$PORT"
assert_contains "$ERR" "$KH"
assert_file_exists "$KH" "known_hosts written"
assert_match "$(cat "$KH")" "^127\\.0\\.0\\.1:$PORT ed25519 [A-Za-z0-9+/=]+$"
assert_eq 1 "$(wc -l <"$KH")" "one entry"
FP=$(grep -o 'host key SHA256:[^ ]*' "$LOG" | head -n 1 | cut -d' ' -f3)
assert_contains "$ERR" "$FP" "the client shows the fingerprint the server logs"

wharf_c $U "$P" "pwd"
assert_exit 0 "second connection"
assert_not_contains "$ERR" "pinned" "silent about a known key"
assert_eq 1 "$(wc -l <"$KH")" "still one entry"

# -q: pins without a word.
XDG_CONFIG_HOME=$T/quiet wharf_c $U "$P" "pwd" -q
assert_exit 0 "-q first connection"
assert_not_contains "$ERR" "pinned" "-q says nothing"
assert_file_exists "$T/quiet/wharf/known_hosts" "-q still pins"

# A second server with its own host key, on its own port.
ROOT=$T/root2 STATE=$T/state2 LOG=$T/server2.log start_server
OTHER_PORT=$PORT
OTHER_PID=$SERVER_PID
wharf_c admin "$ADMIN_PASSWORD" "pwd"
assert_exit 0 "connect to a second server"
assert_contains "$ERR" "pinned host key of 127.0.0.1:$OTHER_PORT"
OTHER_KEY=$(sed -n "s/^127\\.0\\.0\\.1:$OTHER_PORT ed25519 //p" "$KH")
MAIN_KEY=$(sed -n "s/^127\\.0\\.0\\.1:$MAIN_PORT ed25519 //p" "$KH")
assert_ne "" "$OTHER_KEY"
assert_ne "$MAIN_KEY" "$OTHER_KEY" "the two servers have different keys"
stop_server "$OTHER_PID"

# Pin the other server's key for the main one, on line 2 (after a comment).
PORT=$MAIN_PORT
SERVER_PID=$MAIN_PID
SERVER_ERR=$MAIN_ERR
{
	echo "# pinned by hand"
	echo "127.0.0.1:$MAIN_PORT ed25519 $OTHER_KEY"
	echo "127.0.0.1:$OTHER_PORT ed25519 $OTHER_KEY"
} >"$KH"
KH_SUM=$(sha256sum <"$KH")
wharf_c $U "$P" "mkdir should_not_exist"
assert_exit 3 "a changed host key is refused"
assert_contains "$ERR" "HOST KEY HAS CHANGED"
assert_contains "$ERR" "line 2 of $KH" "names the file and line"
assert_contains "$ERR" "$FP" "shows the key the server presents"
assert_no_file "$ROOT/should_not_exist" "no command ran"
assert_eq "$KH_SUM" "$(sha256sum <"$KH")" "known_hosts left as it was"
assert_not_contains "$(cat "$LOG")" "user=pat op=mkdir" \
	"no password was sent to the impostor"

# Deleting the line, as the message says, lets the client pin anew.
sed -i 2d "$KH"
wharf_c $U "$P" "pwd"
assert_exit 0 "after deleting the stale line"
assert_contains "$ERR" "pinned host key"

# A malformed entry for the host is refused too.
sed -i "s/^127\\.0\\.0\\.1:$MAIN_PORT ed25519 .*/127.0.0.1:$MAIN_PORT ed25519 not-base64!/" "$KH"
wharf_c $U "$P" "pwd"
assert_exit 3 "a malformed known_hosts entry"
sed -i "/^127\\.0\\.0\\.1:$MAIN_PORT /d" "$KH"

# --- plaintext: refused unless the server allows it
wharf_c $U "$P" "pwd" --plaintext
assert_exit 3 "plaintext to a server that does not allow it"
assert_contains "$ERR" "does not allow plaintext"
stop_server

start_server --allow-plaintext
wharf_c $U "$P" "mkdir plain_ok; pwd" --plaintext
assert_exit 0 "plaintext to a server that allows it"
assert_contains "$ERR" "WARNING: unencrypted session" "the client warns"
assert_dir_exists "$ROOT/plain_ok"
assert_match "$(cat "$LOG")" 'handshake ok version=1 PLAINTEXT'
wharf_c $U "$P" "pwd"
assert_exit 0 "a sealed session on a server that allows plaintext"
assert_not_contains "$ERR" "unencrypted"
assert_contains "$(tail -n 5 "$LOG")" "sealed" \
	"clients that do not ask stay sealed"
wharf_c $U "$P" "pwd" --plaintext -q
assert_exit 0 "plaintext with -q"
stop_server

# --- pre-shared keys
run "$W" keygen --psk "$T/psk"
assert_exit 0 "keygen"
assert_eq 600 "$(stat -c %a "$T/psk")" "key file mode"
run "$W" keygen --psk "$T/psk"
assert_exit 1 "keygen does not overwrite a key"
assert_contains "$ERR" "file exists"
run "$W" keygen --psk "$T/psk2"
assert_exit 0 "a second key"
assert_ne "$(cat "$T/psk")" "$(cat "$T/psk2")" "keys differ"

start_server --psk "$T/psk"
assert_contains "$(cat "$LOG")" "psk=on"
wharf_c $U "$P" "mkdir psk_ok" --psk "$T/psk"
assert_exit 0 "the same key on both sides"
assert_dir_exists "$ROOT/psk_ok"

wharf_c $U "$P" "mkdir no_psk"
assert_exit 3 "no key for a server that needs one"
assert_contains "$ERR" "pre-shared key"
assert_no_file "$ROOT/no_psk"

wharf_c $U "$P" "mkdir wrong_psk" --psk "$T/psk2"
assert_exit 3 "the wrong key"
assert_contains "$ERR" "pre-shared key does not match"
assert_no_file "$ROOT/wrong_psk"

printf 'not a key\n' >"$T/junk"
chmod 600 "$T/junk"
wharf_c $U "$P" "pwd" --psk "$T/junk"
assert_exit 3 "a file that is not a key"
assert_contains "$ERR" "not a wharf key file"

cp "$T/psk" "$T/psk_loose"
chmod 644 "$T/psk_loose"
wharf_c $U "$P" "pwd" --psk "$T/psk_loose"
assert_exit 3 "a key file others can read"
assert_contains "$ERR" "readable by others"

wharf_c $U wrong "pwd" --psk "$T/psk"
assert_exit 3 "the right key and a wrong password"
assert_contains "$ERR" "authentication failed"

wharf_c $U "$P" "pwd" --psk "$T/psk"
assert_exit 0 "the server still serves after the failures"
server_alive
stop_server

# A server refuses to start with a key file others can read.
LAST_CMD="serve --psk psk_loose"
timeout 20 "$W" serve --root "$ROOT" --state "$STATE" \
	--listen 127.0.0.1:0 --log "$T/loose.log" --psk "$T/psk_loose" \
	</dev/null >"$T/run.out" 2>"$T/run.err"
RC=$?
ERR=$(cat "$T/run.err")
assert_exit 1 "serve with a loose key file"
assert_contains "$ERR" "readable by others"

finish
