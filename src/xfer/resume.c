/* SPDX-License-Identifier: MIT */
/*
 * Resume offers and their acceptance (resume.h), the same for uploads
 * and downloads.
 */
#include <sodium.h>

#include "wharf/resume.h"

int
xfer_resume_offer(int fd, uint64_t max, uint32_t chunk_size, enum hash_alg alg,
    uint8_t *buf, struct xfer_digest *d, uint64_t *offset,
    uint8_t hash[HASH_LEN])
{
	int r;

	*offset = 0;
	r = xfer_prefix_digest(fd, max, chunk_size, alg, buf, d, offset);
	if (r != 0) {
		*offset = 0;
		xfer_digest_init(d, alg, chunk_size);
	}
	xfer_digest_peek(d, hash);
	return r;
}

int
xfer_resume_accept(int fd, uint64_t offset, const uint8_t *hash,
    size_t hash_len, uint32_t chunk_size, enum hash_alg alg, uint8_t *buf,
    struct xfer_digest *d, uint64_t *accepted)
{
	uint8_t h[HASH_LEN];
	uint64_t have;
	int r;

	*accepted = 0;
	xfer_digest_init(d, alg, chunk_size);
	if (offset == 0)
		return 0;
	if (chunk_size == 0 || offset % chunk_size != 0 || hash_len != HASH_LEN)
		return WH_ERR_PROTOCOL;
	if ((r = xfer_prefix_digest(
	         fd, offset, chunk_size, alg, buf, d, &have)) != 0) {
		xfer_digest_init(d, alg, chunk_size);
		return r;
	}
	xfer_digest_peek(d, h);
	/* Only a prefix proven to be ours: a shorter file, or other bytes,
	 * and the transfer starts over. */
	if (have == offset && sodium_memcmp(h, hash, HASH_LEN) == 0)
		*accepted = have;
	else
		xfer_digest_init(d, alg, chunk_size);
	return 0;
}
