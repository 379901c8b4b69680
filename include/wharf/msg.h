/* SPDX-License-Identifier: MIT */
/*
 * Envelope encoding and validation. A message from a peer reaches the rest
 * of the program only through msg_unpack(), which rejects anything the
 * generic protobuf decoder accepts but wharf does not: missing
 * sub-messages, wrong key lengths, over-long fields and counts.
 */
#ifndef WHARF_MSG_H
#define WHARF_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "wharf.pb-c.h"
#include "wharf/buf.h"
#include "wharf/err.h"

/*
 * Appends headroom zero bytes and then env's encoding to out. Fails with
 * WH_ERR_TOO_LARGE if the encoding is over limit.
 */
int msg_pack(const Wharf__Envelope *env, struct buf *out, size_t headroom,
    size_t limit) WH_MUST_CHECK;

/*
 * Decodes and validates len bytes at p into *out (free with msg_free).
 * WH_ERR_FORMAT if the bytes are not a valid Envelope or would cost more
 * heap than msg_decode_limit(len, WIRE_FRAME_MAX), WH_ERR_NOMEM if malloc
 * fails within that. A body of a type this version does not know is not
 * an error: body_case is NOT_SET.
 */
int
msg_unpack(const uint8_t *p, size_t len, Wharf__Envelope **out) WH_MUST_CHECK;

/*
 * msg_unpack() with a budget of heap bytes. *peakp (NULL: not wanted)
 * gets the most heap the decoder held at once, whether it succeeded or
 * not.
 */
int msg_unpack_budget(const uint8_t *p, size_t len, size_t budget,
    Wharf__Envelope **out, size_t *peakp) WH_MUST_CHECK;

/*
 * msg_unpack_budget() for a receive loop that is done with each message
 * before it reads the next: a Chunk whose data is its last field, in an
 * envelope whose chunk is its last field (the layout wharf sends,
 * protocol.md §9), keeps its data where it lies in p instead of a copy
 * (the frame's bytes are changed while decoding and put back after).
 * Such an envelope is valid only as long as p is: one to be kept past
 * the next read must go through msg_own() first. Any other layout, and
 * small data, is decoded as msg_unpack_budget() does.
 */
int msg_unpack_borrow(
    uint8_t *p, size_t len, size_t budget, Wharf__Envelope **out) WH_MUST_CHECK;
/* Gives a borrowed envelope (msg_unpack_borrow) its own copy of the
 * data; nothing for any other. WH_ERR_NOMEM if it cannot. */
int msg_own(Wharf__Envelope *env) WH_MUST_CHECK;

/*
 * The heap a frame of len bytes may cost to decode on a stream whose
 * frame limit is frame_max: up to WIRE_FRAME_MAX_PREAUTH, the pre-login
 * budget (wire.h).
 */
size_t msg_decode_limit(size_t len, size_t frame_max);

/*
 * Heap bytes an envelope from msg_unpack() holds, block headers included:
 * what a queue of decoded messages counts. Only for such envelopes.
 */
size_t msg_decoded_size(const Wharf__Envelope *env);

/* Frees an envelope from msg_unpack() (NULL is fine). */
void msg_free(Wharf__Envelope *env);

/*
 * The checks msg_unpack() runs, for messages built locally: for every
 * body type the fields whose form does not depend on state (key, digest,
 * token and stripe lengths, text without NUL, required sub-messages,
 * ranges of enumerations). WH_ERR_FORMAT if one fails. Handlers may rely
 * on these and need not check them again.
 */
int msg_validate(const Wharf__Envelope *env) WH_MUST_CHECK;
/* msg_validate()'s checks of a Chunk alone: for chunks that reach the
 * transfer engine without an envelope (the chunk fuzzer). */
int msg_chunk_validate(const Wharf__Chunk *c) WH_MUST_CHECK;

/*
 * Copies a bytes field holding text into out as a C string. WH_ERR_FORMAT
 * if it holds a NUL, WH_ERR_TOO_LARGE if it needs more than outlen bytes.
 */
int
msg_text(const ProtobufCBinaryData *b, char *out, size_t outlen) WH_MUST_CHECK;

/* A bytes field that refers to s (not copied). */
ProtobufCBinaryData msg_bytes(const char *s);

/* Name of a body type, for logs ("mkdir", "list", ...). */
const char *msg_body_name(Wharf__Envelope__BodyCase c);

/* Stable wire code for an internal error, and back. */
Wharf__ErrorCode msg_code_from_err(int r);
int msg_err_from_code(Wharf__ErrorCode code);
/* Default one-line text for a wire code ("no such file or directory"). */
const char *msg_code_text(Wharf__ErrorCode code);
/* Upper-case name of a wire code ("NOT_FOUND"). */
const char *msg_code_name(Wharf__ErrorCode code);

#endif
