/* SPDX-License-Identifier: MIT */
/*
 * text.h: the terminal sanitiser. Controls of every kind (C0, DEL, C1 in
 * UTF-8) become '?', UTF-8 and quotes stay, truncation and NULL.
 */
#include <string.h>

#include <CUnit/CUnit.h>

#include "wharf/text.h"

#include "suites.h"

#define CLEAN(in, want) \
	do { \
		text_clean(out, sizeof(out), (in)); \
		TU_CHECK(strcmp(out, (want)) == 0, "%s: got %s", \
		    tu_escape((in), strlen(in), esc, sizeof(esc)), \
		    tu_escape(out, strlen(out), esc2, sizeof(esc2))); \
	} while (0)

static void
test_clean(void)
{
	char out[64], esc[256], esc2[256];

	CLEAN("file \"a b\" exists", "file \"a b\" exists");
	CLEAN("two\nlines\x1b[2J", "two?lines?[2J");
	CLEAN("del\x7f", "del?");
	CLEAN("tab\there\r", "tab?here?");
	/* U+009B is CSI on terminals that take C1 controls. */
	CLEAN("csi\xc2\x9b"
	      "31m",
	    "csi?31m");
	CLEAN("Gr\xc3\xbc\xc3\x9f"
	      "e \xe6\x97\xa5",
	    "Gr\xc3\xbc\xc3\x9f"
	    "e \xe6\x97\xa5");
	CLEAN("nbsp\xc2\xa0", "nbsp\xc2\xa0");
	text_clean(out, 5, "abcdefghij");
	TU_CHECK(strcmp(out, "abcd") == 0, "cut: %s", out);
	text_clean(out, sizeof(out), NULL);
	TU_CHECK(strcmp(out, "") == 0, "NULL: %s", out);
	text_clean(out, 1, "abc");
	TU_CHECK(strcmp(out, "") == 0, "room for the NUL only: %s", out);
}

void
register_text_tests(void)
{
	CU_pSuite s = CU_add_suite("text", NULL, NULL);

	if (s == NULL)
		return;
	CU_add_test(s, "text_clean", test_clean);
}
