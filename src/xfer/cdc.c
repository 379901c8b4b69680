/* SPDX-License-Identifier: MIT */
/*
 * FastCDC-style chunk boundaries. The gear table is fixed (generated once
 * from a fixed seed with splitmix64) because both peers must find the same
 * boundaries for the same bytes: it is part of the protocol.
 */
#include <pthread.h>

#include "wharf/cdc.h"

static uint64_t gear[256];
/* Filled once for all threads: a plain flag would let a thread see it
 * set before the table's values (a data race, and wrong boundaries). */
static pthread_once_t gear_once = PTHREAD_ONCE_INIT;

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void
gear_init(void)
{
	uint64_t seed = UINT64_C(0x7768617266636463); /* "wharfcdc" */
	int i;

	for (i = 0; i < 256; i++)
		gear[i] = splitmix64(&seed);
}

/* A mask of bits ones in the hash's top bits, which mix the most bytes. */
static uint64_t
top_bits(unsigned bits)
{
	return ((UINT64_C(1) << bits) - 1) << (64 - bits);
}

void
cdc_geometry(struct cdc_geometry *g, unsigned shift)
{
	if (shift < CDC_SHIFT_MIN)
		shift = CDC_SHIFT_MIN;
	if (shift > CDC_SHIFT_MAX)
		shift = CDC_SHIFT_MAX;
	g->avg = (size_t)1 << shift;
	g->min = g->avg / 4;
	g->max = g->avg * 4;
	/* One bit either way (FastCDC's level 1): level 2 bunches sizes
	 * closer to the average but, measured on random data, takes longer
	 * to fall back into step after an edit. */
	g->strict = top_bits(shift + 1);
	g->loose = top_bits(shift - 1);
}

unsigned
cdc_shift_for(uint64_t size)
{
	unsigned lg = 0;

	/* Resent bytes around an edit grow with the average, index bytes
	 * with size / average: their sum is least near sqrt(16 * size). */
	while (lg < 63 && (UINT64_C(1) << (lg + 1)) <= size)
		lg++;
	lg = (lg + 4 + 1) / 2;
	if (lg < CDC_SHIFT_MIN)
		return CDC_SHIFT_MIN;
	return lg > CDC_SHIFT_MAX ? CDC_SHIFT_MAX : lg;
}

size_t
cdc_next(const struct cdc_geometry *g, const uint8_t *p, size_t len, int at_end)
{
	uint64_t h = 0;
	size_t i, normal, end;

	pthread_once(&gear_once, gear_init);
	if (len <= g->min)
		return at_end ? len : 0;
	end = len < g->max ? len : g->max;
	normal = g->avg < end ? g->avg : end;
	/* Bytes before the minimum never end a chunk, but they still feed
	 * the hash so that boundaries depend only on content. */
	for (i = g->min - 64; i < g->min; i++)
		h = (h << 1) + gear[p[i]];
	for (i = g->min; i < normal; i++) {
		h = (h << 1) + gear[p[i]];
		if ((h & g->strict) == 0)
			return i + 1;
	}
	for (; i < end; i++) {
		h = (h << 1) + gear[p[i]];
		if ((h & g->loose) == 0)
			return i + 1;
	}
	if (end == g->max || at_end)
		return end;
	return 0;
}
