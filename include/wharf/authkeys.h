/* SPDX-License-Identifier: MIT */
/*
 * Users' authorized keys: STATE/authorized_keys/NAME, one OpenSSH
 * authorized_keys line a key (sshkey.h), mode 0600. The server reads the
 * file at each key login, so an added or removed key counts at once;
 * `wharf user key` edits it atomically, under the users file's lock.
 */
#ifndef WHARF_AUTHKEYS_H
#define WHARF_AUTHKEYS_H

#include <stdint.h>
#include <stdio.h>

#include "wharf/sshkey.h"
#include "wharf/users.h"

#define AUTHKEYS_DIR "authorized_keys"
#define AUTHKEYS_FILE_MAX (1u << 20)

/* STATE/authorized_keys/NAME into out. */
int authkeys_path(const char *state, const char *user, char *out,
    size_t outlen) WH_MUST_CHECK;

/*
 * The entry of user's file for pk into *out: 0, WH_ERR_NOT_FOUND if there
 * is none (or no file), WH_ERR_CORRUPT for a damaged file (the server then
 * refuses every key of that user, and says so in its log).
 */
int authkeys_find(const char *state, const char *user,
    const uint8_t pk[SSHKEY_PK_LEN],
    struct sshkey_authorized *out) WH_MUST_CHECK;

/* Adds one line (checked; WH_ERR_EXISTS if the key is there already). */
int authkeys_add(
    const char *state, const char *user, const char *line) WH_MUST_CHECK;
/* Removes the key whose fingerprint or comment is id. */
int
authkeys_del(const char *state, const char *user, const char *id) WH_MUST_CHECK;
/*
 * Checks a key login (protocol.md §7.1) against the users file at
 * users_path and the keys beside it: the user exists, pk is one of the
 * user's keys, its from= allows addr, and sig signs the login message of
 * transcript th. 0 fills *out (read-only if the key says so), WH_ERR_AUTH
 * for any refusal (*why says which, for the log), WH_ERR_SYSTEM when a
 * file cannot be read. Costs one Ed25519 verification: no Argon2id.
 */
int authkeys_verify_login(const char *users_path, const char *addr,
    const uint8_t th[32], const char *user, const uint8_t *pk, size_t pk_len,
    const uint8_t *sig, size_t sig_len, struct user *out,
    const char **why) WH_MUST_CHECK;

/* Prints "FINGERPRINT comment [options]" a key. */
int authkeys_list(const char *state, const char *user, FILE *f) WH_MUST_CHECK;

#endif
