#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What a peer can do before it has logged in (issue 15, findings 5, 9).

Against a real server with the default limits (plus --allow-plaintext, so
that the raw client of rel_wire.py can log in), over raw TCP on loopback:

- one address cannot lock everyone else out: 127.0.0.2 holds 64 idle
  connections that never log in and renews each one as soon as the server
  drops it, for the whole test; meanwhile real logins from 127.0.0.1, one
  after another for FLOOD_SECS seconds, must nearly all succeed (at least
  95 %), and the server logs that it refused the extra connections of
  127.0.0.2 (docs/design.md, "Connections before login");
- a login's joined connections are capped: SESSION_JOINS_MAX (16) Joins
  with its token are answered AuthOk, the next gets Error{BUSY}; when one
  joined connection leaves, a Join succeeds again (docs/protocol.md 9.9);
- a configured total (--max-startups 4, --per-source-max-startups 2) is
  kept: a connection over the per-source or the total limit gets
  Error{BUSY} at once, and a login gets in once a place is free; limits
  that do not fit --max-clients are refused at start-up;
- log fields cannot be forged before login: a ClientHello.software of
  `x" user=admin op=login result=ok` (and an Auth user name in the same
  spirit) gives log lines that parse into the fields the server wrote,
  with the peer's text intact inside one quoted, escaped value.

Every wait is bounded; the last line is "N passed, M failed".
"""

import os
import re
import select
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rel_wire import (B, ERR, Closed, Conn, Test, Timeout,  # noqa: E402
                      envelope, fb, field, frame, fv, parse, session)

USER = "pat"
PW = "pat pw 5"
FLOOD_SECS = float(os.environ.get("REL_FLOOD_SECS", "15"))
FLOOD_CONNS = 64
ATTACKER = "127.0.0.2"
JOINS_MAX = 16  # SESSION_JOINS_MAX, include/wharf/session.h
FORGED = 'x" user=admin op=login result=ok'

t = Test("test_preauth", 150)
ROOT = os.path.join(t.tmp, "root")
STATE = os.path.join(t.tmp, "state")
t.add_user(STATE, USER, PW)
srv = t.start_server(ROOT, STATE, "--allow-plaintext")


# --------------------------------------------------- log line parsing

def unescape(s):
    """The text inside a quoted log value: \\" \\\\ and \\xNN."""
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out += c.encode()
            i += 1
        elif s[i + 1:i + 2] in ('"', "\\"):
            out += s[i + 1].encode()
            i += 2
        elif s[i + 1:i + 2] == "x" and re.match(r"[0-9a-f]{2}$",
                                                 s[i + 2:i + 4]):
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        else:
            raise ValueError("bad escape at %d in %r" % (i, s))
    return out.decode("utf-8", "replace")


def log_fields(line):
    """[(key, value)] of a log line: key=bare or key="quoted, escaped";
    words without '=' are skipped. Raises ValueError for a quote that is
    not closed, or not followed by a space or the end of the line."""
    out = []
    i = 0
    n = len(line)
    while i < n:
        if line[i] == " ":
            i += 1
            continue
        m = re.match(r'([A-Za-z_]+)="', line[i:])
        if m:
            j = i + m.end()
            val = []
            while True:
                if j >= n:
                    raise ValueError("quote not closed: %r" % line)
                if line[j] == "\\":
                    val.append(line[j:j + 2])
                    j += 2
                elif line[j] == '"':
                    break
                else:
                    val.append(line[j])
                    j += 1
            j += 1
            if j < n and line[j] != " ":
                raise ValueError("text after a closing quote: %r" % line)
            out.append((m.group(1), unescape("".join(val))))
            i = j
            continue
        j = line.find(" ", i)
        j = n if j < 0 else j
        word = line[i:j]
        if "=" in word:
            k, _, v = word.partition("=")
            out.append((k, v))
        i = j
    return out


def hello_with(software):
    return envelope(0, B["client_hello"],
                    fv(1, 1) + fv(2, 1) + fv(3, 7) + fb(4, os.urandom(32)) +
                    fv(5, 1) + fb(6, software))


# ------------------------------------------------------- log forging

def forged_fields():
    c = Conn(srv.port)
    try:
        e = c.handshake(hello=hello_with(FORGED))
        t.check(e.body == B["server_hello"], "handshake: %r" % e)
        e = c.auth('eve" op=login result=ok', "nope")
        t.expect(e.body == B["error"], "a bad login was answered %r" % e)
    finally:
        c.close()
    t.check(srv.wait_log(r"handshake ok.*client=", 10),
            "no 'handshake ok' line")
    t.check(srv.wait_log(r"op=login result=AUTH_FAILED", 15),
            "no failed-login line")
    lines = [ln for ln in srv.log_text().splitlines()
             if "handshake ok" in ln or "result=AUTH_FAILED" in ln]
    for ln in lines:
        try:
            fields = log_fields(ln)
        except ValueError as ex:
            t.soft_fail("a log line that does not parse: %s" % ex)
            continue
        keys = [k for k, _ in fields]
        if "handshake ok" in ln:
            t.expect("user" not in keys and "op" not in keys and
                     "result" not in keys and keys.count("client") == 1,
                     "ClientHello.software forged log fields: %r -> %r" %
                     (ln, fields))
            t.expect(dict(fields).get("client") == FORGED,
                     "the software text is not kept intact: %r" % ln)
        else:
            t.expect(keys.count("op") == 1 and keys.count("result") == 1 and
                     dict(fields).get("result") == "AUTH_FAILED",
                     "a user name forged log fields: %r -> %r" % (ln, fields))
            t.expect(dict(fields).get("user") == 'eve" op=login result=ok',
                     "the user name is not kept intact: %r" % ln)
    t.expect(not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", srv.log_text()),
             "control characters in the log")


# ------------------------------------------------------ pre-auth flood

class Flood:
    """FLOOD_CONNS idle connections from ATTACKER, each renewed as soon
    as the server closes it (a refusal included)."""

    def __init__(self, port):
        self.port = port
        self.stop = False
        self.socks = []
        self.connects = 0
        self.busy = 0
        self.th = threading.Thread(target=self.run, daemon=True)

    def connect(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((ATTACKER, 0))
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", self.port))
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            s.close()
            return None
        self.connects += 1
        return s

    def run(self):
        while not self.stop:
            while len(self.socks) < FLOOD_CONNS and not self.stop:
                s = self.connect()
                if s is None:
                    break
                self.socks.append(s)
            r, _, _ = select.select(self.socks, [], [], 0.2)
            for s in r:
                try:
                    data = s.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if b"busy" in data:
                    self.busy += 1
                if not data:
                    self.socks.remove(s)
                    s.close()
            # Gentle on a shared machine: renewals at most every 0.1 s.
            time.sleep(0.1)

    def start(self):
        self.th.start()

    def finish(self):
        self.stop = True
        self.th.join(10)
        for s in self.socks:
            s.close()


def one_login(port=None):
    """A raw login from 127.0.0.1 and a Ping; None or why it failed."""
    try:
        c = session(port or srv.port, USER, PW)
    except (Closed, Timeout, ValueError, OSError) as ex:
        return "%s: %s" % (type(ex).__name__, ex)
    try:
        c.sync(10)
        return None
    except (Closed, Timeout, ValueError) as ex:
        return "after login: %s: %s" % (type(ex).__name__, ex)
    finally:
        c.close()


def flood():
    f = Flood(srv.port)
    f.start()
    # Let it reach its strength: every slot it can get, held.
    time.sleep(2.0)
    ok = 0
    bad = []
    t_end = time.monotonic() + FLOOD_SECS
    while time.monotonic() < t_end:
        why = one_login()
        if why is None:
            ok += 1
        else:
            bad.append(why)
            time.sleep(0.2)  # a refused client would pause too
    f.finish()
    n = ok + len(bad)
    t.note("pre-auth flood from %s: %d connects, %d logins from 127.0.0.1 "
           "in %.0f s, %d refused" % (ATTACKER, f.connects, n, FLOOD_SECS,
                                      len(bad)))
    t.check(n >= 3, "only %d logins ran in %.0f s" % (n, FLOOD_SECS))
    t.expect(ok >= 0.95 * n,
             "one address holding %d idle connections locked others out: "
             "%d of %d logins from 127.0.0.1 refused, e.g. %s" %
             (FLOOD_CONNS, len(bad), n, bad[:3]))
    t.expect(re.search(r"peer=%s:\d+ refused: .*from this address" %
                       re.escape(ATTACKER), srv.log_text()) is not None,
             "no log line refusing the extra connections of %s" % ATTACKER)
    srv.check_alive("after the flood")


# ---------------------------------------------------------- join cap

def join(token):
    """A joined connection, or (None, the answer)."""
    c = Conn(srv.port)
    e = c.handshake()
    if e.body != B["server_hello"]:
        c.close()
        return None, e
    c.send(frame(envelope(1, B["join"], fb(1, token))))
    try:
        e = c.read_env(15)
    except Closed:
        c.close()
        return None, "closed"
    if e.body != B["auth_ok"]:
        c.close()
        return None, e
    return c, e


def join_cap():
    owner = Conn(srv.port)
    conns = []
    try:
        owner.handshake()
        e = owner.auth(USER, PW)
        token = field(parse(e.data), 5, b"")
        t.check(len(token) == 32, "no session token: %r" % e)
        for i in range(JOINS_MAX):
            j, e = join(token)
            if not t.expect(j is not None, "Join %d of %d refused: %r" %
                            (i + 1, JOINS_MAX, e)):
                return
            conns.append(j)
        j, e = join(token)
        if j is not None:
            conns.append(j)
        t.expect(j is None and getattr(e, "code", None) == ERR["BUSY"],
                 "Join %d (over SESSION_JOINS_MAX) was answered %r" %
                 (JOINS_MAX + 1, e))
        # One leaves: its place can be taken again.
        conns.pop().close()
        deadline = time.monotonic() + 10
        j = None
        while time.monotonic() < deadline:
            j, e = join(token)
            if j is not None or getattr(e, "code", None) != ERR["BUSY"]:
                break
            time.sleep(0.2)
        t.expect(j is not None, "a Join after one joined connection left: "
                 "%r" % (e,))
        if j is not None:
            conns.append(j)
            got = j.sync(10)
            t.expect(got == [], "a Ping on the last joined connection: %r" %
                     got)
    finally:
        for c in conns:
            c.close()
        owner.close()
    srv.check_alive("the join cap")


# ------------------------------------------- configured total limit

def refused_with(c, words):
    try:
        e = c.handshake()
    except (Closed, Timeout, ValueError) as ex:
        return "%s: %s" % (type(ex).__name__, ex)
    finally:
        c.close()
    if e.body == B["error"] and e.code == ERR["BUSY"] and words in e.message:
        return None
    return "answered %r" % e


def total_limit():
    """--max-startups 4 --per-source-max-startups 2: two idle connections
    from each of two addresses fill it; a third from one of them is
    refused for its address, one from a new address for the total; once
    one idle connection leaves, a login gets in."""
    s2 = t.start_server(ROOT, STATE, "--allow-plaintext", "--max-startups",
                        "4", "--per-source-max-startups", "2")
    idle = [Conn(s2.port, source="127.0.0.%d" % (10 + i // 2))
            for i in range(4)]
    try:
        t.check(s2.wait_log(r"peer=127\.0\.0\.11:\d+ connect", 10, 1),
                "the idle connections were not accepted")
        why = refused_with(Conn(s2.port, source="127.0.0.10"), "address")
        t.expect(why is None, "a 3rd idle connection from 127.0.0.10: %s" %
                 why)
        why = refused_with(Conn(s2.port, source="127.0.0.20"), "logging in")
        t.expect(why is None, "a 5th connection not logged in: %s" % why)
        t.expect(s2.wait_log(r"refused: 4 connections not logged in yet "
                             r"\(max-startups 4:100:4\)", 5),
                 "no log line for the refusal at FULL")
        idle.pop().close()
        deadline = time.monotonic() + 10
        why = "no try"
        while time.monotonic() < deadline:
            why = one_login(s2.port)
            if why is None:
                break
            time.sleep(0.2)
        t.expect(why is None, "a login once a place was free: %s" % why)
    finally:
        for c in idle:
            c.close()
    s2.stop()
    # Limits that do not fit --max-clients are refused at start-up.
    rc, _, err = t.wharf("serve", "--root", ROOT, "--state", STATE,
                         "--listen", "127.0.0.1:0", "--max-clients", "8",
                         "--max-startups", "10:30:20", timeout=20)
    t.expect(rc == 2 and "--max-startups" in err,
             "--max-startups over --max-clients: exit %d, %r" % (rc, err))


forged_fields()
join_cap()
flood()
srv.stop()
total_limit()
t.finish()
