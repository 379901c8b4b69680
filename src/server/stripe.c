/* SPDX-License-Identifier: MIT */
/*
 * The stripe table. One mutex guards the table and reference counts; each
 * stripe has its own mutex for its chunk map. Ranges write with pwrite at
 * their own offsets, so they never need the lock for data.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "wharf/stripe.h"
#include "wharf/xfer.h"

struct stripe {
	uint8_t id[STRIPE_ID_LEN];
	uint8_t token[STRIPE_TOKEN_LEN];
	int refs; /* users, plus one for the owning session */
	int done; /* committed or abandoned */
	int dirfd;
	int fd;
	char *name;
	char *part;
	uint64_t size;
	uint32_t chunk_size;
	enum hash_alg alg;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	uint32_t mode;
	uint64_t count;
	uint8_t *hashes; /* count * HASH_LEN */
	uint8_t *have; /* count flags */
	struct quota_hold *hold; /* the file's reservation in the quota */
	pthread_mutex_t mu;
};

static struct stripe *table[STRIPE_MAX];
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;

static void
destroy(struct stripe *st)
{
	/* Not committed: a striped partial has holes, it cannot resume. */
	if (!st->done || st->fd >= 0)
		unlinkat(st->dirfd, st->part, 0);
	quota_hold_free(st->hold, st->fd);
	if (st->fd >= 0)
		close(st->fd);
	close(st->dirfd);
	pthread_mutex_destroy(&st->mu);
	free(st->name);
	free(st->part);
	free(st->hashes);
	free(st->have);
	free(st);
}

/* Drops one reference (table lock held); frees at zero. */
static void
unref(size_t slot)
{
	struct stripe *st = table[slot];

	if (--st->refs > 0)
		return;
	table[slot] = NULL;
	destroy(st);
}

static int
slot_of(const uint8_t id[STRIPE_ID_LEN], const uint8_t token[STRIPE_TOKEN_LEN])
{
	int i;

	for (i = 0; i < STRIPE_MAX; i++)
		if (table[i] != NULL &&
		    memcmp(table[i]->id, id, STRIPE_ID_LEN) == 0 &&
		    sodium_memcmp(table[i]->token, token, STRIPE_TOKEN_LEN) ==
		        0)
			return i;
	return -1;
}

static int
create(const uint8_t id[STRIPE_ID_LEN], const uint8_t token[STRIPE_TOKEN_LEN],
    const struct stripe_file *f, struct stripe **out)
{
	struct stripe *st;
	uint64_t in_use, need;
	int r;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return WH_ERR_NOMEM;
	st->fd = st->dirfd = -1;
	pthread_mutex_init(&st->mu, NULL);
	memcpy(st->id, id, STRIPE_ID_LEN);
	memcpy(st->token, token, STRIPE_TOKEN_LEN);
	st->size = f->size;
	st->chunk_size = f->chunk_size;
	st->alg = f->alg;
	st->mtime_sec = f->mtime_sec;
	st->mtime_nsec = f->mtime_nsec;
	st->mode = f->mode;
	st->count = xfer_chunk_count(f->size, f->chunk_size);
	st->name = strdup(f->name);
	st->part = strdup(f->part);
	st->hashes = calloc(st->count ? st->count : 1, HASH_LEN);
	st->have = calloc(st->count ? st->count : 1, 1);
	if (st->name == NULL || st->part == NULL || st->hashes == NULL ||
	    st->have == NULL) {
		r = WH_ERR_NOMEM;
		goto fail;
	}
	if ((st->dirfd = dup(f->dirfd)) < 0) {
		r = wh_err_from_errno(errno);
		goto fail;
	}
	st->fd = openat(st->dirfd, st->part,
	    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (st->fd < 0) {
		r = wh_err_from_errno(errno);
		goto fail;
	}
	if (flock(st->fd, LOCK_EX | LOCK_NB) != 0) {
		close(st->fd);
		st->fd = -1;
		st->done = 1; /* not ours: do not unlink it */
		r = WH_ERR_BUSY;
		goto fail;
	}
	if ((r = quota_hold_new(
	         f->quota, f->quota_limit, f->size, &st->hold)) != 0 ||
	    (r = quota_hold_reserve(
	         st->hold, st->dirfd, st->name, st->fd, &in_use, &need)) != 0) {
		/* Refused before anything was written: a partial kept for
		 * resume by a plain upload stays, one made now goes. */
		struct stat pst;

		if (fstat(st->fd, &pst) == 0 && pst.st_size > 0) {
			close(st->fd);
			st->fd = -1;
			st->done = 1; /* not ours: do not unlink it */
		}
		goto fail;
	}
	if (ftruncate(st->fd, 0) != 0 ||
	    ftruncate(st->fd, (off_t)st->size) != 0) {
		r = wh_err_from_errno(errno);
		goto fail;
	}
	*out = st;
	return 0;
fail:
	if (st->dirfd < 0)
		st->dirfd = dup(f->dirfd);
	destroy(st);
	return r;
}

int
stripe_get(const uint8_t id[STRIPE_ID_LEN],
    const uint8_t token[STRIPE_TOKEN_LEN], const struct stripe_file *f,
    struct stripe **out)
{
	struct stripe *st = NULL;
	int slot, i, r = 0;

	*out = NULL;
	pthread_mutex_lock(&table_mu);
	if ((slot = slot_of(id, token)) >= 0) {
		st = table[slot];
		if (st->done || st->size != f->size ||
		    st->chunk_size != f->chunk_size || st->alg != f->alg ||
		    strcmp(st->name, f->name) != 0)
			r = WH_ERR_PROTOCOL;
		else {
			st->refs++;
			*out = st;
		}
		pthread_mutex_unlock(&table_mu);
		return r;
	}
	for (i = 0; i < STRIPE_MAX && table[i] != NULL; i++)
		;
	if (i == STRIPE_MAX)
		r = WH_ERR_BUSY;
	else if ((r = create(id, token, f, &st)) == 0 && st != NULL) {
		st->refs = 2; /* the caller and the owning session */
		table[i] = st;
		*out = st;
	}
	pthread_mutex_unlock(&table_mu);
	return r;
}

int
stripe_find(const uint8_t id[STRIPE_ID_LEN],
    const uint8_t token[STRIPE_TOKEN_LEN], struct stripe **out)
{
	int slot, r = WH_ERR_NOT_FOUND;

	*out = NULL;
	pthread_mutex_lock(&table_mu);
	if ((slot = slot_of(id, token)) >= 0 && !table[slot]->done) {
		table[slot]->refs++;
		*out = table[slot];
		r = 0;
	}
	pthread_mutex_unlock(&table_mu);
	return r;
}

void
stripe_put(struct stripe *st)
{
	int i;

	if (st == NULL)
		return;
	pthread_mutex_lock(&table_mu);
	for (i = 0; i < STRIPE_MAX; i++)
		if (table[i] == st) {
			unref((size_t)i);
			break;
		}
	pthread_mutex_unlock(&table_mu);
}

uint64_t
stripe_size(const struct stripe *st)
{
	return st->size;
}

int
stripe_write(struct stripe *st, uint64_t index, const uint8_t *raw,
    uint32_t len, const uint8_t hash[HASH_LEN])
{
	int r;

	if (index >= st->count)
		return WH_ERR_PROTOCOL;
	if ((r = xfer_pwrite_all(st->fd, raw, len, index * st->chunk_size)) !=
	    0)
		return r;
	pthread_mutex_lock(&st->mu);
	memcpy(st->hashes + index * HASH_LEN, hash, HASH_LEN);
	st->have[index] = 1;
	pthread_mutex_unlock(&st->mu);
	return 0;
}

int
stripe_commit(struct stripe *st, const uint8_t file_hash[HASH_LEN])
{
	struct xfer_digest d;
	struct timespec times[2];
	uint8_t h[HASH_LEN];
	uint64_t i;
	int r = 0, slot;

	pthread_mutex_lock(&st->mu);
	xfer_digest_init(&d, st->alg, st->chunk_size);
	for (i = 0; i < st->count && r == 0; i++) {
		if (!st->have[i])
			r = WH_ERR_PROTOCOL; /* a range is missing */
		else
			xfer_digest_add(&d, st->hashes + i * HASH_LEN,
			    xfer_chunk_len(st->size, st->chunk_size, i));
	}
	pthread_mutex_unlock(&st->mu);
	if (r == 0) {
		xfer_digest_peek(&d, h);
		if (sodium_memcmp(h, file_hash, HASH_LEN) != 0)
			r = WH_ERR_BAD_HASH;
	}
	times[0].tv_sec = times[1].tv_sec = (time_t)st->mtime_sec;
	times[0].tv_nsec = times[1].tv_nsec = (long)st->mtime_nsec;
	if (r == 0 &&
	    (fchmod(st->fd, st->mode) != 0 || futimens(st->fd, times) != 0 ||
	        fsync(st->fd) != 0))
		r = wh_err_from_errno(errno);
	if (r == 0)
		r = quota_hold_commit(st->hold, st->dirfd, st->part, st->name);
	if (r == 0 && fsync(st->dirfd) != 0)
		r = wh_err_from_errno(errno);
	/* Done either way: committed, or refused for good. */
	pthread_mutex_lock(&table_mu);
	if (r == 0) {
		close(st->fd);
		st->fd = -1;
	}
	st->done = 1;
	for (slot = 0; slot < STRIPE_MAX; slot++)
		if (table[slot] == st) {
			unref((size_t)slot); /* the owner's reference */
			break;
		}
	pthread_mutex_unlock(&table_mu);
	return r;
}

void
stripe_abandon(const uint8_t token[STRIPE_TOKEN_LEN])
{
	int i;

	pthread_mutex_lock(&table_mu);
	for (i = 0; i < STRIPE_MAX; i++)
		if (table[i] != NULL && !table[i]->done &&
		    sodium_memcmp(table[i]->token, token, STRIPE_TOKEN_LEN) ==
		        0) {
			table[i]->done = 1;
			unref((size_t)i);
		}
	pthread_mutex_unlock(&table_mu);
}
