/* SPDX-License-Identifier: MIT */
/*
 * The sending half of the transfer engine, pull-style (as zstd's stream
 * is pulled by its callers): each call reads the next chunk of the file
 * into the caller's buffer and encodes it (hash, compression, or a delta
 * reference to a block the receiver offered); the caller puts it on its
 * socket and reports back how the socket coped, which steers the auto
 * compression level. The file digest comes at the end. No sockets.
 */
#ifndef WHARF_SEND_H
#define WHARF_SEND_H

#include <stdint.h>

#include "wharf/delta.h"
#include "wharf/err.h"
#include "wharf/hash.h"
#include "wharf/xfer.h"

struct xfer_send {
	int fd;
	uint64_t size;
	uint32_t chunk_size; /* 0 in delta mode */
	enum hash_alg alg;
	struct xfer_encoder *enc; /* borrowed */
	uint64_t next_index;
	uint64_t end_index; /* fixed chunks: the one after the last */
	/* Delta mode: blocks the receiver holds (borrowed), and the reader
	 * that cuts the file into content-defined chunks. */
	struct delta_index *idx;
	struct cdc_reader rd;
	uint64_t sent; /* raw bytes of the chunks produced */
	uint64_t wire; /* chunk data bytes produced, as encoded */
	uint64_t reused; /* delta mode: bytes sent as references */
	uint32_t last_wire; /* of the last chunk, for the feedback */
	struct xfer_digest digest;
	Wharf__Chunk chunk;
	uint8_t hash[HASH_LEN]; /* the last chunk's, chunk.hash points here */
};

/* A sender of the open file fd of size bytes, in chunks of chunk_size
 * from chunk 0, through enc (borrowed). */
void xfer_send_init(struct xfer_send *s, int fd, uint64_t size,
    uint32_t chunk_size, enum hash_alg alg, struct xfer_encoder *enc);
/* Only chunks [first, end) (a stripe's range); the digest is the range's. */
void xfer_send_range(struct xfer_send *s, uint64_t first, uint64_t end);
/* Continues after an accepted resume of offset bytes with digest d. */
void xfer_send_resume(
    struct xfer_send *s, uint64_t offset, const struct xfer_digest *d);
/* Delta mode: content-defined chunks, references for blocks in idx. */
int xfer_send_delta(struct xfer_send *s, struct delta_index *idx) WH_MUST_CHECK;
void xfer_send_cleanup(struct xfer_send *s);

/*
 * The next chunk, read into buf (chunk_size bytes; unused in delta mode):
 * *out points at it, valid until the next call, or is NULL at the end.
 * WH_ERR_IO if the file shrank or grew while being sent; an encoder
 * failure ends the transfer (a stream cannot skip a chunk).
 */
int xfer_send_next(
    struct xfer_send *s, uint8_t *buf, Wharf__Chunk **out) WH_MUST_CHECK;
/* How the socket took the last chunk (xfer_encoder_feedback). */
void
xfer_send_feedback(struct xfer_send *s, uint64_t queued, double blocked_share);
/* The file (or range) digest of the chunks produced so far. */
void xfer_send_digest(const struct xfer_send *s, uint8_t out[HASH_LEN]);

#endif
