/* SPDX-License-Identifier: MIT */
/*
 * What `wharf sync` adds to a tree transfer, in rsync's terms: filter
 * rules (--include, --exclude, --exclude-from; the first rule that
 * matches decides), the itemized change list (--itemize-changes, or
 * one JSON object per change), and backups of what a sync would
 * overwrite or delete (--backup, --backup-dir).
 */
#ifndef WHARF_SYNCOPTS_H
#define WHARF_SYNCOPTS_H

#include <stdio.h>

#include "wharf/err.h"

#define SYNC_RULES_MAX 256
/* The suffix --backup adds without --backup-dir, as rsync's. */
#define SYNC_BACKUP_SUFFIX "~"

struct sync_rule {
	char *pattern; /* without the leading '/' and trailing '/' */
	int include;
	int anchored; /* "/x": matches at the top only */
	int dir_only; /* "x/": matches folders only */
	int has_slash; /* matched against the whole path, else the name */
};

struct sync_filter {
	struct sync_rule v[SYNC_RULES_MAX];
	int n;
};

/* Appends a rule (pattern copied). WH_ERR_INVALID_ARG (with a message)
 * when there are too many or it is empty. */
int sync_filter_add(
    struct sync_filter *f, const char *pattern, int include) WH_MUST_CHECK;
/* Appends one rule per line of path ('-': standard input); blank lines
 * and lines starting with '#' or ';' are skipped, as in rsync. */
int sync_filter_load(
    struct sync_filter *f, const char *path, int include) WH_MUST_CHECK;
void sync_filter_cleanup(struct sync_filter *f);
/* 1 if rel (name is its last component) is excluded: the first rule
 * that matches decides; none matching includes it. */
int sync_filter_excluded(
    const struct sync_filter *f, const char *rel, const char *name, int is_dir);

/* Why an entry changes, for --itemize-changes. */
#define SYNC_WHY_NEW 0x01
#define SYNC_WHY_SIZE 0x02
#define SYNC_WHY_TIME 0x04
#define SYNC_WHY_CONTENT 0x08
#define SYNC_WHY_DELETED 0x10
#define SYNC_WHY_TYPE 0x20 /* a link whose target differs */

/*
 * One line for a change, as rsync -i prints it: "YXcst....... PATH" with
 * Y '<' sent, '>' received, 'c' made there (folders, links), '*' for
 * "*deleting"; X 'f' file, 'd' folder, 'L' link; then c (content, with
 * --checksum), s (size), t (mtime), '+' all along for a new entry. With
 * json, {"op":"sync","change":...,"type":...,"path":...,"reasons":[...]}
 * instead.
 */
void sync_itemize(
    FILE *f, int json, int download, char type, unsigned why, const char *rel);

/*
 * Where --backup puts the old rel of a destination top: under dir (NULL:
 * beside it), with the suffix "~" when dir is NULL. A relative dir is
 * relative to the destination top, as in rsync. Returns a malloc'd path
 * or NULL (no memory).
 */
char *sync_backup_path(const char *top, const char *dir, const char *rel);

#endif
