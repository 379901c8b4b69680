/* SPDX-License-Identifier: MIT */
/*
 * The sanitiser of peer text in log lines: log_quote's quoting and
 * escaping (a peer cannot end a field or fake one), the width limit, small
 * buffers that never split an escape.
 */
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <sodium.h>

#include "wharf/log.h"

#include "suites.h"

static void
expect_quote(const char *in, const char *want)
{
	char out[LOG_QUOTE_MAX], a[128], b[128];

	log_quote(out, sizeof(out), in);
	TU_CHECK(strcmp(out, want) == 0, "log_quote(%s) = %s, want %s",
	    in != NULL ? tu_escape(in, strlen(in), a, sizeof(a)) : "NULL",
	    tu_escape(out, strlen(out), b, sizeof(b)), want);
}

static void
test_quote_escapes(void)
{
	expect_quote("abc", "\"abc\"");
	expect_quote("", "\"\"");
	expect_quote(NULL, "\"\"");
	expect_quote("with space", "\"with space\"");
	expect_quote("x\" user=admin op=login result=ok",
	    "\"x\\\" user=admin op=login result=ok\"");
	expect_quote("back\\slash", "\"back\\\\slash\"");
	expect_quote("\\\"", "\"\\\\\\\"\"");
	expect_quote("a\nb\rc\td", "\"a\\x0ab\\x0dc\\x09d\"");
	expect_quote("\x1b[31m\x7f", "\"\\x1b[31m\\x7f\"");
	expect_quote("caf\xc3\xa9", "\"caf\\xc3\\xa9\"");
	expect_quote("\xff\x80", "\"\\xff\\x80\"");
}

/* Decodes the body of a log_quote result; -1 if it is not well formed. */
static int
unquote(const char *q, uint8_t *out, size_t outlen, size_t *n, int *cut)
{
	size_t len = strlen(q), i, k = 0;
	unsigned v;

	*cut = len >= 5 && strcmp(q + len - 3, "...") == 0;
	if (*cut)
		len -= 3;
	if (len < 2 || q[0] != '"' || q[len - 1] != '"')
		return -1;
	for (i = 1; i < len - 1; i++) {
		unsigned char c = (unsigned char)q[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || k == outlen)
			return -1;
		if (c != '\\') {
			out[k++] = c;
			continue;
		}
		if (i + 1 >= len - 1)
			return -1;
		c = (unsigned char)q[++i];
		if (c == '"' || c == '\\') {
			out[k++] = c;
			continue;
		}
		if (c != 'x' || i + 2 >= len - 1)
			return -1;
		v = 0;
		for (int j = 1; j <= 2; j++) {
			char h = q[i + j];

			if (h >= '0' && h <= '9')
				v = v * 16 + (unsigned)(h - '0');
			else if (h >= 'a' && h <= 'f')
				v = v * 16 + (unsigned)(h - 'a' + 10);
			else
				return -1;
		}
		i += 2;
		out[k++] = (uint8_t)v;
	}
	*n = k;
	return 0;
}

/* Random strings: the result is one printable quoted value that decodes
 * to exactly the input (or its first LOG_PEER_STR_MAX bytes, marked). */
static void
test_quote_round_trip(void)
{
	char in[LOG_PEER_STR_MAX * 2], out[LOG_QUOTE_MAX];
	uint8_t back[LOG_PEER_STR_MAX * 2];
	size_t len, n, i;
	int round, cut;

	for (round = 0; round < 2000; round++) {
		len = randombytes_uniform(sizeof(in) - 1);
		for (i = 0; i < len; i++)
			in[i] = (char)(1 + randombytes_uniform(255));
		in[len] = '\0';
		log_quote(out, sizeof(out), in);
		if (unquote(out, back, sizeof(back), &n, &cut) != 0) {
			TU_CHECK(0, "round %d: not a quoted value: %.80s",
			    round, out);
			return;
		}
		if (len <= LOG_PEER_STR_MAX)
			TU_CHECK(!cut && n == len && memcmp(back, in, n) == 0,
			    "round %d: %zu bytes came back as %zu (cut %d)",
			    round, len, n, cut);
		else
			TU_CHECK(cut && n == LOG_PEER_STR_MAX &&
			        memcmp(back, in, n) == 0,
			    "round %d: %zu bytes: %zu back, cut %d", round, len,
			    n, cut);
	}
}

static void
test_quote_limits(void)
{
	char in[LOG_PEER_STR_MAX + 2], out[LOG_QUOTE_MAX], small[12];
	size_t i;

	/* The worst case fits LOG_QUOTE_MAX exactly. */
	for (i = 0; i < sizeof(in) - 1; i++)
		in[i] = '\x01';
	in[sizeof(in) - 1] = '\0';
	log_quote(out, sizeof(out), in);
	TU_CHECK(strlen(out) == LOG_PEER_STR_MAX * 4 + 5 &&
	        strcmp(out + strlen(out) - 4, "\"...") == 0,
	    "worst case: %zu bytes", strlen(out));
	/* A small buffer cuts sooner, at an escape's boundary. */
	log_quote(small, sizeof(small), "abcdefghijkl");
	TU_CHECK(strcmp(small, "\"abcdef\"...") == 0, "small: %s", small);
	log_quote(small, sizeof(small), "ab\x01\x02");
	TU_CHECK(strcmp(small, "\"ab\\x01\"...") == 0, "split: %s", small);
	log_quote(small, 5, "abc");
	TU_CHECK(strcmp(small, "") == 0, "too small: %s", small);
	log_quote(small, 7, "\x01");
	TU_CHECK(strcmp(small, "\"\"...") == 0, "no room: %s", small);
}

void
register_log_tests(void)
{
	CU_pSuite s = CU_add_suite("log", NULL, NULL);

	if (s == NULL)
		return;

	CU_add_test(s, "log_quote escapes", test_quote_escapes);
	CU_add_test(s, "log_quote round trip", test_quote_round_trip);
	CU_add_test(s, "log_quote limits", test_quote_limits);
}
