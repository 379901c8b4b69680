#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Partial uploads and the protection store, attacked over the raw
protocol (rel_wire.py) against a real server.

An upload is written to ".NAME.wharf-part" beside its target and renamed
onto it once verified. Those names are reserved (docs/protocol.md 6.1):
no request of any kind may name one, listings leave them out. Here:

- a read-only user downloads the partial of an in-flight upload to a
  protected file (its new content would leak);
- a second user removes and replaces the partial mid-upload (the owner
  would get PutDone for its digest while the target holds the other
  user's bytes); and a local process replacing it (the commit checks the
  inode it wrote, in the group commit and the direct one);
- a protected file that holds a partial's name, adopted by someone else's
  resumed upload of NAME (the store from before the rule, after restart);
- a target protected by another session while the upload runs;
- every request type (get, put, ls, stat, rm, mv, sum, protect,
  unprotect, cd, mkdir, rmdir, delta get and put, and sync with the real
  client) against partial names, also through "..", and through a
  symbolic link a local user left;
- the protection store: the request sequence that used to write two
  entries for one path (after which the server never started again),
  and a store damaged by hand (a duplicate with another hash, a bad hash,
  an entry on a partial's name): the server starts, locks the damaged
  paths only, and serves the rest.
"""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rel_wire import (B, ERR, ERR_NAME, Test, blake, chunk_msg,  # noqa: E402
                      envelope, fb, field, file_digest, frame, fv,
                      give_tree, parse, session)

CS = 65536
PW = {"owner": "po 1", "mallory": "pm 2", "viewer": "pv 3"}

t = Test("test_partials", 240)
ROOT = os.path.join(t.tmp, "root")
STATE = os.path.join(t.tmp, "state")
os.makedirs(ROOT)
t.add_user(STATE, "owner", PW["owner"])
t.add_user(STATE, "mallory", PW["mallory"])
t.add_user(STATE, "viewer", PW["viewer"], "--read-only")
SRV_ARGS = ("--allow-plaintext", "--idle-timeout", "60")
srv = t.start_server(ROOT, STATE, *SRV_ARGS)
RID = [100]


def rid():
    RID[0] += 1
    return RID[0]


def login(user):
    return session(srv.port, user, PW[user])


def write(rel, data):
    """A file as a user of the share would leave it: the server's
    account owns what is in its root (it serves as that account)."""
    p = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    give_tree(ROOT)


def read(rel):
    try:
        with open(os.path.join(ROOT, rel), "rb") as f:
            return f.read()
    except OSError:  # missing, or a folder in its place
        return None


def final(frames):
    return frames[-1] if frames else None


def err_name(e):
    if e is None:
        return "nothing"
    if e.code is not None:
        return ERR_NAME.get(e.code, str(e.code))
    return e.name


def expect_code(frames, code, what):
    e = final(frames)
    ok = e is not None and e.code == ERR[code]
    t.expect(ok, "%s: wanted %s, got %r" % (what, code, frames[-3:]))
    return ok


def protect(c, path, passcode, current=None):
    body = fb(1, path) + fb(2, passcode)
    if current:
        body += fb(3, current)
    return c.request(rid(), B["protect"], body, timeout=30)


def get(c, path, passcode=None, delta=False):
    """GetReq, compression off; returns (frames, content or None)."""
    r = rid()
    body = fb(1, path) + fv(2, CS) + fv(6, 1)
    if passcode:
        body += fb(8, passcode)
    if delta:
        body += fv(9, 1)
        c.send(frame(envelope(r, B["get"], body)) +
               frame(envelope(r, B["delta_index"], fv(2, 1))))
        frames = c.until_final(r, 30)
    else:
        frames = c.request(r, B["get"], body, timeout=30)
    if final(frames).body != B["get_end"]:
        return frames, None
    data = b"".join(field(parse(e.data), 5, b"") for e in frames
                    if e.body == B["chunk"])
    return frames, data


def put_open(c, path, size, passcode=None, resume=False, delta=False):
    r = rid()
    body = fb(1, path) + fv(2, size) + fv(5, 0o644) + fv(6, CS)
    if resume:
        body += fv(8, 1)
    if passcode:
        body += fb(9, passcode)
    if delta:
        body += fv(10, 1)
    c.send(frame(envelope(r, B["put_open"], body)))
    return r


def put_chunks(c, r, data, first, last):
    for i in range(first, last):
        c.send(frame(envelope(r, B["chunk"],
                              chunk_msg(i, data[i * CS:(i + 1) * CS]))))


def digest(data):
    hs = [blake(data[i:i + CS]) for i in range(0, len(data), CS)]
    return file_digest(hs, CS, len(data))


def put_end(c, r, data):
    c.send(frame(envelope(r, B["put_end"], fb(1, digest(data)))))
    return c.until_final(r, 30)


def put(c, path, data, passcode=None):
    """A whole upload; returns its frames."""
    r = put_open(c, path, len(data), passcode)
    put_chunks(c, r, data, 0, (len(data) + CS - 1) // CS)
    return put_end(c, r, data)


def ok_frames(frames):
    e = final(frames)
    return e is not None and e.code is None


PART = ".secret.txt.wharf-part"

# ------------------------------------------------------------------
# 1. A read-only user downloads the partial of an upload in flight to a
#    protected file: the new content leaks.
write("secret.txt", b"old secret\n")
own = login("owner")
t.check(ok_frames(protect(own, "secret.txt", "k1")), "protect secret.txt")
NEW = b"NEW-SECRET " * (2 * CS // 11 + 1)
NEW = NEW[:2 * CS]
up = put_open(own, "secret.txt", len(NEW), passcode="k1")
put_chunks(own, up, NEW, 0, 1)
own.sync()  # chunk 0 is on disk in the partial
t.check(os.path.exists(os.path.join(ROOT, PART)), "upload's partial exists")
view = login("viewer")
frames, data = get(view, PART)
t.expect(data is None or b"NEW-SECRET" not in data,
         "read-only user downloaded the partial of a protected file")
expect_code(frames, "INVALID_PATH", "get of a partial")
t.expect("partial" in final(frames).message,
         "the refusal says why: %r" % final(frames).message)
frames, data = get(view, "/tmp/../" + PART)
t.expect(data is None, "get of a partial through '..' leaked it")
frames = view.request(rid(), B["sum"], fb(1, PART))
t.expect(final(frames).body != B["sum_reply"], "sum of a partial answered")
put_chunks(own, up, NEW, 1, 2)
t.check(ok_frames(put_end(own, up, NEW)), "owner's upload commits")
t.expect(read("secret.txt") == NEW, "secret.txt holds the owner's upload")

# ------------------------------------------------------------------
# 2. Another user removes the partial mid-upload and puts her own bytes
#    under its name: the owner's PutDone would cover her bytes.
write("target.txt", b"old target\n")
t.check(ok_frames(protect(own, "target.txt", "k2")), "protect target.txt")
OWN = os.urandom(2 * CS)
EVIL = b"mallory was here\n"
up = put_open(own, "target.txt", len(OWN), passcode="k2")
put_chunks(own, up, OWN, 0, 1)
own.sync()
mal = login("mallory")
frames = mal.request(rid(), B["remove"], fb(1, ".target.txt.wharf-part"))
expect_code(frames, "INVALID_PATH", "rm of another's partial")
frames = put(mal, ".target.txt.wharf-part", EVIL)
expect_code(frames, "INVALID_PATH", "put onto another's partial")
put_chunks(own, up, OWN, 1, 2)
frames = put_end(own, up, OWN)
if ok_frames(frames):
    t.expect(read("target.txt") == OWN,
             "PutDone, but target.txt holds other bytes than were verified")
else:
    t.soft_fail("owner's upload failed: %r" % frames)
t.expect(read("target.txt") != EVIL, "mallory's bytes became target.txt")

# 2b. A local process replaces the partial: the commit must notice, in
#     the group commit (small file) and the direct one (over 1 MiB).
for name, n in (("local-small.bin", 2), ("local-big.bin", 17)):
    data = os.urandom(n * CS)
    up = put_open(own, name, len(data))
    put_chunks(own, up, data, 0, n - 1)
    own.sync()
    part = os.path.join(ROOT, ".%s.wharf-part" % name)
    with open(part + ".swap", "wb") as f:
        f.write(b"local swap\n")
    os.replace(part + ".swap", part)
    put_chunks(own, up, data, n - 1, n)
    frames = put_end(own, up, data)
    got = read(name)
    t.expect(got is None or got == data,
             "%s: the commit installed bytes that were never verified "
             "(%r)" % (name, frames[-1:]))
    expect_code(frames, "IO", "%s: commit after the partial was replaced"
                % name)
    if os.path.exists(part):
        os.unlink(part)

# ------------------------------------------------------------------
# 3. A target protected while its upload runs: the commit would replace a
#    protected file without its passcode.
write("late.txt", b"late original\n")
LATE = os.urandom(CS)
up = put_open(mal, "late.txt", len(LATE))
put_chunks(mal, up, LATE, 0, 1)
mal.sync()
t.check(ok_frames(protect(own, "late.txt", "k3")), "protect late.txt")
frames = put_end(mal, up, LATE)
expect_code(frames, "PERMISSION", "commit onto a file protected meanwhile")
t.expect(read("late.txt") == b"late original\n",
         "a file protected during an upload was replaced without passcode")

# ------------------------------------------------------------------
# 4. Every request type against partial names. One is a real partial of
#    an upload in flight, one a stray file, one a folder of that name;
#    plink is a symbolic link a local user left, leading to the partial.
HELD = os.urandom(2 * CS)
up = put_open(own, "held.bin", len(HELD))
put_chunks(own, up, HELD, 0, 1)
own.sync()
write(".stray.txt.wharf-part", b"stray\n")
write(".dir.wharf-part/inner.txt", b"inner\n")
write("dir/file.txt", b"file\n")
os.symlink(".held.bin.wharf-part", os.path.join(ROOT, "plink"))
before = {p: read(p) for p in (".stray.txt.wharf-part",
                               ".dir.wharf-part/inner.txt")}
NAMES = (".held.bin.wharf-part", ".stray.txt.wharf-part",
         "dir/../.stray.txt.wharf-part", "/.dir.wharf-part/inner.txt",
         ".dir.wharf-part/..", "dir/..x.wharf-part")
for p in NAMES:
    reqs = {
        "stat": (B["stat"], fb(1, p)),
        "ls": (B["list"], fb(1, p) + fv(2, 1)),
        "cd": (B["cd"], fb(1, p)),
        "rm": (B["remove"], fb(1, p)),
        "rmdir": (B["rmdir"], fb(1, p)),
        "mkdir": (B["mkdir"], fb(1, p + "/sub") + fv(2, 1)),
        "mv from": (B["rename"], fb(1, p) + fb(2, "moved")),
        "mv to": (B["rename"], fb(1, "dir/file.txt") + fb(2, p)),
        "sum": (B["sum"], fb(1, p)),
        "protect": (B["protect"], fb(1, p) + fb(2, "kk")),
        "unprotect": (B["unprotect"], fb(1, p) + fb(2, "kk")),
    }
    for what, (body, msg) in reqs.items():
        frames = mal.request(rid(), body, msg, timeout=30)
        expect_code(frames, "INVALID_PATH", "%s %s" % (what, p))
    frames, data = get(mal, p)
    expect_code(frames, "INVALID_PATH", "get %s" % p)
    frames, data = get(mal, p, delta=True)
    expect_code(frames, "INVALID_PATH", "delta get %s" % p)
    frames = put(mal, p, b"x" * 10)
    expect_code(frames, "INVALID_PATH", "put %s" % p)
    # A delta upload, ended at once: its first answer is the refusal.
    r = put_open(mal, p, 10, delta=True)
    mal.send(frame(envelope(r, B["put_end"], fv(2, 1))))
    frames = [e for e in mal.sync() if e.id == r]
    expect_code(frames[:1], "INVALID_PATH", "delta put %s" % p)
t.expect(read("dir/file.txt") == b"file\n", "mv onto a partial name moved")
t.expect({p: read(p) for p in before} == before, "a partial name changed")
# ls of the folder: no partial among the names, with all = true too.
frames = mal.request(rid(), B["list"], fb(1, "/") + fv(2, 1))
names = [field(parse(v), 1, b"").decode() for e in frames
         if e.body == B["list_part"]
         for f, _, v in parse(e.data) if f == 1]
t.expect(names and not [n for n in names if n.endswith(".wharf-part")],
         "ls -a lists partials: %r" % names)
t.expect("plink" in names and "held.bin" not in names, "listing: %r" % names)
# The link a local user left: content and metadata stay out of reach.
frames, data = get(mal, "plink")
t.expect(data is None, "get through a link to a partial leaked it")
expect_code(frames, "INVALID_PATH", "get through a link to a partial")
frames = mal.request(rid(), B["stat"], fb(1, "plink"))
expect_code(frames, "INVALID_PATH", "stat through a link to a partial")
frames = mal.request(rid(), B["sum"], fb(1, "plink"))
expect_code(frames, "INVALID_PATH", "sum through a link to a partial")
os.unlink(os.path.join(ROOT, "plink"))
# The real client: a clear message, and sync leaves partials alone.
rc, out, err = t.wharf("get", "-q", "mallory@127.0.0.1:%d" % srv.port,
                       "/.held.bin.wharf-part", os.path.join(t.tmp, "leak"),
                       password=PW["mallory"])
t.expect(rc != 0 and "partial" in err, "wharf get of a partial: %d %r"
         % (rc, err))
t.expect(not os.path.exists(os.path.join(t.tmp, "leak")), "get left a file")
write("dir/.s.txt.wharf-part", b"stray\n")
sync_dir = os.path.join(t.tmp, "syncdown")
rc, out, err = t.wharf("sync", "mallory@127.0.0.1:%d" % srv.port, sync_dir,
                       "/dir", "--download", password=PW["mallory"])
got = sorted(os.listdir(sync_dir)) if os.path.isdir(sync_dir) else []
t.expect(rc == 0 and got == ["file.txt"],
         "sync --download: %d %r %r" % (rc, got, err))
# And up, with --delete: the server's partials are not the client's to
# delete, nor a local file of such a name its to send.
with open(os.path.join(sync_dir, ".up.txt.wharf-part"), "wb") as f:
    f.write(b"local partial\n")
rc, out, err = t.wharf("sync", "mallory@127.0.0.1:%d" % srv.port, sync_dir,
                       "/dir", "--delete", password=PW["mallory"])
t.expect(rc == 0 and read("dir/.s.txt.wharf-part") == b"stray\n" and
         read("dir/.up.txt.wharf-part") is None,
         "sync --delete: %d %r" % (rc, err))
# put -r of a tree holding a local partial (an interrupted get): the
# client leaves it out instead of failing on the server's refusal.
tree = os.path.join(t.tmp, "tree")
os.makedirs(tree)
for n, d in (("a.txt", b"a\n"), (".b.txt.wharf-part", b"half\n")):
    with open(os.path.join(tree, n), "wb") as f:
        f.write(d)
rc, out, err = t.wharf("put", "-q", "-r", "mallory@127.0.0.1:%d" % srv.port,
                       tree, "/up", password=PW["mallory"])
t.expect(rc == 0 and read("up/a.txt") == b"a\n" and
         read("up/.b.txt.wharf-part") is None, "put -r: %d %r" % (rc, err))
put_chunks(own, up, HELD, 1, 2)
t.expect(ok_frames(put_end(own, up, HELD)) and read("held.bin") == HELD,
         "the held upload still commits")

# ------------------------------------------------------------------
# 5. The store: the sequence that wrote two entries for one path, after
#    which the server refused to start ("protection store damaged").
write(".X.wharf-part", b"x\n")
write("A", b"a\n")
frames = protect(own, "/.X.wharf-part", "kx")
expect_code(frames, "INVALID_PATH", "protect of a partial's name")
t.check(ok_frames(put(own, "/X", b"upload of X\n")), "upload /X")
t.check(ok_frames(protect(own, "/A", "ka")), "protect /A")
frames = own.request(rid(), B["rename"], fb(1, "/A") + fb(2, "/.X.wharf-part") +
                     fb(3, "ka"), timeout=30)
expect_code(frames, "INVALID_PATH", "mv onto a partial's name")
# 5b. A stale entry at a rename's destination (its file went away
#     outside wharf) must not become a second entry for the moved file.
write("B", b"b\n")
write("C", b"c\n")
t.check(ok_frames(protect(own, "/C", "kc")), "protect /C")
os.unlink(os.path.join(ROOT, "C"))
t.check(ok_frames(protect(own, "/B", "kb")), "protect /B")
frames = own.request(rid(), B["rename"], fb(1, "/B") + fb(2, "/C") +
                     fb(3, "kb"), timeout=30)
t.check(ok_frames(frames), "mv /B /C onto a stale entry: %r" % frames)
for c in (own, mal, view):
    c.close()
srv.stop()
with open(os.path.join(STATE, "protected")) as f:
    lines = f.read().splitlines()[1:]
paths = [ln.split("\t", 1)[1] for ln in lines]
t.expect(len(paths) == len(set(paths)), "duplicate entries: %r" % paths)
srv = t.start_server(ROOT, STATE, *SRV_ARGS)
c = login("owner")
frames, data = get(c, "/C", passcode="kb")
t.expect(data == b"b\n", "moved file opens with its own passcode: %r"
         % frames[-1:])
frames, data = get(c, "/A", passcode="ka")
t.expect(data == b"a\n", "/A still protected by ka after the restart")
c.close()
srv.stop()

# ------------------------------------------------------------------
# 6. A store damaged by hand: a second entry for one path with another
#    hash, a bad hash, an entry on a partial's name (as a store from
#    before the rule may hold). The server starts, refuses those paths
#    to everyone, and serves the rest.
with open(os.path.join(STATE, "protected")) as f:
    text = f.read()
hash_a = [ln.split("\t")[0] for ln in text.splitlines()
          if ln.endswith("\t/A")][0]
hash_c = [ln.split("\t")[0] for ln in text.splitlines()
          if ln.endswith("\t/C")][0]
write("bad.txt", b"bad\n")
write(".leg.txt.wharf-part", os.urandom(CS))
with open(os.path.join(STATE, "protected"), "a") as f:
    f.write("%s\t/C\n" % hash_a)  # /C: kb or ka? Neither.
    f.write("$argon2id$broken\t/bad.txt\n")
    f.write("not-a-hash\t/bad.txt\n")
    f.write("%s\t/.leg.txt.wharf-part\n" % hash_c)
    f.write("%s\t/A\n" % hash_a)  # the same entry twice: merged
srv = t.start_server(ROOT, STATE, *SRV_ARGS)
t.check(srv.alive(), "server starts with a damaged store")
t.expect(srv.wait_log(r"LOCKED", 5), "the log names the locked paths")
c = login("owner")
frames, data = get(c, "/A", passcode="ka")
t.expect(data == b"a\n", "an intact entry still opens: %r" % frames[-1:])
for pc in ("kb", "ka"):
    frames, data = get(c, "/C", passcode=pc)
    t.expect(data is None, "locked /C opened with %s" % pc)
frames, data = get(c, "/bad.txt", passcode="x")
t.expect(data is None, "/bad.txt with a damaged entry was served")
frames, data = get(c, "/X")
t.expect(data == b"upload of X\n", "unprotected files are served")
# The partial's name holds a protected file: a resumed upload of its
# target must not adopt it (PutReady would prove guesses of its content,
# and the commit would unprotect it).
r = put_open(c, "leg.txt", CS, resume=True)
frames = c.until_final(r, 30)
t.expect(final(frames).body != B["put_ready"] or
         field(parse(final(frames).data), 1, 0) == 0,
         "a resumed upload adopted a protected file: %r" % frames)
c.send(frame(envelope(r, B["put_end"], fv(2, 1))))
c.sync()
t.expect(read("leg.txt") is None, "the protected partial was installed")
c.close()
srv.stop()
srv = t.start_server(ROOT, STATE, *SRV_ARGS)
t.check(srv.alive(), "server starts again")
srv.stop()
t.finish()
