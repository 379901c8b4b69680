/* SPDX-License-Identifier: MIT */
/*
 * What this CPU accelerates, and the OpenSSL objects that use it. wharf
 * offers SHA-256 (chunk digests) and AES-256-GCM (sealed frames) only
 * where the hardware makes them cheaper than the portable BLAKE2b and
 * secretbox; the probe is the one place that decides.
 *
 * WHARF_DISABLE_AESNI=1 and WHARF_DISABLE_SHANI=1 in the environment make
 * the probe report the feature missing, so that the fallbacks can be
 * tested on any machine (and forced, should a CPU misbehave).
 */
#ifndef WHARF_ACCEL_H
#define WHARF_ACCEL_H

#include <openssl/evp.h>

/*
 * Probes the CPU and fetches the OpenSSL algorithms once. Call it before
 * any sandbox is entered: the first fetch reads OpenSSL's configuration
 * file. The accessors below call it on first use too.
 */
void accel_init(void);

/* SHA-256 in hardware (x86-64 SHA extensions, ARMv8 SHA2). */
int accel_have_sha256(void);
/* AES and carry-less multiply in hardware (AES-NI + PCLMULQDQ, ARMv8
 * AES + PMULL): what makes GCM fast and constant-time. */
int accel_have_aes(void);

/* OpenSSL's SHA-256 and AES-256-GCM, fetched once; NULL if OpenSSL has
 * none (then the feature is not offered). */
EVP_MD *accel_sha256_md(void);
EVP_CIPHER *accel_aes256gcm_cipher(void);

#endif
