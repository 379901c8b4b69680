/* SPDX-License-Identifier: MIT */
/*
 * The connection preface and version choice. The preface lets a server
 * turn away a peer that speaks another protocol after 12 bytes.
 */
#include <string.h>

#include "wharf/wire.h"

void
wire_preface_encode(uint8_t out[WIRE_PREFACE_LEN], uint16_t min, uint16_t max)
{
	memcpy(out, WIRE_MAGIC, WIRE_MAGIC_LEN);
	out[8] = (uint8_t)(min >> 8);
	out[9] = (uint8_t)min;
	out[10] = (uint8_t)(max >> 8);
	out[11] = (uint8_t)max;
}

static int
preface_parse(struct buf *b, struct wire_preface *out)
{
	uint8_t magic[WIRE_MAGIC_LEN];
	int r;

	if ((r = buf_get(b, magic, sizeof(magic))) != 0)
		return r;
	if (memcmp(magic, WIRE_MAGIC, WIRE_MAGIC_LEN) != 0)
		return WH_ERR_FORMAT;
	if ((r = buf_get_u16(b, &out->min_version)) != 0 ||
	    (r = buf_get_u16(b, &out->max_version)) != 0 ||
	    (r = buf_get_end(b)) != 0)
		return r;
	if (out->min_version == 0 || out->min_version > out->max_version)
		return WH_ERR_PROTOCOL;
	return 0;
}

int
wire_preface_decode(const uint8_t *p, size_t len, struct wire_preface *out)
{
	struct buf *b;
	int r;

	if ((b = buf_view_new(p, len)) == NULL)
		return WH_ERR_NOMEM;
	r = preface_parse(b, out);
	buf_free(b);
	return r;
}

uint16_t
wire_version_choose(const struct wire_preface *a, const struct wire_preface *b)
{
	uint16_t lo =
	    a->min_version > b->min_version ? a->min_version : b->min_version;
	uint16_t hi =
	    a->max_version < b->max_version ? a->max_version : b->max_version;

	return lo <= hi ? hi : 0;
}
