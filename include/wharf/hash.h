/* SPDX-License-Identifier: MIT */
/*
 * Content hashes for chunks and whole files: BLAKE2b-256 (the portable
 * default), SHA-256 (OpenSSL, fast where the CPU has SHA extensions) and
 * XXH3-128 (plaintext sessions only: not a cryptographic digest). All
 * give 32 bytes on the wire; BLAKE2b and SHA-256 match b2sum -l 256 and
 * sha256sum. This file is the one place where algorithms meet the wire:
 * names, wire values, the features each needs and the automatic choice.
 */
#ifndef WHARF_HASH_H
#define WHARF_HASH_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "wharf.pb-c.h"
#include "wharf/err.h"

#define HASH_LEN 32
#define HASH_HEX_LEN (2 * HASH_LEN + 1)

enum hash_alg {
	HASH_BLAKE2B = 0,
	HASH_SHA256 = 1,
	HASH_XXH128 = 2,
};

/* Room for XXH3's 64-byte-aligned state wherever the context lies: it
 * moves with struct copies, so its place is found again on each use. */
#define HASH_XXH_STATE_MAX 640

struct hash_ctx {
	enum hash_alg alg;
	union {
		crypto_generichash_state b2;
		crypto_hash_sha256_state sha;
		struct {
			size_t off;
			unsigned char raw[HASH_XXH_STATE_MAX + 64];
		} xxh;
	} u;
};

/*
 * Streaming, for the file digest over chunk digests (a few bytes a chunk)
 * and whole-file sums. SHA-256 streams through libsodium, whose state can
 * be copied by value (xfer_digest_peek does); the bulk of the bytes go
 * through hash_buf.
 */
void hash_init(struct hash_ctx *h, enum hash_alg alg);
void hash_update(struct hash_ctx *h, const void *p, size_t len);
void hash_final(struct hash_ctx *h, uint8_t out[HASH_LEN]);
/* One-shot: every chunk digest. SHA-256 goes through OpenSSL here. */
void
hash_buf(enum hash_alg alg, const void *p, size_t len, uint8_t out[HASH_LEN]);

/* "blake2b" / "sha256" / "xxh128"; and back, WH_ERR_INVALID_ARG for other
 * names. */
const char *hash_alg_name(enum hash_alg alg);
int hash_alg_parse(const char *name, enum hash_alg *out) WH_MUST_CHECK;
/* Lower-case hex of a digest. */
void hash_hex(const uint8_t h[HASH_LEN], char out[HASH_HEX_LEN]);

/* The wire value of alg, and back: WH_ERR_UNSUPPORTED when the session's
 * features (protocol.md §4.4) do not allow it. */
Wharf__HashAlg hash_alg_to_wire(enum hash_alg alg);
int hash_alg_from_wire(
    Wharf__HashAlg wire, uint64_t features, enum hash_alg *out) WH_MUST_CHECK;
/* 1 if a session with these features may use alg. */
int hash_alg_allowed(enum hash_alg alg, uint64_t features);
/*
 * What this machine sends with when nobody forced a hash: SHA-256 where
 * the CPU has SHA extensions and the session allows it, else BLAKE2b
 * (never XXH3: it is chosen by name, in plaintext sessions).
 */
enum hash_alg hash_alg_preferred(uint64_t features);

#endif
