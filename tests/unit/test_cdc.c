/* SPDX-License-Identifier: MIT */
/*
 * Content-defined chunking, in every geometry: sizes stay within minimum
 * and maximum, the average lands near its target, boundaries depend only on content, and
 * an insertion or a deletion disturbs only the chunks around it.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <sodium.h>

#include "wharf/cdc.h"
#include "wharf/hash.h"

#include "suites.h"

/* Test data: this many average chunks of each geometry. */
#define CDC_TEST_CHUNKS 128u
#define CDC_TEST_MAXCHUNKS 1024

struct chunking {
	size_t n;
	size_t len[CDC_TEST_MAXCHUNKS];
	uint8_t hash[CDC_TEST_MAXCHUNKS][HASH_LEN];
};

static void
chunk_all(const struct cdc_geometry *g, const uint8_t *p, size_t len,
    struct chunking *c)
{
	size_t off = 0, k;

	c->n = 0;
	while (off < len && c->n < CDC_TEST_MAXCHUNKS) {
		k = cdc_next(g, p + off, len - off, 1);
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
	struct cdc_geometry g;
	size_t i, total, len;
	unsigned shift;
	uint8_t *p;

	for (shift = CDC_SHIFT_MIN; shift <= CDC_SHIFT_MAX; shift++) {
		cdc_geometry(&g, shift);
		CU_ASSERT_EQUAL(g.avg, (size_t)1 << shift);
		CU_ASSERT(g.min == g.avg / 4 && g.max == g.avg * 4);
		CU_ASSERT(g.max <= CDC_MAX);
		len = g.avg * CDC_TEST_CHUNKS;
		p = malloc(len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		randombytes_buf_deterministic(p, len,
		    (const unsigned char *)"wharf cdc sizes test seed 32 by!");
		chunk_all(&g, p, len, &c);
		total = 0;
		for (i = 0; i < c.n; i++) {
			total += c.len[i];
			if (i + 1 < c.n)
				TU_CHECK(c.len[i] >= g.min && c.len[i] <= g.max,
				    "shift %u: chunk %zu of %zu bytes", shift,
				    i, c.len[i]);
		}
		CU_ASSERT_EQUAL(total, len);
		/* Average within a factor of two of the target. */
		TU_CHECK(total / c.n >= g.avg / 2 && total / c.n <= g.avg * 2,
		    "shift %u: average %zu over %zu chunks", shift, total / c.n,
		    c.n);
		/* Short input: one chunk, and "need more" when not at the
		 * end; a maximum's worth always decides. */
		CU_ASSERT_EQUAL(cdc_next(&g, p, 100, 1), 100);
		CU_ASSERT_EQUAL(cdc_next(&g, p, 100, 0), 0);
		CU_ASSERT(cdc_next(&g, p, g.max, 0) > 0);
		free(p);
	}
	/* Out-of-range shifts are clamped. */
	cdc_geometry(&g, 2);
	CU_ASSERT_EQUAL(g.avg, (size_t)1 << CDC_SHIFT_MIN);
	cdc_geometry(&g, 40);
	CU_ASSERT_EQUAL(g.avg, (size_t)1 << CDC_SHIFT_MAX);
}

/* The average grows with the old data as about sqrt(16 * size). */
static void
test_shift_for(void)
{
	CU_ASSERT_EQUAL(cdc_shift_for(0), CDC_SHIFT_MIN);
	CU_ASSERT_EQUAL(cdc_shift_for(100000), CDC_SHIFT_MIN);
	CU_ASSERT_EQUAL(cdc_shift_for(UINT64_C(64) << 20), 15);
	CU_ASSERT_EQUAL(cdc_shift_for(UINT64_C(256) << 20), 16);
	CU_ASSERT_EQUAL(cdc_shift_for(UINT64_C(1) << 30), 17);
	CU_ASSERT_EQUAL(cdc_shift_for(UINT64_C(4) << 30), CDC_SHIFT_MAX);
	CU_ASSERT_EQUAL(cdc_shift_for(UINT64_MAX), CDC_SHIFT_MAX);
}

static void
test_edits(void)
{
	static struct chunking a, b;
	struct cdc_geometry g;
	size_t len, mid, ins, bytes, n;
	unsigned shift;
	uint8_t *p, *q;

	for (shift = CDC_SHIFT_MIN; shift <= CDC_SHIFT_MAX; shift++) {
		cdc_geometry(&g, shift);
		len = g.avg * CDC_TEST_CHUNKS;
		mid = len / 2;
		ins = g.max; /* an insertion as long as the longest chunk */
		p = malloc(len);
		q = malloc(len + ins);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_PTR_NOT_NULL_FATAL(q);
		randombytes_buf_deterministic(p, len,
		    (const unsigned char *)"wharf cdc edits test seed 32 by!");
		chunk_all(&g, p, len, &a);

		/* The same bytes chunk the same way. */
		memcpy(q, p, len);
		chunk_all(&g, q, len, &b);
		CU_ASSERT_EQUAL(shared(&a, &b, &bytes), a.n);

		/* Inserted in the middle: all but a few chunks survive. */
		memcpy(q, p, mid);
		randombytes_buf(q + mid, ins);
		memcpy(q + mid + ins, p + mid, len - mid);
		chunk_all(&g, q, len + ins, &b);
		n = shared(&a, &b, &bytes);
		TU_CHECK(len - bytes <= 3 * g.max,
		    "shift %u: insert: %zu of %zu bytes reused", shift, bytes,
		    len);

		/* Appended: everything before it survives but the tail. */
		memcpy(q, p, len);
		randombytes_buf(q + len, ins);
		chunk_all(&g, q, len + ins, &b);
		n = shared(&a, &b, &bytes);
		TU_CHECK(len - bytes <= g.max,
		    "shift %u: append: %zu of %zu reused", shift, bytes, len);

		/* A byte deleted near the start: only the first chunks
		 * change. */
		memcpy(q, p, 1000);
		memcpy(q + 1000, p + 1001, len - 1001);
		chunk_all(&g, q, len - 1, &b);
		n = shared(&a, &b, &bytes);
		TU_CHECK(n + 3 >= a.n, "shift %u: delete: %zu of %zu reused",
		    shift, n, a.n);
		free(p);
		free(q);
	}
}

void
register_cdc_tests(void)
{
	CU_pSuite s = CU_add_suite("cdc", NULL, NULL);

	CU_add_test(s, "sizes and average, every geometry", test_sizes);
	CU_add_test(s, "geometry chosen from the old size", test_shift_for);
	CU_add_test(s, "insertions, appends and deletions", test_edits);
}
