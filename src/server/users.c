/* SPDX-License-Identifier: MIT */
/*
 * Users file parsing and password hashing (Argon2id through libsodium's
 * crypto_pwhash_str, interactive limits).
 */
#include <stdio.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wharf/buf.h"
#include "wharf/file.h"
#include "wharf/sandbox.h"
#include "wharf/users.h"

#define USERS_LINE_MAX \
	(USERS_NAME_MAX + crypto_pwhash_STRBYTES + USERS_EXTRA_MAX + 16)

int
users_name_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > USERS_NAME_MAX || name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		        c == '-'))
			return 0;
	}
	return 1;
}

int
users_set_home(struct user *usr, const char *home)
{
	char norm[SANDBOX_VPATH_MAX];

	if (strchr(home, ':') != NULL ||
	    sandbox_join("/", home, strlen(home), norm, sizeof(norm)) != 0 ||
	    strlen(norm) >= sizeof(usr->home))
		return WH_ERR_INVALID_ARG;
	/* "/" is the whole root: the same as no home. */
	if (strcmp(norm, "/") == 0)
		usr->home[0] = '\0';
	else
		memcpy(usr->home, norm, strlen(norm) + 1); /* fits: checked */
	return 0;
}

/* Takes the known ":key=value" fields out of extra; keeps the rest. */
static int
parse_extra(struct user *usr, char *extra)
{
	char kept[USERS_EXTRA_MAX] = "", *field, *end;
	unsigned long long q;
	size_t n = 0;

	while ((field = strsep(&extra, ":")) != NULL) {
		if (strncmp(field, "home=", 5) == 0) {
			if (users_set_home(usr, field + 5) != 0 ||
			    usr->home[0] == '\0')
				return WH_ERR_CORRUPT;
		} else if (strcmp(field, "auth=key") == 0) {
			usr->keys_only = 1;
		} else if (strcmp(field, "disabled") == 0) {
			usr->disabled = 1;
		} else if (strncmp(field, "logout=", 7) == 0) {
			errno = 0;
			q = strtoull(field + 7, &end, 10);
			if (errno != 0 || end == field + 7 || *end != '\0' ||
			    field[7] == '-')
				return WH_ERR_CORRUPT;
			usr->logout = q;
		} else if (strncmp(field, "quota=", 6) == 0) {
			errno = 0;
			q = strtoull(field + 6, &end, 10);
			if (errno != 0 || end == field + 6 || *end != '\0' ||
			    field[6] == '-')
				return WH_ERR_CORRUPT;
			usr->quota = q;
		} else if (field[0] != '\0') {
			n += (size_t)snprintf(kept + n, sizeof(kept) - n,
			    "%s%s", n ? ":" : "", field);
			if (n >= sizeof(kept))
				return WH_ERR_CORRUPT;
		}
	}
	memcpy(usr->extra, kept, strlen(kept) + 1);
	return 0;
}

/* Parses one line (NUL-terminated, no newline) into usr. */
static int
parse_line(char *line, struct user *usr)
{
	char *name = line, *hash, *rights, *extra;

	memset(usr, 0, sizeof(*usr));
	if ((hash = strchr(name, ':')) == NULL)
		return WH_ERR_CORRUPT;
	*hash++ = '\0';
	if ((rights = strchr(hash, ':')) == NULL)
		return WH_ERR_CORRUPT;
	*rights++ = '\0';
	if ((extra = strchr(rights, ':')) != NULL)
		*extra++ = '\0';
	if (!users_name_valid(name) || strncmp(hash, "$argon2id$", 10) != 0 ||
	    strlen(hash) >= sizeof(usr->hash) ||
	    (strcmp(rights, "rw") != 0 && strcmp(rights, "ro") != 0) ||
	    (extra != NULL && strlen(extra) >= sizeof(usr->extra)))
		return WH_ERR_CORRUPT;
	/* Lengths were checked above. */
	memcpy(usr->name, name, strlen(name) + 1);
	memcpy(usr->hash, hash, strlen(hash) + 1);
	usr->read_only = rights[1] == 'o';
	if (extra != NULL)
		return parse_extra(usr, extra);
	return 0;
}

int
users_load(const char *path, struct users *u, int *bad_line)
{
	struct buf *b = NULL;
	struct user *v;
	char line[USERS_LINE_MAX];
	const uint8_t *p;
	size_t len, i, start;
	int r, lineno = 0;

	memset(u, 0, sizeof(*u));
	*bad_line = 0;
	if ((r = file_read_all(path, USERS_FILE_MAX, &b)) != 0)
		return r == WH_ERR_NOT_FOUND ? 0 : r;
	p = buf_ptr(b);
	len = buf_len(b);
	for (i = 0; i < len; i++) {
		start = i;
		while (i < len && p[i] != '\n')
			i++;
		lineno++;
		if (i - start == 0 || p[start] == '#')
			continue;
		if (i - start >= sizeof(line) ||
		    memchr(p + start, '\0', i - start) != NULL) {
			r = WH_ERR_CORRUPT;
			goto fail;
		}
		memcpy(line, p + start, i - start);
		line[i - start] = '\0';
		if ((v = realloc(u->v, (u->n + 1) * sizeof(*v))) == NULL) {
			r = WH_ERR_NOMEM;
			goto fail;
		}
		u->v = v;
		if ((r = parse_line(line, &u->v[u->n])) != 0 ||
		    users_find(u, u->v[u->n].name) != NULL) {
			r = WH_ERR_CORRUPT;
			goto fail;
		}
		u->n++;
	}
	buf_free(b);
	return 0;
fail:
	*bad_line = lineno;
	buf_free(b);
	users_cleanup(u);
	return r;
}

int
users_save(const char *path, const struct users *u)
{
	struct buf *b;
	char line[USERS_LINE_MAX];
	size_t i;
	int n, r = 0;

	if ((b = buf_new(USERS_FILE_MAX)) == NULL)
		return WH_ERR_NOMEM;
	for (i = 0; i < u->n && r == 0; i++) {
		const struct user *usr = &u->v[i];

		char quota[32] = "", logout[32] = "";

		if (usr->quota > 0)
			snprintf(quota, sizeof(quota), ":quota=%llu",
			    (unsigned long long)usr->quota);
		if (usr->logout > 0)
			snprintf(logout, sizeof(logout), ":logout=%llu",
			    (unsigned long long)usr->logout);
		n = snprintf(line, sizeof(line), "%s:%s:%s%s%s%s%s%s%s%s%s\n",
		    usr->name, usr->hash, usr->read_only ? "ro" : "rw",
		    usr->home[0] ? ":home=" : "", usr->home, quota,
		    usr->keys_only ? ":auth=key" : "",
		    usr->disabled ? ":disabled" : "", logout,
		    usr->extra[0] ? ":" : "", usr->extra);
		if (n < 0 || (size_t)n >= sizeof(line))
			r = WH_ERR_TOO_LARGE;
		else
			r = buf_put(b, line, (size_t)n);
	}
	if (r == 0)
		r = file_write_atomic(path, buf_ptr(b), buf_len(b), 0600);
	buf_free(b);
	return r;
}

void
users_cleanup(struct users *u)
{
	if (u->v != NULL)
		sodium_memzero(u->v, u->n * sizeof(*u->v));
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

struct user *
users_find(const struct users *u, const char *name)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (strcmp(u->v[i].name, name) == 0)
			return &u->v[i];
	return NULL;
}

int
users_set_password(struct user *usr, const char *password)
{
	if (strlen(password) > USERS_PASSWORD_MAX)
		return WH_ERR_TOO_LARGE;
	if (crypto_pwhash_str_alg(usr->hash, password, strlen(password),
	        crypto_pwhash_OPSLIMIT_INTERACTIVE,
	        crypto_pwhash_MEMLIMIT_INTERACTIVE,
	        crypto_pwhash_ALG_ARGON2ID13) != 0)
		return WH_ERR_NOMEM;
	return 0;
}

int
users_add(
    struct users *u, const char *name, const char *password, int read_only)
{
	struct user *v, usr;
	int r;

	if (!users_name_valid(name))
		return WH_ERR_INVALID_ARG;
	if (users_find(u, name) != NULL)
		return WH_ERR_EXISTS;
	memset(&usr, 0, sizeof(usr));
	snprintf(usr.name, sizeof(usr.name), "%s", name);
	usr.read_only = read_only;
	if ((r = users_set_password(&usr, password)) != 0)
		return r;
	if ((v = realloc(u->v, (u->n + 1) * sizeof(*v))) == NULL)
		return WH_ERR_NOMEM;
	u->v = v;
	u->v[u->n++] = usr;
	return 0;
}

int
users_remove(struct users *u, const char *name)
{
	struct user *usr = users_find(u, name);
	size_t i;

	if (usr == NULL)
		return WH_ERR_NOT_FOUND;
	i = (size_t)(usr - u->v);
	memmove(&u->v[i], &u->v[i + 1], (u->n - i - 1) * sizeof(*usr));
	u->n--;
	return 0;
}

static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void
make_dummy_hash(void)
{
	char pw[32];

	users_random_password(pw, sizeof(pw));
	if (crypto_pwhash_str_alg(dummy_hash, pw, strlen(pw),
	        crypto_pwhash_OPSLIMIT_INTERACTIVE,
	        crypto_pwhash_MEMLIMIT_INTERACTIVE,
	        crypto_pwhash_ALG_ARGON2ID13) != 0)
		dummy_hash[0] = '\0';
	sodium_memzero(pw, sizeof(pw));
}

int
users_verify(
    const char *path, const char *name, const char *password, struct user *out)
{
	struct users u;
	struct user *usr;
	int r, bad;

	/* A file the server cannot read is its own failure, never a wrong
	 * password: WH_ERR_SYSTEM (errno kept) and WH_ERR_NOMEM as they
	 * come, anything else about the file is damage. */
	if ((r = users_load(path, &u, &bad)) != 0)
		return r == WH_ERR_SYSTEM || r == WH_ERR_NOMEM ? r :
		                                                 WH_ERR_CORRUPT;
	usr = users_name_valid(name) ? users_find(&u, name) : NULL;
	/* Verified even when the user does not exist, against a hash of a
	 * random password, so that the time taken does not tell. */
	pthread_once(&dummy_once, make_dummy_hash);
	errno = 0;
	r = crypto_pwhash_str_verify(
	    usr != NULL ? usr->hash : dummy_hash, password, strlen(password));
	if (r == 0 && usr != NULL) {
		*out = *usr;
		r = 0;
	} else if (r != 0 && errno == ENOMEM)
		r = WH_ERR_NOMEM; /* its 64 MiB could not be had */
	else
		r = WH_ERR_AUTH;
	users_cleanup(&u);
	return r;
}

int
users_lookup(const char *path, const char *name, struct user *out)
{
	struct users u;
	struct user *usr;
	int r, bad;

	if ((r = users_load(path, &u, &bad)) != 0)
		return r;
	usr = users_name_valid(name) ? users_find(&u, name) : NULL;
	if (usr != NULL)
		*out = *usr;
	r = usr != NULL ? 0 : WH_ERR_NOT_FOUND;
	users_cleanup(&u);
	return r;
}

void
users_random_password(char *out, size_t outlen)
{
	uint8_t raw[15];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, outlen, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}
