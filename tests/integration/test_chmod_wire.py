#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ChmodReq and StatFsReq as a raw peer sends them (protocol.md §8): the
server itself refuses setuid, setgid and sticky bits, links, the root and
read-only users, applies permission bits, and answers StatFsReq with the
numbers statfs gives; a path out of the tree is refused."""

import os
import stat
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rel_wire import (B, ERR, Test, fb, fv, field, parse, serve_as,  # noqa
                      session)

WHARF = os.environ.get("WHARF_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "wharf")


def main():
    t = Test("test_chmod_wire", 120)
    tmp = t.tmp
    proc = None
    try:
        root = os.path.join(tmp, "root")
        state = os.path.join(tmp, "state")
        os.makedirs(os.path.join(root, "d"))
        with open(os.path.join(root, "f"), "w") as f:
            f.write("x")
        os.symlink("/etc/hostname", os.path.join(root, "ln"))
        for name, extra in (("alice", []), ("rita", ["--read-only"])):
            subprocess.run([WHARF, "user", "add", name, "--init", "--state",
                            state] + extra, input=b"pw\n", check=True,
                           stderr=subprocess.DEVNULL)
        log = os.path.join(tmp, "log")
        proc = subprocess.Popen(
            [WHARF, "serve", "--root", root, "--state", state, "--listen",
             "127.0.0.1:0", "--log", log, "--allow-plaintext"] +
            serve_as(tmp, root), stdin=subprocess.DEVNULL, env=t.env,
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(tmp, "stderr"), "w"))
        port = None
        for _ in range(100):
            time.sleep(0.1)
            if os.path.exists(log):
                for line in open(log):
                    if "listening on" in line:
                        port = int(line.rsplit(":", 1)[1])
            if port:
                break
        t.check(port is not None, "server started: " +
                open(os.path.join(tmp, "stderr")).read()[-2000:])
        try:
            c = session(port, b"alice", b"pw")
        except OSError as e:
            t.fail(f"cannot connect ({e}): " +
                   open(os.path.join(tmp, "stderr")).read()[-2000:] +
                   open(log).read()[-2000:])

        def chmod(rid, path, mode, conn=c):
            return conn.request(rid, B["chmod"],
                                fb(1, path) + fv(2, mode))[-1]

        for rid, mode in ((10, 0o4755), (11, 0o2755), (12, 0o1777),
                          (13, 0o10000)):
            e = chmod(rid, b"/f", mode)
            t.check(e.code == ERR["PERMISSION"],
                    f"mode {mode:o} refused by the server: {e!r}")
        t.check(stat.S_IMODE(os.stat(os.path.join(root, "f")).st_mode) !=
                0o4755, "no setuid bit was set")
        e = chmod(20, b"/f", 0o600)
        t.check(e.body == B["ok"], f"chmod 600: {e!r}")
        t.check(stat.S_IMODE(os.stat(os.path.join(root, "f")).st_mode) ==
                0o600, "mode applied")
        e = chmod(21, b"/d", 0o711)
        t.check(e.body == B["ok"] and stat.S_IMODE(
            os.stat(os.path.join(root, "d")).st_mode) == 0o711,
            f"chmod of a folder: {e!r}")
        before = os.stat("/etc/hostname").st_mode
        e = chmod(22, b"/ln", 0o600)
        t.check(e.code == ERR["PERMISSION"] and
                os.stat("/etc/hostname").st_mode == before,
                f"a link is refused, its target untouched: {e!r}")
        e = chmod(23, b"/", 0o700)
        t.check(e.code == ERR["PERMISSION"], f"the root: {e!r}")
        e = chmod(24, b"/../etc", 0o700)
        t.check(e.code == ERR["INVALID_PATH"], f"out of the tree: {e!r}")
        e = chmod(25, b"/none", 0o600)
        t.check(e.code == ERR["NOT_FOUND"], f"missing: {e!r}")

        e = c.request(30, B["statfs"], fb(1, b"/"))[-1]
        t.check(e.body == B["statfs_reply"], f"statfs answered: {e!r}")
        f = parse(e.data)
        sv = os.statvfs(root)
        t.check(field(f, 1, 0) == sv.f_blocks * sv.f_frsize,
                "total bytes as statvfs")
        t.check(field(f, 6, 0) == 0 and field(f, 7, 0) == 0,
                "no quota: quota and used are 0")
        e = c.request(31, B["statfs"], fb(1, b"/../x"))[-1]
        t.check(e.code == ERR["INVALID_PATH"], f"statfs out of tree: {e!r}")
        # A response type sent as a request.
        e = c.request(32, B["statfs_reply"], fv(1, 5))[-1]
        t.check(e.code == ERR["PROTOCOL"], f"StatFsReply as request: {e!r}")
        c.close()

        r = session(port, b"rita", b"pw")
        e = chmod(40, b"/f", 0o644, r)
        t.check(e.code == ERR["PERMISSION"] and stat.S_IMODE(
            os.stat(os.path.join(root, "f")).st_mode) == 0o600,
            f"read-only user refused: {e!r}")
        e = r.request(41, B["statfs"], b"")[-1]
        t.check(e.body == B["statfs_reply"], "read-only users may df")
        r.close()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
    print(f"{t.passed} passed, 0 failed")


if __name__ == "__main__":
    main()
