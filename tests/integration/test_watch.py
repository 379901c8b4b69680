#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Watching a running server (issue 17): `wharf status`, `wharf kick`, the
control socket's access rules, the Prometheus metrics listener, sessions
of deleted, disabled and logged-out users ending, and the log line of a
cancelled transfer, against the real binary (contained as lib.sh runs
it) with raw peers (rel_wire.py) whose every step the test controls.

Several sessions are open at once while the control thread reads their
counters: run under ThreadSanitizer too (label concurrency).
"""

import json
import os
import re
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rel_wire import (B, ERR, WHARF, Closed, Server, Test,  # noqa: E402
                      Timeout, blake, chunk_msg, envelope, fb, field, file_digest,
                      frame, fv, parse, session)

CS = 65536
NCHUNKS = 64
DATA = os.urandom(CS * NCHUNKS)  # 4 MiB
PW = {"carol": "pc 1", "dave": "pd 2"}

t = Test("test_watch", 240)
ROOT = os.path.join(t.tmp, "root")
STATE = os.path.join(t.tmp, "state")
os.makedirs(ROOT)
for name, pw in PW.items():
    t.add_user(STATE, name, pw)
srv = t.start_server(ROOT, STATE, "--allow-plaintext", "--idle-timeout",
                     "120", "--metrics-listen", "127.0.0.1:0")
m = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics",
              srv.log_text())
t.check(m is not None, "no 'metrics on' line in the log")
MPORT = int(m.group(1))
RID = [100]


def rid():
    RID[0] += 1
    return RID[0]


def wharf(*args, stdin=None, timeout=30):
    r = subprocess.run([WHARF] + list(args), env=t.env, input=stdin,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    err = r.stderr.decode("utf-8", "replace")
    if re.search(r"Sanitizer|runtime error:", err):
        t.fail("sanitizer report from wharf %s: %s" % (args[0], err[:3000]))
    return r.returncode, r.stdout.decode("utf-8", "replace"), err


def status_json(servers=1):
    rc, out, err = wharf("status", "--state", STATE, "--json")
    t.check(rc == 0, "wharf status --json exit %d: %s" % (rc, err))
    try:
        doc = json.loads(out)
    except ValueError as e:
        t.fail("status --json is not JSON (%s): %r" % (e, out[:500]))
    t.check(len(doc["servers"]) == servers, "%d servers: %r" %
            (servers, doc))
    return doc["servers"][0] if servers == 1 else doc["servers"]


def session_of(srv_doc, port):
    for s in srv_doc["sessions"]:
        if s["peer"] == "127.0.0.1:%d" % port:
            return s
    return None


def digest(data):
    hs = [blake(data[i:i + CS]) for i in range(0, len(data), CS)]
    return file_digest(hs, CS, len(data))


def put_open(c, path, size, resume=False):
    r = rid()
    body = fb(1, path) + fv(2, size) + fv(5, 0o644) + fv(6, CS)
    if resume:
        body += fv(8, 1)
    c.send(frame(envelope(r, B["put_open"], body)))
    return r


def put_chunks(c, r, first, last):
    for i in range(first, last):
        c.send(frame(envelope(r, B["chunk"],
                              chunk_msg(i, DATA[i * CS:(i + 1) * CS]))))


def ended(c, what, text):
    """The server answers c's next step with an Error naming why, and
    closes the connection."""
    got = []
    try:
        c.send(frame(envelope(rid(), B["pwd"])))
    except Closed:
        pass
    while True:
        try:
            got.append(c.read_env(15))
        except (Closed, Timeout, ValueError, OSError):
            break
    closed = c.wait_closed(15) is not None
    errs = [e for e in got if e.body == B["error"]]
    t.expect(closed, "%s: the connection stays open" % what)
    t.expect(any(text in e.message for e in errs),
             "%s: no Error saying %r, got %r" % (what, text, got[-4:]))


# ------------------------------------------------------- metrics parser

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
                  r'(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*"'
                  r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*)?\})?'
                  r' (-?[0-9.eE+-]+|\+Inf|NaN)$')


def scrape(path="/metrics", raw=None, timeout=10):
    s = socket.create_connection(("127.0.0.1", MPORT), timeout=timeout)
    s.sendall(raw if raw is not None else
              ("GET %s HTTP/1.0\r\nHost: x\r\n\r\n" % path).encode())
    data = b""
    while True:
        try:
            k = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not k:
            break
        data += k
    s.close()
    return data


def metrics():
    """{(name, labels): value} of a scrape, checking the format: every
    family's # HELP then # TYPE before its samples, every sample line
    well formed, histogram buckets cumulative with +Inf = _count."""
    data = scrape()
    head, _, body = data.partition(b"\r\n\r\n")
    t.check(head.startswith(b"HTTP/1.0 200 "), "scrape: %r" % head[:200])
    t.check(b"Content-Type: text/plain; version=0.0.4" in head,
            "scrape content type: %r" % head)
    text = body.decode()
    t.check(text.endswith("\n"), "exposition must end with a newline")
    samples, types, helped = {}, {}, set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split(" ")[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            t.check(name in helped, "# TYPE %s before its # HELP" % name)
            t.check(kind in ("counter", "gauge", "histogram"),
                    "type %s" % kind)
            types[name] = kind
            continue
        mm = LINE.match(line)
        t.check(mm is not None, "malformed sample line %r" % line)
        name = mm.group(1)
        family = re.sub(r"_(bucket|sum|count)$", "", name) \
            if re.sub(r"_(bucket|sum|count)$", "", name) in types else name
        t.check(family in types, "sample %s before its # TYPE" % name)
        samples[(name, mm.group(3) or "")] = float(mm.group(5))
    for name in ("wharf_connections", "wharf_logins_total",
                 "wharf_bytes_total", "wharf_transfers_total",
                 "wharf_commit_seconds", "wharf_uptime_seconds"):
        t.check(name in types, "no %s family" % name)
    buckets = [(k[1], v) for k, v in samples.items()
               if k[0] == "wharf_commit_seconds_bucket"]
    t.check(buckets, "no commit histogram buckets")
    t.check(all(buckets[i][1] <= buckets[i + 1][1]
                for i in range(len(buckets) - 1)),
            "histogram buckets not cumulative: %r" % buckets)
    t.check(buckets[-1][0] == 'le="+Inf"' and buckets[-1][1] ==
            samples[("wharf_commit_seconds_count", "")],
            "+Inf bucket != _count")
    return samples


before = metrics()
t.check(before[("wharf_logins_total", 'result="ok"')] == 0, "no logins yet")

# --------------------------------------------- status of an upload

carol = session(srv.port, "carol", PW["carol"])
cport = carol.s.getsockname()[1]
up = put_open(carol, "big.bin", len(DATA))
put_chunks(carol, up, 0, 8)
carol.sync()
rc, out, err = wharf("status", "--state", STATE)
t.check(rc == 0, "wharf status exit %d: %s" % (rc, err))
t.check(re.search(r"^\s*\d+\s+carol\s+127\.0\.0\.1:%d\s.*\bput\b.*/big\.bin"
                  % cport, out, re.M) is not None,
        "status does not show carol's upload: %r" % out)
s1 = session_of(status_json(), cport)
t.check(s1 is not None and s1["user"] == "carol" and s1["op"] == "put" and
        s1["path"] == "/big.bin", "status --json session: %r" % s1)
put_chunks(carol, up, 8, 16)
carol.sync()
doc = status_json()
s2 = session_of(doc, cport)
t.check(s2["bytes_in"] > s1["bytes_in"] + 7 * CS,
        "bytes do not progress: %r then %r" % (s1, s2))
t.check(doc["connections"] >= 1 and doc["logged_in"] >= 1 and
        doc["uptime"] >= 0, "server figures: %r" % doc)

# ------------------------------------ kick by id; the partial resumes

rc, out, err = wharf("kick", "--state", STATE, str(s2["id"]))
t.check(rc == 0 and "ended 1 session" in err, "kick id: %d %r" % (rc, err))
ended(carol, "kick by id", "ended by the server's administrator")
t.check(srv.wait_log(r"op=put path=\"/big\.bin\" result=\S+ bytes=%d .* "
                     r"size=%d$" % (16 * CS, len(DATA))),
        "the kicked upload's log line does not give the 16 chunks moved")
rc, out, err = wharf("kick", "--state", STATE, str(s2["id"]))
t.check(rc == 1 and "no session" in err, "kick of a gone id: %d" % rc)

c = session(srv.port, "carol", PW["carol"])
r = put_open(c, "big.bin", len(DATA), resume=True)
e = c.read_env(20)
t.check(e.body == B["put_ready"] and field(parse(e.data), 1, 0) == 16 * CS,
        "resume after a kick: %r" % e)
put_chunks(c, r, 16, NCHUNKS)
c.send(frame(envelope(r, B["put_end"], fb(1, digest(DATA)))))
fin = c.until_final(r, 30)
t.check(fin[-1].body == B["put_done"], "resumed upload: %r" % fin[-3:])
with open(os.path.join(ROOT, "big.bin"), "rb") as f:
    t.check(f.read() == DATA, "resumed file differs")
c.close()

# --------------------- kick by user: the real client sees it, fails

cl = subprocess.Popen(
    [WHARF, "connect", "dave@127.0.0.1:%d" % srv.port, "-b", "-"],
    env=dict(t.env, WHARF_PASSWORD=PW["dave"]), stdin=subprocess.PIPE,
    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
t.procs.append(cl)
cl.stdin.write(b"pwd\n")
cl.stdin.flush()
t.check(srv.wait_log(r"user=dave op=pwd", 20), "dave's client never came")
rc, out, err = wharf("kick", "--state", STATE, "dave")
t.check(rc == 0 and "ended 1 session" in err, "kick user: %d %r" % (rc, err))
t.check(srv.wait_log(r"user=dave session ended by the server's "
                     r"administrator", 10), "dave's session did not end")
try:
    cl.stdin.write(b"pwd\nls\n")
    cl.stdin.close()
except BrokenPipeError:
    pass
try:
    crc = cl.wait(30)
except subprocess.TimeoutExpired:
    t.fail("the kicked client did not exit")
cerr = cl.stderr.read().decode("utf-8", "replace")
t.check(crc != 0, "the kicked client exited 0")
t.expect("administrator" in cerr or "connection" in cerr,
         "the kicked client says nothing of it: %r" % cerr)
rc, out, err = wharf("kick", "--state", STATE, "nobody-here")
t.check(rc == 1, "kick of a user with no session exits 1")
rc, out, err = wharf("kick", "--state", STATE, "bad/name")
t.check(rc == 2, "kick of a malformed name is a usage error")

# ------------------------------------------ who may use the socket

sock = os.path.join(STATE, "control.sock")
st = os.stat(sock)
t.check((st.st_mode & 0o777) == 0o600, "control.sock mode %o" %
        (st.st_mode & 0o777))


def as_nobody(path):
    """Connects as uid 65534 and returns what the server says, or the
    error of connecting."""
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rd)
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(path)
            # What the server says unasked comes first; then a request,
            # which a server that refused has no reason to read.
            s.settimeout(1)
            out = b""
            try:
                out = s.recv(65536)
            except socket.timeout:
                pass
            s.settimeout(10)
            try:
                s.sendall(b"status\n")
            except OSError:
                pass
            while True:
                try:
                    k = s.recv(65536)
                except OSError:
                    break
                if not k:
                    break
                out += k
            os.write(wr, b"said:" + out[:200])
        except OSError as e:
            os.write(wr, ("error:%s" % e.__class__.__name__).encode())
        os._exit(0)
    os.close(wr)
    got = b""
    while True:
        k = os.read(rd, 4096)
        if not k:
            break
        got += k
    os.close(rd)
    os.waitpid(pid, 0)
    return got.decode("utf-8", "replace")


if os.geteuid() == 0:
    got = as_nobody(sock)
    t.check(got.startswith("error:"), "another user reached the socket: %r"
            % got)
    # Opened by hand, the socket still refuses others (SO_PEERCRED).
    mode = os.stat(STATE).st_mode & 0o777
    os.chmod(STATE, 0o711)
    os.chmod(sock, 0o666)
    got = as_nobody(sock)
    os.chmod(sock, 0o600)
    os.chmod(STATE, mode)
    t.check(got.startswith("said:error\tonly root and the server's user"),
            "another user was served: %r" % got)
    t.check("sessions" not in got and "carol" not in got, "status leaked")
else:
    print("SKIP: socket access checks need root")

# ---------------------------- a deleted user's upload stops at once

carol = session(srv.port, "carol", PW["carol"])
idle = session(srv.port, "carol", PW["carol"])
up = put_open(carol, "del.bin", len(DATA))
put_chunks(carol, up, 0, 4)
carol.sync()
rc, out, err = wharf("user", "del", "carol", "--state", STATE)
t.check(rc == 0, "user del: %r" % err)
# The upload goes on: its next chunks are refused, the connection ends.
try:
    put_chunks(carol, up, 4, 8)
except Closed:
    pass
ended(carol, "deleted user's upload", "the user was deleted")
# A session that sends nothing ends too, without a request of its own.
t.expect(idle.wait_closed(15) is not None,
         "the deleted user's idle session stays open")
t.check(srv.wait_log(r"op=put path=\"/del\.bin\" result=\S+ bytes=%d "
                     % (4 * CS)), "deleted user's upload log line")
try:
    session(srv.port, "carol", PW["carol"])
    t.fail("a deleted user logged in")
except ValueError:
    t.ok()

# ------------------------------------------------ disabled and enabled

d = session(srv.port, "dave", PW["dave"])
rc, out, err = wharf("user", "mod", "dave", "--disable", "--state", STATE)
t.check(rc == 0, "user mod --disable: %r" % err)
ended(d, "disabled user", "the user was disabled")
try:
    session(srv.port, "dave", PW["dave"])
    t.fail("a disabled user logged in")
except ValueError:
    t.ok()
rc, out, err = wharf("user", "list", "--state", STATE)
t.check(re.search(r"^dave\t.*\tdisabled", out, re.M) is not None,
        "user list does not say disabled: %r" % out)
rc, out, err = wharf("user", "mod", "dave", "--enable", "--state", STATE)
t.check(rc == 0, "user mod --enable")
d = session(srv.port, "dave", PW["dave"])
t.check(d.request(rid(), B["pwd"])[-1].body == B["cwd"], "enabled again")

# ------------------------------------------------- passwd --logout

other = session(srv.port, "dave", PW["dave"])
rc, out, err = wharf("user", "passwd", "dave", "--state", STATE,
                     stdin=b"pd 3\n")
t.check(rc == 0, "passwd without --logout")
t.check(d.request(rid(), B["pwd"])[-1].body == B["cwd"],
        "a password change alone ends no session")
rc, out, err = wharf("user", "passwd", "dave", "--logout", "--state", STATE,
                     stdin=b"pd 4\n")
t.check(rc == 0, "passwd --logout: %r" % err)
ended(d, "passwd --logout", "the password was changed")
ended(other, "passwd --logout, second session", "the password was changed")
d = session(srv.port, "dave", "pd 4")
time.sleep(1.2)  # the control thread's look at the users file is past
t.check(d.request(rid(), B["pwd"])[-1].body == B["cwd"],
        "a session with the new password goes on")

# ---------------------- a cancelled download logs what it sent

# 64 MiB, more than loopback's socket buffers hold: the server cannot
# have sent the whole file before the cancel arrives (CI once saw a 4 MiB
# file finish first).
HUGE = 64 << 20
huge = os.path.join(ROOT, "huge.bin")
with open(huge, "wb") as f:
    for _ in range(HUGE // len(DATA)):
        f.write(DATA)
os.chmod(huge, 0o644)
g = rid()
d.send(frame(envelope(g, B["get"], fb(1, "huge.bin") + fv(2, CS) +
                      fv(6, 1))))
seen = 0
while seen < 4:
    e = d.read_env(20)
    seen += e.body == B["chunk"]
d.send(frame(envelope(rid(), B["cancel"], fv(1, g))))
fin = d.until_final(g, 30)
t.check(fin[-1].code == ERR["CANCELLED"], "download cancel: %r" % fin[-2:])
m = re.search(r"op=get path=\"/huge\.bin\" result=CANCELLED bytes=(\d+) "
              r".* size=%d$" % HUGE, srv.log_text(), re.M)
t.check(m is not None, "no cancelled download log line")
t.check(4 * CS <= int(m.group(1)) < HUGE,
        "cancelled download logs %s bytes of %d" % (m.group(1), HUGE))

# --------------------------------------------------- metrics moved

after = metrics()
t.check(after[("wharf_logins_total", 'result="ok"')] >= 6,
        "logins ok: %r" % after[("wharf_logins_total", 'result="ok"')])
t.check(after[("wharf_bytes_total", 'direction="in"')] >
        before[("wharf_bytes_total", 'direction="in"')] + len(DATA),
        "bytes in did not grow by the upload")
t.check(after[("wharf_transfers_total", 'op="put",result="ok"')] >= 1,
        "no ok put counted")
t.check(after[("wharf_transfers_total", 'op="put",result="failed"')] >= 2,
        "the ended uploads are not counted as failed")
t.check(after[("wharf_transfers_total", 'op="get",result="cancelled"')]
        >= 1, "the cancelled download is not counted")
t.check(after[("wharf_commit_seconds_count", "")] >= 1, "no commit timed")

try:
    session(srv.port, "dave", "wrong")
except ValueError:
    pass
t.check(metrics()[("wharf_logins_total", 'result="failed"')] >= 1,
        "a failed login is not counted")

# ----------------------------------- a hostile scraper holds nothing

for path, want in (("/", b"HTTP/1.0 404 "), ("/metrics/x", b"HTTP/1.0 404 ")):
    t.check(scrape(path).startswith(want), "GET %s" % path)
t.check(scrape(raw=b"POST /metrics HTTP/1.0\r\n\r\n").startswith(
    b"HTTP/1.0 405 "), "POST refused")
t.check(scrape(raw=b"\x16\x03\x01garbage\r\n\r\n").startswith(
    b"HTTP/1.0 400 "), "garbage refused")
t.check(scrape(raw=b"GET /metrics HTTP/1.0\r\nX: " + b"a" * 8000 +
               b"\r\n\r\n").startswith(b"HTTP/1.0 400 "),
        "an oversized request head refused")
# Slow clients, more than the listener serves at once: each is dropped
# after its deadline, and a scrape gets through again.
slow = []
for _ in range(24):
    s = socket.create_connection(("127.0.0.1", MPORT), timeout=10)
    s.sendall(b"GET /met")
    slow.append(s)
closed = 0
deadline = time.monotonic() + 20
for s in slow:
    s.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        closed += s.recv(100) == b""
    except ConnectionResetError:
        closed += 1
    except socket.timeout:
        pass
    s.close()
t.check(closed == len(slow), "%d of %d slow scrapers still held" %
        (len(slow) - closed, len(slow)))
t.check(d.request(rid(), B["pwd"])[-1].body == B["cwd"],
        "sessions served while scrapers stalled")
ok = False
for _ in range(40):
    if scrape().startswith(b"HTTP/1.0 200 "):
        ok = True
        break
    time.sleep(0.25)
t.check(ok, "no scrape served after the slow ones")

# A second server on the same state folder has a socket of its own;
# status asks both, and each keeps its own sessions.
srv2 = Server(t, ROOT, STATE, "127.0.0.1:0", ("--allow-plaintext",))
e2 = session(srv2.port, "dave", "pd 4")
both = status_json(servers=2)
pids = sorted(x["pid"] for x in both)
t.check(pids == sorted([srv.proc.pid, srv2.proc.pid]),
        "status of two servers: %r" % pids)
t.check(sum(1 for x in both for y in x["sessions"]
            if y["user"] == "dave") == 2, "dave's two sessions, one each")
rc, out, err = wharf("kick", "--state", STATE, "dave")
t.check(rc == 0 and "ended 2 sessions" in err, "kick on both: %r" % err)
ended(e2, "kick on the second server", "administrator")
ended(d, "kick on the first server", "administrator")
srv2.stop()
status_json(servers=1)

srv.check_alive("after everything")
srv.stop()
t.check(not os.path.exists(sock), "control.sock left after the stop")
rc, out, err = wharf("status", "--state", STATE)
t.check(rc == 1 and "no server is running" in err,
        "status with no server: %d %r" % (rc, err))
t.finish()
