/* SPDX-License-Identifier: MIT */
/*
 * Transfer mechanics: the two hashes against their published test
 * vectors, chunk geometry, the chunk-list digest, compression round trips,
 * refusal of chunks that lie about their size or inflate too far, the
 * resume prefix check and auto compression's choice of level.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <sodium.h>
#include <zstd.h>

#include "wharf/accel.h"
#include "wharf/hash.h"
#include "wharf/wire.h"
#include "wharf/xfer.h"

#include "suites.h"

static void
check_hex(enum hash_alg alg, const char *in, const char *want)
{
	uint8_t h[HASH_LEN];
	char hex[HASH_HEX_LEN];

	hash_buf(alg, in, strlen(in), h);
	hash_hex(h, hex);
	TU_CHECK(strcmp(hex, want) == 0, "%s(\"%s\") = %s", hash_alg_name(alg),
	    in, hex);
}

static void
test_vectors(void)
{
	struct hash_ctx c;
	uint8_t a[HASH_LEN], b[HASH_LEN];
	enum hash_alg alg;

	/* FIPS 180-2 and the BLAKE2 reference (b2sum -l 256). */
	check_hex(HASH_SHA256, "abc",
	    "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	check_hex(HASH_SHA256, "",
	    "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	check_hex(HASH_SHA256,
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	check_hex(HASH_BLAKE2B, "abc",
	    "bddd813c634239723171ef3fee98579b"
	    "94964e3bb1cb3e427262c8c068d52319");
	check_hex(HASH_BLAKE2B, "",
	    "0e5751c026e543b2e8ab2eb06099daa1"
	    "d1e5df47778f7787faab45cdf12fe3a8");
	/* Streaming in pieces equals one shot. */
	hash_init(&c, HASH_BLAKE2B);
	hash_update(&c, "ab", 2);
	hash_update(&c, "c", 1);
	hash_final(&c, a);
	hash_buf(HASH_BLAKE2B, "abc", 3, b);
	CU_ASSERT_EQUAL(memcmp(a, b, HASH_LEN), 0);
	CU_ASSERT_EQUAL(hash_alg_parse("sha256", &alg), 0);
	CU_ASSERT_EQUAL(alg, HASH_SHA256);
	CU_ASSERT_NOT_EQUAL(hash_alg_parse("md5", &alg), 0);
}

/* XXH3-128 (xxh128sum: the canonical 16 bytes), zero-padded to 32; the
 * stream, also when its context is copied to another alignment (as
 * xfer_digest_peek copies it), equals one shot; SHA-256 through OpenSSL
 * and through libsodium's stream agree on a large input. */
static void
test_hash_xxh128_sha256(void)
{
	struct hash_ctx c, copy, *moved;
	uint8_t a[HASH_LEN], b[HASH_LEN], *big, *heap = NULL;
	size_t n = 3 * 1024 * 1024 + 7, i;

	check_hex(HASH_XXH128, "abc",
	    "06b05ab6733a618578af5f94892f3950"
	    "00000000000000000000000000000000");
	check_hex(HASH_XXH128, "",
	    "99aa06d3014798d86001c324468d497f"
	    "00000000000000000000000000000000");
	CU_ASSERT_FATAL((big = malloc(n)) != NULL);
	for (i = 0; i < n; i++)
		big[i] = (uint8_t)(i * 31 + (i >> 13));
	hash_buf(HASH_XXH128, big, n, a);
	hash_init(&c, HASH_XXH128);
	hash_update(&c, big, 1000);
	/* A copy (as xfer_digest_peek makes) carries on the same stream,
	 * on the stack and on the heap. */
	moved = &copy;
	for (i = 0; i < 2; i++) {
		if (i == 1) {
			CU_ASSERT_FATAL(
			    (heap = aligned_alloc(
			         64, (sizeof(c) + 63) & ~(size_t)63)) != NULL);
			moved = (struct hash_ctx *)(void *)heap;
		}
		*moved = c;
		hash_update(moved, big + 1000, n - 1000);
		hash_final(moved, b);
		TU_CHECK(memcmp(a, b, HASH_LEN) == 0,
		    "xxh128 stream copied (%zu) differs", i);
	}
	free(heap);
	hash_buf(HASH_SHA256, big, n, a);
	hash_init(&c, HASH_SHA256);
	hash_update(&c, big, n);
	hash_final(&c, b);
	CU_ASSERT_EQUAL(memcmp(a, b, HASH_LEN), 0);
	free(big);
}

/* The wire mapping: each hash only where the session's features allow
 * it; XXH3 needs the XXH128 feature, which only plaintext sessions have. */
static void
test_hash_wire(void)
{
	enum hash_alg alg;

	CU_ASSERT_EQUAL(
	    hash_alg_from_wire(WHARF__HASH_ALG__HASH_BLAKE2B, 0, &alg), 0);
	CU_ASSERT_EQUAL(alg, HASH_BLAKE2B);
	CU_ASSERT_EQUAL(
	    hash_alg_from_wire(WHARF__HASH_ALG__HASH_SHA256, 0, &alg),
	    WH_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(hash_alg_from_wire(WHARF__HASH_ALG__HASH_SHA256,
	                    WIRE_FEAT_SHA256, &alg),
	    0);
	CU_ASSERT_EQUAL(alg, HASH_SHA256);
	CU_ASSERT_EQUAL(hash_alg_from_wire(WHARF__HASH_ALG__HASH_XXH128,
	                    WIRE_FEATURES_ALL & ~WIRE_FEAT_XXH128, &alg),
	    WH_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(hash_alg_from_wire(WHARF__HASH_ALG__HASH_XXH128,
	                    WIRE_FEAT_XXH128, &alg),
	    0);
	CU_ASSERT_EQUAL(alg, HASH_XXH128);
	CU_ASSERT_EQUAL(
	    hash_alg_from_wire((Wharf__HashAlg)9, WIRE_FEATURES_ALL, &alg),
	    WH_ERR_UNSUPPORTED);
	for (alg = HASH_BLAKE2B; alg <= HASH_XXH128; alg++) {
		enum hash_alg back;

		CU_ASSERT_EQUAL(hash_alg_from_wire(hash_alg_to_wire(alg),
		                    WIRE_FEATURES_ALL, &back),
		    0);
		CU_ASSERT_EQUAL(back, alg);
	}
	/* The automatic choice is never XXH3 and never outside the
	 * features. */
	CU_ASSERT_EQUAL(hash_alg_preferred(0), HASH_BLAKE2B);
	alg = hash_alg_preferred(WIRE_FEATURES_ALL);
	CU_ASSERT(alg == HASH_SHA256 || alg == HASH_BLAKE2B);
	CU_ASSERT_EQUAL(alg == HASH_SHA256, accel_have_sha256());
}

static void
test_geometry(void)
{
	CU_ASSERT_EQUAL(xfer_chunk_count(0, XFER_CHUNK_DEFAULT), 0);
	CU_ASSERT_EQUAL(xfer_chunk_count(1, XFER_CHUNK_DEFAULT), 1);
	CU_ASSERT_EQUAL(
	    xfer_chunk_count(XFER_CHUNK_DEFAULT, XFER_CHUNK_DEFAULT), 1);
	CU_ASSERT_EQUAL(
	    xfer_chunk_count(XFER_CHUNK_DEFAULT + 1, XFER_CHUNK_DEFAULT), 2);
	CU_ASSERT_EQUAL(
	    xfer_chunk_len(XFER_CHUNK_DEFAULT + 1, XFER_CHUNK_DEFAULT, 1), 1);
	CU_ASSERT_EQUAL(xfer_chunk_len(10, XFER_CHUNK_DEFAULT, 1), 0);
	/* Past 4 GiB: 64-bit sizes throughout. */
	CU_ASSERT_EQUAL(
	    xfer_chunk_count(UINT64_C(5) << 30, XFER_CHUNK_MAX), 1280);
	CU_ASSERT_EQUAL(
	    xfer_chunk_len((UINT64_C(5) << 30) + 7, XFER_CHUNK_MAX, 1280), 7);
	CU_ASSERT(xfer_chunk_size_ok(XFER_CHUNK_MIN));
	CU_ASSERT(xfer_chunk_size_ok(XFER_CHUNK_MAX));
	CU_ASSERT_FALSE(xfer_chunk_size_ok(XFER_CHUNK_MIN - 1));
	CU_ASSERT_FALSE(xfer_chunk_size_ok(XFER_CHUNK_MAX + 1));
	CU_ASSERT_FALSE(xfer_chunk_size_ok(0));
}

static void
test_digest(void)
{
	struct xfer_digest d, e;
	uint8_t h1[HASH_LEN], h2[HASH_LEN], a[HASH_LEN], b[HASH_LEN];

	hash_buf(HASH_BLAKE2B, "one", 3, h1);
	hash_buf(HASH_BLAKE2B, "two", 3, h2);
	xfer_digest_init(&d, HASH_BLAKE2B, XFER_CHUNK_MIN);
	xfer_digest_add(&d, h1, XFER_CHUNK_MIN);
	xfer_digest_peek(&d, a);
	/* Peeking does not end the digest: the prefix continues. */
	xfer_digest_add(&d, h2, 3);
	xfer_digest_peek(&d, b);
	CU_ASSERT_NOT_EQUAL(memcmp(a, b, HASH_LEN), 0);
	/* Order matters. */
	xfer_digest_init(&e, HASH_BLAKE2B, XFER_CHUNK_MIN);
	xfer_digest_add(&e, h2, 3);
	xfer_digest_add(&e, h1, XFER_CHUNK_MIN);
	xfer_digest_peek(&e, a);
	CU_ASSERT_NOT_EQUAL(memcmp(a, b, HASH_LEN), 0);
	/* The length is bound in: same hashes, other size, other digest. */
	xfer_digest_init(&e, HASH_BLAKE2B, XFER_CHUNK_MIN);
	xfer_digest_add(&e, h1, XFER_CHUNK_MIN);
	xfer_digest_add(&e, h2, 4);
	xfer_digest_peek(&e, a);
	CU_ASSERT_NOT_EQUAL(memcmp(a, b, HASH_LEN), 0);
}

/* c as an independent zstd frame of zn bytes at z, claiming raw_len raw
 * bytes with digest h. */
static void
frame_chunk(Wharf__Chunk *c, uint32_t index, uint32_t raw_len, uint8_t *h,
    uint8_t *z, size_t zn)
{
	wharf__chunk__init(c);
	c->index = index;
	c->raw_len = raw_len;
	c->hash.data = h;
	c->hash.len = HASH_LEN;
	c->compressed = 1;
	c->data.data = z;
	c->data.len = zn;
}

/* Without ZSTD negotiated a compressed chunk is refused before anything
 * is inflated or allocated; raw chunks still pass. */
static void
test_compression_not_negotiated(void)
{
	struct xfer_encoder enc;
	struct xfer_decoder dec;
	Wharf__Chunk c;
	uint8_t *text = malloc(XFER_CHUNK_MIN), h[HASH_LEN], h2[HASH_LEN];
	const uint8_t *raw;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	for (i = 0; i < XFER_CHUNK_MIN; i++)
		text[i] = (uint8_t)("not negotiated "[i % 15]);
	CU_ASSERT_EQUAL_FATAL(
	    xfer_encoder_init(&enc, WHARF__COMPRESS_MODE__COMPRESS_LEVEL, 3),
	    0);
	CU_ASSERT_EQUAL_FATAL(xfer_decoder_init(&dec, 0), 0);
	CU_ASSERT_EQUAL_FATAL(xfer_encode_chunk(&enc, HASH_BLAKE2B, 0, text,
	                          XFER_CHUNK_MIN, &c, h),
	    0);
	CU_ASSERT_FATAL(c.compressed);
	CU_ASSERT_EQUAL(xfer_decode_chunk(&dec, HASH_BLAKE2B, &c, 0,
	                    XFER_CHUNK_MIN, &raw, h2),
	    WH_ERR_PROTOCOL);
	CU_ASSERT(dec.dctx == NULL && dec.buf == NULL);
	c.compressed = 0;
	c.stream = 1;
	CU_ASSERT_EQUAL(xfer_decode_chunk(&dec, HASH_BLAKE2B, &c, 0,
	                    XFER_CHUNK_MIN, &raw, h2),
	    WH_ERR_PROTOCOL);
	/* Raw data needs no feature. */
	c.stream = 0;
	c.data.data = text;
	c.data.len = XFER_CHUNK_MIN;
	CU_ASSERT_EQUAL(xfer_decode_chunk(&dec, HASH_BLAKE2B, &c, 0,
	                    XFER_CHUNK_MIN, &raw, h2),
	    0);
	CU_ASSERT_EQUAL(memcmp(h, h2, HASH_LEN), 0);
	xfer_decoder_cleanup(&dec);
	xfer_encoder_cleanup(&enc);
	free(text);
}

static void
test_compression(void)
{
	struct xfer_encoder enc;
	struct xfer_decoder dec;
	Wharf__Chunk c, bad;
	uint8_t *text = malloc(XFER_CHUNK_DEFAULT), *rnd, h[HASH_LEN];
	uint8_t h2[HASH_LEN], *bomb;
	const uint8_t *raw;
	size_t i, bl;

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	rnd = malloc(XFER_CHUNK_DEFAULT);
	bomb = malloc(ZSTD_compressBound(2 * XFER_CHUNK_DEFAULT));
	CU_ASSERT_PTR_NOT_NULL_FATAL(rnd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bomb);
	for (i = 0; i < XFER_CHUNK_DEFAULT; i++)
		text[i] = (uint8_t)("wharf chunk text "[i % 17]);
	randombytes_buf(rnd, XFER_CHUNK_DEFAULT);
	CU_ASSERT_EQUAL_FATAL(
	    xfer_encoder_init(&enc, WHARF__COMPRESS_MODE__COMPRESS_LEVEL, 3),
	    0);
	CU_ASSERT_EQUAL_FATAL(xfer_decoder_init(&dec, 1), 0);
	/* A decoder costs nothing until a compressed chunk comes. */
	CU_ASSERT(dec.dctx == NULL && dec.buf == NULL);

	/* Random data goes raw: nothing to inflate on the other side, and
	 * nothing allocated for it. */
	CU_ASSERT_EQUAL_FATAL(xfer_encode_chunk(&enc, HASH_BLAKE2B, 0, rnd,
	                          XFER_CHUNK_DEFAULT, &c, h),
	    0);
	CU_ASSERT_FALSE(c.compressed);
	CU_ASSERT_EQUAL(c.data.len, XFER_CHUNK_DEFAULT);
	CU_ASSERT_EQUAL(xfer_decode_chunk(&dec, HASH_BLAKE2B, &c, 0,
	                    XFER_CHUNK_DEFAULT, &raw, h2),
	    0);
	CU_ASSERT(dec.dctx == NULL && dec.buf == NULL);

	/* Text compresses and comes back whole. */
	CU_ASSERT_EQUAL_FATAL(xfer_encode_chunk(&enc, HASH_BLAKE2B, 0, text,
	                          XFER_CHUNK_DEFAULT, &c, h),
	    0);
	CU_ASSERT(c.compressed);
	CU_ASSERT(c.data.len < XFER_CHUNK_DEFAULT / 10);
	CU_ASSERT_EQUAL(xfer_decode_chunk(&dec, HASH_BLAKE2B, &c, 0,
	                    XFER_CHUNK_DEFAULT, &raw, h2),
	    0);
	CU_ASSERT_EQUAL(memcmp(raw, text, XFER_CHUNK_DEFAULT), 0);
	CU_ASSERT_EQUAL(memcmp(h, h2, HASH_LEN), 0);
	CU_ASSERT(dec.dctx != NULL && dec.buf != NULL);

	/* The later tests use a raw chunk 1. */
	CU_ASSERT_EQUAL_FATAL(xfer_encode_chunk(&enc, HASH_BLAKE2B, 1, rnd,
	                          XFER_CHUNK_DEFAULT, &c, h),
	    0);
	CU_ASSERT_EQUAL(xfer_decode_chunk(&dec, HASH_BLAKE2B, &c, 1,
	                    XFER_CHUNK_DEFAULT, &raw, h2),
	    0);

	/* A frame that would inflate past the declared length: refused,
	 * never allocated for. 2 MiB of text claiming to be 1 MiB. */
	{
		uint8_t *big = malloc(2 * XFER_CHUNK_DEFAULT);

		CU_ASSERT_PTR_NOT_NULL_FATAL(big);
		for (i = 0; i < 2 * XFER_CHUNK_DEFAULT; i++)
			big[i] = (uint8_t)('a' + i % 3);
		bl = ZSTD_compress(bomb,
		    ZSTD_compressBound(2 * XFER_CHUNK_DEFAULT), big,
		    2 * XFER_CHUNK_DEFAULT, 3);
		CU_ASSERT_FALSE_FATAL(ZSTD_isError(bl));
		hash_buf(HASH_BLAKE2B, big, XFER_CHUNK_DEFAULT, h);
		free(big);
	}
	frame_chunk(&bad, 2, XFER_CHUNK_DEFAULT, h, bomb, bl);
	CU_ASSERT_EQUAL(xfer_decode_chunk(&dec, HASH_BLAKE2B, &bad, 2,
	                    XFER_CHUNK_DEFAULT, &raw, h2),
	    WH_ERR_DECOMPRESS);

	/* Lies about index, length, hash size, raw data length. */
	CU_ASSERT_EQUAL(xfer_decode_chunk(&dec, HASH_BLAKE2B, &c, 2,
	                    XFER_CHUNK_DEFAULT, &raw, h2),
	    WH_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(xfer_decode_chunk(&dec, HASH_BLAKE2B, &c, 1,
	                    XFER_CHUNK_DEFAULT - 1, &raw, h2),
	    WH_ERR_PROTOCOL);
	c.hash.len = HASH_LEN - 1;
	CU_ASSERT_EQUAL(xfer_decode_chunk(&dec, HASH_BLAKE2B, &c, 1,
	                    XFER_CHUNK_DEFAULT, &raw, h2),
	    WH_ERR_PROTOCOL);
	c.hash.len = HASH_LEN;
	c.data.len--;
	CU_ASSERT_EQUAL(xfer_decode_chunk(&dec, HASH_BLAKE2B, &c, 1,
	                    XFER_CHUNK_DEFAULT, &raw, h2),
	    WH_ERR_PROTOCOL);
	c.data.len++;
	/* A flipped byte: BAD_HASH. */
	rnd[7] ^= 1;
	CU_ASSERT_EQUAL(xfer_decode_chunk(&dec, HASH_BLAKE2B, &c, 1,
	                    XFER_CHUNK_DEFAULT, &raw, h2),
	    WH_ERR_BAD_HASH);
	/* A ref outside a delta transfer. */
	rnd[7] ^= 1;
	c.ref = 1;
	CU_ASSERT_EQUAL(xfer_decode_chunk(&dec, HASH_BLAKE2B, &c, 1,
	                    XFER_CHUNK_DEFAULT, &raw, h2),
	    WH_ERR_PROTOCOL);
	xfer_encoder_cleanup(&enc);
	xfer_decoder_cleanup(&dec);
	free(text);
	free(rnd);
	free(bomb);
}

/*
 * Writes that cross the write-back spans, in odd sizes and backwards (as a
 * resumed or striped writer might), leave exactly the bytes written: the
 * write-back hint changes when the disk works, never what it holds.
 */
/* Encodes chunk index of len bytes at p and decodes it on the other side;
 * returns what the decoder said, the chunk in *c. */
static int
stream_pass(struct xfer_encoder *enc, struct xfer_decoder *dec, uint32_t index,
    const uint8_t *p, uint32_t len, Wharf__Chunk *c)
{
	uint8_t h[HASH_LEN], h2[HASH_LEN];
	const uint8_t *raw;
	int r;

	CU_ASSERT_EQUAL_FATAL(
	    xfer_encode_chunk(enc, HASH_BLAKE2B, index, p, len, c, h), 0);
	r = xfer_decode_chunk(dec, HASH_BLAKE2B, c, index, len, &raw, h2);
	if (r == 0)
		CU_ASSERT(memcmp(raw, p, len) == 0);
	return r;
}

static void
test_stream(void)
{
	enum { CS = 256 << 10 };
	struct xfer_encoder enc;
	struct xfer_decoder dec;
	Wharf__Chunk c;
	uint8_t *rnd = malloc(CS), *text = malloc(CS), *mixed = malloc(CS);
	uint8_t *copy;
	uint8_t h[HASH_LEN], h2[HASH_LEN];
	const uint8_t *raw;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rnd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mixed);
	randombytes_buf(rnd, CS);
	for (i = 0; i < CS; i++)
		text[i] = (uint8_t)("stream of text, "[i % 16] ^ (i / 997 % 2));
	CU_ASSERT_EQUAL_FATAL(
	    xfer_encoder_init(&enc, WHARF__COMPRESS_MODE__COMPRESS_LEVEL, 3),
	    0);
	CU_ASSERT_EQUAL_FATAL(xfer_decoder_init(&dec, 1), 0);
	CU_ASSERT_EQUAL(xfer_encoder_begin(&enc, 30), WH_ERR_INVALID_ARG);
	CU_ASSERT_EQUAL(xfer_decoder_begin(&dec, 9), WH_ERR_INVALID_ARG);
	CU_ASSERT_EQUAL_FATAL(xfer_encoder_begin(&enc, 20), 0);
	CU_ASSERT_EQUAL_FATAL(xfer_decoder_begin(&dec, 20), 0);

	/* Random data stays out of the stream (the probe of its start does
	 * not shrink): raw, and nothing allocated on the other side. */
	CU_ASSERT_EQUAL(stream_pass(&enc, &dec, 0, rnd, CS, &c), 0);
	CU_ASSERT(!c.stream && !c.compressed && c.data.len == CS);
	CU_ASSERT(dec.dctx == NULL);
	/* A chunk whose start shrinks goes in, random rest and all ... */
	memcpy(mixed, text, 16 << 10);
	memcpy(mixed + (16 << 10), rnd, CS - (16 << 10));
	CU_ASSERT_EQUAL(stream_pass(&enc, &dec, 1, mixed, CS, &c), 0);
	CU_ASSERT(c.stream && !c.compressed);
	CU_ASSERT(c.data.len > CS / 2 && c.data.len < CS);
	/* ... and the same bytes again refer back across the chunk
	 * boundary: what independent frames cannot do. */
	CU_ASSERT_EQUAL(stream_pass(&enc, &dec, 2, mixed, CS, &c), 0);
	CU_ASSERT(c.stream);
	CU_ASSERT(c.data.len < 1024);
	/* A new level ends the frame and opens another in the same chunk. */
	enc.level = 5;
	CU_ASSERT_EQUAL(stream_pass(&enc, &dec, 3, text, CS, &c), 0);
	CU_ASSERT_EQUAL(enc.frame_level, 5);
	CU_ASSERT(c.data.len < CS / 10);
	/* An independent frame inside a stream transfer: refused. */
	copy = malloc(CS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	{
		size_t z = ZSTD_compress(copy, CS, text, CS, 3);

		CU_ASSERT_FALSE_FATAL(ZSTD_isError(z));
		hash_buf(HASH_BLAKE2B, text, CS, h);
		frame_chunk(&c, 3, CS, h, copy, z);
		CU_ASSERT_EQUAL(
		    xfer_decode_chunk(&dec, HASH_BLAKE2B, &c, 3, CS, &raw, h2),
		    WH_ERR_PROTOCOL);
		/* Both flags at once: refused. */
		c.stream = 1;
		CU_ASSERT_EQUAL(
		    xfer_decode_chunk(&dec, HASH_BLAKE2B, &c, 3, CS, &raw, h2),
		    WH_ERR_PROTOCOL);
	}

	/* Auto mode: after a chunk that did not shrink, the next go raw and
	 * stay out of the stream; the stream goes on after them. */
	xfer_encoder_cleanup(&enc);
	CU_ASSERT_EQUAL_FATAL(
	    xfer_encoder_init(&enc, WHARF__COMPRESS_MODE__COMPRESS_AUTO, 0), 0);
	CU_ASSERT_EQUAL_FATAL(xfer_encoder_begin(&enc, 20), 0);
	CU_ASSERT_EQUAL_FATAL(xfer_decoder_begin(&dec, 20), 0);
	CU_ASSERT_EQUAL(stream_pass(&enc, &dec, 0, text, CS, &c), 0);
	CU_ASSERT(c.stream && enc.last_saved);
	/* Given to the stream (its start shrinks) but too little saved
	 * in all: sent as it came out, and the backoff starts. */
	memcpy(mixed, text, 4 << 10);
	memcpy(mixed + (4 << 10), rnd, CS - (4 << 10));
	CU_ASSERT_EQUAL(stream_pass(&enc, &dec, 1, mixed, CS, &c), 0);
	CU_ASSERT(c.stream && enc.skip == XFER_AUTO_BACKOFF);
	CU_ASSERT(c.data.len <= XFER_STREAM_BOUND(CS));
	CU_ASSERT_EQUAL(stream_pass(&enc, &dec, 2, text, CS, &c), 0);
	CU_ASSERT(!c.stream && !c.compressed && c.data.len == CS);
	enc.skip = 0;
	CU_ASSERT_EQUAL(stream_pass(&enc, &dec, 3, text, CS, &c), 0);
	CU_ASSERT(c.stream && c.data.len < CS / 10);
	/* Random data right after shrinking text goes in unprobed; the
	 * next, after that miss, is probed and kept out. */
	randombytes_buf(rnd, CS); /* none of it in the stream yet */
	CU_ASSERT_EQUAL(stream_pass(&enc, &dec, 4, rnd, CS, &c), 0);
	CU_ASSERT(c.stream && enc.skip == XFER_AUTO_BACKOFF);
	enc.skip = 0;
	CU_ASSERT_EQUAL(stream_pass(&enc, &dec, 5, rnd, CS, &c), 0);
	CU_ASSERT(!c.stream && enc.skip == XFER_AUTO_BACKOFF);
	/* The rest at a fixed level, which never backs off. */
	xfer_encoder_cleanup(&enc);
	CU_ASSERT_EQUAL_FATAL(
	    xfer_encoder_init(&enc, WHARF__COMPRESS_MODE__COMPRESS_LEVEL, 3),
	    0);

	/* No grant: a stream chunk is refused before any inflating. */
	CU_ASSERT_EQUAL_FATAL(xfer_decoder_begin(&dec, 0), 0);
	CU_ASSERT_EQUAL_FATAL(xfer_encoder_begin(&enc, 20), 0);
	CU_ASSERT_EQUAL(
	    stream_pass(&enc, &dec, 0, text, CS, &c), WH_ERR_PROTOCOL);

	/* A window over the grant: the decoder refuses the frame. */
	CU_ASSERT_EQUAL_FATAL(xfer_encoder_begin(&enc, 23), 0);
	CU_ASSERT_EQUAL_FATAL(xfer_decoder_begin(&dec, 20), 0);
	CU_ASSERT_EQUAL(
	    stream_pass(&enc, &dec, 0, text, CS, &c), WH_ERR_DECOMPRESS);

	/* Cut short: less than raw_len comes out. */
	CU_ASSERT_EQUAL_FATAL(xfer_encoder_begin(&enc, 20), 0);
	CU_ASSERT_EQUAL_FATAL(xfer_decoder_begin(&dec, 20), 0);
	CU_ASSERT_EQUAL_FATAL(
	    xfer_encode_chunk(&enc, HASH_BLAKE2B, 0, text, CS, &c, h), 0);
	c.data.len -= 8;
	CU_ASSERT_EQUAL(
	    xfer_decode_chunk(&dec, HASH_BLAKE2B, &c, 0, CS, &raw, h2),
	    WH_ERR_DECOMPRESS);

	/* Inflating past raw_len: a chunk of CS bytes that claims half. */
	CU_ASSERT_EQUAL_FATAL(xfer_encoder_begin(&enc, 20), 0);
	CU_ASSERT_EQUAL_FATAL(xfer_decoder_begin(&dec, 20), 0);
	CU_ASSERT_EQUAL_FATAL(
	    xfer_encode_chunk(&enc, HASH_BLAKE2B, 0, text, CS, &c, h), 0);
	hash_buf(HASH_BLAKE2B, text, CS / 2, h);
	c.raw_len = CS / 2;
	CU_ASSERT_EQUAL(
	    xfer_decode_chunk(&dec, HASH_BLAKE2B, &c, 0, CS / 2, &raw, h2),
	    WH_ERR_DECOMPRESS);

	/* Over the bound on the wire: refused unread. */
	CU_ASSERT_EQUAL_FATAL(xfer_decoder_begin(&dec, 20), 0);
	c.raw_len = 16;
	CU_ASSERT_EQUAL(
	    xfer_decode_chunk(&dec, HASH_BLAKE2B, &c, 0, 16, &raw, h2),
	    WH_ERR_PROTOCOL);

	/* A later transfer starts a fresh stream on both sides. */
	CU_ASSERT_EQUAL_FATAL(xfer_encoder_begin(&enc, 20), 0);
	CU_ASSERT_EQUAL_FATAL(xfer_decoder_begin(&dec, 20), 0);
	CU_ASSERT_EQUAL(stream_pass(&enc, &dec, 0, text, CS, &c), 0);
	CU_ASSERT(c.stream);
	/* And one without a grant goes back to independent frames. */
	CU_ASSERT_EQUAL_FATAL(xfer_encoder_begin(&enc, 0), 0);
	CU_ASSERT_EQUAL_FATAL(xfer_decoder_begin(&dec, 0), 0);
	CU_ASSERT_EQUAL(stream_pass(&enc, &dec, 0, text, CS, &c), 0);
	CU_ASSERT(c.compressed && !c.stream);

	xfer_encoder_cleanup(&enc);
	xfer_decoder_cleanup(&dec);
	free(rnd);
	free(text);
	free(mixed);
	free(copy);
}

static void
test_pwrite_spans(void)
{
	const size_t total = 2 * XFER_WRITEBACK_SPAN + 12345;
	const size_t piece = XFER_WRITEBACK_SPAN / 3 + 7;
	char dir[TU_PATH_MAX], path[TU_PATH_MAX];
	uint8_t *src = malloc(total), *back = malloc(total);
	size_t off, len, n = (total + piece - 1) / piece, i;
	int fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(src);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	randombytes_buf(src, total);
	CU_ASSERT_FATAL(tu_tempdir(dir, sizeof(dir)) == 0);
	tu_join(path, sizeof(path), dir, "file");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	for (i = n; i-- > 0;) {
		off = i * piece;
		len = off + piece > total ? total - off : piece;
		CU_ASSERT_EQUAL(xfer_pwrite_all(fd, src + off, len, off), 0);
	}
	CU_ASSERT_EQUAL(xfer_pread_all(fd, back, total, 0), 0);
	CU_ASSERT_EQUAL(memcmp(src, back, total), 0);
	CU_ASSERT_EQUAL(lseek(fd, 0, SEEK_END), (off_t)total);
	close(fd);
	tu_rmtree(dir);
	free(src);
	free(back);
}

static void
test_prefix(void)
{
	char dir[TU_PATH_MAX], path[TU_PATH_MAX];
	struct xfer_digest d, full;
	uint8_t *data = malloc(3 * XFER_CHUNK_MIN + 100), *buf, h[HASH_LEN];
	uint8_t a[HASH_LEN], b[HASH_LEN], foreign;
	uint64_t len;
	int fd, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	buf = malloc(XFER_CHUNK_MIN);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	randombytes_buf(data, 3 * XFER_CHUNK_MIN + 100);
	CU_ASSERT_FATAL(tu_tempdir(dir, sizeof(dir)) == 0);
	tu_join(path, sizeof(path), dir, "part");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	/* A partial of 2 chunks and a bit: only whole chunks count. */
	CU_ASSERT_EQUAL(write(fd, data, 2 * XFER_CHUNK_MIN + 50),
	    (ssize_t)(2 * XFER_CHUNK_MIN + 50));
	CU_ASSERT_EQUAL(xfer_prefix_digest(fd, UINT64_MAX, XFER_CHUNK_MIN,
	                    HASH_BLAKE2B, buf, &d, &len),
	    0);
	CU_ASSERT_EQUAL(len, 2 * XFER_CHUNK_MIN);
	xfer_digest_peek(&d, a);
	/* The sender's digest of the same first chunks agrees ... */
	xfer_digest_init(&full, HASH_BLAKE2B, XFER_CHUNK_MIN);
	for (i = 0; i < 2; i++) {
		hash_buf(
		    HASH_BLAKE2B, data + i * XFER_CHUNK_MIN, XFER_CHUNK_MIN, h);
		xfer_digest_add(&full, h, XFER_CHUNK_MIN);
	}
	xfer_digest_peek(&full, b);
	CU_ASSERT_EQUAL(memcmp(a, b, HASH_LEN), 0);
	/* ... and a partial with one foreign byte does not. The byte is
	 * the one there with its bits flipped, never by chance the same
	 * (an 'X' written over random data was, one run in 256). */
	foreign = (uint8_t)~data[XFER_CHUNK_MIN + 3];
	CU_ASSERT_EQUAL(pwrite(fd, &foreign, 1, XFER_CHUNK_MIN + 3), 1);
	CU_ASSERT_EQUAL(xfer_prefix_digest(fd, UINT64_MAX, XFER_CHUNK_MIN,
	                    HASH_BLAKE2B, buf, &d, &len),
	    0);
	xfer_digest_peek(&d, a);
	CU_ASSERT_NOT_EQUAL(memcmp(a, b, HASH_LEN), 0);
	/* The cap: never more than the file being sent. */
	CU_ASSERT_EQUAL(xfer_prefix_digest(fd, XFER_CHUNK_MIN + 1,
	                    XFER_CHUNK_MIN, HASH_BLAKE2B, buf, &d, &len),
	    0);
	CU_ASSERT_EQUAL(len, XFER_CHUNK_MIN);
	close(fd);
	tu_rmtree(dir);
	free(data);
	free(buf);
}

/* Auto compression follows the link: a backlog in the socket raises the
 * level to the auto maximum, an idle link lowers it to off, and a single
 * contrary chunk moves nothing. Forced levels never move. */
static void
test_auto_level(void)
{
	struct xfer_encoder enc;
	const uint32_t wl = 200000; /* a chunk's wire bytes */
	int i;

	CU_ASSERT_EQUAL_FATAL(
	    xfer_encoder_init(&enc, WHARF__COMPRESS_MODE__COMPRESS_AUTO, 0), 0);
	CU_ASSERT_EQUAL(enc.level, XFER_LEVEL_DEFAULT);
	/* Before any chunk shrank (say random bytes), a backlog raises
	 * nothing: a higher level would only cost memory. */
	for (i = 0; i < 8; i++)
		xfer_encoder_feedback(&enc, 3 * (uint64_t)wl, wl, 0.0);
	CU_ASSERT_EQUAL(enc.level, XFER_LEVEL_DEFAULT);
	enc.last_saved = 1; /* as after a chunk that compressed */
	enc.trend = 0;
	/* One chunk finding the link idle: no change yet. */
	xfer_encoder_feedback(&enc, 0, wl, 0.0);
	CU_ASSERT_EQUAL(enc.level, XFER_LEVEL_DEFAULT);
	/* A slow link: the queue holds earlier chunks, though no write has
	 * blocked yet (the socket buffer is still filling). */
	for (i = 0; i < 64; i++)
		xfer_encoder_feedback(&enc, 3 * (uint64_t)wl, wl, 0.0);
	CU_ASSERT_EQUAL(enc.level, XFER_AUTO_LEVEL_MAX);
	/* Mixed signals (some backlog, some waiting) hold the level. */
	for (i = 0; i < 64; i++)
		xfer_encoder_feedback(&enc, wl / 2, wl, 0.1);
	CU_ASSERT_EQUAL(enc.level, XFER_AUTO_LEVEL_MAX);
	/* A fast link that drains each chunk before the next is ready:
	 * compression only costs time, down to off. */
	for (i = 0; i < 64; i++)
		xfer_encoder_feedback(&enc, 0, wl, 0.0);
	CU_ASSERT_EQUAL(enc.level, 0);
	/* Writes that block again bring it back. */
	for (i = 0; i < 4; i++)
		xfer_encoder_feedback(&enc, 0, wl, 0.9);
	CU_ASSERT(enc.level > 0);
	xfer_encoder_cleanup(&enc);

	CU_ASSERT_EQUAL_FATAL(
	    xfer_encoder_init(&enc, WHARF__COMPRESS_MODE__COMPRESS_LEVEL, 7),
	    0);
	for (i = 0; i < 16; i++)
		xfer_encoder_feedback(&enc, 0, wl, 0.0);
	CU_ASSERT_EQUAL(enc.level, 7);
	xfer_encoder_cleanup(&enc);

	/* In a stream every change costs the frame's history: the level
	 * moves in steps of three, 3 to 9 in two and back to off in three. */
	CU_ASSERT_EQUAL_FATAL(
	    xfer_encoder_init(&enc, WHARF__COMPRESS_MODE__COMPRESS_AUTO, 0), 0);
	CU_ASSERT_EQUAL_FATAL(xfer_encoder_begin(&enc, 20), 0);
	enc.last_saved = 1;
	for (i = 0; i < 2; i++)
		xfer_encoder_feedback(&enc, 3 * (uint64_t)wl, wl, 0.0);
	CU_ASSERT_EQUAL(enc.level, XFER_LEVEL_DEFAULT + XFER_STREAM_LEVEL_STEP);
	for (i = 0; i < 2; i++)
		xfer_encoder_feedback(&enc, 3 * (uint64_t)wl, wl, 0.0);
	CU_ASSERT_EQUAL(enc.level, XFER_AUTO_LEVEL_MAX);
	for (i = 0; i < 6; i++)
		xfer_encoder_feedback(&enc, 0, wl, 0.0);
	CU_ASSERT_EQUAL(enc.level, 0);
	xfer_encoder_cleanup(&enc);
}

void
register_xfer_tests(void)
{
	CU_pSuite s = CU_add_suite("xfer", NULL, NULL);

	if (s == NULL)
		return;
	CU_add_test(s, "hash test vectors", test_vectors);
	CU_add_test(
	    s, "hash: xxh128 and sha256 streams", test_hash_xxh128_sha256);
	CU_add_test(s, "hash: wire values and features", test_hash_wire);
	CU_add_test(s, "chunk geometry", test_geometry);
	CU_add_test(s, "file digest", test_digest);
	CU_add_test(s, "compression and bounded decoding", test_compression);
	CU_add_test(
	    s, "compressed chunks need ZSTD", test_compression_not_negotiated);
	CU_add_test(s, "stream compression across chunks", test_stream);
	CU_add_test(s, "writes across write-back spans", test_pwrite_spans);
	CU_add_test(s, "resume prefix check", test_prefix);
	CU_add_test(s, "auto compression follows the link", test_auto_level);
}
