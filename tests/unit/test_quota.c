/* SPDX-License-Identifier: MIT */
/*
 * Quota accounts: the count sees files at any depth (and not through
 * symlinks); reservations add up across holds, commits settle with what
 * was really replaced, releases count what a partial keeps, removals give
 * room back, and a recount keeps what is reserved.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "wharf/quota.h"

#include "suites.h"

#define QT_DEPTH 300 /* well past the old limit of 128 */

static char qt_dir[TU_PATH_MAX];
static int qt_fd = -1;

static int
qt_setup(void)
{
	if (tu_tempdir(qt_dir, sizeof(qt_dir)) != 0)
		return -1;
	qt_fd = open(qt_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return qt_fd >= 0 ? 0 : -1;
}

static int
qt_teardown(void)
{
	if (qt_fd >= 0)
		close(qt_fd);
	return tu_rmtree(qt_dir);
}

/* A file of n bytes at name in dirfd; its fd if keep, else closed. */
static int
qt_file(int dirfd, const char *name, size_t n, int keep)
{
	char buf[512];
	int fd;

	memset(buf, 'q', sizeof(buf));
	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	while (n > 0) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);

		CU_ASSERT_FATAL(write(fd, buf, k) == (ssize_t)k);
		n -= k;
	}
	if (keep)
		return fd;
	close(fd);
	return -1;
}

static void
test_count_deep(void)
{
	int top, fd, next, i;
	uint64_t n;

	top = openat(qt_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CU_ASSERT_FATAL(mkdirat(top, "deep", 0700) == 0);
	fd = openat(top, "deep", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (i = 0; i < QT_DEPTH; i++) {
		CU_ASSERT_FATAL(mkdirat(fd, "d", 0700) == 0);
		next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		CU_ASSERT_FATAL(next >= 0);
		if (i == QT_DEPTH / 2)
			qt_file(fd, "side", 7, 0);
		close(fd);
		fd = next;
	}
	qt_file(fd, "bottom", 1234, 0);
	close(fd);
	qt_file(top, "top", 100, 0);
	/* A link is not followed, even to a file beside it. */
	CU_ASSERT(symlinkat("top", top, "link") == 0);
	CU_ASSERT_EQUAL(quota_count(top, &n), 0);
	CU_ASSERT_EQUAL(n, 100 + 1234 + 7);
	close(top);
}

static void
test_reserve_commit_release(void)
{
	struct quota_account *a = NULL;
	struct quota_hold *h1 = NULL, *h2 = NULL, *h3 = NULL;
	uint64_t used, res, in_use, need;
	int dfd, p1, p2, p3;

	CU_ASSERT_FATAL(mkdirat(qt_fd, "home", 0700) == 0);
	dfd = openat(qt_fd, "home", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CU_ASSERT_FATAL(dfd >= 0);
	qt_file(dfd, "old", 30, 0);
	CU_ASSERT_FATAL(quota_account_get(dfd, &a) == 0);
	p1 = qt_file(dfd, ".p1", 0, 1);
	p2 = qt_file(dfd, ".p2", 0, 1);
	p3 = qt_file(dfd, ".p3", 0, 1);
	/* 30 used; 60 more reserved; a second 60 would pass 100. */
	CU_ASSERT_EQUAL(quota_hold_new(a, 100, 60, &h1), 0);
	CU_ASSERT_EQUAL(
	    quota_hold_reserve(h1, dfd, "one", p1, &in_use, &need), 0);
	CU_ASSERT_EQUAL(quota_hold_new(a, 100, 60, &h2), 0);
	CU_ASSERT_EQUAL(quota_hold_reserve(h2, dfd, "two", p2, &in_use, &need),
	    WH_ERR_TOO_LARGE);
	CU_ASSERT_EQUAL(in_use, 90);
	CU_ASSERT_EQUAL(need, 60);
	quota_hold_free(h2, p2);
	/* Replacing "old" (30) with 40 needs 10 only. */
	CU_ASSERT_EQUAL(quota_hold_new(a, 100, 40, &h3), 0);
	CU_ASSERT_EQUAL(
	    quota_hold_reserve(h3, dfd, "old", p3, &in_use, &need), 0);
	CU_ASSERT_EQUAL(need, 10);
	quota_account_peek(a, &used, &res);
	CU_ASSERT_EQUAL(used, 30);
	CU_ASSERT_EQUAL(res, 70);
	/* A recount (a new login) keeps the reservations and skips the
	 * partials in flight, however much they hold now. */
	CU_ASSERT(write(p1, "0123456789", 10) == 10);
	{
		struct quota_account *b = NULL;
		struct quota_hold *h = NULL;

		CU_ASSERT_FATAL(quota_account_get(dfd, &b) == 0);
		CU_ASSERT_PTR_EQUAL(a, b);
		CU_ASSERT_EQUAL(quota_hold_new(b, 100, 0, &h), 0);
		CU_ASSERT_EQUAL(
		    quota_hold_reserve(h, dfd, "x", p2, &in_use, &need), 0);
		quota_hold_free(h, -1);
		quota_account_put(b);
	}
	quota_account_peek(a, &used, &res);
	CU_ASSERT_EQUAL(used, 30);
	CU_ASSERT_EQUAL(res, 70);
	/* Commit one: 60 counted, its reservation gone. */
	CU_ASSERT(ftruncate(p1, 60) == 0);
	CU_ASSERT_EQUAL(quota_hold_commit(h1, dfd, ".p1", p1, "one"), 0);
	quota_hold_free(h1, p1); /* settled: nothing to release */
	quota_account_peek(a, &used, &res);
	CU_ASSERT_EQUAL(used, 90);
	CU_ASSERT_EQUAL(res, 10);
	/* "old" goes before its replacement commits, and its room is
	 * taken meanwhile: the replacement no longer fits. */
	CU_ASSERT_EQUAL(quota_unlink(a, dfd, "old"), 0);
	quota_account_peek(a, &used, &res);
	CU_ASSERT_EQUAL(used, 60);
	CU_ASSERT_EQUAL(quota_hold_new(a, 100, 25, &h2), 0);
	CU_ASSERT_EQUAL(
	    quota_hold_reserve(h2, dfd, "two", p2, &in_use, &need), 0);
	CU_ASSERT(ftruncate(p3, 40) == 0);
	CU_ASSERT_EQUAL(
	    quota_hold_commit(h3, dfd, ".p3", p3, "old"), WH_ERR_TOO_LARGE);
	CU_ASSERT(faccessat(dfd, "old", F_OK, 0) != 0);
	/* Released, its 40 bytes kept as a partial count; the other is
	 * released with 5 bytes kept. */
	quota_hold_free(h3, p3);
	CU_ASSERT(write(p2, "12345", 5) == 5);
	quota_hold_free(h2, p2);
	quota_account_peek(a, &used, &res);
	CU_ASSERT_EQUAL(used, 60 + 40 + 5);
	CU_ASSERT_EQUAL(res, 0);
	/* A partial unlinked before its release counts nothing. */
	CU_ASSERT_EQUAL(quota_unlink(a, dfd, ".p2"), 0);
	CU_ASSERT_EQUAL(quota_unlink(a, dfd, ".p3"), 0);
	quota_account_peek(a, &used, &res);
	CU_ASSERT_EQUAL(used, 60);
	CU_ASSERT_EQUAL(quota_unlink(a, dfd, "one"), 0);
	quota_account_peek(a, &used, &res);
	CU_ASSERT_EQUAL(used, 0);
	close(p1);
	close(p2);
	close(p3);
	quota_account_put(a);
	close(dfd);
}

void
register_quota_tests(void)
{
	CU_pSuite s = CU_add_suite("quota", qt_setup, qt_teardown);

	CU_add_test(s, "count at any depth", test_count_deep);
	CU_add_test(
	    s, "reserve, commit, release, unlink", test_reserve_commit_release);
}
