/* SPDX-License-Identifier: MIT */
/*
 * Chunked transfer mechanics shared by both directions: chunk geometry,
 * the chunk-list file digest, chunk encoding (hash, optional zstd) on the
 * sending side and bounded decoding and verification on the receiving
 * side. No sockets and no paths here: callers own the I/O.
 */
#ifndef WHARF_XFER_H
#define WHARF_XFER_H

#include <stddef.h>
#include <stdint.h>

#include <zstd.h>

#include "wharf.pb-c.h"
#include "wharf/err.h"
#include "wharf/hash.h"

#define XFER_CHUNK_DEFAULT (1u << 20)
#define XFER_CHUNK_MIN (64u << 10)
#define XFER_CHUNK_MAX (4u << 20)
/* A compressed chunk must save at least 1/XFER_MIN_SAVING_DIV of its
 * size, or it goes raw: the receiver then spends nothing on it. */
#define XFER_MIN_SAVING_DIV 32
#define XFER_LEVEL_DEFAULT 3
#define XFER_LEVEL_MAX 19
/* The highest level a server compresses at for a client that asks: a
 * level-19 context costs tens of MiB, and the asker is not the payer. */
#define XFER_PEER_LEVEL_MAX 9
/* Auto mode moves between off and this level, starting at the default. */
#define XFER_AUTO_LEVEL_MAX 9
/* After a chunk that did not shrink, auto mode skips this many. */
#define XFER_AUTO_BACKOFF 8
/*
 * Stream compression (the ZSTREAM feature): the compressed chunks of one
 * transfer continue one zstd stream, so each can refer to the data of the
 * ones before it, within a window the receiver grants per transfer (it
 * pays the window in memory). 2^23 = 8 MiB reaches nearly all the gain on
 * text (ratio 7.3 against 6.2 for independent 1 MiB frames) at level 9.
 */
#define XFER_STREAM_WLOG_MIN 10
#define XFER_STREAM_WLOG_MAX 23
/* A stream is given a chunk after a miss only if this much of it
 * shrinks at level 1. */
#define XFER_PROBE_LEN (64u << 10)
/* Auto mode's level step in a stream (1 with independent frames). */
#define XFER_STREAM_LEVEL_STEP 3
/* Most a stream chunk may carry for raw_len bytes: raw blocks for data
 * that does not shrink, a frame's header, and the end of the one before. */
#define XFER_STREAM_BOUND(raw_len) \
	((size_t)(raw_len) + (size_t)(raw_len) / 128 + 128)
/* Name of the partial file beside a target: ".NAME.wharf-part". */
#define XFER_PARTIAL_PREFIX "."
#define XFER_PARTIAL_SUFFIX ".wharf-part"

/* hash_alg_to_wire (hash.c, the one mapping of hash algorithms to the
 * wire's HashAlg). */
Wharf__HashAlg xfer_hash_to_wire(enum hash_alg alg);
/* alg for a wire value: BLAKE2b always, SHA-256 only if sha256_ok (the
 * session negotiated it); WH_ERR_UNSUPPORTED otherwise, XXH3-128
 * included (hash_alg_from_wire takes the session's features for it). */
int xfer_hash_from_wire(
    Wharf__HashAlg h, int sha256_ok, enum hash_alg *alg) WH_MUST_CHECK;

/* 1 if cs is an allowed chunk size. */
int xfer_chunk_size_ok(uint32_t cs);
/* Chunks in a file of size bytes (0 for an empty file). */
uint64_t xfer_chunk_count(uint64_t size, uint32_t chunk_size);
/* Raw length of chunk index (0 past the end). */
uint32_t xfer_chunk_len(uint64_t size, uint32_t chunk_size, uint64_t index);

/*
 * ".NAME.wharf-part" for name into out. WH_ERR_TOO_LARGE if it would be
 * longer than a file name may be.
 */
int xfer_partial_name(const char *name, char *out, size_t outlen) WH_MUST_CHECK;
/*
 * 1 if the len bytes at name have the form of a partial's name (".X" +
 * XFER_PARTIAL_SUFFIX, X not empty). Such names are transfer state, never
 * content: the server reserves them (no request can name one, listings
 * skip them) and sync skips them on both sides.
 */
int xfer_partial_is(const char *name, size_t len);
/*
 * Installs the partial part (open as fd) in dirfd as name: renameat, but
 * only while part still names the inode of fd, so that what lands is the
 * file that was written and verified. WH_ERR_IO if part was replaced or
 * removed meanwhile (then nothing moves). Another process on the machine
 * can still swap the name between the check and the rename: only local
 * users, never a request, can reach a partial's name.
 */
int xfer_partial_install(
    int dirfd, const char *part, int fd, const char *name) WH_MUST_CHECK;

/*
 * The file digest of a transfer: HASH(label || u32 chunk_size || h_0 ||
 * ... || h_n-1 || u64 size), big-endian integers, h_i the digest of chunk
 * i. It binds every chunk, their order and the length, and costs no second
 * pass over the data. A prefix of k whole chunks has the digest of a file
 * of k * chunk_size bytes.
 */
struct xfer_digest {
	struct hash_ctx h;
	uint64_t size;
};

void
xfer_digest_init(struct xfer_digest *d, enum hash_alg alg, uint32_t chunk_size);
void xfer_digest_add(
    struct xfer_digest *d, const uint8_t hash[HASH_LEN], uint32_t raw_len);
/* Digest of what was added so far; d may keep growing afterwards. */
void xfer_digest_peek(const struct xfer_digest *d, uint8_t out[HASH_LEN]);

/* Compression choice of a sender. */
struct xfer_encoder {
	ZSTD_CCtx *cctx;
	ZSTD_CCtx *probe; /* stream: judges a chunk before the stream has it */
	uint8_t *zbuf;
	size_t zcap;
	Wharf__CompressMode mode;
	int level; /* current level; 0 = off */
	int skip; /* auto: chunks left to send raw after a miss */
	double trend; /* auto: recent chunks, +1 link-bound, -1 CPU-bound */
	int last_saved; /* the last chunk went compressed */
	int wlog; /* this transfer's stream window; 0: independent frames */
	int frame_level; /* level of the open stream frame; 0: none open */
	uint64_t raw_bytes;
	uint64_t wire_bytes;
};

int xfer_encoder_init(
    struct xfer_encoder *e, Wharf__CompressMode mode, int level) WH_MUST_CHECK;
void xfer_encoder_cleanup(struct xfer_encoder *e);

/*
 * Starts the encoding of a transfer. With wlog (a window the receiver
 * granted, XFER_STREAM_WLOG_MIN..XFER_STREAM_WLOG_MAX) the compressed
 * chunks continue one zstd stream; with 0 each is a frame of its own. Any
 * stream of an earlier transfer is dropped. The level and the auto mode's
 * state carry over: they describe the link, not the file.
 */
int xfer_encoder_begin(struct xfer_encoder *e, int wlog) WH_MUST_CHECK;

/*
 * Fills out (a Chunk) for len raw bytes: index, hash (into hash_out,
 * which out->hash points at), and data pointing at raw or at the encoder's
 * buffer when compression saved enough. Valid until the next call. In a
 * stream, a chunk given to the compressor is sent as it came out, saving
 * or not: the receiver's stream must see it too. A failure of the
 * compressor ends the transfer (the stream is lost).
 */
int xfer_encode_chunk(struct xfer_encoder *e, enum hash_alg alg, uint32_t index,
    const uint8_t *raw, uint32_t len, Wharf__Chunk *out,
    uint8_t hash_out[HASH_LEN]) WH_MUST_CHECK;

/*
 * Auto mode feedback for a chunk of wire_len bytes (as encoded): queued,
 * what the socket still held of earlier chunks when this one was ready,
 * and blocked_share, the share of the chunk's time spent waiting for the
 * socket. A backlog means the link is the bottleneck and a higher level
 * pays; an empty queue means the link waits for the CPU, and a lower one
 * does. The level moves one step after two chunks that agree.
 */
void xfer_encoder_feedback(struct xfer_encoder *e, uint64_t queued,
    uint32_t wire_len, double blocked_share);

struct xfer_decoder {
	ZSTD_DCtx *dctx;
	uint8_t *buf;
	size_t cap;
	int wlog; /* stream window granted for this transfer; 0: none */
	int zstd_ok; /* ZSTD was negotiated: compressed chunks may come */
};

/* Allocates nothing: the context and buffer come with the first
 * compressed chunk. zstd_ok says whether the session negotiated ZSTD;
 * without it every compressed or stream chunk is WH_ERR_PROTOCOL. */
int xfer_decoder_init(struct xfer_decoder *d, int zstd_ok) WH_MUST_CHECK;
void xfer_decoder_cleanup(struct xfer_decoder *d);

/*
 * Starts the decoding of a transfer: wlog is the stream window granted to
 * its sender (0: none, and stream chunks are refused). A stream never
 * needs more than 2^wlog bytes of history: the decoder refuses a frame
 * that asks for more.
 */
int xfer_decoder_begin(struct xfer_decoder *d, int wlog) WH_MUST_CHECK;

/*
 * Checks a received chunk against what the receiver expects (index,
 * exact raw length, exact hash length, data no longer than raw, or than
 * XFER_STREAM_BOUND for a stream chunk), inflates it into at most raw_len
 * bytes, and verifies its hash. *raw points at the
 * raw bytes, valid until the next call. WH_ERR_PROTOCOL for a malformed
 * chunk, WH_ERR_DECOMPRESS for a frame that does not inflate to exactly
 * raw_len, WH_ERR_BAD_HASH for a digest mismatch.
 */
int xfer_decode_chunk(struct xfer_decoder *d, enum hash_alg alg,
    const Wharf__Chunk *c, uint32_t expect_index, uint32_t expect_len,
    const uint8_t **raw, uint8_t hash_out[HASH_LEN]) WH_MUST_CHECK;

/* Writes of a file start the disk's write-back in spans of this size. */
#define XFER_WRITEBACK_SPAN (8u << 20)

/* Reads exactly len bytes at off (WH_ERR_IO for a short file). */
int xfer_pread_all(int fd, void *p, size_t len, uint64_t off) WH_MUST_CHECK;
/* Writes exactly len bytes at off; starts the write-back of each
 * XFER_WRITEBACK_SPAN the write completes. */
int
xfer_pwrite_all(int fd, const void *p, size_t len, uint64_t off) WH_MUST_CHECK;

/*
 * Digest of the first whole chunks of an open file, up to at most max
 * bytes: the usable resume prefix. *len gets its length (a multiple of
 * chunk_size), d the state to continue from. buf holds chunk_size bytes.
 */
int
xfer_prefix_digest(int fd, uint64_t max, uint32_t chunk_size, enum hash_alg alg,
    uint8_t *buf, struct xfer_digest *d, uint64_t *len) WH_MUST_CHECK;

/* Plain digest of a whole file's content (the `sum` command). */
int xfer_file_sum(int fd, enum hash_alg alg, uint8_t out[HASH_LEN],
    uint64_t *size) WH_MUST_CHECK;

#endif
