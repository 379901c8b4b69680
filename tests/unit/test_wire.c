/* SPDX-License-Identifier: MIT */
/*
 * wire.h: frame boundaries on bytes already received, and the 12-byte
 * connection preface with its version choice. The length limit must bite
 * on the 4-byte header alone, before any payload is waited for.
 */
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "wharf/buf.h"
#include "wharf/wire.h"

#include "suites.h"

static struct buf *
frames(const uint8_t *p, size_t n)
{
	struct buf *b = buf_new(1u << 20);

	if (b != NULL && n > 0 && buf_put(b, p, n) != 0) {
		buf_free(b);
		return NULL;
	}
	return b;
}

static void
test_partial_header(void)
{
	static const uint8_t bytes[] = { 0x00, 0x00, 0x00 };
	struct buf *b = frames(bytes, sizeof(bytes));
	uint8_t dummy = 0, *payload = &dummy;
	size_t len = 99;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(wire_frame_parse(b, 1024, &payload, &len), 0);
	CU_ASSERT_PTR_NULL(payload);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_EQUAL(buf_len(b), 3);
	buf_reset(b);
	CU_ASSERT_EQUAL(wire_frame_parse(b, 1024, &payload, &len), 0);
	buf_free(b);
}

static void
test_partial_payload(void)
{
	static const uint8_t bytes[] = { 0, 0, 0, 5, 'h', 'e', 'l' };
	struct buf *b = frames(bytes, sizeof(bytes));
	uint8_t *payload;
	size_t len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(wire_frame_parse(b, 1024, &payload, &len), 0);
	CU_ASSERT_PTR_NULL(payload);
	CU_ASSERT_EQUAL(buf_len(b), sizeof(bytes));
	/* The rest arrives: now it is a frame. */
	CU_ASSERT_EQUAL(buf_put(b, "lo", 2), 0);
	CU_ASSERT_EQUAL(wire_frame_parse(b, 1024, &payload, &len), 1);
	CU_ASSERT_EQUAL_FATAL(len, 5);
	CU_ASSERT_PTR_NOT_NULL_FATAL(payload);
	CU_ASSERT_EQUAL(memcmp(payload, "hello", 5), 0);
	CU_ASSERT_EQUAL(buf_len(b), 0);
	buf_free(b);
}

static void
test_exact_frame(void)
{
	static const uint8_t bytes[] = { 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o' };
	struct buf *b = frames(bytes, sizeof(bytes));
	uint8_t *payload;
	size_t len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(wire_frame_parse(b, 5, &payload, &len), 1);
	CU_ASSERT_EQUAL_FATAL(len, 5);
	CU_ASSERT_PTR_NOT_NULL_FATAL(payload);
	CU_ASSERT_EQUAL(memcmp(payload, "hello", 5), 0);
	CU_ASSERT_EQUAL(buf_len(b), 0);
	CU_ASSERT_EQUAL(wire_frame_parse(b, 5, &payload, &len), 0);
	buf_free(b);
}

static void
test_back_to_back(void)
{
	static const uint8_t bytes[] = { 0, 0, 0, 2, 'a', 'b', 0, 0, 0, 3, 'c',
		'd', 'e', 0, 0 };
	struct buf *b = frames(bytes, sizeof(bytes));
	uint8_t *payload;
	size_t len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(wire_frame_parse(b, 1024, &payload, &len), 1);
	CU_ASSERT_EQUAL_FATAL(len, 2);
	CU_ASSERT_EQUAL(memcmp(payload, "ab", 2), 0);
	CU_ASSERT_EQUAL(wire_frame_parse(b, 1024, &payload, &len), 1);
	CU_ASSERT_EQUAL_FATAL(len, 3);
	CU_ASSERT_EQUAL(memcmp(payload, "cde", 3), 0);
	/* Two bytes of a third header: wait for more. */
	CU_ASSERT_EQUAL(wire_frame_parse(b, 1024, &payload, &len), 0);
	CU_ASSERT_EQUAL(buf_len(b), 2);
	buf_free(b);
}

static void
test_over_limit_header_only(void)
{
	static const uint8_t over[] = { 0x00, 0x01, 0x00, 0x01 };
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t at[] = { 0x00, 0x01, 0x00, 0x00, 'x' };
	struct buf *b;
	uint8_t *payload;
	size_t len;

	/* 65537 declared, limit 65536, and no payload byte yet. */
	b = frames(over, sizeof(over));
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(
	    wire_frame_parse(b, WIRE_FRAME_MAX_PREAUTH, &payload, &len),
	    WH_ERR_TOO_LARGE);
	CU_ASSERT_PTR_NULL(payload);
	buf_free(b);
	b = frames(huge, sizeof(huge));
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(wire_frame_parse(b, WIRE_FRAME_MAX, &payload, &len),
	    WH_ERR_TOO_LARGE);
	buf_free(b);
	/* Exactly at the limit is allowed: it waits for the payload. */
	b = frames(at, sizeof(at));
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(
	    wire_frame_parse(b, WIRE_FRAME_MAX_PREAUTH, &payload, &len), 0);
	buf_free(b);
}

static void
test_zero_length(void)
{
	static const uint8_t zero[] = { 0, 0, 0, 0, 0, 0, 0, 1, 'x' };
	struct buf *b = frames(zero, sizeof(zero));
	uint8_t *payload;
	size_t len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	/* A broken stream, not a frame to skip: the connection must end
	 * (skipping would spin on the unconsumed header). */
	CU_ASSERT_EQUAL(
	    wire_frame_parse(b, 1024, &payload, &len), WH_ERR_PROTOCOL);
	CU_ASSERT_PTR_NULL(payload);
	buf_free(b);
}

static void
test_preface_round_trip(void)
{
	uint8_t p[WIRE_PREFACE_LEN];
	struct wire_preface pf = { 0, 0 };
	static const uint8_t tail[] = { 0x00, 0x01, 0x01, 0x02 };

	wire_preface_encode(p, 1, 258);
	CU_ASSERT_EQUAL(memcmp(p, WIRE_MAGIC, WIRE_MAGIC_LEN), 0);
	CU_ASSERT_EQUAL(memcmp(p + WIRE_MAGIC_LEN, tail, sizeof(tail)), 0);
	CU_ASSERT_EQUAL(wire_preface_decode(p, sizeof(p), &pf), 0);
	CU_ASSERT_EQUAL(pf.min_version, 1);
	CU_ASSERT_EQUAL(pf.max_version, 258);
	wire_preface_encode(p, WIRE_VERSION_MIN, WIRE_VERSION_MAX);
	CU_ASSERT_EQUAL(wire_preface_decode(p, sizeof(p), &pf), 0);
	CU_ASSERT_EQUAL(pf.min_version, WIRE_VERSION_MIN);
	CU_ASSERT_EQUAL(pf.max_version, WIRE_VERSION_MAX);
	wire_preface_encode(p, 0xffff, 0xffff);
	CU_ASSERT_EQUAL(wire_preface_decode(p, sizeof(p), &pf), 0);
	CU_ASSERT_EQUAL(pf.min_version, 0xffff);
}

static void
test_preface_bad_magic(void)
{
	uint8_t p[WIRE_PREFACE_LEN];
	struct wire_preface pf;
	size_t i;

	for (i = 0; i < WIRE_MAGIC_LEN; i++) {
		wire_preface_encode(p, 1, 1);
		p[i] ^= 0x20;
		TU_CHECK(
		    wire_preface_decode(p, sizeof(p), &pf) == WH_ERR_FORMAT,
		    "magic byte %zu flipped", i);
	}
	/* Another protocol's greeting. */
	memcpy(p, "SSH-2.0-Open", sizeof(p));
	CU_ASSERT_EQUAL(wire_preface_decode(p, sizeof(p), &pf), WH_ERR_FORMAT);
}

static void
test_preface_bad_range(void)
{
	uint8_t p[WIRE_PREFACE_LEN];
	struct wire_preface pf;

	wire_preface_encode(p, 3, 2);
	CU_ASSERT_EQUAL(
	    wire_preface_decode(p, sizeof(p), &pf), WH_ERR_PROTOCOL);
	wire_preface_encode(p, 0, 0);
	CU_ASSERT_EQUAL(
	    wire_preface_decode(p, sizeof(p), &pf), WH_ERR_PROTOCOL);
	wire_preface_encode(p, 0, 5);
	CU_ASSERT_EQUAL(
	    wire_preface_decode(p, sizeof(p), &pf), WH_ERR_PROTOCOL);
	wire_preface_encode(p, 0xffff, 1);
	CU_ASSERT_EQUAL(
	    wire_preface_decode(p, sizeof(p), &pf), WH_ERR_PROTOCOL);
}

static void
test_preface_truncated(void)
{
	uint8_t p[WIRE_PREFACE_LEN + 1];
	struct wire_preface pf;
	size_t n;

	wire_preface_encode(p, 1, 1);
	p[WIRE_PREFACE_LEN] = 0;
	for (n = 0; n < WIRE_PREFACE_LEN; n++)
		TU_CHECK(wire_preface_decode(p, n, &pf) != 0,
		    "%zu-byte preface accepted", n);
	/* A byte too many is not a preface either. */
	CU_ASSERT_EQUAL(wire_preface_decode(p, sizeof(p), &pf), WH_ERR_FORMAT);
}

static void
test_version_choose(void)
{
	struct wire_preface a = { 1, 3 }, b = { 2, 5 }, c = { 4, 9 };
	struct wire_preface one = { 1, 1 }, d = { 7, 7 };

	CU_ASSERT_EQUAL(wire_version_choose(&a, &b), 3);
	CU_ASSERT_EQUAL(wire_version_choose(&b, &a), 3);
	CU_ASSERT_EQUAL(wire_version_choose(&b, &c), 5);
	CU_ASSERT_EQUAL(wire_version_choose(&one, &one), 1);
	CU_ASSERT_EQUAL(wire_version_choose(&c, &d), 7);
	CU_ASSERT_EQUAL(wire_version_choose(&a, &c), 0);
	CU_ASSERT_EQUAL(wire_version_choose(&c, &a), 0);
	CU_ASSERT_EQUAL(wire_version_choose(&one, &d), 0);
}

void
register_wire_tests(void)
{
	CU_pSuite s = CU_add_suite("wire", NULL, NULL);

	if (s == NULL)
		return;
	CU_add_test(s, "frame: partial header", test_partial_header);
	CU_add_test(s, "frame: partial payload", test_partial_payload);
	CU_add_test(s, "frame: exact frame", test_exact_frame);
	CU_add_test(s, "frame: two back to back", test_back_to_back);
	CU_add_test(s, "frame: over limit on the header alone",
	    test_over_limit_header_only);
	CU_add_test(s, "frame: zero length", test_zero_length);
	CU_add_test(s, "preface: round trip", test_preface_round_trip);
	CU_add_test(s, "preface: bad magic", test_preface_bad_magic);
	CU_add_test(s, "preface: empty or zero range", test_preface_bad_range);
	CU_add_test(s, "preface: truncated", test_preface_truncated);
	CU_add_test(s, "version choice", test_version_choose);
}
