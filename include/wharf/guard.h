/* SPDX-License-Identifier: MIT */
/*
 * Throttling of password and passcode guessing (docs/protocol.md §7 and
 * §10.2). Every Argon2id verification passes a gate first: a bounded
 * number in flight per key, failures that push back the next check of the
 * same key (1 s, 2 s, 4 s, ... up to GUARD_DELAY_MAX_MS), and token
 * buckets that bound the failures of a wider key over time.
 *
 * A login is gated by (source, user name) with the doubling penalty, by
 * its source (an IPv4 address, an IPv6 /64) and by its user name with
 * buckets; a passcode check by (user, file) with the penalty, by the file
 * and by the user with buckets. A success forgives the penalty of its
 * own key only.
 *
 * The table is fixed in size and never drops a record that still carries
 * something, so rotating through addresses resets nothing: when the
 * records a key could use all do, it shares its kind's one overflow
 * record with every other such key (throttled together, fail closed).
 *
 * Shared state: one table, one mutex and one condition variable in
 * guard.c, for all sessions; a record lives until it carries nothing,
 * then its slot may be taken by another key.
 */
#ifndef WHARF_GUARD_H
#define WHARF_GUARD_H

#include <stdint.h>

#include "wharf/err.h"

/* Penalty after the n-th failure of a key: min(BASE << (n - 1), MAX). */
#define GUARD_DELAY_BASE_MS 1000
#define GUARD_DELAY_MAX_MS 30000
/* A key's failures are forgotten after this long without one. */
#define GUARD_FORGET_MS (600 * 1000)
/* Records, in sets of GUARD_WAYS picked by a keyed digest. */
#define GUARD_TABLE_MAX 16384
#define GUARD_WAYS 16
/* Logins at once from a source that has not failed lately (a NAT, a
 * load test), and from one that has. */
#define GUARD_SOURCE_INFLIGHT 2
#define GUARD_SOURCE_INFLIGHT_FAILED 1
/* Failed logins from one source, for all user names: a burst, then one
 * per refill period. */
#define GUARD_SOURCE_BURST 10
#define GUARD_SOURCE_REFILL_MS 30000
/* Failed logins naming one user, from all sources but the one it last
 * logged in from. */
#define GUARD_USER_BURST 10
#define GUARD_USER_REFILL_MS 6000
/* Wrong passcodes for one file, from all users. */
#define GUARD_FILE_BURST 10
#define GUARD_FILE_REFILL_MS 6000
/* Wrong passcodes from one user, for all files. */
#define GUARD_USER_FILES_BURST 10
#define GUARD_USER_FILES_REFILL_MS 6000
/* How long a passcode check may wait for its turn, and the longest
 * pause before a wrong passcode is answered. */
#define GUARD_PASSCODE_WAIT_MS 10000

#define GUARD_KEY_LEN 16
#define GUARD_TICKET_KEYS 3

enum guard_outcome {
	GUARD_PASS, /* the secret was right */
	GUARD_FAIL, /* wrong (or missing): a guess */
	GUARD_VOID, /* nothing was learned (an internal error) */
};

/* One verification's hold on the gate; on the caller's stack. */
struct guard_ticket {
	int nheld;
	int held[GUARD_TICKET_KEYS]; /* table slots, busy while held */
	int charged[GUARD_TICKET_KEYS]; /* spent a token of that slot */
	uint8_t source[GUARD_KEY_LEN]; /* a login's source */
	int has_source;
};

/*
 * Waits until a login password check for user from addr (as printed,
 * "192.0.2.1" or "2001:db8::1") may start, and holds t. Returns 0, or
 * without holding anything WH_ERR_BUSY as soon as a penalty or a bucket
 * puts its turn after deadline_ms (monotonic, guard_now_ms). Waiting for
 * checks in flight to end is not cut by the deadline: they end with
 * their Argon2id.
 */
int guard_login_begin(struct guard_ticket *t, const char *addr,
    const char *user, int64_t deadline_ms) WH_MUST_CHECK;
/* The same for a passcode check of file rpath by user. */
int guard_passcode_begin(struct guard_ticket *t, const char *user,
    const char *rpath, int64_t deadline_ms) WH_MUST_CHECK;
/*
 * Releases t with what the check found. Returns the monotonic time in ms
 * at which the answer may be sent: now, or for a failure the end of its
 * penalty (the caller waits, up to its deadline).
 */
int64_t guard_end(struct guard_ticket *t, enum guard_outcome outcome);

/* The clock the deadlines are in (monotonic milliseconds). */
int64_t guard_now_ms(void);

/* Forgets every record. For fuzzers, which also pass waits = 0: the
 * records are kept but nothing ever waits for a penalty or a token. */
void guard_reset(int waits);

#endif
