/* SPDX-License-Identifier: MIT */
/*
 * Sealed frame transport. Frame layout after the handshake:
 * length(4) || tag(16) || secretbox ciphertext, where length counts tag and
 * ciphertext. The nonce is the 64-bit frame counter of that direction,
 * little-endian in the first 8 of 24 bytes; keys differ per direction, so
 * the two counters never share a nonce under one key.
 */
#include <stdlib.h>
#include <string.h>

#include "wharf/channel.h"
#include "wharf/msg.h"
#include "wharf/wire.h"

struct channel {
	struct wire_io *io;
	struct buf *out;
	int sealed;
	int broken; /* a frame failed to open: nothing more is trusted */
	int gather; /* frames wait in out until channel_flush */
	size_t limit; /* largest envelope, before sealing */
	struct seal tx;
	struct seal rx;
};

static void
nonce_from_counter(uint8_t nonce[crypto_secretbox_NONCEBYTES], uint64_t ctr)
{
	size_t i;

	memset(nonce, 0, crypto_secretbox_NONCEBYTES);
	for (i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(ctr >> (8 * i));
}

void
seal_init(struct seal *s, const uint8_t key[crypto_secretbox_KEYBYTES])
{
	memcpy(s->key, key, sizeof(s->key));
	s->counter = 0;
}

void
seal_cleanup(struct seal *s)
{
	sodium_memzero(s, sizeof(*s));
}

int
seal_close(struct seal *s, uint8_t mac[SEAL_MAC_LEN], uint8_t *data, size_t len)
{
	uint8_t nonce[crypto_secretbox_NONCEBYTES];

	/* 2^64 frames will not happen; refuse rather than reuse a nonce. */
	if (s->counter == UINT64_MAX)
		return WH_ERR_PROTOCOL;
	nonce_from_counter(nonce, s->counter);
	if (crypto_secretbox_detached(data, mac, data, len, nonce, s->key) != 0)
		return WH_ERR_AUTH;
	s->counter++;
	return 0;
}

int
seal_open(
    struct seal *s, const uint8_t mac[SEAL_MAC_LEN], uint8_t *data, size_t len)
{
	uint8_t nonce[crypto_secretbox_NONCEBYTES];

	if (s->counter == UINT64_MAX)
		return WH_ERR_PROTOCOL;
	nonce_from_counter(nonce, s->counter);
	if (crypto_secretbox_open_detached(
	        data, data, mac, len, nonce, s->key) != 0)
		return WH_ERR_AUTH;
	s->counter++;
	return 0;
}

struct channel *
channel_new(struct wire_io *io)
{
	struct channel *ch = calloc(1, sizeof(*ch));

	if (ch == NULL)
		return NULL;
	/* One frame of the largest size after what a gather holds. */
	ch->out = buf_new(WIRE_FRAME_HEADER + SEAL_MAC_LEN + WIRE_FRAME_MAX +
	    CHANNEL_GATHER_MAX);
	if (ch->out == NULL) {
		free(ch);
		return NULL;
	}
	ch->io = io;
	ch->limit = WIRE_FRAME_MAX_PREAUTH - SEAL_MAC_LEN;
	return ch;
}

void
channel_free(struct channel *ch)
{
	if (ch == NULL)
		return;
	seal_cleanup(&ch->tx);
	seal_cleanup(&ch->rx);
	wire_io_free(ch->io);
	buf_free(ch->out);
	free(ch);
}

struct wire_io *
channel_io(struct channel *ch)
{
	return ch->io;
}

void
channel_start(struct channel *ch, const struct hs_result *res)
{
	if (res->plaintext)
		return;
	seal_init(&ch->tx, res->tx_key);
	seal_init(&ch->rx, res->rx_key);
	ch->sealed = 1;
}

int
channel_is_sealed(const struct channel *ch)
{
	return ch->sealed;
}

void
channel_set_limit(struct channel *ch, size_t limit)
{
	ch->limit = limit;
	/* The tag travels in the frame, on top of the envelope. */
	wire_io_set_limit(ch->io, limit + (ch->sealed ? SEAL_MAC_LEN : 0));
}

/* Writes and empties the send buffer. */
static int
channel_write_out(struct channel *ch)
{
	int r = 0;

	if (buf_len(ch->out) > 0)
		r = wire_io_write(ch->io, buf_ptr(ch->out), buf_len(ch->out));
	buf_reset(ch->out);
	return r;
}

int
channel_send(struct channel *ch, const Wharf__Envelope *env)
{
	size_t head = WIRE_FRAME_HEADER + (ch->sealed ? SEAL_MAC_LEN : 0);
	size_t start = buf_len(ch->out), n;
	uint8_t *p;
	int r;

	if (ch->broken)
		return WH_ERR_AUTH;
	/* Appended after any gathered frames; msg_pack commits nothing
	 * when it fails. */
	if ((r = msg_pack(env, ch->out, head, ch->limit)) != 0)
		return r;
	p = buf_mutable_ptr(ch->out) + start;
	n = buf_len(ch->out) - start - WIRE_FRAME_HEADER;
	p[0] = (uint8_t)(n >> 24);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	if (ch->sealed &&
	    (r = seal_close(&ch->tx, p + WIRE_FRAME_HEADER, p + head,
	         n + WIRE_FRAME_HEADER - head)) != 0) {
		buf_truncate(ch->out, start);
		return r;
	}
	if (ch->gather && buf_len(ch->out) < CHANNEL_GATHER_MAX)
		return 0;
	return channel_write_out(ch);
}

void
channel_gather(struct channel *ch)
{
	ch->gather = 1;
}

int
channel_flush(struct channel *ch)
{
	ch->gather = 0;
	return channel_write_out(ch);
}

int
channel_decode(
    struct channel *ch, uint8_t *payload, size_t len, Wharf__Envelope **out)
{
	int r;

	*out = NULL;
	if (ch->broken)
		return WH_ERR_AUTH;
	if (ch->sealed) {
		if (len < SEAL_MAC_LEN) {
			ch->broken = 1;
			return WH_ERR_AUTH;
		}
		if ((r = seal_open(&ch->rx, payload, payload + SEAL_MAC_LEN,
		         len - SEAL_MAC_LEN)) != 0) {
			ch->broken = 1;
			return r;
		}
		payload += SEAL_MAC_LEN;
		len -= SEAL_MAC_LEN;
	}
	/* Before login the heap a frame may cost is as small as the
	 * frames are. */
	return msg_unpack_budget(
	    payload, len, msg_decode_limit(len, ch->limit), out, NULL);
}

int
channel_recv(struct channel *ch, Wharf__Envelope **out)
{
	uint8_t *payload;
	size_t len;
	int r;

	*out = NULL;
	if (ch->broken)
		return WH_ERR_AUTH;
	/* About to wait for the peer: what was gathered goes first. */
	if ((r = channel_flush(ch)) != 0)
		return r;
	/* Do not let one large frame sent earlier pin memory on an idle
	 * session. */
	buf_shrink(ch->out, WIRE_FRAME_MAX_PREAUTH);
	if ((r = wire_io_read_frame(ch->io, &payload, &len)) != 0)
		return r;
	return channel_decode(ch, payload, len, out);
}
