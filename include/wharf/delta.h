/* SPDX-License-Identifier: MIT */
/*
 * Delta transfers: the receiver lists the content-defined blocks of what
 * it already holds (the old target, a partial); the sender sends blocks
 * the receiver lacks and mere references for the rest, which the
 * receiver copies from its own files and verifies by hash.
 */
#ifndef WHARF_DELTA_H
#define WHARF_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "wharf/cdc.h"
#include "wharf/err.h"
#include "wharf/hash.h"
#include "wharf/xfer.h"

/* Files a receiver may draw blocks from (old target, old partial). */
#define DELTA_SOURCES 2
/* Most blocks an index may hold: 64 GiB of old data at the average. */
#define DELTA_INDEX_MAX (1u << 18)
/* Smaller files go whole: a delta could save little. */
#define DELTA_MIN_SIZE (64u << 10)
/* Blocks per DeltaIndex frame. */
#define DELTA_INDEX_PART 8192

struct delta_block {
	uint8_t hash[HASH_LEN];
	uint32_t len;
	uint8_t src; /* which source file */
	uint64_t off; /* where in it */
};

struct delta_index {
	struct delta_block *v;
	size_t n;
	size_t cap;
	int sorted;
	/* Chunk geometry (cdc.h): the receiver picks it before indexing, the
	 * sender takes it from the receiver's DeltaIndex. */
	unsigned shift;
};

/* An empty index of the default geometry. */
void delta_index_init(struct delta_index *x);
void delta_index_cleanup(struct delta_index *x);

/*
 * Adds the content-defined blocks (geometry x->shift) of the open file fd
 * (read from its start) as source src. WH_ERR_TOO_LARGE past
 * DELTA_INDEX_MAX blocks.
 */
int delta_index_file(struct delta_index *x, int fd, uint8_t src,
    enum hash_alg alg) WH_MUST_CHECK;
/* Adds one block known by hash and length only (a peer's index). */
int delta_index_add(struct delta_index *x, const uint8_t hash[HASH_LEN],
    uint32_t len) WH_MUST_CHECK;
/*
 * Adds the blocks of one DeltaIndex part from the peer (those that fit)
 * and takes its geometry. Returns whether it was the last part.
 */
int delta_index_take_part(struct delta_index *x, const Wharf__DeltaIndex *di);
/*
 * Fills di with the next part of x to send, from block *next on: at most
 * DELTA_INDEX_PART entries, built in refs and ptrs (that many each), which
 * point into x. Advances *next; sets di->done on the last part.
 */
void delta_index_part(const struct delta_index *x, size_t *next,
    Wharf__BlockRef *refs, Wharf__BlockRef **ptrs, Wharf__DeltaIndex *di);

/* The block with this hash and length, or NULL. */
const struct delta_block *delta_index_find(
    struct delta_index *x, const uint8_t hash[HASH_LEN], uint32_t len);

/*
 * The receiving side of one delta chunk. Checks the framing (index is
 * next, 0 < raw_len <= CDC_MAX, no more than remaining bytes, a whole
 * digest), then yields its raw bytes in *raw: for data, decoded and
 * verified by dec; for a ref, copied from the source fds of the block
 * named in x into buf (CDC_MAX bytes) and verified likewise.
 * WH_ERR_PROTOCOL for bad framing or a block never offered, WH_ERR_BAD_HASH
 * for data or old blocks that do not match their digest. *reused says
 * whether it was a ref.
 */
int delta_receive_chunk(struct delta_index *x, const int *src,
    struct xfer_decoder *dec, enum hash_alg alg, const Wharf__Chunk *c,
    uint64_t next_index, uint64_t remaining, uint8_t *buf, const uint8_t **raw,
    uint8_t hash_out[HASH_LEN], int *reused) WH_MUST_CHECK;

/*
 * Reads a file in content-defined chunks: each call yields the next one
 * (pointer valid until the next call). *len is 0 at the end.
 */
struct cdc_reader {
	struct cdc_geometry geo;
	int fd;
	uint64_t off; /* file offset of buf[0] */
	uint8_t *buf;
	size_t have;
	size_t pos;
	int eof;
};

int cdc_reader_init(struct cdc_reader *r, int fd, unsigned shift) WH_MUST_CHECK;
void cdc_reader_cleanup(struct cdc_reader *r);
int cdc_reader_next(struct cdc_reader *r, const uint8_t **p, size_t *len,
    uint64_t *off) WH_MUST_CHECK;

#endif
