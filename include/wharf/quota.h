/* SPDX-License-Identifier: MIT */
/*
 * Quota accounts on the server: one per folder a quota is over (a user's
 * home, or the root for a user without one), shared by every session and
 * thread of every user with a quota there. An upload reserves what it may
 * add at PutOpen and settles it at the rename that commits it, so that
 * no mix of connections, joins, pipelining or group commits can commit
 * more than the quota allows.
 */
#ifndef WHARF_QUOTA_H
#define WHARF_QUOTA_H

#include <stdint.h>

#include "wharf/err.h"

/* A count older than this (seconds) is redone at the next reservation:
 * other servers and local users may change the folder behind our back. */
#define QUOTA_RECOUNT_SEC 5.0
/* Counts started again when folders move during one; then it gives up. */
#define QUOTA_COUNT_TRIES 3
/* The folder in the state folder that holds the shared ledgers. */
#define QUOTA_DIR_NAME "quota"
/* An account's name there: its folder's inode number in hex. */
#define QUOTA_KEY_LEN 16
#define QUOTA_HOLD_NAME_MAX (QUOTA_KEY_LEN + 32)

/*
 * Shares every account made from now on with the other servers on
 * state_dir (docs/deployment.md): the count lives in a ledger file in
 * <state_dir>/quota (made if missing), and every reservation in a hold
 * file there, all under flock. Without it, accounts are per process.
 * Called once, before the first account, while the state folder can
 * still be created in.
 */
int quota_shared_open(const char *state_dir) WH_MUST_CHECK;

/*
 * An account. Keyed by the device and inode of its folder, so that two
 * users with one home share one account (each checked against their own
 * quota: the folder is over a user's quota, whoever filled it).
 *
 *   used      bytes of the regular files beneath the folder, at any
 *             depth, partials kept for resume included, but not the
 *             partials of uploads in flight (their holds cover them);
 *             a walk sets it, commits, releases and removals adjust it.
 *   reserved  the sum of the holds not yet settled or released.
 *
 * Shared state: a global table (its own mutex) finds accounts and counts
 * references; each account has a mutex that guards used, reserved and
 * its holds, and is held across the stat-and-rename of a commit and the
 * stat-and-unlink of a removal, so that every byte is credited once. A
 * count walks without it and is thrown away if the account changed
 * meanwhile (after QUOTA_COUNT_TRIES, one walk holds it). Each session of a user with a quota holds one reference (taken at
 * login or join, dropped at its end), each hold one more; the last
 * quota_account_put frees the account and closes its folder fd.
 */
struct quota_account;

/*
 * One upload's reservation. Owned by the upload (or, for a striped
 * upload, by its stripe), which ends it with quota_hold_free exactly
 * once. Every hold function accepts NULL: no quota, nothing to account.
 */
struct quota_hold;

/*
 * The account of the folder open at dir_fd (any fd of it, O_PATH too),
 * made on first use. A new login marks an existing account for a recount,
 * as a new session used to count afresh. *out holds a reference.
 */
int quota_account_get(int dir_fd, struct quota_account **out) WH_MUST_CHECK;
void quota_account_put(struct quota_account *a);
/* The same, counted first if the count is stale (as a reservation
 * does), for the df and quota commands; an error if it cannot count. */
int quota_account_usage(
    struct quota_account *a, uint64_t *used, uint64_t *reserved) WH_MUST_CHECK;
/* What the account holds now: counted bytes and reservations. */
void
quota_account_peek(struct quota_account *a, uint64_t *used, uint64_t *reserved);

/*
 * A hold on a (NULL: *out = NULL) for an upload of size bytes by a user
 * whose quota is limit bytes. Nothing is reserved yet.
 */
int quota_hold_new(struct quota_account *a, uint64_t limit, uint64_t size,
    struct quota_hold **out) WH_MUST_CHECK;

/*
 * Reserves what the upload may add: size less the regular file name in
 * dirfd that it replaces. part_fd is its partial, open and locked by the
 * caller, so that no other upload owns it: its bytes leave the count (they
 * become the file), and counts skip it while the hold lives. Recounts a
 * stale account first. WH_ERR_TOO_LARGE if the folder would pass the
 * limit, with *in_use (used + reserved) and *need for the message.
 */
int quota_hold_reserve(struct quota_hold *h, int dirfd, const char *name,
    int part_fd, uint64_t *in_use, uint64_t *need) WH_MUST_CHECK;

/* The upload's partial is now part_fd (a delta upload starts afresh). */
void quota_hold_track(struct quota_hold *h, int part_fd);

/*
 * Commits: renames part onto name in dirfd, under the account lock, and
 * settles (used += size - the file it replaced, the reservation goes).
 * The rename is xfer_partial_install's: only if part is still part_fd's
 * inode (WH_ERR_IO otherwise). WH_ERR_TOO_LARGE, and nothing renamed, if
 * the file it was to replace went meanwhile and the difference does not
 * fit. With h NULL, the checked rename alone.
 */
int quota_hold_commit(struct quota_hold *h, int dirfd, const char *part,
    int part_fd, const char *name) WH_MUST_CHECK;

/*
 * Ends h (NULL is fine). A reservation never settled is released, and
 * part_fd's bytes, if it is still linked (a partial kept for resume),
 * return to the count. part_fd may be -1 (gone).
 */
void quota_hold_free(struct quota_hold *h, int part_fd);

/*
 * unlinkat(dirfd, name, 0) with the file's bytes taken off a's count
 * (a NULL: the unlink alone). 0 or an error from errno.
 */
int quota_unlink(
    struct quota_account *a, int dirfd, const char *name) WH_MUST_CHECK;

/*
 * Bytes of the regular files beneath dir_fd, at any depth, without
 * following symbolic links, in a bounded number of fds (folders are left
 * and re-entered through ".." checked by device and inode). WH_ERR_BUSY
 * if a folder moved during the walk.
 */
int quota_count(int dir_fd, uint64_t *out) WH_MUST_CHECK;

#endif
