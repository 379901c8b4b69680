#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The one commit routine (src/xfer/commit.c), seen from both sides.

- Durability: a download, plain and striped, is fsynced, renamed onto its
  target, and then the folder is fsynced, so that the rename survives a
  power cut (the client used to skip the folder). Seen with strace -y: an
  fsync of the folder's descriptor after the rename.
- The partial of a download is locked like an upload's: a second `wharf
  get` of the same file into the same place while one runs fails with a
  clear message and leaves the first one's partial alone (it used to
  write into it).
- mtime_nsec out of range (docs/protocol.md 9.4): a PutOpen with 10^9 or
  more nanoseconds is refused as PROTOCOL (the server used to take 0); a
  value in range lands exactly.
"""

import fcntl
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rel_wire import (B, ERR, Test, chunk_msg, envelope, fb,  # noqa: E402
                      file_digest, blake, frame, fv, give_tree, session)

CS = 65536
PW = "commit pw"

t = Test("test_transfer_commit", 240)
ROOT = os.path.join(t.tmp, "root")
STATE = os.path.join(t.tmp, "state")
os.makedirs(ROOT)
t.add_user(STATE, "cam", PW)
srv = t.start_server(ROOT, STATE, "--allow-plaintext")
RID = [10]


def rid():
    RID[0] += 1
    return RID[0]


# ------------------------------------------------------------ mtime_nsec

def put_with_nsec(path, data, nsec):
    c = session(srv.port, "cam", PW)
    r = rid()
    body = (fb(1, path) + fv(2, len(data)) + fv(3, 1500000000) +
            fv(4, nsec) + fv(5, 0o640) + fv(6, CS))
    c.send(frame(envelope(r, B["put_open"], body)))
    hs = []
    for i in range(0, len(data), CS):
        raw = data[i:i + CS]
        hs.append(blake(raw))
        c.send(frame(envelope(r, B["chunk"], chunk_msg(i // CS, raw))))
    c.send(frame(envelope(r, B["put_end"],
                          fb(1, file_digest(hs, CS, len(data))))))
    frames = c.until_final(r, 30)
    c.close()
    return frames[-1] if frames else None


data = os.urandom(3 * CS + 17)
e = put_with_nsec("/late.bin", data, 1000000005)
t.expect(e is not None and e.code == ERR["PROTOCOL"],
         "PutOpen with mtime_nsec 1000000005: wanted PROTOCOL, got %r" % e)
t.expect(not os.path.exists(os.path.join(ROOT, "late.bin")),
         "a refused PutOpen left a file")
t.expect(not os.path.exists(os.path.join(ROOT, ".late.bin.wharf-part")),
         "a refused PutOpen left a partial")
e = put_with_nsec("/edge.bin", data, 999999999)
t.expect(e is not None and e.body == B["put_done"],
         "PutOpen with mtime_nsec 999999999: %r" % e)
st = os.stat(os.path.join(ROOT, "edge.bin"))
t.expect(st.st_mtime_ns == 1500000000 * 10**9 + 999999999,
         "mtime of edge.bin: %d" % st.st_mtime_ns)
t.ok("mtime_nsec: out of range refused, the edge kept")

# ------------------------------------------------------------ durability

STRACE = shutil.which("strace")
if STRACE is None:
    t.note("strace missing: download durability not checked")
    t.finish()


def traced_get(remote, local, *extra):
    """`wharf get` under strace; returns its trace lines."""
    out = os.path.join(t.tmp, "strace.out")
    env = dict(t.env, WHARF_PASSWORD=PW)
    # LeakSanitizer cannot run under a tracer (it ptraces itself).
    opts = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "detect_leaks=0"
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

# ------------------------------------------------------------ the lock

# Another download holds the partial (its flock, as wharf takes it).
for extra in ((), ("--streams", "2")):
    local = os.path.join(down, "held.bin")
    part = os.path.join(down, ".held.bin.wharf-part")
    with open(os.path.join(ROOT, "held.bin"), "wb") as f:
        f.write(big if extra else data)
    give_tree(ROOT)
    with open(part, "wb") as f:
        f.write(b"the other download's bytes")
    holder = os.open(part, os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
    rc, out, err = t.wharf("get", "-q", "cam@127.0.0.1:%d" % srv.port,
                           "/held.bin", local, *extra, password=PW)
    what = "get %s" % " ".join(extra)
    t.expect(rc != 0 and "another download of this file" in err,
             "%s of a file whose partial is locked: %d %r" % (what, rc, err))
    t.expect(not os.path.exists(local), "%s installed a file" % what)
    kept = None
    if os.path.exists(part):
        with open(part, "rb") as f:
            kept = f.read()
    t.expect(kept == b"the other download's bytes",
             "%s wrote into a partial it did not hold" % what)
    os.close(holder)
    if os.path.exists(part):
        os.unlink(part)
    if os.path.exists(local):
        os.unlink(local)
    rc, out, err = t.wharf("get", "-q", "cam@127.0.0.1:%d" % srv.port,
                           "/held.bin", local, *extra, password=PW)
    t.check(rc == 0, "%s once the lock is gone: %r" % (what, err))
    os.unlink(local)
t.ok("get: a partial locked by another download is left alone")

t.finish()
