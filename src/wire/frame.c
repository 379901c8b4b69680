/* SPDX-License-Identifier: MIT */
/*
 * Frame boundaries: a 4-byte big-endian length, then that many bytes. The
 * length is checked against the limit before the caller reads (and so
 * allocates) any of the payload.
 */
#include "wharf/wire.h"

int
wire_frame_parse(struct buf *in, size_t limit, uint8_t **payload, size_t *len)
{
	uint32_t n;
	int r;

	*payload = NULL;
	*len = 0;
	if (buf_peek_u32(in, &n) != 0)
		return 0;
	/* Not a frame that failed to decode (which may be skipped): the
	 * stream itself is wrong, and the header was not consumed. */
	if (n == 0)
		return WH_ERR_PROTOCOL;
	if (n > limit)
		return WH_ERR_TOO_LARGE;
	if (buf_len(in) - WIRE_FRAME_HEADER < n)
		return 0;
	if ((r = buf_consume(in, WIRE_FRAME_HEADER)) != 0)
		return r;
	/* In place: sealed frames are opened where they lie. */
	*payload = buf_mutable_ptr(in);
	if (*payload == NULL)
		return WH_ERR_INVALID_ARG;
	if ((r = buf_consume(in, n)) != 0)
		return r;
	*len = n;
	return 1;
}
