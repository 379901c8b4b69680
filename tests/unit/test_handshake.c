/* SPDX-License-Identifier: MIT */
/*
 * The v1 handshake through its step functions, with the bytes tampered
 * between steps: matching keys on a good run, every PSK mismatch refused,
 * any flipped byte of the server's answer or of the ClientHello caught,
 * and refusals (plaintext, version) reported to the client.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <sodium.h>

#include "wharf/buf.h"
#include "wharf/handshake.h"
#include "wharf/io.h"
#include "wharf/keys.h"
#include "wharf/msg.h"
#include "wharf/wire.h"

#include "suites.h"

#define HS_HEAD (WIRE_PREFACE_LEN + WIRE_FRAME_HEADER)
#define HS_IO_TIMEOUT_MS 5000

static char hs_dir[TU_PATH_MAX];
static struct host_key hs_key;
static uint8_t psk_a[KEYS_PSK_LEN], psk_b[KEYS_PSK_LEN];

static int
hs_suite_init(void)
{
	char path[TU_PATH_MAX];

	if (tu_tempdir(hs_dir, sizeof(hs_dir)) != 0)
		return -1;
	tu_join(path, sizeof(path), hs_dir, "host_key");
	if (keys_host_load_or_create(path, &hs_key) != 0) {
		(void)tu_rmtree(hs_dir);
		return -1;
	}
	randombytes_buf(psk_a, sizeof(psk_a));
	randombytes_buf(psk_b, sizeof(psk_b));
	return 0;
}

static int
hs_suite_clean(void)
{
	keys_host_wipe(&hs_key);
	return tu_rmtree(hs_dir) == 0 ? 0 : -1;
}

static void
server_config(
    struct hs_server_config *cfg, const uint8_t *psk, int allow_plaintext)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->host_key = &hs_key;
	cfg->psk = psk;
	cfg->allow_plaintext = allow_plaintext;
	cfg->features = WIRE_FEATURES_ALL;
}

static uint32_t
load_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

/* One handshake between the step functions. */
struct hs_run {
	struct hs_client c;
	struct buf *reply; /* server preface || length || payload */
	struct hs_result cres, sres;
	int rs, rc; /* server and client results */
	char why[HS_WHY_MAX];
};

static void
run_cleanup(struct hs_run *h)
{
	hs_client_cleanup(&h->c);
	buf_free(h->reply);
	hs_result_wipe(&h->cres);
	hs_result_wipe(&h->sres);
	memset(h, 0, sizeof(*h));
}

/* The ClientHello payload inside c->sent, after checking its framing. */
static int
sent_hello(const struct hs_client *c, const uint8_t **hello, size_t *len)
{
	size_t n = buf_len(c->sent);

	if (n <= HS_HEAD ||
	    load_be32(buf_ptr(c->sent) + WIRE_PREFACE_LEN) != n - HS_HEAD)
		return -1;
	*hello = buf_ptr(c->sent) + HS_HEAD;
	*len = n - HS_HEAD;
	return 0;
}

/* The server's preface and frame payload, after checking the framing. */
static int
reply_frame(const struct buf *reply, const uint8_t **frame, size_t *len)
{
	size_t n = buf_len(reply);

	if (n <= HS_HEAD ||
	    load_be32(buf_ptr(reply) + WIRE_PREFACE_LEN) != n - HS_HEAD)
		return -1;
	*frame = buf_ptr(reply) + HS_HEAD;
	*len = n - HS_HEAD;
	return 0;
}

/* Client init, then the server's answer to cpreface/hello (NULL: the
 * client's own bytes, untouched). Fails the test on setup errors. */
static int
run_until_server(struct hs_run *h, const struct hs_server_config *cfg,
    const uint8_t *client_psk, int want_plaintext, uint64_t features)
{
	const uint8_t *hello;
	size_t hello_len;

	memset(h, 0, sizeof(*h));
	if (hs_client_init(&h->c, client_psk, want_plaintext, features) != 0 ||
	    sent_hello(&h->c, &hello, &hello_len) != 0 ||
	    (h->reply = buf_new(WIRE_FRAME_MAX_PREAUTH)) == NULL) {
		CU_FAIL("handshake setup");
		return -1;
	}
	h->rs = hs_server_respond(
	    cfg, buf_ptr(h->c.sent), hello, hello_len, h->reply, &h->sres);
	return 0;
}

static int
client_finish(
    struct hs_run *h, const uint8_t *spreface, const uint8_t *frame, size_t len)
{
	return hs_client_finish(
	    &h->c, spreface, frame, len, &h->cres, h->why, sizeof(h->why));
}

/* Feeds the server's reply, untouched, to the client. */
static int
run_client(struct hs_run *h)
{
	const uint8_t *frame;
	size_t len;

	if (reply_frame(h->reply, &frame, &len) != 0) {
		CU_FAIL("server reply is not preface + one frame");
		return -1;
	}
	h->rc = client_finish(h, buf_ptr(h->reply), frame, len);
	return 0;
}

static int
run_full(struct hs_run *h, const struct hs_server_config *cfg,
    const uint8_t *client_psk, int want_plaintext)
{
	if (run_until_server(
	        h, cfg, client_psk, want_plaintext, WIRE_FEATURES_ALL) != 0)
		return -1;
	return run_client(h);
}

static void
assert_keys_match(const struct hs_run *h)
{
	CU_ASSERT_EQUAL(
	    memcmp(h->cres.tx_key, h->sres.rx_key, HS_SESSION_KEY_LEN), 0);
	CU_ASSERT_EQUAL(
	    memcmp(h->cres.rx_key, h->sres.tx_key, HS_SESSION_KEY_LEN), 0);
	CU_ASSERT_NOT_EQUAL(
	    memcmp(h->cres.tx_key, h->cres.rx_key, HS_SESSION_KEY_LEN), 0);
	CU_ASSERT_FALSE(sodium_is_zero(h->cres.tx_key, HS_SESSION_KEY_LEN));
	CU_ASSERT_FALSE(sodium_is_zero(h->cres.rx_key, HS_SESSION_KEY_LEN));
}

static void
test_good_handshake(void)
{
	struct hs_server_config cfg;
	struct hs_run h, h2;

	server_config(&cfg, NULL, 0);
	if (run_full(&h, &cfg, NULL, 0) != 0)
		goto out;
	CU_ASSERT_EQUAL(h.rs, 0);
	TU_CHECK(h.rc == 0, "client: %d (%s)", h.rc, h.why);
	CU_ASSERT_STRING_EQUAL(h.why, "");
	assert_keys_match(&h);
	CU_ASSERT_EQUAL(h.cres.version, WIRE_VERSION_MAX);
	CU_ASSERT_EQUAL(h.sres.version, h.cres.version);
	/* A sealed session never grants XXH3 (protocol.md §4.4). */
	CU_ASSERT(h.cres.features == (WIRE_FEATURES_ALL & ~WIRE_FEAT_XXH128));
	CU_ASSERT(h.sres.features == h.cres.features);
	CU_ASSERT_EQUAL(h.cres.cipher, SEAL_SECRETBOX);
	CU_ASSERT_EQUAL(memcmp(h.cres.host_pk, hs_key.pk, KEYS_HOST_PK_LEN), 0);
	CU_ASSERT_EQUAL(memcmp(h.sres.host_pk, hs_key.pk, KEYS_HOST_PK_LEN), 0);
	CU_ASSERT_FALSE(h.cres.plaintext);
	CU_ASSERT_FALSE(h.sres.plaintext);
	CU_ASSERT_FALSE(h.cres.psk_required);
	CU_ASSERT_EQUAL(strncmp(h.cres.peer_software, "wharf ", 6), 0);
	CU_ASSERT_EQUAL(strncmp(h.sres.peer_software, "wharf ", 6), 0);

	/* Fresh ephemeral keys: a second session shares no key. */
	if (run_full(&h2, &cfg, NULL, 0) == 0) {
		CU_ASSERT_EQUAL(h2.rc, 0);
		CU_ASSERT_NOT_EQUAL(
		    memcmp(h.cres.tx_key, h2.cres.tx_key, HS_SESSION_KEY_LEN),
		    0);
		CU_ASSERT_NOT_EQUAL(
		    memcmp(h.c.eph_pk, h2.c.eph_pk, WIRE_KEY_LEN), 0);
	}
	run_cleanup(&h2);
out:
	run_cleanup(&h);
}

static void
test_feature_subset(void)
{
	struct hs_server_config cfg;
	struct hs_run h;

	server_config(&cfg, NULL, 0);
	if (run_until_server(&h, &cfg, NULL, 0, WIRE_FEAT_ZSTD) == 0 &&
	    run_client(&h) == 0) {
		CU_ASSERT_EQUAL(h.rc, 0);
		CU_ASSERT(h.cres.features == WIRE_FEAT_ZSTD);
		CU_ASSERT(h.sres.features == WIRE_FEAT_ZSTD);
	}
	run_cleanup(&h);
	cfg.features = WIRE_FEAT_SHA256;
	if (run_until_server(&h, &cfg, NULL, 0, WIRE_FEATURES_ALL) == 0 &&
	    run_client(&h) == 0) {
		CU_ASSERT_EQUAL(h.rc, 0);
		CU_ASSERT(h.cres.features == WIRE_FEAT_SHA256);
	}
	run_cleanup(&h);
}

static void
test_psk_same(void)
{
	struct hs_server_config cfg;
	struct hs_run h;

	server_config(&cfg, psk_a, 0);
	if (run_full(&h, &cfg, psk_a, 0) == 0) {
		CU_ASSERT_EQUAL(h.rs, 0);
		TU_CHECK(h.rc == 0, "client: %d (%s)", h.rc, h.why);
		assert_keys_match(&h);
		CU_ASSERT(h.cres.psk_required);
		CU_ASSERT(h.sres.psk_required);
	}
	run_cleanup(&h);
}

static void
expect_psk_failure(const uint8_t *server_psk, const uint8_t *client_psk)
{
	struct hs_server_config cfg;
	struct hs_run h;

	server_config(&cfg, server_psk, 0);
	if (run_full(&h, &cfg, client_psk, 0) == 0) {
		TU_CHECK(h.rc == WH_ERR_PSK, "client: %d (%s)", h.rc, h.why);
		CU_ASSERT_NOT_EQUAL(h.why[0], '\0');
		/* Nothing usable is left behind on failure. */
		CU_ASSERT(sodium_is_zero(h.cres.tx_key, HS_SESSION_KEY_LEN));
		CU_ASSERT(sodium_is_zero(h.cres.rx_key, HS_SESSION_KEY_LEN));
	}
	run_cleanup(&h);
}

static void
test_psk_required_missing(void)
{
	expect_psk_failure(psk_a, NULL);
}

static void
test_psk_different(void)
{
	expect_psk_failure(psk_a, psk_b);
}

static void
test_psk_unexpected(void)
{
	expect_psk_failure(NULL, psk_a);
}

/* Every byte of the server's payload, flipped three ways. */
static void
tamper_reply(const uint8_t *server_psk, const uint8_t *client_psk)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	struct hs_server_config cfg;
	struct hs_run h;
	const uint8_t *frame;
	uint8_t *copy = NULL, spreface[WIRE_PREFACE_LEN];
	size_t len, i, m;
	int r, bad = 0;

	server_config(&cfg, server_psk, 0);
	if (run_until_server(&h, &cfg, client_psk, 0, WIRE_FEATURES_ALL) != 0)
		goto out;
	TU_CHECK(h.rs == 0, "server: %d", h.rs);
	if (h.rs != 0 || reply_frame(h.reply, &frame, &len) != 0 ||
	    (copy = malloc(len)) == NULL) {
		CU_FAIL("no server reply to tamper with");
		goto out;
	}
	for (i = 0; i < len && bad < 5; i++) {
		for (m = 0; m < sizeof(masks); m++) {
			memcpy(copy, frame, len);
			copy[i] ^= masks[m];
			r = client_finish(&h, buf_ptr(h.reply), copy, len);
			if (r == WH_ERR_AUTH || r == WH_ERR_PROTOCOL ||
			    (r == WH_ERR_PSK && server_psk != NULL))
				continue;
			bad++;
			TU_CHECK(0, "byte %zu of %zu ^ 0x%02x: client: %d (%s)",
			    i, len, masks[m], r, h.why);
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* Cut short anywhere. */
	for (i = 1; i < len; i++) {
		r = client_finish(&h, buf_ptr(h.reply), frame, i);
		TU_CHECK(r != 0, "reply cut to %zu bytes accepted", i);
	}
	/* The server preface is part of the transcript too. */
	for (i = 0; i < WIRE_PREFACE_LEN; i++) {
		memcpy(spreface, buf_ptr(h.reply), sizeof(spreface));
		spreface[i] ^= 0x01;
		r = client_finish(&h, spreface, frame, len);
		TU_CHECK(
		    r != 0, "server preface byte %zu flipped: accepted", i);
	}
	/* And the untouched reply still works: the flips were the cause. */
	r = client_finish(&h, buf_ptr(h.reply), frame, len);
	TU_CHECK(r == 0, "untampered reply: %d (%s)", r, h.why);
out:
	free(copy);
	run_cleanup(&h);
}

static void
test_tamper_server_reply(void)
{
	tamper_reply(NULL, NULL);
}

static void
test_tamper_server_reply_psk(void)
{
	tamper_reply(psk_a, psk_a);
}

/* Flips one byte of the ClientHello as the server sees it, at the first
 * occurrence of needle (plus skip bytes). The server still answers; the
 * client must notice that the transcripts differ. */
static void
tamper_hello(
    const void *needle, size_t needle_len, size_t skip, const char *what)
{
	struct hs_server_config cfg;
	struct hs_run h;
	const uint8_t *hello, *at;
	uint8_t *copy = NULL;
	size_t len;

	server_config(&cfg, NULL, 0);
	memset(&h, 0, sizeof(h));
	if (hs_client_init(&h.c, NULL, 0, WIRE_FEATURES_ALL) != 0 ||
	    sent_hello(&h.c, &hello, &len) != 0 ||
	    (h.reply = buf_new(WIRE_FRAME_MAX_PREAUTH)) == NULL ||
	    (copy = malloc(len)) == NULL) {
		CU_FAIL("setup");
		goto out;
	}
	if (needle == NULL)
		needle = h.c.eph_pk;
	at = memmem(hello, len, needle, needle_len);
	TU_CHECK(at != NULL && (size_t)(at - hello) + skip < len,
	    "%s not found in the ClientHello", what);
	if (at == NULL || (size_t)(at - hello) + skip >= len)
		goto out;
	memcpy(copy, hello, len);
	copy[(size_t)(at - hello) + skip] ^= 0x01;
	h.rs = hs_server_respond(
	    &cfg, buf_ptr(h.c.sent), copy, len, h.reply, &h.sres);
	TU_CHECK(h.rs == 0, "%s: server refused (%d)", what, h.rs);
	if (h.rs != 0 || run_client(&h) != 0)
		goto out;
	TU_CHECK(
	    h.rc == WH_ERR_AUTH, "%s: client said %d (%s)", what, h.rc, h.why);
out:
	free(copy);
	run_cleanup(&h);
}

static void
test_tamper_client_hello(void)
{
	const uint8_t features_field[2] = { 0x18, (uint8_t)WIRE_FEATURES_ALL };

	/* Inside the ephemeral key: a man in the middle's key swap. */
	tamper_hello(NULL, WIRE_KEY_LEN, 5, "ephemeral key");
	/* The offered feature bits (field 3, one varint byte) with one bit
	 * flipped: a downgrade the signature must catch. */
	tamper_hello(features_field, 2, 1, "features");
	tamper_hello("wharf ", 6, 1, "software");
}

static void
test_plaintext_refused(void)
{
	struct hs_server_config cfg;
	struct hs_run h;

	server_config(&cfg, NULL, 0);
	if (run_until_server(&h, &cfg, NULL, 1, WIRE_FEATURES_ALL) == 0) {
		CU_ASSERT_NOT_EQUAL(h.rs, 0);
		if (run_client(&h) == 0) {
			TU_CHECK(h.rc == WH_ERR_REMOTE, "client: %d (%s)", h.rc,
			    h.why);
			CU_ASSERT_PTR_NOT_NULL(strstr(h.why, "plaintext"));
		}
	}
	run_cleanup(&h);
}

static void
test_plaintext_allowed(void)
{
	struct hs_server_config cfg;
	struct hs_run h;

	server_config(&cfg, NULL, 1);
	if (run_full(&h, &cfg, NULL, 1) == 0) {
		CU_ASSERT_EQUAL(h.rs, 0);
		TU_CHECK(h.rc == 0, "client: %d (%s)", h.rc, h.why);
		CU_ASSERT(h.cres.plaintext);
		CU_ASSERT(h.sres.plaintext);
	}
	run_cleanup(&h);
	/* Allowed is not imposed: a client that did not ask stays sealed. */
	if (run_full(&h, &cfg, NULL, 0) == 0) {
		CU_ASSERT_EQUAL(h.rc, 0);
		CU_ASSERT_FALSE(h.cres.plaintext);
		CU_ASSERT_FALSE(h.sres.plaintext);
	}
	run_cleanup(&h);
}

/* A ClientHello whose range is not the preface's (1..1 against 7..9) is a
 * broken client, told so: not "unsupported version", which would send its
 * user looking for another server. */
static void
test_hello_range_differs(void)
{
	struct hs_server_config cfg;
	struct hs_run h;
	const uint8_t *hello;
	uint8_t cpreface[WIRE_PREFACE_LEN];
	size_t len;

	server_config(&cfg, NULL, 0);
	memset(&h, 0, sizeof(h));
	if (hs_client_init(&h.c, NULL, 0, WIRE_FEATURES_ALL) != 0 ||
	    sent_hello(&h.c, &hello, &len) != 0 ||
	    (h.reply = buf_new(WIRE_FRAME_MAX_PREAUTH)) == NULL) {
		CU_FAIL("setup");
		goto out;
	}
	wire_preface_encode(cpreface, 7, 9);
	h.rs = hs_server_respond(&cfg, cpreface, hello, len, h.reply, &h.sres);
	CU_ASSERT_NOT_EQUAL(h.rs, 0);
	if (run_client(&h) != 0)
		goto out;
	TU_CHECK(h.rc == WH_ERR_REMOTE, "client: %d (%s)", h.rc, h.why);
	TU_CHECK(strstr(h.why, "differs from the preface") != NULL, "why: %s",
	    h.why);
out:
	run_cleanup(&h);
}

/* A ClientHello that is consistent with its 7..9 preface: only the
 * version choice itself can refuse it. */
static void
test_unsupported_version_consistent(void)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__ClientHello ch;
	struct hs_server_config cfg;
	struct hs_run h;
	uint8_t cpreface[WIRE_PREFACE_LEN], key[WIRE_KEY_LEN], sk[WIRE_KEY_LEN];
	struct buf *hello = buf_new(WIRE_FRAME_MAX_PREAUTH);

	/* Not the INIT macro: it casts const away, which clang flags. */
	wharf__client_hello__init(&ch);
	server_config(&cfg, NULL, 0);
	memset(&h, 0, sizeof(h));
	crypto_box_keypair(key, sk);
	ch.min_version = 7;
	ch.max_version = 9;
	ch.features = WIRE_FEATURES_ALL;
	ch.ephemeral_key.data = key;
	ch.ephemeral_key.len = sizeof(key);
	env.body_case = WHARF__ENVELOPE__BODY_CLIENT_HELLO;
	env.client_hello = &ch;
	if (hello == NULL ||
	    msg_pack(&env, hello, 0, WIRE_FRAME_MAX_PREAUTH) != 0 ||
	    hs_client_init(&h.c, NULL, 0, WIRE_FEATURES_ALL) != 0 ||
	    (h.reply = buf_new(WIRE_FRAME_MAX_PREAUTH)) == NULL) {
		CU_FAIL("setup");
		goto out;
	}
	wire_preface_encode(cpreface, 7, 9);
	h.rs = hs_server_respond(
	    &cfg, cpreface, buf_ptr(hello), buf_len(hello), h.reply, &h.sres);
	CU_ASSERT_NOT_EQUAL(h.rs, 0);
	CU_ASSERT(sodium_is_zero(h.sres.tx_key, HS_SESSION_KEY_LEN));
	if (run_client(&h) != 0)
		goto out;
	TU_CHECK(h.rc == WH_ERR_REMOTE, "client: %d (%s)", h.rc, h.why);
	TU_CHECK(
	    strstr(h.why, "unsupported version") != NULL, "why: %s", h.why);
out:
	sodium_memzero(sk, sizeof(sk));
	buf_free(hello);
	run_cleanup(&h);
}

static void
test_busy_and_bad_server(void)
{
	struct hs_run h;
	const uint8_t *frame;
	uint8_t spreface[WIRE_PREFACE_LEN];
	size_t len;
	int r;

	memset(&h, 0, sizeof(h));
	if (hs_client_init(&h.c, NULL, 0, WIRE_FEATURES_ALL) != 0 ||
	    (h.reply = buf_new(WIRE_FRAME_MAX_PREAUTH)) == NULL) {
		CU_FAIL("setup");
		goto out;
	}
	r = hs_server_refuse(h.reply, WHARF__ERROR_CODE__BUSY, "too many");
	CU_ASSERT_EQUAL(r, 0);
	if (run_client(&h) != 0 || reply_frame(h.reply, &frame, &len) != 0)
		goto out;
	CU_ASSERT_EQUAL(h.rc, WH_ERR_BUSY);
	CU_ASSERT_PTR_NOT_NULL(strstr(h.why, "too many"));
	/* Something else answering on the port. */
	memcpy(spreface, "SSH-2.0-Open", sizeof(spreface));
	CU_ASSERT_EQUAL(client_finish(&h, spreface, frame, len), WH_ERR_FORMAT);
out:
	run_cleanup(&h);
}

static void
test_server_rejects_bad_hello(void)
{
	static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0x0f };
	struct hs_server_config cfg;
	struct hs_run h;
	const uint8_t *hello;
	uint8_t *eph;
	size_t len;

	server_config(&cfg, NULL, 0);
	memset(&h, 0, sizeof(h));
	if (hs_client_init(&h.c, NULL, 0, WIRE_FEATURES_ALL) != 0 ||
	    (h.reply = buf_new(WIRE_FRAME_MAX_PREAUTH)) == NULL) {
		CU_FAIL("setup");
		goto out;
	}
	h.rs = hs_server_respond(&cfg, buf_ptr(h.c.sent), garbage,
	    sizeof(garbage), h.reply, &h.sres);
	CU_ASSERT_NOT_EQUAL(h.rs, 0);
	CU_ASSERT(sodium_is_zero(h.sres.tx_key, HS_SESSION_KEY_LEN));
	if (run_client(&h) == 0)
		CU_ASSERT_EQUAL(h.rc, WH_ERR_REMOTE);
	run_cleanup(&h);

	/* A low-order (all-zero) X25519 key cannot force a known secret. */
	memset(&h, 0, sizeof(h));
	if (hs_client_init(&h.c, NULL, 0, WIRE_FEATURES_ALL) != 0 ||
	    sent_hello(&h.c, &hello, &len) != 0 ||
	    (h.reply = buf_new(WIRE_FRAME_MAX_PREAUTH)) == NULL) {
		CU_FAIL("setup");
		goto out;
	}
	eph = memmem(buf_mutable_ptr(h.c.sent), buf_len(h.c.sent), h.c.eph_pk,
	    WIRE_KEY_LEN);
	if (eph == NULL) {
		CU_FAIL("ephemeral key not found in the ClientHello");
		goto out;
	}
	memset(eph, 0, WIRE_KEY_LEN);
	h.rs = hs_server_respond(
	    &cfg, buf_ptr(h.c.sent), hello, len, h.reply, &h.sres);
	CU_ASSERT_NOT_EQUAL(h.rs, 0);
	CU_ASSERT(sodium_is_zero(h.sres.tx_key, HS_SESSION_KEY_LEN));
	if (run_client(&h) == 0)
		CU_ASSERT_EQUAL(h.rc, WH_ERR_REMOTE);
out:
	run_cleanup(&h);
}

struct server_thread {
	struct wire_io *io;
	struct hs_server_config cfg;
	struct hs_result res;
	char why[HS_WHY_MAX];
	int rc;
};

static void *
server_main(void *arg)
{
	struct server_thread *st = arg;

	st->rc =
	    hs_server_run(st->io, &st->cfg, &st->res, st->why, sizeof(st->why));
	return NULL;
}

static void
test_socket_drivers(void)
{
	struct server_thread st;
	struct wire_io *cio = NULL;
	struct hs_client c;
	struct hs_result res;
	char why[HS_WHY_MAX];
	pthread_t th;
	int sv[2], r;

	memset(&st, 0, sizeof(st));
	memset(&c, 0, sizeof(c));
	server_config(&st.cfg, psk_b, 0);
	CU_ASSERT_EQUAL_FATAL(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	if ((st.io = wire_io_new(sv[0])) == NULL)
		close(sv[0]);
	if ((cio = wire_io_new(sv[1])) == NULL)
		close(sv[1]);
	if (st.io == NULL || cio == NULL) {
		CU_FAIL("wire_io_new");
		goto out;
	}
	wire_io_set_timeout(st.io, HS_IO_TIMEOUT_MS);
	wire_io_set_timeout(cio, HS_IO_TIMEOUT_MS);
	if (hs_client_init(&c, psk_b, 0, WIRE_FEATURES_ALL) != 0) {
		CU_FAIL("hs_client_init");
		goto out;
	}
	if (pthread_create(&th, NULL, server_main, &st) != 0) {
		CU_FAIL("pthread_create");
		goto out;
	}
	r = hs_client_run(cio, &c, &res, why, sizeof(why));
	pthread_join(th, NULL);
	TU_CHECK(r == 0, "client: %d (%s)", r, why);
	TU_CHECK(st.rc == 0, "server: %d (%s)", st.rc, st.why);
	if (r == 0 && st.rc == 0) {
		CU_ASSERT_EQUAL(
		    memcmp(res.tx_key, st.res.rx_key, HS_SESSION_KEY_LEN), 0);
		CU_ASSERT_EQUAL(
		    memcmp(res.rx_key, st.res.tx_key, HS_SESSION_KEY_LEN), 0);
		CU_ASSERT_EQUAL(
		    memcmp(res.host_pk, hs_key.pk, KEYS_HOST_PK_LEN), 0);
		CU_ASSERT(res.psk_required);
	}
	hs_result_wipe(&res);
	hs_result_wipe(&st.res);
out:
	hs_client_cleanup(&c);
	wire_io_free(st.io);
	wire_io_free(cio);
}

void
register_handshake_tests(void)
{
	CU_pSuite s = CU_add_suite("handshake", hs_suite_init, hs_suite_clean);

	if (s == NULL)
		return;
	CU_add_test(s, "good handshake: keys cross over", test_good_handshake);
	CU_add_test(s, "features: accepted subset", test_feature_subset);
	CU_add_test(s, "PSK on both sides", test_psk_same);
	CU_add_test(
	    s, "PSK required, client has none", test_psk_required_missing);
	CU_add_test(s, "PSKs differ", test_psk_different);
	CU_add_test(s, "client PSK, server none", test_psk_unexpected);
	CU_add_test(s, "tampered server reply", test_tamper_server_reply);
	CU_add_test(
	    s, "tampered server reply (PSK)", test_tamper_server_reply_psk);
	CU_add_test(s, "tampered ClientHello", test_tamper_client_hello);
	CU_add_test(s, "plaintext refused", test_plaintext_refused);
	CU_add_test(s, "plaintext allowed", test_plaintext_allowed);
	CU_add_test(s, "hello range differs from the preface",
	    test_hello_range_differs);
	CU_add_test(s, "unsupported version, consistent hello",
	    test_unsupported_version_consistent);
	CU_add_test(
	    s, "busy server, not a wharf server", test_busy_and_bad_server);
	CU_add_test(s, "server rejects a bad ClientHello",
	    test_server_rejects_bad_hello);
	CU_add_test(s, "socket drivers over a socketpair", test_socket_drivers);
}
