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

#endif
