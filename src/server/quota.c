/* SPDX-License-Identifier: MIT */
/*
 * Quota accounts (see quota.h for the model and the locking). The count
 * walks the folder with one fd open at a time and a stack of names in
 * memory, so neither depth nor the fd budget limits what it sees.
 *
 * Shared with other servers on the same state folder (quota_shared_open):
 * each account has a ledger file in <state>/quota, named by its folder's
 * inode number, that holds the count; every change to the count and every
 * reservation is made under an exclusive flock of "<key>.lock" beside it.
 * Each reservation is a hold file there too, flocked by its holder for as
 * long as it lives, so that a server that dies leaves holds that the next
 * reader sees unlocked and removes: no reservation outlives its server.
 * Files are never rewritten in place but replaced (a new inode): a FUSE
 * mount (GlusterFS) may serve a file rewritten through another mount from
 * its stale page cache, even to a fresh open; a new inode it reads anew.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "wharf/clock.h"
#include "wharf/log.h"
#include "wharf/quota.h"
#include "wharf/xfer.h"

struct quota_account {
	struct quota_account *next; /* table_mu */
	int refs; /* table_mu */
	dev_t dev; /* the key: the folder's identity */
	ino_t ino;
	int dir_fd; /* the folder, for counts */
	int shared; /* with the servers on the state folder: a ledger */
	/* <state>/quota/<key>.lock while it is held, else -1. */
	int ledger_fd;
	char key[QUOTA_KEY_LEN + 1]; /* the folder's inode number, in hex */
	pthread_mutex_t mu; /* guards everything below */
	uint64_t used;
	uint64_t reserved;
	int counted; /* used has been counted once */
	double counted_at; /* monotonic seconds; 0: count again */
	uint64_t gen; /* bumped by every change to used or holds */
	struct quota_hold *holds; /* reserved, in flight */
};

enum hold_state { HOLD_NEW, HOLD_RESERVED, HOLD_DONE };

struct quota_hold {
	struct quota_account *a; /* one reference */
	struct quota_hold *next; /* a->holds, a->mu */
	enum hold_state state;
	uint64_t limit;
	uint64_t size;
	uint64_t bytes; /* reserved */
	dev_t dev; /* the partial, skipped by counts */
	ino_t ino;
	int file_fd; /* the shared hold file, flocked; -1: none */
	char file[QUOTA_HOLD_NAME_MAX];
};

static struct quota_account *table;
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;
/* <state>/quota, or -1: accounts are this process's alone. */
static int shared_dir = -1;

/* ------------------------------------------------------------ the walk */

/* One folder on the way down: who it is, and the subfolders to visit. */
struct walk_level {
	dev_t dev;
	ino_t ino;
	char *names; /* NUL-terminated names, one after the other */
	size_t len, cap, pos;
};

struct walk {
	struct walk_level *v;
	size_t depth, cap;
	/* Files to leave out (the partials of uploads in flight). */
	int (*skip)(const void *ctx, dev_t dev, ino_t ino);
	const void *ctx;
	uint64_t total;
};

static int
level_add_name(struct walk_level *lv, const char *name)
{
	size_t n = strlen(name) + 1;
	char *p;

	if (lv->cap - lv->len < n) {
		size_t cap = lv->cap ? lv->cap * 2 : 256;

		while (cap - lv->len < n)
			cap *= 2;
		if ((p = realloc(lv->names, cap)) == NULL)
			return WH_ERR_NOMEM;
		lv->names = p;
		lv->cap = cap;
	}
	memcpy(lv->names + lv->len, name, n);
	lv->len += n;
	return 0;
}

/* Adds the files of folder fd to the total and lists its subfolders. */
static int
walk_read(struct walk *w, int fd, struct walk_level *lv)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int dfd, r = 0;

	/* fdopendir takes its fd: a second one, fd stays ours. */
	if ((dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 0; /* unreadable: nothing of it can be counted */
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return 0;
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			if (w->skip == NULL ||
			    !w->skip(w->ctx, st.st_dev, st.st_ino))
				w->total += (uint64_t)st.st_size;
		} else if (S_ISDIR(st.st_mode))
			r = level_add_name(lv, de->d_name);
	}
	closedir(d);
	return r;
}

/* 1 if (dev, ino) is a folder on the way down: a loop (a bind mount). */
static int
walk_on_path(const struct walk *w, const struct stat *st)
{
	size_t i;

	for (i = 0; i < w->depth; i++)
		if (w->v[i].dev == st->st_dev && w->v[i].ino == st->st_ino)
			return 1;
	return 0;
}

static int
walk_push(struct walk *w, const struct stat *st)
{
	struct walk_level *v;

	if (w->depth == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;

		if ((v = realloc(w->v, cap * sizeof(*v))) == NULL)
			return WH_ERR_NOMEM;
		w->v = v;
		w->cap = cap;
	}
	memset(&w->v[w->depth], 0, sizeof(w->v[0]));
	w->v[w->depth].dev = st->st_dev;
	w->v[w->depth].ino = st->st_ino;
	w->depth++;
	return 0;
}

/*
 * Depth first with one folder fd open: down by name (O_NOFOLLOW), back up
 * by "..", which must be the folder we came from, or the tree moved under
 * us and the total would be wrong.
 */
static int
walk_tree(struct walk *w, int top)
{
	struct walk_level *lv;
	struct stat st;
	const char *name;
	int fd, next, r;

	w->total = 0;
	if ((fd = openat(top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return wh_err_from_errno(errno);
	if (fstat(fd, &st) != 0) {
		r = wh_err_from_errno(errno);
		goto out;
	}
	if ((r = walk_push(w, &st)) != 0 ||
	    (r = walk_read(w, fd, &w->v[0])) != 0)
		goto out;
	while (w->depth > 0) {
		lv = &w->v[w->depth - 1];
		if (lv->pos < lv->len) {
			name = lv->names + lv->pos;
			lv->pos += strlen(name) + 1;
			next = openat(fd, name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next < 0)
				continue; /* gone, or no longer a folder */
			if (fstat(next, &st) != 0 || walk_on_path(w, &st)) {
				close(next);
				continue;
			}
			if ((r = walk_push(w, &st)) != 0) {
				close(next);
				goto out;
			}
			close(fd);
			fd = next;
			if ((r = walk_read(w, fd, &w->v[w->depth - 1])) != 0)
				goto out;
			continue;
		}
		free(lv->names);
		lv->names = NULL;
		if (--w->depth == 0)
			break;
		next = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (next < 0 || fstat(next, &st) != 0 ||
		    st.st_dev != w->v[w->depth - 1].dev ||
		    st.st_ino != w->v[w->depth - 1].ino) {
			if (next >= 0)
				close(next);
			r = WH_ERR_BUSY;
			goto out;
		}
		close(fd);
		fd = next;
	}
	r = 0;
out:
	close(fd);
	while (w->depth > 0)
		free(w->v[--w->depth].names);
	return r;
}

int
quota_count(int dir_fd, uint64_t *out)
{
	struct walk w;
	int r;

	memset(&w, 0, sizeof(w));
	r = walk_tree(&w, dir_fd);
	free(w.v);
	*out = r == 0 ? w.total : 0;
	return r;
}

/* ---------------------------------------------------------- accounts */

static int
skip_in_flight(const void *ctx, dev_t dev, ino_t ino)
{
	const struct quota_account *a = ctx;
	const struct quota_hold *h;

	for (h = a->holds; h != NULL; h = h->next)
		if (h->dev == dev && h->ino == ino)
			return 1;
	return 0;
}

/* The partials in flight, copied for a walk without the lock. */
struct skip_set {
	size_t n;
	struct skip_id {
		dev_t dev;
		ino_t ino;
	} * v;
};

static int
skip_listed(const void *ctx, dev_t dev, ino_t ino)
{
	const struct skip_set *set = ctx;
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->v[i].dev == dev && set->v[i].ino == ino)
			return 1;
	return 0;
}

static int
skip_snapshot(const struct quota_account *a, struct skip_set *set)
{
	const struct quota_hold *h;
	size_t n = 0;

	for (h = a->holds; h != NULL; h = h->next)
		n++;
	set->n = 0;
	if ((set->v = calloc(n ? n : 1, sizeof(*set->v))) == NULL)
		return WH_ERR_NOMEM;
	for (h = a->holds; h != NULL; h = h->next) {
		set->v[set->n].dev = h->dev;
		set->v[set->n++].ino = h->ino;
	}
	return 0;
}

/* ------------------------------------------------------------ shared */

#define LEDGER_MAGIC "wharf-quota-v1"
/* "MAGIC used gen\n", fixed width: rewritten in place by one pwrite. */
#define LEDGER_LEN (sizeof(LEDGER_MAGIC) + 21 + 21)
#define HOLD_SUFFIX ".hold"

int
quota_shared_open(const char *state_dir)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", state_dir, QUOTA_DIR_NAME) >=
	    (int)sizeof(path))
		return WH_ERR_TOO_LARGE;
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return wh_err_from_errno(errno);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
	    0)
		return wh_err_from_errno(errno);
	if (shared_dir >= 0)
		close(shared_dir);
	shared_dir = fd;
	return 0;
}

/* Takes the account's ledger lock (a->mu held): other servers' changes
 * to the account wait, as this process's threads wait on a->mu. */
static int
ledger_lock(struct quota_account *a)
{
	char name[QUOTA_KEY_LEN + 16];
	int e;

	if (!a->shared)
		return 0;
	snprintf(name, sizeof(name), "%s.lock", a->key);
	a->ledger_fd = openat(
	    shared_dir, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (a->ledger_fd < 0)
		return wh_err_from_errno(errno);
	while (flock(a->ledger_fd, LOCK_EX) != 0)
		if (errno != EINTR) {
			e = errno;
			close(a->ledger_fd);
			a->ledger_fd = -1;
			return wh_err_from_errno(e);
		}
	return 0;
}

static void
ledger_unlock(struct quota_account *a)
{
	if (a->ledger_fd < 0)
		return;
	close(a->ledger_fd); /* and with it the lock */
	a->ledger_fd = -1;
}

/*
 * Reads the count other servers left (lock held) into a->used. 1 if the
 * ledger held one, 0 if it is new or unreadable (a->counted is cleared:
 * the next reservation counts).
 */
static int
ledger_read(struct quota_account *a, uint64_t *gen)
{
	char text[LEDGER_LEN + 1], name[QUOTA_KEY_LEN + 16], *end;
	unsigned long long used, g;
	ssize_t n;
	int fd;

	*gen = 0;
	if (!a->shared)
		return 1;
	snprintf(name, sizeof(name), "%s.ledger", a->key);
	if (a->ledger_fd < 0 ||
	    (fd = openat(shared_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) <
	        0) {
		a->counted = 0;
		return 0;
	}
	n = pread(fd, text, LEDGER_LEN, 0);
	close(fd);
	if (n != (ssize_t)LEDGER_LEN ||
	    memcmp(text, LEDGER_MAGIC " ", sizeof(LEDGER_MAGIC)) != 0) {
		a->counted = 0;
		return 0;
	}
	text[LEDGER_LEN] = '\0';
	used = strtoull(text + sizeof(LEDGER_MAGIC), &end, 10);
	if (*end != ' ')
		goto bad;
	g = strtoull(end + 1, &end, 10);
	if (*end != '\n')
		goto bad;
	a->used = used;
	*gen = g;
	return 1;
bad:
	a->counted = 0;
	return 0;
}

/* Replaces the ledger with a->used and the next generation (lock held).
 * Not synced: a ledger lost in a crash is counted again. */
static void
ledger_write(struct quota_account *a, uint64_t gen)
{
	char text[LEDGER_LEN + 1], name[QUOTA_KEY_LEN + 16];
	char tmp[QUOTA_KEY_LEN + 16];
	int fd, ok;

	if (!a->shared || a->ledger_fd < 0)
		return;
	snprintf(text, sizeof(text), LEDGER_MAGIC " %020llu %020llu\n",
	    (unsigned long long)a->used, (unsigned long long)gen + 1);
	snprintf(name, sizeof(name), "%s.ledger", a->key);
	snprintf(tmp, sizeof(tmp), "%s.ledger.tmp", a->key);
	fd = openat(shared_dir, tmp,
	    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	ok = fd >= 0 && pwrite(fd, text, LEDGER_LEN, 0) == (ssize_t)LEDGER_LEN;
	if (fd >= 0 && close(fd) != 0)
		ok = 0;
	if (ok && renameat(shared_dir, tmp, shared_dir, name) == 0)
		return;
	/* A ledger that does not read is counted again, by every server
	 * (this one at once). */
	log_warn("quota ledger %s: %s", name, strerror(errno));
	a->counted = 0;
	unlinkat(shared_dir, name, 0);
}

/* The account's count, brought in from the ledger (lock held). */
static void
ledger_sync(struct quota_account *a, uint64_t *gen)
{
	uint64_t used = a->used;

	if (ledger_read(a, gen) && a->used != used)
		a->gen++;
}

/* One live hold of every server, read from its file. */
struct shared_hold {
	uint64_t bytes;
	uint64_t ino;
};

/*
 * The holds on a of every server (lock held): *reserved is their sum,
 * and set (if not NULL) their partials, for a count to skip. A hold file
 * no one holds locked is a dead server's: removed.
 */
static int
shared_holds(struct quota_account *a, uint64_t *reserved, struct skip_set *set)
{
	struct dirent *de;
	char text[64], *end;
	unsigned long long bytes, ino;
	size_t klen = strlen(a->key), cap = 0;
	struct skip_id *v;
	DIR *d;
	ssize_t n;
	int dfd, fd;

	*reserved = 0;
	if (set != NULL) {
		set->n = 0;
		set->v = NULL;
	}
	if ((dfd = openat(
	         shared_dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return wh_err_from_errno(errno);
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return wh_err_from_errno(errno);
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, a->key, klen) != 0 ||
		    de->d_name[klen] != '.' ||
		    strlen(de->d_name) <= strlen(HOLD_SUFFIX) ||
		    strcmp(
		        de->d_name + strlen(de->d_name) - strlen(HOLD_SUFFIX),
		        HOLD_SUFFIX) != 0)
			continue;
		fd = openat(
		    shared_dir, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
			/* Its holder is gone (or has not written it yet:
			 * it is made under the ledger lock we hold). */
			unlinkat(shared_dir, de->d_name, 0);
			close(fd);
			continue;
		}
		n = pread(fd, text, sizeof(text) - 1, 0);
		close(fd);
		if (n <= 0)
			continue;
		text[n] = '\0';
		bytes = strtoull(text, &end, 10);
		if (*end != ' ')
			continue;
		ino = strtoull(end + 1, &end, 10);
		*reserved += bytes;
		if (set == NULL)
			continue;
		if (set->n == cap) {
			cap = cap ? cap * 2 : 8;
			if ((v = realloc(set->v, cap * sizeof(*v))) == NULL) {
				closedir(d);
				free(set->v);
				set->v = NULL;
				return WH_ERR_NOMEM;
			}
			set->v = v;
		}
		/* By inode alone: mounts of one volume differ in st_dev. */
		set->v[set->n].dev = 0;
		set->v[set->n++].ino = (ino_t)ino;
	}
	closedir(d);
	return 0;
}

static int
skip_shared(const void *ctx, dev_t dev, ino_t ino)
{
	const struct skip_set *set = ctx;
	size_t i;

	(void)dev;
	for (i = 0; i < set->n; i++)
		if (set->v[i].ino == ino)
			return 1;
	return 0;
}

/*
 * Writes h's reservation into a new hold file, flocked, which replaces
 * the one it had (if any): a new file, never one rewritten in place.
 */
static int
hold_file_write(struct quota_hold *h)
{
	char text[64], name[QUOTA_HOLD_NAME_MAX];
	uint8_t rnd[8];
	int n, fd;

	if (!h->a->shared)
		return 0;
	randombytes_buf(rnd, sizeof(rnd));
	snprintf(name, sizeof(name),
	    "%s.%02x%02x%02x%02x%02x%02x%02x%02x" HOLD_SUFFIX, h->a->key,
	    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	fd = openat(shared_dir, name,
	    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return wh_err_from_errno(errno);
	n = snprintf(text, sizeof(text), "%llu %llu\n",
	    (unsigned long long)h->bytes, (unsigned long long)h->ino);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0 ||
	    pwrite(fd, text, (size_t)n, 0) != n) {
		n = errno;
		close(fd);
		unlinkat(shared_dir, name, 0);
		return wh_err_from_errno(n);
	}
	if (h->file_fd >= 0) {
		unlinkat(shared_dir, h->file, 0);
		close(h->file_fd);
	}
	h->file_fd = fd;
	memcpy(h->file, name, sizeof(h->file));
	return 0;
}

static void
hold_file_remove(struct quota_hold *h)
{
	if (h->file_fd < 0)
		return;
	unlinkat(shared_dir, h->file, 0);
	close(h->file_fd);
	h->file_fd = -1;
}

/* What every server has reserved on a (lock held): the hold files when
 * shared, else this process's holds. */
static int
all_reserved(struct quota_account *a, uint64_t *reserved)
{
	if (!a->shared) {
		*reserved = a->reserved;
		return 0;
	}
	return shared_holds(a, reserved, NULL);
}

/*
 * Counts a afresh (a->mu held, dropped while walking). Reservations are
 * kept: they are not in used, and the walk skips the partials they
 * cover. A walk that saw the account change (a commit, a release, a
 * removal: its folder may have been passed before or after) is thrown
 * away; after QUOTA_COUNT_TRIES of those, one walk under the lock, so
 * that a busy user delays only their own uploads, and a big home does
 * not hold others up while nothing changes.
 */
static int
account_recount(struct quota_account *a)
{
	struct skip_set set;
	struct walk w;
	uint64_t gen, lgen, lgen2, reserved;
	int i, r = WH_ERR_BUSY;

	memset(&w, 0, sizeof(w));
	for (i = 0; i < QUOTA_COUNT_TRIES; i++) {
		if (a->shared)
			r = shared_holds(a, &reserved, &set);
		else
			r = skip_snapshot(a, &set);
		if (r != 0)
			break;
		(void)ledger_read(a, &lgen);
		gen = a->gen;
		w.skip = a->shared ? skip_shared : skip_listed;
		w.ctx = &set;
		ledger_unlock(a);
		pthread_mutex_unlock(&a->mu);
		r = walk_tree(&w, a->dir_fd);
		pthread_mutex_lock(&a->mu);
		if (ledger_lock(a) != 0)
			r = WH_ERR_SYSTEM;
		free(set.v);
		(void)ledger_read(a, &lgen2);
		if (r == 0 && a->gen == gen && lgen2 == lgen)
			goto done;
		if (r != 0 && r != WH_ERR_BUSY)
			break;
	}
	if (r == 0 || r == WH_ERR_BUSY) {
		if (a->shared) {
			if ((r = shared_holds(a, &reserved, &set)) == 0) {
				w.skip = skip_shared;
				w.ctx = &set;
				r = walk_tree(&w, a->dir_fd);
				free(set.v);
			}
		} else {
			w.skip = skip_in_flight;
			w.ctx = a;
			r = walk_tree(&w, a->dir_fd);
		}
	}
done:
	free(w.v);
	if (r == 0) {
		a->used = w.total;
		a->counted = 1;
		a->counted_at = clock_mono_sec();
		a->gen++;
		(void)ledger_read(a, &lgen);
		a->used = w.total;
		ledger_write(a, lgen);
	}
	/* A count that failed keeps the last one, if there is one: it has
	 * followed every change made through the server since. */
	return a->counted ? 0 : r;
}

/* The account's lock, then the ledger's, with the ledger's count brought
 * in (*lgen: the generation read). On failure neither is held. */
static int
account_lock(struct quota_account *a, uint64_t *lgen)
{
	int r;

	pthread_mutex_lock(&a->mu);
	if ((r = ledger_lock(a)) != 0) {
		pthread_mutex_unlock(&a->mu);
		return r;
	}
	ledger_sync(a, lgen);
	return 0;
}

static void
account_unlock(struct quota_account *a)
{
	ledger_unlock(a);
	pthread_mutex_unlock(&a->mu);
}

/* Recounts the home (both locks held) unless this server counted it since
 * its login and within QUOTA_RECOUNT_SEC. */
static int
account_fresh(struct quota_account *a)
{
	if (a->counted && a->counted_at != 0 &&
	    clock_mono_sec() - a->counted_at < QUOTA_RECOUNT_SEC)
		return 0;
	return account_recount(a);
}

int
quota_account_get(int dir_fd, struct quota_account **out)
{
	struct quota_account *a;
	struct stat st;
	int r;

	*out = NULL;
	if (fstat(dir_fd, &st) != 0)
		return wh_err_from_errno(errno);
	pthread_mutex_lock(&table_mu);
	for (a = table; a != NULL; a = a->next)
		if (a->dev == st.st_dev && a->ino == st.st_ino)
			break;
	if (a != NULL) {
		a->refs++;
		pthread_mutex_unlock(&table_mu);
		/* A new login counts afresh, as it always has: the
		 * folder may have changed while no one was logged in. */
		pthread_mutex_lock(&a->mu);
		a->counted_at = 0;
		pthread_mutex_unlock(&a->mu);
		*out = a;
		return 0;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		pthread_mutex_unlock(&table_mu);
		return WH_ERR_NOMEM;
	}
	if ((a->dir_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		r = wh_err_from_errno(errno);
		pthread_mutex_unlock(&table_mu);
		free(a);
		return r;
	}
	pthread_mutex_init(&a->mu, NULL);
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	a->refs = 1;
	a->ledger_fd = -1;
	snprintf(
	    a->key, sizeof(a->key), "%016llx", (unsigned long long)st.st_ino);
	/* The ledger is made at the first use of its lock. */
	a->shared = shared_dir >= 0;
	a->next = table;
	table = a;
	pthread_mutex_unlock(&table_mu);
	*out = a;
	return 0;
}

void
quota_account_put(struct quota_account *a)
{
	struct quota_account **p;

	if (a == NULL)
		return;
	pthread_mutex_lock(&table_mu);
	if (--a->refs > 0) {
		pthread_mutex_unlock(&table_mu);
		return;
	}
	for (p = &table; *p != NULL; p = &(*p)->next)
		if (*p == a) {
			*p = a->next;
			break;
		}
	pthread_mutex_unlock(&table_mu);
	close(a->dir_fd);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

void
quota_account_peek(struct quota_account *a, uint64_t *used, uint64_t *reserved)
{
	pthread_mutex_lock(&a->mu);
	*used = a->used;
	*reserved = a->reserved;
	pthread_mutex_unlock(&a->mu);
}

int
quota_account_usage(struct quota_account *a, uint64_t *used, uint64_t *reserved)
{
	uint64_t lgen;
	int r;

	*used = *reserved = 0;
	/* As a reservation counts: under the ledger's lock (account_recount
	 * drops and takes it again, and expects it held), from the count
	 * other servers left, afresh after a login or when older than
	 * QUOTA_RECOUNT_SEC; the reservations are every server's. */
	if ((r = account_lock(a, &lgen)) != 0)
		return r;
	if ((r = account_fresh(a)) != 0)
		goto out;
	if ((r = all_reserved(a, reserved)) != 0)
		goto out;
	*used = a->used;
out:
	account_unlock(a);
	return r;
}

/* ------------------------------------------------------------- holds */

int
quota_hold_new(struct quota_account *a, uint64_t limit, uint64_t size,
    struct quota_hold **out)
{
	struct quota_hold *h;

	*out = NULL;
	if (a == NULL)
		return 0;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return WH_ERR_NOMEM;
	pthread_mutex_lock(&table_mu);
	a->refs++;
	pthread_mutex_unlock(&table_mu);
	h->a = a;
	h->limit = limit;
	h->size = size;
	h->file_fd = -1;
	*out = h;
	return 0;
}

/* Bytes of the regular file name in dirfd, 0 if it is none. */
static uint64_t
file_bytes(int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(st.st_mode))
		return 0;
	return (uint64_t)st.st_size;
}

static uint64_t
sub_floor(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static void
hold_unlink(struct quota_hold *h)
{
	struct quota_hold **p;

	for (p = &h->a->holds; *p != NULL; p = &(*p)->next)
		if (*p == h) {
			*p = h->next;
			break;
		}
	h->next = NULL;
}

int
quota_hold_reserve(struct quota_hold *h, int dirfd, const char *name,
    int part_fd, uint64_t *in_use, uint64_t *need)
{
	struct quota_account *a;
	struct stat st;
	uint64_t used, reserved, lgen;
	int r;

	*in_use = *need = 0;
	if (h == NULL)
		return 0;
	if (h->state != HOLD_NEW)
		return WH_ERR_PROTOCOL; /* a programmer error, said safely */
	if (fstat(part_fd, &st) != 0)
		return wh_err_from_errno(errno);
	a = h->a;
	if ((r = account_lock(a, &lgen)) != 0)
		return r;
	if ((r = account_fresh(a)) != 0)
		goto out;
	if ((r = all_reserved(a, &reserved)) != 0)
		goto out;
	(void)ledger_read(a, &lgen);
	/* The partial we hold the lock of becomes the file: out of the
	 * count, into the reservation, which covers all of the file but
	 * what it replaces. */
	used = sub_floor(a->used, (uint64_t)st.st_size);
	*need = sub_floor(h->size, file_bytes(dirfd, name));
	*in_use = a->used + reserved;
	if (used + reserved + *need > h->limit) {
		r = WH_ERR_TOO_LARGE;
		goto out;
	}
	h->bytes = *need;
	h->dev = st.st_dev;
	h->ino = st.st_ino;
	if ((r = hold_file_write(h)) != 0) {
		hold_file_remove(h);
		h->bytes = 0;
		goto out;
	}
	a->used = used;
	a->reserved += *need;
	ledger_write(a, lgen);
	h->state = HOLD_RESERVED;
	h->next = a->holds;
	a->holds = h;
	a->gen++;
	r = 0;
out:
	account_unlock(a);
	return r;
}

void
quota_hold_track(struct quota_hold *h, int part_fd)
{
	struct stat st;

	if (h == NULL || h->state != HOLD_RESERVED || fstat(part_fd, &st) != 0)
		return;
	pthread_mutex_lock(&h->a->mu);
	h->dev = st.st_dev;
	h->ino = st.st_ino;
	h->a->gen++;
	if (ledger_lock(h->a) == 0) {
		(void)hold_file_write(h);
		ledger_unlock(h->a);
	}
	pthread_mutex_unlock(&h->a->mu);
}

int
quota_hold_commit(struct quota_hold *h, int dirfd, const char *part,
    int part_fd, const char *name)
{
	struct quota_account *a;
	uint64_t used, grow, reserved, lgen;
	int r;

	if (h == NULL || h->state != HOLD_RESERVED)
		return xfer_partial_install(dirfd, part, part_fd, name);
	a = h->a;
	/* The stat and the rename under one lock: no other commit or
	 * removal in this folder, through any server, can credit the same
	 * old file. */
	if ((r = account_lock(a, &lgen)) != 0)
		return r;
	if ((r = all_reserved(a, &reserved)) != 0)
		goto out;
	used = sub_floor(a->used, file_bytes(dirfd, name)) + h->size;
	grow = sub_floor(used, a->used);
	/* Within its reservation, or the file it replaces went meanwhile
	 * and the rest still fits. */
	if (grow > h->bytes && used + reserved - h->bytes > h->limit) {
		r = WH_ERR_TOO_LARGE;
		goto out;
	}
	if ((r = xfer_partial_install(dirfd, part, part_fd, name)) != 0)
		goto out;
	a->used = used;
	a->reserved -= h->bytes;
	ledger_write(a, lgen);
	hold_file_remove(h);
	h->bytes = 0;
	h->state = HOLD_DONE;
	hold_unlink(h);
	a->gen++;
out:
	account_unlock(a);
	return r;
}

void
quota_hold_free(struct quota_hold *h, int part_fd)
{
	struct quota_account *a;
	struct stat st;

	if (h == NULL)
		return;
	a = h->a;
	if (h->state == HOLD_RESERVED) {
		uint64_t lgen;
		int locked;

		pthread_mutex_lock(&a->mu);
		locked = ledger_lock(a) == 0;
		if (locked)
			ledger_sync(a, &lgen);
		a->reserved -= h->bytes;
		hold_unlink(h);
		a->gen++;
		/* Kept for resume: a partial like any other file. */
		if (part_fd >= 0 && fstat(part_fd, &st) == 0 &&
		    S_ISREG(st.st_mode) && st.st_nlink > 0)
			a->used += (uint64_t)st.st_size;
		/* Under the lock: while it lived, counts skipped the
		 * partial, which the count now holds. */
		hold_file_remove(h);
		if (locked) {
			ledger_write(a, lgen);
			ledger_unlock(a);
		}
		pthread_mutex_unlock(&a->mu);
	}
	hold_file_remove(h);
	quota_account_put(a);
	free(h);
}

int
quota_unlink(struct quota_account *a, int dirfd, const char *name)
{
	struct stat st;
	uint64_t lgen;
	int r = 0, counted;

	if (a == NULL) {
		if (unlinkat(dirfd, name, 0) != 0)
			return wh_err_from_errno(errno);
		return 0;
	}
	if ((r = account_lock(a, &lgen)) != 0)
		return r;
	/* A partial in flight is in a reservation, not in used. */
	counted = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && !skip_in_flight(a, st.st_dev, st.st_ino);
	if (unlinkat(dirfd, name, 0) != 0)
		r = wh_err_from_errno(errno);
	else if (counted) {
		a->used = sub_floor(a->used, (uint64_t)st.st_size);
		a->gen++;
		ledger_write(a, lgen);
	}
	account_unlock(a);
	return r;
}
