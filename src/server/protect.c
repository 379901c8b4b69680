/* SPDX-License-Identifier: MIT */
/*
 * The protection store. Small and rarely changed, so it is kept in memory
 * behind one mutex and written out whole, atomically, after each change.
 * File format: a header line, then "<argon2id hash>\t<path>" lines.
 *
 * Several servers may share one state folder (docs/deployment.md), so the
 * copy in memory is only a cache of the file: every question first stats
 * the file and reads it again if it is another file than the one read
 * (every save renames a new one into place); every change is made under
 * an exclusive flock of "<store>.lock", on a copy read afresh under that
 * lock, so that no server rewrites the store from a stale copy and drops
 * another's entry. protect_unless holds the lock shared while it acts, so
 * a file cannot be protected through one server while another removes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "wharf/buf.h"
#include "wharf/file.h"
#include "wharf/log.h"
#include "wharf/protect.h"
#include "wharf/sandbox.h"
#include "wharf/xfer.h"

#define PROTECT_HEADER "wharf-protected-v1"
#define PROTECT_FILE_MAX (64u * 1024u * 1024u)

/*
 * A locked entry is saved as PROTECT_LOCKED in place of a hash, which
 * reads back as locked: a damaged entry stays refused across restarts
 * until an administrator edits the store.
 */
#define PROTECT_LOCKED "!locked"

/* At most one entry per path: every change keeps it so. */
struct protect_entry {
	char *rpath;
	char hash[crypto_pwhash_STRBYTES];
	int locked; /* damaged or contradicted: no passcode opens it */
};

struct protect_store {
	pthread_mutex_t mu; /* guards all below, and the use of lock_fd */
	char *path;
	struct protect_entry *v;
	size_t n;
	int lock_fd; /* "<path>.lock", flocked across servers */
	/* The file the copy was read from (exists 0: there was none). */
	int exists;
	struct stat read_st;
	int reported_bad; /* a bad re-read was logged for read_st */
};

/* A path as the store keeps it: canonical, below the root. Partial names
 * pass: a store written before they were reserved may hold one, and its
 * entry must keep failing closed, not be dropped. */
static int
valid_rpath(const char *p)
{
	char norm[SANDBOX_VPATH_MAX];

	return sandbox_normalize("/", p, strlen(p), norm, sizeof(norm)) == 0 &&
	    strcmp(norm, p) == 0 && strcmp(p, "/") != 0;
}

/* hash NULL: a locked entry (see PROTECT_LOCKED). */
static int
add_entry(struct protect_store *ps, const char *rpath, const char *hash)
{
	struct protect_entry *nv, *e;

	if ((nv = realloc(ps->v, (ps->n + 1) * sizeof(*nv))) == NULL)
		return WH_ERR_NOMEM;
	ps->v = nv;
	e = &nv[ps->n];
	if ((e->rpath = strdup(rpath)) == NULL)
		return WH_ERR_NOMEM;
	e->locked = hash == NULL;
	snprintf(e->hash, sizeof(e->hash), "%s", hash != NULL ? hash : "");
	ps->n++;
	return 0;
}

/* Callers hold the mutex (or own ps alone, while loading). */
static struct protect_entry *
find(struct protect_store *ps, const char *rpath)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		if (strcmp(ps->v[i].rpath, rpath) == 0)
			return &ps->v[i];
	return NULL;
}

/*
 * One entry line. A line whose path can be read but whose hash cannot be
 * trusted (damaged, or a second entry for the path with another hash)
 * locks that path: no passcode opens it, the rest of the store serves on.
 * A line whose path cannot be read could have protected any file: that
 * alone refuses the store (WH_ERR_CORRUPT).
 */
static int
parse_entry(struct protect_store *ps, char *line, int lineno)
{
	struct protect_entry *e;
	char *tab, *rpath;
	int hash_ok;

	if ((tab = strchr(line, '\t')) == NULL || !valid_rpath(tab + 1))
		return WH_ERR_CORRUPT;
	*tab = '\0';
	rpath = tab + 1;
	hash_ok = strncmp(line, "$argon2id$", 10) == 0 &&
	    strlen(line) < crypto_pwhash_STRBYTES;
	if (xfer_partial_is(
	        sandbox_basename(rpath), strlen(sandbox_basename(rpath))))
		log_warn("protection store line %d: %s has a partial's name, "
		         "which requests can no longer reach",
		    lineno, rpath);
	if ((e = find(ps, rpath)) != NULL) {
		/* Which of two passcodes is the real one cannot be told. */
		if (!e->locked && hash_ok && strcmp(e->hash, line) == 0) {
			log_warn("protection store line %d: %s listed twice; "
			         "merged",
			    lineno, rpath);
			return 0;
		}
		e->locked = 1;
	} else if (add_entry(ps, rpath, hash_ok ? line : NULL) != 0)
		return WH_ERR_NOMEM;
	else if (hash_ok)
		return 0;
	log_error("protection store line %d: the entry of %s is damaged or "
	          "contradicts another; %s is LOCKED (refused to everyone) "
	          "until an administrator fixes the store",
	    lineno, rpath, rpath);
	return 0;
}

static int
parse(struct protect_store *ps, const struct buf *b, int *bad_line)
{
	char line[crypto_pwhash_STRBYTES + SANDBOX_VPATH_MAX + 2];
	const uint8_t *p = buf_ptr(b);
	size_t len = buf_len(b), i, start;
	int lineno = 0, r;

	for (i = 0; i < len; i++) {
		start = i;
		while (i < len && p[i] != '\n')
			i++;
		lineno++;
		*bad_line = lineno;
		if (i - start >= sizeof(line) ||
		    memchr(p + start, '\0', i - start) != NULL)
			return WH_ERR_CORRUPT;
		memcpy(line, p + start, i - start);
		line[i - start] = '\0';
		if (lineno == 1) {
			if (strcmp(line, PROTECT_HEADER) != 0)
				return WH_ERR_CORRUPT;
			continue;
		}
		/* A torn last line may hold a cut path: unreadable. */
		if (i == len || (r = parse_entry(ps, line, lineno)) != 0)
			return i == len ? WH_ERR_CORRUPT : r;
	}
	*bad_line = 0;
	return 0;
}

/* The same file as when read: same inode, size and change time. */
static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void
entries_free(struct protect_entry *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].rpath);
	free(v);
}

/*
 * Reads the file into ps's entries (replacing them only on success).
 * The stat is taken before the read: a save between the two makes the
 * next check read again, never miss the change.
 */
static int
load(struct protect_store *ps, int *bad_line)
{
	struct protect_store fresh;
	struct stat st;
	struct buf *b = NULL;
	int r, exists;

	*bad_line = 0;
	memset(&fresh, 0, sizeof(fresh));
	exists = stat(ps->path, &st) == 0;
	if (!exists && errno != ENOENT)
		return wh_err_from_errno(errno);
	r = exists ? file_read_all(ps->path, PROTECT_FILE_MAX, &b) :
	             WH_ERR_NOT_FOUND;
	if (r == WH_ERR_NOT_FOUND)
		r = 0;
	else if (r == WH_ERR_TOO_LARGE)
		r = WH_ERR_CORRUPT;
	else if (r == 0)
		r = parse(&fresh, b, bad_line);
	buf_free(b);
	if (r != 0) {
		entries_free(fresh.v, fresh.n);
		return r;
	}
	entries_free(ps->v, ps->n);
	ps->v = fresh.v;
	ps->n = fresh.n;
	ps->exists = exists;
	if (exists)
		ps->read_st = st;
	ps->reported_bad = 0;
	return 0;
}

/*
 * Brings the copy up to date if another server (or an administrator)
 * replaced the file (mutex held). A store that no longer reads keeps the
 * last good copy, which is what every server enforced until then, and
 * says so once: dropping entries would unprotect files.
 */
static void
refresh(struct protect_store *ps)
{
	struct stat st;
	int exists, bad, r;

	exists = stat(ps->path, &st) == 0;
	if (!exists && errno != ENOENT)
		return;
	if (exists == ps->exists && (!exists || same_file(&st, &ps->read_st)))
		return;
	if ((r = load(ps, &bad)) == 0 || ps->reported_bad)
		return;
	ps->reported_bad = 1;
	log_error("protection store %s changed and no longer reads (%s, line "
	          "%d); keeping the %zu entries read before",
	    ps->path, wh_strerror(r), bad, ps->n);
}

int
protect_store_open(const char *path, struct protect_store **out, int *bad_line)
{
	struct protect_store *ps;
	char lock[PATH_MAX];
	int r;

	*out = NULL;
	*bad_line = 0;
	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return WH_ERR_NOMEM;
	pthread_mutex_init(&ps->mu, NULL);
	ps->lock_fd = -1;
	if ((ps->path = strdup(path)) == NULL) {
		protect_store_free(ps);
		return WH_ERR_NOMEM;
	}
	/* Made now, before the server is confined to its state folder. */
	if (snprintf(lock, sizeof(lock), "%s.lock", path) >= (int)sizeof(lock))
		r = WH_ERR_TOO_LARGE;
	else if ((ps->lock_fd =
	                 open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		r = wh_err_from_errno(errno);
	else
		r = load(ps, bad_line);
	if (r != 0) {
		protect_store_free(ps);
		return r;
	}
	*out = ps;
	return 0;
}

void
protect_store_free(struct protect_store *ps)
{
	if (ps == NULL)
		return;
	entries_free(ps->v, ps->n);
	if (ps->lock_fd >= 0)
		close(ps->lock_fd);
	free(ps->path);
	pthread_mutex_destroy(&ps->mu);
	free(ps);
}

/*
 * Starts a change (mutex held): the store's lock taken, and the copy read
 * afresh under it. A file that does not read refuses the change rather
 * than overwrite it with what this server remembers.
 */
static int
change_begin(struct protect_store *ps)
{
	int bad, r;

	while (flock(ps->lock_fd, LOCK_EX) != 0)
		if (errno != EINTR)
			return wh_err_from_errno(errno);
	if ((r = load(ps, &bad)) != 0) {
		log_error("protection store %s does not read (%s, line %d); "
		          "not changed",
		    ps->path, wh_strerror(r), bad);
		flock(ps->lock_fd, LOCK_UN);
	}
	return r;
}

/* Ends a change that returned r: a change that was not saved is undone
 * by reading the store again, so the copy never holds what the file
 * does not. */
static void
change_end(struct protect_store *ps, int r)
{
	struct stat st;
	int bad;

	if (r != 0)
		(void)load(ps, &bad);
	else if (stat(ps->path, &st) == 0) {
		/* Our own save needs no second read. */
		ps->read_st = st;
		ps->exists = 1;
	}
	flock(ps->lock_fd, LOCK_UN);
}

static int
save(struct protect_store *ps)
{
	struct buf *b;
	size_t i;
	int r;

	if ((b = buf_new(PROTECT_FILE_MAX)) == NULL)
		return WH_ERR_NOMEM;
	r = buf_put(b, PROTECT_HEADER "\n", strlen(PROTECT_HEADER) + 1);
	for (i = 0; i < ps->n && r == 0; i++) {
		const char *h =
		    ps->v[i].locked ? PROTECT_LOCKED : ps->v[i].hash;

		if ((r = buf_put(b, h, strlen(h))) == 0 &&
		    (r = buf_put_u8(b, '\t')) == 0 &&
		    (r = buf_put(b, ps->v[i].rpath, strlen(ps->v[i].rpath))) ==
		        0)
			r = buf_put_u8(b, '\n');
	}
	if (r == 0)
		r = file_write_atomic(ps->path, buf_ptr(b), buf_len(b), 0600);
	buf_free(b);
	return r;
}

int
protect_is(struct protect_store *ps, const char *rpath)
{
	int r;

	if (ps == NULL)
		return 0;
	pthread_mutex_lock(&ps->mu);
	refresh(ps);
	r = find(ps, rpath) != NULL;
	pthread_mutex_unlock(&ps->mu);
	return r;
}

int
protect_none(struct protect_store *ps)
{
	int r;

	if (ps == NULL)
		return 1;
	pthread_mutex_lock(&ps->mu);
	refresh(ps);
	r = ps->n == 0;
	pthread_mutex_unlock(&ps->mu);
	return r;
}

static int
beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return 1;
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

int
protect_any_under(struct protect_store *ps, const char *rpath)
{
	size_t i;
	int r = 0;

	if (ps == NULL)
		return 0;
	pthread_mutex_lock(&ps->mu);
	refresh(ps);
	for (i = 0; i < ps->n && !r; i++)
		r = beneath(ps->v[i].rpath, rpath);
	pthread_mutex_unlock(&ps->mu);
	return r;
}

int
protect_check(struct protect_store *ps, const char *rpath, const char *passcode)
{
	char hash[crypto_pwhash_STRBYTES];
	struct protect_entry *e;
	int locked;

	if (ps == NULL)
		return 0;
	pthread_mutex_lock(&ps->mu);
	refresh(ps);
	e = find(ps, rpath);
	if (e != NULL)
		memcpy(hash, e->hash, sizeof(hash));
	locked = e != NULL && e->locked;
	pthread_mutex_unlock(&ps->mu);
	if (e == NULL)
		return 0;
	if (locked)
		return WH_ERR_PERMISSION;
	/* Verified outside the lock: Argon2id is slow on purpose. */
	if (passcode == NULL || passcode[0] == '\0' ||
	    crypto_pwhash_str_verify(hash, passcode, strlen(passcode)) != 0)
		return WH_ERR_PERMISSION;
	return 0;
}

int
protect_set(struct protect_store *ps, const char *rpath, const char *passcode)
{
	char hash[crypto_pwhash_STRBYTES];
	struct protect_entry *e;
	int r;

	if (strlen(passcode) > PROTECT_PASSCODE_MAX || !valid_rpath(rpath))
		return WH_ERR_INVALID_ARG;
	if (crypto_pwhash_str_alg(hash, passcode, strlen(passcode),
	        crypto_pwhash_OPSLIMIT_INTERACTIVE,
	        crypto_pwhash_MEMLIMIT_INTERACTIVE,
	        crypto_pwhash_ALG_ARGON2ID13) != 0)
		return WH_ERR_NOMEM;
	pthread_mutex_lock(&ps->mu);
	if ((r = change_begin(ps)) != 0) {
		pthread_mutex_unlock(&ps->mu);
		return r;
	}
	if ((e = find(ps, rpath)) != NULL && e->locked)
		r = WH_ERR_PERMISSION; /* only the administrator unlocks */
	else if (e != NULL) {
		memcpy(e->hash, hash, sizeof(hash));
		r = 0;
	} else
		r = add_entry(ps, rpath, hash);
	if (r == 0)
		r = save(ps);
	change_end(ps, r);
	pthread_mutex_unlock(&ps->mu);
	return r;
}

/* Drops entry i (mutex held). */
static void
drop(struct protect_store *ps, size_t i)
{
	free(ps->v[i].rpath);
	memmove(&ps->v[i], &ps->v[i + 1], (ps->n - i - 1) * sizeof(*ps->v));
	ps->n--;
}

int
protect_clear(struct protect_store *ps, const char *rpath)
{
	struct protect_entry *e;
	int r = 0;

	if (ps == NULL)
		return 0;
	pthread_mutex_lock(&ps->mu);
	if ((r = change_begin(ps)) != 0) {
		pthread_mutex_unlock(&ps->mu);
		return r;
	}
	if ((e = find(ps, rpath)) != NULL) {
		drop(ps, (size_t)(e - ps->v));
		r = save(ps);
	}
	change_end(ps, r);
	pthread_mutex_unlock(&ps->mu);
	return r;
}

int
protect_rename(struct protect_store *ps, const char *from, const char *to)
{
	size_t i, flen = strlen(from), len;
	int changed = 0, r = 0;
	char *np;

	if (ps == NULL)
		return 0;
	pthread_mutex_lock(&ps->mu);
	if ((r = change_begin(ps)) != 0) {
		pthread_mutex_unlock(&ps->mu);
		return r;
	}
	/* The rename did not replace anything (RENAME_NOREPLACE), so an
	 * entry at to or beneath it names no file: a stale one, which
	 * must not become a second entry for the moved file's path. */
	for (i = 0; i < ps->n;) {
		const char *p = ps->v[i].rpath;

		if ((strcmp(p, to) == 0 || beneath(p, to)) &&
		    strcmp(p, from) != 0 && !beneath(p, from)) {
			drop(ps, i);
			changed = 1;
		} else
			i++;
	}
	for (i = 0; i < ps->n && r == 0; i++) {
		const char *p = ps->v[i].rpath;

		if (strcmp(p, from) != 0 && !beneath(p, from))
			continue;
		len = strlen(to) + strlen(p + flen) + 1;
		if ((np = malloc(len)) == NULL) {
			r = WH_ERR_NOMEM;
			break;
		}
		snprintf(np, len, "%s%s", to, p + flen);
		free(ps->v[i].rpath);
		ps->v[i].rpath = np;
		changed = 1;
	}
	if (r == 0 && changed)
		r = save(ps);
	change_end(ps, r);
	pthread_mutex_unlock(&ps->mu);
	return r;
}

int
protect_unless(struct protect_store *ps, const char *rpath,
    int (*fn)(void *arg), void *arg)
{
	int r;

	if (ps == NULL)
		return fn(arg);
	pthread_mutex_lock(&ps->mu);
	/* Shared: other servers' checks go on, their changes wait. */
	while (flock(ps->lock_fd, LOCK_SH) != 0)
		if (errno != EINTR) {
			pthread_mutex_unlock(&ps->mu);
			return wh_err_from_errno(errno);
		}
	refresh(ps);
	r = find(ps, rpath) != NULL ? WH_ERR_PERMISSION : fn(arg);
	flock(ps->lock_fd, LOCK_UN);
	pthread_mutex_unlock(&ps->mu);
	return r;
}
