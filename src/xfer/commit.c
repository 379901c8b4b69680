/* SPDX-License-Identifier: MIT */
/*
 * The commit of a received file (commit.h): written once so that the
 * client's downloads, the server's uploads, its group commit and its
 * stripes make a file durable the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wharf/commit.h"
#include "wharf/xfer.h"

int
xfer_meta_from_wire(
    struct xfer_meta *m, int64_t mtime_sec, uint32_t mtime_nsec, uint32_t mode)
{
	if (mtime_nsec >= XFER_NSEC_LIMIT)
		return WH_ERR_PROTOCOL;
	m->mtime_sec = mtime_sec;
	m->mtime_nsec = mtime_nsec;
	m->mode = mode & 0777;
	return 0;
}

/* 1 if part in dirfd still names the file open as fd (and it has not
 * been unlinked): the lock taken on fd is the partial's. */
static int
partial_is_named(int dirfd, const char *part, int fd, struct stat *held)
{
	struct stat named;

	return fstat(fd, held) == 0 &&
	    fstatat(dirfd, part, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
	    held->st_dev == named.st_dev && held->st_ino == named.st_ino &&
	    held->st_nlink > 0;
}

int
xfer_partial_open(int dirfd, const char *part, unsigned flags, int *fdp,
    int *fresh, struct stat *stp)
{
	const int how = O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC;
	struct stat held;
	int fd, i;

	*fdp = -1;
	for (i = 0; i < XFER_PARTIAL_TRIES; i++) {
		/* O_EXCL tells for certain that the partial is new, hence
		 * empty: a stat before would only be a hint. */
		*fresh = 1;
		fd = openat(dirfd, part, how | O_EXCL, 0600);
		if (fd < 0 && errno == EEXIST && !(flags & XFER_PARTIAL_NEW)) {
			*fresh = 0;
			fd = openat(dirfd, part, how, 0600);
		}
		if (fd < 0)
			return wh_err_from_errno(errno);
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			close(fd);
			return WH_ERR_BUSY;
		}
		if (partial_is_named(dirfd, part, fd, &held)) {
			if (stp != NULL)
				*stp = held;
			*fdp = fd;
			return 0;
		}
		/* Moved between the open and the lock (a commit took the
		 * name from it; on GlusterFS a stale name cache gave
		 * another file): the lock guards nothing, so again. */
		close(fd);
	}
	return WH_ERR_BUSY;
}

void
xfer_commit_init(struct xfer_commit *c, int dirfd, const char *part,
    const char *name, int fd, uint64_t size, const struct xfer_meta *meta,
    unsigned flags)
{
	memset(c, 0, sizeof(*c));
	c->dirfd = dirfd;
	c->part = part;
	c->name = name;
	c->fd = fd;
	c->size = size;
	c->meta = *meta;
	c->flags = flags;
}

int
xfer_commit_prepare(const struct xfer_commit *c)
{
	struct timespec times[2];

	times[0].tv_sec = times[1].tv_sec = (time_t)c->meta.mtime_sec;
	times[0].tv_nsec = times[1].tv_nsec = (long)c->meta.mtime_nsec;
	if ((c->flags & XFER_COMMIT_CUT) &&
	    ftruncate(c->fd, (off_t)c->size) != 0)
		return wh_err_from_errno(errno);
	if (fchmod(c->fd, c->meta.mode) != 0 || futimens(c->fd, times) != 0)
		return wh_err_from_errno(errno);
	/* The data before the name: a renamed file is never an unsynced
	 * one. The group commit syncs the filesystem for all at once. */
	if (!(c->flags & XFER_COMMIT_GROUP) && fsync(c->fd) != 0)
		return wh_err_from_errno(errno);
	return 0;
}

int
xfer_commit_install(struct xfer_commit *c)
{
	int r;

	c->installed = 0;
	r = c->install != NULL ?
	    c->install(c->install_arg) :
	    xfer_partial_install(c->dirfd, c->part, c->fd, c->name);
	if (r != 0)
		return r;
	c->installed = 1;
	/* The rename is durable only once the folder is. Some filesystems
	 * cannot fsync a folder at all (EINVAL): nothing more to do there. */
	if (!(c->flags & XFER_COMMIT_GROUP) && fsync(c->dirfd) != 0 &&
	    errno != EINVAL)
		return wh_err_from_errno(errno);
	return 0;
}

int
xfer_commit(struct xfer_commit *c)
{
	int r;

	if ((r = xfer_commit_prepare(c)) != 0)
		return r;
	return xfer_commit_install(c);
}

int
xfer_commit_dir(const char *path, int *dirfd, const char **base)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	*dirfd = -1;
	*base = slash != NULL ? slash + 1 : path;
	if (**base == '\0')
		return WH_ERR_INVALID_PATH;
	if (slash == NULL)
		fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else if (slash == path)
		fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else {
		if ((dir = strndup(path, (size_t)(slash - path))) == NULL)
			return WH_ERR_NOMEM;
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		free(dir);
	}
	if (fd < 0)
		return wh_err_from_errno(errno);
	*dirfd = fd;
	return 0;
}
