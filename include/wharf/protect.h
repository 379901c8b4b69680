/* SPDX-License-Identifier: MIT */
/*
 * Passcode-protected files. The store maps a file's canonical path below
 * the server root to an Argon2id hash of its passcode. It lives in the
 * state folder (never in the served root) and is rewritten atomically on
 * every change, which keeps one entry per path. A damaged store must never
 * mean silently unprotected files: an entry that cannot be trusted (a bad
 * hash, two entries for one path) locks its path, refused to everyone
 * while the rest serves on; a line whose path cannot be read refuses the
 * whole store.
 */
#ifndef WHARF_PROTECT_H
#define WHARF_PROTECT_H

#include <stddef.h>

#include "wharf/err.h"

#define PROTECT_FILE_NAME "protected"
#define PROTECT_PASSCODE_MAX 1024
struct protect_store;

/*
 * Loads path (a missing file is an empty store). Locked entries are
 * logged as errors. WH_ERR_CORRUPT with *bad_line set for a bad header or
 * a line whose path cannot be read.
 */
int protect_store_open(
    const char *path, struct protect_store **out, int *bad_line) WH_MUST_CHECK;
void protect_store_free(struct protect_store *ps);

/* 1 if rpath (canonical, "/a/b") is protected. */
int protect_is(struct protect_store *ps, const char *rpath);
/* 1 if no file is protected (or ps is NULL): callers may skip finding a
 * file's real path just to ask protect_is. */
int protect_none(struct protect_store *ps);
/* 1 if some protected file lies beneath folder rpath. */
int protect_any_under(struct protect_store *ps, const char *rpath);

/*
 * 0 if rpath is not protected or passcode opens it; WH_ERR_PERMISSION
 * otherwise, always for a locked path (the caller waits out the penalty,
 * guard.h, and says no more).
 */
int protect_check(struct protect_store *ps, const char *rpath,
    const char *passcode) WH_MUST_CHECK;

/* Protects rpath with passcode (replacing an older passcode); saved.
 * WH_ERR_PERMISSION for a locked path. */
int protect_set(struct protect_store *ps, const char *rpath,
    const char *passcode) WH_MUST_CHECK;
/* Drops rpath's entry, if any; saved. */
int protect_clear(struct protect_store *ps, const char *rpath) WH_MUST_CHECK;
/* Moves entries from one path to another (a file, or a folder and all
 * beneath it), after a rename that replaced nothing: entries at to or
 * beneath it are stale and dropped, so no path gets two; saved. */
int protect_rename(
    struct protect_store *ps, const char *from, const char *to) WH_MUST_CHECK;
/*
 * Runs fn(arg) and returns its result if rpath is not protected, with the
 * store locked so that no protect_set of rpath comes between the check
 * and fn; WH_ERR_PERMISSION without running fn if it is. fn must be
 * quick (a rename) and must not call back into the store.
 */
int protect_unless(struct protect_store *ps, const char *rpath,
    int (*fn)(void *arg), void *arg) WH_MUST_CHECK;

#endif
