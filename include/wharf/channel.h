/* SPDX-License-Identifier: MIT */
/*
 * Sealed frames. After the handshake every frame is
 * crypto_secretbox(envelope) under a per-direction key, with a 64-bit
 * message counter as the nonce; the counter is never sent, so a replayed,
 * reordered, dropped or altered frame fails to open and ends the session.
 */
#ifndef WHARF_CHANNEL_H
#define WHARF_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "wharf.pb-c.h"
#include "wharf/err.h"
#include "wharf/handshake.h"
#include "wharf/io.h"

#define SEAL_MAC_LEN crypto_secretbox_MACBYTES
#define SEAL_KEY_LEN crypto_secretbox_KEYBYTES
#define SEAL_GCM_NONCE_LEN 12

_Static_assert(SEAL_MAC_LEN == 16, "both ciphers carry a 16-byte tag");

struct seal {
	int cipher; /* enum seal_cipher */
	unsigned dir; /* AES-256-GCM nonce direction (HS_DIR_*) */
	uint8_t key[SEAL_KEY_LEN];
	uint64_t counter;
	EVP_CIPHER_CTX *gcm; /* keyed once; a new nonce per frame */
};

/* One direction sealed with secretbox. */
void seal_init(struct seal *s, const uint8_t key[SEAL_KEY_LEN]);
/* One direction sealed with cipher; dir is the nonce's direction field
 * (AES-256-GCM only). WH_ERR_UNSUPPORTED if this build or CPU cannot,
 * WH_ERR_NOMEM. */
int seal_init_cipher(struct seal *s, int cipher,
    const uint8_t key[SEAL_KEY_LEN], unsigned dir) WH_MUST_CHECK;
void seal_cleanup(struct seal *s);

/* "secretbox" / "aes256gcm", and back (WH_ERR_INVALID_ARG). */
const char *seal_cipher_name(int cipher);
int seal_cipher_parse(const char *name, int *cipher) WH_MUST_CHECK;
/* A comma-separated list of cipher names into HS_CIPHER_BIT()s. */
int seal_ciphers_parse(const char *list, unsigned *bits) WH_MUST_CHECK;
/* Encrypts len bytes of data in place and writes the tag to mac. */
int seal_close(struct seal *s, uint8_t mac[SEAL_MAC_LEN], uint8_t *data,
    size_t len) WH_MUST_CHECK;
/* AES-256-GCM only: one frame whose plaintext is head (encrypted in
 * place) followed by len bytes of src, encrypted into dst. */
int seal_close_from(struct seal *s, uint8_t mac[SEAL_MAC_LEN], uint8_t *head,
    size_t head_len, uint8_t *dst, const uint8_t *src,
    size_t len) WH_MUST_CHECK;
/* Verifies and decrypts in place; WH_ERR_AUTH if the frame is not the
 * next one under this key. The counter advances only on success. */
int seal_open(struct seal *s, const uint8_t mac[SEAL_MAC_LEN], uint8_t *data,
    size_t len) WH_MUST_CHECK;

struct channel;

/* A plaintext channel over io (owned, freed with the channel). */
struct channel *channel_new(struct wire_io *io);
void channel_free(struct channel *ch);
struct wire_io *channel_io(struct channel *ch);

/* Switches to sealed frames with the handshake's keys and cipher (unless
 * the handshake agreed on plaintext). WH_ERR_NOMEM, or WH_ERR_UNSUPPORTED
 * for a cipher this build cannot run. */
int channel_start(struct channel *ch, const struct hs_result *res);
int channel_is_sealed(const struct channel *ch);
/* enum seal_cipher of a sealed channel. */
int channel_cipher(const struct channel *ch);
/* Largest envelope accepted and sent from now on. */
void channel_set_limit(struct channel *ch, size_t limit);

/* Sends one envelope as one frame. */
int channel_send(struct channel *ch, const Wharf__Envelope *env) WH_MUST_CHECK;
/*
 * From channel_gather() until channel_flush(), sent frames collect in the
 * send buffer and go out in one write (or in writes of about
 * CHANNEL_GATHER_MAX): a run of small answers, or the small frames of a
 * tree's upload, costs one syscall and one segment instead of one each.
 * channel_recv() sends what is gathered first, so nothing can be left
 * waiting while this side waits for the peer, and goes on gathering.
 */
#define CHANNEL_GATHER_MAX (64u * 1024u)
void channel_gather(struct channel *ch);
int channel_flush(struct channel *ch) WH_MUST_CHECK;
/*
 * Receives one envelope (free with msg_free). A frame that fails to open
 * returns WH_ERR_AUTH and poisons the channel: every later call fails.
 */
int channel_recv(struct channel *ch, Wharf__Envelope **out) WH_MUST_CHECK;
/*
 * channel_recv() for a receive loop that is done with each envelope
 * before it receives the next: a big Chunk's data stays in the channel's
 * read buffer, where it was opened, instead of being copied out of it
 * (msg_unpack_borrow). Valid until the next receive on ch; msg_own() it
 * to keep it longer. msg_free() as always.
 */
int
channel_recv_borrow(struct channel *ch, Wharf__Envelope **out) WH_MUST_CHECK;

/* Opens one sealed or plain frame payload in place and decodes it; used by
 * channel_recv() and by the fuzzers. */
int channel_decode(struct channel *ch, uint8_t *payload, size_t len,
    Wharf__Envelope **out) WH_MUST_CHECK;

#endif
