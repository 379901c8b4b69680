/* SPDX-License-Identifier: MIT */
/*
 * The users file: one user a line, "name:argon2id-hash:rw|ro", optionally
 * followed by ":home=/SUBDIR" (the user sees only that subtree of the
 * root), ":quota=BYTES", ":auth=key" (key logins only), ":disabled"
 * and ":logout=N" (see struct user); other ":key=value" fields are kept
 * as read. Mode 0600,
 * always replaced atomically. Passwords exist in memory only long enough
 * to hash or verify them.
 */
#ifndef WHARF_USERS_H
#define WHARF_USERS_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "wharf/err.h"

#define USERS_NAME_MAX 32
#define USERS_PASSWORD_MAX 1024
#define USERS_EXTRA_MAX 1024
#define USERS_FILE_MAX (16u * 1024u * 1024u)
#define USERS_FILE_NAME "users"

#define USERS_HOME_MAX 1024

struct user {
	char name[USERS_NAME_MAX + 1];
	char hash[crypto_pwhash_STRBYTES];
	int read_only;
	char home[USERS_HOME_MAX]; /* "" or a normalised "/sub/dir" */
	uint64_t quota; /* bytes over the home; 0: none */
	int keys_only; /* ":auth=key": no password logins */
	int disabled; /* ":disabled": no logins; open sessions end */
	/* ":logout=N": raised by `wharf user passwd --logout`; sessions that
	 * logged in under a lower value end (server/watch.c). */
	uint64_t logout;
	char extra[USERS_EXTRA_MAX]; /* unknown trailing fields, kept */
};

struct users {
	struct user *v;
	size_t n;
};

/* 1 if name is 1-32 of [A-Za-z0-9._-], not starting with '.' or '-'. */
int users_name_valid(const char *name);

/*
 * Loads path into *u (users_cleanup frees). A missing file is an empty
 * list; a malformed line is WH_ERR_CORRUPT with *bad_line set.
 */
int users_load(const char *path, struct users *u, int *bad_line) WH_MUST_CHECK;
int users_save(const char *path, const struct users *u) WH_MUST_CHECK;
void users_cleanup(struct users *u);

struct user *users_find(const struct users *u, const char *name);

/* Adds name (WH_ERR_EXISTS if present) with an Argon2id hash of password. */
int users_add(struct users *u, const char *name, const char *password,
    int read_only) WH_MUST_CHECK;
int users_set_password(struct user *usr, const char *password) WH_MUST_CHECK;
int users_remove(struct users *u, const char *name) WH_MUST_CHECK;

/*
 * Checks name and password against the file at path. Returns 0 and fills
 * *out on success, WH_ERR_AUTH for a wrong name or password (spending the
 * same work whether or not the user exists), and WH_ERR_SYSTEM (errno
 * kept), WH_ERR_NOMEM or WH_ERR_CORRUPT when the server cannot check:
 * callers must not count those against the client.
 */
int users_verify(const char *path, const char *name, const char *password,
    struct user *out) WH_MUST_CHECK;

/*
 * The user name of the file at path, without a password (key logins):
 * 0, WH_ERR_NOT_FOUND, or the error of reading the file.
 */
int users_lookup(
    const char *path, const char *name, struct user *out) WH_MUST_CHECK;

/*
 * Sets usr's home from a path below the root ("alice", "/teams/a"):
 * normalised, no "..", no ':'; "" or "/" clears it. WH_ERR_INVALID_ARG
 * otherwise.
 */
int users_set_home(struct user *usr, const char *home) WH_MUST_CHECK;

/* A random password for the first admin: 20 characters, base64url. */
void users_random_password(char *out, size_t outlen);

#endif
