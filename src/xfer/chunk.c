/* SPDX-License-Identifier: MIT */
/*
 * Chunk geometry, digests, encoding and bounded decoding. Decompression
 * never allocates from a length the peer chose: the output buffer is the
 * receiver's own chunk size, and a frame that would inflate past the
 * declared raw length is an error, not a reallocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wharf/msg.h"
#include "wharf/wire.h"
#include "wharf/xfer.h"

#define XFER_DIGEST_LABEL "wharf-v1 file"

/* hash.c holds the mapping; these keep the engine's names for it. */
Wharf__HashAlg
xfer_hash_to_wire(enum hash_alg alg)
{
	return hash_alg_to_wire(alg);
}

int
xfer_hash_from_wire(Wharf__HashAlg h, int sha256_ok, enum hash_alg *alg)
{
	return hash_alg_from_wire(h, sha256_ok ? WIRE_FEAT_SHA256 : 0, alg);
}

int
xfer_chunk_size_ok(uint32_t cs)
{
	return cs >= XFER_CHUNK_MIN && cs <= XFER_CHUNK_MAX;
}

uint64_t
xfer_chunk_count(uint64_t size, uint32_t chunk_size)
{
	return size / chunk_size + (size % chunk_size != 0);
}

uint32_t
xfer_chunk_len(uint64_t size, uint32_t chunk_size, uint64_t index)
{
	uint64_t off;

	if (index >= xfer_chunk_count(size, chunk_size))
		return 0;
	off = index * chunk_size;
	return size - off < chunk_size ? (uint32_t)(size - off) : chunk_size;
}

int
xfer_partial_name(const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s%s%s", XFER_PARTIAL_PREFIX, name,
	    XFER_PARTIAL_SUFFIX);

	if (n < 0 || (size_t)n >= outlen || n > 255)
		return WH_ERR_TOO_LARGE;
	return 0;
}

int
xfer_partial_is(const char *name, size_t len)
{
	size_t pl = strlen(XFER_PARTIAL_PREFIX),
	       sl = strlen(XFER_PARTIAL_SUFFIX);

	return len > pl + sl && memcmp(name, XFER_PARTIAL_PREFIX, pl) == 0 &&
	    memcmp(name + len - sl, XFER_PARTIAL_SUFFIX, sl) == 0;
}

int
xfer_partial_install(int dirfd, const char *part, int fd, const char *name)
{
	struct stat held, named;

	if (fstat(fd, &held) != 0)
		return wh_err_from_errno(errno);
	if (fstatat(dirfd, part, &named, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno != ENOENT)
			return wh_err_from_errno(errno);
		return WH_ERR_IO;
	}
	if (named.st_dev != held.st_dev || named.st_ino != held.st_ino)
		return WH_ERR_IO;
	if (renameat(dirfd, part, dirfd, name) != 0)
		return wh_err_from_errno(errno);
	return 0;
}

static void
put_be(uint8_t *p, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

void
xfer_digest_init(struct xfer_digest *d, enum hash_alg alg, uint32_t chunk_size)
{
	uint8_t be[4];

	hash_init(&d->h, alg);
	hash_update(&d->h, XFER_DIGEST_LABEL, strlen(XFER_DIGEST_LABEL));
	put_be(be, chunk_size, 4);
	hash_update(&d->h, be, sizeof(be));
	d->size = 0;
}

void
xfer_digest_add(
    struct xfer_digest *d, const uint8_t hash[HASH_LEN], uint32_t raw_len)
{
	hash_update(&d->h, hash, HASH_LEN);
	d->size += raw_len;
}

void
xfer_digest_peek(const struct xfer_digest *d, uint8_t out[HASH_LEN])
{
	struct hash_ctx copy = d->h;
	uint8_t be[8];

	put_be(be, d->size, 8);
	hash_update(&copy, be, sizeof(be));
	hash_final(&copy, out);
}

int
xfer_encoder_init(struct xfer_encoder *e, Wharf__CompressMode mode, int level)
{
	memset(e, 0, sizeof(*e));
	e->mode = mode;
	if (mode == WHARF__COMPRESS_MODE__COMPRESS_OFF)
		return 0;
	if (level < 1 || level > XFER_LEVEL_MAX)
		level = XFER_LEVEL_DEFAULT;
	/* Auto starts at the default and follows the link (feedback). */
	e->level = mode == WHARF__COMPRESS_MODE__COMPRESS_AUTO ?
	    XFER_LEVEL_DEFAULT :
	    level;
	e->zcap = XFER_STREAM_BOUND(XFER_CHUNK_MAX);
	if ((e->cctx = ZSTD_createCCtx()) == NULL ||
	    (e->zbuf = malloc(e->zcap)) == NULL) {
		xfer_encoder_cleanup(e);
		return WH_ERR_NOMEM;
	}
	return 0;
}

void
xfer_encoder_cleanup(struct xfer_encoder *e)
{
	ZSTD_freeCCtx(e->probe);
	e->probe = NULL;
	ZSTD_freeCCtx(e->cctx);
	free(e->zbuf);
	e->cctx = NULL;
	e->zbuf = NULL;
}

int
xfer_encoder_begin(struct xfer_encoder *e, int wlog)
{
	if (e->cctx == NULL || (wlog == 0 && e->wlog == 0))
		return 0;
	e->wlog = 0;
	e->frame_level = 0;
	/* Drops a frame the last transfer left open, and its window. */
	if (ZSTD_isError(
	        ZSTD_CCtx_reset(e->cctx, ZSTD_reset_session_and_parameters)))
		return WH_ERR_INVALID_ARG;
	if (wlog == 0)
		return 0;
	if (wlog < XFER_STREAM_WLOG_MIN || wlog > XFER_STREAM_WLOG_MAX ||
	    ZSTD_isError(
	        ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_windowLog, wlog)))
		return WH_ERR_INVALID_ARG;
	e->wlog = wlog;
	return 0;
}

/* Runs the stream compressor over in (empty to only end a frame) until
 * all of it is out, appended to e->zbuf at *pos. */
static int
stream_run(struct xfer_encoder *e, ZSTD_inBuffer *in, ZSTD_EndDirective how,
    size_t *pos)
{
	ZSTD_outBuffer out = { e->zbuf, e->zcap, *pos };
	size_t left;

	do {
		left = ZSTD_compressStream2(e->cctx, &out, in, how);
		if (ZSTD_isError(left))
			return WH_ERR_NOMEM; /* zstd fails only for memory */
	} while (left != 0 && out.pos < out.size);
	if (left != 0 || in->pos != in->size)
		return WH_ERR_TOO_LARGE; /* cannot happen: zcap is the bound */
	*pos = out.pos;
	return 0;
}

/*
 * Whether a chunk is worth giving to the stream, judged on its first
 * XFER_PROBE_LEN bytes at level 1 (20 us for random data). Whatever the
 * stream is given stays in both sides' windows: incompressible data there
 * costs the receiver the whole window in memory and the link 3 bytes per
 * 128 KiB, and gains nothing. Without a probe context, the stream decides.
 */
static int
stream_worth(struct xfer_encoder *e, const uint8_t *raw, uint32_t len)
{
	size_t n = len < XFER_PROBE_LEN ? len : XFER_PROBE_LEN, z;

	if (e->probe == NULL && (e->probe = ZSTD_createCCtx()) == NULL)
		return 1;
	z = ZSTD_compressCCtx(e->probe, e->zbuf, e->zcap, raw, n, 1);
	return !ZSTD_isError(z) && z < n - n / XFER_MIN_SAVING_DIV;
}

/*
 * One chunk of a stream: flushed, so the receiver can inflate all of it
 * now. A level applies from a frame's start, so a new level first ends
 * the open frame (a few bytes at the head of this chunk); the history of
 * the frame before is then lost, which the auto mode's few early steps
 * can afford.
 */
static int
stream_chunk(
    struct xfer_encoder *e, const uint8_t *raw, uint32_t len, size_t *zlen)
{
	ZSTD_inBuffer none = { NULL, 0, 0 }, in = { raw, len, 0 };
	size_t pos = 0;
	int r;

	if (e->frame_level != 0 && e->frame_level != e->level) {
		if ((r = stream_run(e, &none, ZSTD_e_end, &pos)) != 0)
			return r;
		e->frame_level = 0;
	}
	if (e->frame_level == 0) {
		if (ZSTD_isError(ZSTD_CCtx_setParameter(
		        e->cctx, ZSTD_c_compressionLevel, e->level)))
			return WH_ERR_INVALID_ARG;
		e->frame_level = e->level;
	}
	if ((r = stream_run(e, &in, ZSTD_e_flush, &pos)) != 0)
		return r;
	*zlen = pos;
	return 0;
}

int
xfer_encode_chunk(struct xfer_encoder *e, enum hash_alg alg, uint32_t index,
    const uint8_t *raw, uint32_t len, Wharf__Chunk *out,
    uint8_t hash_out[HASH_LEN])
{
	size_t z;
	int r, was_saving;

	wharf__chunk__init(out);
	hash_buf(alg, raw, len, hash_out);
	out->index = index;
	out->raw_len = len;
	out->hash.data = hash_out;
	out->hash.len = HASH_LEN;
	out->data.data = (uint8_t *)(uintptr_t)raw;
	out->data.len = len;
	e->raw_bytes += len;
	if (e->cctx == NULL || e->level == 0 || len == 0) {
		e->wire_bytes += len;
		return 0;
	}
	if (e->skip > 0) {
		e->skip--;
		e->wire_bytes += len;
		return 0;
	}
	was_saving = e->last_saved;
	e->last_saved = 0;
	if (e->wlog > 0) {
		/* Data that has been shrinking goes straight in; the first
		 * chunk, and the first after a miss, are probed. */
		if (!was_saving && !stream_worth(e, raw, len)) {
			if (e->mode == WHARF__COMPRESS_MODE__COMPRESS_AUTO)
				e->skip = XFER_AUTO_BACKOFF;
			e->wire_bytes += len;
			return 0;
		}
		if ((r = stream_chunk(e, raw, len, &z)) != 0)
			return r;
		e->last_saved = z < len - len / XFER_MIN_SAVING_DIV;
		out->stream = 1;
		out->data.data = e->zbuf;
		out->data.len = z;
		e->wire_bytes += z;
		if (!e->last_saved &&
		    e->mode == WHARF__COMPRESS_MODE__COMPRESS_AUTO)
			e->skip = XFER_AUTO_BACKOFF;
		return 0;
	}
	z = ZSTD_compressCCtx(e->cctx, e->zbuf, e->zcap, raw, len, e->level);
	if (!ZSTD_isError(z) && z < len - len / XFER_MIN_SAVING_DIV) {
		e->last_saved = 1;
		out->compressed = 1;
		out->data.data = e->zbuf;
		out->data.len = z;
		e->wire_bytes += z;
		return 0;
	}
	/* Incompressible (media, archives, random): stop paying for it
	 * for a while, but look again now and then. */
	if (e->mode == WHARF__COMPRESS_MODE__COMPRESS_AUTO)
		e->skip = XFER_AUTO_BACKOFF;
	e->wire_bytes += len;
	return 0;
}

void
xfer_encoder_feedback(struct xfer_encoder *e, uint64_t queued,
    uint32_t wire_len, double blocked_share)
{
	double s = 0;
	int step;

	if (e->mode != WHARF__COMPRESS_MODE__COMPRESS_AUTO || e->cctx == NULL)
		return;
	/* Whether a write blocked says little while the socket buffer is
	 * still filling (the first MiBs on any link); the queue says it
	 * from the first chunk. */
	if (queued >= wire_len || blocked_share > 0.2)
		s = 1; /* a backlog: CPU to spare */
	else if (queued < wire_len / 4 && blocked_share < 0.05)
		s = -1; /* the link went idle waiting for us */
	e->trend = 0.5 * e->trend + 0.5 * s;
	/* In a stream each change ends a frame and its history: fewer,
	 * bigger steps. */
	step = e->wlog > 0 ? XFER_STREAM_LEVEL_STEP : 1;
	/* Incompressible data gains nothing from a higher level, and a
	 * level-9 context costs 12 MiB: climb only on data that shrinks. */
	if (e->trend > 0.6 && e->level < XFER_AUTO_LEVEL_MAX &&
	    (e->last_saved || e->level == 0)) {
		e->level += step;
		if (e->level > XFER_AUTO_LEVEL_MAX)
			e->level = XFER_AUTO_LEVEL_MAX;
		e->trend = 0;
	} else if (e->trend < -0.6 && e->level > 0) {
		e->level -= step;
		if (e->level < 0)
			e->level = 0;
		e->trend = 0;
	}
}

int
xfer_decoder_init(struct xfer_decoder *d, int zstd_ok)
{
	memset(d, 0, sizeof(*d));
	d->cap = XFER_CHUNK_MAX;
	d->zstd_ok = zstd_ok != 0;
	return 0;
}

/*
 * The context and the chunk-sized buffer are made at the first compressed
 * chunk: most small files and all random data never need them, and for a
 * tree of small files making them for every upload was a mmap, munmap and
 * context set-up per file.
 */
/* The stream window granted for this transfer, on d's context. */
static int
window_limit(struct xfer_decoder *d)
{
	if (d->wlog > 0 &&
	    ZSTD_isError(
	        ZSTD_DCtx_setParameter(d->dctx, ZSTD_d_windowLogMax, d->wlog)))
		return WH_ERR_INVALID_ARG;
	return 0;
}

static int
decoder_ready(struct xfer_decoder *d)
{
	int r;

	if (d->dctx == NULL) {
		if ((d->dctx = ZSTD_createDCtx()) == NULL)
			return WH_ERR_NOMEM;
		if ((r = window_limit(d)) != 0)
			return r;
	}
	if (d->buf == NULL && (d->buf = malloc(d->cap)) == NULL)
		return WH_ERR_NOMEM;
	return 0;
}

int
xfer_decoder_begin(struct xfer_decoder *d, int wlog)
{
	if (wlog != 0 &&
	    (wlog < XFER_STREAM_WLOG_MIN || wlog > XFER_STREAM_WLOG_MAX))
		return WH_ERR_INVALID_ARG;
	d->wlog = wlog;
	if (d->dctx == NULL)
		return 0; /* decoder_ready applies wlog */
	/* A new stream, with this transfer's window. */
	if (ZSTD_isError(
	        ZSTD_DCtx_reset(d->dctx, ZSTD_reset_session_and_parameters)))
		return WH_ERR_INVALID_ARG;
	return window_limit(d);
}

/*
 * Inflates one stream chunk into exactly len bytes of d->buf. The output
 * is the receiver's buffer of its own size, and zstd keeps at most the
 * granted window: nothing grows with what the sender claims. A chunk that
 * would inflate further stalls with input left, or leaves output pending
 * that the one-byte probe at the end finds.
 */
static int
stream_inflate(struct xfer_decoder *d, const Wharf__Chunk *c, uint32_t len)
{
	ZSTD_inBuffer in = { c->data.data, c->data.len, 0 };
	ZSTD_outBuffer out = { d->buf, len, 0 }, probe;
	size_t in0, out0, n;
	uint8_t extra;

	while (in.pos < in.size) {
		in0 = in.pos;
		out0 = out.pos;
		n = ZSTD_decompressStream(d->dctx, &out, &in);
		if (ZSTD_isError(n) || (in.pos == in0 && out.pos == out0))
			return WH_ERR_DECOMPRESS;
	}
	if (out.pos != len)
		return WH_ERR_DECOMPRESS; /* short: the sender did not flush */
	probe.dst = &extra;
	probe.size = 1;
	probe.pos = 0;
	n = ZSTD_decompressStream(d->dctx, &probe, &in);
	if (ZSTD_isError(n) || probe.pos != 0)
		return WH_ERR_DECOMPRESS;
	return 0;
}

void
xfer_decoder_cleanup(struct xfer_decoder *d)
{
	ZSTD_freeDCtx(d->dctx);
	free(d->buf);
	d->dctx = NULL;
	d->buf = NULL;
}

int
xfer_decode_chunk(struct xfer_decoder *d, enum hash_alg alg,
    const Wharf__Chunk *c, uint32_t expect_index, uint32_t expect_len,
    const uint8_t **raw, uint8_t hash_out[HASH_LEN])
{
	size_t n;
	int r;

	*raw = NULL;
	if (c->ref || c->index != expect_index || c->raw_len != expect_len ||
	    expect_len == 0 || expect_len > d->cap ||
	    msg_chunk_validate(c) != 0)
		return WH_ERR_PROTOCOL;
	/* Compression is a feature like the others (protocol.md §4.4): a
	 * peer that did not negotiate it does not get to make us inflate. */
	if ((c->stream || c->compressed) && !d->zstd_ok)
		return WH_ERR_PROTOCOL;
	if (c->stream) {
		/* Only with a grant, and never mixed with independent
		 * frames, which would reset the stream's state. */
		if (d->wlog == 0 || c->compressed || c->data.len == 0 ||
		    c->data.len > XFER_STREAM_BOUND(c->raw_len))
			return WH_ERR_PROTOCOL;
		if ((r = decoder_ready(d)) != 0)
			return r;
		if ((r = stream_inflate(d, c, expect_len)) != 0)
			return r;
		*raw = d->buf;
	} else if (c->compressed) {
		if (d->wlog > 0)
			return WH_ERR_PROTOCOL;
		/* Smaller than raw, or it should have been sent raw. */
		if (c->data.len == 0 || c->data.len >= c->raw_len)
			return WH_ERR_PROTOCOL;
		if (decoder_ready(d) != 0)
			return WH_ERR_NOMEM;
		n = ZSTD_decompressDCtx(
		    d->dctx, d->buf, expect_len, c->data.data, c->data.len);
		if (ZSTD_isError(n) || n != expect_len)
			return WH_ERR_DECOMPRESS;
		*raw = d->buf;
	} else {
		if (c->data.len != c->raw_len)
			return WH_ERR_PROTOCOL;
		*raw = c->data.data;
	}
	hash_buf(alg, *raw, expect_len, hash_out);
	if (sodium_memcmp(hash_out, c->hash.data, HASH_LEN) != 0)
		return WH_ERR_BAD_HASH;
	return 0;
}

int
xfer_pread_all(int fd, void *p, size_t len, uint64_t off)
{
	uint8_t *dst = p;
	ssize_t n;

	while (len > 0) {
		n = pread(fd, dst, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return wh_err_from_errno(errno);
		if (n == 0)
			return WH_ERR_IO; /* the file shrank */
		dst += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * Every file written is fsynced before it is committed. Left alone, the
 * kernel holds a big file's pages dirty until that fsync, which then waits
 * for all of them (0.6 s per GiB here). Starting the write-back of each
 * XFER_WRITEBACK_SPAN as soon as a write completes it lets the disk work
 * while the rest arrives, so the final fsync finds little left. Stateless:
 * a write that crosses a span boundary starts the span it just finished,
 * which serves sequential, resumed and striped writers alike. A hint only:
 * its failure changes nothing, the fsync still decides.
 */
static void
writeback_kick(int fd, uint64_t off, size_t len)
{
	uint64_t end = off + len, span = XFER_WRITEBACK_SPAN;
	uint64_t done = end / span * span;

	if (done <= off) /* no span boundary in (off, end] */
		return;
	(void)sync_file_range(
	    fd, (off_t)(done - span), (off_t)span, SYNC_FILE_RANGE_WRITE);
}

int
xfer_pwrite_all(int fd, const void *p, size_t len, uint64_t off)
{
	const uint8_t *src = p;
	uint64_t off0 = off;
	size_t len0 = len;
	ssize_t n;

	while (len > 0) {
		n = pwrite(fd, src, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return wh_err_from_errno(errno);
		src += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	writeback_kick(fd, off0, len0);
	return 0;
}

int
xfer_prefix_digest(int fd, uint64_t max, uint32_t chunk_size, enum hash_alg alg,
    uint8_t *buf, struct xfer_digest *d, uint64_t *len)
{
	uint8_t h[HASH_LEN];
	uint64_t off = 0;
	struct stat st;
	int r;

	xfer_digest_init(d, alg, chunk_size);
	*len = 0;
	if (fstat(fd, &st) != 0)
		return wh_err_from_errno(errno);
	if ((uint64_t)st.st_size < max)
		max = (uint64_t)st.st_size;
	while (max - off >= chunk_size) {
		if ((r = xfer_pread_all(fd, buf, chunk_size, off)) != 0)
			return r;
		hash_buf(alg, buf, chunk_size, h);
		xfer_digest_add(d, h, chunk_size);
		off += chunk_size;
	}
	*len = off;
	return 0;
}

int
xfer_file_sum(int fd, enum hash_alg alg, uint8_t out[HASH_LEN], uint64_t *size)
{
	uint8_t buf[64 * 1024];
	struct hash_ctx h;
	uint64_t off = 0;
	ssize_t n;

	hash_init(&h, alg);
	for (;;) {
		n = pread(fd, buf, sizeof(buf), (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return wh_err_from_errno(errno);
		if (n == 0)
			break;
		hash_update(&h, buf, (size_t)n);
		off += (uint64_t)n;
	}
	hash_final(&h, out);
	*size = off;
	return 0;
}
