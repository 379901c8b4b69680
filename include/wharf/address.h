/* SPDX-License-Identifier: MIT */
/*
 * Where a command-line argument points: a server ("[USER@]HOST[:PORT]"), a
 * file on a server ("[USER@]HOST:PATH" as in scp, or the URL
 * "wharf://[USER@]HOST[:PORT]/PATH"), or a local path. The rule that keeps
 * HOST:PORT and HOST:PATH apart is written once, here, and in wharf(1):
 * after the first colon, digits alone are a port; anything else is a path.
 */
#ifndef WHARF_ADDRESS_H
#define WHARF_ADDRESS_H

#include <stddef.h>

#include "wharf/client.h"

#define ADDRESS_URL_SCHEME "wharf://"

enum address_kind {
	/* No colon before any "/": a local path, or a bare HOST where a
	 * server is expected. */
	ADDRESS_PLAIN,
	/* "[USER@]HOST:PORT" or "[ADDR]:PORT", or a URL without a path:
	 * a server and no file. */
	ADDRESS_SERVER,
	/* "[USER@]HOST:PATH" or a URL with a path. */
	ADDRESS_REMOTE_PATH,
	/* Starts with "/" or ".", or has a "/" before its first colon:
	 * local whatever follows (so "./a:b" names a local file). */
	ADDRESS_LOCAL,
};

/* Which of the above s is; nothing is printed. */
enum address_kind address_classify(const char *s);

/*
 * Parses s as a server, a remote path or a URL into t (USER defaults to
 * the login name; t->user_given and t->port_given say what s gave) and,
 * when path is not NULL, its path into path ("" for none; "HOST:" is the
 * remote working directory). URL paths are %-decoded and absolute.
 * WH_ERR_INVALID_ARG with one line on stderr for anything else.
 */
int address_parse(const char *s, struct client_target *t, char *path,
    size_t pathlen) WH_MUST_CHECK;

/* 1 if a and b name the same user, server and port. */
int address_same_server(
    const struct client_target *a, const struct client_target *b);

#endif
