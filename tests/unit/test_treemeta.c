/* SPDX-License-Identifier: MIT */
/*
 * The client's tree rules: which link targets stay inside a tree
 * (tree_link_safe, as rsync's --safe-links judges), sync's filter rules in
 * rsync's first-match order, and the --itemize-changes lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "wharf/syncopts.h"
#include "wharf/treemeta.h"

#include "suites.h"

static void
expect_safe(const char *rel, const char *target, int want)
{
	TU_CHECK(tree_link_safe(rel, target) == want,
	    "tree_link_safe(%s, %s) should be %d", rel, target, want);
}

static void
test_link_safe(void)
{
	expect_safe("l", "a.txt", 1);
	expect_safe("l", "./a/../b", 1);
	expect_safe("d/l", "../a.txt", 1);
	expect_safe("d/e/l", "../../x", 1);
	expect_safe("l", "../x", 0);
	expect_safe("d/l", "../../x", 0);
	expect_safe("d/l", "a/../../../x", 0);
	/* Climbing out and back in is still out, as rsync judges. */
	expect_safe("l", "../top/x", 0);
	expect_safe("l", "/etc/passwd", 0);
	expect_safe("l", "", 0);
	expect_safe("l", "a\nb", 0);
	expect_safe("d/l", "..", 1);
	expect_safe("l", "..", 0);
}

static void
expect_excluded(const struct sync_filter *f, const char *rel, int dir, int want)
{
	const char *name = strrchr(rel, '/');

	name = name != NULL ? name + 1 : rel;
	TU_CHECK(sync_filter_excluded(f, rel, name, dir) == want,
	    "excluded(%s) should be %d", rel, want);
}

static void
test_filter_first_match(void)
{
	struct sync_filter f = { .n = 0 };

	CU_ASSERT_FATAL(sync_filter_add(&f, "keep.tmp", 1) == 0);
	CU_ASSERT_FATAL(sync_filter_add(&f, "*.tmp", 0) == 0);
	CU_ASSERT_FATAL(sync_filter_add(&f, "/build/", 0) == 0);
	CU_ASSERT_FATAL(sync_filter_add(&f, "doc/*.pdf", 0) == 0);
	expect_excluded(&f, "keep.tmp", 0, 0);
	expect_excluded(&f, "a/keep.tmp", 0, 0);
	expect_excluded(&f, "drop.tmp", 0, 1);
	expect_excluded(&f, "x/y/drop.tmp", 0, 1);
	expect_excluded(&f, "build", 1, 1);
	expect_excluded(&f, "build", 0, 0); /* a file: "build/" is for dirs */
	expect_excluded(&f, "src/build", 1, 0); /* anchored at the top */
	expect_excluded(&f, "doc/a.pdf", 0, 1);
	expect_excluded(&f, "x/doc/a.pdf", 0, 1);
	expect_excluded(&f, "doc/sub/a.pdf", 0, 0); /* '*' stops at '/' */
	expect_excluded(&f, "a.txt", 0, 0);
	sync_filter_cleanup(&f);
	/* The other order: the exclude matches first. */
	CU_ASSERT_FATAL(sync_filter_add(&f, "*.tmp", 0) == 0);
	CU_ASSERT_FATAL(sync_filter_add(&f, "keep.tmp", 1) == 0);
	expect_excluded(&f, "keep.tmp", 0, 1);
	sync_filter_cleanup(&f);
	CU_ASSERT(sync_filter_add(&f, "/", 0) == WH_ERR_INVALID_ARG);
}

static void
expect_item(int json, int download, char type, unsigned why, const char *rel,
    const char *want)
{
	char buf[512] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	CU_ASSERT_FATAL(f != NULL);
	sync_itemize(f, json, download, type, why, rel);
	fclose(f);
	TU_CHECK(
	    strcmp(buf, want) == 0, "itemize gave '%s', want '%s'", buf, want);
}

static void
test_itemize(void)
{
	expect_item(0, 0, 'f', SYNC_WHY_NEW, "a", "<f+++++++++ a\n");
	expect_item(
	    0, 1, 'f', SYNC_WHY_SIZE | SYNC_WHY_TIME, "a", ">f.st...... a\n");
	expect_item(0, 0, 'f', SYNC_WHY_CONTENT, "a", "<fc........ a\n");
	expect_item(0, 0, 'd', SYNC_WHY_NEW, "d", "cd+++++++++ d/\n");
	expect_item(0, 0, 'L', SYNC_WHY_NEW, "l", "cL+++++++++ l\n");
	expect_item(0, 0, 'f', SYNC_WHY_DELETED, "a", "*deleting   a\n");
	expect_item(1, 0, 'f', SYNC_WHY_SIZE | SYNC_WHY_TIME, "a\"b",
	    "{\"op\":\"sync\",\"change\":\"update\",\"type\":\"file\","
	    "\"direction\":\"put\",\"path\":\"a\\\"b\","
	    "\"reasons\":[\"size\",\"time\"]}\n");
}

static void
test_backup_path(void)
{
	char *p;

	p = sync_backup_path("/m", NULL, "a/b.txt");
	CU_ASSERT_STRING_EQUAL(p, "/m/a/b.txt~");
	free(p);
	p = sync_backup_path("/m", ".old", "a/b.txt");
	CU_ASSERT_STRING_EQUAL(p, "/m/.old/a/b.txt");
	free(p);
	p = sync_backup_path("/m", "/bk", "a/b.txt");
	CU_ASSERT_STRING_EQUAL(p, "/bk/a/b.txt");
	free(p);
}

void
register_treemeta_tests(void)
{
	CU_pSuite s = CU_add_suite("treemeta", NULL, NULL);

	if (s == NULL)
		return;
	CU_add_test(s, "safe link targets", test_link_safe);
	CU_add_test(s, "filter rules, first match", test_filter_first_match);
	CU_add_test(s, "itemized changes", test_itemize);
	CU_add_test(s, "backup paths", test_backup_path);
}
