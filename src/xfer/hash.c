/* SPDX-License-Identifier: MIT */
/*
 * The two content hashes, behind one streaming interface.
 */
#include <string.h>

#include "wharf/hash.h"
#include "wharf/wire.h"

/* Digests on the wire are checked by msg_validate against WIRE_DIGEST_LEN. */
_Static_assert(HASH_LEN == WIRE_DIGEST_LEN, "digest lengths differ");

void
hash_init(struct hash_ctx *h, enum hash_alg alg)
{
	h->alg = alg;
	if (alg == HASH_SHA256)
		crypto_hash_sha256_init(&h->u.sha);
	else
		crypto_generichash_init(&h->u.b2, NULL, 0, HASH_LEN);
}

void
hash_update(struct hash_ctx *h, const void *p, size_t len)
{
	if (h->alg == HASH_SHA256)
		crypto_hash_sha256_update(&h->u.sha, p, len);
	else
		crypto_generichash_update(&h->u.b2, p, len);
}

void
hash_final(struct hash_ctx *h, uint8_t out[HASH_LEN])
{
	if (h->alg == HASH_SHA256)
		crypto_hash_sha256_final(&h->u.sha, out);
	else
		crypto_generichash_final(&h->u.b2, out, HASH_LEN);
}

void
hash_buf(enum hash_alg alg, const void *p, size_t len, uint8_t out[HASH_LEN])
{
	struct hash_ctx h;

	hash_init(&h, alg);
	hash_update(&h, p, len);
	hash_final(&h, out);
}

const char *
hash_alg_name(enum hash_alg alg)
{
	return alg == HASH_SHA256 ? "sha256" : "blake2b";
}

int
hash_alg_parse(const char *name, enum hash_alg *out)
{
	if (strcmp(name, "blake2b") == 0 || strcmp(name, "b2") == 0)
		*out = HASH_BLAKE2B;
	else if (strcmp(name, "sha256") == 0)
		*out = HASH_SHA256;
	else
		return WH_ERR_INVALID_ARG;
	return 0;
}

void
hash_hex(const uint8_t h[HASH_LEN], char out[HASH_HEX_LEN])
{
	sodium_bin2hex(out, HASH_HEX_LEN, h, HASH_LEN);
}
