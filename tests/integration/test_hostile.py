#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile peers against a real server, over raw TCP on loopback.

A raw client (rel_wire.py: hand-encoded protobuf, plaintext sessions on a
server started with --allow-plaintext) sends what no wharf client would:
garbage instead of the preface, garbage after it, bad version ranges,
frame lengths of 0, 0xffffffff and one over each limit, 5000 one-byte
frames, requests before authentication, Auth with extreme fields, a
battery of hostile paths through every operation that takes a path, every
message type with every field at its extremes (plus unknown fields, wrong
wire types, unknown bodies), the transfer state machine out of order,
Join with wrong, short, long and dead tokens (and a joined connection once
its owner has gone), delta transfers with over-long indexes and refs to
blocks never listed, a striped range never committed, and a replay of the
session fuzz corpus (fuzz/corpus/session/, at most REL_CORPUS_MAX files,
default 300) as the post-login stream of a session.
Then password guessing: three failed logins from 127.0.0.1 are answered
after growing delays, while 127.0.0.2 gets the normal one-second pause
and logs in.

Throughout, the server must answer with errors or close that connection
(never hang: every exchange ends with a Ping/Pong barrier, 20 s at most),
never crash (the process stays alive and, with the sanitizer build, its
stderr holds no report), never touch anything outside its root (a
sentinel folder beside the root is compared, and the unique names used in
escaping paths are looked for around the root), and keep serving: a real
`wharf connect -c "mkdir okN; ls"` runs between the groups of attacks.

Independent checks go on after a failure (each failing case is listed;
a crashed server is restarted so that the rest still runs); the last line
is "N passed, M failed". REL_SKIP_GUESSING=1 skips the ~10 s guessing part.
"""

import concurrent.futures
import os
import re
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rel_wire import (B, ERR, ERR_NAME, FRAME_MAX,  # noqa: E402
                      FRAME_MAX_PREAUTH, PREFACE, SYNC_ID, U32, U64, Closed,
                      Conn, Env, Test, Timeout, blake, chunk_msg,
                      client_hello, envelope, fb, field, file_digest, frame,
                      fv, parse, session, tag, tree_state)

USER = "hal"
PW = "hal pw 9"
CORPUS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "..", "..", "fuzz", "corpus", "session")
CORPUS_MAX = int(os.environ.get("REL_CORPUS_MAX", "300"))
TOKEN = "wharf-esc-%s" % os.urandom(4).hex()
CS = 65536  # chunk size for hand-made uploads

t = Test("test_hostile", 240)
BASE = t.tmp
ROOT = os.path.join(BASE, "root")
OUTSIDE = os.path.join(BASE, "outside")
STATE = os.path.join(BASE, "state")
SENT = {"frames": 0, "cases": 0}


# ------------------------------------------------------------- the tree

def build_tree():
    os.makedirs(OUTSIDE)
    with open(os.path.join(OUTSIDE, "secret"), "w") as f:
        f.write("sentinel: must never change\n")
    for d in ("docs", "empty", "deep/a/b", "ext"):
        os.makedirs(os.path.join(ROOT, d), exist_ok=True)
    files = {"data.bin": os.urandom(3000), "readme.txt": b"hello wharf\n",
             "docs/guide.md": b"# guide\n", ".hidden": b"h\n",
             "deep/a/b/leaf": b"leaf\n", "victim.txt": b"victim\n",
             "ext/small.bin": os.urandom(100000)}
    for name, data in files.items():
        with open(os.path.join(ROOT, name), "wb") as f:
            f.write(data)
    with open(os.path.join(ROOT.encode(), b"bad\xff\xfe.bin"), "wb") as f:
        f.write(b"x")
    links = {"in_link": "docs", "file_link": "readme.txt",
             "loop_link": "loop_link", "out_abs": OUTSIDE,
             "out_rel": "../outside", "docs/up_link": "../../outside",
             "secret_link": os.path.join(OUTSIDE, "secret")}
    for name, target in links.items():
        os.symlink(target, os.path.join(ROOT, name))


build_tree()
t.add_user(STATE, USER, PW)
OUTSIDE_BEFORE = tree_state(OUTSIDE)
TOP_BEFORE = set(os.listdir(BASE))
SRV_ARGS = ("--allow-plaintext", "--idle-timeout", "30",
            "--max-file-size", "64M")
srv = t.start_server(ROOT, STATE, *SRV_ARGS)
GOOD_N = 0


def server_check(what):
    """The server is alive and quiet; if it died, that is a failure and a
    new one takes its place so that the other checks still run."""
    global srv
    bad = None
    if not srv.alive():
        bad = "the server died (exit %s)" % srv.proc.returncode
    elif re.search(r"Sanitizer|runtime error:", srv.stderr_text()):
        bad = "sanitizer report"
    if bad is None:
        t.ok()
        return True
    t.soft_fail("%s: %s; stderr: %s" % (what, bad, srv.stderr_text()[:2500]))
    if srv.alive():
        srv.proc.kill()
        srv.proc.wait()
    srv = t.start_server(ROOT, STATE, *SRV_ARGS)
    BAT.conn = None
    return False


def good_client(where):
    """A well-behaved sealed client still gets its work done."""
    global GOOD_N
    GOOD_N += 1
    name = "ok%d" % GOOD_N
    rc, out, err = t.wharf("connect", "%s@127.0.0.1:%d" % (USER, srv.port),
                           "-c", "mkdir %s; ls" % name, password=PW)
    t.expect(rc == 0 and re.search(r"(^|\s)%s/?(\s|$)" % name, out),
           "a real client after %s: exit %d, out %r, err %r" %
           (where, rc, out[-300:], err[-300:]))


def check_errors_wellformed(frames, what):
    for e in frames:
        if e.body == B["error"]:
            m = e.message
            if len(m.encode()) > 1024 or re.search(r"[\x00-\x1f\x7f]", m):
                t.soft_fail("%s: Error text is not one printable line of at "
                          "most 1024 bytes: %r" % (what, m[:200]))
                return


# ------------------------------------------------ the exchange runner

class Battery:
    """Runs cases on one logged-in plaintext session, opening a new one
    when the server closed the last."""

    def __init__(self):
        self.conn = None
        self.logins = 0
        self.closes = 0

    def c(self):
        if self.conn is None:
            self.conn = session(srv.port, USER, PW)
            self.logins += 1
        return self.conn

    def drop(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def run(self, what, data, timeout=20, max_frames=200000):
        """Sends data, then the barrier; returns (frames, closed). A hang
        (no barrier answer and no close) or a malformed answer is a
        failure; so is a dead server."""
        c = self.c()
        SENT["cases"] += 1
        token = os.urandom(8)
        got = []
        closed = False
        try:
            c.send(data + frame(envelope(SYNC_ID, B["ping"], fb(1, token))),
                   timeout)
            deadline = time.monotonic() + timeout
            while True:
                e = c.read_env(max(0.01, deadline - time.monotonic()))
                if e.id == SYNC_ID and e.body == B["pong"]:
                    break
                got.append(e)
                if len(got) > max_frames:
                    t.soft_fail("%s: more than %d answers to one case" %
                              (what, max_frames))
                    self.drop()
                    break
        except Closed:
            closed = True
            self.closes += 1
            self.drop()
            if os.environ.get("REL_VERBOSE"):
                print("closed by the server: %s (after %r)" % (what,
                                                              got[-2:]))
        except Timeout:
            t.soft_fail("%s: no answer and no close within %d s (%d frames "
                      "came back)" % (what, timeout, len(got)))
            self.drop()
        except ValueError as e:
            t.soft_fail("%s: malformed answer from the server: %s" % (what, e))
            self.drop()
        check_errors_wellformed(got, what)
        server_check(what)
        return got, closed


BAT = Battery()


def finals(frames, rid):
    return [e for e in frames if e.id == rid and e.is_final()]


def answered_error(frames, rid, codes=None):
    f = finals(frames, rid)
    return (len(f) == 1 and f[0].body == B["error"] and
            (codes is None or f[0].code in codes))


def raw_case(what, data, expect_close=True, timeout=5, eof=False):
    """A fresh raw connection (no login) sends data (then EOF if eof);
    the server must close it within timeout s. Returns the bytes it sent
    back."""
    SENT["cases"] += 1
    c = Conn(srv.port)
    back = b""
    try:
        c.send(data, 10)
        if eof:
            c.s.shutdown(socket.SHUT_WR)
    except (Closed, OSError):
        pass
    except Timeout:
        t.soft_fail("%s: the server stopped reading but kept the connection"
                  % what)
    took = c.wait_closed(timeout) if expect_close else None
    back = c.buf
    if expect_close:
        t.expect(took is not None,
               "%s: connection still open after %d s" % (what, timeout))
    c.close()
    server_check(what)
    return back


# ================================================= 1. before the login

def preface_attacks():
    raw_case("garbage instead of the preface", os.urandom(4096))
    raw_case("an HTTP request", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    raw_case("12 zero bytes", b"\0" * 12)
    raw_case("the magic, then a short preface and EOF", PREFACE[:10],
             eof=True)
    # Valid preface, then garbage where the ClientHello frame goes.
    raw_case("preface, then garbage", PREFACE + os.urandom(2000))
    raw_case("preface, then a frame of garbage",
             PREFACE + frame(os.urandom(300)))
    for lo, hi, what in ((0, 1, "min 0"), (2, 1, "min above max"),
                         (7, 9, "no common version"),
                         (0xffff, 0xffff, "65535..65535")):
        pre = b"\x89WHARF\r\n" + lo.to_bytes(2, "big") + hi.to_bytes(2, "big")
        back = raw_case("preface %s" % what, pre + frame(client_hello(
            True, lo=lo, hi=hi)))
        # An answer, if any, is the server's preface and an Error.
        t.expect(back == b"" or (back[:8] == b"\x89WHARF\r\n" and
                               Env(back[16:]).body == B["error"]),
               "preface %s: answer %r" % (what, back[:80]))
    raw_case("preface, length 0xffffffff", PREFACE + b"\xff\xff\xff\xff")
    raw_case("preface, length 64 KiB + 1 (the pre-auth limit + 1)",
             PREFACE + (FRAME_MAX_PREAUTH + 1).to_bytes(4, "big") +
             b"\0" * 1000)
    raw_case("preface, a zero-length frame", PREFACE + b"\0\0\0\0")
    raw_case("preface, 5000 one-byte frames",
             PREFACE + b"\0\0\0\x01\x08" * 5000)
    raw_case("preface, a ClientHello with a 31-byte key",
             PREFACE + frame(client_hello(True, key=os.urandom(31))))
    raw_case("preface, a ClientHello with an all-zero (low-order) key",
             PREFACE + frame(client_hello(True, key=b"\0" * 32)))
    # A response type whose FileInfo has an empty name, in place of the
    # ClientHello: decoded (and validated) before anyone is logged in.
    raw_case("preface, a ListPart with an empty name instead of a "
             "ClientHello", PREFACE + frame(envelope(
                 0, B["list_part"], fb(1, fv(2, 1)) + fv(2, 1))))
    raw_case("preface, an Auth instead of a ClientHello",
             PREFACE + frame(envelope(1, B["auth"], fb(1, USER) + fb(2, PW))))
    SENT["frames"] += 5000 + 20


def after_handshake(what, data, expect_codes=None):
    """Handshake done, not logged in: data must get an Error (if codes
    given: one of them) and/or a close, within 12 s."""
    SENT["cases"] += 1
    c = Conn(srv.port)
    e = c.handshake(True)
    if not t.expect(e.body == B["server_hello"],
                  "%s: handshake refused: %r" % (what, e)):
        return
    try:
        c.send(data, 10)
    except Closed:
        pass
    took = c.wait_closed(12)
    t.expect(took is not None, "%s: still open 12 s later" % what)
    frames = []
    while len(c.buf) >= 4:
        n = int.from_bytes(c.buf[:4], "big")
        if n == 0 or len(c.buf) < 4 + n:
            break
        frames.append(Env(c.buf[4:4 + n]))
        c.buf = c.buf[4 + n:]
    if expect_codes is not None:
        t.expect(any(f.body == B["error"] and f.code in expect_codes
                   for f in frames),
               "%s: expected an Error %s before the close, got %r" %
               (what, [ERR_NAME[x] for x in expect_codes], frames))
    c.close()
    server_check(what)


def before_auth():
    # Requests before Auth: Error{PROTOCOL, "authenticate first"}, close.
    for name, body in (("list", fb(1, "/")), ("mkdir", fb(1, TOKEN)),
                       ("put_open", fb(1, TOKEN) + fv(2, 5) + fv(6, CS)),
                       ("get", fb(1, "readme.txt") + fv(2, CS)),
                       ("ping", fb(1, "x")), ("pwd", b""),
                       ("remove", fb(1, "victim.txt")),
                       ("chunk", chunk_msg(0, b"abc")),
                       ("auth_ok", fb(1, USER))):
        after_handshake("a %s request before Auth" % name,
                        frame(envelope(7, B[name], body)), [ERR["PROTOCOL"]])
    after_handshake("an envelope with no body before Auth",
                    frame(fv(1, 7)))
    after_handshake("a length of 0xffffffff before Auth", b"\xff" * 4)
    after_handshake("a frame of 64 KiB + 1 before Auth",
                    (FRAME_MAX_PREAUTH + 1).to_bytes(4, "big") + b"\0" * 64)
    after_handshake("a zero-length frame before Auth", b"\0\0\0\0")
    after_handshake("5000 one-byte frames before Auth",
                    b"\0\0\0\x01\x08" * 5000)
    SENT["frames"] += 5000 + 15


def auth_extremes():
    """Auth with extreme fields. Each failure costs this address a
    growing delay, so every case comes from its own 127.0.0.x address,
    all at once; each must end in AUTH_FAILED or a close."""
    cases = [
        ("empty user and password", fb(1, b"") + fb(2, b"")),
        ("no fields at all", b""),
        ("a 65000-byte user", fb(1, b"u" * 65000) + fb(2, PW)),
        ("a user with NUL", fb(1, USER.encode() + b"\0x") + fb(2, PW)),
        ("a password with NUL", fb(1, USER) + fb(2, PW.encode() + b"\0")),
        ("invalid UTF-8", fb(1, b"\xff\xfe") + fb(2, b"\xc0\xaf")),
        ("a 1025-byte password", fb(1, USER) + fb(2, b"p" * 1025)),
        ("unknown fields", fb(1, USER) + fb(2, b"no") + fv(99, U64) +
         fb(100, b"z" * 100)),
        ("a varint where the user goes", fv(1, U64) + fb(2, PW)),
    ]

    def one(i, body):
        c = Conn(srv.port, source="127.0.0.%d" % (20 + i))
        try:
            e = c.handshake(True)
            if e.body != B["server_hello"]:
                return "handshake refused: %r" % e
            c.send(frame(envelope(1, B["auth"], body)))
            try:
                e = c.read_env(20)
            except Closed:
                return None
            if e.body == B["auth_ok"]:
                return "logged in!"
            if e.body != B["error"]:
                return "answered %r" % e
            return None
        except (Timeout, ValueError) as ex:
            return "%s: %s" % (type(ex).__name__, ex)
        finally:
            c.close()

    with concurrent.futures.ThreadPoolExecutor(len(cases)) as ex:
        futs = [ex.submit(one, i, body) for i, (_, body) in enumerate(cases)]
        for (what, _), fut in zip(cases, futs):
            r = fut.result()
            SENT["cases"] += 1
            t.expect(r is None, "Auth with %s: %s" % (what, r))
    server_check("Auth extremes")


# ================================================ 2. after the login

def framing_attacks():
    # A frame of exactly the limit is fine; one byte more ends the session.
    pad = FRAME_MAX - 32
    ping = envelope(5, B["ping"], fb(1, b"p" * pad))
    got, closed = BAT.run("a Ping frame just under the limit", frame(ping))
    t.expect(not closed and any(e.id == 5 and e.body == B["pong"]
                              for e in got),
           "a %d-byte frame (limit %d): %s" % (len(ping), FRAME_MAX,
                                             "closed" if closed else got))
    # Whole frames (the payload is sent too, so a server that accepted the
    # length does not simply wait for the rest): each must end the
    # session. The payload is undecodable, which alone would not.
    junk = b"\x0f" * (FRAME_MAX + 17)
    for what, data in (
            ("a length of 0xffffffff", b"\xff\xff\xff\xff" + junk),
            ("a length of the limit + 17 (limit + the seal tag + 1)",
             frame(junk)),
            ("a length of the limit + 1 (docs/protocol.md section 3)",
             frame(junk[:FRAME_MAX + 1]))):
        got, closed = BAT.run("after login: %s" % what, data, timeout=10)
        t.expect(closed, "after login, %s: the connection stays open (%d "
               "answers: %r)" % (what, len(got), got[:2]))
    SENT["frames"] += 4

    # 5000 one-byte frames: each undecodable, each reported, none fatal.
    got, closed = BAT.run("5000 one-byte frames", b"\0\0\0\x01\x08" * 5000,
                          timeout=30)
    SENT["frames"] += 5000
    errs = [e for e in got if e.body == B["error"] and e.id == 0]
    t.expect(closed or len(errs) <= 5000,
           "5000 one-byte frames: %d errors back" % len(errs))
    t.note("5000 one-byte frames after login: %s, %d Error frames back" %
           ("closed" if closed else "session went on", len(errs)))

    # No body, an unknown body: UNSUPPORTED, and the session goes on.
    for what, env in (("an envelope with only an id", fv(1, 9)),
                      ("an unknown body (field 99)",
                       fv(1, 9) + fb(99, fv(1, 1))),
                      ("an unknown body (field 536870911)",
                       fv(1, 9) + fb(536870911, b""))):
        got, closed = BAT.run(what, frame(env))
        t.expect(not closed and answered_error(got, 9, [ERR["UNSUPPORTED"]]),
               "%s: expected Error{UNSUPPORTED} and the session going on, "
               "got %r%s" % (what, got, " and a close" if closed else ""))
    # Response types sent as requests: PROTOCOL, and the session goes on.
    for name in ("client_hello", "server_hello", "auth", "auth_ok", "error",
                 "ok", "list_part", "stat_reply", "cwd", "pong", "put_ready",
                 "put_done", "get_info", "get_end", "sum_reply",
                 "probe_reply"):
        body = client_hello(True)[2:] if name == "client_hello" else b""
        got, closed = BAT.run("a %s sent by the client" % name,
                              frame(envelope(11, B[name], body)))
        # One Error for the request, or (when the empty message does not
        # validate, e.g. a ServerHello without its core) one with id 0.
        errs = [e for e in got if e.body == B["error"] and e.id in (0, 11)]
        t.expect(not closed and len(errs) == 1 and len(got) == 1,
               "a %s sent by the client: expected one Error and the "
               "session going on, got %r%s" %
               (name, got, " and a close" if closed else ""))
    SENT["frames"] += 19
    # Undecodable protobuf: reported with id 0, and the session goes on.
    for what, payload in (("a truncated varint", b"\x08\xff"),
                          ("a length past the end", b"\x52\x7f\x01"),
                          ("wire type 7", b"\x0f"),
                          ("field number 0", b"\x00\x01"),
                          ("an 11-byte varint", b"\x08" + b"\xff" * 10 +
                           b"\x01"),
                          ("a group start", b"\x53")):
        got, closed = BAT.run("undecodable: %s" % what, frame(payload))
        t.expect(not closed and any(e.body == B["error"] and e.id == 0
                                  for e in got),
               "undecodable (%s): expected Error with id 0, got %r%s" %
               (what, got, " and a close" if closed else ""))
    SENT["frames"] += 6


def hostile_paths():
    """Every operation that takes a path, with paths that must be refused:
    each answers an Error, and nothing appears outside the root."""
    esc = [
        "../" + TOKEN, "../../" + TOKEN, "/../" + TOKEN, "a/../../" + TOKEN,
        "docs/../../" + TOKEN, "./../" + TOKEN, "/" + "../" * 20 + TOKEN,
        "..", "/..", "../..", "docs/../..", "deep/a/b/../../../../" + TOKEN,
        "../root/" + TOKEN, "../outside/" + TOKEN,
        TOKEN + "\0/../../x", "\0", "docs\0", "\0" + TOKEN,
        "a" * 5000, ("d" * 255 + "/") * 17 + TOKEN, "n" * 256,
        b"\xff\xfe" + TOKEN.encode(), b"\xc0\xaf" + TOKEN.encode(),
        b"\xc0\xae\xc0\xae/" + TOKEN.encode(), b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80", b"\x80", b"\xe2\x82", b"%s\xf8\x88\x80\x80\x80"
        % TOKEN.encode(),
        "a\x01b" + TOKEN, "a\nb" + TOKEN, "\x7f" + TOKEN, "\x1b[31m" + TOKEN,
        "out_abs/" + TOKEN, "out_rel/" + TOKEN, "docs/up_link/" + TOKEN,
        "out_abs/secret", "out_rel/secret", "docs/up_link/secret",
        "in_link/up_link/" + TOKEN,
    ]
    # Links that lead out: following them must fail (removing or renaming
    # the link itself is a legal operation inside the root).
    read_only = ["out_abs", "out_rel", "secret_link", "docs/up_link",
                 "in_link/up_link"]
    rid = 100

    def ops(p):
        return [
            ("mkdir", fb(1, p)), ("mkdir -p", fb(1, p + ("/x" if isinstance(
                p, str) else b"/x")) + fv(2, 1)),
            ("list", fb(1, p)), ("list -a", fb(1, p) + fv(2, 1)),
            ("stat", fb(1, p)), ("cd", fb(1, p)), ("rmdir", fb(1, p)),
            ("remove", fb(1, p)), ("rename from", fb(1, p) + fb(2, "ext/t")),
            ("rename to", fb(1, "victim.txt") + fb(2, p)),
            ("get", fb(1, p) + fv(2, CS)), ("sum", fb(1, p)),
            ("protect", fb(1, p) + fb(2, "code")),
            ("unprotect", fb(1, p) + fb(2, "code")),
            ("put_open", fb(1, p) + fv(2, 5) + fv(6, CS)),
        ]

    body_of = {"mkdir -p": "mkdir", "list -a": "list",
               "rename from": "rename", "rename to": "rename"}
    n = 0
    for p in esc:
        for opname, body in ops(p):
            rid += 1
            data = frame(envelope(rid, B[body_of.get(opname, opname)], body))
            if opname == "put_open":
                data += frame(envelope(rid, B["put_end"], fv(2, 1)))
            got, closed = BAT.run("%s %r" % (opname, p[:60]), data)
            n += 1
            t.expect(not closed and answered_error(got, rid),
                   "%s %r: expected one Error, got %r%s" %
                   (opname, p[:80], got[:4], " and a close" if closed else ""))
    for p in read_only:
        for opname, body in (("stat", fb(1, p)), ("list", fb(1, p)),
                             ("cd", fb(1, p)), ("get", fb(1, p) + fv(2, CS)),
                             ("sum", fb(1, p)),
                             ("mkdir", fb(1, p + "/" + TOKEN)),
                             ("put_open", fb(1, p + "/" + TOKEN) +
                              fv(2, 5) + fv(6, CS))):
            rid += 1
            data = frame(envelope(rid, B[opname], body))
            if opname == "put_open":
                data += frame(envelope(rid, B["put_end"], fv(2, 1)))
            got, closed = BAT.run("%s %r" % (opname, p), data)
            n += 1
            t.expect(not closed and answered_error(got, rid),
                   "%s %r: expected one Error, got %r" % (opname, p, got[:4]))
    SENT["frames"] += n + len(esc)
    t.note("hostile paths: %d paths x operations = %d requests, each "
           "answered with an Error" % (len(esc) + len(read_only), n))
    # rmdir of the root itself, in every spelling.
    for p in ("/", "", ".", "docs/..", "/./", "//"):
        rid += 1
        got, closed = BAT.run("rmdir %r" % p,
                              frame(envelope(rid, B["rmdir"], fb(1, p))))
        t.expect(answered_error(got, rid), "rmdir %r: expected an Error, got "
               "%r" % (p, got))
    with open(os.path.join(ROOT, "victim.txt"), "rb") as f:
        t.expect(f.read() == b"victim\n", "victim.txt changed")
    check_outside("the hostile paths")


def check_outside(after):
    t.expect(tree_state(OUTSIDE) == OUTSIDE_BEFORE,
           "after %s: the sentinel folder beside the root changed" % after)
    new = set(os.listdir(BASE)) - TOP_BEFORE
    new = {x for x in new if not re.match(r"server\.\d+\.(log|stderr)$", x)}
    t.expect(not new, "after %s: new entries beside the root: %s" %
           (after, sorted(new)))
    hits = []
    for d in (BASE, os.path.dirname(BASE), STATE, OUTSIDE, "/", "/etc"):
        try:
            hits += [os.path.join(d, x) for x in os.listdir(d) if TOKEN in x]
        except OSError:
            pass
    for dirpath, dirnames, filenames in os.walk(BASE):
        if dirpath == BASE:
            dirnames[:] = [x for x in dirnames if x != "root"]
        hits += [os.path.join(dirpath, x) for x in dirnames + filenames
                 if TOKEN in x]
    t.expect(not hits, "after %s: escaping names appeared outside the root: "
           "%s" % (after, hits))


# ------------------------------------------------------------ extremes

BIG = FRAME_MAX - 64
VALUES = {
    "u32": [0, 1, 1 << 31, U32, U32 + 1, U64],
    "u64": [0, 1, 1 << 63, U64],
    "i64": [-1, -(1 << 63), (1 << 63) - 1, 0],
    "bool": [1, 2, U64],
    "enum": [1, 99, (1 << 31) - 1, -1],
    "bytes": [b"", b"\0", b"\xff" * 32, b"\xff" * 33, b"A" * 4097,
              b"\xc3\x28", BIG],
    "msg": [b"", b"\xff\xff\xff\xff", b"\x0a\x00", fv(2, 99) + fv(3, U64) +
            fv(4, -1) + fv(5, U32) + fv(6, U32) + fv(7, 1)],
}
# Request types and their fields (proto/wharf.proto).
MSGS = {
    "list": [(1, "bytes"), (2, "bool")],
    "stat": [(1, "bytes")],
    "cd": [(1, "bytes")],
    "pwd": [],
    "mkdir": [(1, "bytes"), (2, "bool")],
    "rmdir": [(1, "bytes")],
    "remove": [(1, "bytes"), (2, "bytes")],
    "rename": [(1, "bytes"), (2, "bytes"), (3, "bytes")],
    "ping": [(1, "bytes")],
    "get": [(1, "bytes"), (2, "u32"), (3, "enum"), (4, "u64"), (5, "bytes"),
            (6, "enum"), (7, "u32"), (8, "bytes"), (9, "bool"), (10, "u64"),
            (11, "u64")],
    "sum": [(1, "bytes"), (2, "enum"), (3, "bytes")],
    "cancel": [(1, "u32")],
    "probe": [(1, "u32"), (2, "bytes")],
    "protect": [(1, "bytes"), (2, "bytes"), (3, "bytes")],
    "unprotect": [(1, "bytes"), (2, "bytes")],
    "put_open": [(1, "bytes"), (2, "u64"), (3, "i64"), (4, "u32"),
                 (5, "u32"), (6, "u32"), (7, "enum"), (8, "bool"),
                 (9, "bytes"), (10, "bool"), (11, "u64"), (12, "u64"),
                 (13, "bytes")],
    "stripe_commit": [(1, "bytes"), (2, "bytes")],
    # Outside a delta transfer (see delta_attacks() for inside).
    "delta_index": [(1, "msg"), (2, "bool")],
    # Sent inside an open upload (see extremes()).
    "chunk": [(1, "u32"), (2, "u32"), (3, "bytes"), (4, "bool"),
              (5, "bytes"), (6, "bool")],
    "put_end": [(1, "bytes"), (2, "bool")],
    # Response types: any content is still "not a request".
    "auth": [(1, "bytes"), (2, "bytes")],
    "auth_ok": [(1, "bytes"), (2, "bool"), (3, "bytes"), (4, "u32"),
                (5, "bytes")],
    "join": [(1, "bytes")],
    "error": [(1, "enum"), (2, "bytes")],
    "list_part": [(1, "msg"), (2, "bool")],
    "stat_reply": [(1, "msg"), (2, "bytes")],
    "cwd": [(1, "bytes")],
    "pong": [(1, "bytes")],
    "put_ready": [(1, "u64"), (2, "bytes")],
    "put_done": [(1, "u64"), (2, "u64"), (3, "u64")],
    "get_info": [(1, "u64"), (2, "i64"), (3, "u32"), (4, "u32"), (5, "u64"),
                 (6, "u32"), (7, "bool")],
    "get_end": [(1, "bytes")],
    "sum_reply": [(1, "bytes"), (2, "u64")],
    "probe_reply": [(1, "bytes")],
}
# Fields that need a sensible value for the others to be reached.
BASELINE = {
    "get": {1: b"data.bin", 2: CS},
    "sum": {1: b"data.bin"},
    "stat": {1: b"docs"},
    "list": {1: b"docs"},
    "protect": {1: b"ext/none"},
    "unprotect": {1: b"ext/none"},
    "remove": {1: b"ext/none"},
    "rename": {1: b"ext/none", 2: b"ext/none2"},
    "mkdir": {1: b"ext/mk"},
    "rmdir": {1: b"ext/none"},
    "put_open": {1: b"ext/put_target", 6: CS},
    "chunk": {1: 0, 2: CS},
    "probe": {1: 16},
}


def encode_field(num, kind, value):
    if kind in ("bytes", "msg"):
        if isinstance(value, int):
            value = b"B" * value
        return fb(num, value)
    return fv(num, value)


def encode_msg(fields, over=None):
    """fields: {num: (kind, value)}."""
    return b"".join(encode_field(n, k, v) for n, (k, v) in
                    sorted(fields.items()))


def extreme_bodies(name):
    """(label, body) pairs: each field alone at each extreme (over the
    baseline), all fields at their maxima at once, and unknown fields."""
    spec = MSGS[name]
    kinds = dict(spec)
    base = {n: (kinds[n], v) for n, v in BASELINE.get(name, {}).items()}
    out = []
    for num, kind in spec:
        for v in VALUES[kind]:
            f = dict(base)
            f[num] = (kind, v)
            label = "field %d = %s" % (num, ("%d bytes" % v) if (
                kind in ("bytes", "msg") and isinstance(v, int)) else (
                repr(v)[:24]))
            out.append((label, encode_msg(f)))
        # The wrong wire type for this field.
        wrong = fv(num, 7) if kind in ("bytes", "msg") else fb(num, b"xy")
        out.append(("field %d with the wrong wire type" % num,
                    encode_msg(base) + wrong))
    if spec:
        allmax = {}
        for num, kind in spec:
            v = VALUES[kind][-1] if kind not in ("bytes", "msg") else (
                b"\xff" * 4097 if kind == "bytes" else VALUES["msg"][-1])
            allmax[num] = (kind, v)
        out.append(("every field at its maximum", encode_msg(allmax)))
    out.append(("unknown fields", encode_msg(base) + fv(99, U64) +
                fb(100, os.urandom(64)) + tag(101, 5) + b"\xff" * 4 +
                tag(102, 1) + b"\xff" * 8 + fv(536870911, 1)))
    return out


def extremes():
    rid = 10000
    total = 0
    for name in MSGS:
        for label, body in extreme_bodies(name):
            rid += 1
            what = "%s with %s" % (name, label)
            if name == "chunk":
                # Inside an upload of 100000 bytes (two 64 KiB chunks).
                data = (frame(envelope(rid, B["put_open"],
                                       fb(1, "ext/chunky") + fv(2, 100000) +
                                       fv(6, CS))) +
                        frame(envelope(rid, B["chunk"], body)) +
                        frame(envelope(rid, B["put_end"], fv(2, 1))))
            elif name == "put_end":
                data = (frame(envelope(rid, B["put_open"],
                                       fb(1, "ext/ended") + fv(2, 0) +
                                       fv(6, CS))) +
                        frame(envelope(rid, B["put_end"], body)))
            elif name == "put_open":
                data = (frame(envelope(rid, B["put_open"], body)) +
                        frame(envelope(rid, B["put_end"], fv(2, 1))))
            else:
                data = frame(envelope(rid, B[name], body))
            got, closed = BAT.run(what, data)
            total += 1
            mine = finals(got, rid)
            undecodable = [e for e in got if e.id == 0 and
                           e.body == B["error"] and
                           e.code == ERR["PROTOCOL"]]
            if name == "cancel":
                ok = not closed and not [e for e in got if e.id == rid]
            else:
                # Its one final answer, or (a message that does not
                # decode or validate) one Error with id 0, or a close.
                ok = closed or len(mine) == 1 or (
                    not mine and len(undecodable) == 1)
            t.expect(ok, "%s: expected exactly one final answer (none for a "
                   "Cancel), got %r%s" % (what, got[:6],
                                         " and a close" if closed else ""))
            # The id itself at its extremes, on a harmless request.
    for rid2 in (0, 1, U32, U32 + 1, U64, -1):
        got, closed = BAT.run("a Ping with id %d" % rid2, frame(
            fv(1, rid2) + fb(B["ping"], fb(1, b"x"))))
        t.expect(not closed and any(e.body == B["pong"] for e in got),
               "a Ping with id %d: %r" % (rid2, got))
        total += 1
    SENT["frames"] += total * 2
    t.note("extremes: %d messages with fields at their extremes, %d "
           "sessions closed by the server, %d logins" %
           (total, BAT.closes, BAT.logins))
    check_outside("the extremes")


def upload_state_machine():
    """The transfer state machine out of order, and chunk sizes out of
    range, each on its own: the spec says which ones end the session."""
    cases = [
        ("a Chunk outside an upload",
         frame(envelope(41, B["chunk"], chunk_msg(0, b"x" * 10))), 41, True),
        ("a PutEnd outside an upload",
         frame(envelope(42, B["put_end"], fb(1, b"\0" * 32))), 42, True),
        ("a second PutOpen while one is open",
         frame(envelope(43, B["put_open"], fb(1, "ext/p1") + fv(2, 10) +
                        fv(6, CS))) +
         frame(envelope(44, B["put_open"], fb(1, "ext/p2") + fv(2, 10) +
                        fv(6, CS))), 44, True),
        ("a Chunk for another upload's id",
         frame(envelope(45, B["put_open"], fb(1, "ext/p3") + fv(2, 10) +
                        fv(6, CS))) +
         frame(envelope(46, B["chunk"], chunk_msg(0, b"x" * 10))), 46, True),
    ]
    for cs in (0, 1, CS - 1, 4 * 1024 * 1024 + 1, U32):
        cases.append(("PutOpen with chunk_size %d" % cs,
                      frame(envelope(47, B["put_open"], fb(1, "ext/cs") +
                                     fv(2, 1000) + fv(6, cs))) +
                      frame(envelope(47, B["put_end"], fv(2, 1))), 47, False))
        cases.append(("GetReq with chunk_size %d" % cs,
                      frame(envelope(48, B["get"], fb(1, "data.bin") +
                                     fv(2, cs))), 48, False))
    size = 100000
    data = os.urandom(size)
    c0, c1 = data[:CS], data[CS:]
    cases += [
        ("chunks out of order",
         frame(envelope(50, B["put_open"], fb(1, "ext/o") + fv(2, size) +
                        fv(6, CS))) +
         frame(envelope(50, B["chunk"], chunk_msg(1, c1))) +
         frame(envelope(50, B["put_end"], fv(2, 1))), 50, False),
        ("a chunk with a wrong hash",
         frame(envelope(51, B["put_open"], fb(1, "ext/h") + fv(2, size) +
                        fv(6, CS))) +
         frame(envelope(51, B["chunk"], chunk_msg(0, c0, b"\0" * 32))) +
         frame(envelope(51, B["put_end"], fv(2, 1))), 51, False),
        ("a chunk past the end",
         frame(envelope(52, B["put_open"], fb(1, "ext/e") + fv(2, 10) +
                        fv(6, CS))) +
         frame(envelope(52, B["chunk"], chunk_msg(0, b"y" * 10))) +
         frame(envelope(52, B["chunk"], chunk_msg(1, b"y" * 10))) +
         frame(envelope(52, B["put_end"], fv(2, 1))), 52, False),
        ("a compressed chunk that is not zstd",
         frame(envelope(53, B["put_open"], fb(1, "ext/z") + fv(2, size) +
                        fv(6, CS))) +
         frame(envelope(53, B["chunk"], fv(1, 0) + fv(2, CS) +
                        fb(3, blake(c0)) + fv(4, 1) + fb(5, b"\x28\xb5"))) +
         frame(envelope(53, B["put_end"], fv(2, 1))), 53, False),
        ("PutEnd with a wrong file hash",
         frame(envelope(54, B["put_open"], fb(1, "ext/w") + fv(2, size) +
                        fv(6, CS))) +
         frame(envelope(54, B["chunk"], chunk_msg(0, c0))) +
         frame(envelope(54, B["chunk"], chunk_msg(1, c1))) +
         frame(envelope(54, B["put_end"], fb(1, b"\x01" * 32))), 54, False),
        ("PutEnd after one of two chunks",
         frame(envelope(55, B["put_open"], fb(1, "ext/s") + fv(2, size) +
                        fv(6, CS))) +
         frame(envelope(55, B["chunk"], chunk_msg(0, c0))) +
         frame(envelope(55, B["put_end"], fb(1, b"\x01" * 32))), 55, False),
    ]
    for what, data_, rid, must_close in cases:
        got, closed = BAT.run(what, data_)
        if must_close:
            t.expect(closed and any(e.body == B["error"] for e in got),
                   "%s: expected an Error and a close, got %r%s" %
                   (what, got, " and a close" if closed else ""))
        else:
            t.expect(not closed and answered_error(got, rid),
                   "%s: expected one Error and the session going on, got "
                   "%r%s" % (what, got, " and a close" if closed else ""))
    for name in ("o", "h", "e", "z", "w", "s", "cs", "p1", "p2", "p3"):
        t.expect(not os.path.exists(os.path.join(ROOT, "ext", name)),
               "a refused upload left a final file ext/%s" % name)
    # A correct upload through the same raw client, to prove the refusals
    # above are not because it cannot upload at all.
    fh = file_digest([blake(c0), blake(c1)], CS, size)
    got, closed = BAT.run("a correct two-chunk upload",
                          frame(envelope(60, B["put_open"], fb(1, "ext/good") +
                                         fv(2, size) + fv(6, CS))) +
                          frame(envelope(60, B["chunk"], chunk_msg(0, c0))) +
                          frame(envelope(60, B["chunk"], chunk_msg(1, c1))) +
                          frame(envelope(60, B["put_end"], fb(1, fh))))
    t.expect(any(e.id == 60 and e.body == B["put_done"] for e in got),
           "the correct raw upload: %r" % got)
    try:
        with open(os.path.join(ROOT, "ext", "good"), "rb") as f:
            t.expect(f.read() == data, "the correct raw upload: wrong bytes")
    except OSError as e:
        t.soft_fail("the correct raw upload: %s" % e)
    SENT["frames"] += 60


def join_attacks():
    """Join (docs/protocol.md section 9.9): a live session's token lets
    another connection in; anything else is refused like a wrong
    password, and the token dies with the connection that logged in."""
    owner = Conn(srv.port)
    owner.handshake(True)
    e = owner.auth(USER, PW)
    token = field(parse(e.data), 5, b"") if e.body == B["auth_ok"] else b""
    if not t.expect(len(token) == 32, "AuthOk carries no 32-byte session "
                  "token: %r" % e):
        return
    joiner = Conn(srv.port)
    joiner.handshake(True)
    joiner.send(frame(envelope(1, B["join"], fb(1, token))))
    e = joiner.read_env(10)
    t.expect(e.body == B["auth_ok"], "a Join with a live token: %r" % e)
    got = joiner.request(2, B["mkdir"], fb(1, "ext/joined"))
    t.expect(got[-1].body == B["ok"], "mkdir on a joined connection: %r" % got)
    flipped = bytes([token[0] ^ 1]) + token[1:]
    cases = [("a random token", os.urandom(32)), ("an empty token", b""),
             ("31 bytes of the token", token[:31]),
             ("the token and one byte more", token + b"x"),
             ("the token with one bit flipped", flipped),
             ("a 65000-byte token", token * 2031)]

    def one(i, tok):
        c = Conn(srv.port, source="127.0.0.%d" % (60 + i))
        try:
            c.handshake(True)
            c.send(frame(envelope(1, B["join"], fb(1, tok))))
            try:
                e = c.read_env(15)
            except Closed:
                return None
            return "logged in!" if e.body == B["auth_ok"] else (
                None if e.body == B["error"] else "answered %r" % e)
        except (Timeout, ValueError) as ex:
            return "%s: %s" % (type(ex).__name__, ex)
        finally:
            c.close()

    with concurrent.futures.ThreadPoolExecutor(len(cases)) as ex:
        futs = [ex.submit(one, i, tok) for i, (_, tok) in enumerate(cases)]
        for (what, _), fut in zip(cases, futs):
            SENT["cases"] += 1
            r = fut.result()
            t.expect(r is None, "Join with %s: %s" % (what, r))
    # The owner leaves: the token must die with it, and the joined
    # connection may act for the user no longer.
    owner.close()
    time.sleep(1.0)
    c = Conn(srv.port, source="127.0.0.70")
    c.handshake(True)
    c.send(frame(envelope(1, B["join"], fb(1, token))))
    try:
        e = c.read_env(15)
        t.expect(e.body != B["auth_ok"], "a Join with the token of a session "
               "that has ended was accepted")
    except Closed:
        t.ok()
    c.close()
    try:
        got = joiner.request(3, B["mkdir"], fb(1, "ext/after_owner_left"))
        acted = got[-1].body == B["ok"]
    except (Closed, Timeout):
        acted = False
    joiner.close()
    t.expect(not acted and not os.path.isdir(
        os.path.join(ROOT, "ext", "after_owner_left")),
        "a joined connection still acts for the user after the connection "
        "that logged in has gone (docs/protocol.md section 9.9: \"for as "
        "long as the connection that logged in lives\")")
    server_check("Join")


def delta_attacks():
    """Delta downloads with hostile indexes, a ref chunk in a delta upload
    that names a block the server never listed, and a striped range that
    is never committed."""
    def block(i):
        return fb(1, fv(1, 65536 + i % 1000) + fb(2, os.urandom(32)))

    part = b"".join(block(i) for i in range(8192))
    # 33 full parts: 270 336 blocks, over the 262 144 the server keeps.
    data = frame(envelope(70, B["get"], fb(1, "data.bin") + fv(2, CS) +
                          fv(9, 1)))
    for k in range(33):
        data += frame(envelope(70, B["delta_index"],
                               part + fv(2, 1 if k == 32 else 0)))
    got, closed = BAT.run("a delta GetReq with 270 336 indexed blocks", data,
                          timeout=60)
    t.expect(not closed and any(e.id == 70 and e.body == B["get_end"]
                              for e in got),
           "a delta GetReq with an over-long index: %r" % got[-3:])
    big = b"".join(block(i) for i in range(20000))
    got, closed = BAT.run(
        "a DeltaIndex part of 20 000 blocks (more than 8192)",
        frame(envelope(71, B["get"], fb(1, "data.bin") + fv(2, CS) +
                       fv(9, 1))) +
        frame(envelope(71, B["delta_index"], big + fv(2, 1))))
    t.expect(closed or len(finals(got, 71)) == 1,
           "an oversized DeltaIndex part: %r" % got[-3:])
    got, closed = BAT.run(
        "a delta GetReq followed by something else",
        frame(envelope(72, B["get"], fb(1, "data.bin") + fv(2, CS) +
                       fv(9, 1))) +
        frame(envelope(73, B["mkdir"], fb(1, "ext/" + TOKEN))))
    t.expect(closed or answered_error(got, 72),
           "a delta GetReq without its index: %r" % got)
    t.expect(not os.path.exists(os.path.join(ROOT, "ext", TOKEN)),
           "the request sent in place of a DeltaIndex was carried out")
    # A delta upload over ext/small.bin: the server lists its blocks; a
    # ref to a block it did not list is PROTOCOL.
    c = BAT.c()
    try:
        c.send(frame(envelope(74, B["put_open"], fb(1, "ext/small.bin") +
                              fv(2, 100000) + fv(6, CS) + fv(10, 1))))
        got = []
        while True:
            e = c.read_env(10)
            got.append(e)
            if e.id == 74 and (e.is_final() or (
                    e.body == B["delta_index"] and field(parse(e.data), 2)) or
                    e.body == B["put_ready"]):
                break
        t.expect(any(e.body == B["delta_index"] for e in got),
               "PutOpen{delta} over an existing file: no DeltaIndex: %r" % got)
        got, closed = BAT.run(
            "a ref chunk to a block never listed",
            frame(envelope(74, B["chunk"], fv(1, 0) + fv(2, 4096) +
                           fb(3, os.urandom(32)) + fv(6, 1))) +
            frame(envelope(74, B["put_end"], fv(2, 1))))
        t.expect(answered_error(got, 74, [ERR["PROTOCOL"], ERR["BAD_HASH"]]),
               "a ref to an unlisted block: %r" % got)
    except (Closed, Timeout, ValueError) as ex:
        t.soft_fail("a delta upload: %s: %s" % (type(ex).__name__, ex))
        BAT.drop()
    with open(os.path.join(ROOT, "ext", "small.bin"), "rb") as f:
        t.expect(len(f.read()) == 100000, "ext/small.bin changed")
    # A striped range, uploaded and never committed: its partial (with
    # holes) goes when the session ends.
    size = 3 * CS
    c0 = os.urandom(CS)
    stripe = os.urandom(16)
    got, closed = BAT.run(
        "one range of a striped upload",
        frame(envelope(75, B["put_open"], fb(1, "ext/striped") +
                       fv(2, size) + fv(6, CS) + fv(11, 0) + fv(12, CS) +
                       fb(13, stripe))) +
        frame(envelope(75, B["chunk"], chunk_msg(0, c0))) +
        frame(envelope(75, B["put_end"],
                       fb(1, file_digest([blake(c0)], CS, CS)))))
    t.expect(any(e.id == 75 and e.body == B["put_done"] for e in got),
           "a striped range: %r" % got)
    got, closed = BAT.run(
        "a StripeCommit with a missing range",
        frame(envelope(76, B["stripe_commit"], fb(1, stripe) +
                       fb(2, os.urandom(32)))))
    t.expect(answered_error(got, 76), "a StripeCommit with ranges missing: %r"
           % got)
    BAT.drop()
    part_path = os.path.join(ROOT, "ext", ".striped.wharf-part")
    end = time.monotonic() + 5
    while os.path.exists(part_path) and time.monotonic() < end:
        time.sleep(0.05)
    t.expect(not os.path.exists(part_path) and
           not os.path.exists(os.path.join(ROOT, "ext", "striped")),
           "an uncommitted striped upload left %s" % sorted(
               x for x in os.listdir(os.path.join(ROOT, "ext"))
               if "striped" in x))
    SENT["frames"] += 45
    server_check("delta and stripes")


def zero_length_frame():
    """docs/protocol.md section 3: a length of 0 is invalid and the
    connection is closed. The answer must be a close, not a loop."""
    got, closed = BAT.run("a zero-length frame after login", b"\0\0\0\0",
                          timeout=5, max_frames=1000)
    t.expect(closed and len(got) <= 2,
           "a zero-length frame after login: expected the connection closed "
           "(spec section 3), got %d answers%s" %
           (len(got), " and a close" if closed else " and no close"))
    BAT.drop()
    SENT["frames"] += 1


def corpus_replay():
    """Every file of fuzz/corpus/session/ as the post-login stream of a
    plaintext session (frame lengths clamped to what is left, as the
    session fuzzer does), then the barrier."""
    if not os.path.isdir(CORPUS_DIR):
        print("SKIP: test_hostile: no %s, corpus replay skipped" %
              CORPUS_DIR)
        return
    names = sorted(os.listdir(CORPUS_DIR))[:CORPUS_MAX]
    frames_sent = 0
    for name in names:
        with open(os.path.join(CORPUS_DIR, name), "rb") as f:
            data = f.read()
        out = bytearray()
        pos = 0
        while len(data) - pos >= 4:
            n = min(int.from_bytes(data[pos:pos + 4], "big"),
                    len(data) - pos - 4)
            out += n.to_bytes(4, "big") + data[pos + 4:pos + 4 + n]
            pos += 4 + n
            frames_sent += 1
        tail = data[pos:]
        # A fresh working directory for each file.
        got, closed = BAT.run("corpus %s" % name,
                              frame(envelope(SYNC_ID - 1, B["cd"],
                                             fb(1, "/"))) + bytes(out),
                              timeout=20, max_frames=20000)
        if tail and BAT.conn is not None:
            try:
                BAT.conn.send(tail)
            except (Closed, Timeout):
                pass
            BAT.drop()
        t.ok()  # replayed: answered or closed, no hang, server alive
    SENT["frames"] += frames_sent
    t.note("fuzz corpus replay: %d files, %d frames" % (len(names),
                                                       frames_sent))
    check_outside("the corpus replay")


# ==================================================== 3. guessing

def guessing():
    """Failed logins from one address are answered later and later (1 s,
    2 s, 4 s, but never after the login deadline: on a slow machine the
    third is answered at the deadline); another address is not held up.
    On a server of its own, so that nothing else has failed from these
    addresses."""
    if os.environ.get("REL_SKIP_GUESSING"):
        print("SKIP: test_hostile: REL_SKIP_GUESSING set")
        return
    gsrv = t.start_server(os.path.join(BASE, "groot"), STATE,
                          "--allow-plaintext")
    c = Conn(gsrv.port, source="127.0.0.1")
    e = c.handshake(True)
    times = []
    age = 0.0
    for i in range(3):
        t0 = time.monotonic()
        try:
            e = c.auth(USER, "wrong %d" % i, rid=i + 1, timeout=40)
        except Closed:
            # A slow machine: a failure answered at the deadline is
            # the last (docs/protocol.md 7).
            t.expect(9.5 <= age <= 12.5, "guessing: closed after %d "
                     "failures, %.2f s after connecting" % (i, age))
            break
        times.append(time.monotonic() - t0)
        age = time.monotonic() - c.t_open
        t.expect(e.body == B["error"] and e.code == ERR["AUTH_FAILED"],
               "guessing: failure %d answered %r" % (i + 1, e))
    closed = c.wait_closed(5)
    t.expect(closed is not None, "guessing: still open after 3 failures")
    c.close()
    if len(times) < 3:
        t.note("failed logins from 127.0.0.1 answered after %s s, the "
               "last at the deadline" % ", ".join("%.2f" % x for x in times))
    if len(times) == 3:
        t.note("failed logins from 127.0.0.1 answered after %.2f s, %.2f s, "
               "%.2f s" % tuple(times))
        # docs/protocol.md 7: the 4 s pause, or the deadline (10 s).
        cut = 9.5 <= age <= 12.5
        t.expect(cut or (times[2] >= 3.0 and times[2] >= times[0] + 1.5),
               "guessing: the third failure took %.2f s (%.2f s after "
               "connecting), the first %.2f s: no growing delay" %
               (times[2], age, times[0]))
    # Another address: the normal first-failure pause, then a login.
    c = Conn(gsrv.port, source="127.0.0.2")
    c.handshake(True)
    t0 = time.monotonic()
    e = c.auth(USER, "wrong again", rid=1)
    other = time.monotonic() - t0
    # About one second plus the Argon2id check; well below the third
    # failure from 127.0.0.1 (loose bounds: CI machines are busy).
    t.expect(e.body == B["error"] and other < 3.5 and
           (len(times) < 3 or other < times[2] - 1.0),
           "guessing: the first failure from 127.0.0.2 took %.2f s (%r)" %
           (other, e))
    t0 = time.monotonic()
    e = c.auth(USER, PW, rid=2)
    good = time.monotonic() - t0
    t.expect(e.body == B["auth_ok"] and good < 5.0,
           "guessing: the right password from 127.0.0.2 after %.2f s: %r" %
           (good, e))
    t.note("127.0.0.2 meanwhile: failure answered after %.2f s, the right "
           "password accepted after %.2f s" % (other, good))
    c.close()
    gsrv.stop()


# ============================================================== main

def main():
    t0 = time.monotonic()
    preface_attacks()
    before_auth()
    auth_extremes()
    good_client("the pre-login attacks")
    framing_attacks()
    good_client("the framing attacks")
    hostile_paths()
    good_client("the hostile paths")
    upload_state_machine()
    good_client("the upload state machine")
    join_attacks()
    delta_attacks()
    good_client("the Join and delta attacks")
    extremes()
    good_client("the extremes")
    corpus_replay()
    good_client("the corpus replay")
    zero_length_frame()
    good_client("a zero-length frame")
    BAT.drop()
    check_outside("everything")
    guessing()
    t.server = srv
    srv.proc.terminate()
    try:
        rc = srv.proc.wait(10)
    except Exception:
        srv.proc.kill()
        rc = srv.proc.wait()
    t.expect(rc == 0 and not re.search(r"Sanitizer|runtime error:",
                                     srv.stderr_text()),
           "the server at SIGTERM: exit %s, stderr %r" %
           (rc, srv.stderr_text()[:2000]))
    t.note("hostile inputs: %d cases, about %d frames, in %.1f s" %
           (SENT["cases"], SENT["frames"], time.monotonic() - t0))
    t.finish()


main()
