/* SPDX-License-Identifier: MIT */
/*
 * The engine's receiver (xfer_recv_chunk, recv.h; docs/protocol.md §9.2)
 * on hostile chunks: each chunk goes into a receiver that expects exactly
 * one chunk at the expected index and of the expected length (a file of
 * index * XFER_CHUNK_MAX + length bytes, its last chunk), writing through
 * a hook that records what would land on disk. Input: a flags byte, an
 * index byte, two length bytes, then
 *
 *  - a packed Chunk (wharf__chunk__unpack); the expected index and raw
 *    length come from the chunk itself or from the control bytes. Success
 *    must mean: index and length as expected, hash = H(raw) and equal to
 *    the chunk's, raw = data for a raw chunk, and for a compressed one an
 *    independent zstd decompression into raw_len + 1 bytes yielding exactly
 *    raw_len bytes equal to raw (so nothing that inflates past raw_len
 *    passes);
 *  - or (CHUNK_SYNTH) raw bytes that the harness compresses itself and
 *    declares with raw_len off by a signed delta: the zstd bound must turn
 *    every delta but 0 into an error, and a wrong hash into BAD_HASH;
 *  - or (CHUNK_STREAM) the chunks of a transfer with a stream window
 *    (§9.3), each a 2-byte length and a packed Chunk, decoded in order
 *    until one fails. A stream chunk that passes must inflate to exactly
 *    raw_len bytes equal to raw in a reference zstd stream fed the same
 *    chunks with room for one byte more and the same window limit; an
 *    independent frame never passes there.
 */
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "fuzz.h"
#include "wharf/hash.h"
#include "wharf/recv.h"
#include "wharf/xfer.h"

#define CHUNK_CTL_LEN 4
#define CHUNK_SHA256 0x01u
#define CHUNK_OWN_INDEX 0x02u /* expect the chunk's own index */
#define CHUNK_OWN_LEN 0x04u /* expect the chunk's own raw_len */
#define CHUNK_LEN_SCALE 0x08u /* control length counts 64-byte units */
#define CHUNK_SYNTH 0x10u
#define CHUNK_SYNTH_RAW 0x20u /* synthetic chunk sent uncompressed */
#define CHUNK_SYNTH_BAD_HASH 0x40u
#define CHUNK_STREAM 0x80u
#define CHUNK_SCALE 64u
#define STREAM_CHUNKS_MAX 16
#define CHUNK_LEVEL_MASK 0x07

static struct xfer_decoder dec;

/* What the receiver wrote: the raw bytes and their digest. */
struct landed {
	const uint8_t *raw;
	uint8_t hash[HASH_LEN];
	int writes;
};

static int
record(void *arg, uint64_t index, const uint8_t *raw, uint32_t len,
    const uint8_t hash[HASH_LEN])
{
	struct landed *l = arg;

	(void)index;
	(void)len;
	l->raw = raw;
	memcpy(l->hash, hash, HASH_LEN);
	l->writes++;
	return 0;
}

/*
 * One chunk through a receiver expecting chunk expect_index of
 * expect_len bytes; *raw and hash_out as xfer_decode_chunk gives them.
 */
static int
receive(enum hash_alg alg, const Wharf__Chunk *c, uint32_t expect_index,
    uint32_t expect_len, const uint8_t **raw, uint8_t hash_out[HASH_LEN])
{
	struct xfer_recv rx;
	struct landed l;
	int r;

	memset(&l, 0, sizeof(l));
	xfer_recv_init(&rx, -1,
	    (uint64_t)expect_index * XFER_CHUNK_MAX + expect_len,
	    XFER_CHUNK_MAX, alg, &dec);
	xfer_recv_range(&rx, expect_index, (uint64_t)expect_index + 1);
	rx.write = record;
	rx.write_arg = &l;
	r = xfer_recv_chunk(&rx, c);
	/* Written exactly when accepted, and then counted as arrived. */
	FUZZ_CHECK(l.writes == (r == 0));
	FUZZ_CHECK(r != 0 || xfer_recv_complete(&rx));
	FUZZ_CHECK(r == 0 || rx.next_index == expect_index);
	*raw = l.raw;
	memcpy(hash_out, l.hash, HASH_LEN);
	return r;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	FUZZ_CHECK(xfer_decoder_init(&dec, 1) == 0);
	return 0;
}

static void
check_result(enum hash_alg alg, const Wharf__Chunk *c, uint32_t expect_index,
    uint32_t expect_len, int r, const uint8_t *raw, const uint8_t *hash_out)
{
	uint8_t h[HASH_LEN], *z;
	size_t n;

	if (r != 0) {
		/* *raw is unspecified on failure (the contract is silent;
		 * it is left set after BAD_HASH). */
		FUZZ_CHECK(r == WH_ERR_PROTOCOL || r == WH_ERR_DECOMPRESS ||
		    r == WH_ERR_BAD_HASH);
		/* The structural checks of §9.2 come first. */
		if (c->index != expect_index || c->raw_len != expect_len ||
		    expect_len == 0 || c->hash.len != HASH_LEN)
			FUZZ_CHECK(r == WH_ERR_PROTOCOL);
		return;
	}
	FUZZ_CHECK(raw != NULL);
	FUZZ_CHECK(c->index == expect_index && c->raw_len == expect_len);
	FUZZ_CHECK(expect_len > 0 && expect_len <= XFER_CHUNK_MAX);
	FUZZ_CHECK(c->hash.len == HASH_LEN);
	hash_buf(alg, raw, expect_len, h);
	FUZZ_CHECK(memcmp(h, hash_out, HASH_LEN) == 0);
	FUZZ_CHECK(memcmp(h, c->hash.data, HASH_LEN) == 0);
	if (c->stream)
		return; /* run_stream checks it against a reference stream */
	if (!c->compressed) {
		FUZZ_CHECK(c->data.len == expect_len);
		FUZZ_CHECK(memcmp(raw, c->data.data, expect_len) == 0);
		return;
	}
	FUZZ_CHECK(c->data.len > 0 && c->data.len < expect_len);
	/* One byte of room more than allowed: inflating past raw_len
	 * shows as a longer result or as an error. */
	z = malloc((size_t)expect_len + 1);
	FUZZ_CHECK(z != NULL);
	n = ZSTD_decompress(
	    z, (size_t)expect_len + 1, c->data.data, c->data.len);
	FUZZ_CHECK(!ZSTD_isError(n) && n == expect_len);
	FUZZ_CHECK(memcmp(z, raw, expect_len) == 0);
	free(z);
}

static void
run_packed(uint8_t flags, const uint8_t *ctl, const uint8_t *p, size_t n)
{
	enum hash_alg alg = (flags & CHUNK_SHA256) ? HASH_SHA256 : HASH_BLAKE2B;
	uint8_t hash_out[HASH_LEN];
	uint32_t expect_index, expect_len;
	const uint8_t *raw;
	Wharf__Chunk *c;
	int r;

	if ((c = wharf__chunk__unpack(NULL, n, p)) == NULL)
		return;
	expect_index = (flags & CHUNK_OWN_INDEX) ? c->index : ctl[0];
	expect_len = (uint32_t)((ctl[1] << 8) | ctl[2]);
	if (flags & CHUNK_LEN_SCALE)
		expect_len *= CHUNK_SCALE;
	if (flags & CHUNK_OWN_LEN)
		expect_len = c->raw_len;
	r = receive(alg, c, expect_index, expect_len, &raw, hash_out);
	check_result(alg, c, expect_index, expect_len, r, raw, hash_out);
	wharf__chunk__free_unpacked(c, NULL);
}

static void
run_synth(uint8_t flags, const uint8_t *ctl, const uint8_t *p, size_t n)
{
	enum hash_alg alg = (flags & CHUNK_SHA256) ? HASH_SHA256 : HASH_BLAKE2B;
	int delta = (int8_t)ctl[1], level = (ctl[0] & CHUNK_LEVEL_MASK) + 1;
	uint8_t h[HASH_LEN], hash_out[HASH_LEN], *z = NULL, *copy;
	Wharf__Chunk c = WHARF__CHUNK__INIT;
	const uint8_t *raw;
	int64_t declared;
	size_t zn = 0;
	int r;

	declared = (int64_t)n + delta;
	if (n == 0 || n > XFER_CHUNK_MAX || declared <= 0 ||
	    declared > XFER_CHUNK_MAX)
		return;
	copy = malloc(n);
	FUZZ_CHECK(copy != NULL);
	memcpy(copy, p, n);
	hash_buf(alg, copy, n, h);
	if (flags & CHUNK_SYNTH_BAD_HASH)
		h[ctl[2] % HASH_LEN] ^= 1;
	c.index = ctl[0];
	c.raw_len = (uint32_t)declared;
	c.hash.data = h;
	c.hash.len = HASH_LEN;
	if (flags & CHUNK_SYNTH_RAW) {
		c.data.data = copy;
		c.data.len = n;
	} else {
		z = malloc(ZSTD_compressBound(n));
		FUZZ_CHECK(z != NULL);
		zn = ZSTD_compress(z, ZSTD_compressBound(n), copy, n, level);
		FUZZ_CHECK(!ZSTD_isError(zn));
		c.compressed = 1;
		c.data.data = z;
		c.data.len = zn;
	}
	r = receive(alg, &c, c.index, c.raw_len, &raw, hash_out);
	check_result(alg, &c, c.index, c.raw_len, r, raw, hash_out);
	if (delta != 0) {
		/* Raw: a length mismatch. Compressed: a frame that does not
		 * inflate to exactly raw_len (or is not smaller than it). */
		FUZZ_CHECK(r == WH_ERR_PROTOCOL || r == WH_ERR_DECOMPRESS);
		FUZZ_CHECK((flags & CHUNK_SYNTH_RAW) || zn >= c.raw_len ||
		    r == WH_ERR_DECOMPRESS);
	} else if (!(flags & CHUNK_SYNTH_RAW) && zn >= n) {
		FUZZ_CHECK(r == WH_ERR_PROTOCOL);
	} else if (flags & CHUNK_SYNTH_BAD_HASH) {
		FUZZ_CHECK(r == WH_ERR_BAD_HASH);
	} else {
		FUZZ_CHECK(r == 0 && memcmp(raw, copy, n) == 0);
	}
	free(z);
	free(copy);
}

/* The reference: the same data through a stream of zstd's own, with one
 * byte more room than raw_len; it must give exactly raw. */
static void
check_stream(ZSTD_DCtx *ref, const Wharf__Chunk *c, const uint8_t *raw)
{
	ZSTD_inBuffer in = { c->data.data, c->data.len, 0 };
	ZSTD_outBuffer out;
	uint8_t *z = malloc((size_t)c->raw_len + 1);
	size_t in0, out0, r;

	FUZZ_CHECK(z != NULL);
	out.dst = z;
	out.size = (size_t)c->raw_len + 1;
	out.pos = 0;
	FUZZ_CHECK(
	    c->data.len > 0 && c->data.len <= XFER_STREAM_BOUND(c->raw_len));
	do {
		in0 = in.pos;
		out0 = out.pos;
		r = ZSTD_decompressStream(ref, &out, &in);
		FUZZ_CHECK(!ZSTD_isError(r));
	} while (in.pos < in.size && (in.pos != in0 || out.pos != out0));
	FUZZ_CHECK(in.pos == in.size && out.pos == c->raw_len);
	FUZZ_CHECK(memcmp(z, raw, c->raw_len) == 0);
	free(z);
}

static void
run_stream(uint8_t flags, const uint8_t *ctl, const uint8_t *p, size_t n)
{
	enum hash_alg alg = (flags & CHUNK_SHA256) ? HASH_SHA256 : HASH_BLAKE2B;
	int wlog = XFER_STREAM_WLOG_MIN +
	    ctl[0] % (XFER_STREAM_WLOG_MAX - XFER_STREAM_WLOG_MIN + 1);
	uint8_t hash_out[HASH_LEN];
	const uint8_t *raw;
	ZSTD_DCtx *ref = ZSTD_createDCtx();
	Wharf__Chunk *c;
	uint32_t i;
	size_t len;
	int r = 0;

	FUZZ_CHECK(ref != NULL);
	FUZZ_CHECK(!ZSTD_isError(
	    ZSTD_DCtx_setParameter(ref, ZSTD_d_windowLogMax, wlog)));
	FUZZ_CHECK(xfer_decoder_begin(&dec, wlog) == 0);
	for (i = 0; r == 0 && i < STREAM_CHUNKS_MAX && n >= 2; i++) {
		len = (size_t)(p[0] << 8 | p[1]);
		p += 2;
		n -= 2;
		if (len > n)
			len = n;
		if ((c = wharf__chunk__unpack(NULL, len, p)) == NULL)
			break;
		p += len;
		n -= len;
		r = receive(alg, c, i, c->raw_len, &raw, hash_out);
		check_result(alg, c, i, c->raw_len, r, raw, hash_out);
		if (r == 0) {
			FUZZ_CHECK(!c->compressed);
			if (c->stream)
				check_stream(ref, c, raw);
		}
		wharf__chunk__free_unpacked(c, NULL);
	}
	FUZZ_CHECK(xfer_decoder_begin(&dec, 0) == 0);
	ZSTD_freeDCtx(ref);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < CHUNK_CTL_LEN)
		return 0;
	if (data[0] & CHUNK_STREAM)
		run_stream(data[0], data + 1, data + CHUNK_CTL_LEN,
		    size - CHUNK_CTL_LEN);
	else if (data[0] & CHUNK_SYNTH)
		run_synth(data[0], data + 1, data + CHUNK_CTL_LEN,
		    size - CHUNK_CTL_LEN);
	else
		run_packed(data[0], data + 1, data + CHUNK_CTL_LEN,
		    size - CHUNK_CTL_LEN);
	return 0;
}
