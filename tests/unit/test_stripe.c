/* SPDX-License-Identifier: MIT */
/*
 * The stripe table's state machine (stripe.h): a commit while a range is
 * open is refused and changes nothing, racing commits commit once, an
 * abandoned stripe goes with its last range, and a login that has ended
 * makes no stripe. Each case runs in a fresh temporary folder.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <sodium.h>

#include "wharf/stripe.h"
#include "wharf/xfer.h"

#include "suites.h"

#define ST_CHUNK XFER_CHUNK_MIN
#define ST_CHUNKS 3
#define ST_SIZE (ST_CHUNKS * ST_CHUNK - 100)
#define ST_RACERS 4
#define ST_RACES 30

struct fixture {
	char dir[TU_PATH_MAX];
	int dirfd;
	atomic_int alive;
	uint8_t token[WIRE_TOKEN_LEN];
	uint8_t data[ST_SIZE];
	uint8_t hashes[ST_CHUNKS][HASH_LEN];
	uint8_t file_hash[HASH_LEN];
	struct stripe_file f;
};

static int
fixture_init(struct fixture *x)
{
	struct xfer_digest d;
	uint32_t len;
	int i;

	memset(x, 0, sizeof(*x));
	if (tu_tempdir(x->dir, sizeof(x->dir)) != 0)
		return -1;
	if ((x->dirfd = open(x->dir, O_RDONLY | O_DIRECTORY)) < 0)
		return -1;
	atomic_store(&x->alive, 1);
	randombytes_buf(x->token, sizeof(x->token));
	randombytes_buf(x->data, sizeof(x->data));
	xfer_digest_init(&d, HASH_BLAKE2B, ST_CHUNK);
	for (i = 0; i < ST_CHUNKS; i++) {
		len = xfer_chunk_len(ST_SIZE, ST_CHUNK, (uint64_t)i);
		hash_buf(HASH_BLAKE2B, x->data + (size_t)i * ST_CHUNK, len,
		    x->hashes[i]);
		xfer_digest_add(&d, x->hashes[i], len);
	}
	xfer_digest_peek(&d, x->file_hash);
	x->f.owner_alive = &x->alive;
	x->f.dirfd = x->dirfd;
	x->f.name = "target";
	x->f.part = ".target.wharf-part";
	x->f.size = ST_SIZE;
	x->f.chunk_size = ST_CHUNK;
	x->f.alg = HASH_BLAKE2B;
	x->f.mode = 0644;
	return 0;
}

static void
fixture_cleanup(struct fixture *x)
{
	close(x->dirfd);
	tu_rmtree(x->dir);
}

static int
exists(const struct fixture *x, const char *name)
{
	struct stat st;

	return fstatat(x->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Writes every chunk through st; 0 or the first error. */
static int
write_all(const struct fixture *x, struct stripe *st)
{
	int i, r;

	for (i = 0; i < ST_CHUNKS; i++)
		if ((r = stripe_write(st, (uint64_t)i,
		         x->data + (size_t)i * ST_CHUNK,
		         xfer_chunk_len(ST_SIZE, ST_CHUNK, (uint64_t)i),
		         x->hashes[i])) != 0)
			return r;
	return 0;
}

static int
target_is_new(const struct fixture *x)
{
	uint8_t buf[ST_SIZE + 1];
	ssize_t n;
	int fd = openat(x->dirfd, "target", O_RDONLY);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == ST_SIZE && memcmp(buf, x->data, ST_SIZE) == 0;
}

static void
test_commit_while_open(void)
{
	struct fixture x;
	struct stripe *a = NULL, *b = NULL;
	uint8_t id[WIRE_STRIPE_ID_LEN];
	uint64_t size = 1;
	int r;

	CU_ASSERT_FATAL(fixture_init(&x) == 0);
	randombytes_buf(id, sizeof(id));
	CU_ASSERT_FATAL(stripe_get(id, x.token, &x.f, &a) == 0);
	CU_ASSERT(write_all(&x, a) == 0);
	stripe_put(a);
	/* A second range of the same stripe, still open. */
	CU_ASSERT_FATAL(stripe_get(id, x.token, &x.f, &b) == 0);
	r = stripe_commit(id, x.token, x.file_hash, &size);
	TU_CHECK(r == WH_ERR_BUSY, "commit with a range open: %d", r);
	TU_CHECK(size == 0, "size %llu on a refused commit",
	    (unsigned long long)size);
	CU_ASSERT(!exists(&x, "target"));
	CU_ASSERT(exists(&x, ".target.wharf-part"));
	/* Unchanged: the open range still writes, then the commit wins. */
	CU_ASSERT(write_all(&x, b) == 0);
	stripe_put(b);
	r = stripe_commit(id, x.token, x.file_hash, &size);
	TU_CHECK(r == 0, "commit once every range closed: %d", r);
	CU_ASSERT(size == ST_SIZE);
	CU_ASSERT(target_is_new(&x));
	CU_ASSERT(!exists(&x, ".target.wharf-part"));
	r = stripe_commit(id, x.token, x.file_hash, &size);
	TU_CHECK(r == WH_ERR_NOT_FOUND, "second commit: %d", r);
	/* Another session's token names nothing. */
	randombytes_buf(id, sizeof(id));
	CU_ASSERT_FATAL(stripe_get(id, x.token, &x.f, &a) == 0);
	stripe_put(a);
	x.token[0] ^= 1;
	CU_ASSERT(
	    stripe_commit(id, x.token, x.file_hash, &size) == WH_ERR_NOT_FOUND);
	x.token[0] ^= 1;
	stripe_abandon(x.token);
	CU_ASSERT(!exists(&x, ".target.wharf-part"));
	fixture_cleanup(&x);
}

struct racer {
	const struct fixture *x;
	const uint8_t *id;
	pthread_barrier_t *gate;
	int r;
};

static void *
racer_run(void *arg)
{
	struct racer *rc = arg;
	uint64_t size;

	pthread_barrier_wait(rc->gate);
	rc->r = stripe_commit(rc->id, rc->x->token, rc->x->file_hash, &size);
	return NULL;
}

static void
test_racing_commits(void)
{
	struct fixture x;
	struct racer rc[ST_RACERS];
	pthread_t th[ST_RACERS];
	pthread_barrier_t gate;
	struct stripe *a = NULL;
	uint8_t id[WIRE_STRIPE_ID_LEN];
	int i, k, won;

	CU_ASSERT_FATAL(fixture_init(&x) == 0);
	for (k = 0; k < ST_RACES; k++) {
		randombytes_buf(id, sizeof(id));
		CU_ASSERT_FATAL(stripe_get(id, x.token, &x.f, &a) == 0);
		CU_ASSERT(write_all(&x, a) == 0);
		stripe_put(a);
		pthread_barrier_init(&gate, NULL, ST_RACERS);
		for (i = 0; i < ST_RACERS; i++) {
			rc[i].x = &x;
			rc[i].id = id;
			rc[i].gate = &gate;
			rc[i].r = 1;
			CU_ASSERT_FATAL(pthread_create(&th[i], NULL, racer_run,
			                    &rc[i]) == 0);
		}
		won = 0;
		for (i = 0; i < ST_RACERS; i++) {
			pthread_join(th[i], NULL);
			won += rc[i].r == 0;
			TU_CHECK(rc[i].r == 0 || rc[i].r == WH_ERR_BUSY ||
			        rc[i].r == WH_ERR_NOT_FOUND,
			    "race %d: a commit returned %d", k, rc[i].r);
		}
		pthread_barrier_destroy(&gate);
		TU_CHECK(won == 1, "race %d: %d commits won", k, won);
		CU_ASSERT(target_is_new(&x));
		CU_ASSERT(!exists(&x, ".target.wharf-part"));
		CU_ASSERT(unlinkat(x.dirfd, "target", 0) == 0);
	}
	fixture_cleanup(&x);
}

static void
test_abandon(void)
{
	struct fixture x;
	struct stripe *a = NULL;
	uint8_t id[WIRE_STRIPE_ID_LEN];
	uint64_t size;
	int r;

	CU_ASSERT_FATAL(fixture_init(&x) == 0);
	randombytes_buf(id, sizeof(id));
	CU_ASSERT_FATAL(stripe_get(id, x.token, &x.f, &a) == 0);
	/* The login ends while a range is open: the range may finish its
	 * writes, nothing may commit, and the partial goes with the range. */
	atomic_store(&x.alive, 0);
	stripe_abandon(x.token);
	CU_ASSERT(write_all(&x, a) == 0);
	r = stripe_commit(id, x.token, x.file_hash, &size);
	TU_CHECK(r == WH_ERR_NOT_FOUND, "commit of an abandoned stripe: %d", r);
	CU_ASSERT(exists(&x, ".target.wharf-part"));
	stripe_put(a);
	CU_ASSERT(!exists(&x, ".target.wharf-part"));
	CU_ASSERT(!exists(&x, "target"));
	/* Once ended, the login makes no new stripe (abandon has run). */
	randombytes_buf(id, sizeof(id));
	a = NULL;
	r = stripe_get(id, x.token, &x.f, &a);
	TU_CHECK(r == WH_ERR_AUTH && a == NULL,
	    "a stripe made after its login ended: %d", r);
	CU_ASSERT(!exists(&x, ".target.wharf-part"));
	fixture_cleanup(&x);
}

static void
test_missing_ends(void)
{
	struct fixture x;
	struct stripe *a = NULL;
	uint8_t id[WIRE_STRIPE_ID_LEN];
	uint64_t size;
	int r;

	CU_ASSERT_FATAL(fixture_init(&x) == 0);
	randombytes_buf(id, sizeof(id));
	CU_ASSERT_FATAL(stripe_get(id, x.token, &x.f, &a) == 0);
	CU_ASSERT(stripe_write(a, 0, x.data, ST_CHUNK, x.hashes[0]) == 0);
	stripe_put(a);
	r = stripe_commit(id, x.token, x.file_hash, &size);
	TU_CHECK(r == WH_ERR_PROTOCOL, "commit with chunks missing: %d", r);
	CU_ASSERT(!exists(&x, ".target.wharf-part"));
	CU_ASSERT(!exists(&x, "target"));
	CU_ASSERT(
	    stripe_commit(id, x.token, x.file_hash, &size) == WH_ERR_NOT_FOUND);
	fixture_cleanup(&x);
}

void
register_stripe_tests(void)
{
	CU_pSuite s = CU_add_suite("stripe", NULL, NULL);

	CU_add_test(s, "commit while a range is open", test_commit_while_open);
	CU_add_test(s, "racing commits commit once", test_racing_commits);
	CU_add_test(s, "abandon with a range open", test_abandon);
	CU_add_test(s, "chunks missing end the stripe", test_missing_ends);
}
