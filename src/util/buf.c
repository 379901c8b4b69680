/* SPDX-License-Identifier: MIT */
/*
 * The bounds-checked buffer. Lengths are always compared with what remains
 * (buf_len(b) < n), never by adding to an offset that could wrap.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wharf/buf.h"

struct buf {
	uint8_t *data;
	size_t off; /* first unread byte */
	size_t size; /* end of valid bytes */
	size_t alloc; /* bytes allocated (0 for a view) */
	size_t max; /* growth cap */
	int readonly; /* a view over memory the buffer does not own */
};

#define BUF_INITIAL 256

struct buf *
buf_new(size_t max)
{
	struct buf *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->max = max;
	return b;
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	if (!b->readonly)
		free(b->data);
	free(b);
}

struct buf *
buf_view_new(const void *p, size_t len)
{
	struct buf *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	/* The cast is confined here: a view is never written through. */
	b->data = (uint8_t *)(uintptr_t)p;
	b->size = len;
	b->max = len;
	b->readonly = 1;
	return b;
}

size_t
buf_allocated(const struct buf *b)
{
	return b->alloc;
}

size_t
buf_len(const struct buf *b)
{
	return b->size - b->off;
}

const uint8_t *
buf_ptr(const struct buf *b)
{
	return b->data + b->off;
}

uint8_t *
buf_mutable_ptr(struct buf *b)
{
	return b->readonly ? NULL : b->data + b->off;
}

void
buf_reset(struct buf *b)
{
	b->off = b->size = 0;
}

void
buf_shrink(struct buf *b, size_t keep)
{
	uint8_t *p;

	if (b->readonly || b->alloc <= keep || buf_len(b) > keep)
		return;
	if (keep == 0) {
		/* realloc(p, 0) may free p and return NULL. */
		free(b->data);
		b->data = NULL;
		b->alloc = b->off = b->size = 0;
		return;
	}
	if (buf_len(b) > 0)
		memmove(b->data, b->data + b->off, buf_len(b));
	b->size -= b->off;
	b->off = 0;
	if ((p = realloc(b->data, keep)) != NULL) {
		b->data = p;
		b->alloc = keep;
	}
}

void
buf_truncate(struct buf *b, size_t len)
{
	if (len < buf_len(b))
		b->size = b->off + len;
}

int
buf_reserve(struct buf *b, size_t n, uint8_t **dstp)
{
	size_t used, want, na;
	uint8_t *p;

	*dstp = NULL;
	if (b->readonly)
		return WH_ERR_INVALID_ARG;
	used = buf_len(b);
	if (n > b->max || used > b->max - n)
		return WH_ERR_TOO_LARGE;
	/* Reclaim consumed space before growing. */
	if (b->off > 0 && b->alloc - b->size < n) {
		memmove(b->data, b->data + b->off, used);
		b->size = used;
		b->off = 0;
	}
	/* Never hand out NULL, even for zero bytes: callers may memset. */
	if (b->alloc - b->size < n || b->data == NULL) {
		want = b->size + n;
		na = b->alloc ? b->alloc : BUF_INITIAL;
		while (na < want)
			na = na > b->max / 2 ? b->max : na * 2;
		if (na > b->max)
			na = b->max;
		if (na == 0)
			na = 1;
		if ((p = realloc(b->data, na)) == NULL)
			return WH_ERR_NOMEM;
		b->data = p;
		b->alloc = na;
	}
	*dstp = b->data + b->size;
	return 0;
}

void
buf_commit(struct buf *b, size_t n)
{
	/* Only after a successful buf_reserve of at least n. */
	if (n > b->alloc - b->size)
		abort();
	b->size += n;
}

int
buf_put(struct buf *b, const void *p, size_t n)
{
	uint8_t *dst;
	int r;

	if ((r = buf_reserve(b, n, &dst)) != 0)
		return r;
	if (n > 0)
		memcpy(dst, p, n);
	buf_commit(b, n);
	return 0;
}

int
buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put(b, &v, 1);
}

int
buf_put_u16(struct buf *b, uint16_t v)
{
	uint8_t t[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return buf_put(b, t, sizeof(t));
}

int
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t t[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
		(uint8_t)(v >> 8), (uint8_t)v };

	return buf_put(b, t, sizeof(t));
}

int
buf_put_u64(struct buf *b, uint64_t v)
{
	uint8_t t[8];
	int i;

	/* One put: a failure leaves nothing half-written. */
	for (i = 0; i < 8; i++)
		t[i] = (uint8_t)(v >> (56 - 8 * i));
	return buf_put(b, t, sizeof(t));
}

int
buf_get_ptr(struct buf *b, size_t n, const uint8_t **pp)
{
	if (buf_len(b) < n)
		return WH_ERR_TRUNCATED;
	*pp = b->data + b->off;
	b->off += n;
	return 0;
}

int
buf_put_string(struct buf *b, const void *p, size_t n)
{
	int r;

	if (n > UINT32_MAX)
		return WH_ERR_TOO_LARGE;
	if ((r = buf_put_u32(b, (uint32_t)n)) != 0)
		return r;
	return buf_put(b, p, n);
}

int
buf_get_string(struct buf *b, const uint8_t **pp, size_t *np)
{
	size_t save = b->off;
	uint32_t n;
	int r;

	if ((r = buf_get_u32(b, &n)) != 0)
		return r;
	if ((r = buf_get_ptr(b, n, pp)) != 0) {
		b->off = save;
		return r;
	}
	*np = n;
	return 0;
}

int
buf_get(struct buf *b, void *p, size_t n)
{
	const uint8_t *src;
	int r;

	if ((r = buf_get_ptr(b, n, &src)) != 0)
		return r;
	if (n > 0)
		memcpy(p, src, n);
	return 0;
}

int
buf_consume(struct buf *b, size_t n)
{
	const uint8_t *unused;

	return buf_get_ptr(b, n, &unused);
}

int
buf_get_u8(struct buf *b, uint8_t *v)
{
	return buf_get(b, v, 1);
}

int
buf_get_u16(struct buf *b, uint16_t *v)
{
	uint8_t t[2];
	int r;

	if ((r = buf_get(b, t, sizeof(t))) != 0)
		return r;
	*v = (uint16_t)((t[0] << 8) | t[1]);
	return 0;
}

static uint32_t
load_be32(const uint8_t *t)
{
	return ((uint32_t)t[0] << 24) | ((uint32_t)t[1] << 16) |
	    ((uint32_t)t[2] << 8) | t[3];
}

int
buf_get_u32(struct buf *b, uint32_t *v)
{
	uint8_t t[4];
	int r;

	if ((r = buf_get(b, t, sizeof(t))) != 0)
		return r;
	*v = load_be32(t);
	return 0;
}

int
buf_peek_u32(const struct buf *b, uint32_t *v)
{
	if (buf_len(b) < 4)
		return WH_ERR_TRUNCATED;
	*v = load_be32(b->data + b->off);
	return 0;
}

int
buf_get_u64(struct buf *b, uint64_t *v)
{
	uint8_t t[8];
	int r;

	/* One get: a failure consumes nothing. */
	if ((r = buf_get(b, t, sizeof(t))) != 0)
		return r;
	*v = ((uint64_t)load_be32(t) << 32) | load_be32(t + 4);
	return 0;
}

int
buf_get_end(const struct buf *b)
{
	return buf_len(b) == 0 ? 0 : WH_ERR_FORMAT;
}

int
buf_putf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	uint8_t *dst;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return WH_ERR_INVALID_ARG;
	/* One more for vsnprintf's NUL, which is not committed. */
	if ((r = buf_reserve(b, (size_t)n + 1, &dst)) != 0)
		return r;
	va_start(ap, fmt);
	vsnprintf((char *)dst, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf_commit(b, (size_t)n);
	return 0;
}
