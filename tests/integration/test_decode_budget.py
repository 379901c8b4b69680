#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Frames that are cheap to send and dear to decode: the heap budget.

A ListPart of nothing but empty entries is 2 bytes per entry on the wire
and, decoded by protobuf-c without a budget, ~140 bytes of heap each: a
4 MiB frame cost ~280 MiB, 64 KiB before login ~4.5 MiB. Against a real
server (--allow-plaintext, so that the raw client of rel_wire.py can log
in), over raw TCP on loopback, all at once:

- PRE_CONNS connections send such a frame of the pre-login size as their
  ClientHello, and as many more, after the handshake, in place of Auth;
- POST_CONNS logged-in sessions each send POST_FRAMES of 4 MiB.

Each frame must be answered with an Error (or the connection closed
before login), each session must go on (a Ping is answered), the server
must stay alive and a real client must still be served. The server's
peak resident memory (VmHWM in /proc/PID/status, reset once the sessions
are open: each login's password hash takes 64 MiB) must stay within what
the budget promises, about 110 MiB here: per connection its input buffer
plus 2 x the frame + 2 MiB (64 KiB before login), docs/protocol.md
section 3. Without the budget it was 1.5 GiB. With a sanitizer build the figures are the
sanitizer's (shadow memory, quarantine), so the bound is not checked.
Every wait is bounded; the last line is "N passed, M failed".
"""

import concurrent.futures
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rel_wire import (B, ERR, FRAME_MAX, FRAME_MAX_PREAUTH,  # noqa: E402
                      PREFACE, WHARF, Closed, Conn, Test, Timeout, frame,
                      session, varint)

USER = "dee"
PW = "dee pw 5"
PRE_CONNS = 16
POST_CONNS = 6
POST_FRAMES = 2
HEAVY = 4 * 1024 * 1024  # payload bytes of a post-login frame
# The payload limit before login once the channel exists (a sealed
# channel's tag counts against it too).
PREAUTH_PAYLOAD = FRAME_MAX_PREAUTH - 16
MIB = 1024 * 1024
# What the budget promises (docs/protocol.md section 3): a frame costs its
# input buffer plus at most DECODE_FACTOR x its size + the floor of heap.
DECODE_FACTOR = 2
FLOOR = 2 * MIB
FLOOR_PREAUTH = 64 * 1024
SLACK_MIB = 16  # malloc's rounding, thread stacks, the log


def bound_mib(base_mib):
    post = FRAME_MAX + DECODE_FACTOR * HEAVY + FLOOR
    pre = FRAME_MAX_PREAUTH * (1 + DECODE_FACTOR) + FLOOR_PREAUTH
    return (base_mib + SLACK_MIB +
            (POST_CONNS * post + 2 * PRE_CONNS * pre) / MIB)

t = Test("test_decode_budget", 200)
ROOT = os.path.join(t.tmp, "root")
STATE = os.path.join(t.tmp, "state")


def empty_entries(size):
    """An Envelope of at most size bytes: a ListPart (field 11) holding
    only empty FileInfo entries (key 0x0a, length 0)."""
    n = size - 1 - len(varint(size))
    n -= n % 2
    out = bytes([B["list_part"] << 3 | 2]) + varint(n) + b"\x0a\x00" * (n // 2)
    assert len(out) <= size and len(out) <= FRAME_MAX
    return out


def status_mib(pid):
    """VmHWM and VmRSS of pid, in MiB."""
    got = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            m = re.match(r"(VmHWM|VmRSS):\s+(\d+) kB", line)
            if m:
                got[m.group(1)] = int(m.group(2)) / 1024.0
    return got.get("VmHWM", 0.0), got.get("VmRSS", 0.0)


def sanitized():
    with open(WHARF, "rb") as f:
        return b"__asan_init" in f.read()


def good_client(where, name):
    rc, out, err = t.wharf("connect", "%s@127.0.0.1:%d" % (USER, srv.port),
                           "-c", "mkdir %s; ls" % name, password=PW,
                           timeout=60)
    t.expect(rc == 0 and re.search(r"(^|\s)%s/?(\s|$)" % name, out),
             "a real client after %s: exit %d, out %r, err %r" %
             (where, rc, out[-300:], err[-300:]))


def reset_hwm(pid):
    """Sets VmHWM back to the current VmRSS (Linux 4.0+), so that the peak
    of what follows is not the password hashing's (64 MiB per login)."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def ended(c):
    """The server answered with an Error or closed (before login)."""
    try:
        e = c.read_env(timeout=30)
        if e.body != B["error"]:
            return "FAIL answered %r" % e
        return "error %s" % e.code
    except (Closed, Timeout) as e:
        return "ended: %s" % e
    except ValueError as e:
        return "FAIL %s" % e


def open_pre_hello(_i):
    """Connected, preface sent: the heavy frame will be the ClientHello."""
    c = Conn(srv.port)
    c.send(PREFACE)
    return c


def open_pre_auth(_i):
    """After a good handshake: the heavy frame goes in place of Auth."""
    c = Conn(srv.port)
    e = c.handshake(plaintext=True)
    if e.body != B["server_hello"]:
        raise ValueError("handshake refused: %r" % e)
    return c


def heavy_pre(c, size, preface):
    try:
        c.send(frame(empty_entries(size)))
        if preface and c.read_exact(len(PREFACE), timeout=30)[:8] != \
                PREFACE[:8]:
            return "FAIL: no server preface"
        return ended(c)
    except (Closed, Timeout) as e:
        return "ended: %s" % e
    finally:
        c.close()


def heavy_post(c):
    """POST_FRAMES heavy frames in a session: each one an Error, and the
    session goes on."""
    try:
        payload = frame(empty_entries(HEAVY))
        for k in range(POST_FRAMES):
            c.send(payload, timeout=60)
            e = c.read_env(timeout=60)
            if e.body != B["error"] or e.code != ERR["PROTOCOL"]:
                return "FAIL frame %d: answered %r" % (k, e)
        if c.sync(timeout=30) != []:
            return "FAIL: more answers than asked for"
        return "ok"
    except (Closed, Timeout, ValueError) as e:
        return "FAIL: %s" % e
    finally:
        c.close()


os.makedirs(ROOT)
t.add_user(STATE, USER, PW)
# Many connections from one address before login, on purpose: past the
# default per-source limit (test_preauth.py tests that one).
srv = t.start_server(ROOT, STATE, "--allow-plaintext", "--max-startups", "64",
                     "--per-source-max-startups", "64")
good_client("start", "ok1")

with concurrent.futures.ThreadPoolExecutor(
        PRE_CONNS * 2 + POST_CONNS) as pool:
    hello = [pool.submit(open_pre_hello, i) for i in range(PRE_CONNS)]
    auth = [pool.submit(open_pre_auth, i) for i in range(PRE_CONNS)]
    sess = [pool.submit(session, srv.port, USER, PW)
            for i in range(POST_CONNS)]
    hello = [f.result() for f in hello]
    auth = [f.result() for f in auth]
    sess = [f.result() for f in sess]
    have_hwm = reset_hwm(srv.proc.pid)
    hwm0, rss0 = status_mib(srv.proc.pid)
    t.note("server with %d connections open: VmHWM %.1f MiB (reset: %s), "
           "VmRSS %.1f MiB" % (PRE_CONNS * 2 + POST_CONNS, hwm0,
                               have_hwm, rss0))
    pre = [pool.submit(heavy_pre, c, FRAME_MAX_PREAUTH, True)
           for c in hello]
    pre += [pool.submit(heavy_pre, c, PREAUTH_PAYLOAD, False) for c in auth]
    post = [pool.submit(heavy_post, c) for c in sess]
    for f in pre:
        r = f.result()
        t.expect(not r.startswith("FAIL"), "before login: %s" % r)
    for f in post:
        r = f.result()
        t.expect(r == "ok", "after login: %s" % r)

# Before the next login: its password hash would be the peak.
hwm, rss = status_mib(srv.proc.pid)
srv.check_alive("after the heavy frames")
good_client("the heavy frames", "ok2")
t.note("server after %d pre-login and %d x %d post-login heavy frames: "
       "VmHWM %.1f MiB (bound %.1f), VmRSS %.1f MiB" %
       (PRE_CONNS * 2, POST_CONNS, POST_FRAMES, hwm, bound_mib(rss0), rss))
if sanitized():
    print("note: sanitizer build, memory bound not checked")
elif not have_hwm:
    print("note: VmHWM could not be reset, memory bound not checked")
else:
    bound = bound_mib(rss0)
    t.expect(hwm < bound, "server peak memory %.1f MiB, bound %.1f MiB" %
             (hwm, bound))
srv.stop()
t.finish()
