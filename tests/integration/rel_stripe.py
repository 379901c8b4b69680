# SPDX-License-Identifier: MIT
"""Striped uploads on the raw wire (docs/protocol.md section 9.9), for
the concurrency tests (test_stripe_race.py, test_stripe_stress.py): one
login and the connections that join it, a range's PutOpen, chunks and
PutEnd, and StripeCommit. Standard library only; every read has a
deadline (rel_wire.Conn).
"""

import os

from rel_wire import (B, Conn, blake, chunk_msg, envelope, fb, field,
                      file_digest, frame, fv, parse)

CS = 65536  # the smallest chunk size: many chunks from little data


def login(port, user, password):
    """(owner connection, its 32-byte session token)."""
    c = Conn(port)
    e = c.handshake(True)
    if e.body != B["server_hello"]:
        raise ValueError("handshake refused: %r" % e)
    e = c.auth(user, password)
    if e.body != B["auth_ok"]:
        raise ValueError("login refused: %r" % e)
    token = field(parse(e.data), 5, b"")
    if len(token) != 32:
        raise ValueError("AuthOk without a session token: %r" % e)
    return c, token


def join(port, token):
    """A connection joined to the login that owns token."""
    c = Conn(port)
    e = c.handshake(True)
    if e.body != B["server_hello"]:
        raise ValueError("handshake refused: %r" % e)
    c.send(frame(envelope(1, B["join"], fb(1, token))))
    e = c.read_env(20)
    if e.body != B["auth_ok"]:
        raise ValueError("Join refused: %r" % e)
    return c


def chunks_of(data, cs=CS):
    return [data[i:i + cs] for i in range(0, len(data), cs)] or [b""]


def file_hash(data, cs=CS):
    """The whole file's digest, for StripeCommit."""
    return file_digest([blake(x) for x in chunks_of(data, cs)], cs, len(data))


def range_hash(data, off, ln, cs=CS):
    """The digest of one range's chunks, for its PutEnd."""
    part = data[off:off + ln]
    return file_digest([blake(x) for x in chunks_of(part, cs)], cs, ln)


def put_open(rid, path, size, stripe, off, ln, cs=CS):
    """The PutOpen frame of one range."""
    return frame(envelope(rid, B["put_open"],
                          fb(1, path) + fv(2, size) + fv(5, 0o644) +
                          fv(6, cs) + fv(11, off) + fv(12, ln) +
                          fb(13, stripe)))


def range_chunks(rid, data, off, ln, cs=CS, first=0, count=None):
    """Chunk frames of the range [off, off + ln) of data: count of them
    (all by default) starting with the range's chunk number first."""
    out = b""
    idx = off // cs + first
    end = (off + ln + cs - 1) // cs
    if count is not None:
        end = min(end, idx + count)
    while idx < end:
        raw = data[idx * cs:min((idx + 1) * cs, off + ln)]
        out += frame(envelope(rid, B["chunk"], chunk_msg(idx, raw)))
        idx += 1
    return out


def put_end(rid, data, off, ln, cs=CS, abort=False):
    if abort:
        return frame(envelope(rid, B["put_end"], fv(2, 1)))
    return frame(envelope(rid, B["put_end"], fb(1, range_hash(data, off, ln,
                                                              cs))))


def stripe_commit(rid, stripe, digest):
    return frame(envelope(rid, B["stripe_commit"], fb(1, stripe) +
                          fb(2, digest)))


def upload_range(c, rid, path, data, stripe, off, ln, cs=CS, timeout=30):
    """Sends a whole range; returns its final answer (PutDone or Error)."""
    c.send(put_open(rid, path, len(data), stripe, off, ln, cs) +
           range_chunks(rid, data, off, ln, cs) +
           put_end(rid, data, off, ln, cs))
    return c.until_final(rid, timeout)[-1]


def new_stripe():
    return os.urandom(16)
