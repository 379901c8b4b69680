/* SPDX-License-Identifier: MIT */
/*
 * util/file.c's helper for several servers on one filesystem:
 * file_syncfs_is_enough on a local folder and on filesystems whose syncfs
 * is not trusted. (The partial's checked lock is the engine's:
 * test_engine.c.)
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

void
register_file_tests(void)
{
	CU_pSuite s = CU_add_suite("file", NULL, NULL);

	if (s == NULL)
		return;
	CU_add_test(s, "syncfs trusted only where local", test_syncfs_enough);
}
