#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Key login as ssh users know it: `wharf user key add` of an ssh-keygen
# public key, login from that key file (-i), from ~/.config/wharf/id_ed25519
# made by `wharf keygen`, and from a real ssh-agent (the key never leaves
# it); an unauthorized key, a key whose from= refuses the address, a
# signature made for another session, and keys-only users.
. "$(dirname "$0")/lib.sh"

command -v ssh-keygen >/dev/null && command -v ssh-agent >/dev/null &&
	command -v ssh-add >/dev/null ||
	skip "openssh-client (ssh-keygen, ssh-agent, ssh-add) is missing"

start_server
add_user alice pw
add_user bob pw2
unset SSH_AUTH_SOCK SSH_AGENT_PID
mkdir -p "$T/keys"
ssh-keygen -q -t ed25519 -N '' -C alice@lab -f "$T/keys/alice" ||
	fail "ssh-keygen"
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$T/keys/stranger" ||
	fail "ssh-keygen"
printf 'key me\n' >"$T/k.txt"

# Adding keys: the fingerprint ssh-keygen -l prints, listed back.
run "$W" user key add alice "$T/keys/alice.pub" --state "$STATE"
assert_exit 0 "user key add: $ERR"
FP=$(ssh-keygen -l -f "$T/keys/alice.pub" | awk '{print $2}')
assert_contains "$ERR" "$FP" "the fingerprint is ssh-keygen's"
run "$W" user key list alice --state "$STATE"
assert_exit 0 "user key list"
assert_match "$OUT" "^$(printf '%s' "$FP" | sed 's/[+/]/\\&/g')	alice@lab$"
run "$W" user key add alice "$T/keys/alice.pub" --state "$STATE"
assert_exit 1 "the same key twice"
printf 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ x\n' >"$T/keys/rsa.pub"
run "$W" user key add alice "$T/keys/rsa.pub" --state "$STATE"
assert_exit 2 "an RSA key is refused"
assert_contains "$ERR" "only ssh-ed25519"
printf 'no-pty ssh-ed25519 %s\n' "$(cut -d' ' -f2 "$T/keys/alice.pub")" \
	>"$T/keys/opt.pub"
run "$W" user key add bob "$T/keys/opt.pub" --state "$STATE"
assert_exit 2 "an option we do not enforce is refused, not ignored"

# Login with -i: no password anywhere.
run "$W" put -i "$T/keys/alice" "alice@127.0.0.1:$PORT" "$T/k.txt" /k.txt
assert_exit 0 "put with -i KEY: $ERR"
assert_eq "key me" "$(cat "$ROOT/k.txt")" "uploaded by key login"
assert_match "$(cat "$LOG")" 'user=alice op=login result=ok.*method=key'
# The wrong key: refused, then no password to fall back on.
run "$W" get -i "$T/keys/stranger" "alice@127.0.0.1:$PORT" /k.txt "$T/x"
assert_exit 3 "an unauthorized key"
assert_contains "$ERR" "authentication failed"
# The key is alice's, not bob's.
run "$W" get -i "$T/keys/alice" "bob@127.0.0.1:$PORT" /k.txt "$T/x"
assert_exit 3 "alice's key does not log in bob"
# After a refused key the password still works.
run env WHARF_PASSWORD=pw2 "$W" get -i "$T/keys/alice" \
	"bob@127.0.0.1:$PORT" /k.txt "$T/bob.txt"
assert_exit 0 "password after a refused key: $ERR"

# The default key made by `wharf keygen`.
run "$W" keygen -C "alice default"
assert_exit 0 "wharf keygen: $ERR"
assert_file_exists "$XDG_CONFIG_HOME/wharf/id_ed25519"
assert_eq "600" "$(stat -c %a "$XDG_CONFIG_HOME/wharf/id_ed25519")" \
	"the key file is private"
run ssh-keygen -l -f "$XDG_CONFIG_HOME/wharf/id_ed25519"
assert_exit 0 "ssh-keygen reads wharf's key file"
run "$W" user key add alice "$XDG_CONFIG_HOME/wharf/id_ed25519.pub" \
	--state "$STATE"
assert_exit 0 "add the default key"
run "$W" get "alice@127.0.0.1:$PORT" /k.txt "$T/dflt.txt"
assert_exit 0 "login with the default key: $ERR"
run "$W" user key del alice "alice default" --state "$STATE"
assert_exit 0 "user key del by comment: $ERR"
run "$W" get "alice@127.0.0.1:$PORT" /k.txt "$T/x"
assert_exit 3 "a removed key is refused at once, without a restart"
rm -f "$XDG_CONFIG_HOME/wharf/id_ed25519"

# A real ssh-agent: the key file is gone, only the agent has it.
eval "$(ssh-agent -s -a "$T/agent.sock")" >/dev/null ||
	fail "ssh-agent did not start"
BG_PIDS+=("$SSH_AGENT_PID")
cp "$T/keys/alice" "$T/keys/agent-only"
ssh-add -q "$T/keys/agent-only" 2>/dev/null || fail "ssh-add"
ssh-add -q "$T/keys/stranger" 2>/dev/null || fail "ssh-add"
rm -f "$T/keys/agent-only"
run "$W" get "alice@127.0.0.1:$PORT" /k.txt "$T/agent.txt"
assert_exit 0 "login through ssh-agent: $ERR"
assert_eq "key me" "$(cat "$T/agent.txt")" "downloaded by agent login"
ssh-add -D -q 2>/dev/null
run "$W" get "alice@127.0.0.1:$PORT" /k.txt "$T/x"
assert_exit 3 "an agent without the key: no login"
kill "$SSH_AGENT_PID" 2>/dev/null
unset SSH_AUTH_SOCK SSH_AGENT_PID

# from= and read-only, from the key's line.
printf 'from="10.0.0.*" %s\n' "$(cat "$T/keys/stranger.pub")" \
	>"$T/keys/from.pub"
run "$W" user key add bob "$T/keys/from.pub" --state "$STATE"
assert_exit 0 "a key with from=: $ERR"
run "$W" get -i "$T/keys/stranger" "bob@127.0.0.1:$PORT" /k.txt "$T/x"
assert_exit 3 "from= refuses 127.0.0.1"
assert_match "$(cat "$LOG")" 'from='
run "$W" user key del bob "$(ssh-keygen -l -f "$T/keys/stranger.pub" |
	awk '{print $2}')" --state "$STATE"
assert_exit 0 "user key del by fingerprint"
printf 'read-only %s\n' "$(cat "$T/keys/stranger.pub")" >"$T/keys/ro.pub"
run "$W" user key add bob "$T/keys/ro.pub" --state "$STATE"
assert_exit 0 "a read-only key"
run "$W" put -i "$T/keys/stranger" "bob@127.0.0.1:$PORT" "$T/k.txt" /b.txt
assert_exit 1 "a read-only key cannot upload"
run "$W" get -i "$T/keys/stranger" "bob@127.0.0.1:$PORT" /k.txt "$T/ro.txt"
assert_exit 0 "a read-only key can download: $ERR"

# Keys only: the password no longer works for alice.
run "$W" user mod alice --keys-only --state "$STATE"
assert_exit 0 "user mod --keys-only"
run env WHARF_PASSWORD=pw "$W" get "alice@127.0.0.1:$PORT" /k.txt "$T/x"
assert_exit 3 "a keys-only user's password is refused"
run "$W" get -i "$T/keys/alice" "alice@127.0.0.1:$PORT" /k.txt "$T/ko.txt"
assert_exit 0 "a keys-only user logs in with a key: $ERR"

# A signature made for another session is refused: a raw peer has the
# agent sign session 1's login message and offers it in session 2.
stop_server
start_server --allow-plaintext
eval "$(ssh-agent -s -a "$T/agent2.sock")" >/dev/null ||
	fail "ssh-agent did not start"
BG_PIDS+=("$SSH_AGENT_PID")
ssh-add -q "$T/keys/alice" 2>/dev/null || fail "ssh-add"
run python3 "$(dirname "$0")/key_replay.py" "$PORT" alice
assert_exit 0 "a replayed key signature: $OUT $ERR"
assert_contains "$OUT" "replayed signature refused"
kill "$SSH_AGENT_PID" 2>/dev/null

stop_server
finish
