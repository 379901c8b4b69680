/* SPDX-License-Identifier: MIT */
/*
 * The sender (send.h): one loop body for uploads, downloads, delta
 * transfers and stripe ranges, driven by each side's socket loop.
 */
#include <string.h>

#include "wharf/send.h"

void
xfer_send_init(struct xfer_send *s, int fd, uint64_t size, uint32_t chunk_size,
    enum hash_alg alg, struct xfer_encoder *enc)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->size = size;
	s->chunk_size = chunk_size;
	s->alg = alg;
	s->enc = enc;
	s->end_index = chunk_size ? xfer_chunk_count(size, chunk_size) : 0;
	xfer_digest_init(&s->digest, alg, chunk_size);
}

void
xfer_send_range(struct xfer_send *s, uint64_t first, uint64_t end)
{
	s->next_index = first;
	s->end_index = end;
}

void
xfer_send_resume(
    struct xfer_send *s, uint64_t offset, const struct xfer_digest *d)
{
	s->digest = *d;
	s->next_index = offset / s->chunk_size;
}

int
xfer_send_delta(struct xfer_send *s, struct delta_index *idx)
{
	int r;

	if ((r = cdc_reader_init(&s->rd, s->fd, idx->shift)) != 0)
		return r;
	s->idx = idx;
	s->chunk_size = 0;
	s->next_index = 0;
	xfer_digest_init(&s->digest, s->alg, 0);
	return 0;
}

void
xfer_send_cleanup(struct xfer_send *s)
{
	if (s->idx != NULL)
		cdc_reader_cleanup(&s->rd);
	s->idx = NULL;
}

static int
delta_next(struct xfer_send *s, Wharf__Chunk **out)
{
	const uint8_t *p;
	uint64_t off;
	size_t len;
	int r;

	if ((r = cdc_reader_next(&s->rd, &p, &len, &off)) != 0)
		return r;
	if (len == 0)
		return s->sent == s->size ? 0 : WH_ERR_IO; /* it shrank */
	if (off + len > s->size)
		return WH_ERR_IO; /* it grew */
	hash_buf(s->alg, p, len, s->hash);
	if (delta_index_find(s->idx, s->hash, (uint32_t)len) != NULL) {
		/* The receiver holds this block: a reference to it. */
		wharf__chunk__init(&s->chunk);
		s->chunk.index = (uint32_t)s->next_index;
		s->chunk.raw_len = (uint32_t)len;
		s->chunk.hash.data = s->hash;
		s->chunk.hash.len = HASH_LEN;
		s->chunk.ref = 1;
		s->reused += len;
	} else if ((r = xfer_encode_chunk(s->enc, s->alg,
	                (uint32_t)s->next_index, p, (uint32_t)len, &s->chunk,
	                s->hash)) != 0)
		return r;
	*out = &s->chunk;
	return 0;
}

int
xfer_send_next(struct xfer_send *s, uint8_t *buf, Wharf__Chunk **out)
{
	uint32_t len;
	int r;

	*out = NULL;
	if (s->idx != NULL) {
		if ((r = delta_next(s, out)) != 0 || *out == NULL)
			return r;
	} else {
		if (s->next_index >= s->end_index)
			return 0;
		len = xfer_chunk_len(s->size, s->chunk_size, s->next_index);
		/* WH_ERR_IO: the file shrank under us. */
		if ((r = xfer_pread_all(
		         s->fd, buf, len, s->next_index * s->chunk_size)) != 0)
			return r;
		if ((r = xfer_encode_chunk(s->enc, s->alg,
		         (uint32_t)s->next_index, buf, len, &s->chunk,
		         s->hash)) != 0)
			return r;
		*out = &s->chunk;
	}
	xfer_digest_add(&s->digest, s->hash, s->chunk.raw_len);
	s->sent += s->chunk.raw_len;
	s->last_wire = (uint32_t)s->chunk.data.len;
	s->wire += s->chunk.data.len;
	s->next_index++;
	return 0;
}

void
xfer_send_feedback(struct xfer_send *s, uint64_t queued, double blocked_share)
{
	xfer_encoder_feedback(s->enc, queued, s->last_wire, blocked_share);
}

void
xfer_send_digest(const struct xfer_send *s, uint8_t out[HASH_LEN])
{
	xfer_digest_peek(&s->digest, out);
}
