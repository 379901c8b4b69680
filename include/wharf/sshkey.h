/* SPDX-License-Identifier: MIT */
/*
 * Users' Ed25519 keys in OpenSSH's formats, so that a key made by
 * ssh-keygen (or held by ssh-agent) logs in to wharf as it is: the public
 * key blob and its SHA256 fingerprint, authorized_keys lines, unencrypted
 * "openssh-key-v1" private key files, and the message a key login signs.
 */
#ifndef WHARF_SSHKEY_H
#define WHARF_SSHKEY_H

#include <stddef.h>
#include <stdint.h>

#include "wharf/buf.h"
#include "wharf/err.h"

#define SSHKEY_TYPE "ssh-ed25519"
#define SSHKEY_PK_LEN 32
#define SSHKEY_SK_LEN 64 /* libsodium's: seed || public key */
#define SSHKEY_SIG_LEN 64
/* "ssh-ed25519" string and key string: 4 + 11 + 4 + 32. */
#define SSHKEY_BLOB_LEN 51
#define SSHKEY_FP_LEN 51 /* "SHA256:" + 43 base64 characters + NUL */
#define SSHKEY_COMMENT_MAX 128
#define SSHKEY_FROM_MAX 256
#define SSHKEY_LINE_MAX 4096
/* The label a key login signature starts with (protocol.md §7.1). */
#define SSHKEY_LOGIN_LABEL "wharf-v1 user key login"
#define SSHKEY_LOGIN_MSG_MAX 256

/* One line of an authorized_keys file. */
struct sshkey_authorized {
	uint8_t pk[SSHKEY_PK_LEN];
	char comment[SSHKEY_COMMENT_MAX];
	char from[SSHKEY_FROM_MAX]; /* from="..." patterns, "" for any */
	int read_only; /* the "read-only" option */
};

/* The public key blob: string "ssh-ed25519" || string pk. */
void sshkey_blob(const uint8_t pk[SSHKEY_PK_LEN], uint8_t out[SSHKEY_BLOB_LEN]);
/* Parses a blob; WH_ERR_UNSUPPORTED for another key type. */
int sshkey_from_blob(
    const uint8_t *blob, size_t len, uint8_t pk[SSHKEY_PK_LEN]) WH_MUST_CHECK;
/* "SHA256:..." of the blob, as ssh-keygen -l prints it. */
void
sshkey_fingerprint(const uint8_t pk[SSHKEY_PK_LEN], char out[SSHKEY_FP_LEN]);

/*
 * Parses "[options] ssh-ed25519 BASE64 [comment]". Options understood:
 * from="PATTERN,..." and read-only; any other option is refused
 * (WH_ERR_UNSUPPORTED), so that a restriction is never silently dropped.
 * 0, or WH_ERR_NOT_FOUND for a blank or comment line, WH_ERR_UNSUPPORTED
 * for another key type, WH_ERR_FORMAT for a malformed line.
 */
int sshkey_parse_authorized(
    const char *line, struct sshkey_authorized *out) WH_MUST_CHECK;
/* The line for pk: "ssh-ed25519 BASE64 comment", no newline. */
int sshkey_format_public(const uint8_t pk[SSHKEY_PK_LEN], const char *comment,
    char *out, size_t outlen) WH_MUST_CHECK;

/* 1 if addr (a numeric IPv4 or IPv6 address) matches a from= list:
 * comma-separated globs, "!" to refuse. An empty list matches all. */
int sshkey_from_matches(const char *from, const char *addr);

/*
 * Loads an unencrypted openssh-key-v1 Ed25519 key. WH_ERR_UNSUPPORTED for
 * an encrypted key (load it into ssh-agent instead) or another type,
 * WH_ERR_PERMISSION if group or others may read it, WH_ERR_FORMAT if it
 * is not such a file. sk is wiped by the caller.
 */
int sshkey_load_private(const char *path, uint8_t sk[SSHKEY_SK_LEN],
    uint8_t pk[SSHKEY_PK_LEN]) WH_MUST_CHECK;
/* Makes a new key: path (mode 0600, never overwritten) and path.pub. */
int sshkey_generate(const char *path, const char *comment) WH_MUST_CHECK;

/*
 * What a key login signs: the label, the session's transcript hash (so a
 * signature is good for one session only), the user name and the key.
 */
int sshkey_login_message(const uint8_t th[32], const char *user,
    const uint8_t pk[SSHKEY_PK_LEN], uint8_t out[SSHKEY_LOGIN_MSG_MAX],
    size_t *len) WH_MUST_CHECK;

#endif
