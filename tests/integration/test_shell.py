#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The interactive shell, driven through a pseudo-terminal against a real
server: Tab completion of a remote path, Ctrl-C at the prompt, Ctrl-C
during a download and an upload then resume, close/open, a lost connection
and the offer to reconnect, Ctrl-D. Reads the screen as a user would."""

import hashlib
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rel_wire import serve_as  # noqa: E402

WHARF = os.environ.get("WHARF_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "wharf")
PASSED = 0


def fail(msg, screen=""):
    print(f"FAIL: test_shell: {msg}")
    if screen:
        print("--- screen (last 3000 bytes):")
        print(repr(screen[-3000:]))
    print(f"{PASSED} passed, 1 failed")
    sys.exit(1)


def ok():
    global PASSED
    PASSED += 1


class Server:
    def __init__(self, tmp, port=0, extra=()):
        self.tmp = tmp
        self.log = os.path.join(tmp, f"server-{time.time_ns()}.log")
        user = serve_as(tmp, os.path.join(tmp, "root"))
        self.proc = subprocess.Popen(
            [WHARF, "serve", "--root", os.path.join(tmp, "root"),
             "--state", os.path.join(tmp, "state"),
             "--listen", f"127.0.0.1:{port}", "--log", self.log] + user +
            list(extra),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        self.port = None
        while time.time() < deadline and self.port is None:
            time.sleep(0.05)
            try:
                m = re.search(r"listening on 127\.0\.0\.1:(\d+)",
                              open(self.log).read())
            except FileNotFoundError:
                m = None
            if m:
                self.port = int(m.group(1))
        if self.port is None:
            self.stop()
            fail("server did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Term:
    """A tiny expect: the child on a pty, its output accumulated."""

    def __init__(self, argv, env, cwd):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.chdir(cwd)
            os.execve(argv[0], argv, env)
        self.screen = ""

    def read(self, timeout=0.2):
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                return
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                return
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            self.screen += data.decode("utf-8", "replace")

    def expect(self, pattern, timeout=20, since=0):
        end = time.time() + timeout
        while time.time() < end:
            # Match what a person sees: drop cursor-movement sequences.
            seen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x07|\r(?!\n)", "",
                          self.screen[since:])
            if re.search(pattern, seen):
                return
            self.read(0.1)
        fail(f"did not see /{pattern}/ within {timeout} s", self.screen)

    def send(self, text):
        os.write(self.fd, text.encode())

    def mark(self):
        return len(self.screen)

    def new_secret(self, kind, first, second, since=0):
        """Answers the two prompts for a new password or passcode."""
        self.expect(rf"New {kind}: ", since=since)
        self.send(first + "\r")
        self.expect(rf"Repeat {kind}: ", since=since)
        self.send(second + "\r")

    def wait_exit(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            self.read(0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        fail("client did not exit", self.screen)


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    tmp = tempfile.mkdtemp(prefix="wharf-test_shell.")
    servers = []
    term = None
    try:
        root = os.path.join(tmp, "root")
        local = os.path.join(tmp, "local")
        os.makedirs(os.path.join(root, "projects", "alpha"))
        os.makedirs(local)
        with open(os.path.join(root, "projects", "notes.txt"), "w") as f:
            f.write("hello\n")
        with open(os.path.join(root, "projects", "my file.txt"), "w") as f:
            f.write("spaced\n")
        with open(os.path.join(root, "projects", "it's [1].txt"), "w") as f:
            f.write("quoted\n")
        # Big enough that a transfer is still running when Ctrl-C comes.
        big = os.path.join(root, "projects", "big.bin")
        with open(big, "wb") as f:
            block = os.urandom(1 << 20)
            for _ in range(768):
                f.write(block)
        up = os.path.join(local, "up.bin")
        shutil.copy(big, up)
        subprocess.run([WHARF, "user", "add", "alice", "--init", "--state",
                        os.path.join(tmp, "state")], input=b"pw\n",
                       check=True, stderr=subprocess.DEVNULL)
        srv = Server(tmp)
        servers.append(srv)
        env = dict(os.environ, WHARF_PASSWORD="pw",
                   XDG_CONFIG_HOME=os.path.join(tmp, "cfg"),
                   XDG_STATE_HOME=os.path.join(tmp, "st"),
                   HOME=tmp, TERM="xterm", NO_COLOR="1")
        # First contact on a terminal: refused unless the user says yes,
        # as ssh asks; nothing is pinned by a "no".
        kh = os.path.join(tmp, "cfg", "wharf", "known_hosts")
        term = Term([WHARF, "connect", f"alice@127.0.0.1:{srv.port}"],
                    env, local)
        term.expect(r"Its key fingerprint is SHA256:[A-Za-z0-9+/]+\.")
        term.expect(r"continue connecting \(yes/no\)\? ")
        term.send("maybe\r")
        term.expect(r"Please type 'yes' or 'no': ")
        term.send("no\r")
        term.expect(r"not accepted")
        if term.wait_exit() != 3:
            fail("refusing the host key did not exit 3", term.screen)
        if os.path.exists(kh) and open(kh).read().strip():
            fail("a refused host key was pinned", open(kh).read())
        ok()
        term = Term([WHARF, "connect", f"alice@127.0.0.1:{srv.port}"],
                    env, local)
        term.expect(r"continue connecting \(yes/no\)\? ")
        term.send("yes\r")
        term.expect(r"pinned host key of 127\.0\.0\.1:[0-9]+")
        term.expect(r"alice@127\.0\.0\.1:/> ")
        if f"127.0.0.1:{srv.port} ed25519 " not in open(kh).read():
            fail("the accepted key is not in known_hosts", open(kh).read())
        ok()

        # Tab completes a remote folder name from a server listing.
        m = term.mark()
        term.send("cd proj\t")
        term.expect(r"cd projects/", since=m)
        term.send("\r")
        term.expect(r"alice@127\.0\.0\.1:/projects> ", since=m)
        ok()
        m = term.mark()
        term.send("get no\t")
        term.expect(r"get notes\.txt", since=m)
        term.send("\r")
        term.expect(r"get notes\.txt .* wire", since=m)
        if open(os.path.join(local, "notes.txt")).read() != "hello\n":
            fail("completed get fetched the wrong content", term.screen)
        ok()

        # Completion quotes what it inserts as the parser reads it: a
        # space, a quote and a glob character arrive as one literal word.
        m = term.mark()
        term.send("ls -1 my\t")
        term.expect(r"ls -1 my\\ file\.txt $", since=m)
        term.send("\r")
        term.expect(r"\r\nmy file\.txt\r\n", since=m)
        if "no such" in term.screen[m:] or "no match" in term.screen[m:]:
            fail("a completed name with a space was split", term.screen)
        ok()
        m = term.mark()
        term.send("stat it\t")
        term.expect(r"stat it\\'s\\ \\\[1\\\]\.txt $", since=m)
        term.send("\r")
        term.expect(r"Path: /projects/it's \[1\]\.txt", since=m)
        ok()
        m = term.mark()
        term.send("stat \"my f\t")
        term.expect(r'stat "my file\.txt" $', since=m)
        term.send("\r")
        term.expect(r"Path: /projects/my file\.txt", since=m)
        m = term.mark()
        term.send("stat 'my f\t")
        term.expect(r"stat 'my file\.txt' $", since=m)
        term.send("\r")
        term.expect(r"Path: /projects/my file\.txt", since=m)
        ok()

        # help: one column for the arguments, one for the text.
        m = term.mark()
        term.send("help\r")
        term.expect(r"unprotect .*remove a file's passcode", since=m)
        term.expect(r"alice@127\.0\.0\.1:/projects> $", since=m)
        lines = [ln for ln in term.screen[m:].split("\r\n")
                 if ln.startswith("  ")]
        # Where each description starts: after the last run of blanks
        # (descriptions hold single spaces only).
        desc = {[x.end() for x in re.finditer(r" {2,}", ln)][-1]
                for ln in lines}
        starts = {len(ln) - len(ln.lstrip()) for ln in lines}
        if len(lines) < 20 or len(desc) != 1 or starts != {2}:
            fail(f"help columns not aligned: {sorted(desc)}", term.screen)
        ok()

        # ! runs a local command; progress toggles the bar.
        m = term.mark()
        term.send("!echo local $((6*7))\r")
        term.expect(r"\r\nlocal 42\r\n", since=m)
        term.send("progress\r")
        term.expect(r"Progress meter disabled", since=m)
        term.send("progress\r")
        term.expect(r"Progress meter enabled", since=m)
        ok()

        # Ctrl-C at the prompt drops the line, the shell stays.
        m = term.mark()
        term.send("garbage words")
        term.read(0.3)
        term.send("\x03")
        term.expect(r"\^C\r\nalice@127\.0\.0\.1:/projects> $", since=m)
        term.send("pwd\r")
        term.expect(r"\r\n/projects\r\n", since=m)
        if "unknown command" in term.screen[m:]:
            fail("Ctrl-C did not clear the line", term.screen)
        ok()

        # Ctrl-C during a download: cancelled, partial kept, connected.
        m = term.mark()
        term.send("get big.bin --compress=off\r")
        term.expect(r"big\.bin\s+\d+%", since=m)
        term.send("\x03")
        term.expect(r"cancelled", since=m)
        term.expect(r"alice@127\.0\.0\.1:/projects> $", since=m)
        part = os.path.join(local, ".big.bin.wharf-part")
        if not os.path.exists(part) or os.path.exists(
                os.path.join(local, "big.bin")):
            fail("cancelled get: expected a partial and no target",
                 term.screen)
        ok()
        m = term.mark()
        term.send("get big.bin\r")
        term.expect(r"get big\.bin .*resumed", since=m, timeout=60)
        if sha(os.path.join(local, "big.bin")) != sha(big):
            fail("resumed get differs from the source", term.screen)
        ok()

        # Ctrl-C during an upload: same for the other direction.
        m = term.mark()
        term.send("put ../local/up.bin /up.bin --compress=off\r")
        term.expect(r"up\.bin\s+\d+%", since=m)
        term.send("\x03")
        term.expect(r"cancelled", since=m)
        term.expect(r"alice@127\.0\.0\.1:/projects> $", since=m)
        if os.path.exists(os.path.join(root, "up.bin")):
            fail("cancelled put left a target", term.screen)
        if not os.path.exists(os.path.join(root, ".up.bin.wharf-part")):
            fail("cancelled put left no partial", term.screen)
        ok()
        m = term.mark()
        term.send("put ../local/up.bin /up.bin\r")
        term.expect(r"put \.\./local/up\.bin .*resumed", since=m,
                    timeout=60)
        if sha(os.path.join(root, "up.bin")) != sha(up):
            fail("resumed put differs from the source", term.screen)
        ok()

        # close, local commands without a connection, open again: back
        # in the same folder.
        m = term.mark()
        term.send("close\r")
        term.expect(r"wharf \(not connected\)> ", since=m)
        term.send("lpwd\r")
        term.expect(re.escape(local), since=m)
        # A mark of its own: since m, the prompt before "close" would
        # match at once (a TSan run stopped the server before open had
        # connected).
        m = term.mark()
        term.send("open\r")
        term.expect(r"alice@127\.0\.0\.1:/projects> ", since=m)
        ok()

        # The server goes away: one line, and an offer to reconnect.
        port = srv.port
        srv.stop()
        m = term.mark()
        term.send("ls\r")
        term.expect(r"reconnect to 127\.0\.0\.1:\d+\? \[Y/n\]", since=m)
        srv2 = Server(tmp, port)
        servers.append(srv2)
        term.send("\r")
        # The reconnect lands in the folder the user was in.
        term.expect(r"alice@127\.0\.0\.1:/projects> ", since=m)
        m = term.mark()
        term.send("ls -1\r")
        term.expect(r"notes\.txt", since=m)
        term.send("cd /\r")
        term.expect(r"alice@127\.0\.0\.1:/> ", since=m)
        ok()

        # A new passcode is typed twice, unseen; two that differ protect
        # nothing.
        store = os.path.join(tmp, "state", "protected")
        m = term.mark()
        term.send("protect projects/notes.txt\r")
        term.new_secret("passcode", "open sesame", "open sesamx", since=m)
        term.expect(r"passcodes do not match", since=m)
        term.expect(r"alice@127\.0\.0\.1:/> $", since=m)
        if "sesame" in term.screen[m:]:
            fail("the passcode was echoed", term.screen)
        if os.path.exists(store) and "notes.txt" in open(store).read():
            fail("mismatched passcodes protected the file", term.screen)
        m = term.mark()
        term.send("protect projects/notes.txt\r")
        term.new_secret("passcode", "open sesame", "open sesame", since=m)
        term.expect(r"alice@127\.0\.0\.1:/> $", since=m)
        if not os.path.exists(store) or "notes.txt" not in open(
                store).read():
            fail("protect with matching passcodes did nothing", term.screen)
        ok()

        # Ctrl-D leaves with status 0.
        term.send("\x04")
        code = term.wait_exit()
        if code != 0:
            fail(f"Ctrl-D: exit status {code}", term.screen)
        if re.search(r"Sanitizer|runtime error:", term.screen):
            fail("sanitizer report from the shell", term.screen)
        term = None
        ok()

        # `user add` on a terminal: the password twice; a mismatch adds
        # nobody and fails.
        st = os.path.join(tmp, "state")
        t2 = Term([WHARF, "user", "add", "bob", "--state", st], env, tmp)
        t2.new_secret("password", "pw1", "pw2")
        t2.expect(r"passwords do not match")
        if t2.wait_exit() == 0:
            fail("user add with mismatched passwords succeeded", t2.screen)
        if "bob:" in open(os.path.join(st, "users")).read():
            fail("mismatched passwords added the user", t2.screen)
        t2 = Term([WHARF, "user", "add", "bob", "--state", st], env, tmp)
        t2.new_secret("password", "pw1", "pw1")
        if t2.wait_exit() != 0:
            fail("user add with matching passwords failed", t2.screen)
        if "bob:" not in open(os.path.join(st, "users")).read():
            fail("user add did not add bob", t2.screen)
        ok()

        # An idle prompt stays connected: the server's idle timeout is
        # 2 s, the shell waits 5 s, then works on without a reconnect.
        srv3 = Server(tmp, 0, ["--idle-timeout", "2"])
        servers.append(srv3)
        t3 = Term([WHARF, "connect", "--host-key-policy", "accept-new",
                   f"alice@127.0.0.1:{srv3.port}"],
                  dict(env, WHARF_PASSWORD="pw"), local)
        t3.expect(r"alice@127\.0\.0\.1:/> ")
        t3.send("cd projects\r")
        t3.expect(r"alice@127\.0\.0\.1:/projects> ")
        m = t3.mark()
        t3.read(5)
        t3.send("pwd\r")
        t3.expect(r"\r\n/projects\r\n", since=m)
        if "lost" in t3.screen or "reconnect" in t3.screen:
            fail("an idle prompt lost its connection", t3.screen)
        log = open(srv3.log).read()
        if "op=ping" not in log or "idle timeout" in log:
            fail("no keepalive reached the server", log[-2000:])
        ok()
        # Typing slowly is no activity either: half a line, a pause past
        # the timeout, the rest of it.
        m = t3.mark()
        t3.send("ls -1 no")
        t3.read(3)
        t3.send("tes.txt\r")
        t3.expect(r"\r\nnotes\.txt\r\n", since=m)
        # A local command longer than the timeout: the session lives on.
        m = t3.mark()
        t3.send("!sleep 4; echo slept\r")
        t3.expect(r"\r\nslept\r\n", since=m)
        t3.send("pwd\r")
        t3.expect(r"\r\n/projects\r\n", since=m)
        if "lost" in t3.screen[m:]:
            fail("a long local command lost the connection", t3.screen)
        ok()
        t3.send("bye\r")
        if t3.wait_exit() != 0:
            fail("bye after keepalives did not exit 0", t3.screen)
        # The keepalive thread under the sanitizers (TSan in CI).
        if re.search(r"Sanitizer|runtime error:", t3.screen):
            fail("sanitizer report from the shell", t3.screen)
        ok()

        # History was kept.
        hist = os.path.join(tmp, "st", "wharf", "history")
        if not os.path.exists(hist) or "big.bin" not in open(
                hist, errors="replace").read():
            fail("history file missing or incomplete")
        ok()
    finally:
        if term is not None:
            try:
                os.kill(term.pid, signal.SIGKILL)
                os.waitpid(term.pid, 0)
            except OSError:
                pass
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{PASSED} passed, 0 failed")


if __name__ == "__main__":
    main()
