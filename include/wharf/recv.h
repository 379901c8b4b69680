/* SPDX-License-Identifier: MIT */
/*
 * The receiving half of the transfer engine, push-style: the caller
 * (a socket loop on either side) hands in each Chunk as it arrives; the
 * receiver checks it is the one expected, inflates and verifies it,
 * writes it (or copies a delta reference from old data), keeps the file
 * digest, says how much of the partial is a resumable prefix, and at the
 * end checks the sender's file digest. No sockets, no paths.
 */
#ifndef WHARF_RECV_H
#define WHARF_RECV_H

#include <stdint.h>

#include "wharf/delta.h"
#include "wharf/err.h"
#include "wharf/hash.h"
#include "wharf/xfer.h"

struct xfer_recv {
	enum hash_alg alg;
	uint64_t size;
	uint32_t chunk_size; /* 0 in delta mode: content-defined chunks */
	uint64_t next_index;
	uint64_t end_index; /* fixed chunks: the one after the last taken */
	int fd; /* the partial, written at each chunk's offset */
	struct xfer_decoder *dec; /* borrowed */
	/* Delta mode: the index offered and its source files (borrowed). */
	struct delta_index *idx;
	const int *src;
	uint8_t *refbuf; /* CDC_MAX bytes */
	/* Instead of the pwrite into fd: a stripe's chunk map. */
	int (*write)(void *arg, uint64_t index, const uint8_t *raw,
	    uint32_t len, const uint8_t hash[HASH_LEN]);
	void *write_arg;
	int ranged; /* only [first, end) of the file: no resumable prefix */
	uint64_t offered; /* an unanswered resume offer: chunk 0 restarts */
	uint64_t written; /* delta mode: bytes written so far */
	uint64_t resumed; /* bytes held before, not sent again */
	uint64_t wire; /* chunk data received, as sent */
	uint64_t reused; /* delta mode: bytes copied from old data */
	int write_failed; /* the last error came from the write, not the peer */
	struct xfer_digest digest;
};

/*
 * A receiver of the file of size bytes in chunks of chunk_size (alg for
 * hashes, dec for compressed chunks; both borrowed) into fd, from chunk 0.
 */
void xfer_recv_init(struct xfer_recv *r, int fd, uint64_t size,
    uint32_t chunk_size, enum hash_alg alg, struct xfer_decoder *dec);
/* Only chunks [first, end) (a stripe's range); the digest is the range's. */
void xfer_recv_range(struct xfer_recv *r, uint64_t first, uint64_t end);
/*
 * Continues after offset bytes already held (whole chunks) whose digest
 * is d. With offered (the offer is not answered yet: an upload), the
 * sender may still start over at chunk 0, which cuts the partial.
 */
void xfer_recv_resume(struct xfer_recv *r, uint64_t offset,
    const struct xfer_digest *d, int offered);
/* Delta mode: content-defined chunks; refs name blocks of idx, read from
 * src (DELTA_SOURCES fds) into refbuf (CDC_MAX bytes). */
void xfer_recv_delta(struct xfer_recv *r, struct delta_index *idx,
    const int *src, uint8_t *refbuf);

/*
 * Takes the next chunk. WH_ERR_PROTOCOL for one that is not the next or
 * lies outside the file, WH_ERR_DECOMPRESS for data that does not inflate
 * to its length, WH_ERR_BAD_HASH for a digest mismatch (also for old data
 * that changed under a ref); on a write failure, its error with
 * write_failed set. Nothing is written for a chunk that fails.
 */
int xfer_recv_chunk(struct xfer_recv *r, const Wharf__Chunk *c) WH_MUST_CHECK;

/* Bytes from the file's start that are verified whole chunks: what a
 * failed transfer keeps for a resume (0 for a range). */
uint64_t xfer_recv_prefix(const struct xfer_recv *r);
/* 1 once every chunk expected has arrived. */
int xfer_recv_complete(const struct xfer_recv *r);
/*
 * The end: WH_ERR_PROTOCOL if chunks are missing, WH_ERR_BAD_HASH if the
 * sender's file digest (hash_len bytes) is not that of what arrived.
 */
int xfer_recv_finish(const struct xfer_recv *r, const uint8_t *hash,
    size_t hash_len) WH_MUST_CHECK;

#endif
