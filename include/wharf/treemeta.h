/* SPDX-License-Identifier: MIT */
/*
 * What a tree transfer does after its files: symbolic links made (-l),
 * folder modes and mtimes set deepest first, once nothing more is written
 * inside them (so a 700 folder stays 700 and an old mtime stays old), and
 * the links it skipped, reported so that nothing is silently missing.
 * Used by get -r, put -r and sync, in both directions.
 */
#ifndef WHARF_TREEMETA_H
#define WHARF_TREEMETA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "wharf/client.h"

/* How a tree treats symbolic links (transfer_opts.links). */
enum tree_links {
	TREE_LINKS_SKIP = 0, /* the default: skipped, listed, exit 23 */
	TREE_LINKS_KEEP, /* -l, --links: made as links, where safe */
	TREE_LINKS_FOLLOW, /* -L, --copy-links: what they point to */
};

/* Folder levels a walk descends, at most: deep trees, and -L's loops. */
#define TREE_DEPTH_MAX 128

struct tree_dir {
	char *path; /* local (get) or remote (put) */
	uint32_t mode;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
};

struct tree_link {
	char *path; /* where to make it: local (get) or remote (put) */
	char *target;
};

struct tree_meta {
	struct tree_dir *dirs;
	size_t ndirs;
	size_t capdirs;
	struct tree_link *links;
	size_t nlinks;
	size_t caplinks;
	size_t skipped; /* links left out: the tree is partial */
	size_t skipped_special; /* FIFOs, sockets, devices left out */
	size_t failed; /* links or attributes that could not be set */
	int json; /* --json: each skipped link also as an object on stdout */
};

void tree_meta_init(struct tree_meta *tm);
void tree_meta_cleanup(struct tree_meta *tm);

/* Records a folder's attributes (copied). WH_ERR_NOMEM. */
int tree_meta_add_dir(struct tree_meta *tm, const char *path, uint32_t mode,
    int64_t mtime_sec, uint32_t mtime_nsec) WH_MUST_CHECK;
/* The same from a local stat. */
int tree_meta_add_dir_st(struct tree_meta *tm, const char *path,
    const struct stat *st) WH_MUST_CHECK;
/* Records a link to make at path (copied). WH_ERR_NOMEM. */
int tree_meta_add_link(
    struct tree_meta *tm, const char *path, const char *target) WH_MUST_CHECK;
/* Counts an entry left out and says so on stderr: "wharf: OP: skipped
 * symbolic link SHOWN: WHY" (and with json on stdout: {"op":OP,
 * "path":SHOWN,"type":"link","result":"skipped","reason":WHY}). */
void tree_meta_skip(
    struct tree_meta *tm, const char *op, const char *shown, const char *why);

/* The same for an entry that is not a file, folder or link ("wharf: OP:
 * skipped SHOWN: not a regular file, folder or link"). */
void
tree_meta_skip_special(struct tree_meta *tm, const char *op, const char *shown);

/*
 * 1 if a link at rel (a path relative to the tree's top) pointing to
 * target stays inside the tree, lexically, as rsync's --safe-links
 * judges: relative, no control characters, never above the top.
 */
int tree_link_safe(const char *rel, const char *target);

/*
 * Makes the links and then sets the folders' mtimes (and modes with
 * perms), deepest first: on this machine, or on the server (SymlinkReq,
 * SetAttrReq; where the server lacks the feature, one notice). Failures
 * are reported on stderr and counted in tm->failed; returns
 * WH_ERR_REMOTE-family errors only when the connection is lost.
 */
void tree_meta_apply_local(struct tree_meta *tm, const char *op, int perms);
int tree_meta_apply_remote(struct client *c, struct tree_meta *tm,
    const char *op, int perms) WH_MUST_CHECK;

/* The closing line for skipped entries, when there were any. */
void tree_meta_summary(const struct tree_meta *tm, const char *op);

/* The exit status for a run that otherwise ended with status. */
int tree_meta_status(const struct tree_meta *tm, int status);

#endif
