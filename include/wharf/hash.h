/* SPDX-License-Identifier: MIT */
/*
 * Content hashes for chunks and whole files: BLAKE2b-256 by default,
 * SHA-256 on request. Both produce 32 bytes and match the standard tools
 * (b2sum -l 256, sha256sum).
 */
#ifndef WHARF_HASH_H
#define WHARF_HASH_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "wharf/err.h"

#define HASH_LEN 32
#define HASH_HEX_LEN (2 * HASH_LEN + 1)

enum hash_alg {
	HASH_BLAKE2B = 0,
	HASH_SHA256 = 1,
};

struct hash_ctx {
	enum hash_alg alg;
	union {
		crypto_generichash_state b2;
		crypto_hash_sha256_state sha;
	} u;
};

void hash_init(struct hash_ctx *h, enum hash_alg alg);
void hash_update(struct hash_ctx *h, const void *p, size_t len);
void hash_final(struct hash_ctx *h, uint8_t out[HASH_LEN]);
/* One-shot. */
void
hash_buf(enum hash_alg alg, const void *p, size_t len, uint8_t out[HASH_LEN]);

/* "blake2b" / "sha256"; and back, WH_ERR_INVALID_ARG for other names. */
const char *hash_alg_name(enum hash_alg alg);
int hash_alg_parse(const char *name, enum hash_alg *out) WH_MUST_CHECK;
/* Lower-case hex of a digest. */
void hash_hex(const uint8_t h[HASH_LEN], char out[HASH_HEX_LEN]);

#endif
