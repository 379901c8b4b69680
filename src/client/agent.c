/* SPDX-License-Identifier: MIT */
/*
 * ssh-agent protocol over $SSH_AUTH_SOCK: u32 length, one type byte, then
 * the body. Every answer from the agent is read through a capped buffer.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "wharf/agent.h"
#include "wharf/buf.h"

#define AGENT_FAILURE 5
#define AGENTC_REQUEST_IDENTITIES 11
#define AGENT_IDENTITIES_ANSWER 12
#define AGENTC_SIGN_REQUEST 13
#define AGENT_SIGN_RESPONSE 14

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, p, n, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return WH_ERR_SYSTEM;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
read_all(int fd, uint8_t *p, size_t n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t got;

	while (n > 0) {
		if (poll(&pfd, 1, AGENT_TIMEOUT_MS) != 1)
			return WH_ERR_TIMEOUT;
		if ((got = recv(fd, p, n, 0)) < 0) {
			if (errno == EINTR)
				continue;
			return WH_ERR_SYSTEM;
		}
		if (got == 0)
			return WH_ERR_TRUNCATED;
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/* Sends req (type byte first) and reads the answer into *out. */
static int
agent_call(struct agent *a, const struct buf *req, struct buf **out)
{
	uint8_t head[4], *p;
	uint32_t n;
	struct buf *b;
	int r;

	*out = NULL;
	head[0] = (uint8_t)(buf_len(req) >> 24);
	head[1] = (uint8_t)(buf_len(req) >> 16);
	head[2] = (uint8_t)(buf_len(req) >> 8);
	head[3] = (uint8_t)buf_len(req);
	if ((r = write_all(a->fd, head, 4)) != 0 ||
	    (r = write_all(a->fd, buf_ptr(req), buf_len(req))) != 0 ||
	    (r = read_all(a->fd, head, 4)) != 0)
		return r;
	n = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 |
	    (uint32_t)head[2] << 8 | head[3];
	/* The length is checked before anything is allocated for it. */
	if (n == 0 || n > AGENT_MSG_MAX)
		return WH_ERR_FORMAT;
	if ((b = buf_new(n)) == NULL)
		return WH_ERR_NOMEM;
	if ((r = buf_reserve(b, n, &p)) != 0 ||
	    (r = read_all(a->fd, p, n)) != 0) {
		buf_free(b);
		return r;
	}
	buf_commit(b, n);
	*out = b;
	return 0;
}

static int
list_keys(struct agent *a)
{
	struct buf *req = buf_new(1), *ans = NULL;
	const uint8_t *blob, *comment;
	size_t bn, cn;
	uint32_t nkeys, i;
	uint8_t type;
	int r;

	if (req == NULL)
		return WH_ERR_NOMEM;
	if ((r = buf_put_u8(req, AGENTC_REQUEST_IDENTITIES)) != 0 ||
	    (r = agent_call(a, req, &ans)) != 0)
		goto out;
	r = WH_ERR_FORMAT;
	if (buf_get_u8(ans, &type) != 0 || type != AGENT_IDENTITIES_ANSWER ||
	    buf_get_u32(ans, &nkeys) != 0)
		goto out;
	for (i = 0; i < nkeys; i++) {
		if (buf_get_string(ans, &blob, &bn) != 0 ||
		    buf_get_string(ans, &comment, &cn) != 0)
			goto out;
		/* Other key types are the agent's business, not ours. */
		if (a->nkeys < AGENT_KEYS_MAX &&
		    sshkey_from_blob(blob, bn, a->pks[a->nkeys]) == 0)
			a->nkeys++;
	}
	r = buf_get_end(ans);
out:
	buf_free(req);
	buf_free(ans);
	return r;
}

int
agent_open(struct agent *a)
{
	const char *path = getenv("SSH_AUTH_SOCK");
	struct sockaddr_un sun;
	int r;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	if (path == NULL || path[0] == '\0')
		return WH_ERR_NOT_FOUND;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return WH_ERR_TOO_LARGE;
	memcpy(sun.sun_path, path, strlen(path));
	if ((a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return WH_ERR_SYSTEM;
	if (connect(a->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		r = errno == ENOENT || errno == ECONNREFUSED ?
		    WH_ERR_NOT_FOUND :
		    WH_ERR_SYSTEM;
		agent_close(a);
		return r;
	}
	if ((r = list_keys(a)) != 0)
		agent_close(a);
	return r;
}

int
agent_sign(struct agent *a, const uint8_t pk[SSHKEY_PK_LEN],
    const uint8_t *data, size_t len, uint8_t sig[SSHKEY_SIG_LEN])
{
	uint8_t blob[SSHKEY_BLOB_LEN];
	struct buf *req = buf_new(64 + SSHKEY_BLOB_LEN + len), *ans = NULL;
	struct buf *s = NULL;
	const uint8_t *sb, *type, *raw;
	size_t sn, tn, rn;
	uint8_t t;
	int r;

	if (req == NULL)
		return WH_ERR_NOMEM;
	sshkey_blob(pk, blob);
	if ((r = buf_put_u8(req, AGENTC_SIGN_REQUEST)) != 0 ||
	    (r = buf_put_string(req, blob, sizeof(blob))) != 0 ||
	    (r = buf_put_string(req, data, len)) != 0 ||
	    (r = buf_put_u32(req, 0)) != 0 ||
	    (r = agent_call(a, req, &ans)) != 0)
		goto out;
	r = WH_ERR_AUTH;
	if (buf_get_u8(ans, &t) != 0 || t != AGENT_SIGN_RESPONSE)
		goto out; /* refused: locked, or confirmation denied */
	r = WH_ERR_FORMAT;
	if (buf_get_string(ans, &sb, &sn) != 0 || buf_get_end(ans) != 0)
		goto out;
	if ((s = buf_view_new(sb, sn)) == NULL) {
		r = WH_ERR_NOMEM;
		goto out;
	}
	if (buf_get_string(s, &type, &tn) != 0 ||
	    buf_get_string(s, &raw, &rn) != 0 || buf_get_end(s) != 0 ||
	    tn != strlen(SSHKEY_TYPE) || memcmp(type, SSHKEY_TYPE, tn) != 0 ||
	    rn != SSHKEY_SIG_LEN)
		goto out;
	memcpy(sig, raw, SSHKEY_SIG_LEN);
	r = 0;
out:
	buf_free(s);
	buf_free(req);
	buf_free(ans);
	return r;
}

void
agent_close(struct agent *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}
