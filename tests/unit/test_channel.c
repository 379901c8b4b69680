/* SPDX-License-Identifier: MIT */
/*
 * Sealed frames and the channel over them: round trips, and a flipped,
 * replayed or reordered frame refused. After one bad frame a channel stays
 * poisoned. A channel pair over a socketpair, keyed by a real handshake,
 * carries envelopes that do not show on the wire.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <sodium.h>

#include "wharf/accel.h"
#include "wharf/buf.h"
#include "wharf/channel.h"
#include "wharf/handshake.h"
#include "wharf/io.h"
#include "wharf/msg.h"
#include "wharf/wire.h"

#include "suites.h"

#define CH_IO_TIMEOUT_MS 5000
#define CH_MARKER "plaintext marker: this must never be on the wire"

static void
pattern(uint8_t *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 13u + seed);
}

static void
test_seal_round_trip(void)
{
	uint8_t key[crypto_secretbox_KEYBYTES], mac[SEAL_MAC_LEN];
	uint8_t orig[100], data[100], first[100];
	struct seal tx, rx;
	unsigned i;

	randombytes_buf(key, sizeof(key));
	pattern(orig, sizeof(orig), 1);
	seal_init(&tx, key);
	seal_init(&rx, key);
	for (i = 0; i < 4; i++) {
		memcpy(data, orig, sizeof(data));
		CU_ASSERT_EQUAL(seal_close(&tx, mac, data, sizeof(data)), 0);
		CU_ASSERT_NOT_EQUAL(memcmp(data, orig, sizeof(data)), 0);
		/* Same plaintext, next counter: different ciphertext. */
		if (i == 0)
			memcpy(first, data, sizeof(first));
		else
			CU_ASSERT_NOT_EQUAL(
			    memcmp(data, first, sizeof(data)), 0);
		CU_ASSERT_EQUAL(seal_open(&rx, mac, data, sizeof(data)), 0);
		CU_ASSERT_EQUAL(memcmp(data, orig, sizeof(data)), 0);
	}
	CU_ASSERT(tx.counter == 4 && rx.counter == 4);
	/* An empty frame still carries a tag. */
	CU_ASSERT_EQUAL(seal_close(&tx, mac, data, 0), 0);
	CU_ASSERT_EQUAL(seal_open(&rx, mac, data, 0), 0);
	seal_cleanup(&tx);
	seal_cleanup(&rx);
	CU_ASSERT(tx.counter == 0);
}

static void
test_seal_tamper(void)
{
	uint8_t key[crypto_secretbox_KEYBYTES], mac[SEAL_MAC_LEN];
	uint8_t orig[40], sealed[40], data[40], m2[SEAL_MAC_LEN];
	struct seal tx, rx;
	size_t i;

	randombytes_buf(key, sizeof(key));
	pattern(orig, sizeof(orig), 2);
	seal_init(&tx, key);
	seal_init(&rx, key);
	memcpy(sealed, orig, sizeof(sealed));
	CU_ASSERT_EQUAL_FATAL(seal_close(&tx, mac, sealed, sizeof(sealed)), 0);
	for (i = 0; i < sizeof(sealed); i++) {
		memcpy(data, sealed, sizeof(data));
		data[i] ^= 0x01;
		TU_CHECK(seal_open(&rx, mac, data, sizeof(data)) == WH_ERR_AUTH,
		    "ciphertext byte %zu flipped: opened", i);
	}
	for (i = 0; i < SEAL_MAC_LEN; i++) {
		memcpy(data, sealed, sizeof(data));
		memcpy(m2, mac, sizeof(m2));
		m2[i] ^= 0x80;
		TU_CHECK(seal_open(&rx, m2, data, sizeof(data)) == WH_ERR_AUTH,
		    "tag byte %zu flipped: opened", i);
	}
	CU_ASSERT(rx.counter == 0);
	/* Failures did not move the counter: the real frame still opens. */
	memcpy(data, sealed, sizeof(data));
	CU_ASSERT_EQUAL(seal_open(&rx, mac, data, sizeof(data)), 0);
	CU_ASSERT_EQUAL(memcmp(data, orig, sizeof(data)), 0);
	/* Under another key nothing opens. */
	randombytes_buf(key, sizeof(key));
	seal_init(&rx, key);
	memcpy(data, sealed, sizeof(data));
	CU_ASSERT_EQUAL(seal_open(&rx, mac, data, sizeof(data)), WH_ERR_AUTH);
}

static void
test_seal_replay_reorder(void)
{
	uint8_t key[crypto_secretbox_KEYBYTES];
	uint8_t f1[32], f2[32], c1[32], mac1[SEAL_MAC_LEN], mac2[SEAL_MAC_LEN];
	struct seal tx, rx;

	randombytes_buf(key, sizeof(key));
	seal_init(&tx, key);
	seal_init(&rx, key);
	pattern(f1, sizeof(f1), 3);
	pattern(f2, sizeof(f2), 4);
	CU_ASSERT_EQUAL(seal_close(&tx, mac1, f1, sizeof(f1)), 0);
	CU_ASSERT_EQUAL(seal_close(&tx, mac2, f2, sizeof(f2)), 0);
	memcpy(c1, f1, sizeof(c1));

	/* Frame 2 first: refused. */
	CU_ASSERT_EQUAL(seal_open(&rx, mac2, f2, sizeof(f2)), WH_ERR_AUTH);
	CU_ASSERT_EQUAL(seal_open(&rx, mac1, f1, sizeof(f1)), 0);
	/* Frame 1 again: refused. */
	CU_ASSERT_EQUAL(seal_open(&rx, mac1, c1, sizeof(c1)), WH_ERR_AUTH);
	CU_ASSERT_EQUAL(seal_open(&rx, mac2, f2, sizeof(f2)), 0);
	CU_ASSERT(rx.counter == 2);
}

static void
test_seal_counter_end(void)
{
	uint8_t key[crypto_secretbox_KEYBYTES], mac[SEAL_MAC_LEN], d[8] = { 0 };
	struct seal s;

	randombytes_buf(key, sizeof(key));
	seal_init(&s, key);
	s.counter = UINT64_MAX;
	/* Never wrap around to a used nonce. */
	CU_ASSERT_NOT_EQUAL(seal_close(&s, mac, d, sizeof(d)), 0);
	CU_ASSERT(s.counter == UINT64_MAX);
}

/* Packs env behind room for a tag and seals it as the peer would. */
static int
sealed_payload(struct seal *tx, const Wharf__Envelope *env, struct buf *out)
{
	uint8_t *p;
	int r;

	buf_reset(out);
	if ((r = msg_pack(env, out, SEAL_MAC_LEN, WIRE_FRAME_MAX)) != 0)
		return r;
	p = buf_mutable_ptr(out);
	return seal_close(tx, p, p + SEAL_MAC_LEN, buf_len(out) - SEAL_MAC_LEN);
}

static struct channel *
channel_on_socketpair(int *peer)
{
	struct wire_io *io;
	struct channel *ch;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return NULL;
	if ((io = wire_io_new(sv[0])) == NULL) {
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	wire_io_set_timeout(io, CH_IO_TIMEOUT_MS);
	if ((ch = channel_new(io)) == NULL) {
		wire_io_free(io);
		close(sv[1]);
		return NULL;
	}
	*peer = sv[1];
	return ch;
}

static void
ping_env(Wharf__Envelope *env, Wharf__Ping *ping, uint32_t id,
    const void *payload, size_t len)
{
	Wharf__Envelope e = WHARF__ENVELOPE__INIT;
	Wharf__Ping p = WHARF__PING__INIT;

	*env = e;
	*ping = p;
	ping->payload.data = (uint8_t *)(uintptr_t)payload;
	ping->payload.len = len;
	env->id = id;
	env->body_case = WHARF__ENVELOPE__BODY_PING;
	env->ping = ping;
}

static void
test_decode_poisoned(void)
{
	Wharf__Envelope env, *got = NULL;
	Wharf__Ping ping;
	struct hs_result res;
	struct channel *ch = NULL;
	struct buf *f = NULL, *g = NULL;
	struct seal peer;
	uint8_t tiny[SEAL_MAC_LEN - 1] = { 0 };
	int fd = -1;

	memset(&res, 0, sizeof(res));
	randombytes_buf(res.tx_key, sizeof(res.tx_key));
	randombytes_buf(res.rx_key, sizeof(res.rx_key));
	seal_init(&peer, res.rx_key);
	f = buf_new(WIRE_FRAME_MAX);
	g = buf_new(WIRE_FRAME_MAX);
	if (f == NULL || g == NULL ||
	    (ch = channel_on_socketpair(&fd)) == NULL) {
		CU_FAIL("setup");
		goto out;
	}
	channel_start(ch, &res);
	CU_ASSERT(channel_is_sealed(ch));

	ping_env(&env, &ping, 1, "one", 3);
	CU_ASSERT_EQUAL_FATAL(sealed_payload(&peer, &env, f), 0);
	CU_ASSERT_EQUAL(
	    channel_decode(ch, buf_mutable_ptr(f), buf_len(f), &got), 0);
	CU_ASSERT(got != NULL && got->id == 1 &&
	    got->body_case == WHARF__ENVELOPE__BODY_PING);
	msg_free(got);
	got = NULL;

	/* Frame 2, one bit off, then the same frame intact. */
	ping_env(&env, &ping, 2, "two", 3);
	CU_ASSERT_EQUAL_FATAL(sealed_payload(&peer, &env, f), 0);
	CU_ASSERT_EQUAL_FATAL(buf_put(g, buf_ptr(f), buf_len(f)), 0);
	buf_mutable_ptr(f)[buf_len(f) - 1] ^= 0x01;
	CU_ASSERT_EQUAL(
	    channel_decode(ch, buf_mutable_ptr(f), buf_len(f), &got),
	    WH_ERR_AUTH);
	CU_ASSERT_PTR_NULL(got);
	CU_ASSERT_EQUAL(
	    channel_decode(ch, buf_mutable_ptr(g), buf_len(g), &got),
	    WH_ERR_AUTH);
	CU_ASSERT_PTR_NULL(got);
	msg_free(got);
	got = NULL;
	/* Poisoned for sending and receiving too. */
	CU_ASSERT_EQUAL(channel_send(ch, &env), WH_ERR_AUTH);
	CU_ASSERT_EQUAL(channel_recv(ch, &got), WH_ERR_AUTH);
	msg_free(got);
	got = NULL;
	channel_free(ch);
	close(fd);
	fd = -1;

	/* A payload too short to hold a tag poisons as well. */
	if ((ch = channel_on_socketpair(&fd)) == NULL) {
		CU_FAIL("setup");
		goto out;
	}
	channel_start(ch, &res);
	seal_init(&peer, res.rx_key);
	CU_ASSERT_EQUAL(
	    channel_decode(ch, tiny, sizeof(tiny), &got), WH_ERR_AUTH);
	ping_env(&env, &ping, 3, "three", 5);
	CU_ASSERT_EQUAL_FATAL(sealed_payload(&peer, &env, f), 0);
	CU_ASSERT_EQUAL(
	    channel_decode(ch, buf_mutable_ptr(f), buf_len(f), &got),
	    WH_ERR_AUTH);
	msg_free(got);
	got = NULL;
	channel_free(ch);
	ch = NULL;
	close(fd);
	fd = -1;

	/* A replayed frame is refused and poisons. */
	if ((ch = channel_on_socketpair(&fd)) == NULL) {
		CU_FAIL("setup");
		goto out;
	}
	channel_start(ch, &res);
	seal_init(&peer, res.rx_key);
	ping_env(&env, &ping, 4, "four", 4);
	CU_ASSERT_EQUAL_FATAL(sealed_payload(&peer, &env, f), 0);
	buf_reset(g);
	CU_ASSERT_EQUAL_FATAL(buf_put(g, buf_ptr(f), buf_len(f)), 0);
	CU_ASSERT_EQUAL(
	    channel_decode(ch, buf_mutable_ptr(f), buf_len(f), &got), 0);
	msg_free(got);
	got = NULL;
	CU_ASSERT_EQUAL(
	    channel_decode(ch, buf_mutable_ptr(g), buf_len(g), &got),
	    WH_ERR_AUTH);
	msg_free(got);
out:
	seal_cleanup(&peer);
	channel_free(ch);
	if (fd >= 0)
		close(fd);
	buf_free(f);
	buf_free(g);
}

/* A ListPart of n empty entries: 2 bytes each on the wire. */
static int
sealed_empty_entries(struct seal *tx, size_t n, struct buf *out)
{
	static Wharf__FileInfo none = WHARF__FILE_INFO__INIT;
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__ListPart lp = WHARF__LIST_PART__INIT;
	Wharf__FileInfo **ptrs = malloc(n * sizeof(*ptrs));
	size_t i;
	int r;

	if (ptrs == NULL)
		return WH_ERR_NOMEM;
	for (i = 0; i < n; i++)
		ptrs[i] = &none;
	lp.n_entries = n;
	lp.entries = ptrs;
	env.body_case = WHARF__ENVELOPE__BODY_LIST_PART;
	env.list_part = &lp;
	r = sealed_payload(tx, &env, out);
	free(ptrs);
	return r;
}

#define CH_LIGHT_ENTRIES 4000 /* 8 KiB: ~560 KiB decoded */
#define CH_HEAVY_ENTRIES (2u << 20) /* 4 MiB: ~280 MiB decoded */

static void
test_decode_budget(void)
{
	static const struct {
		size_t entries, limit;
		int want;
	} cases[] = {
		/* Before login the budget is as small as the frames. */
		{ CH_LIGHT_ENTRIES, 0, WH_ERR_FORMAT },
		{ CH_LIGHT_ENTRIES, WIRE_FRAME_MAX, 0 },
		/* After it, what a hostile server (or client) sends to the
		 * peer's channel is refused as malformed, and the channel
		 * goes on. */
		{ CH_HEAVY_ENTRIES, WIRE_FRAME_MAX, WH_ERR_FORMAT },
	};
	Wharf__Envelope env, *got = NULL;
	Wharf__Ping ping;
	struct hs_result res;
	struct channel *ch = NULL;
	struct buf *f = NULL;
	struct seal peer;
	size_t i;
	int fd = -1;

	memset(&res, 0, sizeof(res));
	randombytes_buf(res.tx_key, sizeof(res.tx_key));
	randombytes_buf(res.rx_key, sizeof(res.rx_key));
	seal_init(&peer, res.rx_key);
	if ((f = buf_new(WIRE_FRAME_MAX)) == NULL ||
	    (ch = channel_on_socketpair(&fd)) == NULL) {
		CU_FAIL("setup");
		goto out;
	}
	channel_start(ch, &res);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].limit != 0)
			channel_set_limit(ch, cases[i].limit);
		CU_ASSERT_EQUAL_FATAL(
		    sealed_empty_entries(&peer, cases[i].entries, f), 0);
		TU_CHECK(channel_decode(ch, buf_mutable_ptr(f), buf_len(f),
		             &got) == cases[i].want,
		    "%zu empty entries, frame limit %zu", cases[i].entries,
		    cases[i].limit);
		msg_free(got);
		got = NULL;
		ping_env(&env, &ping, 1, "on", 2);
		CU_ASSERT_EQUAL_FATAL(sealed_payload(&peer, &env, f), 0);
		CU_ASSERT_EQUAL(
		    channel_decode(ch, buf_mutable_ptr(f), buf_len(f), &got),
		    0);
		msg_free(got);
		got = NULL;
	}
out:
	seal_cleanup(&peer);
	channel_free(ch);
	if (fd >= 0)
		close(fd);
	buf_free(f);
}

/* A matching pair of handshake results from the step functions. */
static int
handshake_pair_ex(struct hs_result *cres, struct hs_result *sres, int plaintext,
    uint64_t client_features, unsigned server_ciphers)
{
	struct hs_server_config cfg;
	struct host_key hk;
	struct hs_client c;
	struct buf *reply = NULL;
	char why[HS_WHY_MAX];
	size_t n;
	int r = -1;

	crypto_sign_keypair(hk.pk, hk.sk);
	memset(&cfg, 0, sizeof(cfg));
	cfg.host_key = &hk;
	cfg.allow_plaintext = plaintext;
	cfg.features = WIRE_FEATURES_ALL | WIRE_FEAT_AES256GCM;
	cfg.ciphers = server_ciphers;
	memset(&c, 0, sizeof(c));
	if (hs_client_init(&c, NULL, plaintext, client_features) != 0 ||
	    (reply = buf_new(WIRE_FRAME_MAX_PREAUTH)) == NULL)
		goto out;
	n = buf_len(c.sent) - WIRE_PREFACE_LEN - WIRE_FRAME_HEADER;
	if (hs_server_respond(&cfg, buf_ptr(c.sent),
	        buf_ptr(c.sent) + WIRE_PREFACE_LEN + WIRE_FRAME_HEADER, n,
	        reply, sres) != 0)
		goto out;
	n = buf_len(reply) - WIRE_PREFACE_LEN - WIRE_FRAME_HEADER;
	if (hs_client_finish(&c, buf_ptr(reply),
	        buf_ptr(reply) + WIRE_PREFACE_LEN + WIRE_FRAME_HEADER, n, cres,
	        why, sizeof(why)) != 0)
		goto out;
	r = 0;
out:
	hs_client_cleanup(&c);
	buf_free(reply);
	keys_host_wipe(&hk);
	return r;
}

static int
handshake_pair(struct hs_result *cres, struct hs_result *sres, int plaintext)
{
	return handshake_pair_ex(cres, sres, plaintext, WIRE_FEATURES_ALL, 0);
}

struct chan_pair {
	struct channel *a, *b;
};

static int
chan_pair_open(
    struct chan_pair *p, const struct hs_result *ra, const struct hs_result *rb)
{
	struct wire_io *ia = NULL, *ib = NULL;
	int sv[2];

	p->a = p->b = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	if ((ia = wire_io_new(sv[0])) == NULL)
		close(sv[0]);
	if ((ib = wire_io_new(sv[1])) == NULL)
		close(sv[1]);
	if (ia != NULL)
		wire_io_set_timeout(ia, CH_IO_TIMEOUT_MS);
	if (ib != NULL)
		wire_io_set_timeout(ib, CH_IO_TIMEOUT_MS);
	if (ia != NULL && (p->a = channel_new(ia)) == NULL)
		wire_io_free(ia);
	if (ib != NULL && (p->b = channel_new(ib)) == NULL)
		wire_io_free(ib);
	if (p->a == NULL || p->b == NULL) {
		channel_free(p->a);
		channel_free(p->b);
		p->a = p->b = NULL;
		return -1;
	}
	channel_start(p->a, ra);
	channel_start(p->b, rb);
	return 0;
}

static void
chan_pair_close(struct chan_pair *p)
{
	channel_free(p->a);
	channel_free(p->b);
	p->a = p->b = NULL;
}

static void
test_channel_pair(void)
{
	struct hs_result cres, sres;
	struct chan_pair p = { NULL, NULL };
	Wharf__Envelope env, *got = NULL;
	Wharf__Pong pong = WHARF__PONG__INIT;
	Wharf__Ping ping;
	uint8_t payload[64];
	uint32_t id;

	if (handshake_pair(&cres, &sres, 0) != 0 ||
	    chan_pair_open(&p, &cres, &sres) != 0) {
		CU_FAIL("setup");
		goto out;
	}
	CU_ASSERT(channel_is_sealed(p.a));
	CU_ASSERT(channel_is_sealed(p.b));
	for (id = 1; id <= 5; id++) {
		pattern(payload, sizeof(payload), id);
		ping_env(&env, &ping, id, payload, sizeof(payload));
		CU_ASSERT_EQUAL(channel_send(p.a, &env), 0);
		CU_ASSERT_EQUAL_FATAL(channel_recv(p.b, &got), 0);
		CU_ASSERT_EQUAL(got->id, id);
		CU_ASSERT_EQUAL_FATAL(
		    got->body_case, WHARF__ENVELOPE__BODY_PING);
		CU_ASSERT(got->ping->payload.len == sizeof(payload) &&
		    memcmp(got->ping->payload.data, payload, sizeof(payload)) ==
		        0);
		msg_free(got);
		got = NULL;
		/* And back the other way. */
		env.body_case = WHARF__ENVELOPE__BODY_PONG;
		pong.payload.data = payload;
		pong.payload.len = id;
		env.pong = &pong;
		CU_ASSERT_EQUAL(channel_send(p.b, &env), 0);
		CU_ASSERT_EQUAL_FATAL(channel_recv(p.a, &got), 0);
		CU_ASSERT_EQUAL(got->id, id);
		CU_ASSERT_EQUAL(got->body_case, WHARF__ENVELOPE__BODY_PONG);
		msg_free(got);
		got = NULL;
	}
	/* Several queued frames arrive in order. */
	for (id = 10; id < 13; id++) {
		ping_env(&env, &ping, id, "q", 1);
		CU_ASSERT_EQUAL(channel_send(p.a, &env), 0);
	}
	for (id = 10; id < 13; id++) {
		CU_ASSERT_EQUAL_FATAL(channel_recv(p.b, &got), 0);
		CU_ASSERT_EQUAL(got->id, id);
		msg_free(got);
		got = NULL;
	}
out:
	chan_pair_close(&p);
	hs_result_wipe(&cres);
	hs_result_wipe(&sres);
}

/* Receives one envelope on ch, which must have this id. */
static void
recv_id(struct channel *ch, uint32_t id)
{
	Wharf__Envelope *got = NULL;

	CU_ASSERT_EQUAL_FATAL(channel_recv(ch, &got), 0);
	CU_ASSERT_EQUAL(got->id, id);
	msg_free(got);
}

/*
 * Gathered frames wait until channel_flush and then arrive whole and in
 * order; a gather that grows past CHANNEL_GATHER_MAX goes out by itself;
 * and channel_recv flushes before it waits, so a side that gathers and then
 * waits for an answer cannot leave the peer waiting too; the gather goes on
 * after it until channel_flush.
 */
static void
test_channel_gather(void)
{
	struct hs_result cres, sres;
	struct chan_pair p = { NULL, NULL };
	Wharf__Envelope env, *got = NULL;
	Wharf__Pong pong = WHARF__PONG__INIT;
	Wharf__Ping ping;
	static uint8_t payload[4096];
	uint32_t id, big = CHANNEL_GATHER_MAX / sizeof(payload) + 4;

	if (handshake_pair(&cres, &sres, 0) != 0 ||
	    chan_pair_open(&p, &cres, &sres) != 0) {
		CU_FAIL("setup");
		goto out;
	}
	channel_gather(p.a);
	for (id = 1; id <= 3; id++) {
		ping_env(&env, &ping, id, "g", 1);
		CU_ASSERT_EQUAL(channel_send(p.a, &env), 0);
	}
	CU_ASSERT_EQUAL(wire_io_readable(channel_io(p.b), 50), 0);
	CU_ASSERT_EQUAL(channel_flush(p.a), 0);
	for (id = 1; id <= 3; id++)
		recv_id(p.b, id);

	/* More than a gather holds: the first part leaves on its own. */
	channel_gather(p.a);
	for (id = 1; id <= big; id++) {
		pattern(payload, sizeof(payload), id);
		ping_env(&env, &ping, id, payload, sizeof(payload));
		CU_ASSERT_EQUAL(channel_send(p.a, &env), 0);
	}
	CU_ASSERT_EQUAL(wire_io_readable(channel_io(p.b), 1000), 1);
	CU_ASSERT_EQUAL(channel_flush(p.a), 0);
	for (id = 1; id <= big; id++) {
		CU_ASSERT_EQUAL_FATAL(channel_recv(p.b, &got), 0);
		CU_ASSERT_EQUAL(got->id, id);
		pattern(payload, sizeof(payload), id);
		CU_ASSERT(got->ping->payload.len == sizeof(payload) &&
		    memcmp(got->ping->payload.data, payload, sizeof(payload)) ==
		        0);
		msg_free(got);
		got = NULL;
	}

	/* Gathering, then waiting for the peer: the wait sends first. */
	channel_gather(p.a);
	ping_env(&env, &ping, 7, "w", 1);
	CU_ASSERT_EQUAL(channel_send(p.a, &env), 0);
	env.body_case = WHARF__ENVELOPE__BODY_PONG;
	env.id = 8;
	env.pong = &pong;
	CU_ASSERT_EQUAL(channel_send(p.b, &env), 0);
	recv_id(p.a, 8);
	recv_id(p.b, 7);
	/* Still gathering after that receive: held until the flush. */
	ping_env(&env, &ping, 9, "s", 1);
	CU_ASSERT_EQUAL(channel_send(p.a, &env), 0);
	CU_ASSERT_EQUAL(wire_io_readable(channel_io(p.b), 50), 0);
	CU_ASSERT_EQUAL(channel_flush(p.a), 0);
	recv_id(p.b, 9);
	/* Flushed: not gathering any more, a frame goes at once. */
	ping_env(&env, &ping, 10, "n", 1);
	CU_ASSERT_EQUAL(channel_send(p.a, &env), 0);
	CU_ASSERT_EQUAL(wire_io_readable(channel_io(p.b), 1000), 1);
	recv_id(p.b, 10);
out:
	chan_pair_close(&p);
	hs_result_wipe(&cres);
	hs_result_wipe(&sres);
}

/* Sends one ping with CH_MARKER from a sealed or plain channel and reads
 * the frame raw off the other end of the socket. */
static void
check_wire_bytes(int plaintext)
{
	struct hs_result cres, sres;
	struct wire_io *raw = NULL;
	struct channel *a = NULL, *b = NULL;
	Wharf__Envelope env, *got = NULL;
	Wharf__Ping ping;
	uint8_t *frame;
	size_t len;
	int peer = -1, fd2 = -1, found;

	if (handshake_pair(&cres, &sres, plaintext) != 0 ||
	    (a = channel_on_socketpair(&peer)) == NULL ||
	    (raw = wire_io_new(peer)) == NULL ||
	    (b = channel_on_socketpair(&fd2)) == NULL) {
		CU_FAIL("setup");
		if (raw == NULL && peer >= 0)
			close(peer);
		goto out;
	}
	wire_io_set_timeout(raw, CH_IO_TIMEOUT_MS);
	channel_start(a, &cres);
	channel_start(b, &sres);
	CU_ASSERT_EQUAL(channel_is_sealed(a), !plaintext);
	ping_env(&env, &ping, 77, CH_MARKER, strlen(CH_MARKER));
	CU_ASSERT_EQUAL_FATAL(channel_send(a, &env), 0);
	CU_ASSERT_EQUAL_FATAL(wire_io_read_frame(raw, &frame, &len), 0);
	CU_ASSERT_EQUAL(len,
	    wharf__envelope__get_packed_size(&env) +
	        (plaintext ? 0 : SEAL_MAC_LEN));
	found = memmem(frame, len, CH_MARKER, strlen(CH_MARKER)) != NULL;
	CU_ASSERT_EQUAL(found, plaintext);
	/* The same bytes decode on the peer's channel. */
	CU_ASSERT_EQUAL(channel_decode(b, frame, len, &got), 0);
	CU_ASSERT(got != NULL && got->id == 77 &&
	    got->body_case == WHARF__ENVELOPE__BODY_PING &&
	    got->ping->payload.len == strlen(CH_MARKER));
	msg_free(got);
out:
	channel_free(a);
	channel_free(b);
	wire_io_free(raw);
	if (fd2 >= 0)
		close(fd2);
	hs_result_wipe(&cres);
	hs_result_wipe(&sres);
}

static void
test_channel_wire_sealed(void)
{
	check_wire_bytes(0);
}

static void
test_channel_wire_plaintext(void)
{
	check_wire_bytes(1);
}

static void
test_channel_wrong_keys(void)
{
	struct hs_result c1, s1, c2, s2;
	struct chan_pair p = { NULL, NULL };
	Wharf__Envelope env, *got = NULL;
	Wharf__Ping ping;

	/* Two unrelated sessions: a man in the middle without the keys. */
	if (handshake_pair(&c1, &s1, 0) != 0 ||
	    handshake_pair(&c2, &s2, 0) != 0 ||
	    chan_pair_open(&p, &c1, &s2) != 0) {
		CU_FAIL("setup");
		goto out;
	}
	ping_env(&env, &ping, 1, "x", 1);
	CU_ASSERT_EQUAL(channel_send(p.a, &env), 0);
	CU_ASSERT_EQUAL(channel_recv(p.b, &got), WH_ERR_AUTH);
	msg_free(got);
	got = NULL;
	CU_ASSERT_EQUAL(channel_send(p.a, &env), 0);
	CU_ASSERT_EQUAL(channel_recv(p.b, &got), WH_ERR_AUTH);
	msg_free(got);
out:
	chan_pair_close(&p);
	hs_result_wipe(&c1);
	hs_result_wipe(&s1);
	hs_result_wipe(&c2);
	hs_result_wipe(&s2);
}

static void
test_channel_limit(void)
{
	struct hs_result cres, sres;
	struct chan_pair p = { NULL, NULL };
	Wharf__Envelope env, *got = NULL;
	Wharf__Ping ping;
	uint8_t big[200] = { 0 };

	if (handshake_pair(&cres, &sres, 0) != 0 ||
	    chan_pair_open(&p, &cres, &sres) != 0) {
		CU_FAIL("setup");
		goto out;
	}
	ping_env(&env, &ping, 1, big, sizeof(big));
	channel_set_limit(p.a, 100);
	CU_ASSERT_EQUAL(channel_send(p.a, &env), WH_ERR_TOO_LARGE);
	/* The receiver enforces its own limit on what arrives. */
	channel_set_limit(p.a, WIRE_FRAME_MAX);
	channel_set_limit(p.b, 100);
	CU_ASSERT_EQUAL(channel_send(p.a, &env), 0);
	CU_ASSERT_EQUAL(channel_recv(p.b, &got), WH_ERR_TOO_LARGE);
	msg_free(got);
out:
	chan_pair_close(&p);
	hs_result_wipe(&cres);
	hs_result_wipe(&sres);
}

/* --- AES-256-GCM (protocol.md §5.1) */

/* The frame as §5.1 defines it, computed with OpenSSL's one-shot calls
 * and nothing of channel.c: nonce u32(dir) || u64(counter), AAD the u32
 * frame length (tag + ciphertext). */
static int
gcm_reference(const uint8_t key[32], unsigned dir, uint64_t ctr,
    const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16])
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t nonce[12], aad[4];
	size_t n = len + 16;
	int k = 0, ok, i;

	for (i = 0; i < 4; i++)
		nonce[i] = (uint8_t)(dir >> (24 - 8 * i));
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(ctr >> (56 - 8 * i));
	aad[0] = (uint8_t)(n >> 24);
	aad[1] = (uint8_t)(n >> 16);
	aad[2] = (uint8_t)(n >> 8);
	aad[3] = (uint8_t)n;
	ok = x != NULL &&
	    EVP_EncryptInit_ex(x, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
	    EVP_EncryptUpdate(x, NULL, &k, aad, 4) == 1 &&
	    EVP_EncryptUpdate(x, out, &k, in, (int)len) == 1 &&
	    EVP_EncryptFinal_ex(x, out + k, &k) == 1 &&
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
	EVP_CIPHER_CTX_free(x);
	return ok ? 0 : -1;
}

static void
test_gcm_round_trip_nonces(void)
{
	uint8_t key[SEAL_KEY_LEN], mac[SEAL_MAC_LEN], ref_tag[16];
	uint8_t orig[1000], data[1000], ref[1000];
	struct seal tx, rx;
	unsigned i;

	randombytes_buf(key, sizeof(key));
	CU_ASSERT_EQUAL_FATAL(
	    seal_init_cipher(&tx, SEAL_AES256GCM, key, HS_DIR_S2C), 0);
	CU_ASSERT_EQUAL_FATAL(
	    seal_init_cipher(&rx, SEAL_AES256GCM, key, HS_DIR_S2C), 0);
	for (i = 0; i < 5; i++) {
		size_t len = i == 4 ? 0 : sizeof(orig) - i * 100;

		pattern(orig, sizeof(orig), i);
		memcpy(data, orig, sizeof(data));
		CU_ASSERT_EQUAL(seal_close(&tx, mac, data, len), 0);
		/* Frame i carries nonce (direction, i): the same bytes as
		 * the independent computation. */
		CU_ASSERT_EQUAL_FATAL(
		    gcm_reference(key, HS_DIR_S2C, i, orig, len, ref, ref_tag),
		    0);
		TU_CHECK(memcmp(data, ref, len) == 0 &&
		        memcmp(mac, ref_tag, 16) == 0,
		    "frame %u differs from the spec's nonce and AAD", i);
		if (len > 0)
			CU_ASSERT(memcmp(data, orig, len) != 0);
		CU_ASSERT_EQUAL(seal_open(&rx, mac, data, len), 0);
		CU_ASSERT(memcmp(data, orig, len) == 0);
	}
	CU_ASSERT_EQUAL(tx.counter, 5);
	CU_ASSERT_EQUAL(rx.counter, 5);
	seal_cleanup(&tx);
	seal_cleanup(&rx);
}

static void
test_gcm_tamper(void)
{
	uint8_t key[SEAL_KEY_LEN], mac[SEAL_MAC_LEN], m2[SEAL_MAC_LEN];
	uint8_t orig[300], sealed[300], data[300];
	struct seal tx, rx;
	size_t i;

	randombytes_buf(key, sizeof(key));
	pattern(orig, sizeof(orig), 9);
	memcpy(sealed, orig, sizeof(sealed));
	CU_ASSERT_EQUAL_FATAL(
	    seal_init_cipher(&tx, SEAL_AES256GCM, key, HS_DIR_C2S), 0);
	CU_ASSERT_EQUAL_FATAL(
	    seal_init_cipher(&rx, SEAL_AES256GCM, key, HS_DIR_C2S), 0);
	CU_ASSERT_EQUAL_FATAL(seal_close(&tx, mac, sealed, sizeof(sealed)), 0);
	for (i = 0; i < sizeof(sealed); i += 37) {
		memcpy(data, sealed, sizeof(data));
		data[i] ^= 0x01;
		TU_CHECK(seal_open(&rx, mac, data, sizeof(data)) == WH_ERR_AUTH,
		    "flipped byte %zu opened", i);
		/* Nothing unauthenticated is left in the buffer. */
		CU_ASSERT(memcmp(data, orig, sizeof(orig)) != 0);
	}
	for (i = 0; i < SEAL_MAC_LEN; i++) {
		memcpy(m2, mac, sizeof(m2));
		m2[i] ^= 0x80;
		memcpy(data, sealed, sizeof(data));
		TU_CHECK(seal_open(&rx, m2, data, sizeof(data)) == WH_ERR_AUTH,
		    "flipped tag byte %zu opened", i);
	}
	/* A shorter frame: the length is associated data. */
	memcpy(data, sealed, sizeof(data));
	CU_ASSERT_EQUAL(
	    seal_open(&rx, mac, data, sizeof(data) - 1), WH_ERR_AUTH);
	/* Failures did not move the counter: the real frame still opens. */
	memcpy(data, sealed, sizeof(data));
	CU_ASSERT_EQUAL(seal_open(&rx, mac, data, sizeof(data)), 0);
	CU_ASSERT(memcmp(data, orig, sizeof(orig)) == 0);
	seal_cleanup(&rx);
	/* The other direction's nonce, same key: refused. */
	CU_ASSERT_EQUAL_FATAL(
	    seal_init_cipher(&rx, SEAL_AES256GCM, key, HS_DIR_S2C), 0);
	memcpy(data, sealed, sizeof(data));
	CU_ASSERT_EQUAL(seal_open(&rx, mac, data, sizeof(data)), WH_ERR_AUTH);
	seal_cleanup(&rx);
	/* secretbox under the same key does not open it either. */
	seal_init(&rx, key);
	memcpy(data, sealed, sizeof(data));
	CU_ASSERT_EQUAL(seal_open(&rx, mac, data, sizeof(data)), WH_ERR_AUTH);
	seal_cleanup(&rx);
	seal_cleanup(&tx);
}

static void
test_gcm_replay_reorder(void)
{
	uint8_t key[SEAL_KEY_LEN], mac1[SEAL_MAC_LEN], mac2[SEAL_MAC_LEN];
	uint8_t f1[64], f2[64], c1[64], c2[64];
	struct seal tx, rx;

	randombytes_buf(key, sizeof(key));
	pattern(f1, sizeof(f1), 1);
	pattern(f2, sizeof(f2), 2);
	CU_ASSERT_EQUAL_FATAL(
	    seal_init_cipher(&tx, SEAL_AES256GCM, key, HS_DIR_C2S), 0);
	CU_ASSERT_EQUAL_FATAL(
	    seal_init_cipher(&rx, SEAL_AES256GCM, key, HS_DIR_C2S), 0);
	CU_ASSERT_EQUAL(seal_close(&tx, mac1, f1, sizeof(f1)), 0);
	CU_ASSERT_EQUAL(seal_close(&tx, mac2, f2, sizeof(f2)), 0);
	memcpy(c1, f1, sizeof(c1));
	memcpy(c2, f2, sizeof(c2));
	/* Frame 2 first: refused (reordered). */
	CU_ASSERT_EQUAL(seal_open(&rx, mac2, f2, sizeof(f2)), WH_ERR_AUTH);
	memcpy(f2, c2, sizeof(f2));
	CU_ASSERT_EQUAL(seal_open(&rx, mac1, f1, sizeof(f1)), 0);
	/* Frame 1 again: refused (replayed). */
	CU_ASSERT_EQUAL(seal_open(&rx, mac1, c1, sizeof(c1)), WH_ERR_AUTH);
	CU_ASSERT_EQUAL(seal_open(&rx, mac2, f2, sizeof(f2)), 0);
	seal_cleanup(&tx);
	seal_cleanup(&rx);
}

static void
test_cipher_names(void)
{
	unsigned bits;
	int c;

	CU_ASSERT_EQUAL(seal_cipher_parse("aes256gcm", &c), 0);
	CU_ASSERT_EQUAL(c, SEAL_AES256GCM);
	CU_ASSERT_STRING_EQUAL(seal_cipher_name(c), "aes256gcm");
	CU_ASSERT_EQUAL(seal_cipher_parse("secretbox", &c), 0);
	CU_ASSERT_EQUAL(c, SEAL_SECRETBOX);
	CU_ASSERT_NOT_EQUAL(seal_cipher_parse("aes128gcm", &c), 0);
	CU_ASSERT_EQUAL(seal_ciphers_parse("secretbox,aes256gcm", &bits), 0);
	CU_ASSERT_EQUAL(bits, HS_CIPHERS_DEFAULT);
	CU_ASSERT_EQUAL(seal_ciphers_parse("aes256gcm", &bits), 0);
	CU_ASSERT_EQUAL(bits, HS_CIPHER_BIT(SEAL_AES256GCM));
	CU_ASSERT_NOT_EQUAL(seal_ciphers_parse("", &bits), 0);
	CU_ASSERT_NOT_EQUAL(seal_ciphers_parse("secretbox,", &bits), 0);
	CU_ASSERT_NOT_EQUAL(
	    seal_ciphers_parse("secretbox,,aes256gcm", &bits), 0);
}

/* A handshake with the client offering AES-256-GCM: the server chooses it
 * (when its CPU can), both sides agree, keys differ from a secretbox
 * session's label, and a channel pair keyed by it carries frames. */
static void
test_gcm_handshake_channel(void)
{
	struct hs_result cres, sres;
	struct chan_pair p = { NULL, NULL };
	Wharf__Envelope env, *got = NULL;
	Wharf__Ping ping;
	uint8_t payload[3000];
	uint32_t id;
	int want = accel_have_aes() ? SEAL_AES256GCM : SEAL_SECRETBOX;

	if (handshake_pair_ex(&cres, &sres, 0,
	        WIRE_FEATURES_ALL | WIRE_FEAT_AES256GCM, 0) != 0) {
		CU_FAIL("handshake");
		return;
	}
	CU_ASSERT_EQUAL(cres.cipher, want);
	CU_ASSERT_EQUAL(sres.cipher, want);
	CU_ASSERT_EQUAL(
	    (cres.features & WIRE_FEAT_AES256GCM) != 0, want == SEAL_AES256GCM);
	CU_ASSERT_EQUAL(cres.tx_dir, HS_DIR_C2S);
	CU_ASSERT_EQUAL(sres.tx_dir, HS_DIR_S2C);
	CU_ASSERT(memcmp(cres.tx_key, sres.rx_key, HS_SESSION_KEY_LEN) == 0);
	CU_ASSERT(memcmp(cres.rx_key, sres.tx_key, HS_SESSION_KEY_LEN) == 0);
	/* Never XXH3 in a sealed session. */
	CU_ASSERT_EQUAL(cres.features & WIRE_FEAT_XXH128, 0);
	if (chan_pair_open(&p, &cres, &sres) != 0) {
		CU_FAIL("setup");
		goto out;
	}
	CU_ASSERT_EQUAL(channel_cipher(p.a), want);
	for (id = 1; id <= 4; id++) {
		pattern(payload, sizeof(payload), id);
		ping_env(&env, &ping, id, payload, sizeof(payload));
		CU_ASSERT_EQUAL(channel_send(id % 2 ? p.a : p.b, &env), 0);
		CU_ASSERT_EQUAL_FATAL(
		    channel_recv(id % 2 ? p.b : p.a, &got), 0);
		CU_ASSERT(got->id == id &&
		    got->body_case == WHARF__ENVELOPE__BODY_PING &&
		    got->ping->payload.len == sizeof(payload) &&
		    memcmp(got->ping->payload.data, payload, sizeof(payload)) ==
		        0);
		msg_free(got);
		got = NULL;
	}
out:
	chan_pair_close(&p);
	hs_result_wipe(&cres);
	hs_result_wipe(&sres);
}

/* The cipher choice: not offered, not allowed, plaintext; and a server
 * that allows only AES-256-GCM refuses a client that did not offer it. */
static void
test_cipher_negotiation(void)
{
	struct hs_result cres, sres;

	CU_ASSERT_EQUAL_FATAL(
	    handshake_pair_ex(&cres, &sres, 0, WIRE_FEATURES_ALL, 0), 0);
	CU_ASSERT_EQUAL(cres.cipher, SEAL_SECRETBOX);
	CU_ASSERT_EQUAL(sres.cipher, SEAL_SECRETBOX);
	CU_ASSERT_EQUAL_FATAL(handshake_pair_ex(&cres, &sres, 0,
	                          WIRE_FEATURES_ALL | WIRE_FEAT_AES256GCM,
	                          HS_CIPHER_BIT(SEAL_SECRETBOX)),
	    0);
	CU_ASSERT_EQUAL(cres.cipher, SEAL_SECRETBOX);
	CU_ASSERT_EQUAL(cres.features & WIRE_FEAT_AES256GCM, 0);
	/* Plaintext: no cipher, and XXH3 allowed. */
	CU_ASSERT_EQUAL_FATAL(handshake_pair_ex(&cres, &sres, 1,
	                          WIRE_FEATURES_ALL | WIRE_FEAT_AES256GCM, 0),
	    0);
	CU_ASSERT(cres.plaintext);
	CU_ASSERT_EQUAL(cres.features & WIRE_FEAT_AES256GCM, 0);
	CU_ASSERT(cres.features & WIRE_FEAT_XXH128);
	CU_ASSERT_NOT_EQUAL(
	    handshake_pair_ex(&cres, &sres, 0, WIRE_FEATURES_ALL,
	        HS_CIPHER_BIT(SEAL_AES256GCM)),
	    0);
	hs_result_wipe(&cres);
	hs_result_wipe(&sres);
}

/* A big Chunk goes out from the caller's buffer (plaintext, AES-256-GCM)
 * or packed (secretbox): the peer decodes the same message either way,
 * also when id is 0 and when frames were gathered before it. */
static void
check_bulk_chunk(int plaintext, uint64_t features)
{
	struct hs_result cres, sres;
	struct chan_pair p = { NULL, NULL };
	Wharf__Envelope env = WHARF__ENVELOPE__INIT, *got = NULL;
	Wharf__Chunk c = WHARF__CHUNK__INIT;
	Wharf__Envelope small, *got2 = NULL;
	Wharf__Ping ping;
	uint8_t h[32], *data;
	size_t n = 100000; /* fits the socketpair: nobody reads while sending */
	uint32_t id;

	CU_ASSERT_FATAL((data = malloc(n)) != NULL);
	pattern(data, n, 5);
	memset(h, 0xab, sizeof(h));
	if (handshake_pair_ex(&cres, &sres, plaintext, features, 0) != 0 ||
	    chan_pair_open(&p, &cres, &sres) != 0) {
		CU_FAIL("setup");
		goto out;
	}
	/* After login: frames of a chunk's size. */
	channel_set_limit(p.a, WIRE_FRAME_MAX);
	channel_set_limit(p.b, WIRE_FRAME_MAX);
	c.index = 7;
	c.raw_len = (uint32_t)n;
	c.hash.data = h;
	c.hash.len = sizeof(h);
	c.data.data = data;
	c.data.len = n;
	env.body_case = WHARF__ENVELOPE__BODY_CHUNK;
	env.chunk = &c;
	for (id = 0; id < 3; id++) {
		env.id = id;
		if (id == 2) {
			/* A small frame gathered before the bulk one. */
			channel_gather(p.a);
			ping_env(&small, &ping, 99, "x", 1);
			CU_ASSERT_EQUAL(channel_send(p.a, &small), 0);
		}
		CU_ASSERT_EQUAL_FATAL(channel_send(p.a, &env), 0);
		CU_ASSERT_EQUAL_FATAL(channel_flush(p.a), 0);
		if (id == 2) {
			CU_ASSERT_EQUAL_FATAL(channel_recv(p.b, &got2), 0);
			CU_ASSERT(got2->id == 99);
			msg_free(got2);
		}
		CU_ASSERT_EQUAL_FATAL(channel_recv(p.b, &got), 0);
		CU_ASSERT_FATAL(got->body_case == WHARF__ENVELOPE__BODY_CHUNK);
		CU_ASSERT(got->id == id && got->chunk->index == 7 &&
		    got->chunk->raw_len == n && got->chunk->hash.len == 32 &&
		    memcmp(got->chunk->hash.data, h, 32) == 0 &&
		    got->chunk->data.len == n &&
		    memcmp(got->chunk->data.data, data, n) == 0 &&
		    !got->chunk->compressed && !got->chunk->ref);
		msg_free(got);
		got = NULL;
	}
	/* Over the limit: refused before anything is sent. */
	channel_set_limit(p.a, n - 1);
	CU_ASSERT_EQUAL(channel_send(p.a, &env), WH_ERR_TOO_LARGE);
out:
	chan_pair_close(&p);
	free(data);
}

static void
test_channel_bulk_chunk(void)
{
	check_bulk_chunk(1, WIRE_FEATURES_ALL);
	check_bulk_chunk(0, WIRE_FEATURES_ALL | WIRE_FEAT_AES256GCM);
	check_bulk_chunk(0, WIRE_FEATURES_ALL);
}

void
register_channel_tests(void)
{
	CU_pSuite s = CU_add_suite("channel", NULL, NULL);

	if (s == NULL)
		return;
	CU_add_test(s, "seal round trip", test_seal_round_trip);
	CU_add_test(s, "seal: flipped ciphertext or tag", test_seal_tamper);
	CU_add_test(s, "seal: replay and reorder", test_seal_replay_reorder);
	CU_add_test(s, "seal: counter never wraps", test_seal_counter_end);
	CU_add_test(
	    s, "decode: poisoned after a bad frame", test_decode_poisoned);
	CU_add_test(s, "decode: heap budget before and after login",
	    test_decode_budget);
	CU_add_test(s, "channel pair over a socketpair", test_channel_pair);
	CU_add_test(s, "gathered frames", test_channel_gather);
	CU_add_test(
	    s, "sealed frames hide the envelope", test_channel_wire_sealed);
	CU_add_test(s, "plaintext session", test_channel_wire_plaintext);
	CU_add_test(s, "keys from another session", test_channel_wrong_keys);
	CU_add_test(s, "frame limits", test_channel_limit);
	CU_add_test(s, "aes256gcm: round trip, nonce sequence",
	    test_gcm_round_trip_nonces);
	CU_add_test(s, "aes256gcm: tampered frames", test_gcm_tamper);
	CU_add_test(
	    s, "aes256gcm: replay and reorder", test_gcm_replay_reorder);
	CU_add_test(s, "cipher names and lists", test_cipher_names);
	CU_add_test(s, "aes256gcm: handshake and channel pair",
	    test_gcm_handshake_channel);
	CU_add_test(s, "cipher negotiation", test_cipher_negotiation);
	CU_add_test(s, "big chunks sent from the caller's buffer",
	    test_channel_bulk_chunk);
}
