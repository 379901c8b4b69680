#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A TCP relay for the integration tests that can corrupt one byte.

    relay.py --target HOST:PORT --port-file FILE [--flip-c2s N]
             [--flip-s2c N] [--min-payload-pos K] [--lifetime SECONDS]
             [--replace-s2c OLD:NEW] [--log FILE]

Listens on an ephemeral loopback port (written to --port-file once it is
listening, atomically), accepts ONE client, connects it to --target and
copies bytes both ways. --flip-c2s N XORs the byte at offset N (counting
from 0) of the client->server stream with 0x01; --flip-s2c N does the same
to the server->client stream. Each flip happens at most once.
--replace-s2c OLD:NEW (hex, of equal length) rewrites every OLD in the
payloads of the server->client frames to NEW: in a plaintext session,
the relay plays a hostile server (a name the real one would never send).
Those frames are passed on whole, once they have arrived.

The relay follows wharf's framing (12-byte preface, then u32 big-endian
length + payload). With --min-payload-pos K the flipped byte is the first
one at or after offset N that lies at least K bytes into a frame's payload
(so that it misses the frame lengths and message headers and lands in the
data). The log says which frame the flipped byte landed in and where.

It exits when the relayed connection ends (either side closes), or after
--lifetime seconds (default 60) whatever happens, so a test can never
hang on it. Standard library only.
"""

import argparse
import os
import select
import socket
import sys
import time

PREFACE = 12


class Stream:
    """One direction: counts bytes, follows the frames, flips one byte."""

    def __init__(self, name, flip_at, min_pos):
        self.name = name
        self.flip_at = flip_at  # stream offset; None once flipped
        self.min_pos = min_pos  # least offset inside a frame payload
        self.pos = 0
        # Framing: preface bytes still to come, the length bytes seen so
        # far, the current frame's number, length and payload left.
        self.preface_left = PREFACE
        self.header = b""
        self.frame_no = -1
        self.frame_len = 0
        self.payload_left = 0

    def _scan(self, data):
        """Walks the framing over data. Returns the index in data of the
        byte to flip (or None) and where it is: the first byte at or
        after stream offset flip_at that lies at least min_pos bytes
        into a frame's payload (with min_pos 0, any byte)."""
        want = self.flip_at
        hit = None
        i = 0
        n = len(data)
        while i < n:
            at = self.pos + i
            if self.preface_left > 0:
                take = min(self.preface_left, n - i)
                self.preface_left -= take
                if (want is not None and hit is None and
                        self.min_pos == 0 and at <= want < at + take):
                    hit = (want - self.pos, "in the preface")
            elif self.payload_left == 0:
                take = min(4 - len(self.header), n - i)
                self.header += data[i:i + take]
                if (want is not None and hit is None and
                        self.min_pos == 0 and at <= want < at + take):
                    hit = (want - self.pos, "in the length of frame %d" %
                           (self.frame_no + 1))
                if len(self.header) == 4:
                    self.frame_no += 1
                    self.frame_len = int.from_bytes(self.header, "big")
                    self.payload_left = self.frame_len
                    self.header = b""
            else:
                take = min(self.payload_left, n - i)
                inside = self.frame_len - self.payload_left
                self.payload_left -= take
                if want is not None and hit is None:
                    first = max(want, at + max(0, self.min_pos - inside))
                    if first < at + take:
                        hit = (first - self.pos,
                               "at byte %d of the %d-byte payload of "
                               "frame %d" % (inside + first - at,
                                             self.frame_len, self.frame_no))
            i += take
        return hit

    def feed(self, data):
        """Returns data, with the chosen byte flipped if it is in it."""
        hit = self._scan(data)
        if hit is not None:
            k, where = hit
            b = bytearray(data)
            b[k] ^= 0x01
            data = bytes(b)
            log("%s: flipped byte %d of the stream (%s)" %
                (self.name, self.pos + k, where))
            self.flip_at = None
        self.pos += len(data)
        return data


class Rewriter:
    """server->client with --replace-s2c: whole frames, OLD made NEW."""

    def __init__(self, name, old, new):
        self.name = name
        self.old = old
        self.new = new
        self.pos = 0
        self.buf = b""
        self.preface_left = PREFACE

    def feed(self, data):
        self.pos += len(data)
        self.buf += data
        out = b""
        if self.preface_left > 0:
            take = min(self.preface_left, len(self.buf))
            out += self.buf[:take]
            self.buf = self.buf[take:]
            self.preface_left -= take
        while len(self.buf) >= 4:
            n = int.from_bytes(self.buf[:4], "big")
            if len(self.buf) < 4 + n:
                break
            payload = self.buf[4:4 + n]
            if self.old in payload:
                log("%s: rewrote %d in a %d-byte payload" %
                    (self.name, payload.count(self.old), n))
                payload = payload.replace(self.old, self.new)
            out += self.buf[:4] + payload
            self.buf = self.buf[4 + n:]
        return out


LOG = None


def log(msg):
    if LOG is not None:
        LOG.write("relay: %s\n" % msg)
        LOG.flush()


def main():
    global LOG
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--flip-c2s", type=int, default=None)
    ap.add_argument("--flip-s2c", type=int, default=None)
    ap.add_argument("--min-payload-pos", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=60.0)
    ap.add_argument("--replace-s2c", default=None)
    ap.add_argument("--log", default=None)
    a = ap.parse_args()

    LOG = open(a.log, "a") if a.log else sys.stderr
    host, _, port = a.target.rpartition(":")
    deadline = time.monotonic() + a.lifetime

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(tmp, a.port_file)
    log("listening on port %d, target %s" % (ls.getsockname()[1], a.target))

    ls.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        cs, _ = ls.accept()
    except socket.timeout:
        log("no client before the lifetime ended")
        return 1
    ls.close()
    ss = socket.create_connection((host, int(port)), timeout=10)
    for s in (cs, ss):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)

    c2s = Stream("client->server", a.flip_c2s, a.min_payload_pos)
    s2c = Stream("server->client", a.flip_s2c, a.min_payload_pos)
    if a.replace_s2c is not None:
        old, _, new = a.replace_s2c.partition(":")
        old, new = bytes.fromhex(old), bytes.fromhex(new)
        if not old or len(old) != len(new):
            log("--replace-s2c wants OLD:NEW of equal length")
            return 2
        s2c = Rewriter("server->client", old, new)
    # Pending output per destination socket.
    pending = {cs: b"", ss: b""}
    peer = {cs: ss, ss: cs}
    stream = {cs: c2s, ss: s2c}  # keyed by the socket data comes FROM
    open_read = {cs: True, ss: True}

    while time.monotonic() < deadline:
        rl = [s for s in (cs, ss)
              if open_read[s] and len(pending[peer[s]]) < (1 << 22)]
        wl = [s for s in (cs, ss) if pending[s]]
        if not rl and not wl:
            break
        r, w, _ = select.select(rl, wl, [], 0.2)
        for s in w:
            try:
                n = s.send(pending[s])
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                log("send failed: %s" % e)
                return 0
            pending[s] = pending[s][n:]
        for s in r:
            try:
                data = s.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                log("recv failed: %s" % e)
                return 0
            if not data:
                # One side closed: pass the close on once its data is out.
                open_read[s] = False
                continue
            pending[peer[s]] += stream[s].feed(data)
        # Half-close towards a peer whose source has ended and drained.
        for s in (cs, ss):
            if not open_read[s] and not pending[peer[s]]:
                try:
                    peer[s].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
        if not open_read[cs] and not open_read[ss] and \
                not pending[cs] and not pending[ss]:
            break
    else:
        log("lifetime of %.0f s over, closing" % a.lifetime)
    log("done: %d bytes client->server, %d bytes server->client" %
        (c2s.pos, s2c.pos))
    cs.close()
    ss.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
