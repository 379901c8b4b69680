#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Quotas against a raw peer (rel_wire.py), each case with its own user,
home and 2 MiB quota, so that the cases cannot disturb each other:

- pipelined: 30 uploads of 1 MiB sent back to back on one connection,
  without waiting for an answer (the small ones wait for a group commit):
  at most 2 MiB is committed, the others are refused with TOO_LARGE, and
  no partial is left behind; removing the files gives the room back;
- joined: 8 connections joined to one login each open a 2 MiB upload
  before any of them sends data: at most one of them commits;
- deep: a file 200 folders below the home counts against the quota;
- striped: two striped uploads of 2 MiB, both open before either is
  committed: the second is refused, and the first commits.

The quota is a reservation held by the user's home: what a PutOpen is
granted stays reserved until its commit or its end, whichever session or
connection it came from (docs/protocol.md section 10.1).
"""

import os
import shutil
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rel_wire import (B, ERR, Closed, Conn, Test, Timeout,  # noqa: E402
                      blake, chunk_msg, envelope, fb, field, file_digest,
                      frame, fv, give_tree, parse, session)

MIB = 1 << 20
QUOTA = 2 * MIB
CS = MIB  # one chunk per MiB: fewer frames

t = Test("test_quota", 200)
ROOT = os.path.join(t.tmp, "root")
STATE = os.path.join(t.tmp, "state")
PW = "quota pw 7"
USERS = ("pipe", "joined", "deep", "striped")
for u in USERS:
    t.add_user(STATE, u, PW, "--home", "homes/" + u, "--quota", "2M")
srv = t.start_server(ROOT, STATE, "--allow-plaintext", "--idle-timeout",
                     "60")


def home(user):
    return os.path.join(ROOT, "homes", user)


def home_files(user):
    """{relative path: size} of every regular file in the home."""
    out = {}
    for dirpath, _, filenames in os.walk(home(user)):
        for name in filenames:
            p = os.path.join(dirpath, name)
            if os.path.isfile(p) and not os.path.islink(p):
                out[os.path.relpath(p, home(user))] = os.path.getsize(p)
    return out


def put_open(rid, path, size, resume=False, extra=b""):
    return frame(envelope(rid, B["put_open"], fb(1, path) + fv(2, size) +
                          fv(6, CS) + (fv(8, 1) if resume else b"") + extra))


def chunks_and_end(rid, data, first=0, whole=None):
    """Chunk frames for data (which starts at chunk first) and a PutEnd
    whose digest covers them (or whole's digest, if given)."""
    out = b""
    hashes = []
    for i in range(0, len(data), CS):
        raw = data[i:i + CS]
        hashes.append(blake(raw))
        out += frame(envelope(rid, B["chunk"],
                              chunk_msg(first + i // CS, raw)))
    digest = file_digest(hashes, CS, len(data))
    return out + frame(envelope(rid, B["put_end"], fb(1, whole or digest)))


def upload(rid, path, data):
    return put_open(rid, path, len(data)) + chunks_and_end(rid, data)


def answers(frames):
    """{request id: final Env} of the frames a sync() returned."""
    out = {}
    for e in frames:
        if e.is_final():
            out[e.id] = e
    return out


def no_partials(user, what):
    left = [p for p in home_files(user) if p.endswith(".wharf-part")]
    t.expect(not left, "%s: partials left behind: %r" % (what, left))


def committed(user):
    return sum(s for p, s in home_files(user).items()
               if not p.endswith(".wharf-part"))


# ---------------------------------------------------------------- cases

def pipelined():
    """One connection, 30 uploads of 1 MiB pipelined: the group commit
    must not let the uploads waiting in its batch pass the quota."""
    c = session(srv.port, "pipe", PW)
    n = 30
    blobs = [os.urandom(MIB) for _ in range(n)]
    data = b"".join(upload(100 + i, "f%02d" % i, blobs[i]) for i in range(n))
    c.send(data, timeout=60)
    got = answers(c.sync(timeout=60))
    done = [i for i in range(n) if got.get(100 + i) is not None and
            got[100 + i].body == B["put_done"]]
    refused = [i for i in range(n) if got.get(100 + i) is not None and
               got[100 + i].code == ERR["TOO_LARGE"]]
    other = [got.get(100 + i) for i in range(n)
             if i not in done and i not in refused]
    t.expect(not other, "pipelined: answers neither PutDone nor TOO_LARGE: "
             "%r" % other[:5])
    t.expect(len(done) * MIB <= QUOTA,
             "pipelined: %d uploads of 1 MiB got PutDone against a 2 MiB "
             "quota" % len(done))
    t.expect(len(done) >= 1, "pipelined: nothing committed at all")
    t.expect(committed("pipe") <= QUOTA,
             "pipelined: %d bytes committed against a 2 MiB quota: %r" %
             (committed("pipe"), sorted(home_files("pipe"))))
    for i in done:
        with open(os.path.join(home("pipe"), "f%02d" % i), "rb") as f:
            t.expect(f.read() == blobs[i], "pipelined: f%02d differs" % i)
    for i in refused:
        t.expect(not os.path.exists(os.path.join(home("pipe"), "f%02d" % i)),
                 "pipelined: refused f%02d exists" % i)
    no_partials("pipe", "pipelined")
    if refused:
        t.expect("quota exceeded" in got[100 + refused[0]].message,
                 "pipelined: the refusal does not say why: %r" %
                 got[100 + refused[0]])
    # Removing the files gives their room back at once.
    for k, i in enumerate(done):
        r = c.request(200 + k, B["remove"], fb(1, "f%02d" % i))
        t.expect(r[-1].body == B["ok"], "pipelined: rm f%02d: %r" % (i, r))
    blob = os.urandom(QUOTA)
    c.send(upload(300, "after_rm", blob))
    got = answers(c.sync(timeout=60))
    t.expect(got.get(300) is not None and got[300].body == B["put_done"],
             "pipelined: 2 MiB after removing everything: %r" % got.get(300))
    c.close()


def joined():
    """8 joined connections, each with its own session state, each
    opening a 2 MiB upload before any data moves."""
    owner = Conn(srv.port)
    owner.handshake(True)
    e = owner.auth("joined", PW)
    token = field(parse(e.data), 5, b"") if e.body == B["auth_ok"] else b""
    if not t.expect(len(token) == 32, "joined: no session token: %r" % e):
        return
    conns = []
    for i in range(8):
        c = Conn(srv.port)
        c.handshake(True)
        c.send(frame(envelope(1, B["join"], fb(1, token))))
        e = c.read_env(10)
        t.expect(e.body == B["auth_ok"], "joined: Join %d: %r" % (i, e))
        conns.append(c)
    blobs = [os.urandom(QUOTA) for _ in conns]
    # All the PutOpens first: each asks for PutReady, so that its answer
    # comes before any chunk is sent.
    ready = []
    for i, c in enumerate(conns):
        c.send(put_open(10, "j%d" % i, QUOTA, resume=True))
    for i, c in enumerate(conns):
        e = c.read_env(20)
        if e.body == B["put_ready"]:
            ready.append(i)
        else:
            t.expect(e.code == ERR["TOO_LARGE"],
                     "joined: PutOpen %d: neither PutReady nor TOO_LARGE: "
                     "%r" % (i, e))
    done = 0
    for i in ready:
        c = conns[i]
        c.send(chunks_and_end(10, blobs[i]))
    for i in ready:
        try:
            e = conns[i].until_final(10, timeout=60)[-1]
        except (Closed, Timeout) as ex:
            t.soft_fail("joined: upload %d: %s" % (i, ex))
            continue
        done += e.body == B["put_done"]
    t.expect(done <= 1, "joined: %d of 8 joined connections each committed "
             "2 MiB against a 2 MiB quota" % done)
    t.expect(len(ready) >= 1, "joined: no upload was accepted at all")
    t.expect(committed("joined") <= QUOTA,
             "joined: %d bytes committed against a 2 MiB quota" %
             committed("joined"))
    for c in conns:
        c.close()
    owner.close()
    end = time.monotonic() + 10
    while time.monotonic() < end and any(
            p.endswith(".wharf-part") for p in home_files("joined")):
        time.sleep(0.05)
    no_partials("joined", "joined")


def deep():
    """A file far below the home (here 200 folders) is in the count."""
    d = home("deep")
    os.makedirs(d, exist_ok=True)
    p = d
    for _ in range(200):
        p = os.path.join(p, "d")
    os.makedirs(p)
    with open(os.path.join(p, "deep.bin"), "wb") as f:
        f.write(os.urandom(QUOTA))
    give_tree(d)
    c = session(srv.port, "deep", PW)
    c.send(put_open(10, "top.bin", 1000, resume=True))
    e = c.read_env(20)
    t.expect(e.code == ERR["TOO_LARGE"],
             "deep: 1000 bytes more with a 2 MiB file 200 folders down "
             "would pass the 2 MiB quota: expected TOO_LARGE, got %r" % e)
    c.close()
    shutil.rmtree(os.path.join(d, "d"))


def striped():
    """Two striped uploads of 2 MiB, both opened before either commits."""
    c = Conn(srv.port)
    c.handshake(True)
    e = c.auth("striped", PW)
    t.expect(e.body == B["auth_ok"], "striped: login: %r" % e)
    blobs = [os.urandom(QUOTA), os.urandom(QUOTA)]
    ids = [os.urandom(16), os.urandom(16)]
    got = {}
    for k in range(2):
        rid = 20 + k
        whole = file_digest([blake(blobs[k][i:i + CS])
                             for i in range(0, QUOTA, CS)], CS, QUOTA)
        c.send(put_open(rid, "s%d" % k, QUOTA,
                        extra=fv(11, 0) + fv(12, QUOTA) + fb(13, ids[k])) +
               chunks_and_end(rid, blobs[k]))
        got.update(answers(c.sync(timeout=60)))
        got["whole%d" % k] = whole
    t.expect(got.get(20) is not None and got[20].body == B["put_done"],
             "striped: the first range: %r" % got.get(20))
    t.expect(got.get(21) is not None and got[21].code == ERR["TOO_LARGE"],
             "striped: a second 2 MiB striped upload while the first waits "
             "for its commit: %r" % got.get(21))
    for k in range(2):
        c.send(frame(envelope(30 + k, B["stripe_commit"],
                              fb(1, ids[k]) + fb(2, got["whole%d" % k]))))
    got = answers(c.sync(timeout=60))
    t.expect(got.get(30) is not None and got[30].body == B["put_done"],
             "striped: the first commit: %r" % got.get(30))
    t.expect(committed("striped") <= QUOTA,
             "striped: %d bytes committed against a 2 MiB quota" %
             committed("striped"))
    c.close()


pipelined()
joined()
deep()
striped()
srv.check_alive("the quota cases")
srv.stop()
t.finish()
