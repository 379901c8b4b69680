#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The one commit routine (src/xfer/commit.c), seen from both sides.

- Durability: a download, plain and striped, is fsynced, renamed onto its
  target, and then the folder is fsynced, so that the rename survives a
  power cut (the client used to skip the folder). Seen with strace -y: an
  fsync of the folder's descriptor after the rename.
"""

import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rel_wire import Test, give_tree  # noqa: E402

CS = 65536
PW = "commit pw"

t = Test("test_transfer_commit", 240)
ROOT = os.path.join(t.tmp, "root")
STATE = os.path.join(t.tmp, "state")
os.makedirs(ROOT)
t.add_user(STATE, "cam", PW)
srv = t.start_server(ROOT, STATE, "--allow-plaintext")

# ------------------------------------------------------------ durability

STRACE = shutil.which("strace")
if STRACE is None:
    t.note("strace missing: download durability not checked")
    t.finish()


def traced_get(remote, local, *extra):
    """`wharf get` under strace; returns its trace lines."""
    out = os.path.join(t.tmp, "strace.out")
    env = dict(t.env, WHARF_PASSWORD=PW)
    r = subprocess.run(
        [STRACE, "-f", "-y", "-qq", "-o", out,
         "-e", "trace=fsync,fdatasync,syncfs,rename,renameat,renameat2",
         os.environ["WHARF_BIN"], "get", "-q",
         "cam@127.0.0.1:%d" % srv.port, remote, local] + list(extra),
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, timeout=120)
    t.check(r.returncode == 0, "traced get %s: %d %s" %
            (remote, r.returncode, r.stderr.decode()[-500:]))
    with open(out) as f:
        return f.read().splitlines()


def check_durable(lines, local, what):
    folder = os.path.dirname(os.path.realpath(local))
    name = os.path.basename(local)
    at = None
    for k, line in enumerate(lines):
        if re.search(r"rename(at2?)?\(.*wharf-part.*\b%s\b" %
                     re.escape(name), line) and "= 0" in line:
            at = k
    t.check(at is not None, "%s: no rename of the partial in %r" %
            (what, lines[-10:]))
    synced = [line for line in lines[at + 1:]
              if re.search(r"fsync\(\d+<%s>\) = 0" % re.escape(folder),
                           line)]
    t.expect(synced, "%s: no fsync of the folder %s after the rename: %r"
             % (what, folder, lines[at:]))
    before = [line for line in lines[:at]
              if re.search(r"fsync\(\d+<[^>]*wharf-part>\) = 0", line)]
    t.expect(before, "%s: the partial was not fsynced before the rename"
             % what)


down = os.path.join(t.tmp, "down")
os.makedirs(down)
with open(os.path.join(ROOT, "small.bin"), "wb") as f:
    f.write(os.urandom(5 * CS + 3))
big = os.urandom(17 * 1024 * 1024 + 5)
with open(os.path.join(ROOT, "big.bin"), "wb") as f:
    f.write(big)
give_tree(ROOT)

local = os.path.join(down, "small.bin")
check_durable(traced_get("/small.bin", local), local, "get")
t.ok("get: the folder is fsynced after the rename")
local = os.path.join(down, "big.bin")
check_durable(traced_get("/big.bin", local, "--streams", "2"), local,
              "get --streams 2")
with open(local, "rb") as f:
    t.check(f.read() == big, "striped download differs")
t.ok("get --streams: the folder is fsynced after the rename")

t.finish()
