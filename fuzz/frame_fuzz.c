/* SPDX-License-Identifier: MIT */
/*
 * The frame reader fed as a socket would feed it (docs/protocol.md §2-3).
 * Input: one byte choosing the limit, one byte giving the piece size, then
 * the stream. The stream is appended to a capped buffer piece by piece and
 * wire_frame_parse() runs after each piece until it wants more; a reference
 * parser written from §3 must see the same frames, stall at the same
 * place and fail with the same error. The first 12 bytes also go through
 * wire_preface_decode(), checked against §2.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "wharf/buf.h"
#include "wharf/wire.h"

#define FRAME_CTL_LEN 2
#define FRAME_SEL_SHIFT 6
#define FRAME_SMALL_MASK 0x3f

static const uint8_t spec_magic[WIRE_MAGIC_LEN] = { 0x89, 'W', 'H', 'A', 'R',
	'F', '\r', '\n' };

static size_t
pick_limit(uint8_t sel)
{
	switch (sel >> FRAME_SEL_SHIFT) {
	case 0:
		return WIRE_FRAME_MAX_PREAUTH;
	case 1:
		return WIRE_FRAME_MAX;
	case 2:
		return sel & FRAME_SMALL_MASK; /* tiny limits, 0 included */
	default:
		return SIZE_MAX;
	}
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void
check_preface(const uint8_t *p, size_t n)
{
	struct wire_preface pf, mine = { WIRE_VERSION_MIN, WIRE_VERSION_MAX };
	uint8_t enc[WIRE_PREFACE_LEN];
	uint16_t mn, mx, lo, hi, v;
	int r;

	if (n < WIRE_PREFACE_LEN) {
		FUZZ_CHECK(wire_preface_decode(p, n, &pf) != 0);
		return;
	}
	/* Trailing bytes are not a preface. */
	if (n > WIRE_PREFACE_LEN)
		FUZZ_CHECK(
		    wire_preface_decode(p, WIRE_PREFACE_LEN + 1, &pf) != 0);
	r = wire_preface_decode(p, WIRE_PREFACE_LEN, &pf);
	mn = be16(p + WIRE_MAGIC_LEN);
	mx = be16(p + WIRE_MAGIC_LEN + 2);
	if (memcmp(p, spec_magic, sizeof(spec_magic)) != 0) {
		FUZZ_CHECK(r == WH_ERR_FORMAT);
		return;
	}
	if (mn == 0 || mn > mx) {
		FUZZ_CHECK(r == WH_ERR_PROTOCOL);
		return;
	}
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(pf.min_version == mn && pf.max_version == mx);
	wire_preface_encode(enc, mn, mx);
	FUZZ_CHECK(memcmp(enc, p, WIRE_PREFACE_LEN) == 0);
	/* The highest version in both ranges, or 0. */
	lo = mn > mine.min_version ? mn : mine.min_version;
	hi = mx < mine.max_version ? mx : mine.max_version;
	v = wire_version_choose(&pf, &mine);
	FUZZ_CHECK(v == (lo <= hi ? hi : 0));
	FUZZ_CHECK(wire_version_choose(&mine, &pf) == v);
}

/*
 * §3 on the first avail bytes of s, from *pos: 1 and the frame's place
 * for a whole frame, 0 when more bytes are needed, or the error.
 */
static int
ref_step(const uint8_t *s, size_t avail, size_t pos, size_t limit, size_t *off,
    size_t *len)
{
	uint32_t n;

	if (avail - pos < WIRE_FRAME_HEADER)
		return 0;
	n = fuzz_be32(s + pos);
	if (n == 0)
		return WH_ERR_PROTOCOL; /* the stream is broken (wire.h) */
	if (n > limit)
		return WH_ERR_TOO_LARGE;
	if (avail - pos - WIRE_FRAME_HEADER < n)
		return 0;
	*off = pos + WIRE_FRAME_HEADER;
	*len = n;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *s = data + FRAME_CTL_LEN;
	size_t n, limit, step, fed = 0, pos = 0, before, len, rlen, roff;
	uint8_t *payload;
	struct buf *b;
	int r, rr;

	if (size < FRAME_CTL_LEN)
		return 0;
	n = size - FRAME_CTL_LEN;
	limit = pick_limit(data[0]);
	step = data[1] != 0 ? data[1] : (n > 0 ? n : 1);
	check_preface(s, n);
	/* The real reader starts framing after a good preface. */
	if (n >= WIRE_PREFACE_LEN &&
	    memcmp(s, spec_magic, sizeof(spec_magic)) == 0) {
		s += WIRE_PREFACE_LEN;
		n -= WIRE_PREFACE_LEN;
	}
	if (n == 0 || (b = buf_new(n)) == NULL)
		return 0;
	r = 0;
	while (fed < n && r == 0) {
		size_t piece = n - fed < step ? n - fed : step;

		FUZZ_CHECK(buf_put(b, s + fed, piece) == 0);
		fed += piece;
		for (;;) {
			before = buf_len(b);
			r = wire_frame_parse(b, limit, &payload, &len);
			rr = ref_step(s, fed, pos, limit, &roff, &rlen);
			FUZZ_CHECK(r == rr);
			if (r != 1) {
				/* Nothing consumed, nothing handed out. */
				FUZZ_CHECK(buf_len(b) == before);
				FUZZ_CHECK(payload == NULL && len == 0);
				break;
			}
			FUZZ_CHECK(len > 0 && len <= limit);
			FUZZ_CHECK(before >= WIRE_FRAME_HEADER + len);
			FUZZ_CHECK(
			    before - buf_len(b) == WIRE_FRAME_HEADER + len);
			FUZZ_CHECK(len == rlen);
			FUZZ_CHECK(memcmp(payload, s + roff, len) == 0);
			pos = roff + rlen;
			r = 0;
		}
	}
	/* Whatever is left unparsed is exactly what §3 leaves. */
	if (r == 0)
		FUZZ_CHECK(buf_len(b) == n - pos);
	buf_free(b);
	return 0;
}
