/* SPDX-License-Identifier: MIT */
/*
 * HOST:PORT parsing and printing, shared by the listener and the client:
 * names, IPv4, and bracketed IPv6 ("[::1]:4450").
 */
#ifndef WHARF_NETADDR_H
#define WHARF_NETADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "wharf/err.h"

#define NETADDR_HOST_MAX 256
#define NETADDR_STR_MAX 300
/* Bytes of a source key (netaddr_source_key). */
#define NETADDR_KEY_LEN 16
/* Leading bits of an IPv6 address that name one source: a /64 is what one
 * subscriber or one host's interface is given. */
#define NETADDR_V6_SOURCE_BITS 64

/*
 * Splits "HOST[:PORT]" ("[V6][:PORT]" for IPv6). The port defaults to
 * default_port. WH_ERR_INVALID_ARG for malformed input.
 */
int netaddr_split(const char *s, char *host, size_t hostlen, uint16_t *port,
    uint16_t default_port) WH_MUST_CHECK;

/* "host:port", bracketing IPv6 literals; IPv4-mapped IPv6 shown as IPv4. */
void
netaddr_format_host(const char *host, uint16_t port, char *out, size_t outlen);
void
netaddr_format_sockaddr(const struct sockaddr *sa, char *out, size_t outlen);

/*
 * The source a connection counts against, for per-address limits: an IPv4
 * address (also when it arrives IPv4-mapped on an IPv6 socket) as
 * ::ffff:a.b.c.d, an IPv6 address cut to its /64, anything else all zero.
 * Two connections have the same key exactly when they share a source.
 */
void
netaddr_source_key(const struct sockaddr *sa, uint8_t key[NETADDR_KEY_LEN]);

#endif
