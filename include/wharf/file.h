/* SPDX-License-Identifier: MIT */
/*
 * Small local-file helpers for state files (users, host key, known hosts):
 * bounded whole-file reads, atomic replacement and directory creation.
 */
#ifndef WHARF_FILE_H
#define WHARF_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "wharf/buf.h"
#include "wharf/err.h"

/*
 * Replaces path with len bytes of data: written to a temporary file in the
 * same folder with the given mode, fsynced, renamed over path, and the
 * folder fsynced. Readers see the old or the new content, never a mix.
 * Written by root into a folder another user owns, the file is that
 * user's.
 */
int file_write_atomic(
    const char *path, const void *data, size_t len, mode_t mode) WH_MUST_CHECK;

/*
 * Reads all of path into a new buffer (*out, caller frees) if it holds at
 * most max bytes. WH_ERR_NOT_FOUND if it does not exist, WH_ERR_TOO_LARGE
 * if it is bigger.
 */
int file_read_all(const char *path, size_t max, struct buf **out) WH_MUST_CHECK;

/* mkdir -p with the given mode for the folders it creates. */
int file_mkdirs(const char *path, mode_t mode) WH_MUST_CHECK;
/* One folder (made if missing) that, made by root inside someone else's
 * folder, belongs to that folder's owner, as file_write_atomic's files
 * do: a server that dropped root can still use it. */
int file_mkdir_owned(const char *path, mode_t mode) WH_MUST_CHECK;

/*
 * 1 if syncfs on fd's filesystem makes every file written there durable:
 * a local filesystem whose superblock sync reaches the disk. 0 where it
 * does not (FUSE, where it never reaches the file servers: GlusterFS;
 * NFS, Ceph, CIFS/SMB, 9P, AFS, and any filesystem not known to be
 * local), or if fstatfs fails: then each file and folder must be fsynced
 * on its own.
 */
int file_syncfs_is_enough(int fd);

/* How often file_open_locked opens again after finding the name moved. */
#define FILE_LOCK_TRIES 8

/*
 * Opens name in dirfd with flags (O_CREAT: made with mode if missing;
 * *created, if not NULL, tells whether this call made it), takes
 * flock(LOCK_EX | LOCK_NB) on it, and checks that name still refers to
 * the locked file (fstat against fstatat, device and inode): a file
 * renamed or replaced between the open and the lock (a commit of another
 * upload, another server) is not the one the name gives, so it is closed
 * and opened again, up to FILE_LOCK_TRIES times. The fd, or -1 with errno
 * (EWOULDBLOCK: someone else holds the lock; ESTALE: the name kept moving).
 */
int file_open_locked(
    int dirfd, const char *name, int flags, mode_t mode, int *created);

#endif
