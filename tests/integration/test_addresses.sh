#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Addresses as ssh users type them: HOST:PATH in get, put, sync and
# connect; wharf:// URLs both ways; Host aliases from the client
# configuration (and -F, -o, -P); the HOST:PORT rule and its refusals;
# keyscan with the strict host key policy.
. "$(dirname "$0")/lib.sh"

start_server
add_user alice pw
export WHARF_PASSWORD=pw
printf 'hello over scp syntax\n' >"$T/a.txt"
mkdir -p "$T/dl"

# HOST:PATH, the port from -P. "DIR/" must be a folder, as with cp.
run "$W" put -P "$PORT" "$T/a.txt" "alice@127.0.0.1:up/"
assert_exit 1 "put into a folder that does not exist"
assert_contains "$ERR" "up/: no such remote directory"
assert_no_file "$ROOT/up" "no file named like the folder"
run "$W" get -P "$PORT" "alice@127.0.0.1:/a" "$T/nodir/"
assert_exit 1 "get into a local folder that does not exist"
assert_no_file "$T/nodir" "no local file named like the folder"
mkdir "$ROOT/up"
run "$W" put -P "$PORT" "$T/a.txt" "alice@127.0.0.1:up/"
assert_exit 0 "put LOCAL USER@HOST:DIR/: $ERR"
assert_eq "$(cat "$T/a.txt")" "$(cat "$ROOT/up/a.txt")" "put by HOST:PATH"
run "$W" get --port "$PORT" "alice@127.0.0.1:/up/a.txt" "$T/dl/"
assert_exit 0 "get USER@HOST:PATH LOCAL: $ERR"
assert_eq "$(cat "$T/a.txt")" "$(cat "$T/dl/a.txt")" "get by HOST:PATH"
# With no destination, get writes into the current folder, as cp would.
(cd "$T/dl" && rm -f a.txt && run "$W" get -P "$PORT" "alice@127.0.0.1:up/a.txt" &&
	[ "$RC" = 0 ] && [ -f a.txt ]) || fail "get HOST:PATH without a destination"
pass

# URLs, with the port and %-escapes.
printf 'url bytes\n' >"$T/b c.txt"
mkdir "$ROOT/url dir"
run "$W" put "$T/b c.txt" "wharf://alice@127.0.0.1:$PORT/url%20dir/"
assert_exit 0 "put to a URL: $ERR"
assert_eq "url bytes" "$(cat "$ROOT/url dir/b c.txt")" "put by URL"
run "$W" get "wharf://alice@127.0.0.1:$PORT/url%20dir/b%20c.txt" "$T/dl/u.txt"
assert_exit 0 "get from a URL: $ERR"
assert_eq "url bytes" "$(cat "$T/dl/u.txt")" "get by URL"

# A Host alias in the user's configuration.
mkdir -p "$XDG_CONFIG_HOME/wharf"
cat >"$XDG_CONFIG_HOME/wharf/config" <<EOC
# test lab
Host lab lab-*
    HostName 127.0.0.1
    Port $PORT
    User alice
Host *
    Port 1
EOC
run "$W" put "$T/a.txt" lab:/aliased.txt
assert_exit 0 "put to an alias: $ERR"
assert_file_exists "$ROOT/aliased.txt"
run "$W" get lab-7:/aliased.txt "$T/dl/aliased.txt"
assert_exit 0 "get from a pattern alias: $ERR"
assert_eq "$(cat "$T/a.txt")" "$(cat "$T/dl/aliased.txt")" "alias round trip"
run "$W" connect lab:/up -c pwd
assert_exit 0 "connect HOST:DIR: $ERR"
assert_eq "/up" "$OUT" "connect starts in the named folder"
# The old form resolves aliases too.
run "$W" get lab /up/a.txt "$T/dl/old.txt"
assert_exit 0 "get SERVER PATH LOCAL with an alias: $ERR"
# -o beats the file; -P beats both.
run "$W" get -o Port=1 lab:/aliased.txt "$T/dl/x"
assert_exit 3 "-o Port=1 is used"
run "$W" get -o Port=1 -P "$PORT" lab:/aliased.txt "$T/dl/x"
assert_exit 0 "-P beats -o: $ERR"
# -F replaces the user's file.
printf 'Host other\n  HostName 127.0.0.1\n  Port %s\n  User alice\n' "$PORT" \
	>"$T/alt.conf"
run "$W" get -F "$T/alt.conf" other:/aliased.txt "$T/dl/y"
assert_exit 0 "-F FILE: $ERR"
run "$W" get -F "$T/alt.conf" lab:/aliased.txt "$T/dl/z"
assert_exit 3 "-F leaves the user's aliases out"
# A mistake in the file is reported with its line.
printf 'Host lab\n  Prot 22\n' >"$T/bad.conf"
run "$W" get -F "$T/bad.conf" lab:/aliased.txt "$T/dl/z"
assert_exit 2 "an unknown key"
assert_contains "$ERR" "bad.conf line 2: unknown key 'Prot'"

# Completion offers the aliases, with their colon where a path follows.
COMP_OUT=$(bash -c '. "$1"; COMP_WORDS=(wharf get la); COMP_CWORD=2
	_wharf; printf "%s\n" "${COMPREPLY[@]}"
	COMP_WORDS=(wharf connect ""); COMP_CWORD=2
	_wharf; printf "%s\n" "${COMPREPLY[@]}"' _ \
	"$(dirname "$0")/../../completions/wharf.bash")
assert_match "$COMP_OUT" '^lab:$' "get completes an alias as HOST:"
assert_match "$COMP_OUT" '^lab$' "connect completes an alias"
assert_not_contains "$COMP_OUT" "lab-*" "patterns are not offered"

# sync in rsync's order: source first.
mkdir -p "$T/tree/sub"
printf 'one\n' >"$T/tree/one"
printf 'two\n' >"$T/tree/sub/two"
run "$W" sync "$T/tree" lab:/tree -q
assert_exit 0 "sync LOCAL HOST:DIR: $ERR"
assert_eq "two" "$(cat "$ROOT/tree/sub/two")" "sync up"
run "$W" sync lab:/tree "$T/back" -q
assert_exit 0 "sync HOST:DIR LOCAL: $ERR"
assert_eq "two" "$(cat "$T/back/sub/two")" "sync down"

# The rule and its refusals.
run "$W" get "alice@127.0.0.1:$PORT"
assert_exit 2 "HOST:PORT with no file"
assert_contains "$ERR" "HOST:./NAME"
printf 'colon\n' >"$T/dl/k:v"
(cd "$T/dl" && run "$W" put "k:v" lab:/ && [ "$RC" = 2 ] &&
	grep -q "write ./k:v" "$T/run.err") ||
	fail "a local name with a colon is refused without ./"
pass
(cd "$T/dl" && run "$W" put "./k:v" lab:/ && [ "$RC" = 0 ]) ||
	fail "./k:v is a local file: $(cat "$T/run.err")"
assert_eq "colon" "$(cat "$ROOT/k:v")" "./NAME uploads a name with a colon"
run "$W" get lab:/aliased.txt other:/x "$T/dl"
assert_exit 2 "two servers in one command"
assert_contains "$ERR" "one server"
# Old forms keep working, HOST:PORT first.
run "$W" put "alice@127.0.0.1:$PORT" "$T/a.txt" /old-form.txt
assert_exit 0 "put SERVER LOCAL REMOTE: $ERR"
assert_file_exists "$ROOT/old-form.txt"

# keyscan, and a strict policy that needs the key ahead of time.
export XDG_CONFIG_HOME=$T/fresh
mkdir -p "$XDG_CONFIG_HOME/wharf"
run "$W" get --host-key-policy strict "alice@127.0.0.1:$PORT" /up/a.txt \
	"$T/dl/s.txt"
assert_exit 3 "strict: an unknown key is refused"
assert_contains "$ERR" "wharf keyscan"
assert_no_file "$XDG_CONFIG_HOME/wharf/known_hosts" "strict pins nothing"
run "$W" keyscan "127.0.0.1:$PORT"
assert_exit 0 "keyscan: $ERR"
assert_match "$OUT" "^127\.0\.0\.1:$PORT ed25519 [A-Za-z0-9+/]{43}=$"
printf '%s\n' "$OUT" >"$XDG_CONFIG_HOME/wharf/known_hosts"
run "$W" get --host-key-policy strict "alice@127.0.0.1:$PORT" /up/a.txt \
	"$T/dl/s.txt"
assert_exit 0 "strict with the scanned key: $ERR"
run "$W" keyscan "127.0.0.1:1"
assert_exit 3 "keyscan of a closed port"

finish
