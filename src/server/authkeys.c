/* SPDX-License-Identifier: MIT */
/*
 * The authorized keys store. Files are small and read whole through a
 * capped buffer; every change rewrites the file with file_write_atomic.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "wharf/authkeys.h"
#include "wharf/file.h"
#include "wharf/users.h"

int
authkeys_path(const char *state, const char *user, char *out, size_t outlen)
{
	int n;

	if (!users_name_valid(user))
		return WH_ERR_INVALID_ARG;
	n = snprintf(out, outlen, "%s/%s/%s", state, AUTHKEYS_DIR, user);
	return n > 0 && (size_t)n < outlen ? 0 : WH_ERR_TOO_LARGE;
}

/* Calls fn for each line of user's file (the whole file in *text, kept
 * for rewriting); stops at fn's first non-zero answer. */
static int
each_line(const char *state, const char *user, struct buf **text,
    int (*fn)(void *arg, const char *line, size_t start, size_t end), void *arg)
{
	char path[PATH_MAX], line[SSHKEY_LINE_MAX];
	const uint8_t *p;
	size_t i = 0, n, len;
	int r;

	*text = NULL;
	if ((r = authkeys_path(state, user, path, sizeof(path))) != 0)
		return r;
	if ((r = file_read_all(path, AUTHKEYS_FILE_MAX, text)) != 0)
		return r == WH_ERR_TOO_LARGE ? WH_ERR_CORRUPT : r;
	p = buf_ptr(*text);
	len = buf_len(*text);
	while (i < len) {
		for (n = i; n < len && p[n] != '\n'; n++)
			;
		if (n - i >= sizeof(line))
			return WH_ERR_CORRUPT;
		memcpy(line, p + i, n - i);
		line[n - i] = '\0';
		if ((r = fn(arg, line, i, n < len ? n + 1 : n)) != 0)
			return r;
		i = n < len ? n + 1 : n;
	}
	return 0;
}

struct find {
	const uint8_t *pk;
	struct sshkey_authorized *out;
	const char *id; /* for del: fingerprint or comment */
	size_t start, end; /* the line found */
	int found;
};

static int
find_line(void *arg, const char *line, size_t start, size_t end)
{
	struct find *f = arg;
	struct sshkey_authorized k;
	char fp[SSHKEY_FP_LEN];
	int r = sshkey_parse_authorized(line, &k);

	if (r == WH_ERR_NOT_FOUND)
		return 0;
	/* A line we cannot read might have been a restriction: refuse
	 * rather than guess. */
	if (r != 0)
		return WH_ERR_CORRUPT;
	sshkey_fingerprint(k.pk, fp);
	if ((f->pk != NULL && sodium_memcmp(k.pk, f->pk, SSHKEY_PK_LEN) == 0) ||
	    (f->id != NULL &&
	        (strcmp(fp, f->id) == 0 || strcmp(k.comment, f->id) == 0))) {
		if (f->out != NULL)
			*f->out = k;
		f->start = start;
		f->end = end;
		f->found = 1;
		return 1;
	}
	return 0;
}

int
authkeys_find(const char *state, const char *user,
    const uint8_t pk[SSHKEY_PK_LEN], struct sshkey_authorized *out)
{
	struct find f = { .pk = pk, .out = out };
	struct buf *text = NULL;
	int r = each_line(state, user, &text, find_line, &f);

	buf_free(text);
	if (r < 0)
		return r;
	return f.found ? 0 : WH_ERR_NOT_FOUND;
}

int
authkeys_add(const char *state, const char *user, const char *line)
{
	char path[PATH_MAX], dir[PATH_MAX];
	struct sshkey_authorized k;
	struct find f = { 0 };
	struct buf *text = NULL, *out = NULL;
	size_t n = strcspn(line, "\r\n");
	int r;

	if ((r = sshkey_parse_authorized(line, &k)) != 0)
		return r == WH_ERR_NOT_FOUND ? WH_ERR_FORMAT : r;
	f.pk = k.pk;
	r = each_line(state, user, &text, find_line, &f);
	if (r < 0 && r != WH_ERR_NOT_FOUND)
		goto out;
	if (f.found) {
		r = WH_ERR_EXISTS;
		goto out;
	}
	if ((out = buf_new(AUTHKEYS_FILE_MAX)) == NULL) {
		r = WH_ERR_NOMEM;
		goto out;
	}
	if ((text != NULL &&
	        (r = buf_put(out, buf_ptr(text), buf_len(text))) != 0) ||
	    (buf_len(out) > 0 && buf_ptr(out)[buf_len(out) - 1] != '\n' &&
	        (r = buf_put(out, "\n", 1)) != 0) ||
	    (r = buf_put(out, line, n)) != 0 ||
	    (r = buf_put(out, "\n", 1)) != 0)
		goto out;
	snprintf(dir, sizeof(dir), "%s/%s", state, AUTHKEYS_DIR);
	if ((r = file_mkdir_owned(dir, 0700)) != 0 ||
	    (r = authkeys_path(state, user, path, sizeof(path))) != 0)
		goto out;
	r = file_write_atomic(path, buf_ptr(out), buf_len(out), 0600);
out:
	buf_free(text);
	buf_free(out);
	return r;
}

int
authkeys_del(const char *state, const char *user, const char *id)
{
	char path[PATH_MAX];
	struct find f = { .id = id };
	struct buf *text = NULL, *out = NULL;
	int r = each_line(state, user, &text, find_line, &f);

	if (r < 0)
		goto out;
	if (!f.found) {
		r = WH_ERR_NOT_FOUND;
		goto out;
	}
	if ((out = buf_new(AUTHKEYS_FILE_MAX)) == NULL) {
		r = WH_ERR_NOMEM;
		goto out;
	}
	if ((r = buf_put(out, buf_ptr(text), f.start)) != 0 ||
	    (r = buf_put(out, buf_ptr(text) + f.end, buf_len(text) - f.end)) !=
	        0 ||
	    (r = authkeys_path(state, user, path, sizeof(path))) != 0)
		goto out;
	r = file_write_atomic(path, buf_ptr(out), buf_len(out), 0600);
out:
	buf_free(text);
	buf_free(out);
	return r;
}

static int
print_line(void *arg, const char *line, size_t start, size_t end)
{
	struct sshkey_authorized k;
	char fp[SSHKEY_FP_LEN];
	int r = sshkey_parse_authorized(line, &k);

	(void)start;
	(void)end;
	if (r == WH_ERR_NOT_FOUND)
		return 0;
	if (r != 0)
		return WH_ERR_CORRUPT;
	sshkey_fingerprint(k.pk, fp);
	fprintf((FILE *)arg, "%s\t%s%s%s%s%s\n", fp,
	    k.comment[0] ? k.comment : "(no comment)",
	    k.from[0] ? "\tfrom=" : "", k.from,
	    k.read_only ? "\tread-only" : "", "");
	return 0;
}

int
authkeys_list(const char *state, const char *user, FILE *f)
{
	struct buf *text = NULL;
	int r = each_line(state, user, &text, print_line, f);

	buf_free(text);
	return r == WH_ERR_NOT_FOUND ? 0 : r;
}

int
authkeys_verify_login(const char *users_path, const char *addr,
    const uint8_t th[32], const char *user, const uint8_t *pk, size_t pk_len,
    const uint8_t *sig, size_t sig_len, struct user *out, const char **why)
{
	char state[PATH_MAX], *slash;
	uint8_t msg[SSHKEY_LOGIN_MSG_MAX];
	struct sshkey_authorized k;
	struct user usr;
	size_t len;
	int r;

	*why = "no such user";
	if (pk_len != SSHKEY_PK_LEN || sig_len != SSHKEY_SIG_LEN) {
		*why = "malformed key or signature";
		return WH_ERR_AUTH;
	}
	if ((r = users_lookup(users_path, user, &usr)) != 0)
		return r == WH_ERR_NOT_FOUND ? WH_ERR_AUTH : WH_ERR_SYSTEM;
	snprintf(state, sizeof(state), "%s", users_path);
	if ((slash = strrchr(state, '/')) != NULL)
		*slash = '\0';
	r = authkeys_find(state, user, pk, &k);
	if (r == WH_ERR_CORRUPT) {
		*why = "the user's authorized keys file is damaged";
		r = WH_ERR_AUTH;
	} else if (r == WH_ERR_NOT_FOUND) {
		*why = "key not authorized";
		r = WH_ERR_AUTH;
	} else if (r != 0)
		r = WH_ERR_SYSTEM;
	else if (!sshkey_from_matches(k.from, addr)) {
		*why = "key not allowed from this address (from=)";
		r = WH_ERR_AUTH;
	} else if ((r = sshkey_login_message(th, user, pk, msg, &len)) != 0 ||
	    crypto_sign_verify_detached(sig, msg, len, pk) != 0) {
		*why = "bad signature (another session's, or forged)";
		r = WH_ERR_AUTH;
	} else {
		*out = usr;
		if (k.read_only)
			out->read_only = 1;
		*why = "ok";
	}
	sodium_memzero(&usr, sizeof(usr));
	return r;
}
