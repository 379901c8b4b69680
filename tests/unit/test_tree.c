/* SPDX-License-Identifier: MIT */
/*
 * tree.h: the one rule for names the server sends (get -r and sync take
 * local paths from them), the excludes, and the path helpers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "wharf/msg.h"
#include "wharf/transfer.h"
#include "wharf/tree.h"

#include "suites.h"

static int
safe(const char *name, size_t len)
{
	char out[WIRE_NAME_MAX + 1];
	ProtobufCBinaryData b = { len, (uint8_t *)(uintptr_t)name };

	return tree_name_safe(&b, out, sizeof(out));
}

#define SAFE(s) safe((s), sizeof(s) - 1)

static void
test_name_rule(void)
{
	char c[2] = { 0, 0 };
	unsigned i;

	CU_ASSERT(SAFE("a.txt"));
	CU_ASSERT(SAFE("with space"));
	CU_ASSERT(SAFE("Gr\xc3\xbc\xc3\x9f"
	               "e"));
	CU_ASSERT(SAFE(".hidden"));
	CU_ASSERT(SAFE("..."));
	CU_ASSERT(!SAFE(""));
	CU_ASSERT(!SAFE("."));
	CU_ASSERT(!SAFE(".."));
	CU_ASSERT(!SAFE("a/b"));
	CU_ASSERT(!SAFE("/etc"));
	CU_ASSERT(!SAFE("a\0b"));
	/* The drift of issue 16: sync took DEL where get refused it. */
	CU_ASSERT(!SAFE("evil\x7fname"));
	for (i = 1; i < 0x20; i++) {
		c[0] = (char)i;
		TU_CHECK(!safe(c, 1), "control byte 0x%02x accepted", i);
	}
}

static void
test_skipped(void)
{
	struct transfer_opts o;

	transfer_opts_init(&o);
	CU_ASSERT(!tree_skipped(&o, "a/b.txt"));
	/* Partials are transfer state, whatever the excludes say. */
	CU_ASSERT(tree_skipped(&o, "a/.b.txt.wharf-part"));
	o.excludes[o.nexcludes++] = "*.o";
	o.excludes[o.nexcludes++] = "build/tmp";
	CU_ASSERT(tree_skipped(&o, "x.o"));
	CU_ASSERT(tree_skipped(&o, "src/deep/x.o"));
	CU_ASSERT(tree_skipped(&o, "build/tmp"));
	CU_ASSERT(!tree_skipped(&o, "src/build/tmp"));
	CU_ASSERT(!tree_skipped(&o, "x.c"));
}

static void
test_paths(void)
{
	char out[16], *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p = tree_join("a", "b"));
	CU_ASSERT_STRING_EQUAL(p, "a/b");
	free(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p = tree_join("a/", "b"));
	CU_ASSERT_STRING_EQUAL(p, "a/b");
	free(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p = tree_join("", "b"));
	CU_ASSERT_STRING_EQUAL(p, "b");
	free(p);
	CU_ASSERT_STRING_EQUAL(tree_base("/x/y//"), "y//");
	CU_ASSERT_EQUAL(tree_base_copy("/x/y//", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "y");
	CU_ASSERT_EQUAL(
	    tree_base_copy("/", out, sizeof(out)), WH_ERR_INVALID_ARG);
	CU_ASSERT_EQUAL(
	    tree_base_copy("/a-name-too-long-here", out, sizeof(out)),
	    WH_ERR_INVALID_ARG);
}

void
register_tree_tests(void)
{
	CU_pSuite s = CU_add_suite("tree", NULL, NULL);

	if (s == NULL)
		return;
	CU_add_test(s, "the rule for server names", test_name_rule);
	CU_add_test(s, "excludes and partials", test_skipped);
	CU_add_test(s, "path helpers", test_paths);
}
