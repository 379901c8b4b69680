/* SPDX-License-Identifier: MIT */
/*
 * wire_io over a socketpair: frames that arrive a byte at a time, peers
 * that close mid-frame or between frames, peers that say nothing, and a
 * length header over the limit, which must fail before any payload.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "wharf/io.h"
#include "wharf/wire.h"

#include "suites.h"

/* Long enough that only a hang, never a slow machine, trips it. */
#define IO_TEST_TIMEOUT_MS 5000
#define IO_SILENT_MS 200
#define IO_TRICKLE_NS 200000L

struct pair {
	struct wire_io *io; /* the side under test */
	int peer; /* the raw other end */
};

static int
pair_open(struct pair *p)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	if ((p->io = wire_io_new(sv[0])) == NULL) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	p->peer = sv[1];
	wire_io_set_timeout(p->io, IO_TEST_TIMEOUT_MS);
	return 0;
}

static void
pair_close(struct pair *p)
{
	wire_io_free(p->io);
	if (p->peer >= 0)
		close(p->peer);
	p->io = NULL;
	p->peer = -1;
}

static void
peer_hangup(struct pair *p)
{
	close(p->peer);
	p->peer = -1;
}

static int
write_all(int fd, const void *p, size_t n)
{
	return write(fd, p, n) == (ssize_t)n ? 0 : -1;
}

static void
be32(uint8_t out[4], uint32_t v)
{
	out[0] = (uint8_t)(v >> 24);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct trickle {
	int fd;
	const uint8_t *p;
	size_t n;
	int rc;
};

static void *
trickle_main(void *arg)
{
	struct trickle *t = arg;
	struct timespec pause = { 0, IO_TRICKLE_NS };
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (write(t->fd, t->p + i, 1) != 1) {
			t->rc = -1;
			break;
		}
		nanosleep(&pause, NULL);
	}
	close(t->fd);
	return NULL;
}

static void
test_trickled_frame(void)
{
	enum { PAYLOAD = 300 };
	uint8_t msg[WIRE_PREFACE_LEN + WIRE_FRAME_HEADER + PAYLOAD];
	uint8_t preface[WIRE_PREFACE_LEN], *payload = NULL;
	struct trickle t;
	struct pair p;
	pthread_t th;
	size_t len = 0, i;
	int r;

	CU_ASSERT_EQUAL_FATAL(pair_open(&p), 0);
	wire_preface_encode(msg, 1, 1);
	be32(msg + WIRE_PREFACE_LEN, PAYLOAD);
	for (i = 0; i < PAYLOAD; i++)
		msg[WIRE_PREFACE_LEN + WIRE_FRAME_HEADER + i] =
		    (uint8_t)(i * 7);
	t.fd = p.peer;
	t.p = msg;
	t.n = sizeof(msg);
	t.rc = 0;
	p.peer = -1; /* the thread closes it */
	if (pthread_create(&th, NULL, trickle_main, &t) != 0) {
		close(t.fd);
		pair_close(&p);
		CU_FAIL_FATAL("pthread_create");
	}
	r = wire_io_read_exact(p.io, preface, sizeof(preface));
	CU_ASSERT_EQUAL(r, 0);
	CU_ASSERT_EQUAL(memcmp(preface, msg, sizeof(preface)), 0);
	/* The frame is still on its way: what follows are partial reads. */
	CU_ASSERT(wire_io_bytes_in(p.io) < sizeof(msg));
	r = wire_io_read_frame(p.io, &payload, &len);
	CU_ASSERT_EQUAL(r, 0);
	CU_ASSERT_EQUAL(len, PAYLOAD);
	if (r == 0 && len == PAYLOAD)
		CU_ASSERT_EQUAL(
		    memcmp(payload, msg + WIRE_PREFACE_LEN + WIRE_FRAME_HEADER,
		        PAYLOAD),
		    0);
	/* The writer hangs up after the frame: a clean end. */
	CU_ASSERT_EQUAL(wire_io_read_frame(p.io, &payload, &len), WH_ERR_EOF);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(t.rc, 0);
	CU_ASSERT_EQUAL(wire_io_bytes_in(p.io), sizeof(msg));
	pair_close(&p);
}

static void
test_eof_mid_frame(void)
{
	static const uint8_t part[] = { 0, 0, 0, 10, 'a', 'b', 'c', 'd' };
	uint8_t *payload;
	struct pair p;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(pair_open(&p), 0);
	CU_ASSERT_EQUAL(write_all(p.peer, part, sizeof(part)), 0);
	peer_hangup(&p);
	CU_ASSERT_EQUAL(
	    wire_io_read_frame(p.io, &payload, &len), WH_ERR_TRUNCATED);
	pair_close(&p);
}

static void
test_eof_mid_header(void)
{
	static const uint8_t part[] = { 0, 0 };
	uint8_t *payload;
	struct pair p;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(pair_open(&p), 0);
	CU_ASSERT_EQUAL(write_all(p.peer, part, sizeof(part)), 0);
	peer_hangup(&p);
	CU_ASSERT_EQUAL(
	    wire_io_read_frame(p.io, &payload, &len), WH_ERR_TRUNCATED);
	pair_close(&p);
}

static void
test_eof_between_frames(void)
{
	static const uint8_t one[] = { 0, 0, 0, 3, 'a', 'b', 'c' };
	uint8_t *payload = NULL;
	struct pair p;
	size_t len = 0;

	CU_ASSERT_EQUAL_FATAL(pair_open(&p), 0);
	CU_ASSERT_EQUAL(write_all(p.peer, one, sizeof(one)), 0);
	peer_hangup(&p);
	CU_ASSERT_EQUAL_FATAL(wire_io_read_frame(p.io, &payload, &len), 0);
	CU_ASSERT_EQUAL_FATAL(len, 3);
	CU_ASSERT_EQUAL(memcmp(payload, "abc", 3), 0);
	CU_ASSERT_EQUAL(wire_io_read_frame(p.io, &payload, &len), WH_ERR_EOF);
	CU_ASSERT_EQUAL(wire_io_read_frame(p.io, &payload, &len), WH_ERR_EOF);
	pair_close(&p);

	/* A peer that closes before saying anything. */
	CU_ASSERT_EQUAL_FATAL(pair_open(&p), 0);
	peer_hangup(&p);
	CU_ASSERT_EQUAL(wire_io_read_frame(p.io, &payload, &len), WH_ERR_EOF);
	pair_close(&p);
}

static void
test_read_exact_eof(void)
{
	uint8_t preface[WIRE_PREFACE_LEN];
	struct pair p;

	CU_ASSERT_EQUAL_FATAL(pair_open(&p), 0);
	CU_ASSERT_EQUAL(write_all(p.peer, WIRE_MAGIC, 5), 0);
	peer_hangup(&p);
	CU_ASSERT_EQUAL(wire_io_read_exact(p.io, preface, sizeof(preface)),
	    WH_ERR_TRUNCATED);
	pair_close(&p);

	CU_ASSERT_EQUAL_FATAL(pair_open(&p), 0);
	peer_hangup(&p);
	CU_ASSERT_EQUAL(
	    wire_io_read_exact(p.io, preface, sizeof(preface)), WH_ERR_EOF);
	pair_close(&p);
}

static void
test_silent_peer_times_out(void)
{
	static const uint8_t part[] = { 0, 0, 0, 8, 'x' };
	uint8_t *payload, preface[WIRE_PREFACE_LEN];
	struct pair p;
	int64_t t0, dt;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(pair_open(&p), 0);
	wire_io_set_timeout(p.io, IO_SILENT_MS);
	t0 = mono_ms();
	CU_ASSERT_EQUAL(
	    wire_io_read_frame(p.io, &payload, &len), WH_ERR_TIMEOUT);
	dt = mono_ms() - t0;
	TU_CHECK(dt >= IO_SILENT_MS - 20 && dt < IO_TEST_TIMEOUT_MS,
	    "timed out after %lld ms, wanted about %d", (long long)dt,
	    IO_SILENT_MS);
	CU_ASSERT_EQUAL(
	    wire_io_read_exact(p.io, preface, sizeof(preface)), WH_ERR_TIMEOUT);
	/* Half a frame and then silence is still a timeout. */
	CU_ASSERT_EQUAL(write_all(p.peer, part, sizeof(part)), 0);
	CU_ASSERT_EQUAL(
	    wire_io_read_frame(p.io, &payload, &len), WH_ERR_TIMEOUT);
	pair_close(&p);
}

static void
test_oversize_header(void)
{
	uint8_t hdr[WIRE_FRAME_HEADER], *payload = NULL;
	struct pair p;
	int64_t t0, dt;
	size_t len;

	/* Default limit is the pre-auth one; the peer stays connected and
	 * silent after the header, so waiting for the payload would time
	 * out instead. */
	CU_ASSERT_EQUAL_FATAL(pair_open(&p), 0);
	be32(hdr, WIRE_FRAME_MAX_PREAUTH + 1);
	CU_ASSERT_EQUAL(write_all(p.peer, hdr, sizeof(hdr)), 0);
	t0 = mono_ms();
	CU_ASSERT_EQUAL(
	    wire_io_read_frame(p.io, &payload, &len), WH_ERR_TOO_LARGE);
	dt = mono_ms() - t0;
	TU_CHECK(dt < IO_TEST_TIMEOUT_MS / 2, "took %lld ms", (long long)dt);
	pair_close(&p);

	CU_ASSERT_EQUAL_FATAL(pair_open(&p), 0);
	wire_io_set_limit(p.io, 100);
	be32(hdr, 101);
	CU_ASSERT_EQUAL(write_all(p.peer, hdr, sizeof(hdr)), 0);
	CU_ASSERT_EQUAL(
	    wire_io_read_frame(p.io, &payload, &len), WH_ERR_TOO_LARGE);
	pair_close(&p);

	CU_ASSERT_EQUAL_FATAL(pair_open(&p), 0);
	wire_io_set_limit(p.io, WIRE_FRAME_MAX);
	be32(hdr, UINT32_MAX);
	CU_ASSERT_EQUAL(write_all(p.peer, hdr, sizeof(hdr)), 0);
	CU_ASSERT_EQUAL(
	    wire_io_read_frame(p.io, &payload, &len), WH_ERR_TOO_LARGE);
	pair_close(&p);
}

struct bulk {
	struct wire_io *io;
	const uint8_t *p;
	size_t n;
	int rc;
};

static void *
bulk_main(void *arg)
{
	struct bulk *b = arg;

	b->rc = wire_io_write(b->io, b->p, b->n);
	return NULL;
}

static void
test_large_frame_both_ways(void)
{
	enum { PAYLOAD = 300 * 1024 };
	struct wire_io *rd = NULL, *wr = NULL;
	uint8_t *msg, *payload = NULL;
	struct bulk b;
	pthread_t th;
	size_t len = 0, i;
	int sv[2], r;

	msg = malloc(WIRE_FRAME_HEADER + PAYLOAD);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	be32(msg, PAYLOAD);
	for (i = 0; i < PAYLOAD; i++)
		msg[WIRE_FRAME_HEADER + i] = (uint8_t)(i ^ (i >> 8));
	CU_ASSERT_EQUAL_FATAL(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	if ((rd = wire_io_new(sv[0])) == NULL)
		close(sv[0]);
	if ((wr = wire_io_new(sv[1])) == NULL)
		close(sv[1]);
	if (rd == NULL || wr == NULL) {
		CU_FAIL("wire_io_new");
		goto out;
	}
	wire_io_set_timeout(rd, IO_TEST_TIMEOUT_MS);
	wire_io_set_timeout(wr, IO_TEST_TIMEOUT_MS);
	wire_io_set_limit(rd, PAYLOAD);
	CU_ASSERT_EQUAL(wire_io_readable(rd, 0), 0);
	b.io = wr;
	b.p = msg;
	b.n = WIRE_FRAME_HEADER + PAYLOAD;
	b.rc = -1;
	if (pthread_create(&th, NULL, bulk_main, &b) != 0) {
		CU_FAIL("pthread_create");
		goto out;
	}
	CU_ASSERT_EQUAL(wire_io_readable(rd, IO_TEST_TIMEOUT_MS), 1);
	r = wire_io_read_frame(rd, &payload, &len);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(b.rc, 0);
	CU_ASSERT_EQUAL(r, 0);
	CU_ASSERT_EQUAL(len, PAYLOAD);
	if (r == 0 && len == PAYLOAD)
		CU_ASSERT_EQUAL(
		    memcmp(payload, msg + WIRE_FRAME_HEADER, PAYLOAD), 0);
	CU_ASSERT_EQUAL(wire_io_bytes_out(wr), WIRE_FRAME_HEADER + PAYLOAD);
	CU_ASSERT_EQUAL(wire_io_bytes_in(rd), WIRE_FRAME_HEADER + PAYLOAD);
	CU_ASSERT_EQUAL(wire_io_readable(rd, 0), 0);
out:
	wire_io_free(rd);
	wire_io_free(wr);
	free(msg);
}

void
register_io_tests(void)
{
	CU_pSuite s = CU_add_suite("io", NULL, NULL);

	if (s == NULL)
		return;
	CU_add_test(
	    s, "frame trickled one byte at a time", test_trickled_frame);
	CU_add_test(s, "EOF inside a frame", test_eof_mid_frame);
	CU_add_test(s, "EOF inside a length header", test_eof_mid_header);
	CU_add_test(s, "EOF between frames", test_eof_between_frames);
	CU_add_test(s, "EOF inside read_exact", test_read_exact_eof);
	CU_add_test(s, "silent peer times out", test_silent_peer_times_out);
	CU_add_test(s, "oversize length header", test_oversize_header);
	CU_add_test(
	    s, "large frame through a full socket", test_large_frame_both_ways);
}
