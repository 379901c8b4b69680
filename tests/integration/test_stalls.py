#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Peers that stall: none of them may hold a server worker for long.

Against a real server started with --idle-timeout 2 (and
--allow-plaintext, so that the raw client of rel_wire.py can log in),
over raw TCP on loopback:

- before login, the 10 s login deadline (docs/protocol.md section 11)
  ends: a peer that connects and sends nothing; one that sends half its
  ClientHello frame and waits; one that shakes hands and never sends
  Auth; and one that trickles its preface and ClientHello a byte at a
  time (the deadline counts from the accept, so trickling buys nothing);
- after login, the idle timeout (2 s here) ends: a session that sends
  nothing (Error{TIMEOUT} with id 0, then the close); one that sends half
  a frame and waits; one that trickles a frame a byte every 0.5 s; a raw
  session that asks for a 64 MiB download and never reads; and a real
  `wharf get` of that file stopped with SIGSTOP mid-download - the server
  log shows each session closing within the timeout plus a margin, and
  meanwhile and afterwards a new client is served;
- a FIFO in the served tree: get and sum on it answer an Error promptly
  instead of blocking the worker in open(2).

The 10 s cases run in threads alongside the rest, so the script takes
about 25 s. Every wait is bounded; the last line is "N passed, M failed".
"""

import concurrent.futures
import os
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rel_wire import (B, ERR, PREFACE, WHARF, Closed, Conn,  # noqa: E402
                      Test, Timeout, client_hello, envelope, fb, frame, fv,
                      session)

IDLE = 2
LOGIN_DEADLINE = 10
MARGIN = 3.0  # seconds allowed beyond a deadline on a loaded CI machine
# A peer that stops reading is noticed once the socket buffers between
# the two are full (up to tens of MiB on loopback with autotuning): the
# server's writes block only then, and the idle timeout starts.
FILL = 5.0
USER = "stu"
PW = "stu pw 4"
BIG = 64 * 1024 * 1024

t = Test("test_stalls", 150)
ROOT = os.path.join(t.tmp, "root")
STATE = os.path.join(t.tmp, "state")


os.makedirs(ROOT)
with open(os.path.join(ROOT, "big.bin"), "wb") as f:
    for _ in range(BIG // (1 << 20)):
        f.write(os.urandom(1 << 20))
t.add_user(STATE, USER, PW)
srv = t.start_server(ROOT, STATE, "--allow-plaintext", "--idle-timeout",
                     str(IDLE))


def closes_within(c, limit):
    """Seconds from the connection's open until the server closed it (or
    None if still open after limit s from now)."""
    took = c.wait_closed(limit)
    if took is None:
        return None
    return time.monotonic() - c.t_open


# ------------------------------------------- before login (threads)

def silent():
    c = Conn(srv.port)
    return closes_within(c, LOGIN_DEADLINE + 10)


def half_hello():
    c = Conn(srv.port)
    hello = frame(client_hello(True))
    c.send(PREFACE + hello[:len(hello) // 2])
    return closes_within(c, LOGIN_DEADLINE + 10)


def no_auth():
    c = Conn(srv.port)
    e = c.handshake(True)
    if e.body != B["server_hello"]:
        return "handshake refused: %r" % e
    return closes_within(c, LOGIN_DEADLINE + 10)


def trickle_hello():
    """One byte every 0.8 s: the preface is complete after 9.6 s, just
    inside the deadline; the ClientHello would take another minute."""
    c = Conn(srv.port)
    data = PREFACE + frame(client_hello(True))
    end = time.monotonic() + LOGIN_DEADLINE + 15
    for i in range(len(data)):
        if time.monotonic() > end:
            return None
        try:
            c.send(data[i:i + 1], 2)
        except (Closed, Timeout):
            break
        # Closed meanwhile? (EOF arrives before a send fails.)
        if c.wait_closed(0.8) is not None:
            return time.monotonic() - c.t_open
    took = c.wait_closed(max(0.1, end - time.monotonic()))
    return None if took is None else time.monotonic() - c.t_open


pool = concurrent.futures.ThreadPoolExecutor(4)
pre_login = {
    "a peer that connects and sends nothing": pool.submit(silent),
    "a peer that sends half its ClientHello": pool.submit(half_hello),
    "a peer that shakes hands and never sends Auth": pool.submit(no_auth),
    "a peer that trickles its preface and ClientHello":
        pool.submit(trickle_hello),
}

# ---------------------------------------------- after login (in turn)


def log_since(mark):
    return srv.log_text()[mark:]


def session_lines(port, mark=0):
    return [ln for ln in log_since(mark).splitlines()
            if "peer=127.0.0.1:%d " % port in ln]


def idle_session():
    c = session(srv.port, USER, PW)
    t0 = time.monotonic()
    frames = []
    try:
        while True:
            frames.append(c.read_env(IDLE + 10))
    except Closed:
        took = time.monotonic() - t0
    except Timeout:
        took = None
    t.expect(took is not None and took <= IDLE + MARGIN,
           "an idle session: closed after %s s (idle timeout %d s)" %
           (took, IDLE))
    t.expect(any(e.id == 0 and e.body == B["error"] and
               e.code == ERR["TIMEOUT"] for e in frames),
           "an idle session: no Error{TIMEOUT} with id 0 before the close: "
           "%r" % frames)
    t.note("idle session closed %.2f s after its last frame "
           "(--idle-timeout %d)" % (took or -1, IDLE))
    c.close()


def half_frame():
    c = session(srv.port, USER, PW)
    ping = frame(envelope(3, B["ping"], fb(1, b"x" * 90)))
    c.send(ping[:14])
    t0 = time.monotonic()
    took = c.wait_closed(IDLE + 10)
    t.expect(took is not None and took <= IDLE + MARGIN,
           "half a frame after login: closed after %s s (idle timeout "
           "%d s)" % (took, IDLE))
    t.note("half a frame after login: closed after %.2f s" % (
        (took if took is not None else time.monotonic() - t0)))
    c.close()


def trickle_frame():
    """A frame one byte every 0.5 s: bytes keep arriving, but one frame
    must complete within the idle timeout."""
    c = session(srv.port, USER, PW)
    data = frame(envelope(3, B["ping"], fb(1, b"x" * 90)))
    t0 = time.monotonic()
    took = None
    for i in range(len(data)):
        try:
            c.send(data[i:i + 1], 2)
        except (Closed, Timeout):
            took = time.monotonic() - t0
            break
        if c.wait_closed(0.5) is not None:
            took = time.monotonic() - t0
            break
        if time.monotonic() - t0 > IDLE + 10:
            break
    t.expect(took is not None and took <= IDLE + MARGIN,
           "a frame trickled a byte every 0.5 s: closed after %s s (idle "
           "timeout %d s)" % (took, IDLE))
    t.note("a frame trickled a byte every 0.5 s: closed after %.2f s" %
           (took or -1))
    c.close()


def good_client(where):
    rc, out, err = t.wharf("connect", "%s@127.0.0.1:%d" % (USER, srv.port),
                           "-c", "pwd; ls", password=PW, timeout=20)
    t.expect(rc == 0 and "big.bin" in out,
           "a new client %s: exit %d, out %r, err %r" % (where, rc, out[-200:],
                                                        err[-300:]))


def stopped_reader_raw():
    """A raw session asks for 64 MiB and never reads a byte."""
    mark = len(srv.log_text())
    c = session(srv.port, USER, PW)
    myport = c.s.getsockname()[1]
    c.send(frame(envelope(5, B["get"], fb(1, "big.bin") + fv(2, 1 << 20) +
                          fv(6, 1))))
    t0 = time.monotonic()
    ok = srv.wait_log(r"peer=127\.0\.0\.1:%d .*disconnect" % myport,
                      IDLE + 15)
    took = time.monotonic() - t0
    lines = session_lines(myport, mark)
    t.expect(ok and took <= IDLE + MARGIN + FILL,
           "a session that stops reading a download: %s after %.1f s: %s" %
           ("disconnect logged" if ok else "no disconnect", took,
            lines[-3:]))
    get = [ln for ln in lines if "op=get" in ln]
    t.expect(get and "result=ok" not in get[-1],
           "the unread download was logged as a success: %s" % get)
    t.note("raw session not reading a 64 MiB download: closed %.2f s after "
           "its GetReq (%s)" % (took, get[-1].split(" result=")[1].split()[0]
                                if get else "no get line"))
    c.close()


def stopped_client():
    """A real `wharf get` of 64 MiB, stopped with SIGSTOP once it has
    part of the file: its session closes after the idle timeout, while
    another client is served; the stopped client, resumed, fails cleanly
    and leaves no final file."""
    mark = len(srv.log_text())
    dl = os.path.join(t.tmp, "dl")
    os.makedirs(dl)
    env = dict(t.env, WHARF_PASSWORD=PW)
    p = subprocess.Popen([WHARF, "get", "%s@127.0.0.1:%d" % (USER, srv.port),
                          "big.bin", os.path.join(dl, "big.bin"),
                          "--no-progress", "-q", "--compress=off"],
                         env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    t.procs.append(p)
    part = os.path.join(dl, ".big.bin.wharf-part")
    end = time.monotonic() + 20
    while time.monotonic() < end and p.poll() is None:
        try:
            if os.path.getsize(part) >= 1 << 20:
                break
        except OSError:
            pass
        time.sleep(0.005)
    if p.poll() is not None:
        print("SKIP: test_stalls: the 64 MiB get finished before it could "
              "be stopped")
        return
    p.send_signal(signal.SIGSTOP)
    t_stop = time.monotonic()
    stopped_at = os.path.getsize(part) if os.path.exists(part) else 0
    # Its session: the only one that logged in since the mark.
    m = re.search(r"session=(\d+) \S+ user=%s op=login result=ok" % USER,
                  log_since(mark))
    if not m:
        t.soft_fail("no login of the stopped client in the server log")
        p.kill()
        return
    sid = m.group(1)
    # Served meanwhile.
    good_client("while a client is stopped mid-download")
    ok = srv.wait_log(r"session=%s .*disconnect" % sid, IDLE + 15)
    took = time.monotonic() - t_stop
    lines = [ln for ln in log_since(mark).splitlines()
             if "session=%s " % sid in ln and "op=get" in ln]
    t.expect(ok and took <= IDLE + MARGIN + FILL,
           "a stopped `wharf get`: %s %.1f s after SIGSTOP" % (
               "session closed" if ok else "no close", took))
    t.note("`wharf get` stopped (SIGSTOP) at %d bytes: server closed the "
           "session %.2f s later; log: %s" % (
               stopped_at, took,
               lines[-1].split(" result=")[1].split()[0] if lines else "-"))
    p.send_signal(signal.SIGCONT)
    try:
        rc = p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = None
    err = p.stderr.read().decode("utf-8", "replace")
    t.expect(rc not in (None, 0) and not re.search(r"Sanitizer|runtime error",
                                                  err),
           "the resumed client: exit %s (expected a clean failure), %r" %
           (rc, err[-400:]))
    t.expect(not os.path.exists(os.path.join(dl, "big.bin")),
           "the interrupted download left a final file")
    t.note("the stopped client, continued: exit %s, %r" % (
        rc, err.strip().splitlines()[-1] if err.strip() else ""))


def fifo():
    """A FIFO in the tree (put there by someone with a shell on the
    server): get and sum must answer, not block the worker in open(2)."""
    path = os.path.join(ROOT, "pipe")
    os.mkfifo(path)
    for what, body_field, body in (
            ("get", B["get"], fb(1, "pipe") + fv(2, 1 << 20)),
            ("sum", B["sum"], fb(1, "pipe"))):
        c = session(srv.port, USER, PW)
        t0 = time.monotonic()
        try:
            got = c.request(7, body_field, body, timeout=IDLE + 5)
            took = time.monotonic() - t0
            t.expect(got[-1].body == B["error"],
                   "%s of a FIFO answered %r" % (what, got))
            t.note("%s of a FIFO: %r after %.2f s" % (what, got[-1], took))
        except (Closed, Timeout) as e:
            t.soft_fail("%s of a FIFO in the root: no answer within %d s "
                      "(%s): the worker blocks in open(2)" %
                      (what, IDLE + 5, type(e).__name__))
            # Let the blocked worker go: a writer opens and closes.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
                os.close(fd)
            except OSError:
                pass
        c.close()
    good_client("after the FIFO")
    os.unlink(path)


def main():
    idle_session()
    half_frame()
    trickle_frame()
    good_client("after the idle cases")
    stopped_reader_raw()
    good_client("after a session that stopped reading")
    stopped_client()
    good_client("after a stopped client")
    fifo()
    for what, fut in pre_login.items():
        r = fut.result(LOGIN_DEADLINE + 30)
        if isinstance(r, str):
            t.soft_fail("%s: %s" % (what, r))
            continue
        t.expect(r is not None and LOGIN_DEADLINE - 1.5 <= r <=
               LOGIN_DEADLINE + MARGIN,
               "%s: closed %s s after connecting (login deadline %d s)" %
               (what, "%.1f" % r if r is not None else "never (within 20)",
                LOGIN_DEADLINE))
        t.note("%s: closed %s s after connecting" % (
            what, "%.2f" % r if r is not None else "not"))
    pool.shutdown()
    srv.check_alive("the stalls")
    good_client("at the end")
    srv.stop()
    t.finish()


main()
