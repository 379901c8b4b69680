/* SPDX-License-Identifier: MIT */
/*
 * The transfer engine in memory: its sender (send.c) driven straight into
 * its receiver (recv.c), no sockets, over every chunk size class, each
 * compression mode (off, zstd, zstd stream with a window, auto), resume
 * points, delta references, transfers cut short and chunks corrupted,
 * with both hashes; then the commit (commit.c) and the mtime rule.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "suites.h"
#include "wharf/commit.h"
#include "wharf/delta.h"
#include "wharf/recv.h"
#include "wharf/resume.h"
#include "wharf/send.h"
#include "wharf/xfer.h"

enum fault { NONE, CUT, CORRUPT_DATA, CORRUPT_HASH };

struct eng_case {
	uint32_t cs;
	uint64_t size;
	enum hash_alg alg;
	Wharf__CompressMode mode;
	int level;
	int wlog;
	uint64_t resume_chunks; /* the receiver's partial holds these */
	enum fault fault;
	uint64_t fault_at; /* chunk index of the cut or corruption */
};

static char dir[TU_PATH_MAX];

/* Text for the first half (compresses), random bytes for the rest. */
static uint8_t *
make_data(uint64_t size)
{
	uint8_t *p = malloc(size ? size : 1);
	uint64_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (i = 0; i < size / 2; i++)
		p[i] = (uint8_t)("wharf moves files, chunk by chunk. "[i % 35]);
	randombytes_buf(p + size / 2, size - size / 2);
	return p;
}

static int
file_with(const char *name, const uint8_t *data, uint64_t len)
{
	char path[TU_PATH_MAX];
	int fd;

	tu_join(path, sizeof(path), dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, data, len) == (ssize_t)len);
	return fd;
}

static int
same_content(int fd, const uint8_t *data, uint64_t len)
{
	uint8_t *got = malloc(len + 1);
	struct stat st;
	int ok;

	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	ok = fstat(fd, &st) == 0 && (uint64_t)st.st_size == len &&
	    (len == 0 || xfer_pread_all(fd, got, len, 0) == 0) &&
	    memcmp(got, data, len) == 0;
	free(got);
	return ok;
}

/* Runs one transfer; returns the receiver's error (0: all well). */
static int
run_case(const struct eng_case *k)
{
	struct xfer_encoder enc;
	struct xfer_decoder dec;
	struct xfer_send tx;
	struct xfer_recv rx;
	struct xfer_digest d_rx, d_tx;
	Wharf__Chunk *c;
	uint8_t *data = make_data(k->size), *buf = malloc(k->cs);
	uint8_t offer[HASH_LEN], fin[HASH_LEN], *junk;
	uint64_t offset = 0, accepted = 0, n = 0, held;
	int src, dst, r = 0, e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	src = file_with("src", data, k->size);
	/* A partial of whole chunks and a torn one after them. */
	held = k->resume_chunks * k->cs;
	if (held > k->size)
		held = k->size / k->cs * k->cs;
	dst = file_with("part", data, held);
	junk = make_data(100);
	CU_ASSERT_FATAL(write(dst, junk, 100) == 100);
	free(junk);
	CU_ASSERT_FATAL(xfer_encoder_init(&enc, k->mode, k->level) == 0);
	CU_ASSERT_FATAL(xfer_encoder_begin(&enc, k->wlog) == 0);
	CU_ASSERT_FATAL(xfer_decoder_init(&dec, 1) == 0);
	CU_ASSERT_FATAL(xfer_decoder_begin(&dec, k->wlog) == 0);
	xfer_send_init(&tx, src, k->size, k->cs, k->alg, &enc);
	xfer_recv_init(&rx, dst, k->size, k->cs, k->alg, &dec);
	/* The offer and its acceptance, as PutReady and its check. */
	CU_ASSERT_EQUAL(xfer_resume_offer(dst, k->size, k->cs, k->alg, buf,
	                    &d_rx, &offset, offer),
	    0);
	TU_CHECK(offset == held, "offered %llu, held %llu",
	    (unsigned long long)offset, (unsigned long long)held);
	CU_ASSERT_EQUAL(xfer_resume_accept(src, offset, offer, HASH_LEN, k->cs,
	                    k->alg, buf, &d_tx, &accepted),
	    0);
	CU_ASSERT_EQUAL(accepted, offset);
	xfer_recv_resume(&rx, offset, &d_rx, 1);
	xfer_send_resume(&tx, accepted, &d_tx);
	for (;;) {
		CU_ASSERT_EQUAL_FATAL(xfer_send_next(&tx, buf, &c), 0);
		if (c == NULL)
			break;
		if (k->fault == CUT && c->index == k->fault_at)
			break;
		if (k->fault == CORRUPT_DATA && c->index == k->fault_at)
			c->data.data[c->data.len / 2] ^= 0x10;
		if (k->fault == CORRUPT_HASH && c->index == k->fault_at)
			c->hash.data[0] ^= 0x01;
		/* The socket's word: a backlog, then an idle link. */
		xfer_send_feedback(&tx, n % 4 < 2 ? 1u << 22 : 0, 0.1);
		n++;
		if ((r = xfer_recv_chunk(&rx, c)) != 0)
			break;
	}
	xfer_send_digest(&tx, fin);
	if (r == 0)
		r = xfer_recv_finish(&rx, fin, HASH_LEN);
	if (r == 0) {
		/* All in: the partial is the file, once cut to size. */
		CU_ASSERT_EQUAL(ftruncate(dst, (off_t)k->size), 0);
		TU_CHECK(same_content(dst, data, k->size),
		    "content of %llu bytes, cs %u, mode %d, wlog %d",
		    (unsigned long long)k->size, k->cs, (int)k->mode, k->wlog);
		CU_ASSERT_EQUAL(tx.sent, k->size - accepted);
		CU_ASSERT_EQUAL(rx.resumed, accepted);
		CU_ASSERT_EQUAL(xfer_recv_prefix(&rx), k->size);
	} else {
		/* What a failed transfer keeps: the verified whole chunks. */
		e = (int)(k->fault_at > accepted / k->cs ? k->fault_at :
		                                           accepted / k->cs);
		TU_CHECK(xfer_recv_prefix(&rx) == (uint64_t)e * k->cs,
		    "prefix %llu after a fault at chunk %llu",
		    (unsigned long long)xfer_recv_prefix(&rx),
		    (unsigned long long)k->fault_at);
	}
	xfer_send_cleanup(&tx);
	xfer_encoder_cleanup(&enc);
	xfer_decoder_cleanup(&dec);
	close(src);
	close(dst);
	free(buf);
	free(data);
	return r;
}

static const Wharf__CompressMode modes[] = {
	WHARF__COMPRESS_MODE__COMPRESS_OFF,
	WHARF__COMPRESS_MODE__COMPRESS_LEVEL,
	WHARF__COMPRESS_MODE__COMPRESS_AUTO,
};

static void
test_round_trips(void)
{
	const uint32_t sizes[] = { XFER_CHUNK_MIN, XFER_CHUNK_DEFAULT,
		XFER_CHUNK_MAX };
	struct eng_case k;
	size_t i, m, a, l;
	int r;

	CU_ASSERT_FATAL(tu_tempdir(dir, sizeof(dir)) == 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
			for (a = 0; a < 2; a++) {
				/* Empty, one byte, a chunk less one, one,
				 * one more, and three and a bit. */
				const uint64_t cs = sizes[i];
				const uint64_t lens[] = { 0, 1, cs - 1, cs,
					cs + 1, 3 * cs + 17 };

				for (l = 0; l < 6; l++) {
					if (cs == XFER_CHUNK_MAX && l == 5)
						continue; /* time, not cover */
					memset(&k, 0, sizeof(k));
					k.cs = sizes[i];
					k.size = lens[l];
					k.alg = a ? HASH_SHA256 : HASH_BLAKE2B;
					k.mode = modes[m];
					k.level = 1;
					r = run_case(&k);
					TU_CHECK(r == 0,
					    "size %llu cs %u mode %d alg %zu: "
					    "%s",
					    (unsigned long long)k.size, k.cs,
					    (int)k.mode, a, wh_strerror(r));
				}
			}
	tu_rmtree(dir);
}

/* zstd streams over the chunks, at every window bound, auto and fixed. */
static void
test_stream_windows(void)
{
	const int wlogs[] = { XFER_STREAM_WLOG_MIN, 17, XFER_STREAM_WLOG_MAX };
	struct eng_case k;
	size_t w, m;
	int r;

	CU_ASSERT_FATAL(tu_tempdir(dir, sizeof(dir)) == 0);
	for (w = 0; w < 3; w++)
		for (m = 1; m < 3; m++) {
			memset(&k, 0, sizeof(k));
			k.cs = XFER_CHUNK_MIN;
			k.size = 6 * XFER_CHUNK_MIN + 5;
			k.alg = w == 1 ? HASH_SHA256 : HASH_BLAKE2B;
			k.mode = modes[m];
			k.level = 3;
			k.wlog = wlogs[w];
			r = run_case(&k);
			TU_CHECK(r == 0, "stream wlog %d mode %d: %s", k.wlog,
			    (int)k.mode, wh_strerror(r));
		}
	tu_rmtree(dir);
}

/* A partial of k chunks resumes at k; one with a foreign chunk is not
 * offered past it; the sender may still start at 0. */
static void
test_resume_points(void)
{
	struct eng_case k;
	uint64_t at;
	int r;

	CU_ASSERT_FATAL(tu_tempdir(dir, sizeof(dir)) == 0);
	for (at = 0; at <= 5; at++) {
		memset(&k, 0, sizeof(k));
		k.cs = XFER_CHUNK_MIN;
		k.size = 4 * XFER_CHUNK_MIN + 9;
		k.alg = at % 2 ? HASH_SHA256 : HASH_BLAKE2B;
		k.mode = at < 3 ? WHARF__COMPRESS_MODE__COMPRESS_LEVEL :
		                  WHARF__COMPRESS_MODE__COMPRESS_OFF;
		k.level = 1;
		k.wlog = at == 2 ? XFER_STREAM_WLOG_MAX : 0;
		k.resume_chunks = at;
		r = run_case(&k);
		TU_CHECK(r == 0, "resume after %llu chunks: %s",
		    (unsigned long long)at, wh_strerror(r));
	}
	tu_rmtree(dir);
}

static void
test_restart_at_zero(void)
{
	struct xfer_decoder dec;
	struct xfer_recv rx;
	struct xfer_digest d;
	Wharf__Chunk c = WHARF__CHUNK__INIT;
	uint8_t *data = make_data(3 * XFER_CHUNK_MIN), h[HASH_LEN], *buf;
	uint64_t off;
	struct stat st;
	int fd;

	buf = malloc(XFER_CHUNK_MIN);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_FATAL(tu_tempdir(dir, sizeof(dir)) == 0);
	fd = file_with("part", data, 2 * XFER_CHUNK_MIN);
	CU_ASSERT_FATAL(xfer_decoder_init(&dec, 0) == 0);
	xfer_recv_init(
	    &rx, fd, 3 * XFER_CHUNK_MIN, XFER_CHUNK_MIN, HASH_BLAKE2B, &dec);
	CU_ASSERT_EQUAL(xfer_resume_offer(fd, 3 * XFER_CHUNK_MIN,
	                    XFER_CHUNK_MIN, HASH_BLAKE2B, buf, &d, &off, h),
	    0);
	CU_ASSERT_EQUAL(off, 2 * XFER_CHUNK_MIN);
	xfer_recv_resume(&rx, off, &d, 1);
	/* The sender declined the offer: chunk 0 cuts the partial. */
	hash_buf(HASH_BLAKE2B, data, XFER_CHUNK_MIN, h);
	c.index = 0;
	c.raw_len = XFER_CHUNK_MIN;
	c.hash.data = h;
	c.hash.len = HASH_LEN;
	c.data.data = data;
	c.data.len = XFER_CHUNK_MIN;
	CU_ASSERT_EQUAL(xfer_recv_chunk(&rx, &c), 0);
	CU_ASSERT_EQUAL(rx.resumed, 0);
	CU_ASSERT(fstat(fd, &st) == 0 && st.st_size == XFER_CHUNK_MIN);
	/* Answered: another chunk 0 is out of order now. */
	CU_ASSERT_EQUAL(xfer_recv_chunk(&rx, &c), WH_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(xfer_recv_prefix(&rx), XFER_CHUNK_MIN);
	xfer_decoder_cleanup(&dec);
	close(fd);
	free(buf);
	free(data);
	tu_rmtree(dir);
}

/* Cut short and corrupted: refused, and only verified chunks kept. */
static void
test_faults(void)
{
	const enum fault faults[] = { CUT, CORRUPT_DATA, CORRUPT_HASH };
	const int want[] = { WH_ERR_PROTOCOL, 0, WH_ERR_BAD_HASH };
	struct eng_case k;
	size_t f, m;
	int r;

	CU_ASSERT_FATAL(tu_tempdir(dir, sizeof(dir)) == 0);
	for (f = 0; f < 3; f++)
		for (m = 0; m < 3; m++) {
			memset(&k, 0, sizeof(k));
			k.cs = XFER_CHUNK_MIN;
			k.size = 5 * XFER_CHUNK_MIN + 3;
			k.alg = m == 1 ? HASH_SHA256 : HASH_BLAKE2B;
			k.mode = modes[m];
			k.level = 1;
			k.wlog = m == 2 ? XFER_STREAM_WLOG_MIN + 6 : 0;
			k.resume_chunks = 1;
			k.fault = faults[f];
			k.fault_at = 3;
			r = run_case(&k);
			if (faults[f] == CORRUPT_DATA)
				/* A raw chunk fails its hash; a compressed
				 * one may already fail to inflate. */
				TU_CHECK(r == WH_ERR_BAD_HASH ||
				        r == WH_ERR_DECOMPRESS,
				    "corrupt data, mode %zu: %s", m,
				    wh_strerror(r));
			else
				TU_CHECK(r == want[f], "fault %zu mode %zu: %s",
				    f, m, wh_strerror(r));
		}
	tu_rmtree(dir);
}

/* Delta: the receiver's old file indexed, the sender sends refs for what
 * it holds; the result is the new file, most of it reused. */
static void
test_delta(void)
{
	const uint64_t size = 2u << 20;
	struct delta_index held, peer;
	struct xfer_encoder enc;
	struct xfer_decoder dec;
	struct xfer_send tx;
	struct xfer_recv rx;
	Wharf__Chunk *c;
	uint8_t *data = make_data(size), *old, *refbuf = malloc(CDC_MAX);
	uint8_t fin[HASH_LEN];
	int src, oldfd, dst, srcs[DELTA_SOURCES] = { -1, -1 }, r = 0, a;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(refbuf);
	CU_ASSERT_FATAL(tu_tempdir(dir, sizeof(dir)) == 0);
	for (a = 0; a < 2; a++) {
		enum hash_alg alg = a ? HASH_SHA256 : HASH_BLAKE2B;

		/* The old file: the new one with 1000 bytes edited. */
		old = malloc(size);
		CU_ASSERT_PTR_NOT_NULL_FATAL(old);
		memcpy(old, data, size);
		randombytes_buf(old + size / 3, 1000);
		src = file_with("src", data, size);
		oldfd = file_with("old", old, size);
		dst = file_with("part", NULL, 0);
		delta_index_init(&held);
		delta_index_init(&peer);
		held.shift = cdc_shift_for(size);
		CU_ASSERT_EQUAL_FATAL(
		    delta_index_file(&held, oldfd, 0, alg), 0);
		/* What the sender learns: hashes and lengths only. */
		peer.shift = held.shift;
		for (i = 0; i < held.n; i++)
			CU_ASSERT_EQUAL(delta_index_add(&peer, held.v[i].hash,
			                    held.v[i].len),
			    0);
		srcs[0] = oldfd;
		CU_ASSERT_FATAL(
		    xfer_encoder_init(
		        &enc, WHARF__COMPRESS_MODE__COMPRESS_LEVEL, 1) == 0);
		CU_ASSERT_FATAL(xfer_decoder_init(&dec, 1) == 0);
		xfer_send_init(&tx, src, size, XFER_CHUNK_MIN, alg, &enc);
		CU_ASSERT_EQUAL_FATAL(xfer_send_delta(&tx, &peer), 0);
		xfer_recv_init(&rx, dst, size, 0, alg, &dec);
		xfer_recv_delta(&rx, &held, srcs, refbuf);
		for (;;) {
			CU_ASSERT_EQUAL_FATAL(xfer_send_next(&tx, NULL, &c), 0);
			if (c == NULL || (r = xfer_recv_chunk(&rx, c)) != 0)
				break;
		}
		CU_ASSERT_EQUAL(r, 0);
		xfer_send_digest(&tx, fin);
		CU_ASSERT_EQUAL(xfer_recv_finish(&rx, fin, HASH_LEN), 0);
		TU_CHECK(same_content(dst, data, size), "delta result differs");
		TU_CHECK(rx.reused > size / 2 && rx.reused == tx.reused,
		    "reused %llu of %llu (sender %llu)",
		    (unsigned long long)rx.reused, (unsigned long long)size,
		    (unsigned long long)tx.reused);
		/* Old data that changed under a ref is caught. */
		xfer_send_cleanup(&tx);
		xfer_send_init(&tx, src, size, XFER_CHUNK_MIN, alg, &enc);
		CU_ASSERT_EQUAL_FATAL(xfer_send_delta(&tx, &peer), 0);
		CU_ASSERT_EQUAL(ftruncate(dst, 0), 0);
		xfer_recv_init(&rx, dst, size, 0, alg, &dec);
		xfer_recv_delta(&rx, &held, srcs, refbuf);
		/* (All of it: the text half repeats, so a block's hash names
		 * many offsets.) */
		randombytes_buf(old, size);
		CU_ASSERT_EQUAL(xfer_pwrite_all(oldfd, old, size, 0), 0);
		CU_ASSERT_EQUAL(xfer_send_next(&tx, NULL, &c), 0);
		CU_ASSERT_FATAL(c != NULL);
		if (c->ref)
			CU_ASSERT_EQUAL(
			    xfer_recv_chunk(&rx, c), WH_ERR_BAD_HASH);
		xfer_send_cleanup(&tx);
		xfer_encoder_cleanup(&enc);
		xfer_decoder_cleanup(&dec);
		delta_index_cleanup(&held);
		delta_index_cleanup(&peer);
		close(src);
		close(oldfd);
		close(dst);
		free(old);
	}
	free(refbuf);
	free(data);
	tu_rmtree(dir);
}

/* The sender finds a file that shrank or grew under it. */
static void
test_changed_size(void)
{
	struct xfer_encoder enc;
	struct xfer_send tx;
	Wharf__Chunk *c;
	uint8_t *data = make_data(3 * XFER_CHUNK_MIN), *buf;
	int fd;

	buf = malloc(XFER_CHUNK_MIN);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_FATAL(tu_tempdir(dir, sizeof(dir)) == 0);
	fd = file_with("src", data, 3 * XFER_CHUNK_MIN);
	CU_ASSERT_FATAL(xfer_encoder_init(
	                    &enc, WHARF__COMPRESS_MODE__COMPRESS_OFF, 0) == 0);
	xfer_send_init(
	    &tx, fd, 3 * XFER_CHUNK_MIN, XFER_CHUNK_MIN, HASH_BLAKE2B, &enc);
	CU_ASSERT_EQUAL(xfer_send_next(&tx, buf, &c), 0);
	CU_ASSERT_EQUAL(ftruncate(fd, XFER_CHUNK_MIN + 5), 0);
	CU_ASSERT_EQUAL(xfer_send_next(&tx, buf, &c), WH_ERR_IO);
	xfer_encoder_cleanup(&enc);
	close(fd);
	free(buf);
	free(data);
	tu_rmtree(dir);
}

/* The commit: mode, exact mtime, the rename, and the inode check. */
static void
test_commit(void)
{
	struct xfer_commit c;
	struct stat st;
	char path[TU_PATH_MAX];
	int fd, dfd, other;

	CU_ASSERT_FATAL(tu_tempdir(dir, sizeof(dir)) == 0);
	fd = file_with(".f.wharf-part", (const uint8_t *)"hello, and more", 15);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CU_ASSERT_FATAL(dfd >= 0);
	memset(&c, 0, sizeof(c));
	c.dirfd = dfd;
	c.part = ".f.wharf-part";
	c.name = "f";
	c.fd = fd;
	c.size = 5;
	c.flags = XFER_COMMIT_CUT;
	CU_ASSERT_EQUAL(
	    xfer_meta_from_wire(&c.meta, 1500000000, 999999999, 0100640), 0);
	CU_ASSERT_EQUAL(c.meta.mode, 0640);
	CU_ASSERT_EQUAL(xfer_commit(&c), 0);
	CU_ASSERT(c.installed);
	tu_join(path, sizeof(path), dir, "f");
	CU_ASSERT_FATAL(stat(path, &st) == 0);
	CU_ASSERT_EQUAL(st.st_size, 5);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0640);
	CU_ASSERT_EQUAL(st.st_mtim.tv_sec, 1500000000);
	CU_ASSERT_EQUAL(st.st_mtim.tv_nsec, 999999999);
	close(fd);
	/* A partial whose name now holds another inode is not installed. */
	fd = file_with(".g.wharf-part", (const uint8_t *)"mine", 4);
	tu_join(path, sizeof(path), dir, ".g.wharf-part");
	CU_ASSERT_EQUAL(unlink(path), 0);
	other = file_with(".g.wharf-part", (const uint8_t *)"theirs", 6);
	c.part = ".g.wharf-part";
	c.name = "g";
	c.fd = fd;
	c.size = 4;
	CU_ASSERT_EQUAL(xfer_commit(&c), WH_ERR_IO);
	CU_ASSERT(!c.installed);
	tu_join(path, sizeof(path), dir, "g");
	CU_ASSERT(access(path, F_OK) != 0 && errno == ENOENT);
	close(fd);
	close(other);
	close(dfd);
	tu_rmtree(dir);
}

/* The partial: created fresh, reopened, locked against a second taker. */
static void
test_partial_open(void)
{
	struct stat held, named, got;
	int dfd, a, b, fresh;

	CU_ASSERT_FATAL(tu_tempdir(dir, sizeof(dir)) == 0);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CU_ASSERT_FATAL(dfd >= 0);
	CU_ASSERT_EQUAL(
	    xfer_partial_open(dfd, ".p.wharf-part", 0, &a, &fresh, NULL), 0);
	CU_ASSERT(fresh);
	CU_ASSERT_EQUAL(
	    xfer_partial_open(dfd, ".p.wharf-part", 0, &b, &fresh, NULL),
	    WH_ERR_BUSY);
	CU_ASSERT_EQUAL(b, -1);
	CU_ASSERT_EQUAL(xfer_partial_open(dfd, ".p.wharf-part",
	                    XFER_PARTIAL_NEW, &b, &fresh, NULL),
	    WH_ERR_EXISTS);
	close(a);
	CU_ASSERT_EQUAL(
	    xfer_partial_open(dfd, ".p.wharf-part", 0, &b, &fresh, NULL), 0);
	CU_ASSERT(!fresh);
	/* Renamed away while held (a commit): the name now gives another
	 * file, which is the one made, locked and returned. */
	CU_ASSERT_FATAL(renameat(dfd, ".p.wharf-part", dfd, "p") == 0);
	CU_ASSERT_EQUAL(
	    xfer_partial_open(dfd, ".p.wharf-part", 0, &a, &fresh, &got), 0);
	CU_ASSERT(fresh);
	/* The stat it returns is the locked partial's. */
	CU_ASSERT(S_ISREG(got.st_mode) && got.st_size == 0);
	CU_ASSERT(fstat(a, &held) == 0 &&
	    fstatat(dfd, ".p.wharf-part", &named, 0) == 0 &&
	    held.st_ino == named.st_ino && got.st_ino == held.st_ino);
	CU_ASSERT(fstat(b, &named) == 0 && held.st_ino != named.st_ino);
	close(a);
	close(b);
	CU_ASSERT(symlinkat("/etc/passwd", dfd, ".l.wharf-part") == 0);
	CU_ASSERT_NOT_EQUAL(
	    xfer_partial_open(dfd, ".l.wharf-part", 0, &b, &fresh, NULL), 0);
	close(dfd);
	tu_rmtree(dir);
}

/* One rule for file times from a peer (protocol.md §9.4), used by the
 * server's PutOpen and the client's GetInfo alike. */
static void
test_mtime_rule(void)
{
	struct xfer_meta m;

	CU_ASSERT_EQUAL(xfer_meta_from_wire(&m, -5, 0, 0777), 0);
	CU_ASSERT_EQUAL(xfer_meta_from_wire(&m, 7, XFER_NSEC_LIMIT - 1, 0), 0);
	CU_ASSERT_EQUAL(m.mtime_nsec, XFER_NSEC_LIMIT - 1);
	CU_ASSERT_EQUAL(
	    xfer_meta_from_wire(&m, 7, XFER_NSEC_LIMIT, 0), WH_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(
	    xfer_meta_from_wire(&m, 7, 0xffffffffu, 0), WH_ERR_PROTOCOL);
}

/* The one mapping of hash algorithms to the wire. */
static void
test_hash_wire(void)
{
	enum hash_alg alg;

	CU_ASSERT_EQUAL(
	    xfer_hash_from_wire(xfer_hash_to_wire(HASH_SHA256), 1, &alg), 0);
	CU_ASSERT_EQUAL(alg, HASH_SHA256);
	CU_ASSERT_EQUAL(
	    xfer_hash_from_wire(xfer_hash_to_wire(HASH_BLAKE2B), 0, &alg), 0);
	CU_ASSERT_EQUAL(alg, HASH_BLAKE2B);
	CU_ASSERT_EQUAL(
	    xfer_hash_from_wire(WHARF__HASH_ALG__HASH_SHA256, 0, &alg),
	    WH_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(xfer_hash_from_wire((Wharf__HashAlg)7, 1, &alg),
	    WH_ERR_UNSUPPORTED);
}

void
register_engine_tests(void)
{
	CU_pSuite s = CU_add_suite("engine", NULL, NULL);

	CU_add_test(
	    s, "sender into receiver: sizes, modes, hashes", test_round_trips);
	CU_add_test(s, "zstd stream windows", test_stream_windows);
	CU_add_test(s, "resume points", test_resume_points);
	CU_add_test(s, "a declined offer restarts at 0", test_restart_at_zero);
	CU_add_test(s, "cut and corrupted transfers", test_faults);
	CU_add_test(s, "delta references", test_delta);
	CU_add_test(s, "a file that changes size", test_changed_size);
	CU_add_test(s, "commit", test_commit);
	CU_add_test(s, "partial open and lock", test_partial_open);
	CU_add_test(s, "mtime_nsec rule", test_mtime_rule);
	CU_add_test(s, "hash algorithms on the wire", test_hash_wire);
}
