#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Shell completion (issue 19): the bash completion is sourced and its
# function called with COMP_WORDS as bash sets them; remote paths come
# from the real server through `wharf complete-remote`, quoted for the
# line; a server that never answers costs the timeout, not a hung shell.
# The zsh completion is loaded by zsh and driven on a pseudo-terminal
# when zsh is installed.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
add_user alice 'alice pw'
start_server
export WHARF_PASSWORD='alice pw'
mkdir -p "$ROOT/proj/sub dir" "$ROOT/proj/subtle"
printf 'x\n' >"$ROOT/proj/my file.txt"
printf 'x\n' >"$ROOT/proj/notes.txt"
printf 'x\n' >"$ROOT/proj/.hidden"
give_tree "$ROOT"
# complete-remote trusts pinned keys only: pin it first.
run "$W" ls "alice@$(host_port)" /
assert_exit 0 "first contact pins the host key"

PATH=$(dirname "$W"):$PATH
export PATH
# shellcheck source=/dev/null
. "$SRC/completions/wharf.bash"

# comp LINE: what _wharf offers at the end of LINE, one a line. The
# words are split as bash splits them (COMP_WORDBREAKS has ':').
comp() {
	local line=$1
	COMP_LINE=$line
	COMP_POINT=${#line}
	read -r -a COMP_WORDS <<<"$(sed 's/:/ : /g' <<<"$line")"
	[[ $line == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_wharf 2>/dev/null
	printf '%s\n' "${COMPREPLY[@]}"
}

out=$(comp "wharf ")
for c in serve user connect get put sync ls stat sum rm mkdir rmdir mv \
	chmod df quota ping keygen keyscan; do
	assert_contains "$out" "$c" "subcommand $c offered"
done
assert_contains "$(comp "wharf ls -")" "-S" "ls options"
assert_contains "$(comp "wharf df -")" "-h" "df options"
assert_contains "$(comp "wharf sync --")" "--checksum" "sync options"
assert_contains "$(comp "wharf serve --")" "--check-config" "serve options"
assert_contains "$(comp "wharf user k")" "key" "user key"
assert_contains "$(comp "wharf user key ")" "add" "user key verbs"
assert_contains "$(comp "wharf get --host-key-policy ")" "accept-new"

out=$(comp "wharf get -P $PORT alice@127.0.0.1:/proj/my")
assert_eq '/proj/my\ file.txt' "$out" "a remote name with a space, escaped"
out=$(comp "wharf ls -P $PORT alice@127.0.0.1:/proj/sub")
assert_contains "$out" '/proj/sub\ dir/' "a remote folder"
assert_contains "$out" '/proj/subtle/' "both folders"
out=$(comp "wharf rm -P $PORT alice@127.0.0.1:/proj/")
assert_contains "$out" '/proj/notes.txt'
assert_not_contains "$out" '.hidden' "no dot names unless asked"
assert_contains "$(comp "wharf rm -P $PORT alice@127.0.0.1:/proj/.")" \
	'/proj/.hidden' "dot names after a dot"
out=$(comp "wharf get -P $PORT alice@127.0.0.1:")
assert_contains "$out" ':proj/' "right after the colon: the colon kept"
# Without ':' in COMP_WORDBREAKS the whole word is replaced.
out=$(COMP_WORDBREAKS=' ' ; COMP_LINE="wharf get -P $PORT alice@127.0.0.1:/proj/no"
	COMP_POINT=${#COMP_LINE}
	COMP_WORDS=(wharf get -P "$PORT" alice@127.0.0.1:/proj/no)
	COMP_CWORD=4; COMPREPLY=(); _wharf 2>/dev/null
	printf '%s\n' "${COMPREPLY[@]}")
assert_eq 'alice@127.0.0.1:/proj/notes.txt' "$out" "no ':' word break"

# The parser reads what completion inserted as one name.
wharf_c alice 'alice pw' "stat /proj/my\\ file.txt"
assert_exit 0 "the completed, escaped name works in the shell language"

# A server that accepts and never speaks: completion gives up.
python3 - "$T/silent.port" <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
time.sleep(60)
PY
BG_PIDS+=($!)
n=0
while [ ! -s "$T/silent.port" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
SILENT=$(cat "$T/silent.port")
run env WHARF_COMPLETE_TIMEOUT=1 "$W" complete-remote -P "$SILENT" \
	alice@127.0.0.1:/x
assert_ne 0 "$RC" "a silent server gives no names"
assert_eq "" "$OUT"
# Without a password or key: no prompt, no names.
run env -u WHARF_PASSWORD "$W" complete-remote -P "$PORT" \
	alice@127.0.0.1:/proj/
assert_ne 0 "$RC" "no credentials: nothing, and no prompt"
assert_eq "" "$OUT"

# zsh: compinit with our _wharf, a Tab on a pseudo-terminal.
if command -v zsh >/dev/null; then
	mkdir -p "$T/zfunc"
	cp "$SRC/completions/_wharf" "$T/zfunc/"
	run timeout 60 python3 - "$T/zfunc" "$PORT" "$T" <<'PY'
import os, pty, re, select, sys, time
zfunc, port, home = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    env = dict(os.environ, HOME=home, TERM="dumb", ZDOTDIR=home)
    os.execvpe("zsh", ["zsh", "-f", "-i"], env)
def read(t):
    out, end = b"", time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    return out.decode("utf-8", "replace")
def send(s):
    os.write(fd, s.encode())
send(f"fpath=({zfunc} $fpath); autoload -Uz compinit; compinit -u -D; "
     "PS1='zsh> '\r")
read(2)
send(f"wharf get -P {port} alice@127.0.0.1:/proj/my\t")
screen = read(4)
send("\x15exit\r")
read(1)
seen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", screen)
print(seen[-400:])
sys.exit(0 if re.search(r"/proj/my\\ file\.txt", seen) else 1)
PY
	assert_exit 0 "zsh completes an escaped remote name: $OUT"
else
	skip "zsh not installed"
fi
finish
