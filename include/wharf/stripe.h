/* SPDX-License-Identifier: MIT */
/*
 * Striped uploads on the server: several connections of one session each
 * upload a range of the same file into one shared partial. A table keyed
 * by a random stripe id holds the partial, the chunk digests of every
 * range and which chunks arrived; StripeCommit checks the whole and
 * renames it into place. A striped upload that its session abandons is
 * deleted, never committed half-done.
 *
 * Shared state (every connection thread of a login touches a stripe):
 * - Owners. A stripe holds one reference for the login that made it (the
 *   owner's reference), one per open range (stripe_get .. stripe_put, held
 *   by that connection's upload) and one for a commit under way.
 * - Locks. The table lock guards the table and, in each stripe, its
 *   state, its reference count and its count of open ranges. The stripe's
 *   own lock guards its chunk map; chunk data is written outside any lock,
 *   at the chunk's offset, by the one range that claimed the chunk.
 * - States. OPEN -> COMMITTING (one StripeCommit won: no range was open,
 *   none may open now) -> COMMITTED or FAILED; OPEN -> FAILED (the login
 *   ended: stripe_abandon). The owner's reference is dropped exactly once,
 *   on entering COMMITTED or FAILED, by whoever made that move: the commit
 *   that won, or stripe_abandon. A login that ends during a commit leaves
 *   the owner's reference to that commit. The login says it has ended
 *   (owner_alive) before it calls stripe_abandon, and stripe_get reads
 *   that under the table lock: no stripe is made that abandon misses.
 * - Lifetime. The last reference frees the stripe: its partial is
 *   unlinked unless the commit renamed it into place, its fds closed.
 */
#ifndef WHARF_STRIPE_H
#define WHARF_STRIPE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wharf/err.h"
#include "wharf/hash.h"
#include "wharf/quota.h"
#include "wharf/wire.h"

/* Ids and tokens: WIRE_STRIPE_ID_LEN and WIRE_TOKEN_LEN (wire.h). */
#define STRIPE_MAX 64

struct stripe;

struct stripe_file {
	/* The owning login's, borrowed: once 0, no stripe of it is made,
	 * since stripe_abandon (which comes after) may have run already. */
	const atomic_int *owner_alive;
	int dirfd; /* borrowed: duplicated by stripe_get */
	const char *name;
	const char *part;
	uint64_t size;
	uint32_t chunk_size;
	enum hash_alg alg;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	uint32_t mode;
	/* The quota a new stripe reserves its file in (NULL: none). */
	struct quota_account *quota;
	uint64_t quota_limit;
};

/*
 * Opens a range of the stripe with this id of this session (token),
 * created with f on first use; the caller holds a reference until
 * stripe_put closes the range. WH_ERR_PROTOCOL if the id names a stripe
 * of another file or size, or one that has ended; WH_ERR_BUSY if it is
 * being committed or another upload holds the partial; WH_ERR_TOO_LARGE
 * if a new stripe's file does not fit f->quota (the stripe keeps that
 * reservation until its commit settles it or its end releases it);
 * WH_ERR_AUTH if the owning login has ended.
 */
int stripe_get(const uint8_t id[WIRE_STRIPE_ID_LEN],
    const uint8_t token[WIRE_TOKEN_LEN], const struct stripe_file *f,
    struct stripe **out) WH_MUST_CHECK;
/* Closes the range opened by stripe_get (NULL: nothing). */
void stripe_put(struct stripe *st);

/*
 * Writes chunk index (raw bytes with their digest) into the partial, for
 * a caller holding an open range. WH_ERR_BUSY if another range is writing
 * that chunk at this moment.
 */
int stripe_write(struct stripe *st, uint64_t index, const uint8_t *raw,
    uint32_t len, const uint8_t hash[HASH_LEN]) WH_MUST_CHECK;

/*
 * StripeCommit: checks that every chunk arrived and that file_hash is
 * the file digest of them all, then commits (mode, mtime, fsync, rename);
 * *size is the file's size. WH_ERR_NOT_FOUND if this session has no open
 * stripe with this id; WH_ERR_BUSY, changing nothing, while a range is
 * open or another commit of it is under way. Any other result ends the
 * stripe (committed, or refused for good and deleted).
 */
int stripe_commit(const uint8_t id[WIRE_STRIPE_ID_LEN],
    const uint8_t token[WIRE_TOKEN_LEN], const uint8_t file_hash[HASH_LEN],
    uint64_t *size) WH_MUST_CHECK;

/* The session owning token is gone: its stripes not being committed end
 * (deleted once their last range closes). */
void stripe_abandon(const uint8_t token[WIRE_TOKEN_LEN]);

#endif
