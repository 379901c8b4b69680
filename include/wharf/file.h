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

/* Writes all len bytes at fd's offset, again after EINTR and short
 * writes. WH_ERR_SYSTEM (errno set). */
int file_write_all(int fd, const void *data, size_t len) WH_MUST_CHECK;

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

#endif
