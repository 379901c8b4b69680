/* SPDX-License-Identifier: MIT */
/*
 * The served root as a jail. Every path a peer names is joined to the
 * session's working directory, checked, and opened beneath a directory fd
 * of the root (openat2 with RESOLVE_BENEATH, or a component walk with
 * O_NOFOLLOW where openat2 is missing). Nothing else on the server opens
 * files by name.
 */
#ifndef WHARF_SANDBOX_H
#define WHARF_SANDBOX_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wharf/err.h"
#include "wharf/wire.h"

/* A normalised virtual path: "/" or "/a/b", at most WIRE_PATH_MAX bytes. */
#define SANDBOX_VPATH_MAX (WIRE_PATH_MAX + 1)
#define SANDBOX_NAME_MAX (WIRE_NAME_MAX + 1)

struct sandbox {
	int root_fd;
	int walk_only; /* no openat2: component walk, symlinks refused */
};

/* Opens root (which must be a directory). */
int sandbox_open(struct sandbox *sb, const char *root) WH_MUST_CHECK;
void sandbox_close(struct sandbox *sb);

/* Forces the fallback walk even where openat2 exists (tests). */
void sandbox_set_walk_only(struct sandbox *sb, int on);

/*
 * Joins cwd (a normalised virtual path) and len bytes of path from a
 * peer into out. "." and empty components vanish, ".." removes one
 * component. WH_ERR_INVALID_PATH for: NUL or control bytes, invalid UTF-8,
 * a component longer than WIRE_NAME_MAX, a path longer than
 * WIRE_PATH_MAX, ".." above the root, or a component that is a partial's
 * name (xfer_partial_is: ".X.wharf-part"), even one a later ".." drops.
 * Partials are the server's transfer state: no request may name one.
 */
int sandbox_join(const char *cwd, const void *path, size_t len, char *out,
    size_t outlen) WH_MUST_CHECK;

/* sandbox_join without the partial rule: for the server's own records of
 * paths (the protection store), never for a path from a peer. */
int sandbox_normalize(const char *cwd, const void *path, size_t len, char *out,
    size_t outlen) WH_MUST_CHECK;

/*
 * Opens vpath beneath the root with open(2) flags and mode; *fdp gets the
 * fd. A symlink that leads out of the root, or an absolute one, gives
 * WH_ERR_INVALID_PATH; errno-style failures map through wh_err_from_errno.
 */
int sandbox_open_at(const struct sandbox *sb, const char *vpath, int flags,
    mode_t mode, int *fdp) WH_MUST_CHECK;

/*
 * Opens the folder that holds vpath's last component (as an O_PATH fd in
 * *dirfdp) and copies that component to name. WH_ERR_INVALID_PATH for "/",
 * which has no parent.
 */
int sandbox_open_parent(const struct sandbox *sb, const char *vpath,
    int *dirfdp, char name[SANDBOX_NAME_MAX]) WH_MUST_CHECK;

/* sandbox_open_parent with the folder opened O_RDONLY | O_DIRECTORY, an
 * fd that can be fsynced and listed: one open where an upload needs it,
 * not an O_PATH fd reopened through ".". Needs read permission on the
 * folder, which O_PATH does not. */
int sandbox_open_parent_dir(const struct sandbox *sb, const char *vpath,
    int *dirfdp, char name[SANDBOX_NAME_MAX]) WH_MUST_CHECK;

/* mkdir -p of vpath beneath the root (mode 0755). */
int sandbox_mkdirs(const struct sandbox *sb, const char *vpath) WH_MUST_CHECK;

/*
 * A sandbox whose root is the folder vpath of sb (a user's home): paths
 * in it can no more leave the home than paths in sb can leave its root.
 */
int sandbox_open_sub(const struct sandbox *sb, const char *vpath,
    struct sandbox *out) WH_MUST_CHECK;

/* The last component of a normalised vpath ("" for "/"). */
const char *sandbox_basename(const char *vpath);

#endif
