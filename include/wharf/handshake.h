/* SPDX-License-Identifier: MIT */
/*
 * The v1 handshake: ephemeral X25519 on both sides, the server signing the
 * transcript with its Ed25519 host key, an optional pre-shared key mixed
 * into the session keys. Each side is a pure step function over bytes (so
 * tests and fuzzers can tamper between steps) plus a driver over a socket.
 */
#ifndef WHARF_HANDSHAKE_H
#define WHARF_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "wharf/buf.h"
#include "wharf/err.h"
#include "wharf/io.h"
#include "wharf/keys.h"
#include "wharf/wire.h"

#define HS_SESSION_KEY_LEN 32
#define HS_TRANSCRIPT_LEN 32
#define HS_WHY_MAX 256

/* How frames are sealed after the handshake (protocol.md §5). */
enum seal_cipher {
	SEAL_SECRETBOX = 0, /* XSalsa20-Poly1305: every build, the default */
	SEAL_AES256GCM = 1, /* feature AES256GCM: both ends have AES-NI */
};
#define HS_CIPHER_BIT(c) (1u << (c))
#define HS_CIPHERS_DEFAULT \
	(HS_CIPHER_BIT(SEAL_SECRETBOX) | HS_CIPHER_BIT(SEAL_AES256GCM))
/* Nonce direction field of AES-256-GCM frames (§5.1). */
#define HS_DIR_C2S 0u
#define HS_DIR_S2C 1u

struct hs_result {
	uint16_t version;
	uint64_t features;
	int plaintext;
	int psk_required;
	int cipher; /* enum seal_cipher; meaningless if plaintext */
	unsigned
	    tx_dir; /* HS_DIR_C2S on the client, HS_DIR_S2C on the server */
	int send_hash; /* Wharf__HashAlg the server prefers to send */
	uint8_t host_pk[KEYS_HOST_PK_LEN];
	uint8_t tx_key[HS_SESSION_KEY_LEN]; /* this side's sending key */
	uint8_t rx_key[HS_SESSION_KEY_LEN];
	/* TH of protocol.md §4.2: what a key login signs (§7.1), so that
	 * a signature is good for this session only. */
	uint8_t transcript[HS_TRANSCRIPT_LEN];
	/* As the peer sent it, cut to size: escape it (log_quote) to show. */
	char peer_software[64];
};

struct hs_client {
	uint8_t eph_pk[WIRE_KEY_LEN];
	uint8_t eph_sk[WIRE_KEY_LEN];
	uint8_t psk[KEYS_PSK_LEN];
	int have_psk;
	int want_plaintext;
	uint64_t features;
	struct buf *sent; /* preface || ClientHello frame, as sent */
};

struct hs_server_config {
	const struct host_key *host_key;
	const uint8_t *psk; /* NULL, or KEYS_PSK_LEN bytes */
	int allow_plaintext;
	uint64_t features;
	unsigned ciphers; /* HS_CIPHER_BIT()s allowed; 0: HS_CIPHERS_DEFAULT */
	int send_hash; /* Wharf__HashAlg this server prefers to send */
};

/*
 * Client step 1: makes the ephemeral key and the first flight (preface and
 * ClientHello frame), left in c->sent. psk may be NULL.
 */
int hs_client_init(struct hs_client *c, const uint8_t *psk, int want_plaintext,
    uint64_t features) WH_MUST_CHECK;

/*
 * Client step 2: checks the server's 12-byte preface and its first frame
 * payload. On success fills *res; the caller must still check
 * res->host_pk against known hosts. On failure why holds one line for the
 * user: WH_ERR_FORMAT (not a wharf server), WH_ERR_REMOTE (the server
 * refused: busy, version, plaintext), WH_ERR_AUTH (bad signature or
 * confirmation), WH_ERR_PSK, WH_ERR_PROTOCOL.
 */
int hs_client_finish(struct hs_client *c, const uint8_t *server_preface,
    const uint8_t *frame, size_t frame_len, struct hs_result *res, char *why,
    size_t whylen) WH_MUST_CHECK;
void hs_client_cleanup(struct hs_client *c);

/*
 * Server step: given the client's preface and ClientHello payload, appends
 * the reply (server preface and one frame) to out. On failure out holds a
 * reply that tells the client why (an Error frame) when there is one to
 * give, and the result is an error code.
 */
int hs_server_respond(const struct hs_server_config *cfg,
    const uint8_t *client_preface, const uint8_t *hello, size_t hello_len,
    struct buf *out, struct hs_result *res) WH_MUST_CHECK;

/* Appends a server preface and an Error frame (busy, bad preface). */
int
hs_server_refuse(struct buf *out, int code, const char *message) WH_MUST_CHECK;

/* Socket drivers for the steps above. */
int hs_client_run(struct wire_io *io, struct hs_client *c,
    struct hs_result *res, char *why, size_t whylen) WH_MUST_CHECK;
int hs_server_run(struct wire_io *io, const struct hs_server_config *cfg,
    struct hs_result *res, char *why, size_t whylen) WH_MUST_CHECK;

void hs_result_wipe(struct hs_result *res);

#endif
