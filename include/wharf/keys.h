/* SPDX-License-Identifier: MIT */
/*
 * Long-term key material on disk: the server's Ed25519 identity, the
 * optional pre-shared key, and fingerprints for people to compare. Secret
 * files are created 0600 and refused if others can read them.
 */
#ifndef WHARF_KEYS_H
#define WHARF_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "wharf/err.h"

#define KEYS_PSK_LEN 32
#define KEYS_HOST_PK_LEN crypto_sign_PUBLICKEYBYTES
#define KEYS_HOST_SK_LEN crypto_sign_SECRETKEYBYTES
/* "SHA256:" + 43 base64 characters + NUL. */
#define KEYS_FINGERPRINT_LEN 64

struct host_key {
	uint8_t pk[KEYS_HOST_PK_LEN];
	uint8_t sk[KEYS_HOST_SK_LEN];
};

/*
 * Loads the host key from path, creating a new one (mode 0600) if the file
 * does not exist. WH_ERR_CORRUPT for a damaged file, WH_ERR_PERMISSION if
 * group or others may read it.
 */
int
keys_host_load_or_create(const char *path, struct host_key *out) WH_MUST_CHECK;
void keys_host_wipe(struct host_key *k);

/* Writes a new random PSK to path; WH_ERR_EXISTS if path exists. */
int keys_psk_generate(const char *path) WH_MUST_CHECK;
/* Reads a PSK written by keys_psk_generate(). */
int keys_psk_load(const char *path, uint8_t out[KEYS_PSK_LEN]) WH_MUST_CHECK;

/* "SHA256:<base64>" of a public key, as OpenSSH prints fingerprints. */
void keys_fingerprint(
    const uint8_t pk[KEYS_HOST_PK_LEN], char out[KEYS_FINGERPRINT_LEN]);

/*
 * known_hosts: one "host:port ed25519 <base64 key>" a line. Returns 0 if
 * the entry for hostport matches pk, WH_ERR_NOT_FOUND if there is none,
 * WH_ERR_HOSTKEY if it differs (*line set to its line number).
 */
int keys_known_host_check(const char *path, const char *hostport,
    const uint8_t pk[KEYS_HOST_PK_LEN], int *line) WH_MUST_CHECK;
/* The longest known_hosts line, without its newline. */
#define KEYS_KNOWN_HOST_LINE_MAX 512
/* The known_hosts line of hostport's key pk, without a newline. */
int keys_known_host_line(const char *hostport,
    const uint8_t pk[KEYS_HOST_PK_LEN], char *out, size_t outlen) WH_MUST_CHECK;
/* Appends an entry, creating the file and its folder as needed. */
int keys_known_host_add(const char *path, const char *hostport,
    const uint8_t pk[KEYS_HOST_PK_LEN]) WH_MUST_CHECK;

#endif
