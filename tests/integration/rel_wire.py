# SPDX-License-Identifier: MIT
"""Shared helpers for the python reliability tests (test_hostile.py,
test_stalls.py): a private temp dir, a real `wharf serve` on an ephemeral
loopback port, and a raw wharf peer that speaks the plaintext protocol
(docs/protocol.md) with hand-encoded protobuf, so that a test can send
any bytes at all - well-formed or not - and read exactly what comes back.

Standard library only. Every wait has a deadline; every process started
here is killed, and the temp dir removed, when the test exits however it
exits (atexit, SIGTERM, SIGINT, SIGALRM from the global time limit).
"""

import atexit
import hashlib
import os
import re
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

WHARF = os.environ.get("WHARF_BIN") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "wharf")

# A server started as root serves as an unprivileged user
# (docs/security.md). The tests run as root in CI, so their servers serve
# as this test account (lib.sh makes it too), which must reach the temp
# dir and own what the test puts in the served root.
SERVE_USER = (os.environ.get("WHARF_TEST_USER") or "wharf-test"
              if os.geteuid() == 0 else None)


def serve_as(tmp, *trees):
    """The extra `wharf serve` arguments for a server run from this test,
    after giving trees (files and folders the test made) to the account it
    serves as, and letting that account reach into tmp."""
    if SERVE_USER is None:
        return []
    deadline = time.monotonic() + 5
    while subprocess.run(["id", "-u", SERVE_USER], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL).returncode != 0:
        # Tests start in parallel: another one may be adding it.
        subprocess.run(["useradd", "--system", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", SERVE_USER],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if time.monotonic() > deadline:
            raise RuntimeError("cannot create the test account " + SERVE_USER)
        time.sleep(0.1)
    os.chmod(tmp, 0o711)
    for t in trees:
        if os.path.lexists(t):
            subprocess.run(["chown", "-R", "-h", SERVE_USER + ":", t],
                           check=True)
    return ["--user", SERVE_USER]


def give_tree(*trees):
    """Gives what the test made as root in a running server's root to the
    account that server serves as (see serve_as)."""
    if SERVE_USER is None:
        return
    for t in trees:
        subprocess.run(["chown", "-R", "-h", SERVE_USER + ":", t], check=True)


MAGIC = b"\x89WHARF\r\n"
PREFACE = MAGIC + (1).to_bytes(2, "big") + (1).to_bytes(2, "big")
FRAME_MAX_PREAUTH = 65536
FRAME_MAX = 4 * 1024 * 1024 + 64 * 1024
U32 = (1 << 32) - 1
U64 = (1 << 64) - 1

# Envelope body field numbers (proto/wharf.proto).
B = dict(client_hello=2, server_hello=3, auth=4, auth_ok=5, error=6, ok=7,
         list=10, list_part=11, stat=12, stat_reply=13, cd=14, pwd=15,
         cwd=16, mkdir=17, rmdir=18, remove=19, rename=20, ping=21,
         pong=22, put_open=30, put_ready=31, chunk=32, put_end=33,
         put_done=34, get=35, get_info=36, get_end=37, sum=38,
         sum_reply=39, cancel=40, probe=41, probe_reply=42, protect=43,
         unprotect=44, delta_index=45, join=46, stripe_commit=47,
         statfs=60, statfs_reply=61, chmod=62)
BODY_NAME = {v: k for k, v in B.items()}
# Responses that end a request (ListPart ends it only with done = true).
FINAL = {B["error"], B["ok"], B["auth_ok"], B["stat_reply"], B["cwd"],
         B["pong"], B["put_done"], B["get_end"], B["sum_reply"],
         B["probe_reply"], B["statfs_reply"]}
ERR = dict(NOT_FOUND=1, EXISTS=2, NOT_EMPTY=3, NOT_A_DIRECTORY=4,
           IS_A_DIRECTORY=5, PERMISSION=6, INVALID_PATH=7, TOO_LARGE=8,
           AUTH_FAILED=9, UNSUPPORTED=10, PROTOCOL=11, INTERNAL=12, BUSY=13,
           NO_SPACE=14, BAD_HASH=15, IO=16, TIMEOUT=17, CANCELLED=18)
ERR_NAME = {v: k for k, v in ERR.items()}
SYNC_ID = 0xfffffff0


# ------------------------------------------------------------ protobuf

def varint(n):
    """Base-128 varint; negative numbers as protobuf's 10-byte two's
    complement (int64 / enum -1)."""
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tag(field, wire_type):
    return varint(field << 3 | wire_type)


def fv(field, value):
    """A varint field."""
    return tag(field, 0) + varint(value)


def fb(field, data):
    """A length-delimited field (bytes, string or sub-message)."""
    if isinstance(data, str):
        data = data.encode()
    return tag(field, 2) + varint(len(data)) + data


def envelope(rid, body_field, body=b""):
    """An Envelope: id (omitted when 0) and one body field."""
    return (fv(1, rid) if rid else b"") + fb(body_field, body)


def frame(payload):
    return len(payload).to_bytes(4, "big") + payload


def parse(data):
    """Decodes one protobuf message into [(field, wire_type, value)];
    raises ValueError on anything malformed."""
    out = []
    i = 0
    n = len(data)

    def rd_varint():
        nonlocal i
        v = 0
        shift = 0
        while True:
            if i >= n or shift > 63:
                raise ValueError("bad varint")
            b = data[i]
            i += 1
            v |= (b & 0x7f) << shift
            shift += 7
            if not b & 0x80:
                return v

    while i < n:
        key = rd_varint()
        field, wt = key >> 3, key & 7
        if field == 0:
            raise ValueError("field 0")
        if wt == 0:
            out.append((field, wt, rd_varint()))
        elif wt == 2:
            ln = rd_varint()
            if ln > n - i:
                raise ValueError("length past the end")
            out.append((field, wt, data[i:i + ln]))
            i += ln
        elif wt == 1:
            if n - i < 8:
                raise ValueError("short fixed64")
            out.append((field, wt, data[i:i + 8]))
            i += 8
        elif wt == 5:
            if n - i < 4:
                raise ValueError("short fixed32")
            out.append((field, wt, data[i:i + 4]))
            i += 4
        else:
            raise ValueError("wire type %d" % wt)
    return out


def field(msg_fields, number, default=None):
    """The last value of field number in a parse() result."""
    v = default
    for f, _, val in msg_fields:
        if f == number:
            v = val
    return v


class Env:
    """A decoded Envelope from the server: id, body field number, body
    bytes, and for an Error its code and message."""

    def __init__(self, payload):
        fields = parse(payload)
        self.raw = payload
        self.id = field(fields, 1, 0)
        self.body = None
        self.data = b""
        for f, wt, val in fields:
            if f != 1 and wt == 2:
                self.body, self.data = f, val
        self.code = None
        self.message = ""
        if self.body == B["error"]:
            ef = parse(self.data)
            self.code = field(ef, 1, 0)
            self.message = field(ef, 2, b"").decode("utf-8", "replace")

    @property
    def name(self):
        return BODY_NAME.get(self.body, str(self.body))

    def is_final(self):
        if self.body == B["list_part"]:
            return bool(field(parse(self.data), 2, 0))
        return self.body in FINAL

    def __repr__(self):
        if self.body == B["error"]:
            return "Error{id=%d %s %r}" % (
                self.id, ERR_NAME.get(self.code, self.code), self.message)
        return "%s{id=%d %d bytes}" % (self.name, self.id, len(self.data))


def client_hello(plaintext=True, features=7, key=None, lo=1, hi=1):
    key = key if key is not None else os.urandom(32)
    return envelope(0, B["client_hello"],
                    fv(1, lo) + fv(2, hi) + fv(3, features) + fb(4, key) +
                    fv(5, 1 if plaintext else 0) + fb(6, "wharf-rel-test"))


# --------------------------------------------------------- raw peer

class Closed(Exception):
    """The server closed the connection (EOF or reset)."""


class Timeout(Exception):
    """Nothing (or not enough) came back before the deadline."""


class Conn:
    """One TCP connection to the server, read through a buffer."""

    def __init__(self, port, host="127.0.0.1", source=None, timeout=10):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if source:
            self.s.bind((source, 0))
        self.s.settimeout(timeout)
        self.s.connect((host, port))
        self.s.setblocking(False)
        self.buf = b""
        self.eof = False
        self.t_open = time.monotonic()

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def send(self, data, timeout=20):
        """Sends everything; raises Closed if the server hung up and
        Timeout if it stopped reading."""
        view = memoryview(data)
        deadline = time.monotonic() + timeout
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("send: the server stopped reading")
            _, w, _ = select.select([], [self.s], [], min(left, 1.0))
            if not w:
                continue
            try:
                k = self.s.send(view)
            except (BlockingIOError, InterruptedError):
                continue
            except (BrokenPipeError, ConnectionResetError) as e:
                raise Closed(str(e))
            view = view[k:]

    def _fill(self, deadline):
        """Reads what is there (at least one byte) into the buffer."""
        if self.eof:
            raise Closed("EOF")
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("read")
            r, _, _ = select.select([self.s], [], [], min(left, 1.0))
            if not r:
                continue
            try:
                data = self.s.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                continue
            except ConnectionResetError:
                self.eof = True
                raise Closed("reset")
            if not data:
                self.eof = True
                raise Closed("EOF")
            self.buf += data
            return

    def read_exact(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self, timeout=10, limit=FRAME_MAX):
        """The next frame's payload (raw bytes). Raises Closed on EOF
        (also in the middle of a frame), Timeout, or ValueError for a
        frame the server should never send."""
        deadline = time.monotonic() + timeout
        while len(self.buf) < 4:
            self._fill(deadline)
        n = int.from_bytes(self.buf[:4], "big")
        if n == 0 or n > limit:
            raise ValueError("server sent a frame of length %d" % n)
        while len(self.buf) < 4 + n:
            self._fill(deadline)
        out, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        return out

    def read_env(self, timeout=10):
        return Env(self.read_frame(timeout))

    def wait_closed(self, timeout, keep=1 << 20):
        """Reads until EOF, keeping the first keep bytes in the buffer.
        Returns the seconds it took, or None if the connection was still
        open after timeout."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        while True:
            try:
                self._fill(deadline)
                self.buf = self.buf[:keep]
            except Closed:
                return time.monotonic() - t0
            except Timeout:
                return None

    # -- protocol steps

    def handshake(self, plaintext=True, hello=None):
        """Preface + ClientHello; returns the server's answer (Env:
        server_hello or error)."""
        self.send(PREFACE + frame(hello or client_hello(plaintext)))
        pre = self.read_exact(12)
        if pre[:8] != MAGIC:
            raise ValueError("bad server preface %r" % pre)
        return self.read_env(FRAME_MAX_PREAUTH)

    def auth(self, user, password, rid=1, timeout=40):
        self.send(frame(envelope(rid, B["auth"],
                                 fb(1, user) + fb(2, password))))
        return self.read_env(timeout)

    def request(self, rid, body_field, body=b"", timeout=20):
        """Sends one request and returns every frame up to and including
        its final response (or an Error with id 0)."""
        self.send(frame(envelope(rid, body_field, body)))
        return self.until_final(rid, timeout)

    def until_final(self, rid, timeout=20):
        got = []
        deadline = time.monotonic() + timeout
        while True:
            e = self.read_env(max(0.01, deadline - time.monotonic()))
            got.append(e)
            if e.id == rid and e.is_final():
                return got
            if e.id == 0 and e.body == B["error"]:
                return got

    def sync(self, timeout=20, token=None):
        """A Ping with a reserved id: returns every frame the server sent
        before its Pong (so all earlier requests are answered, in order).
        Raises Closed if the server closed instead."""
        token = token or os.urandom(8)
        self.send(frame(envelope(SYNC_ID, B["ping"], fb(1, token))))
        got = []
        deadline = time.monotonic() + timeout
        while True:
            e = self.read_env(max(0.01, deadline - time.monotonic()))
            if e.id == SYNC_ID and e.body == B["pong"]:
                if field(parse(e.data), 1, b"") != token:
                    raise ValueError("Pong with the wrong payload")
                return got
            got.append(e)


def session(port, user, password, source=None):
    """A logged-in plaintext session, or raises."""
    c = Conn(port, source=source)
    e = c.handshake(plaintext=True)
    if e.body != B["server_hello"]:
        raise ValueError("handshake refused: %r" % e)
    e = c.auth(user, password)
    if e.body != B["auth_ok"]:
        raise ValueError("login refused: %r" % e)
    return c


# ------------------------------------------------- files and digests

def blake(data):
    return hashlib.blake2b(data, digest_size=32).digest()


def file_digest(chunk_hashes, chunk_size, size):
    """docs/protocol.md 9.1, BLAKE2b-256."""
    return blake(b"wharf-v1 file" + chunk_size.to_bytes(4, "big") +
                 b"".join(chunk_hashes) + size.to_bytes(8, "big"))


def chunk_msg(index, raw, h=None):
    return (fv(1, index) + fv(2, len(raw)) + fb(3, h or blake(raw)) +
            fb(5, raw))


# ------------------------------------------------------------ fixture

class Test:
    """Temp dir, servers, results. One per test script."""

    def __init__(self, name, time_limit):
        self.name = name
        self.passed = 0
        self.soft_fails = []
        self.procs = []
        self.notes = []
        self.tmp = tempfile.mkdtemp(prefix="wharf-%s." % name,
                                    dir=os.environ.get("TMPDIR"))
        self.home = os.path.join(self.tmp, "home")
        os.makedirs(os.path.join(self.home, ".config"))
        self.env = dict(os.environ, HOME=self.home, LC_ALL="C", TZ="UTC",
                        XDG_CONFIG_HOME=os.path.join(self.home, ".config"))
        self.env.pop("WHARF_PASSWORD", None)
        # Not the machine's server configuration: this one, whose short
        # drain-timeout keeps a test's open connections from holding the
        # server's stop (lib.sh does the same).
        etc = os.path.join(self.tmp, "etc")
        os.makedirs(etc)
        conf = os.path.join(etc, "wharf.conf")
        with open(conf, "w") as f:
            f.write("# written by tests/integration/rel_wire.py\n"
                    "drain-timeout = 3\n")
        os.chmod(etc, 0o755)
        os.chmod(conf, 0o644)
        self.env["WHARF_SERVE_CONFIG"] = conf
        self.server = None
        atexit.register(self.cleanup)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGALRM, self._on_alarm)
        self.time_limit = time_limit
        signal.alarm(time_limit)
        if not os.access(WHARF, os.X_OK):
            self.fail("WHARF_BIN=%s is not an executable" % WHARF)

    def _on_signal(self, signum, _frame):
        print("FAIL: %s: stopped by signal %d" % (self.name, signum))
        print("%d passed, 1 failed" % self.passed)
        sys.exit(1)

    def _on_alarm(self, _signum, _frame):
        self.fail("took longer than its limit of %d s" % self.time_limit)

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if os.environ.get("WHARF_KEEP_TMP"):
            print("kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def ok(self, what=None):
        self.passed += 1

    def fail(self, msg):
        signal.alarm(0)
        print("FAIL: %s: %s" % (self.name, msg))
        if self.server is not None:
            tail = self.server.log_text().splitlines()[-25:]
            if tail:
                print("--- server log (last 25 lines):")
                print("\n".join(tail))
            err = self.server.stderr_text()
            if err.strip():
                print("--- server stderr:")
                print(err[-3000:])
        print("%d passed, 1 failed" % self.passed)
        sys.stdout.flush()
        sys.exit(1)

    def check(self, cond, msg):
        if not cond:
            self.fail(msg)
        self.ok()

    def soft_fail(self, msg):
        """A failed check that does not stop the others; finish() fails."""
        print("FAIL: %s: %s" % (self.name, msg))
        sys.stdout.flush()
        self.soft_fails.append(msg)

    def expect(self, cond, msg):
        if cond:
            self.ok()
        else:
            self.soft_fail(msg)
        return cond

    def note(self, text):
        """A figure for docs/reliability.md, printed at once."""
        print("FIGURE: %s" % text)
        sys.stdout.flush()

    def finish(self):
        signal.alarm(0)
        print("%d passed, %d failed" % (self.passed, len(self.soft_fails)))
        sys.stdout.flush()
        sys.exit(1 if self.soft_fails else 0)

    def add_user(self, state, name, password, *extra):
        r = subprocess.run([WHARF, "user", "add", name, "--state", state,
                            "--init"] + list(extra), input=(password + "\n").encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60, env=self.env)
        if r.returncode != 0:
            self.fail("wharf user add %s: %s" % (name, r.stdout.decode()))

    def start_server(self, root, state, *args, listen="127.0.0.1:0",
                     nofile=None):
        """nofile: the server's descriptor limit, soft and hard (it
        may raise its soft limit up to the hard one)."""
        s = Server(self, root, state, listen, args, nofile)
        self.server = s
        return s

    def wharf(self, *args, password=None, timeout=30):
        """Runs the real client; returns (rc, stdout, stderr)."""
        env = dict(self.env)
        if password is not None:
            env["WHARF_PASSWORD"] = password
        try:
            r = subprocess.run([WHARF] + list(args), env=env,
                               stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail("client timed out after %d s: wharf %s" %
                      (timeout, " ".join(args)))
        out = r.stdout.decode("utf-8", "replace")
        err = r.stderr.decode("utf-8", "replace")
        if re.search(r"Sanitizer|runtime error:", err):
            self.fail("sanitizer report from the client: %s" % err[:3000])
        return r.returncode, out, err


class Server:
    """A real `wharf serve` with its log and stderr in the temp dir."""

    count = 0

    def __init__(self, test, root, state, listen, args, nofile=None):
        Server.count += 1
        self.test = test
        self.log = os.path.join(test.tmp, "server.%d.log" % Server.count)
        self.err = os.path.join(test.tmp, "server.%d.stderr" % Server.count)
        os.makedirs(root, exist_ok=True)
        user = serve_as(test.tmp, root)
        with open(self.err, "wb") as ef:
            self.proc = subprocess.Popen(
                [WHARF, "serve", "--root", root, "--state", state,
                 "--listen", listen, "--log", self.log] + user + list(args),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=ef, env=test.env,
                preexec_fn=None if nofile is None else
                lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                           (nofile, nofile)))
        test.procs.append(self.proc)
        self.port = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.port is None:
            m = re.search(r" listening on .*:(\d+)$", self.log_text(), re.M)
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if self.port is None:
            test.fail("server did not start: %s" % self.stderr_text())

    def log_text(self):
        try:
            with open(self.log, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stderr_text(self):
        try:
            with open(self.err, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def check_alive(self, what):
        """Asserts the process runs and its stderr has no sanitizer
        report (the ASan/UBSan build prints one and exits)."""
        if not self.alive():
            self.test.fail("%s: the server died (exit %s): %s" % (
                what, self.proc.returncode, self.stderr_text()[-3000:]))
        if re.search(r"Sanitizer|runtime error:", self.stderr_text()):
            self.test.fail("%s: sanitizer report: %s" % (
                what, self.stderr_text()[:3000]))
        self.test.ok()

    def wait_log(self, pattern, timeout=10, count=1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(re.findall(pattern, self.log_text(), re.M)) >= count:
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        """SIGTERM; must exit 0 within 10 s with no sanitizer report."""
        self.proc.terminate()
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.test.fail("server did not stop within 10 s of SIGTERM")
        if re.search(r"Sanitizer|runtime error:", self.stderr_text()):
            self.test.fail("sanitizer report at exit: %s" %
                           self.stderr_text()[:3000])
        self.test.check(rc == 0, "server exited %s after SIGTERM: %s" % (
            rc, self.stderr_text()[-2000:]))


def tree_state(top, skip=()):
    """{relative path: (type, size, mode, content digest or link)} of
    everything under top (links not followed), minus the skip names at
    the top level."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        rel_dir = os.path.relpath(dirpath, top)
        if rel_dir == ".":
            dirnames[:] = [d for d in dirnames if d not in skip]
            filenames = [f for f in filenames if f not in skip]
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            st = os.lstat(p)
            if os.path.islink(p):
                out[rel] = ("link", os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ("dir", st.st_mode & 0o7777)
            else:
                with open(p, "rb") as f:
                    d = hashlib.sha256(f.read()).hexdigest()
                out[rel] = ("file", st.st_size, st.st_mode & 0o7777, d)
    return out
