/* SPDX-License-Identifier: MIT */
/*
 * Striped uploads on the server: several connections of one session each
 * upload a range of the same file into one shared partial. A table keyed
 * by a random stripe id holds the partial, the chunk digests of every
 * range and which chunks arrived; StripeCommit checks the whole and
 * renames it into place. A striped upload that its session abandons is
 * deleted, never committed half-done.
 */
#ifndef WHARF_STRIPE_H
#define WHARF_STRIPE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wharf/err.h"
#include "wharf/hash.h"
#include "wharf/quota.h"

#define STRIPE_ID_LEN 16
#define STRIPE_TOKEN_LEN 32
#define STRIPE_MAX 64

struct stripe;

struct stripe_file {
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
 * The stripe with this id of this session (token), created with f on
 * first use; a reference is held until stripe_put. WH_ERR_PROTOCOL if
 * the id names a stripe of another file or size; WH_ERR_BUSY if another
 * upload holds the partial; WH_ERR_TOO_LARGE if a new stripe's file does
 * not fit f->quota. The stripe keeps that reservation until its commit
 * settles it or its end releases it.
 */
int stripe_get(const uint8_t id[STRIPE_ID_LEN],
    const uint8_t token[STRIPE_TOKEN_LEN], const struct stripe_file *f,
    struct stripe **out) WH_MUST_CHECK;
/* The same, without creating it (StripeCommit). */
int stripe_find(const uint8_t id[STRIPE_ID_LEN],
    const uint8_t token[STRIPE_TOKEN_LEN], struct stripe **out) WH_MUST_CHECK;
void stripe_put(struct stripe *st);

/* Writes chunk index (raw bytes with their digest) into the partial. */
int stripe_write(struct stripe *st, uint64_t index, const uint8_t *raw,
    uint32_t len, const uint8_t hash[HASH_LEN]) WH_MUST_CHECK;

/*
 * Checks that every chunk arrived and that file_hash is the file digest
 * of them all, then commits (mode, mtime, fsync, rename). The stripe is
 * done afterwards either way.
 */
int stripe_commit(
    struct stripe *st, const uint8_t file_hash[HASH_LEN]) WH_MUST_CHECK;
uint64_t stripe_size(const struct stripe *st);

/* The session owning token is gone: its unfinished stripes go too. */
void stripe_abandon(const uint8_t token[STRIPE_TOKEN_LEN]);

#endif
