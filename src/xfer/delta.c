/* SPDX-License-Identifier: MIT */
/*
 * Block indexes for delta transfers and a reader that cuts a file into
 * content-defined chunks. The index is a sorted array searched by hash:
 * compact, and built once per file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wharf/cdc.h"
#include "wharf/delta.h"
#include "wharf/msg.h"

#define CDC_READ_BUF (2 * CDC_MAX)

void
delta_index_init(struct delta_index *x)
{
	memset(x, 0, sizeof(*x));
	x->shift = CDC_SHIFT_DEFAULT;
}

void
delta_index_cleanup(struct delta_index *x)
{
	free(x->v);
	delta_index_init(x);
}

static int
push(struct delta_index *x, const struct delta_block *b)
{
	struct delta_block *nv;
	size_t ncap;

	if (x->n == DELTA_INDEX_MAX)
		return WH_ERR_TOO_LARGE;
	if (x->n == x->cap) {
		ncap = x->cap ? x->cap * 2 : 256;
		if ((nv = realloc(x->v, ncap * sizeof(*nv))) == NULL)
			return WH_ERR_NOMEM;
		x->v = nv;
		x->cap = ncap;
	}
	x->v[x->n++] = *b;
	x->sorted = 0;
	return 0;
}

int
delta_index_add(
    struct delta_index *x, const uint8_t hash[HASH_LEN], uint32_t len)
{
	struct delta_block b;

	memset(&b, 0, sizeof(b));
	memcpy(b.hash, hash, HASH_LEN);
	b.len = len;
	return push(x, &b);
}

int
delta_index_take_part(struct delta_index *x, const Wharf__DeltaIndex *di)
{
	size_t i;

	/* The message layer admits 0 (the default) or a valid shift. */
	x->shift = di->cdc_shift ? di->cdc_shift : CDC_SHIFT_DEFAULT;
	for (i = 0; i < di->n_blocks; i++)
		/* Past the limit is no error: fewer refs, more data. */
		if (di->blocks[i]->len > CDC_MAX ||
		    delta_index_add(
		        x, di->blocks[i]->hash.data, di->blocks[i]->len) != 0)
			break;
	return di->done;
}

int
cdc_reader_init(struct cdc_reader *r, int fd, unsigned shift)
{
	memset(r, 0, sizeof(*r));
	cdc_geometry(&r->geo, shift);
	r->fd = fd;
	if ((r->buf = malloc(CDC_READ_BUF)) == NULL)
		return WH_ERR_NOMEM;
	return 0;
}

void
cdc_reader_cleanup(struct cdc_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Tops the buffer up (moving unread bytes to its front). */
static int
refill(struct cdc_reader *r)
{
	ssize_t n;

	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->have - r->pos);
		r->off += r->pos;
		r->have -= r->pos;
		r->pos = 0;
	}
	while (!r->eof && r->have < CDC_READ_BUF) {
		n = pread(r->fd, r->buf + r->have, CDC_READ_BUF - r->have,
		    (off_t)(r->off + r->have));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return wh_err_from_errno(errno);
		if (n == 0)
			r->eof = 1;
		r->have += (size_t)n;
	}
	return 0;
}

int
cdc_reader_next(
    struct cdc_reader *r, const uint8_t **p, size_t *len, uint64_t *off)
{
	size_t k;
	int rc;

	*p = NULL;
	*len = 0;
	if (r->have - r->pos < r->geo.max && !r->eof && (rc = refill(r)) != 0)
		return rc;
	if (r->have == r->pos)
		return 0;
	k = cdc_next(&r->geo, r->buf + r->pos, r->have - r->pos, r->eof);
	if (k == 0)
		return WH_ERR_IO; /* cannot happen with geo.max buffered */
	*p = r->buf + r->pos;
	*len = k;
	*off = r->off + r->pos;
	r->pos += k;
	return 0;
}

int
delta_index_file(struct delta_index *x, int fd, uint8_t src, enum hash_alg alg)
{
	struct cdc_reader rd;
	struct delta_block b;
	const uint8_t *p;
	size_t len;
	uint64_t off;
	int r;

	if ((r = cdc_reader_init(&rd, fd, x->shift)) != 0)
		return r;
	for (;;) {
		if ((r = cdc_reader_next(&rd, &p, &len, &off)) != 0 || len == 0)
			break;
		memset(&b, 0, sizeof(b));
		hash_buf(alg, p, len, b.hash);
		b.len = (uint32_t)len;
		b.src = src;
		b.off = off;
		if ((r = push(x, &b)) != 0)
			break;
	}
	cdc_reader_cleanup(&rd);
	return r;
}

static int
block_cmp(const void *a, const void *b)
{
	const struct delta_block *x = a, *y = b;
	int c = memcmp(x->hash, y->hash, HASH_LEN);

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

const struct delta_block *
delta_index_find(
    struct delta_index *x, const uint8_t hash[HASH_LEN], uint32_t len)
{
	struct delta_block key;

	if (x->n == 0)
		return NULL;
	if (!x->sorted) {
		qsort(x->v, x->n, sizeof(*x->v), block_cmp);
		x->sorted = 1;
	}
	memcpy(key.hash, hash, HASH_LEN);
	key.len = len;
	return bsearch(&key, x->v, x->n, sizeof(*x->v), block_cmp);
}

int
delta_receive_chunk(struct delta_index *x, const int *src,
    struct xfer_decoder *dec, enum hash_alg alg, const Wharf__Chunk *c,
    uint64_t next_index, uint64_t remaining, uint8_t *buf, const uint8_t **raw,
    uint8_t hash_out[HASH_LEN], int *reused)
{
	const struct delta_block *b;
	uint32_t len = c->raw_len;

	*raw = NULL;
	*reused = 0;
	if (c->index != next_index || len == 0 || len > CDC_MAX ||
	    len > remaining || msg_chunk_validate(c) != 0)
		return WH_ERR_PROTOCOL;
	if (!c->ref)
		return xfer_decode_chunk(
		    dec, alg, c, (uint32_t)next_index, len, raw, hash_out);
	if (c->data.len != 0 ||
	    (b = delta_index_find(x, c->hash.data, len)) == NULL)
		return WH_ERR_PROTOCOL;
	/* The old file may have changed since it was indexed: what is
	 * copied is checked like what is sent. */
	if (xfer_pread_all(src[b->src], buf, len, b->off) != 0)
		return WH_ERR_BAD_HASH;
	hash_buf(alg, buf, len, hash_out);
	if (sodium_memcmp(hash_out, c->hash.data, HASH_LEN) != 0)
		return WH_ERR_BAD_HASH;
	*raw = buf;
	*reused = 1;
	return 0;
}

void
delta_index_part(const struct delta_index *x, size_t *next,
    Wharf__BlockRef *refs, Wharf__BlockRef **ptrs, Wharf__DeltaIndex *di)
{
	size_t k;

	for (k = 0; k < DELTA_INDEX_PART && *next < x->n; k++, (*next)++) {
		wharf__block_ref__init(&refs[k]);
		refs[k].len = x->v[*next].len;
		/* protobuf-c never writes through data when packing. */
		refs[k].hash.data = (uint8_t *)(uintptr_t)x->v[*next].hash;
		refs[k].hash.len = HASH_LEN;
		ptrs[k] = &refs[k];
	}
	di->n_blocks = k;
	di->blocks = ptrs;
	di->cdc_shift = x->shift;
	di->done = *next == x->n;
}
