#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A server started as root with no folder named serves /srv/wharf and
# keeps its state in /var/lib/wharf, and `wharf user add` run from another
# folder with no option edits that same state (the issue: a second users
# database appeared in whatever folder the shell was in). Run in a private
# mount namespace with a tmpfs over /srv and /var/lib, so that the
# machine's own folders are never touched.
if [ -z "${WHARF_DEFAULTS_NS:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null ||
		! unshare --mount true 2>/dev/null; then
		echo "SKIP: test_defaults: needs root and unshare --mount"
		echo "0 passed, 0 failed"
		exit 0
	fi
	exec unshare --mount --propagation private \
		env WHARF_DEFAULTS_NS=1 bash "$0" "$@"
fi
mount -t tmpfs -o mode=755 wharf-test-srv /srv || exit 1
mount -t tmpfs -o mode=755 wharf-test-varlib /var/lib || exit 1
. "$(dirname "$0")/lib.sh"

# Only what a test cannot take from the defaults: an ephemeral port, the
# test account, and the log where the helpers read it.
{
	echo "listen = 127.0.0.1:0"
	echo "user = $SERVE_USER"
	echo "log = $LOG"
} >"$WHARF_SERVE_CONFIG"
cd "$T/home" || fail "cd"
"$W" serve </dev/null 2>"$T/serve.err" &
SERVER_PID=$!
BG_PIDS+=("$SERVER_PID")
SERVER_ERR=$T/serve.err
wait_log ' listening on ' || fail "no start: $(cat "$T/serve.err")"
PORT=$(sed -n 's/.* listening on .*:\([0-9][0-9]*\)$/\1/p' "$LOG")
export PORT
assert_match "$(cat "$LOG")" 'serving /srv/wharf \(state /var/lib/wharf\)'
assert_file_exists /var/lib/wharf/users "the state in /var/lib/wharf"
assert_eq "$SERVE_USER" "$(stat -c %U /srv/wharf)" \
	"the new root belongs to the service user"
# From another folder, no option: the same users file.
mkdir -p "$T/elsewhere"
cd "$T/elsewhere" || fail "cd"
run sh -c "printf 'pw\n' | '$W' user add alice"
assert_exit 0 "wharf user add with no option: $ERR"
assert_no_file "$T/elsewhere/wharf-state" "no second database here"
run "$W" user list
assert_match "$OUT" '^alice	' "wharf user list sees alice"
assert_match "$OUT" '^admin	' "and the first admin"
echo hello >"$T/hello.txt"
run env WHARF_PASSWORD=pw "$W" put "alice@$(host_port)" "$T/hello.txt" \
	hello.txt
assert_exit 0 "alice logs in to the default server: $ERR"
assert_eq hello "$(cat /srv/wharf/hello.txt)" "into /srv/wharf"
stop_server

finish
