/* SPDX-License-Identifier: MIT */
/*
 * Trees for get -r, put -r and sync: walking a local tree, listing a
 * remote one, the excludes and the one rule for names the server sends.
 * Both walks hand every folder and regular file to a visitor, so that
 * the commands share what they see and what they refuse.
 */
#ifndef WHARF_TREE_H
#define WHARF_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "wharf/client.h"
#include "wharf/transfer.h"

/* Folder levels a local walk descends, at most. */
#define TREE_DEPTH_MAX 128

/* A folder or regular file a walk found. Valid during the visit only. */
struct tree_entry {
	const char *rel; /* below the top: "" for the top itself */
	const char *path; /* the whole local or remote path */
	int dir;
	uint64_t size;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
};

/* Returns 0 to go on, an error to end the walk with it. */
typedef int (*tree_visit_fn)(void *arg, const struct tree_entry *e);

struct tree_walk {
	const struct transfer_opts *o; /* excludes; quiet */
	const char *what; /* "get", "put", "sync": the messages' prefix */
	tree_visit_fn visit;
	void *arg;
	/* Entries that could not be read or were refused, each reported on
	 * stderr; the walk goes on past them. */
	int failures;
};

/*
 * Walks the local tree under top, depth first: visits top (rel "") and
 * then each folder before what it holds. Returns 0, WH_ERR_NOMEM or the
 * visitor's error; unreadable entries only count in w->failures.
 */
int tree_walk_local(struct tree_walk *w, const char *top) WH_MUST_CHECK;

/*
 * Lists the remote tree under top, breadth first, visiting top (rel "")
 * first. Returns the error of listing top itself unreported (so that
 * WH_ERR_NOT_FOUND can mean "new"), the visitor's error, or the error of
 * a lost connection; a subfolder that cannot be listed, and every name
 * tree_name_safe refuses, only count in w->failures.
 */
int tree_walk_remote(
    struct tree_walk *w, struct client *c, const char *top) WH_MUST_CHECK;

/*
 * The one rule for a name the server sends, which becomes a local path:
 * text (msg_text) copied to out, one component, not "." or "..", no '/',
 * no control byte (below 0x20 or DEL). Returns 1 if safe, else 0.
 */
int tree_name_safe(const ProtobufCBinaryData *b, char *out, size_t outlen);

/*
 * 1 if rel (a path below a tree's top) is left out: a transfer partial,
 * or matched by an --exclude pattern (a pattern without '/' also matches
 * the last component, as rsync's do).
 */
int tree_skipped(const struct transfer_opts *o, const char *rel);

/* dir "/" name in new memory (no doubled '/'; name alone if dir is ""),
 * or NULL without memory. */
char *tree_join(const char *dir, const char *name);
/* The last component of path, ignoring trailing slashes (into path). */
const char *tree_base(const char *path);
/* tree_base() copied without its trailing slashes: WH_ERR_INVALID_ARG if
 * empty or longer than outlen - 1. */
int tree_base_copy(const char *path, char *out, size_t outlen) WH_MUST_CHECK;

#endif
