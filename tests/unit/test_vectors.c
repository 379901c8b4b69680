/* SPDX-License-Identifier: MIT */
/*
 * Known-answer vectors of docs/protocol.md appendix A (tests/vectors/v1.txt,
 * computed by gen_vectors.py from the document alone): the client's half of
 * a fixed-key handshake must accept the vector's ServerHello and derive its
 * keys, a sealed frame must come out byte for byte, and the file digest of
 * the vector content must match for both hashes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "suites.h"
#include "wharf.pb-c.h"
#include "wharf/buf.h"
#include "wharf/channel.h"
#include "wharf/handshake.h"
#include "wharf/hash.h"
#include "wharf/msg.h"
#include "wharf/wire.h"
#include "wharf/xfer.h"

#ifndef WHARF_VECTORS_FILE
#error "WHARF_VECTORS_FILE must name tests/vectors/v1.txt"
#endif
#ifndef WHARF_MSG_VECTORS_FILE
#error "WHARF_MSG_VECTORS_FILE must name tests/vectors/messages.txt"
#endif

#define VEC_LINE_MAX 4096
#define VEC_BYTES_MAX 1024

/* The bytes of "name = hex" in [section] of the vectors file into out;
 * *len gets their number. -1 if missing or not hex. */
static int
vec_get_in(const char *file, const char *section, const char *name,
    uint8_t *out, size_t cap, size_t *len)
{
	char line[VEC_LINE_MAX], want[128];
	size_t nlen = strlen(name);
	int in = 0, r = -1;
	const char *end;
	FILE *f = fopen(file, "r");

	if (f == NULL)
		return -1;
	snprintf(want, sizeof(want), "[%s]", section);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '[') {
			in = strcmp(line, want) == 0;
			continue;
		}
		if (!in || strncmp(line, name, nlen) != 0 ||
		    strncmp(line + nlen, " = ", 3) != 0)
			continue;
		if (sodium_hex2bin(out, cap, line + nlen + 3,
		        strlen(line + nlen + 3), NULL, len, &end) == 0 &&
		    *end == '\0')
			r = 0;
		break;
	}
	fclose(f);
	return r;
}

struct vec {
	uint8_t v[VEC_BYTES_MAX];
	size_t n;
};

static int
vec_load_in(
    const char *file, const char *section, const char *name, struct vec *v)
{
	int r = vec_get_in(file, section, name, v->v, sizeof(v->v), &v->n);

	TU_CHECK(r == 0, "vector [%s] %s missing or not hex", section, name);
	return r;
}

static int
vec_load(const char *section, const char *name, struct vec *v)
{
	return vec_load_in(WHARF_VECTORS_FILE, section, name, v);
}

static void
expect_bytes(const char *what, const uint8_t *got, const struct vec *want)
{
	char g[2 * VEC_BYTES_MAX + 1];

	sodium_bin2hex(g, sizeof(g), got, want->n);
	TU_CHECK(memcmp(got, want->v, want->n) == 0, "%s: got %s", what, g);
}

/* The client of the vector: its fixed ephemeral key and the exact first
 * flight of the vector (CP || u32 length || CH). */
static int
vector_client(const char *sec, struct hs_client *c, const struct vec *psk,
    uint64_t features)
{
	struct vec sk, pk, cp, ch;
	uint8_t be[4];

	memset(c, 0, sizeof(*c));
	if (vec_load(sec, "client_ephemeral_sk", &sk) != 0 ||
	    vec_load(sec, "client_ephemeral_pk", &pk) != 0 ||
	    vec_load(sec, "CP", &cp) != 0 || vec_load(sec, "CH", &ch) != 0)
		return -1;
	memcpy(c->eph_sk, sk.v, sizeof(c->eph_sk));
	/* The vector's public key is the X25519 of its secret. */
	if (crypto_scalarmult_base(c->eph_pk, c->eph_sk) != 0)
		return -1;
	expect_bytes("client ephemeral public key", c->eph_pk, &pk);
	if (psk != NULL) {
		memcpy(c->psk, psk->v, sizeof(c->psk));
		c->have_psk = 1;
	}
	c->features = features;
	be[0] = (uint8_t)(ch.n >> 24);
	be[1] = (uint8_t)(ch.n >> 16);
	be[2] = (uint8_t)(ch.n >> 8);
	be[3] = (uint8_t)ch.n;
	if ((c->sent = buf_new(WIRE_FRAME_MAX_PREAUTH)) == NULL ||
	    buf_put(c->sent, cp.v, cp.n) != 0 ||
	    buf_put(c->sent, be, sizeof(be)) != 0 ||
	    buf_put(c->sent, ch.v, ch.n) != 0)
		return -1;
	return 0;
}

/* The server's frames of an AES-256-GCM vector: direction 1, counters
 * 0 and 1, each opened by the client's receiving seal in turn. */
static void
check_s2c_frames(const char *sec, const struct vec *s2c)
{
	static const char *const names[2][2] = {
		{ "s2c_envelope0", "s2c_frame0" },
		{ "s2c_envelope1", "s2c_frame1" },
	};
	struct vec env, frame;
	struct seal rx;
	uint8_t out[VEC_BYTES_MAX];
	int i;

	CU_ASSERT_FATAL(
	    seal_init_cipher(&rx, SEAL_AES256GCM, s2c->v, HS_DIR_S2C) == 0);
	for (i = 0; i < 2; i++) {
		if (vec_load(sec, names[i][0], &env) != 0 ||
		    vec_load(sec, names[i][1], &frame) != 0)
			break;
		CU_ASSERT_FATAL(frame.n == env.n + 4 + SEAL_MAC_LEN);
		memcpy(out, frame.v, frame.n);
		TU_CHECK(
		    seal_open(&rx, out + 4, out + 4 + SEAL_MAC_LEN, env.n) == 0,
		    "[%s] %s does not open", sec, names[i][1]);
		expect_bytes(names[i][0], out + 4 + SEAL_MAC_LEN, &env);
	}
	seal_cleanup(&rx);
}

static void
check_handshake(const char *sec, int with_psk, int cipher)
{
	struct vec psk, sp, sh, c2s, s2c, seed, host_pk, env, frame;
	struct hs_client c;
	struct hs_result res;
	struct seal seal;
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	uint8_t out[VEC_BYTES_MAX];
	char why[HS_WHY_MAX] = "";
	int r;

	memset(&res, 0, sizeof(res));
	if ((with_psk && vec_load(sec, "psk", &psk) != 0) ||
	    vector_client(sec, &c, with_psk ? &psk : NULL,
	        WIRE_FEATURES_ALL |
	            (cipher == SEAL_AES256GCM ? WIRE_FEAT_AES256GCM : 0)) !=
	        0 ||
	    vec_load(sec, "SP", &sp) != 0 ||
	    vec_load(sec, "server_hello_frame", &sh) != 0 ||
	    vec_load(sec, "K_c2s", &c2s) != 0 ||
	    vec_load(sec, "K_s2c", &s2c) != 0 ||
	    vec_load(sec, "host_seed", &seed) != 0 ||
	    vec_load(sec, "host_pk", &host_pk) != 0 ||
	    vec_load(sec, "auth_envelope", &env) != 0 ||
	    vec_load(sec, "auth_frame", &frame) != 0) {
		hs_client_cleanup(&c);
		return;
	}
	/* The host key is the Ed25519 key of its seed, as keys.c makes it. */
	crypto_sign_seed_keypair(pk, sk, seed.v);
	expect_bytes("host public key", pk, &host_pk);
	sodium_memzero(sk, sizeof(sk));

	/* TH, the signature over it, the key derivation and CONFIRM are
	 * all checked by the client: it accepts only if each matches. */
	r = hs_client_finish(&c, sp.v, sh.v, sh.n, &res, why, sizeof(why));
	TU_CHECK(
	    r == 0, "[%s] client refused the vector: %d (%s)", sec, r, why);
	if (r == 0) {
		expect_bytes("K_c2s (client tx)", res.tx_key, &c2s);
		expect_bytes("K_s2c (client rx)", res.rx_key, &s2c);
		CU_ASSERT_EQUAL(res.psk_required, with_psk);
		CU_ASSERT_EQUAL(res.cipher, cipher);
		expect_bytes("pinned host key", res.host_pk, &host_pk);
	}

	/* The first sealed frame: u32 length || tag || ciphertext, counter 0
	 * under K_c2s. */
	CU_ASSERT_FATAL(env.n + 4 + SEAL_MAC_LEN == frame.n);
	CU_ASSERT_FATAL(
	    seal_init_cipher(&seal, cipher, c2s.v, HS_DIR_C2S) == 0);
	out[0] = (uint8_t)((env.n + SEAL_MAC_LEN) >> 24);
	out[1] = (uint8_t)((env.n + SEAL_MAC_LEN) >> 16);
	out[2] = (uint8_t)((env.n + SEAL_MAC_LEN) >> 8);
	out[3] = (uint8_t)(env.n + SEAL_MAC_LEN);
	memcpy(out + 4 + SEAL_MAC_LEN, env.v, env.n);
	CU_ASSERT_EQUAL(
	    seal_close(&seal, out + 4, out + 4 + SEAL_MAC_LEN, env.n), 0);
	expect_bytes("sealed Auth frame", out, &frame);
	seal_cleanup(&seal);
	/* And it opens back to the envelope, which decodes as an Auth. */
	CU_ASSERT_FATAL(
	    seal_init_cipher(&seal, cipher, c2s.v, HS_DIR_C2S) == 0);
	memcpy(out, frame.v, frame.n);
	CU_ASSERT_EQUAL(
	    seal_open(&seal, out + 4, out + 4 + SEAL_MAC_LEN, env.n), 0);
	expect_bytes("opened Auth envelope", out + 4 + SEAL_MAC_LEN, &env);
	seal_cleanup(&seal);
	if (cipher == SEAL_AES256GCM)
		check_s2c_frames(sec, &s2c);
	hs_result_wipe(&res);
	hs_client_cleanup(&c);
}

static void
test_handshake_vector(void)
{
	check_handshake("handshake", 0, SEAL_SECRETBOX);
}

static void
test_handshake_psk_vector(void)
{
	check_handshake("handshake-psk", 1, SEAL_SECRETBOX);
}

static void
test_handshake_aes256gcm_vector(void)
{
	check_handshake("handshake-aes256gcm", 0, SEAL_AES256GCM);
}

/* A changed byte anywhere in the server's flight must be refused: the
 * vector test above cannot pass by accepting anything. */
static void
test_handshake_vector_tampered(void)
{
	struct vec sp, sh;
	struct hs_client c;
	struct hs_result res;
	char why[HS_WHY_MAX];
	size_t i;
	int refused = 0, tries = 0;

	if (vec_load("handshake", "SP", &sp) != 0 ||
	    vec_load("handshake", "server_hello_frame", &sh) != 0)
		return;
	for (i = 6; i < sh.n; i += 17, tries++) {
		if (vector_client("handshake", &c, NULL, WIRE_FEATURES_ALL) !=
		    0) {
			hs_client_cleanup(&c);
			return;
		}
		sh.v[i] ^= 0x01;
		if (hs_client_finish(
		        &c, sp.v, sh.v, sh.n, &res, why, sizeof(why)) != 0)
			refused++;
		sh.v[i] ^= 0x01;
		hs_result_wipe(&res);
		hs_client_cleanup(&c);
	}
	TU_CHECK(refused == tries, "%d of %d altered flights refused", refused,
	    tries);
}

static void
test_file_digest_vector(void)
{
	static const char *const algs[] = { "blake2b", "sha256" };
	const uint32_t cs = 65536;
	const size_t size = 200000;
	uint8_t *data = malloc(size), h[HASH_LEN], f[HASH_LEN];
	struct xfer_digest d;
	struct vec want;
	char name[64];
	size_t i, off;
	int a, k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	for (i = 0; i < size; i++)
		data[i] = (uint8_t)((i * 7 + 3) % 251);
	for (a = 0; a < 2; a++) {
		enum hash_alg alg = a == 0 ? HASH_BLAKE2B : HASH_SHA256;

		xfer_digest_init(&d, alg, cs);
		for (off = 0, k = 0; off < size; off += cs, k++) {
			uint32_t n =
			    (uint32_t)(size - off < cs ? size - off : cs);

			hash_buf(alg, data + off, n, h);
			snprintf(name, sizeof(name), "%s_chunk%d", algs[a], k);
			if (vec_load("file-digest", name, &want) == 0)
				expect_bytes(name, h, &want);
			xfer_digest_add(&d, h, n);
		}
		xfer_digest_peek(&d, f);
		snprintf(name, sizeof(name), "%s_file", algs[a]);
		if (vec_load("file-digest", name, &want) == 0)
			expect_bytes(name, f, &want);
	}
	free(data);
}

/* Lines "NAME = HEX" in [messages] of messages.txt. */
static size_t
message_vector_count(void)
{
	char line[VEC_LINE_MAX];
	size_t n = 0;
	int in = 0;
	FILE *f = fopen(WHARF_MSG_VECTORS_FILE, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '[')
			in = strncmp(line, "[messages]", 10) == 0;
		else if (in && strstr(line, " = ") != NULL)
			n++;
	}
	fclose(f);
	return n;
}

/* Every message type both ways: the C encoding of its example is the
 * golden bytes, and the golden bytes decode (msg_unpack, which runs
 * msg_validate) to a message that encodes to them again. */
static void
test_message_vectors(void)
{
	const struct tu_example *x;
	Wharf__Envelope *got = NULL;
	struct vec want;
	struct buf *b;
	size_t n, i;

	n = tu_msg_examples(&x);
	CU_ASSERT_EQUAL(message_vector_count(), n);
	for (i = 0; i < n; i++) {
		if (vec_load_in(WHARF_MSG_VECTORS_FILE, "messages", x[i].name,
		        &want) != 0)
			continue;
		CU_ASSERT_FATAL((b = buf_new(WIRE_FRAME_MAX)) != NULL);
		TU_CHECK(msg_pack(&x[i].env, b, 0, WIRE_FRAME_MAX) == 0 &&
		        buf_len(b) == want.n &&
		        memcmp(buf_ptr(b), want.v, want.n) == 0,
		    "%s: the C encoding differs from the vector", x[i].name);
		buf_free(b);
		TU_CHECK(msg_unpack(want.v, want.n, &got) == 0,
		    "%s: the vector does not decode", x[i].name);
		if (got == NULL)
			continue;
		TU_CHECK(got->body_case == x[i].env.body_case &&
		        msg_validate(got) == 0,
		    "%s: decoded to the wrong body or invalid", x[i].name);
		CU_ASSERT_FATAL((b = buf_new(WIRE_FRAME_MAX)) != NULL);
		TU_CHECK(msg_pack(got, b, 0, WIRE_FRAME_MAX) == 0 &&
		        buf_len(b) == want.n &&
		        memcmp(buf_ptr(b), want.v, want.n) == 0,
		    "%s: does not encode back to the vector", x[i].name);
		buf_free(b);
		msg_free(got);
		got = NULL;
	}
}

/* A chunk vector: the envelope decodes to a Chunk that the receiver
 * (xfer_decode_chunk) inflates to raw with the vector's digest. */
static void
check_chunk_vector(const char *sec, int compressed)
{
	struct vec raw, h, env, data;
	struct xfer_decoder d;
	Wharf__Envelope *got = NULL;
	const uint8_t *out = NULL;
	uint8_t mine[HASH_LEN];

	if (vec_load_in(WHARF_MSG_VECTORS_FILE, sec, "raw", &raw) != 0 ||
	    vec_load_in(WHARF_MSG_VECTORS_FILE, sec, "blake2b", &h) != 0 ||
	    vec_load_in(WHARF_MSG_VECTORS_FILE, sec, "envelope", &env) != 0)
		return;
	hash_buf(HASH_BLAKE2B, raw.v, raw.n, mine);
	expect_bytes("the raw chunk's digest", mine, &h);
	CU_ASSERT_EQUAL_FATAL(msg_unpack(env.v, env.n, &got), 0);
	CU_ASSERT_EQUAL_FATAL(got->body_case, WHARF__ENVELOPE__BODY_CHUNK);
	CU_ASSERT_EQUAL(got->chunk->compressed, compressed);
	if (compressed &&
	    vec_load_in(WHARF_MSG_VECTORS_FILE, sec, "data", &data) == 0)
		CU_ASSERT(got->chunk->data.len == data.n &&
		    memcmp(got->chunk->data.data, data.v, data.n) == 0);
	CU_ASSERT_EQUAL_FATAL(xfer_decoder_init(&d, 1), 0);
	TU_CHECK(xfer_decode_chunk(&d, HASH_BLAKE2B, got->chunk, 0,
	             (uint32_t)raw.n, &out, mine) == 0,
	    "[%s]: the receiver refuses the chunk", sec);
	if (out != NULL) {
		CU_ASSERT_EQUAL(memcmp(out, raw.v, raw.n), 0);
		expect_bytes("the received chunk's digest", mine, &h);
	}
	xfer_decoder_cleanup(&d);
	msg_free(got);
}

static void
test_chunk_vectors(void)
{
	check_chunk_vector("chunk-raw", 0);
	check_chunk_vector("chunk-zstd", 1);
}

void
register_vectors_tests(void)
{
	CU_pSuite s = CU_add_suite("vectors", NULL, NULL);

	CU_add_test(s, "handshake and sealed frame", test_handshake_vector);
	CU_add_test(s, "handshake with a PSK", test_handshake_psk_vector);
	CU_add_test(s, "handshake and frames, AES-256-GCM",
	    test_handshake_aes256gcm_vector);
	CU_add_test(s, "altered server flights refused",
	    test_handshake_vector_tampered);
	CU_add_test(s, "file digest, both hashes", test_file_digest_vector);
	CU_add_test(s, "every message type, both ways", test_message_vectors);
	CU_add_test(s, "a chunk raw and compressed", test_chunk_vectors);
}
