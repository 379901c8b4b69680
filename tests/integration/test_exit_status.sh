#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# `wharf connect` exit statuses (0 ok, 1 remote failure, 2 usage, 3
# connection/handshake/auth) and how -c and -b runs stop at the first
# failure unless its line starts with '-'.
. "$(dirname "$0")/lib.sh"

add_user bob 'bob-secret'
start_server
U=bob
P=bob-secret

# --- 0
wharf_c $U "$P" "pwd"
assert_exit 0 "a successful run"
assert_eq / "$OUT"

wharf_c $U "$P" "help"
assert_exit 0 "help"
assert_contains "$OUT" "mkdir"

wharf_c $U "$P" ""
assert_exit 0 "no commands at all"

wharf_c $U "$P" "pwd; bye; mkdir after_bye"
assert_exit 0 "bye ends a -c run"
assert_no_file "$ROOT/after_bye"

# --- 1
wharf_c $U "$P" "rmdir nosuch"
assert_exit 1 "a failed remote operation"

# -c stops at the first failure.
wharf_c $U "$P" "rm missing; mkdir x"
assert_exit 1 "-c stops at the first failure"
assert_contains "$ERR" "wharf: rm missing: "
assert_no_file "$ROOT/x" "the command after the failure did not run"

wharf_c $U "$P" "-rm missing; mkdir x1"
assert_exit 0 "-c with a '-' line goes on"
assert_dir_exists "$ROOT/x1"

# -b stops at the first failure, unless the line starts with '-'.
printf 'rm missing\nmkdir x2\n' >"$T/stop.batch"
wharf_b $U "$P" "$T/stop.batch"
assert_exit 1 "-b stops at the first failure"
assert_no_file "$ROOT/x2"

printf '# a comment\n\n-rm missing\nmkdir x\n  -rmdir nosuch\n-frobnicate\nmkdir x3\n' \
	>"$T/go.batch"
wharf_b $U "$P" "$T/go.batch"
assert_exit 0 "-b goes on after '-' lines"
assert_contains "$ERR" "wharf: rm missing: " "the ignored failure is still shown"
assert_dir_exists "$ROOT/x" "the command after an ignored failure ran"
assert_dir_exists "$ROOT/x3"

printf 'mkdir x4\nrmdir x4\nmkdir x4' >"$T/nonl.batch"
wharf_b $U "$P" "$T/nonl.batch"
assert_exit 0 "-b with no newline at the end"
assert_dir_exists "$ROOT/x4" "the last line without a newline ran"

printf 'mkdir from_stdin\n' >"$T/stdin.batch"
LAST_CMD="connect -b - <$T/stdin.batch"
WHARF_PASSWORD=$P timeout 30 "$W" connect "$U@$(host_port)" -b - \
	<"$T/stdin.batch" >"$T/run.out" 2>"$T/run.err"
RC=$?
ERR=$(cat "$T/run.err")
assert_exit 0 "-b - reads commands from stdin"
assert_dir_exists "$ROOT/from_stdin"

# --- 2: unknown command and bad arguments
wharf_c $U "$P" "frobnicate"
assert_exit 2 "an unknown command"
assert_contains "$ERR" "unknown command 'frobnicate'"

wharf_c $U "$P" "frobnicate; mkdir y"
assert_exit 2 "an unknown command stops the run"
assert_no_file "$ROOT/y"

wharf_c $U "$P" "mkdir"
assert_exit 2 "mkdir without a path"
assert_contains "$ERR" "usage: mkdir"

wharf_c $U "$P" "stat"
assert_exit 2 "stat without a path"

wharf_c $U "$P" "cd a b"
assert_exit 2 "cd with two paths"

run env WHARF_PASSWORD=$P "$W" connect
assert_exit 2 "connect without a host"
assert_contains "$ERR" "missing [USER@]HOST[:PORT]"

run env WHARF_PASSWORD=$P "$W" connect "$U@$(host_port)" extra -c pwd
assert_exit 2 "connect with too many arguments"

run env WHARF_PASSWORD=$P "$W" connect "$U@$(host_port)" --bogus
assert_exit 2 "connect with an unknown option"

run env WHARF_PASSWORD=$P "$W" connect "$U@$(host_port)" -c pwd \
	-b "$T/go.batch"
assert_exit 2 "-c and -b together"
assert_contains "$ERR" "-c and -b do not mix"

run env WHARF_PASSWORD=$P "$W" connect "$U@$(host_port)" -b "$T/none"
assert_exit 2 "-b with a missing file"
assert_contains "$ERR" "$T/none"

# After HOST: anything but digits is a path (HOST:DIR), so a bad port is
# only possible in a URL.
run env WHARF_PASSWORD=$P "$W" connect "wharf://$U@127.0.0.1:notaport/" -c pwd
assert_exit 2 "a port that is not a number"
assert_contains "$ERR" "bad address"

run env WHARF_PASSWORD=$P "$W" connect "$U@127.0.0.1:99999" -c pwd
assert_exit 2 "a port out of range"

run env WHARF_PASSWORD=$P "$W" connect "@127.0.0.1:$PORT" -c pwd
assert_exit 2 "an empty user name"

run env WHARF_PASSWORD=$P "$W" connect "$U@[::1" -c pwd
assert_exit 2 "an unclosed IPv6 bracket"

run "$W" frobnicate
assert_exit 2 "an unknown subcommand"

run "$W"
assert_exit 2 "no subcommand"

# --- 3: wrong password, nothing listening, wrong pre-shared key
wharf_c $U wrong "pwd"
assert_exit 3 "a wrong password"
assert_contains "$ERR" "authentication failed"

wharf_c nobody "$P" "pwd"
assert_exit 3 "an unknown user"

# No WHARF_PASSWORD and no terminal to ask on (setsid: no controlling
# terminal, so the runner's own terminal is never read).
if command -v setsid >/dev/null; then
	run setsid -w env -u WHARF_PASSWORD "$W" connect "$U@$(host_port)" \
		-c pwd
	assert_exit 3 "no password and no terminal"
	assert_contains "$ERR" "set WHARF_PASSWORD or run on a terminal"
fi

# A port nothing listens on: one the kernel just gave a server that has
# stopped since.
SAVED_PORT=$PORT
SAVED_PID=$SERVER_PID
SAVED_ERR=$SERVER_ERR
ROOT=$T/root2 STATE=$T/state2 start_server
DEAD_PORT=$PORT
stop_server
PORT=$DEAD_PORT
wharf_c $U "$P" "pwd"
assert_exit 3 "nothing listening on the port"
assert_contains "$ERR" "connect to 127.0.0.1 port $DEAD_PORT"
PORT=$SAVED_PORT
SERVER_PID=$SAVED_PID
SERVER_ERR=$SAVED_ERR

run "$W" keygen --psk "$T/psk"
assert_exit 0 "keygen"
wharf_c $U "$P" "pwd" --psk "$T/psk"
assert_exit 3 "a pre-shared key the server does not use"
assert_contains "$ERR" "pre-shared key"

wharf_c $U "$P" "pwd" --psk "$T/no-such-key"
assert_exit 3 "a missing key file"

wharf_c $U "$P" "pwd"
assert_exit 0 "the server still works after all that"
server_alive

stop_server
finish
