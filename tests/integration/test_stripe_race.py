#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Two StripeCommits at once while a range is still open (issue 15).

One login and four joined connections, over the raw wire (rel_stripe.py,
docs/protocol.md section 9.9): A uploads the whole file as one range, B
opens the same range again and keeps it open, C and D send StripeCommit
at the same instant. A commit while a range is open must be refused (the
open range could still change the data the commit checked), the stripe
must stay usable: B finishes its range, one StripeCommit then commits
the file, and the other (racing it) is refused. Before the fix both commits
passed, each dropped "the owner's reference", and B's next chunk wrote
through freed memory (ASan: heap-use-after-free in stripe_write).

The race is repeated ROUNDS times (REL_STRIPE_ROUNDS, default 20), each
round bounded; the whole test has a 120 s limit. The server must stay
up with no sanitizer report, and every target is the complete new file.
"""

import os
import sys
import threading

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rel_wire import B, ERR, ERR_NAME, Closed, Test, Timeout  # noqa: E402
from rel_stripe import (CS, join, login, new_stripe, put_end,  # noqa: E402
                        put_open, range_chunks, stripe_commit, file_hash,
                        upload_range)

USER = "rita"
PW = "rita pw 5"
ROUNDS = int(os.environ.get("REL_STRIPE_ROUNDS", "20"))

t = Test("test_stripe_race", 120)
ROOT = os.path.join(t.tmp, "root")
STATE = os.path.join(t.tmp, "state")
os.makedirs(os.path.join(ROOT, "race"))
t.add_user(STATE, USER, PW)
srv = t.start_server(ROOT, STATE, "--allow-plaintext", "--idle-timeout",
                     "30")


def commit_at_once(conns, rid, stripe, digest):
    """Sends StripeCommit on every connection at the same instant;
    returns their final answers (or the exception that ended each)."""
    gate = threading.Barrier(len(conns))
    out = [None] * len(conns)

    def one(i, c):
        try:
            gate.wait(10)
            c.send(stripe_commit(rid, stripe, digest))
            out[i] = c.until_final(rid, 30)[-1]
        except (Closed, Timeout, ValueError, threading.BrokenBarrierError) \
                as ex:
            out[i] = ex

    th = [threading.Thread(target=one, args=(i, c))
          for i, c in enumerate(conns)]
    for x in th:
        x.start()
    for x in th:
        x.join(40)
    return out


def show(e):
    if isinstance(e, Exception):
        return "%s: %s" % (type(e).__name__, e)
    return repr(e)


def one_round(n):
    """One race; True if every check of the round passed."""
    path = "race/f%d" % n
    data = os.urandom(3 * CS + 1000 + n)
    size = len(data)
    stripe = new_stripe()
    digest = file_hash(data)
    owner, token = login(srv.port, USER, PW)
    a, b, c, d = (join(srv.port, token) for _ in range(4))
    good = True
    try:
        e = upload_range(a, 10, path, data, stripe, 0, size)
        good &= t.expect(e.body == B["put_done"],
                         "round %d: A's range: %s" % (n, show(e)))
        # B opens the same range; the Ping behind it says it is open.
        b.send(put_open(20, path, size, stripe, 0, size))
        got = b.sync()
        good &= t.expect(got == [], "round %d: B's PutOpen answered %r" %
                         (n, got))
        res = commit_at_once([c, d], 30, stripe, digest)
        good &= t.expect(
            all(not isinstance(e, Exception) and e.body == B["error"] and
                e.code == ERR["BUSY"] for e in res),
            "round %d: StripeCommit while a range is open must be "
            "refused with BUSY on both connections, got %s" %
            (n, ", ".join(show(e) for e in res)))
        # B writes its range: before the fix, into a freed stripe.
        b.send(range_chunks(20, data, 0, size) + put_end(20, data, 0, size))
        e = b.until_final(20, 30)[-1]
        good &= t.expect(e.body == B["put_done"],
                         "round %d: B's range after the refused commits: "
                         "%s" % (n, show(e)))
        srv.check_alive("round %d" % n)
        res = commit_at_once([c, d], 31, stripe, digest)
        kinds = sorted("done" if not isinstance(e, Exception) and
                       e.body == B["put_done"] else
                       ERR_NAME.get(e.code, e.code)
                       if not isinstance(e, Exception) and
                       e.body == B["error"] else show(e) for e in res)
        # The loser finds the commit under way (BUSY) or done (NOT_FOUND).
        good &= t.expect(kinds in (["BUSY", "done"], ["NOT_FOUND", "done"]),
                         "round %d: two StripeCommits of a finished stripe: "
                         "exactly one must commit, got %s" % (n, kinds))
        srv.check_alive("round %d, commit" % n)
        with open(os.path.join(ROOT, path), "rb") as f:
            good &= t.expect(f.read() == data,
                             "round %d: the target is not the new file" % n)
    except (Closed, Timeout, ValueError) as ex:
        srv.check_alive("round %d (%s: %s)" % (n, type(ex).__name__, ex))
        t.soft_fail("round %d: %s: %s" % (n, type(ex).__name__, ex))
        good = False
    finally:
        for x in (a, b, c, d, owner):
            x.close()
    return good


for n in range(ROUNDS):
    if not one_round(n):
        break
srv.check_alive("after %d rounds" % ROUNDS)
leftover = [x for x in os.listdir(os.path.join(ROOT, "race"))
            if x.endswith(".wharf-part")]
t.expect(not leftover, "partials left behind: %s" % leftover)
srv.stop()
t.finish()
