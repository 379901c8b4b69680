/* SPDX-License-Identifier: MIT */
/*
 * Local state-file helpers. Atomic replacement follows the usual recipe:
 * temp file beside the target, fsync, rename, fsync the folder.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "wharf/file.h"

int
file_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return WH_ERR_SYSTEM;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
fsync_parent(const char *path)
{
	char copy[PATH_MAX];
	int fd, r = 0;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return WH_ERR_TOO_LARGE;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return WH_ERR_SYSTEM;
	if (fsync(fd) != 0)
		r = WH_ERR_SYSTEM;
	close(fd);
	return r;
}

/*
 * Root editing a folder that belongs to someone else (`wharf user add` on
 * the state folder of a server that dropped to its service user) leaves
 * the new file to the folder's owner: a root-owned 0600 users file would
 * lock that server out of its own state.
 */
static int
give_to_folder_owner(int fd, const char *path)
{
	char copy[PATH_MAX];
	struct stat st;

	if (geteuid() != 0)
		return 0;
	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return WH_ERR_TOO_LARGE;
	if (stat(dirname(copy), &st) != 0)
		return WH_ERR_SYSTEM;
	if (st.st_uid == 0 || fchown(fd, st.st_uid, st.st_gid) == 0)
		return 0;
	return WH_ERR_SYSTEM;
}

int
file_mkdir_owned(const char *path, mode_t mode)
{
	int fd, r;

	if (mkdir(path, mode) != 0 && errno != EEXIST)
		return WH_ERR_SYSTEM;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return WH_ERR_SYSTEM;
	r = give_to_folder_owner(fd, path);
	close(fd);
	return r;
}

int
file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd = -1, r, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    (int)sizeof(tmp))
		return WH_ERR_TOO_LARGE;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return WH_ERR_SYSTEM;
	if ((r = give_to_folder_owner(fd, path)) != 0)
		goto fail;
	if (fchmod(fd, mode) != 0 || (r = file_write_all(fd, data, len)) != 0 ||
	    fsync(fd) != 0) {
		r = WH_ERR_SYSTEM;
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = WH_ERR_SYSTEM;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		r = WH_ERR_SYSTEM;
		goto fail;
	}
	return fsync_parent(path);
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
	return r;
}

int
file_read_all(const char *path, size_t max, struct buf **out)
{
	struct buf *b = NULL;
	struct stat st;
	uint8_t *dst;
	ssize_t n;
	int fd, r;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? WH_ERR_NOT_FOUND : WH_ERR_SYSTEM;
	if (fstat(fd, &st) != 0) {
		r = WH_ERR_SYSTEM;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = WH_ERR_FORMAT;
		goto out;
	}
	if ((b = buf_new(max)) == NULL) {
		r = WH_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		size_t room = max - buf_len(b);
		char probe;

		if (room == 0) {
			/* Full: one more byte means the file is too large. */
			n = read(fd, &probe, 1);
			if (n < 0 && errno == EINTR)
				continue;
			r = n == 0 ? 0 :
			    n > 0  ? WH_ERR_TOO_LARGE :
			             WH_ERR_SYSTEM;
			if (r != 0)
				goto out;
			break;
		}
		if (room > 4096)
			room = 4096;
		if ((r = buf_reserve(b, room, &dst)) != 0)
			goto out;
		if ((n = read(fd, dst, room)) < 0) {
			if (errno == EINTR)
				continue;
			r = WH_ERR_SYSTEM;
			goto out;
		}
		if (n == 0)
			break;
		buf_commit(b, (size_t)n);
	}
	*out = b;
	b = NULL;
	r = 0;
out:
	buf_free(b);
	close(fd);
	return r;
}

int
file_mkdirs(const char *path, mode_t mode)
{
	char copy[PATH_MAX];
	char *p;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return WH_ERR_TOO_LARGE;
	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, mode) != 0 && errno != EEXIST)
			return WH_ERR_SYSTEM;
		*p = '/';
	}
	if (mkdir(copy, mode) != 0 && errno != EEXIST)
		return WH_ERR_SYSTEM;
	return 0;
}

/*
 * Filesystems (statfs f_type, from linux/magic.h) whose syncfs writes
 * everything back to their own disk. A list of the known good rather
 * than of the bad: a filesystem not on it costs an fsync per file, never
 * a commit that was not on disk.
 */
static const unsigned long syncfs_local[] = {
	0xEF53, /* ext2, ext3, ext4 */
	0x58465342, /* xfs */
	0x9123683E, /* btrfs */
	0xF2F52010, /* f2fs */
	0x2FC12FC1, /* zfs */
	0xCA451A4E, /* bcachefs */
	0x3153464A, /* jfs */
	0x52654973, /* reiserfs */
	0x01021994, /* tmpfs: nothing to write back */
	0x858458F6, /* ramfs */
	0x794C7630, /* overlayfs: syncs its upper filesystem */
};

int
file_syncfs_is_enough(int fd)
{
	struct statfs sf;
	size_t i;

	if (fstatfs(fd, &sf) != 0)
		return 0;
	for (i = 0; i < sizeof(syncfs_local) / sizeof(syncfs_local[0]); i++)
		if ((unsigned long)sf.f_type == syncfs_local[i])
			return 1;
	return 0;
}
