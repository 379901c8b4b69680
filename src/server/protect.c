/* SPDX-License-Identifier: MIT */
/*
 * The protection store. Small and rarely changed, so it is kept in memory
 * behind one mutex and written out whole, atomically, after each change.
 * File format: a header line, then "<argon2id hash>\t<path>" lines.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "wharf/buf.h"
#include "wharf/file.h"
#include "wharf/protect.h"
#include "wharf/sandbox.h"

#define PROTECT_HEADER "wharf-protected-v1"
#define PROTECT_FILE_MAX (64u * 1024u * 1024u)

struct protect_entry {
	char *rpath;
	char hash[crypto_pwhash_STRBYTES];
};

struct protect_store {
	pthread_mutex_t mu;
	char *path;
	struct protect_entry *v;
	size_t n;
};

static int
valid_rpath(const char *p)
{
	char norm[SANDBOX_VPATH_MAX];

	return sandbox_join("/", p, strlen(p), norm, sizeof(norm)) == 0 &&
	    strcmp(norm, p) == 0 && strcmp(p, "/") != 0;
}

static int
add_entry(struct protect_store *ps, const char *rpath, const char *hash)
{
	struct protect_entry *nv;

	if ((nv = realloc(ps->v, (ps->n + 1) * sizeof(*nv))) == NULL)
		return WH_ERR_NOMEM;
	ps->v = nv;
	if ((nv[ps->n].rpath = strdup(rpath)) == NULL)
		return WH_ERR_NOMEM;
	memcpy(nv[ps->n].hash, hash, strlen(hash) + 1);
	ps->n++;
	return 0;
}

static int
parse(struct protect_store *ps, const struct buf *b, int *bad_line)
{
	char line[crypto_pwhash_STRBYTES + SANDBOX_VPATH_MAX + 2], *tab;
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
		if ((tab = strchr(line, '\t')) == NULL)
			return WH_ERR_CORRUPT;
		*tab++ = '\0';
		if (strncmp(line, "$argon2id$", 10) != 0 ||
		    strlen(line) >= crypto_pwhash_STRBYTES ||
		    !valid_rpath(tab) || protect_is(ps, tab))
			return WH_ERR_CORRUPT;
		if ((r = add_entry(ps, tab, line)) != 0)
			return r;
	}
	/* A store must end with a newline: a torn last line is damage. */
	if (len > 0 && p[len - 1] != '\n')
		return WH_ERR_CORRUPT;
	*bad_line = 0;
	return 0;
}

int
protect_store_open(const char *path, struct protect_store **out, int *bad_line)
{
	struct protect_store *ps;
	struct buf *b = NULL;
	int r;

	*out = NULL;
	*bad_line = 0;
	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return WH_ERR_NOMEM;
	pthread_mutex_init(&ps->mu, NULL);
	if ((ps->path = strdup(path)) == NULL) {
		protect_store_free(ps);
		return WH_ERR_NOMEM;
	}
	r = file_read_all(path, PROTECT_FILE_MAX, &b);
	if (r == WH_ERR_NOT_FOUND)
		r = 0;
	else if (r == WH_ERR_TOO_LARGE)
		r = WH_ERR_CORRUPT;
	else if (r == 0)
		r = parse(ps, b, bad_line);
	buf_free(b);
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
	size_t i;

	if (ps == NULL)
		return;
	for (i = 0; i < ps->n; i++)
		free(ps->v[i].rpath);
	free(ps->v);
	free(ps->path);
	pthread_mutex_destroy(&ps->mu);
	free(ps);
}

/* Callers hold the mutex. */
static struct protect_entry *
find(struct protect_store *ps, const char *rpath)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		if (strcmp(ps->v[i].rpath, rpath) == 0)
			return &ps->v[i];
	return NULL;
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
		if ((r = buf_put(b, ps->v[i].hash, strlen(ps->v[i].hash))) ==
		        0 &&
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

	if (ps == NULL)
		return 0;
	pthread_mutex_lock(&ps->mu);
	e = find(ps, rpath);
	if (e != NULL)
		memcpy(hash, e->hash, sizeof(hash));
	pthread_mutex_unlock(&ps->mu);
	if (e == NULL)
		return 0;
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
	if ((e = find(ps, rpath)) != NULL) {
		memcpy(e->hash, hash, sizeof(hash));
		r = 0;
	} else
		r = add_entry(ps, rpath, hash);
	if (r == 0)
		r = save(ps);
	pthread_mutex_unlock(&ps->mu);
	return r;
}

int
protect_clear(struct protect_store *ps, const char *rpath)
{
	struct protect_entry *e;
	size_t i;
	int r = 0;

	if (ps == NULL)
		return 0;
	pthread_mutex_lock(&ps->mu);
	if ((e = find(ps, rpath)) != NULL) {
		i = (size_t)(e - ps->v);
		free(e->rpath);
		memmove(&ps->v[i], &ps->v[i + 1], (ps->n - i - 1) * sizeof(*e));
		ps->n--;
		r = save(ps);
	}
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
	pthread_mutex_unlock(&ps->mu);
	return r;
}
