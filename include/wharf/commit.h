/* SPDX-License-Identifier: MIT */
/*
 * The one commit of a received file, for both sides and for stripes: the
 * partial is cut to size, given its mode and mtime, made durable, renamed
 * onto its target (only while its name still holds the inode written),
 * and the folder made durable so that the rename survives a power cut.
 * The server's group commit runs the same steps with the fsyncs left to
 * the caller, who syncs the whole filesystem once for a batch of files.
 */
#ifndef WHARF_COMMIT_H
#define WHARF_COMMIT_H

#include <stdint.h>
#include <sys/stat.h>

#include "wharf/err.h"

/* A file time's nanoseconds are below this (docs/protocol.md §9.4). */
#define XFER_NSEC_LIMIT 1000000000u

/* What a file gets besides its content. */
struct xfer_meta {
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	uint32_t mode; /* permission bits, 0777 at most */
};

/*
 * Takes a peer's file times and mode: the mode is masked to 0777; a
 * mtime_nsec of XFER_NSEC_LIMIT or more is WH_ERR_PROTOCOL (no sender
 * takes one from a real file, and futimens would read 2^30 - 1 as "now").
 */
int xfer_meta_from_wire(struct xfer_meta *m, int64_t mtime_sec,
    uint32_t mtime_nsec, uint32_t mode) WH_MUST_CHECK;

/* xfer_partial_open: only a new partial (after the old one's name was
 * taken from it). */
#define XFER_PARTIAL_NEW 0x1u

/* Opens of the partial after finding its name moved, before giving up. */
#define XFER_PARTIAL_TRIES 8

/*
 * Opens the partial part in dirfd for writing, creating it (mode 0600)
 * if need be, never through a symbolic link, and locks it (flock, not
 * waiting) so that two transfers of one file cannot mix their chunks.
 * Once locked, the name must still give the locked inode (fstat against
 * fstatat): a partial renamed or replaced between the open and the lock
 * (a commit of another transfer, another server on a shared filesystem)
 * is not the one to write, so it is opened again, up to
 * XFER_PARTIAL_TRIES times. *fresh says it was created now, hence empty.
 * WH_ERR_BUSY if another transfer holds the lock, or the name kept moving
 * (nothing is left open); with XFER_PARTIAL_NEW, WH_ERR_EXISTS if it
 * exists. *st (if not NULL) gets the fstat of the locked partial, taken
 * for that check: the caller need not stat it again.
 */
int xfer_partial_open(int dirfd, const char *part, unsigned flags, int *fd,
    int *fresh, struct stat *st) WH_MUST_CHECK;

/* Cut the partial to size first: it may hold more (a resumed partial). */
#define XFER_COMMIT_CUT 0x1u
/* Group commit: no fsync of the file here, none of the folder after the
 * rename; the caller syncs the filesystem before and after the installs
 * of a whole batch (syncfs, or where that does not reach the disk, as on
 * FUSE and network filesystems, an fsync of each file and folder:
 * file_syncfs_is_enough). */
#define XFER_COMMIT_GROUP 0x2u

struct xfer_commit {
	int dirfd; /* the folder of both names */
	const char *part; /* the partial's name in dirfd */
	const char *name; /* the target's name in dirfd */
	int fd; /* the partial, open for writing */
	uint64_t size;
	struct xfer_meta meta;
	unsigned flags; /* XFER_COMMIT_* */
	/* The rename itself; NULL: xfer_partial_install. The server's goes
	 * through the quota's lock and the protection store. */
	int (*install)(void *arg);
	void *install_arg;
	int installed; /* out: the rename happened (the folder may not be
	                * durable yet if an error came after it) */
};

/* Fills c for the partial part (open as fd) and the target name, both in
 * dirfd, of size bytes with meta; install NULL. */
void xfer_commit_init(struct xfer_commit *c, int dirfd, const char *part,
    const char *name, int fd, uint64_t size, const struct xfer_meta *meta,
    unsigned flags);
/* Cut (with XFER_COMMIT_CUT), mode, mtime, and fsync unless GROUP. */
int xfer_commit_prepare(const struct xfer_commit *c) WH_MUST_CHECK;
/*
 * The rename (c->install), then, unless GROUP, the fsync of the folder.
 * A failure of that fsync is returned with c->installed set (the file is
 * in place, not yet durable): each caller says what that means to its
 * user. A folder that cannot be fsynced at all (EINVAL) is no failure.
 */
int xfer_commit_install(struct xfer_commit *c) WH_MUST_CHECK;
/* Both: the whole commit of one file. */
int xfer_commit(struct xfer_commit *c) WH_MUST_CHECK;

/*
 * Opens the folder of path (".." of its last name; "." for a bare name)
 * for a commit: *dirfd, and *base pointing at the last name in path.
 */
int
xfer_commit_dir(const char *path, int *dirfd, const char **base) WH_MUST_CHECK;

#endif
