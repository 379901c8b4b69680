#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A slow TCP relay for the reliability tests: it stretches an upload
over seconds, so that a test can change the world (fill the disk, kill a
process) while the transfer is certainly in the middle.

    rel_throttle.py --target HOST:PORT --port-file FILE --rate BYTES_PER_S
                    [--lifetime SECONDS] [--log FILE]

Listens on an ephemeral loopback port (written to --port-file once it is
listening, atomically), accepts ONE client, connects it to --target and
copies bytes both ways: client->server at most --rate bytes a second,
server->client at full speed. It exits when the connection ends or after
--lifetime seconds (default 60), whatever happens. Standard library only.
"""

import argparse
import os
import select
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--rate", type=int, required=True)
    ap.add_argument("--lifetime", type=float, default=60.0)
    ap.add_argument("--log", default=None)
    a = ap.parse_args()
    log = open(a.log, "a") if a.log else sys.stderr
    host, _, port = a.target.rpartition(":")
    deadline = time.monotonic() + a.lifetime

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(tmp, a.port_file)
    ls.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        cs, _ = ls.accept()
    except socket.timeout:
        log.write("throttle: no client\n")
        return 1
    ls.close()
    ss = socket.create_connection((host, int(port)), timeout=10)
    for s in (cs, ss):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
    # Small kernel buffers on the slow side, so that what the relay has
    # passed on is close to what the server has read.
    ss.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    cs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)

    pending = {cs: b"", ss: b""}  # bytes waiting to go TO this socket
    peer = {cs: ss, ss: cs}
    open_read = {cs: True, ss: True}
    t0 = time.monotonic()
    sent_up = 0  # client->server bytes passed on
    while time.monotonic() < deadline:
        # Client->server: only as much as the rate allows so far.
        allowed = int((time.monotonic() - t0) * a.rate) - sent_up
        rl = []
        if open_read[cs] and len(pending[ss]) < 65536:
            rl.append(cs)
        if open_read[ss] and len(pending[cs]) < (1 << 22):
            rl.append(ss)
        wl = []
        # Wait for credit to build up to a worthwhile piece rather than
        # spinning on a few bytes at a time.
        if pending[ss] and allowed >= min(len(pending[ss]), 16384):
            wl.append(ss)
        if pending[cs]:
            wl.append(cs)
        if not rl and not wl and not pending[ss]:
            break
        r, w, _ = select.select(rl, wl, [], 0.02)
        for s in w:
            data = pending[s]
            if s is ss:
                data = data[:max(0, allowed)]
            try:
                n = s.send(data)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return 0
            pending[s] = pending[s][n:]
            if s is ss:
                sent_up += n
        for s in r:
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                open_read[s] = False
                continue
            if not data:
                open_read[s] = False
                continue
            pending[peer[s]] += data
        for s in (cs, ss):
            if not open_read[s] and not pending[peer[s]]:
                try:
                    peer[s].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
        if not open_read[cs] and not open_read[ss] and \
                not pending[cs] and not pending[ss]:
            break
    log.write("throttle: done, %d bytes up\n" % sent_up)
    cs.close()
    ss.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
