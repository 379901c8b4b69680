/* SPDX-License-Identifier: MIT */
/*
 * Protocol constants of wharf v1: the preface, version range, feature bits
 * and the limits every decoder enforces. docs/protocol.md is normative;
 * these names are how the code spells it.
 */
#ifndef WHARF_WIRE_H
#define WHARF_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "wharf/buf.h"
#include "wharf/err.h"

/* Preface: 8 magic bytes, then u16 min and u16 max version, big-endian. */
#define WIRE_MAGIC "\x89WHARF\r\n"
#define WIRE_MAGIC_LEN 8
#define WIRE_PREFACE_LEN 12

#define WIRE_VERSION_MIN 1
#define WIRE_VERSION_MAX 1

#define WIRE_PORT_DEFAULT 4450

/* Frame limits: checked on the 4-byte length before any allocation. */
#define WIRE_FRAME_MAX_PREAUTH (64u * 1024u)
#define WIRE_FRAME_MAX (4u * 1024u * 1024u + 64u * 1024u)
#define WIRE_FRAME_HEADER 4

/*
 * Heap one frame may cost once decoded: WIRE_DECODE_FACTOR bytes per
 * payload byte plus a floor, counted over every block the decoder
 * allocates (its scratch included). Without it the generic decoder turns
 * the 2 bytes of an empty repeated entry into ~140 bytes of heap before
 * any check runs. The factor covers bytes fields, which are copied; the
 * floor the messages with many small fields: after login a DeltaIndex
 * part of 8192 blocks (~1.7 MiB for 311 KiB), before it the handshake and
 * Auth, a few KiB at most.
 */
#define WIRE_DECODE_FACTOR 2u
#define WIRE_DECODE_FLOOR_PREAUTH (64u * 1024u)
#define WIRE_DECODE_FLOOR (2u * 1024u * 1024u)

/* Longest path and name a peer may send (bytes, before any checks). */
#define WIRE_PATH_MAX 4096
#define WIRE_NAME_MAX 255
#define WIRE_USER_MAX 64
#define WIRE_PASSWORD_MAX 1024
/* Entries per ListPart frame: keeps each part far below the frame limit. */
#define WIRE_LIST_PART_ENTRIES 256

#define WIRE_KEY_LEN 32
#define WIRE_SIG_LEN 64
#define WIRE_CONFIRM_LEN 32
/* Chunk and file digests (BLAKE2b-256, SHA-256). */
#define WIRE_DIGEST_LEN 32
/* AuthOk.session_token and Join.token: lets more connections join. */
#define WIRE_TOKEN_LEN 32
/* PutOpen.stripe and StripeCommit.stripe: names a striped upload. */
#define WIRE_STRIPE_ID_LEN 16
/* DeltaIndex.cdc_shift: log2 of the average content-defined chunk. */
#define WIRE_CDC_SHIFT_MIN 13
#define WIRE_CDC_SHIFT_MAX 18

/* Feature bits offered in ClientHello.features. */
#define WIRE_FEAT_ZSTD (UINT64_C(1) << 0)
#define WIRE_FEAT_SHA256 (UINT64_C(1) << 1)
#define WIRE_FEAT_DELTA (UINT64_C(1) << 2)
#define WIRE_FEAT_ZSTREAM (UINT64_C(1) << 3)
#define WIRE_FEAT_KEYAUTH (UINT64_C(1) << 4)
/* HASH_XXH128 transfers; a server grants it in plaintext sessions only. */
#define WIRE_FEAT_XXH128 (UINT64_C(1) << 5)
/* Frames sealed with AES-256-GCM instead of secretbox (protocol.md §5.1);
 * the client offers it, the server's answer decides. */
#define WIRE_FEAT_AES256GCM (UINT64_C(1) << 6)
/* Every feature but the cipher, which is offered only on request. */
#define WIRE_FEATURES_ALL \
	(WIRE_FEAT_ZSTD | WIRE_FEAT_SHA256 | WIRE_FEAT_DELTA | \
	    WIRE_FEAT_ZSTREAM | WIRE_FEAT_KEYAUTH | WIRE_FEAT_XXH128)

struct wire_preface {
	uint16_t min_version;
	uint16_t max_version;
};

/* Writes the 12-byte preface for [min, max] into out. */
void
wire_preface_encode(uint8_t out[WIRE_PREFACE_LEN], uint16_t min, uint16_t max);

/*
 * Parses a 12-byte preface. WH_ERR_FORMAT if the magic is wrong (not a
 * wharf peer), WH_ERR_PROTOCOL if the range is empty or starts at 0.
 */
int wire_preface_decode(
    const uint8_t *p, size_t len, struct wire_preface *out) WH_MUST_CHECK;

/*
 * Chooses the highest version both ranges contain. Returns it, or 0 when
 * the ranges do not overlap.
 */
uint16_t
wire_version_choose(const struct wire_preface *a, const struct wire_preface *b);

/*
 * Frame parsing on bytes already received. If in holds a whole frame,
 * returns 1, points *payload at it (valid until in changes) and consumes
 * it; returns 0 if more bytes are needed. WH_ERR_TOO_LARGE if the declared
 * length is over limit, WH_ERR_PROTOCOL for a zero length (the stream is broken).
 */
int wire_frame_parse(
    struct buf *in, size_t limit, uint8_t **payload, size_t *len) WH_MUST_CHECK;

#endif
