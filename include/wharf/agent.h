/* SPDX-License-Identifier: MIT */
/*
 * A client of ssh-agent (draft-miller-ssh-agent): the Ed25519 keys it
 * holds, and signatures made by it, so that a user's keys never leave the
 * agent, as with git and ssh.
 */
#ifndef WHARF_AGENT_H
#define WHARF_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "wharf/err.h"
#include "wharf/sshkey.h"

#define AGENT_KEYS_MAX 16
#define AGENT_MSG_MAX (256u * 1024u)
#define AGENT_TIMEOUT_MS 10000

struct agent {
	int fd;
	uint8_t pks[AGENT_KEYS_MAX][SSHKEY_PK_LEN];
	int nkeys; /* the Ed25519 keys it offered, at most AGENT_KEYS_MAX */
};

/* Connects to $SSH_AUTH_SOCK and lists its Ed25519 keys. WH_ERR_NOT_FOUND
 * when there is no agent. */
int agent_open(struct agent *a) WH_MUST_CHECK;
/* Has the agent sign data with pk's key. */
int agent_sign(struct agent *a, const uint8_t pk[SSHKEY_PK_LEN],
    const uint8_t *data, size_t len, uint8_t sig[SSHKEY_SIG_LEN]) WH_MUST_CHECK;
void agent_close(struct agent *a);

#endif
