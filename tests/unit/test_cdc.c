/* SPDX-License-Identifier: MIT */
/*
 * Content-defined chunking: sizes stay within minimum and maximum, the
 * average lands near its target, boundaries depend only on content, and
 * an insertion or a deletion disturbs only the chunks around it.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <sodium.h>

#include "wharf/cdc.h"
#include "wharf/hash.h"

#include "suites.h"

#define CDC_TEST_LEN (24u << 20)
#define CDC_TEST_MAXCHUNKS 4096

struct chunking {
	size_t n;
	size_t len[CDC_TEST_MAXCHUNKS];
	uint8_t hash[CDC_TEST_MAXCHUNKS][HASH_LEN];
};

static void
chunk_all(const uint8_t *p, size_t len, struct chunking *c)
{
	size_t off = 0, k;

	c->n = 0;
	while (off < len && c->n < CDC_TEST_MAXCHUNKS) {
		k = cdc_next(p + off, len - off, 1);
		CU_ASSERT_FATAL(k > 0 && k <= len - off);
		c->len[c->n] = k;
		hash_buf(HASH_BLAKE2B, p + off, k, c->hash[c->n]);
		c->n++;
		off += k;
	}
	CU_ASSERT_EQUAL(off, len);
}

/* Chunks of b whose hash also appears in a. */
static size_t
shared(const struct chunking *a, const struct chunking *b, size_t *bytes)
{
	size_t i, j, n = 0;

	*bytes = 0;
	for (i = 0; i < b->n; i++)
		for (j = 0; j < a->n; j++)
			if (memcmp(a->hash[j], b->hash[i], HASH_LEN) == 0) {
				n++;
				*bytes += b->len[i];
				break;
			}
	return n;
}

static void
test_sizes(void)
{
	static struct chunking c;
	uint8_t *p = malloc(CDC_TEST_LEN);
	size_t i, total = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	randombytes_buf_deterministic(p, CDC_TEST_LEN,
	    (const unsigned char *)"wharf cdc sizes test seed 32 by!");
	chunk_all(p, CDC_TEST_LEN, &c);
	for (i = 0; i < c.n; i++) {
		total += c.len[i];
		if (i + 1 < c.n)
			TU_CHECK(c.len[i] >= CDC_MIN && c.len[i] <= CDC_MAX,
			    "chunk %zu of %zu bytes", i, c.len[i]);
	}
	CU_ASSERT_EQUAL(total, CDC_TEST_LEN);
	/* Average within a factor of two of the target. */
	TU_CHECK(total / c.n >= CDC_AVG / 2 && total / c.n <= CDC_AVG * 2,
	    "average %zu over %zu chunks", total / c.n, c.n);
	/* Short input: one chunk, and "need more" when not at the end. */
	CU_ASSERT_EQUAL(cdc_next(p, 100, 1), 100);
	CU_ASSERT_EQUAL(cdc_next(p, 100, 0), 0);
	CU_ASSERT(cdc_next(p, CDC_MAX, 0) > 0);
	free(p);
}

static void
test_edits(void)
{
	static struct chunking a, b;
	size_t len = CDC_TEST_LEN, mid = len / 2, bytes, n;
	uint8_t *p = malloc(len), *q = malloc(len + (1u << 20));

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	randombytes_buf_deterministic(
	    p, len, (const unsigned char *)"wharf cdc edits test seed 32 by!");
	chunk_all(p, len, &a);

	/* The same bytes chunk the same way. */
	memcpy(q, p, len);
	chunk_all(q, len, &b);
	CU_ASSERT_EQUAL(shared(&a, &b, &bytes), a.n);

	/* 1 MiB inserted in the middle: all but a few chunks survive. */
	memcpy(q, p, mid);
	randombytes_buf(q + mid, 1u << 20);
	memcpy(q + mid + (1u << 20), p + mid, len - mid);
	chunk_all(q, len + (1u << 20), &b);
	n = shared(&a, &b, &bytes);
	TU_CHECK(len - bytes <= 3 * CDC_MAX, "insert: %zu of %zu bytes reused",
	    bytes, len);

	/* 1 MiB appended: everything before it survives but the tail. */
	memcpy(q, p, len);
	randombytes_buf(q + len, 1u << 20);
	chunk_all(q, len + (1u << 20), &b);
	n = shared(&a, &b, &bytes);
	TU_CHECK(
	    len - bytes <= CDC_MAX, "append: %zu of %zu reused", bytes, len);

	/* A byte deleted near the start: only the first chunks change. */
	memcpy(q, p, 1000);
	memcpy(q + 1000, p + 1001, len - 1001);
	chunk_all(q, len - 1, &b);
	n = shared(&a, &b, &bytes);
	TU_CHECK(n + 3 >= a.n, "delete: %zu of %zu chunks reused", n, a.n);
	free(p);
	free(q);
}

void
register_cdc_tests(void)
{
	CU_pSuite s = CU_add_suite("cdc", NULL, NULL);

	CU_add_test(s, "sizes and average", test_sizes);
	CU_add_test(s, "insertions, appends and deletions", test_edits);
}
