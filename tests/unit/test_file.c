/* SPDX-License-Identifier: MIT */
/*
 * util/file.c's helpers for several servers on one filesystem:
 * file_syncfs_is_enough on a local folder and on filesystems whose syncfs
 * is not trusted, and file_open_locked (made or opened, refused while
 * another open file description holds the lock, a name that moved).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "suites.h"
#include "wharf/file.h"

static void
test_syncfs_enough(void)
{
	char dir[TU_PATH_MAX];
	struct statfs sf;
	int fd;

	/* /proc is no disk filesystem: never trusted. */
	fd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	TU_CHECK(fd >= 0, "open /proc/self");
	TU_CHECK(file_syncfs_is_enough(fd) == 0, "procfs trusted");
	close(fd);
	/* A bad fd: fstatfs fails, so not trusted. */
	TU_CHECK(file_syncfs_is_enough(-1) == 0, "bad fd trusted");
	/* The unit tests' temp folder: a local disk or tmpfs. */
	TU_CHECK(tu_tempdir(dir, sizeof(dir)) == 0, "tempdir");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	TU_CHECK(fd >= 0 && fstatfs(fd, &sf) == 0, "statfs %s", dir);
	TU_CHECK(file_syncfs_is_enough(fd) == 1,
	    "%s (type %#lx) not trusted as local", dir,
	    (unsigned long)sf.f_type);
	close(fd);
	tu_rmtree(dir);
}

static void
test_open_locked(void)
{
	char dir[TU_PATH_MAX];
	struct stat a, b;
	int dfd, fd, fd2, made = -1;

	TU_CHECK(tu_tempdir(dir, sizeof(dir)) == 0, "tempdir");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	TU_CHECK(dfd >= 0, "open dir");
	fd = file_open_locked(
	    dfd, "p", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600, &made);
	TU_CHECK(fd >= 0 && made == 1, "made: fd %d made %d", fd, made);
	/* A second open of the same name: held by the first. */
	fd2 = file_open_locked(
	    dfd, "p", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600, &made);
	TU_CHECK(fd2 < 0 && errno == EWOULDBLOCK, "second lock: %d %s", fd2,
	    strerror(errno));
	/* Renamed away while held (a commit): the name now gives another
	 * file, which is the one locked and returned. */
	TU_CHECK(renameat(dfd, "p", dfd, "target") == 0, "rename");
	fd2 = file_open_locked(
	    dfd, "p", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600, &made);
	TU_CHECK(
	    fd2 >= 0 && made == 1, "after the rename: %d made %d", fd2, made);
	TU_CHECK(fstat(fd2, &a) == 0 && fstatat(dfd, "p", &b, 0) == 0 &&
	        a.st_ino == b.st_ino,
	    "the fd is the name's file");
	TU_CHECK(
	    fstat(fd, &b) == 0 && a.st_ino != b.st_ino, "not the renamed one");
	close(fd2);
	close(fd);
	/* Existing, unlocked: opened, not made. */
	fd = file_open_locked(dfd, "target",
	    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600, &made);
	TU_CHECK(fd >= 0 && made == 0, "existing: %d made %d", fd, made);
	close(fd);
	/* Without O_CREAT a missing name is ENOENT. */
	fd = file_open_locked(dfd, "none", O_RDWR | O_CLOEXEC, 0, NULL);
	TU_CHECK(fd < 0 && errno == ENOENT, "missing: %d", fd);
	close(dfd);
	tu_rmtree(dir);
}

void
register_file_tests(void)
{
	CU_pSuite s = CU_add_suite("file", NULL, NULL);

	if (s == NULL)
		return;
	CU_add_test(s, "syncfs trusted only where local", test_syncfs_enough);
	CU_add_test(s, "open and lock, checked by name", test_open_locked);
}
