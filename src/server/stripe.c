/* SPDX-License-Identifier: MIT */
/*
 * The stripe table and each stripe's state machine (see stripe.h for who
 * owns what and which lock guards it). Ranges write with pwrite at their
 * own offsets, so they never hold a lock for data.
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

#include "wharf/commit.h"
#include "wharf/stripe.h"
#include "wharf/xfer.h"

enum stripe_state {
	STRIPE_OPEN, /* ranges may open, write and close */
	STRIPE_COMMITTING, /* one commit runs; nothing else may start */
	STRIPE_COMMITTED, /* renamed into place */
	STRIPE_FAILED /* refused or abandoned: deleted at the last reference */
};

/* What a chunk of the map holds. */
enum {
	CHUNK_MISSING,
	CHUNK_WRITING, /* one range is writing it, outside the lock */
	CHUNK_HAVE /* written, and its digest recorded */
};

struct stripe {
	uint8_t id[WIRE_STRIPE_ID_LEN];
	uint8_t token[WIRE_TOKEN_LEN];
	/* Guarded by table_mu. */
	enum stripe_state state;
	int refs; /* the owner's, one per open range, one per commit */
	int ranges; /* open ranges */
	int slot; /* index in table */
	/* Set once before the stripe is in the table, or (renamed) by the
	 * one commit while no range is open. */
	int part_ours; /* we made and locked the partial: we may unlink it */
	int renamed; /* the partial is the target now */
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
	/* Guarded by mu. */
	uint8_t *hashes; /* count * HASH_LEN */
	uint8_t *have; /* count CHUNK_* */
	pthread_mutex_t mu;
	/* The file's reservation in the quota: made at create, settled by
	 * the one commit, ended in destroy. */
	struct quota_hold *hold;
};

static struct stripe *table[STRIPE_MAX];
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;

static void
destroy(struct stripe *st)
{
	/* Not committed: a striped partial has holes, it cannot resume. */
	if (st->part_ours && !st->renamed)
		unlinkat(st->dirfd, st->part, 0);
	quota_hold_free(st->hold, st->fd);
	if (st->fd >= 0)
		close(st->fd); /* also drops the lock */
	if (st->dirfd >= 0)
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
unref(struct stripe *st)
{
	if (--st->refs > 0)
		return;
	table[st->slot] = NULL;
	destroy(st);
}

/* Moves to a final state (table lock held), which drops the owner's
 * reference: a stripe ends once, so that happens once. */
static void
finish(struct stripe *st, enum stripe_state to)
{
	st->state = to;
	unref(st);
}

static int
slot_of(
    const uint8_t id[WIRE_STRIPE_ID_LEN], const uint8_t token[WIRE_TOKEN_LEN])
{
	int i;

	for (i = 0; i < STRIPE_MAX; i++)
		if (table[i] != NULL &&
		    memcmp(table[i]->id, id, WIRE_STRIPE_ID_LEN) == 0 &&
		    sodium_memcmp(table[i]->token, token, WIRE_TOKEN_LEN) == 0)
			return i;
	return -1;
}

static int
create(const uint8_t id[WIRE_STRIPE_ID_LEN],
    const uint8_t token[WIRE_TOKEN_LEN], const struct stripe_file *f,
    struct stripe **out)
{
	struct stripe *st;
	struct stat pst;
	uint64_t in_use, need;
	int fresh, r;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return WH_ERR_NOMEM;
	st->fd = st->dirfd = -1;
	pthread_mutex_init(&st->mu, NULL);
	memcpy(st->id, id, WIRE_STRIPE_ID_LEN);
	memcpy(st->token, token, WIRE_TOKEN_LEN);
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
	/* BUSY: another upload holds it; not ours, it stays. */
	if ((r = xfer_partial_open(
	         st->dirfd, st->part, 0, &st->fd, &fresh, NULL)) != 0)
		goto fail;
	if ((r = quota_hold_new(
	         f->quota, f->quota_limit, f->size, &st->hold)) != 0 ||
	    (r = quota_hold_reserve(
	         st->hold, st->dirfd, st->name, st->fd, &in_use, &need)) != 0) {
		/* Refused before anything was written: a partial kept for
		 * resume by a plain upload stays, one made now goes. */
		if (fstat(st->fd, &pst) == 0 && pst.st_size > 0) {
			close(st->fd);
			st->fd = -1;
		} else
			st->part_ours = 1;
		goto fail;
	}
	st->part_ours = 1;
	if (ftruncate(st->fd, 0) != 0 ||
	    ftruncate(st->fd, (off_t)st->size) != 0) {
		r = wh_err_from_errno(errno);
		goto fail;
	}
	*out = st;
	return 0;
fail:
	destroy(st);
	return r;
}

int
stripe_get(const uint8_t id[WIRE_STRIPE_ID_LEN],
    const uint8_t token[WIRE_TOKEN_LEN], const struct stripe_file *f,
    struct stripe **out)
{
	struct stripe *st = NULL;
	int slot, i, r = 0;

	*out = NULL;
	pthread_mutex_lock(&table_mu);
	if ((slot = slot_of(id, token)) >= 0) {
		st = table[slot];
		if (st->state == STRIPE_COMMITTING)
			r = WH_ERR_BUSY;
		else if (st->state != STRIPE_OPEN || st->size != f->size ||
		    st->chunk_size != f->chunk_size || st->alg != f->alg ||
		    strcmp(st->name, f->name) != 0)
			r = WH_ERR_PROTOCOL;
		else {
			st->refs++;
			st->ranges++;
			*out = st;
		}
		pthread_mutex_unlock(&table_mu);
		return r;
	}
	for (i = 0; i < STRIPE_MAX && table[i] != NULL; i++)
		;
	if (f->owner_alive != NULL && !atomic_load(f->owner_alive))
		r = WH_ERR_AUTH; /* abandoned already, or about to be */
	else if (i == STRIPE_MAX)
		r = WH_ERR_BUSY;
	else if ((r = create(id, token, f, &st)) == 0 && st != NULL) {
		st->state = STRIPE_OPEN;
		st->refs = 2; /* the range and the owner */
		st->ranges = 1;
		st->slot = i;
		table[i] = st;
		*out = st;
	}
	pthread_mutex_unlock(&table_mu);
	return r;
}

void
stripe_put(struct stripe *st)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&table_mu);
	st->ranges--;
	unref(st);
	pthread_mutex_unlock(&table_mu);
}

int
stripe_write(struct stripe *st, uint64_t index, const uint8_t *raw,
    uint32_t len, const uint8_t hash[HASH_LEN])
{
	int r;

	if (index >= st->count)
		return WH_ERR_PROTOCOL;
	/* Two ranges may overlap; one chunk has one writer at a time, so
	 * that the digest recorded is that of the bytes on disk. */
	pthread_mutex_lock(&st->mu);
	if (st->have[index] == CHUNK_WRITING) {
		pthread_mutex_unlock(&st->mu);
		return WH_ERR_BUSY;
	}
	st->have[index] = CHUNK_WRITING;
	pthread_mutex_unlock(&st->mu);
	r = xfer_pwrite_all(st->fd, raw, len, index * st->chunk_size);
	pthread_mutex_lock(&st->mu);
	if (r == 0) {
		memcpy(st->hashes + index * HASH_LEN, hash, HASH_LEN);
		st->have[index] = CHUNK_HAVE;
	} else
		st->have[index] = CHUNK_MISSING;
	pthread_mutex_unlock(&st->mu);
	return r;
}

/* The commit routine's rename: through the quota's lock. */
static int
install(void *arg)
{
	struct stripe *st = arg;

	return quota_hold_commit(
	    st->hold, st->dirfd, st->part, st->fd, st->name);
}

/* The commit proper, by the one caller that moved st to COMMITTING: no
 * range is open and none may open, so the data cannot change under it. */
static int
commit_run(struct stripe *st, const uint8_t file_hash[HASH_LEN])
{
	struct xfer_commit c;
	struct xfer_meta meta;
	struct xfer_digest d;
	uint8_t h[HASH_LEN];
	uint64_t i;
	int r = 0;

	pthread_mutex_lock(&st->mu);
	xfer_digest_init(&d, st->alg, st->chunk_size);
	for (i = 0; i < st->count && r == 0; i++) {
		if (st->have[i] != CHUNK_HAVE)
			r = WH_ERR_PROTOCOL; /* a range is missing */
		else
			xfer_digest_add(&d, st->hashes + i * HASH_LEN,
			    xfer_chunk_len(st->size, st->chunk_size, i));
	}
	pthread_mutex_unlock(&st->mu);
	if (r != 0)
		return r;
	xfer_digest_peek(&d, h);
	if (sodium_memcmp(h, file_hash, HASH_LEN) != 0)
		return WH_ERR_BAD_HASH;
	/* The size is set at create: no cut. The rename, under the quota's
	 * lock, settles the reservation. */
	meta.mtime_sec = st->mtime_sec;
	meta.mtime_nsec = st->mtime_nsec;
	meta.mode = st->mode;
	xfer_commit_init(
	    &c, st->dirfd, st->part, st->name, st->fd, st->size, &meta, 0);
	c.install = install;
	c.install_arg = st;
	r = xfer_commit(&c);
	st->renamed = c.installed;
	return r;
}

int
stripe_commit(const uint8_t id[WIRE_STRIPE_ID_LEN],
    const uint8_t token[WIRE_TOKEN_LEN], const uint8_t file_hash[HASH_LEN],
    uint64_t *size)
{
	struct stripe *st = NULL;
	int slot, r = 0;

	*size = 0;
	pthread_mutex_lock(&table_mu);
	if ((slot = slot_of(id, token)) < 0 ||
	    (table[slot]->state != STRIPE_OPEN &&
	        table[slot]->state != STRIPE_COMMITTING))
		r = WH_ERR_NOT_FOUND;
	else if (table[slot]->state == STRIPE_COMMITTING ||
	    table[slot]->ranges > 0)
		r = WH_ERR_BUSY; /* still open, and left so */
	else {
		st = table[slot];
		st->state = STRIPE_COMMITTING;
		st->refs++;
		*size = st->size;
	}
	pthread_mutex_unlock(&table_mu);
	if (st == NULL)
		return r;
	/* The fsyncs take long: no lock is held for them. */
	r = commit_run(st, file_hash);
	pthread_mutex_lock(&table_mu);
	finish(st, r == 0 ? STRIPE_COMMITTED : STRIPE_FAILED);
	unref(st); /* the commit's own */
	pthread_mutex_unlock(&table_mu);
	return r;
}

void
stripe_abandon(const uint8_t token[WIRE_TOKEN_LEN])
{
	struct stripe *st;
	int i;

	pthread_mutex_lock(&table_mu);
	for (i = 0; i < STRIPE_MAX; i++) {
		st = table[i];
		/* A commit under way ends the stripe itself. */
		if (st != NULL && st->state == STRIPE_OPEN &&
		    sodium_memcmp(st->token, token, WIRE_TOKEN_LEN) == 0)
			finish(st, STRIPE_FAILED);
	}
	pthread_mutex_unlock(&table_mu);
}
