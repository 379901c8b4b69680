/* SPDX-License-Identifier: MIT */
/*
 * Content-defined chunking for delta transfers, in the manner of FastCDC:
 * a gear rolling hash over the bytes, a boundary where the hash has
 * enough zero bits, with a stricter mask before the average size and a
 * looser one after it (normalised chunking), and hard minimum and maximum
 * sizes. An insertion moves only the boundaries near it, so the chunks
 * after it keep their hashes.
 *
 * The average is 2^shift bytes, chosen by the receiver from the size of
 * its old data (as rsync scales its block size): small chunks cost index
 * entries, large ones resend more around each edit.
 */
#ifndef WHARF_CDC_H
#define WHARF_CDC_H

#include <stddef.h>
#include <stdint.h>

#include "wharf/wire.h"

#define CDC_SHIFT_MIN WIRE_CDC_SHIFT_MIN /* 8 KiB average */
#define CDC_SHIFT_MAX WIRE_CDC_SHIFT_MAX /* 256 KiB average */
/* The geometry of a DeltaIndex that names none (cdc_shift 0). */
#define CDC_SHIFT_DEFAULT CDC_SHIFT_MAX
/* The largest chunk of any geometry: four times the largest average. */
#define CDC_MAX (4u << CDC_SHIFT_MAX)

struct cdc_geometry {
	size_t min; /* avg / 4 */
	size_t avg; /* 2^shift */
	size_t max; /* avg * 4 */
	uint64_t strict; /* mask before avg: shift + 1 bits */
	uint64_t loose; /* mask after it: shift - 1 bits */
};

/* The geometry for shift (clamped to CDC_SHIFT_MIN..CDC_SHIFT_MAX). */
void cdc_geometry(struct cdc_geometry *g, unsigned shift);

/* The shift that suits old data of size bytes: about sqrt(16 * size). */
unsigned cdc_shift_for(uint64_t size);

/*
 * Length of the chunk that starts at p, given len bytes available and
 * whether they reach the end of the file. Returns 0 if more bytes are
 * needed to decide (only when !at_end and len < g->max).
 */
size_t cdc_next(
    const struct cdc_geometry *g, const uint8_t *p, size_t len, int at_end);

#endif
