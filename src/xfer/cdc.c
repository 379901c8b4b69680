/* SPDX-License-Identifier: MIT */
/*
 * FastCDC-style chunk boundaries. The gear table is fixed (generated once
 * from a fixed seed with splitmix64) because both peers must find the same
 * boundaries for the same bytes: it is part of the protocol.
 */
#include "wharf/cdc.h"

/* 2^18 = CDC_AVG: the strict mask has 2 bits more, the loose 2 fewer. */
#define CDC_MASK_STRICT ((UINT64_C(1) << 20) - 1) << 44
#define CDC_MASK_LOOSE ((UINT64_C(1) << 16) - 1) << 48

static uint64_t gear[256];
static int gear_ready;

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

	/* Idempotent: two threads racing here write the same values. */
	for (i = 0; i < 256; i++)
		gear[i] = splitmix64(&seed);
	gear_ready = 1;
}

size_t
cdc_next(const uint8_t *p, size_t len, int at_end)
{
	uint64_t h = 0;
	size_t i, normal, end;

	if (!gear_ready)
		gear_init();
	if (len <= CDC_MIN)
		return at_end ? len : 0;
	end = len < CDC_MAX ? len : CDC_MAX;
	normal = CDC_AVG < end ? CDC_AVG : end;
	/* Bytes before the minimum never end a chunk, but they still feed
	 * the hash so that boundaries depend only on content. */
	for (i = CDC_MIN - 64; i < CDC_MIN; i++)
		h = (h << 1) + gear[p[i]];
	for (i = CDC_MIN; i < normal; i++) {
		h = (h << 1) + gear[p[i]];
		if ((h & (CDC_MASK_STRICT)) == 0)
			return i + 1;
	}
	for (; i < end; i++) {
		h = (h << 1) + gear[p[i]];
		if ((h & (CDC_MASK_LOOSE)) == 0)
			return i + 1;
	}
	if (end == CDC_MAX || at_end)
		return end;
	return 0;
}
