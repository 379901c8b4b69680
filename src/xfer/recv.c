/* SPDX-License-Identifier: MIT */
/*
 * The receiver (recv.h): one place where a chunk from a peer is checked,
 * decoded, written and counted, for downloads, uploads, delta transfers
 * and stripe ranges alike.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "wharf/recv.h"

void
xfer_recv_init(struct xfer_recv *r, int fd, uint64_t size, uint32_t chunk_size,
    enum hash_alg alg, struct xfer_decoder *dec)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->size = size;
	r->chunk_size = chunk_size;
	r->alg = alg;
	r->dec = dec;
	r->end_index = chunk_size ? xfer_chunk_count(size, chunk_size) : 0;
	xfer_digest_init(&r->digest, alg, chunk_size);
}

void
xfer_recv_range(struct xfer_recv *r, uint64_t first, uint64_t end)
{
	r->next_index = first;
	r->end_index = end;
	r->ranged = 1;
}

void
xfer_recv_resume(struct xfer_recv *r, uint64_t offset,
    const struct xfer_digest *d, int offered)
{
	r->digest = *d;
	r->next_index = offset / r->chunk_size;
	r->resumed = offset;
	r->offered = offered ? offset : 0;
}

void
xfer_recv_delta(struct xfer_recv *r, struct delta_index *idx, const int *src,
    uint8_t *refbuf)
{
	r->chunk_size = 0;
	r->idx = idx;
	r->src = src;
	r->refbuf = refbuf;
	r->next_index = 0;
	r->end_index = 0;
	xfer_digest_init(&r->digest, r->alg, 0);
}

static int
put(struct xfer_recv *r, uint64_t off, const uint8_t *raw, uint32_t len,
    const uint8_t hash[HASH_LEN])
{
	int e;

	e = r->write != NULL ?
	    r->write(r->write_arg, r->next_index, raw, len, hash) :
	    xfer_pwrite_all(r->fd, raw, len, off);
	r->write_failed = e != 0;
	return e;
}

static int
delta_chunk(struct xfer_recv *r, const Wharf__Chunk *c)
{
	const uint8_t *raw;
	uint8_t h[HASH_LEN];
	int e, reused;

	if ((e = delta_receive_chunk(r->idx, r->src, r->dec, r->alg, c,
	         r->next_index, r->size - r->written, r->refbuf, &raw, h,
	         &reused)) != 0)
		return e;
	if ((e = put(r, r->written, raw, c->raw_len, h)) != 0)
		return e;
	if (reused)
		r->reused += c->raw_len;
	else
		r->wire += c->data.len;
	xfer_digest_add(&r->digest, h, c->raw_len);
	r->written += c->raw_len;
	r->next_index++;
	return 0;
}

int
xfer_recv_chunk(struct xfer_recv *r, const Wharf__Chunk *c)
{
	const uint8_t *raw;
	uint8_t h[HASH_LEN];
	uint32_t len;
	int e;

	r->write_failed = 0;
	if (r->idx != NULL)
		return delta_chunk(r, c);
	/* After a resume offer the sender may still start over at 0. */
	if (r->offered > 0 && c->index == 0 && r->next_index > 0 &&
	    r->next_index * r->chunk_size == r->offered) {
		if (ftruncate(r->fd, 0) != 0) {
			r->write_failed = 1;
			return wh_err_from_errno(errno);
		}
		r->next_index = 0;
		r->resumed = 0;
		xfer_digest_init(&r->digest, r->alg, r->chunk_size);
	}
	r->offered = 0; /* answered: the sender went on, or started over */
	if (r->next_index >= r->end_index)
		return WH_ERR_PROTOCOL; /* past the end of the file or range */
	len = xfer_chunk_len(r->size, r->chunk_size, r->next_index);
	if ((e = xfer_decode_chunk(r->dec, r->alg, c, (uint32_t)r->next_index,
	         len, &raw, h)) != 0)
		return e;
	if ((e = put(r, r->next_index * r->chunk_size, raw, len, h)) != 0)
		return e;
	xfer_digest_add(&r->digest, h, len);
	r->wire += c->data.len;
	r->next_index++;
	return 0;
}

uint64_t
xfer_recv_prefix(const struct xfer_recv *r)
{
	uint64_t off;

	if (r->ranged)
		return 0;
	if (r->idx != NULL)
		return r->written;
	/* The short last chunk counts too: never past the file's end. */
	off = r->next_index * r->chunk_size;
	return off < r->size ? off : r->size;
}

int
xfer_recv_complete(const struct xfer_recv *r)
{
	if (r->idx != NULL)
		return r->written == r->size;
	return r->next_index == r->end_index;
}

int
xfer_recv_finish(
    const struct xfer_recv *r, const uint8_t *hash, size_t hash_len)
{
	uint8_t h[HASH_LEN];

	if (!xfer_recv_complete(r))
		return WH_ERR_PROTOCOL;
	xfer_digest_peek(&r->digest, h);
	if (hash_len != HASH_LEN || sodium_memcmp(h, hash, HASH_LEN) != 0)
		return WH_ERR_BAD_HASH;
	return 0;
}
