#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes tests/vectors/v1.txt: known-answer vectors for docs/protocol.md
(appendix A), computed from the document alone, by code that shares
nothing with the C implementation: X25519 and Ed25519 from python's
`cryptography` package, BLAKE2b and SHA-256 from hashlib, XSalsa20-Poly1305
written out below from the NaCl papers, AES-256-GCM from `cryptography`'s
AESGCM. tests/unit/test_vectors.c then
checks that the C implementation reproduces every value.

Not run by the test suite (CI has no python3-cryptography); run it by hand
after a change to the wire format: python3 tests/vectors/gen_vectors.py
"""

import hashlib
import os
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import \
    Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import \
    X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import (Encoding,
                                                          PublicFormat)

# ---------------------------------------------------------- protobuf


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def fv(field, value):
    return varint(field << 3) + varint(value) if value else b""


def fb(field, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(field << 3 | 2) + varint(len(data)) + data if data else b""


# ------------------------------------------------------ XSalsa20-Poly1305

M32 = 0xFFFFFFFF
SIGMA = (0x61707865, 0x3320646E, 0x79622D32, 0x6B206574)


def rotl(v, c):
    return ((v << c) & M32) | (v >> (32 - c))


def salsa_rounds(x):
    x = list(x)
    for _ in range(10):
        for a, b, c, d in ((0, 4, 8, 12), (5, 9, 13, 1), (10, 14, 2, 6),
                           (15, 3, 7, 11)):
            x[b] ^= rotl((x[a] + x[d]) & M32, 7)
            x[c] ^= rotl((x[b] + x[a]) & M32, 9)
            x[d] ^= rotl((x[c] + x[b]) & M32, 13)
            x[a] ^= rotl((x[d] + x[c]) & M32, 18)
        for a, b, c, d in ((0, 1, 2, 3), (5, 6, 7, 4), (10, 11, 8, 9),
                           (15, 12, 13, 14)):
            x[b] ^= rotl((x[a] + x[d]) & M32, 7)
            x[c] ^= rotl((x[b] + x[a]) & M32, 9)
            x[d] ^= rotl((x[c] + x[b]) & M32, 13)
            x[a] ^= rotl((x[d] + x[c]) & M32, 18)
    return x


def salsa_state(key, sixteen):
    k = struct.unpack("<8I", key)
    n = struct.unpack("<4I", sixteen)
    return [SIGMA[0], k[0], k[1], k[2], k[3], SIGMA[1], n[0], n[1], n[2],
            n[3], SIGMA[2], k[4], k[5], k[6], k[7], SIGMA[3]]


def hsalsa20(key, nonce16):
    x = salsa_rounds(salsa_state(key, nonce16))
    return struct.pack("<8I", *(x[i] for i in (0, 5, 10, 15, 6, 7, 8, 9)))


def salsa20_stream(key, nonce8, length):
    out = bytearray()
    counter = 0
    while len(out) < length:
        st = salsa_state(key, nonce8 + struct.pack("<Q", counter))
        x = salsa_rounds(st)
        out += struct.pack("<16I", *((x[i] + st[i]) & M32 for i in range(16)))
        counter += 1
    return bytes(out[:length])


def poly1305(key, msg):
    r = int.from_bytes(key[:16], "little") & \
        0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    s = int.from_bytes(key[16:], "little")
    p = (1 << 130) - 5
    acc = 0
    for i in range(0, len(msg), 16):
        n = int.from_bytes(msg[i:i + 16] + b"\x01", "little")
        acc = (acc + n) * r % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


def secretbox_detached(key, nonce24, msg):
    sub = hsalsa20(key, nonce24[:16])
    stream = salsa20_stream(sub, nonce24[16:], 32 + len(msg))
    ct = bytes(a ^ b for a, b in zip(msg, stream[32:]))
    return poly1305(stream[:32], ct), ct


# ---------------------------------------------------------- the protocol


def absorb(x):
    return struct.pack(">I", len(x)) + x


def preface(lo, hi):
    return b"\x89WHARF\r\n" + struct.pack(">HH", lo, hi)


def fixed(label, n=32):
    """Deterministic test bytes: BLAKE2b of a label, so anyone can
    re-derive the inputs."""
    return hashlib.blake2b(label.encode(), digest_size=n).digest()


def x25519_pub(sk):
    return X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)


def handshake(out, name, psk, aes=False):
    c_sk = fixed("wharf-v1 vector client ephemeral")
    s_sk = fixed("wharf-v1 vector server ephemeral")
    seed = fixed("wharf-v1 vector host seed")
    host = Ed25519PrivateKey.from_private_bytes(seed)
    host_pk = host.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    c_pk, s_pk = x25519_pub(c_sk), x25519_pub(s_sk)
    # Bit 6 (AES256GCM) offered and accepted: frames sealed as in 5.1.
    features = 0xF | (0x40 if aes else 0)
    cp = preface(1, 1)
    ch = fb(2, fv(1, 1) + fv(2, 1) + fv(3, features) + fb(4, c_pk) +
            fb(6, "vector client"))
    sp = preface(1, 1)
    core = (fv(1, 1) + fv(2, features) + fb(3, s_pk) + fb(4, host_pk) +
            fv(5, 1 if psk else 0) + fb(7, "vector server"))
    th = hashlib.blake2b(absorb(b"wharf-v1 transcript") + absorb(cp) +
                         absorb(ch) + absorb(sp) + absorb(core),
                         digest_size=32).digest()
    sig = host.sign(b"wharf-v1 server signature" + th)
    shared = X25519PrivateKey.from_private_bytes(c_sk).exchange(
        X25519PrivateKey.from_private_bytes(s_sk).public_key())
    label = (b"wharf-v1 aes256gcm session keys" if aes else
             b"wharf-v1 session keys")
    okm = hashlib.blake2b(absorb(label) + absorb(shared) +
                          absorb(th), digest_size=64,
                          key=psk or b"").digest()
    k_c2s, k_s2c = okm[:32], okm[32:]
    confirm = hashlib.blake2b(absorb(b"wharf-v1 key confirmation") +
                              absorb(th), digest_size=32,
                              key=k_s2c).digest()
    sh = fb(3, fb(1, core) + fb(2, sig) + fb(3, confirm))
    # The client's first sealed frame: Auth{user, password}, id 1,
    # under K_c2s with counter 0.
    auth = fv(1, 1) + fb(4, fb(1, "alice") + fb(2, "correct horse"))
    if aes:
        sealed = gcm_frame(k_c2s, 0, 0, auth)
    else:
        tag, ct = secretbox_detached(k_c2s, struct.pack("<Q", 0) +
                                     bytes(16), auth)
        sealed = struct.pack(">I", 16 + len(ct)) + tag + ct
    rows = [("client_ephemeral_sk", c_sk), ("client_ephemeral_pk", c_pk),
            ("server_ephemeral_sk", s_sk), ("server_ephemeral_pk", s_pk),
            ("host_seed", seed), ("host_pk", host_pk)]
    if psk:
        rows.append(("psk", psk))
    rows += [("CP", cp), ("CH", ch), ("SP", sp), ("CORE", core),
             ("server_hello_frame", sh), ("TH", th), ("SIG", sig),
             ("shared", shared), ("K_c2s", k_c2s), ("K_s2c", k_s2c),
             ("CONFIRM", confirm), ("auth_envelope", auth),
             ("auth_frame", sealed)]
    if aes:
        # The server's first two frames (direction 1, counters 0 and 1):
        # Pong{"vector"} and Pong{"again"}, ids 1 and 2.
        pong = fv(1, 1) + fb(22, fb(1, "vector"))
        ok = fv(1, 2) + fb(22, fb(1, "again"))
        rows += [("s2c_envelope0", pong),
                 ("s2c_frame0", gcm_frame(k_s2c, 1, 0, pong)),
                 ("s2c_envelope1", ok),
                 ("s2c_frame1", gcm_frame(k_s2c, 1, 1, ok))]
    out.append("[%s]" % name)
    out += ["%s = %s" % (k, v.hex()) for k, v in rows]
    out.append("")


def gcm_frame(key, direction, counter, envelope):
    """A sealed frame of 5.1: u32 length || tag || ciphertext, nonce
    u32(direction) || u64(counter), the length as associated data."""
    length = struct.pack(">I", 16 + len(envelope))
    nonce = struct.pack(">IQ", direction, counter)
    ct_tag = AESGCM(key).encrypt(nonce, envelope, length)
    return length + ct_tag[-16:] + ct_tag[:-16]


def file_digest(out):
    size, cs = 200000, 65536
    data = bytes((i * 7 + 3) % 251 for i in range(size))
    out.append("[file-digest]")
    out.append("content = bytes (i * 7 + 3) mod 251 for i in 0..%d" %
               (size - 1))
    out.append("size = %d" % size)
    out.append("chunk_size = %d" % cs)
    for name, h in (("blake2b", lambda b: hashlib.blake2b(
            b, digest_size=32).digest()), ("sha256", lambda b:
                                           hashlib.sha256(b).digest())):
        hs = [h(data[i:i + cs]) for i in range(0, size, cs)]
        for i, x in enumerate(hs):
            out.append("%s_chunk%d = %s" % (name, i, x.hex()))
        f = h(b"wharf-v1 file" + struct.pack(">I", cs) + b"".join(hs) +
              struct.pack(">Q", size))
        out.append("%s_file = %s" % (name, f.hex()))
    out.append("")


def main():
    out = ["# wharf protocol v1 known-answer vectors (docs/protocol.md,",
           "# appendix A). Generated by gen_vectors.py; hex unless noted.",
           ""]
    handshake(out, "handshake", None)
    handshake(out, "handshake-psk", fixed("wharf-v1 vector psk"))
    handshake(out, "handshake-aes256gcm", None, aes=True)
    file_digest(out)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "v1.txt")
    with open(path, "w") as f:
        f.write("\n".join(out))
    print("wrote", path)


if __name__ == "__main__":
    main()
