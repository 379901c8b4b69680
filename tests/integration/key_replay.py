#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A key login signature is good for one session only (protocol.md §7.1).

Usage: key_replay.py PORT USER  (with SSH_AUTH_SOCK naming an ssh-agent
that holds USER's authorized Ed25519 key, and a server that allows
plaintext sessions).

Opens two plaintext sessions, has the agent sign session 1's login
message, and offers that signature in session 2: it must be refused.
Then it signs session 2's own message: that must be accepted, so the
refusal was about the session and not about the key. Standard library
only: the agent does the signing.
"""

import hashlib
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rel_wire import (B, FRAME_MAX_PREAUTH, MAGIC, PREFACE, Conn,  # noqa
                      client_hello, envelope, fb, field, frame, parse)

KEYAUTH = 1 << 4


def sshstr(b):
    return struct.pack(">I", len(b)) + b


def absorb(b):
    return struct.pack(">I", len(b)) + b


def agent_call(msg):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(os.environ["SSH_AUTH_SOCK"])
    s.sendall(struct.pack(">I", len(msg)) + msg)
    head = b""
    while len(head) < 4:
        head += s.recv(4 - len(head))
    n = struct.unpack(">I", head)[0]
    body = b""
    while len(body) < n:
        body += s.recv(n - len(body))
    s.close()
    return body


def agent_key():
    ans = agent_call(bytes([11]))
    assert ans[0] == 12, "agent: no identities answer"
    count = struct.unpack(">I", ans[1:5])[0]
    i = 5
    for _ in range(count):
        n = struct.unpack(">I", ans[i:i + 4])[0]
        blob = ans[i + 4:i + 4 + n]
        i += 4 + n
        n = struct.unpack(">I", ans[i:i + 4])[0]
        i += 4 + n
        t = struct.unpack(">I", blob[:4])[0]
        if blob[4:4 + t] == b"ssh-ed25519":
            return blob, blob[4 + t + 4:]
    sys.exit("the agent holds no ssh-ed25519 key")


def agent_sign(blob, data):
    ans = agent_call(bytes([13]) + sshstr(blob) + sshstr(data) +
                     struct.pack(">I", 0))
    assert ans[0] == 14, "agent refused to sign"
    sig = ans[5:]
    t = struct.unpack(">I", sig[:4])[0]
    return sig[4 + t + 4:]


def open_session(port):
    """A plaintext session before Auth, and its transcript hash TH."""
    c = Conn(port)
    hello = client_hello(plaintext=True, features=KEYAUTH)
    c.send(PREFACE + frame(hello))
    sp = c.read_exact(12)
    assert sp[:8] == MAGIC
    e = c.read_env(FRAME_MAX_PREAUTH)
    assert e.body == B["server_hello"], "handshake refused: %r" % e
    core = field(parse(e.data), 1, b"")
    th = hashlib.blake2b(absorb(b"wharf-v1 transcript") + absorb(PREFACE) +
                         absorb(hello) + absorb(sp) + absorb(core),
                         digest_size=32).digest()
    return c, th


def login_message(th, user, pk):
    return (sshstr(b"wharf-v1 user key login") + sshstr(th) +
            sshstr(user.encode()) + sshstr(pk))


def key_auth(c, user, pk, sig):
    c.send(frame(envelope(1, B["auth"], fb(1, user) + fb(3, pk) +
                          fb(4, sig))))
    return c.read_env(20)


def main():
    port, user = int(sys.argv[1]), sys.argv[2]
    blob, pk = agent_key()
    c1, th1 = open_session(port)
    c2, th2 = open_session(port)
    if th1 == th2:
        sys.exit("two sessions with one transcript hash")
    sig1 = agent_sign(blob, login_message(th1, user, pk))
    e = key_auth(c2, user, pk, sig1)
    if e.body != B["error"]:
        sys.exit("session 1's signature logged in session 2: %r" % e)
    print("replayed signature refused: %r" % e)
    sig2 = agent_sign(blob, login_message(th2, user, pk))
    e = key_auth(c2, user, pk, sig2)
    if e.body != B["auth_ok"]:
        sys.exit("session 2's own signature was refused: %r" % e)
    print("the session's own signature accepted")
    # And session 1 still accepts its own.
    e = key_auth(c1, user, pk, sig1)
    if e.body != B["auth_ok"]:
        sys.exit("session 1's own signature was refused: %r" % e)
    c1.close()
    c2.close()


if __name__ == "__main__":
    main()
