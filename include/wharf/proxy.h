/* SPDX-License-Identifier: MIT */
/*
 * The PROXY protocol header (versions 1 and 2, as HAProxy's send-proxy and
 * send-proxy-v2 write it) that a TCP load balancer puts before the wharf
 * preface to pass on the client's address. The server reads it only from
 * the balancers its configuration lists (--proxy-from): from anyone else
 * the same bytes are a wrong preface.
 */
#ifndef WHARF_PROXY_H
#define WHARF_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "wharf/err.h"

/* v2: "\r\n\r\n\0\r\nQUIT\n", then version/command, family, length. */
#define PROXY_V2_SIG "\r\n\r\n\0\r\nQUIT\n"
#define PROXY_V2_SIG_LEN 12
#define PROXY_V2_HDR_LEN 16
/* Addresses and TLVs after the 16 bytes: the 216 of the specification's
 * longest addresses (AF_UNIX) and room for the TLVs HAProxy may add. Past
 * it the header is refused rather than buffered. */
#define PROXY_V2_BODY_MAX 1024
/* v1: the specification's longest line, "\r\n" included. */
#define PROXY_V1_MAX 107
#define PROXY_HEADER_MAX (PROXY_V2_HDR_LEN + PROXY_V2_BODY_MAX)
/* Bytes to read first: enough to tell v1 ("PROXY ") from v2, never more
 * than the shortest header (v1 "PROXY UNKNOWN\r\n", 15 bytes). */
#define PROXY_PROBE_LEN 8

struct proxy_addr {
	/* 1: a LOCAL command (the balancer's own health check) or an
	 * UNKNOWN/UNIX family: keep the connection's own address. */
	int keep;
	struct sockaddr_storage src;
	socklen_t src_len;
};

/*
 * Parses p[0..len), which holds the first len bytes of the connection.
 *   0                 p is exactly one complete header; *out is filled.
 *   WH_ERR_TRUNCATED  not complete yet: *need (> len) bytes are needed
 *                     before the next call; reading exactly that many
 *                     never reads past the header into the preface.
 *   WH_ERR_FORMAT     not a PROXY header, or a malformed one.
 *   WH_ERR_TOO_LARGE  a v2 header longer than PROXY_V2_BODY_MAX allows,
 *                     or a v1 line longer than PROXY_V1_MAX.
 *   WH_ERR_UNSUPPORTED a well-formed header of another version or command.
 */
int proxy_parse(const uint8_t *p, size_t len, struct proxy_addr *out,
    size_t *need) WH_MUST_CHECK;

/*
 * Reads one header from the socket fd, exactly its bytes, giving up at
 * deadline_ms (clock_mono_ms). proxy_parse's errors, WH_ERR_TIMEOUT,
 * WH_ERR_EOF or WH_ERR_TRUNCATED if the peer closed first.
 */
int
proxy_read(int fd, int64_t deadline_ms, struct proxy_addr *out) WH_MUST_CHECK;

#endif
