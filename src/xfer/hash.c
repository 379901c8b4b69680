/* SPDX-License-Identifier: MIT */
/*
 * The content hashes behind one interface, and their wire mapping.
 */
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "wharf/accel.h"
#include "wharf/hash.h"
#include "wharf/wire.h"

/* Digests on the wire are checked by msg_validate against WIRE_DIGEST_LEN. */
_Static_assert(HASH_LEN == WIRE_DIGEST_LEN, "digest lengths differ");

_Static_assert(sizeof(XXH3_state_t) <= HASH_XXH_STATE_MAX,
    "HASH_XXH_STATE_MAX too small for XXH3_state_t");
_Static_assert(alignof(XXH3_state_t) <= 64, "XXH3 state over-aligned");

/*
 * XXH3's SIMD code needs its state 64-byte aligned, which neither malloc
 * nor an enclosing struct promises; and a struct copy may land the state
 * at another offset, so it is moved into place before each use.
 */
static XXH3_state_t *
xxh_state(struct hash_ctx *h)
{
	uintptr_t base = (uintptr_t)h->u.xxh.raw;
	size_t off = (size_t)((64 - (base & 63)) & 63);

	if (off != h->u.xxh.off) {
		memmove(h->u.xxh.raw + off, h->u.xxh.raw + h->u.xxh.off,
		    sizeof(XXH3_state_t));
		h->u.xxh.off = off;
	}
	return (XXH3_state_t *)(void *)(h->u.xxh.raw + off);
}

/* 16 bytes, canonical (big-endian), then 16 zero bytes: one digest
 * length for every field that carries one (protocol.md §9.1). */
static void
xxh_out(XXH128_hash_t v, uint8_t out[HASH_LEN])
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, v);
	memcpy(out, c.digest, sizeof(c.digest));
	memset(out + sizeof(c.digest), 0, HASH_LEN - sizeof(c.digest));
}

void
hash_init(struct hash_ctx *h, enum hash_alg alg)
{
	h->alg = alg;
	if (alg == HASH_SHA256)
		crypto_hash_sha256_init(&h->u.sha);
	else if (alg == HASH_XXH128) {
		h->u.xxh.off = 0;
		(void)XXH3_128bits_reset(xxh_state(h));
	} else
		crypto_generichash_init(&h->u.b2, NULL, 0, HASH_LEN);
}

void
hash_update(struct hash_ctx *h, const void *p, size_t len)
{
	if (h->alg == HASH_SHA256)
		crypto_hash_sha256_update(&h->u.sha, p, len);
	else if (h->alg == HASH_XXH128)
		(void)XXH3_128bits_update(xxh_state(h), p, len);
	else
		crypto_generichash_update(&h->u.b2, p, len);
}

void
hash_final(struct hash_ctx *h, uint8_t out[HASH_LEN])
{
	if (h->alg == HASH_SHA256)
		crypto_hash_sha256_final(&h->u.sha, out);
	else if (h->alg == HASH_XXH128)
		xxh_out(XXH3_128bits_digest(xxh_state(h)), out);
	else
		crypto_generichash_final(&h->u.b2, out, HASH_LEN);
}

void
hash_buf(enum hash_alg alg, const void *p, size_t len, uint8_t out[HASH_LEN])
{
	struct hash_ctx h;
	EVP_MD *md;

	if (alg == HASH_XXH128) {
		xxh_out(XXH3_128bits(p, len), out);
		return;
	}
	/* OpenSSL uses the SHA extensions where the CPU has them; if it
	 * cannot digest (out of memory), libsodium's portable code gives
	 * the same bytes. */
	if (alg == HASH_SHA256 && (md = accel_sha256_md()) != NULL &&
	    EVP_Digest(p, len, out, NULL, md, NULL) == 1)
		return;
	hash_init(&h, alg);
	hash_update(&h, p, len);
	hash_final(&h, out);
}

const char *
hash_alg_name(enum hash_alg alg)
{
	switch (alg) {
	case HASH_SHA256:
		return "sha256";
	case HASH_XXH128:
		return "xxh128";
	case HASH_BLAKE2B:
		break;
	}
	return "blake2b";
}

int
hash_alg_parse(const char *name, enum hash_alg *out)
{
	if (strcmp(name, "blake2b") == 0 || strcmp(name, "b2") == 0)
		*out = HASH_BLAKE2B;
	else if (strcmp(name, "sha256") == 0)
		*out = HASH_SHA256;
	else if (strcmp(name, "xxh128") == 0)
		*out = HASH_XXH128;
	else
		return WH_ERR_INVALID_ARG;
	return 0;
}

void
hash_hex(const uint8_t h[HASH_LEN], char out[HASH_HEX_LEN])
{
	sodium_bin2hex(out, HASH_HEX_LEN, h, HASH_LEN);
}

Wharf__HashAlg
hash_alg_to_wire(enum hash_alg alg)
{
	switch (alg) {
	case HASH_SHA256:
		return WHARF__HASH_ALG__HASH_SHA256;
	case HASH_XXH128:
		return WHARF__HASH_ALG__HASH_XXH128;
	case HASH_BLAKE2B:
		break;
	}
	return WHARF__HASH_ALG__HASH_BLAKE2B;
}

int
hash_alg_allowed(enum hash_alg alg, uint64_t features)
{
	switch (alg) {
	case HASH_SHA256:
		return (features & WIRE_FEAT_SHA256) != 0;
	case HASH_XXH128:
		/* The server grants XXH128 in plaintext sessions only. */
		return (features & WIRE_FEAT_XXH128) != 0;
	case HASH_BLAKE2B:
		break;
	}
	return 1;
}

int
hash_alg_from_wire(Wharf__HashAlg wire, uint64_t features, enum hash_alg *out)
{
	enum hash_alg alg;

	switch (wire) {
	case WHARF__HASH_ALG__HASH_BLAKE2B:
		alg = HASH_BLAKE2B;
		break;
	case WHARF__HASH_ALG__HASH_SHA256:
		alg = HASH_SHA256;
		break;
	case WHARF__HASH_ALG__HASH_XXH128:
		alg = HASH_XXH128;
		break;
	default:
		return WH_ERR_UNSUPPORTED;
	}
	if (!hash_alg_allowed(alg, features))
		return WH_ERR_UNSUPPORTED;
	*out = alg;
	return 0;
}

enum hash_alg
hash_alg_preferred(uint64_t features)
{
	if ((features & WIRE_FEAT_SHA256) && accel_have_sha256())
		return HASH_SHA256;
	return HASH_BLAKE2B;
}
