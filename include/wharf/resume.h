/* SPDX-License-Identifier: MIT */
/*
 * Resuming a transfer (docs/protocol.md §9.1): the receiver offers the
 * whole chunks its partial holds, with their prefix digest; the sender
 * accepts the offer only if its own first bytes have the same digest, and
 * both continue the file digest from there.
 */
#ifndef WHARF_RESUME_H
#define WHARF_RESUME_H

#include <stddef.h>
#include <stdint.h>

#include "wharf/err.h"
#include "wharf/hash.h"
#include "wharf/xfer.h"

/*
 * The receiver's offer: the whole chunks of its partial fd, at most max
 * bytes. *offset gets their length (0: nothing to offer), hash their
 * prefix digest, d the file digest to continue from. buf holds
 * chunk_size bytes.
 */
int xfer_resume_offer(int fd, uint64_t max, uint32_t chunk_size,
    enum hash_alg alg, uint8_t *buf, struct xfer_digest *d, uint64_t *offset,
    uint8_t hash[HASH_LEN]) WH_MUST_CHECK;

/*
 * The sender's answer to an offer of offset bytes with digest hash
 * (hash_len bytes): *accepted is offset if the first offset bytes of fd
 * have that digest, else 0; d is the file digest to continue from
 * (fresh when 0). WH_ERR_PROTOCOL for an offer that is no whole number
 * of chunks or has no whole digest; read errors are returned.
 */
int xfer_resume_accept(int fd, uint64_t offset, const uint8_t *hash,
    size_t hash_len, uint32_t chunk_size, enum hash_alg alg, uint8_t *buf,
    struct xfer_digest *d, uint64_t *accepted) WH_MUST_CHECK;

#endif
