#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Striped uploads under stress: commits, cancels and disconnects racing
across the joined connections of one login (docs/protocol.md 9.9).

Each round picks one of a few targets and new content, and splits it into
ranges over three joined connections. Each range's connection either
sends its range whole, cancels it part way (PutEnd{abort}) or hangs up
part way; sometimes another connection sends one range a second time,
a moment later. Two connections send StripeCommit again and again
meanwhile, until one ends the stripe; or one does, and the connection
that logged in hangs up, sometimes just after a StripeCommit of its own
(its stripes are abandoned). All
start at one barrier. Then, unless the login left, a last StripeCommit
(repeated while BUSY) ends the stripe, and must commit the round's file
if every range was sent whole and no racing StripeCommit came between two
ranges (which refuses the stripe for good: chunks missing). Rounds share a login until one ends it.

Checked: a striped upload commits at most once per round; every answer
is a PutDone or an Error the spec allows (or the hang-up of a connection
whose login left); after every round each target holds its old content
or one complete new content, never a mix; a round's partial is gone
once its stripe has ended; the server stays up with no sanitizer report (ASan,
TSan), serves a real striped client afterwards and exits 0 at SIGTERM.

Bounded: at most REL_STRESS_ROUNDS rounds (default 60) and
REL_STRESS_SECONDS of rounds (default 30); 150 s for the whole test.
REL_STRESS_SEED repeats a run (the seed is printed).
"""

import hashlib
import os
import random
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rel_wire import B, ERR, Closed, Test, Timeout  # noqa: E402
from rel_stripe import (CS, file_hash, join, login, new_stripe,  # noqa: E402
                        put_end, put_open, range_chunks, stripe_commit)

USER = "sam"
PW = "sam pw 3"
ROUNDS = int(os.environ.get("REL_STRESS_ROUNDS", "60"))
SECONDS = float(os.environ.get("REL_STRESS_SECONDS", "30"))
SEED = int(os.environ.get("REL_STRESS_SEED", str(int.from_bytes(
    os.urandom(4), "big"))))
TARGETS = ["s/t0", "s/t1", "s/t2"]
# Answers a racing StripeCommit may get (docs/protocol.md 9.9).
COMMIT_ERRORS = {ERR["BUSY"], ERR["NOT_FOUND"], ERR["PROTOCOL"],
                 ERR["BAD_HASH"]}
# Answers a range may get: refused chunks, an ended stripe, a cancel.
RANGE_ERRORS = {ERR["BUSY"], ERR["PROTOCOL"], ERR["CANCELLED"]}

t = Test("test_stripe_stress", 150)
print("seed %d" % SEED)
rng = random.Random(SEED)
ROOT = os.path.join(t.tmp, "root")
STATE = os.path.join(t.tmp, "state")
os.makedirs(os.path.join(ROOT, "s"))
t.add_user(STATE, USER, PW)
srv = t.start_server(ROOT, STATE, "--allow-plaintext", "--idle-timeout",
                     "30")

VERSIONS = {}  # target -> digests of every content it may hold
for name in TARGETS:
    old = os.urandom(rng.randrange(1, 4 * CS))
    with open(os.path.join(ROOT, name), "wb") as f:
        f.write(old)
    VERSIONS[name] = {hashlib.sha256(old).hexdigest()}


def sha_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


LOGIN = []  # the login rounds share until one of them ends it


def owner_login():
    """The owner's connection and token: the last round's, unless its
    owner left (a login costs an Argon2id verification)."""
    if not LOGIN:
        LOGIN.append(login(srv.port, USER, PW))
    return LOGIN[0]


class Round:
    """One round's connections, script and what came back."""

    def __init__(self, n):
        self.n = n
        self.path = rng.choice(TARGETS)
        self.data = os.urandom(rng.randrange(CS, 6 * CS))
        VERSIONS[self.path].add(hashlib.sha256(self.data).hexdigest())
        self.stripe = new_stripe()
        self.digest = file_hash(self.data)
        self.owner, token = owner_login()
        # One thread per connection: up to three ranges, a range sent a
        # second time, and a StripeCommit (a second one on the owner's).
        self.conns = [join(srv.port, token) for _ in range(5)]
        self.commits = 0  # PutDone answers to StripeCommit
        # A StripeCommit between two ranges, with chunks missing, ends
        # the stripe (PROTOCOL); a later range may start a new one.
        self.ended = False
        self.bad = []  # answers the spec does not allow
        self.owner_leaves = rng.random() < 0.2
        self.lock = threading.Lock()
        # Ranges: chunk-aligned cuts of the file, one per connection.
        count = (len(self.data) + CS - 1) // CS
        cuts = sorted(rng.sample(range(1, count), min(2, count - 1))) \
            if count > 1 else []
        bounds = [0] + [c * CS for c in cuts] + [len(self.data)]
        self.ranges = [(bounds[i], bounds[i + 1] - bounds[i])
                       for i in range(len(bounds) - 1)]
        # What each range's connection does; a spare connection sends
        # some range a second time, racing the first.
        self.acts = [rng.choice(["whole"] * 4 + ["abort", "hangup"])
                     for _ in self.ranges]
        self.whole = all(a == "whole" for a in self.acts)

    def note(self, what, e):
        """Records an answer the spec does not allow."""
        with self.lock:
            self.bad.append("%s: %r" % (what, e))

    def send_range(self, c, rid, off, ln, act):
        try:
            c.send(put_open(rid, self.path, len(self.data), self.stripe,
                            off, ln))
            nchunks = (ln + CS - 1) // CS
            if act == "whole":
                c.send(range_chunks(rid, self.data, off, ln) +
                       put_end(rid, self.data, off, ln))
            else:
                part = rng.randrange(0, nchunks)
                c.send(range_chunks(rid, self.data, off, ln, count=part))
                if act == "hangup":
                    time.sleep(rng.random() * 0.02)
                    c.close()
                    return
                c.send(put_end(rid, self.data, off, ln, abort=True))
            e = c.until_final(rid, 30)[-1]
            if not (e.body == B["put_done"] or
                    (e.body == B["error"] and e.code in RANGE_ERRORS) or
                    self.login_left(e)):
                self.note("range %d+%d (%s)" % (off, ln, act), e)
        except (Closed, Timeout, ValueError) as ex:
            if not (self.owner_leaves and isinstance(ex, Closed)):
                self.note("range %d+%d (%s)" % (off, ln, act), ex)

    def login_left(self, e):
        return self.owner_leaves and e.body == B["error"] and \
            e.code == ERR["AUTH_FAILED"]

    def commit(self, c, rid, delay):
        time.sleep(delay)
        try:
            c.send(stripe_commit(rid, self.stripe, self.digest))
            e = c.until_final(rid, 30)[-1]
        except (Closed, Timeout, ValueError) as ex:
            if not (self.owner_leaves and isinstance(ex, Closed)):
                self.note("StripeCommit", ex)
            return None
        if e.body == B["put_done"]:
            with self.lock:
                self.commits += 1
        elif e.body == B["error"] and e.code in (ERR["PROTOCOL"],
                                                 ERR["BAD_HASH"]):
            self.ended = True
        elif not (e.body == B["error"] and e.code in COMMIT_ERRORS or
                  self.login_left(e)):
            self.note("StripeCommit", e)
        return e

    def racing_commits(self, c, rid, delay):
        """StripeCommits again and again while the ranges go on, until
        one ends the stripe: some land while every chunk is in but a
        range is still open (sent a second time, or not yet closed)."""
        time.sleep(delay)
        for k in range(15):
            e = self.commit(c, rid + 100 * k, 0)
            if e is None or e.body != B["error"] or \
                    e.code not in (ERR["BUSY"], ERR["NOT_FOUND"]):
                return
            time.sleep(rng.random() * 0.004)

    def send_again(self, c, rid, off, ln, delay):
        """A range sent a second time, held open for a moment midway."""
        time.sleep(delay)
        half = (ln + CS - 1) // CS // 2
        try:
            c.send(put_open(rid, self.path, len(self.data), self.stripe,
                            off, ln) +
                   range_chunks(rid, self.data, off, ln, count=half))
            time.sleep(rng.random() * 0.01)
            c.send(range_chunks(rid, self.data, off, ln, first=half) +
                   put_end(rid, self.data, off, ln))
            e = c.until_final(rid, 30)[-1]
            if not (e.body == B["put_done"] or
                    (e.body == B["error"] and e.code in RANGE_ERRORS) or
                    self.login_left(e)):
                self.note("range %d+%d (again)" % (off, ln), e)
        except (Closed, Timeout, ValueError) as ex:
            if not (self.owner_leaves and isinstance(ex, Closed)):
                self.note("range %d+%d (again)" % (off, ln), ex)

    def leave(self, delay):
        """The login ends, sometimes just after a StripeCommit."""
        time.sleep(delay)
        try:
            if rng.random() < 0.5:
                self.owner.send(stripe_commit(30, self.stripe, self.digest))
        except (Closed, Timeout):
            pass
        self.owner.close()

    def run(self):
        work = []
        for i, (off, ln) in enumerate(self.ranges):
            work.append((self.send_range, (self.conns[i], 10 + i, off, ln,
                                           self.acts[i])))
        if rng.random() < 0.5:
            off, ln = rng.choice(self.ranges)
            work.append((self.send_again, (self.conns[3], 19, off, ln,
                                           rng.random() * 0.02)))
        # Commits on a joined connection and on the owner's (unless it
        # leaves), at random moments while the ranges are in flight.
        work.append((self.racing_commits, (self.conns[4], 31,
                                           rng.random() * 0.01)))
        if self.owner_leaves:
            work.append((self.leave, (rng.random() * 0.03,)))
        else:
            work.append((self.racing_commits, (self.owner, 30,
                                               rng.random() * 0.01)))
        gate = threading.Barrier(len(work))

        def start(fn, args):
            try:
                gate.wait(10)
            except threading.BrokenBarrierError:
                return
            fn(*args)

        th = [threading.Thread(target=start, args=w) for w in work]
        for x in th:
            x.start()
        for x in th:
            x.join(60)
        if any(x.is_alive() for x in th):
            t.fail("round %d: a connection still runs after 60 s" % self.n)
        if not self.owner_leaves:
            self.last_commit()
        self.close()
        # The stripe has ended: its partial goes with its last range.
        part = os.path.join(ROOT, "s", ".%s.wharf-part" %
                            os.path.basename(self.path))
        deadline = time.monotonic() + 10
        while os.path.exists(part) and time.monotonic() < deadline:
            time.sleep(0.02)
        t.expect(not os.path.exists(part), "round %d: the partial of %s "
                 "outlived its stripe" % (self.n, self.path))

    def last_commit(self):
        """Ends the stripe, repeating while BUSY (ranges still closing):
        if every range was sent whole the file must commit now."""
        e = None
        for k in range(100):
            e = self.commit(self.owner, 2000 + k, 0)
            if e is None or e.body != B["error"] or e.code != ERR["BUSY"]:
                break
            time.sleep(0.02)
        if self.commits:
            t.expect(sha_of(os.path.join(ROOT, self.path)) ==
                     hashlib.sha256(self.data).hexdigest(),
                     "round %d: a StripeCommit got PutDone, but %s is not "
                     "the new file" % (self.n, self.path))
        if not self.whole or self.ended:
            return
        t.expect(self.commits == 1, "round %d: every range was sent whole "
                 "but the last StripeCommit got %r" % (self.n, e))
        t.expect(sha_of(os.path.join(ROOT, self.path)) ==
                 hashlib.sha256(self.data).hexdigest(),
                 "round %d: committed, but %s is not the new file" %
                 (self.n, self.path))

    def close(self):
        for c in self.conns:
            c.close()
        if self.owner_leaves:
            self.owner.close()
            LOGIN.clear()


t0 = time.monotonic()
rounds = 0
while rounds < ROUNDS and time.monotonic() - t0 < SECONDS:
    r = Round(rounds)
    try:
        r.run()
    finally:
        r.close()
    rounds += 1
    t.expect(r.commits <= 1, "round %d: the stripe was committed %d times"
             % (r.n, r.commits))
    t.expect(not r.bad, "round %d (%s, owner leaves: %s): answers outside "
             "the spec: %s" % (r.n, r.acts, r.owner_leaves,
                               "; ".join(r.bad)[:2000]))
    for name in TARGETS:
        t.expect(sha_of(os.path.join(ROOT, name)) in VERSIONS[name],
                 "round %d: %s holds neither its old content nor a "
                 "complete new one" % (r.n, name))
    if not srv.alive():
        break
print("%d rounds in %.1f s" % (rounds, time.monotonic() - t0))
for owner, _ in LOGIN:
    owner.close()
srv.check_alive("after %d rounds" % rounds)

# Every connection is gone: every stripe has ended, and its partial too.
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    left = [x for x in os.listdir(os.path.join(ROOT, "s"))
            if x.endswith(".wharf-part")]
    if not left:
        break
    time.sleep(0.1)
t.expect(not left, "partials left after every connection ended: %s" % left)

# A real client, striped both ways, is served as before.
src = os.path.join(t.tmp, "good")
with open(src, "wb") as f:
    f.write(os.urandom(3 * 1024 * 1024 + 4321))
addr = "%s@127.0.0.1:%d" % (USER, srv.port)
rc, out, err = t.wharf("put", "--no-progress", addr, src, "/s/good",
                       "--streams", "3", password=PW, timeout=60)
t.expect(rc == 0 and os.path.exists(os.path.join(ROOT, "s", "good")) and
         sha_of(os.path.join(ROOT, "s", "good")) == sha_of(src),
         "a real striped put afterwards: exit %d, %s" % (rc, err[-500:]))
back = os.path.join(t.tmp, "back")
rc, out, err = t.wharf("get", "--no-progress", addr, "/s/good", back,
                       "--streams", "3", password=PW, timeout=60)
t.expect(rc == 0 and os.path.exists(back) and sha_of(back) == sha_of(src),
         "a real striped get afterwards: exit %d, %s" % (rc, err[-500:]))
srv.stop()
t.finish()
