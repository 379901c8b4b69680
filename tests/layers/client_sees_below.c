/* SPDX-License-Identifier: MIT */
/*
 * Must compile: the control of the layer probes, so that their failures
 * are the layering's and not a broken probe. The client sees its own
 * headers and those of every layer below.
 */
#include "wharf/buf.h"
#include "wharf/channel.h"
#include "wharf/client.h"
#include "wharf/msg.h"
#include "wharf/transfer.h"
#include "wharf/xfer.h"

int wharf_layer_probe(void);

int
wharf_layer_probe(void)
{
	return WIRE_TOKEN_LEN == XFER_CHUNK_DEFAULT;
}
