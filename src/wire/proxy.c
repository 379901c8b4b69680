/* SPDX-License-Identifier: MIT */
/*
 * PROXY protocol v1 and v2 headers (haproxy.org/download/2.8/doc/
 * proxy-protocol.txt). The parser sees the connection's first bytes and
 * says how many more it needs, so that the caller reads exactly the
 * header and leaves the wharf preface behind it in the socket. Everything
 * goes through the bounds-checked reader; a v1 line is copied into a
 * NUL-terminated buffer for inet_pton.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "wharf/buf.h"
#include "wharf/clock.h"
#include "wharf/proxy.h"

#define V1_PREFIX "PROXY "
#define V1_PREFIX_LEN 6
#define V2_VERSION 0x2
#define V2_CMD_LOCAL 0x0
#define V2_CMD_PROXY 0x1
#define V2_FAM_UNSPEC 0x0
#define V2_FAM_INET 0x1
#define V2_FAM_INET6 0x2
#define V2_FAM_UNIX 0x3
#define V2_PROTO_STREAM 0x1
/* Source and destination address, source and destination port. */
#define V2_INET_LEN (4 + 4 + 2 + 2)
#define V2_INET6_LEN (16 + 16 + 2 + 2)

static void
set_v4(struct proxy_addr *out, const uint8_t a[4], uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->src;

	memset(&out->src, 0, sizeof(out->src));
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, a, 4);
	sin->sin_port = htons(port);
	out->src_len = sizeof(*sin);
}

static void
set_v6(struct proxy_addr *out, const uint8_t a[16], uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->src;

	memset(&out->src, 0, sizeof(out->src));
	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, a, 16);
	sin6->sin6_port = htons(port);
	out->src_len = sizeof(*sin6);
}

/* ------------------------------------------------------------------ v2 */

/* The v2 header in b, at least PROXY_V2_HDR_LEN bytes (parse_v2). */
static int
parse_v2_buf(struct buf *b, struct proxy_addr *out, size_t *need)
{
	uint8_t sig[PROXY_V2_SIG_LEN], ver_cmd, fam, a[16], skip[16];
	uint16_t body, sport, dport;
	int r;

	if ((r = buf_get(b, sig, sizeof(sig))) != 0 ||
	    (r = buf_get_u8(b, &ver_cmd)) != 0 ||
	    (r = buf_get_u8(b, &fam)) != 0 || (r = buf_get_u16(b, &body)) != 0)
		return r;
	if (memcmp(sig, PROXY_V2_SIG, PROXY_V2_SIG_LEN) != 0)
		return WH_ERR_FORMAT;
	if (ver_cmd >> 4 != V2_VERSION)
		return WH_ERR_UNSUPPORTED;
	if (body > PROXY_V2_BODY_MAX)
		return WH_ERR_TOO_LARGE;
	if (buf_len(b) < body) {
		*need = PROXY_V2_HDR_LEN + (size_t)body;
		return WH_ERR_TRUNCATED;
	}
	if (buf_len(b) > body)
		return WH_ERR_FORMAT; /* the caller read past the header */
	memset(out, 0, sizeof(*out));
	out->keep = 1;
	switch (ver_cmd & 0xf) {
	case V2_CMD_LOCAL:
		/* The balancer speaking for itself: the body is ignored. */
		return 0;
	case V2_CMD_PROXY:
		break;
	default:
		return WH_ERR_UNSUPPORTED;
	}
	switch (fam >> 4) {
	case V2_FAM_UNSPEC:
	case V2_FAM_UNIX:
		/* No address we could limit or log: the balancer's stays. */
		return 0;
	case V2_FAM_INET:
		if ((fam & 0xf) != V2_PROTO_STREAM)
			return WH_ERR_FORMAT;
		if (body < V2_INET_LEN)
			return WH_ERR_FORMAT;
		if ((r = buf_get(b, a, 4)) != 0 ||
		    (r = buf_get(b, skip, 4)) != 0 ||
		    (r = buf_get_u16(b, &sport)) != 0 ||
		    (r = buf_get_u16(b, &dport)) != 0)
			return r;
		set_v4(out, a, sport);
		break;
	case V2_FAM_INET6:
		if ((fam & 0xf) != V2_PROTO_STREAM)
			return WH_ERR_FORMAT;
		if (body < V2_INET6_LEN)
			return WH_ERR_FORMAT;
		if ((r = buf_get(b, a, 16)) != 0 ||
		    (r = buf_get(b, skip, 16)) != 0 ||
		    (r = buf_get_u16(b, &sport)) != 0 ||
		    (r = buf_get_u16(b, &dport)) != 0)
			return r;
		set_v6(out, a, sport);
		break;
	default:
		return WH_ERR_FORMAT;
	}
	/* What follows the addresses (TLVs) tells wharf nothing it uses;
	 * its length was bounded above. */
	out->keep = 0;
	return 0;
}

static int
parse_v2(const uint8_t *p, size_t len, struct proxy_addr *out, size_t *need)
{
	struct buf *b;
	int r;

	if (len < PROXY_V2_HDR_LEN) {
		*need = PROXY_V2_HDR_LEN;
		return WH_ERR_TRUNCATED;
	}
	if ((b = buf_view_new(p, len)) == NULL)
		return WH_ERR_NOMEM;
	r = parse_v2_buf(b, out, need);
	buf_free(b);
	return r;
}

/* ------------------------------------------------------------------ v1 */

/* The next space-separated field of line, NUL-terminated in place. */
static char *
next_field(char **line)
{
	char *f = *line, *sp;

	if (f == NULL || *f == '\0')
		return NULL;
	if ((sp = strchr(f, ' ')) != NULL) {
		*sp = '\0';
		*line = sp + 1;
	} else
		*line = NULL;
	return f;
}

/* A port in decimal, 0 to 65535, without sign or leading zeros. */
static int
parse_port(const char *s, uint16_t *out)
{
	unsigned long v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return WH_ERR_FORMAT;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return WH_ERR_FORMAT;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return WH_ERR_FORMAT;
	*out = (uint16_t)v;
	return 0;
}

static int
parse_v1_line(char *line, struct proxy_addr *out)
{
	char *proto, *src, *dst, *sport, *dport;
	uint8_t a[16], d[16];
	uint16_t sp, dp;
	int af;

	memset(out, 0, sizeof(*out));
	if ((proto = next_field(&line)) == NULL)
		return WH_ERR_FORMAT;
	if (strcmp(proto, "UNKNOWN") == 0) {
		/* Anything may follow; the receiver ignores it. */
		out->keep = 1;
		return 0;
	}
	if (strcmp(proto, "TCP4") == 0)
		af = AF_INET;
	else if (strcmp(proto, "TCP6") == 0)
		af = AF_INET6;
	else
		return WH_ERR_FORMAT;
	if ((src = next_field(&line)) == NULL ||
	    (dst = next_field(&line)) == NULL ||
	    (sport = next_field(&line)) == NULL ||
	    (dport = next_field(&line)) == NULL || line != NULL)
		return WH_ERR_FORMAT;
	if (inet_pton(af, src, a) != 1 || inet_pton(af, dst, d) != 1 ||
	    parse_port(sport, &sp) != 0 || parse_port(dport, &dp) != 0)
		return WH_ERR_FORMAT;
	if (af == AF_INET)
		set_v4(out, a, sp);
	else
		set_v6(out, a, sp);
	return 0;
}

static int
parse_v1(const uint8_t *p, size_t len, struct proxy_addr *out, size_t *need)
{
	char line[PROXY_V1_MAX + 1];
	const uint8_t *body;
	struct buf *b;
	size_t n;
	int r;

	/* One byte at a time: the line ends where "\r\n" does. */
	if (len < 2 || p[len - 2] != '\r' || p[len - 1] != '\n') {
		if (len >= PROXY_V1_MAX)
			return WH_ERR_TOO_LARGE;
		/* No other control byte may come before the end. */
		if (len > 0 && p[len - 1] != '\r' &&
		    (p[len - 1] < 0x20 || p[len - 1] > 0x7e))
			return WH_ERR_FORMAT;
		if (len >= 2 && p[len - 2] == '\r')
			return WH_ERR_FORMAT; /* a CR not before LF */
		*need = len + 1;
		return WH_ERR_TRUNCATED;
	}
	if ((b = buf_view_new(p, len)) == NULL)
		return WH_ERR_NOMEM;
	n = len - V1_PREFIX_LEN - 2;
	if ((r = buf_consume(b, V1_PREFIX_LEN)) != 0 ||
	    (r = buf_get_ptr(b, n, &body)) != 0)
		goto out;
	if (memchr(body, '\r', n) != NULL || memchr(body, '\0', n) != NULL) {
		r = WH_ERR_FORMAT;
		goto out;
	}
	memcpy(line, body, n);
	line[n] = '\0';
	r = parse_v1_line(line, out);
out:
	buf_free(b);
	return r;
}

int
proxy_parse(const uint8_t *p, size_t len, struct proxy_addr *out, size_t *need)
{
	size_t n = len < PROXY_PROBE_LEN ? len : PROXY_PROBE_LEN;

	*need = 0;
	if (len < PROXY_PROBE_LEN) {
		/* What there is must already agree with one of the two. */
		if (memcmp(p, PROXY_V2_SIG, n) != 0 &&
		    memcmp(p, V1_PREFIX,
		        n < V1_PREFIX_LEN ? n : V1_PREFIX_LEN) != 0)
			return WH_ERR_FORMAT;
		*need = PROXY_PROBE_LEN;
		return WH_ERR_TRUNCATED;
	}
	if (memcmp(p, PROXY_V2_SIG, PROXY_PROBE_LEN) == 0)
		return parse_v2(p, len, out, need);
	if (memcmp(p, V1_PREFIX, V1_PREFIX_LEN) == 0)
		return parse_v1(p, len, out, need);
	return WH_ERR_FORMAT;
}

int
proxy_read(int fd, int64_t deadline_ms, struct proxy_addr *out)
{
	uint8_t hdr[PROXY_HEADER_MAX];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t have = 0, need = PROXY_PROBE_LEN;
	int64_t left;
	ssize_t n;
	int r;

	for (;;) {
		while (have < need) {
			if ((left = deadline_ms - clock_mono_ms()) <= 0)
				return WH_ERR_TIMEOUT;
			if ((r = poll(&pfd, 1, (int)left)) < 0 &&
			    errno != EINTR)
				return wh_err_from_errno(errno);
			if (r <= 0)
				continue;
			n = recv(fd, hdr + have, need - have, MSG_DONTWAIT);
			if (n == 0)
				return have == 0 ? WH_ERR_EOF :
				                   WH_ERR_TRUNCATED;
			if (n < 0) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				return wh_err_from_errno(errno);
			}
			have += (size_t)n;
		}
		if ((r = proxy_parse(hdr, have, out, &need)) !=
		    WH_ERR_TRUNCATED)
			return r;
		/* The parser only ever asks for more, and within hdr. */
		if (need <= have || need > sizeof(hdr))
			return WH_ERR_FORMAT;
	}
}
