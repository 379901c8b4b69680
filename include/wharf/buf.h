/* SPDX-License-Identifier: MIT */
/*
 * Bounds-checked byte buffer, in the manner of OpenSSH's sshbuf: every byte
 * that arrives from a peer is read through one of these, so that pointer
 * arithmetic on untrusted data happens only in buf.c. A buffer holds the
 * unread bytes [off, size) of an allocation that may grow up to a cap fixed
 * at creation.
 */
#ifndef WHARF_BUF_H
#define WHARF_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "wharf/err.h"

/* Opaque: only buf.c touches the bytes, so every read is bounds-checked. */
struct buf;

/* A growable buffer that never holds more than max bytes. NULL on ENOMEM. */
struct buf *buf_new(size_t max);
void buf_free(struct buf *b);

/*
 * A read-only buffer over len bytes at p (not copied; buf_free frees the
 * buffer, never p), for parsing bytes that are already in memory. NULL on
 * ENOMEM.
 */
struct buf *buf_view_new(const void *p, size_t len);
/* Bytes the buffer holds allocated (0 for a view): what shrinking saves. */
size_t buf_allocated(const struct buf *b);

/* Unread bytes and a pointer to the first of them. */
size_t buf_len(const struct buf *b);
const uint8_t *buf_ptr(const struct buf *b);
uint8_t *buf_mutable_ptr(struct buf *b);

/* Drops all content; keeps (and if over keep, shrinks) the allocation. */
void buf_reset(struct buf *b);
void buf_shrink(struct buf *b, size_t keep);
/* Keeps only the first len unread bytes (no effect if there are fewer). */
void buf_truncate(struct buf *b, size_t len);

/*
 * Makes room for n more bytes at the end and returns a pointer to them in
 * *dstp; the bytes count only after buf_commit(b, n). WH_ERR_TOO_LARGE if
 * the buffer would pass its cap.
 */
int buf_reserve(struct buf *b, size_t n, uint8_t **dstp) WH_MUST_CHECK;
void buf_commit(struct buf *b, size_t n);

/* Appending. All big-endian. */
int buf_put(struct buf *b, const void *p, size_t n) WH_MUST_CHECK;
int buf_put_u8(struct buf *b, uint8_t v) WH_MUST_CHECK;
int buf_put_u16(struct buf *b, uint16_t v) WH_MUST_CHECK;
int buf_put_u32(struct buf *b, uint32_t v) WH_MUST_CHECK;
int buf_put_u64(struct buf *b, uint64_t v) WH_MUST_CHECK;

/* Reading consumes; WH_ERR_TRUNCATED if fewer bytes remain than asked. */
int buf_get(struct buf *b, void *p, size_t n) WH_MUST_CHECK;
int buf_get_u8(struct buf *b, uint8_t *v) WH_MUST_CHECK;
int buf_get_u16(struct buf *b, uint16_t *v) WH_MUST_CHECK;
int buf_get_u32(struct buf *b, uint32_t *v) WH_MUST_CHECK;
int buf_get_u64(struct buf *b, uint64_t *v) WH_MUST_CHECK;
int buf_peek_u32(const struct buf *b, uint32_t *v) WH_MUST_CHECK;
/* Hands out a pointer to the next n bytes and consumes them. */
int buf_get_ptr(struct buf *b, size_t n, const uint8_t **pp) WH_MUST_CHECK;
int buf_consume(struct buf *b, size_t n) WH_MUST_CHECK;
/* SSH-style strings: a u32 length, then that many bytes. */
int buf_put_string(struct buf *b, const void *p, size_t n) WH_MUST_CHECK;
int buf_get_string(struct buf *b, const uint8_t **pp, size_t *np) WH_MUST_CHECK;
/* WH_ERR_FORMAT if any unread bytes remain. */
int buf_get_end(const struct buf *b) WH_MUST_CHECK;
/* Appends printf-formatted text (no NUL); WH_ERR_TOO_LARGE past the cap. */
int buf_putf(struct buf *b, const char *fmt, ...) WH_MUST_CHECK
    __attribute__((format(printf, 2, 3)));

#endif
