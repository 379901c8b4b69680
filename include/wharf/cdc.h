/* SPDX-License-Identifier: MIT */
/*
 * Content-defined chunking for delta transfers, in the manner of FastCDC:
 * a gear rolling hash over the bytes, a boundary where the hash has
 * enough zero bits, with a stricter mask before the average size and a
 * looser one after it (normalised chunking), and hard minimum and maximum
 * sizes. An insertion moves only the boundaries near it, so the chunks
 * after it keep their hashes.
 */
#ifndef WHARF_CDC_H
#define WHARF_CDC_H

#include <stddef.h>
#include <stdint.h>

#define CDC_MIN (64u << 10)
#define CDC_AVG (256u << 10)
#define CDC_MAX (1u << 20)

/*
 * Length of the chunk that starts at p, given len bytes available and
 * whether they reach the end of the file. Returns 0 if more bytes are
 * needed to decide (only when !at_end and len < CDC_MAX).
 */
size_t cdc_next(const uint8_t *p, size_t len, int at_end);

#endif
