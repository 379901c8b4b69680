/* SPDX-License-Identifier: MIT */
/*
 * Address strings. Kept apart from socket code so that the parser can be
 * tested and fuzzed on its own.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wharf/netaddr.h"

static int
parse_port(const char *s, uint16_t *port)
{
	unsigned long v;
	char *end;

	if (*s == '\0' || strspn(s, "0123456789") != strlen(s))
		return WH_ERR_INVALID_ARG;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > 65535)
		return WH_ERR_INVALID_ARG;
	*port = (uint16_t)v;
	return 0;
}

int
netaddr_split(const char *s, char *host, size_t hostlen, uint16_t *port,
    uint16_t default_port)
{
	const char *end, *colon;
	size_t n;

	*port = default_port;
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return WH_ERR_INVALID_ARG;
		n = (size_t)(end - s - 1);
		if (end[1] == ':') {
			if (parse_port(end + 2, port) != 0)
				return WH_ERR_INVALID_ARG;
		} else if (end[1] != '\0')
			return WH_ERR_INVALID_ARG;
		s++;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return WH_ERR_INVALID_ARG; /* bare IPv6: needs [] */
		n = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if (colon != NULL && parse_port(colon + 1, port) != 0)
			return WH_ERR_INVALID_ARG;
	}
	if (n == 0 || n >= hostlen)
		return WH_ERR_INVALID_ARG;
	memcpy(host, s, n);
	host[n] = '\0';
	return 0;
}

void
netaddr_format_host(const char *host, uint16_t port, char *out, size_t outlen)
{
	if (strchr(host, ':') != NULL)
		snprintf(out, outlen, "[%s]:%u", host, port);
	else
		snprintf(out, outlen, "%s:%u", host, port);
}

void
netaddr_format_sockaddr(const struct sockaddr *sa, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN];
	const struct sockaddr_in6 *s6;
	const struct sockaddr_in *s4;
	struct in_addr v4;

	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		netaddr_format_host(host, ntohs(s4->sin_port), out, outlen);
	} else if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memcpy(&v4, &s6->sin6_addr.s6_addr[12], sizeof(v4));
			inet_ntop(AF_INET, &v4, host, sizeof(host));
		} else
			inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		netaddr_format_host(host, ntohs(s6->sin6_port), out, outlen);
	} else
		snprintf(out, outlen, "unknown");
}

void
netaddr_source_key(const struct sockaddr *sa, uint8_t key[NETADDR_KEY_LEN])
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };
	const struct sockaddr_in6 *s6;
	const struct sockaddr_in *s4;

	memset(key, 0, NETADDR_KEY_LEN);
	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		memcpy(key, v4mapped, sizeof(v4mapped));
		memcpy(key + sizeof(v4mapped), &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			memcpy(key, s6->sin6_addr.s6_addr, NETADDR_KEY_LEN);
		else
			memcpy(key, s6->sin6_addr.s6_addr,
			    NETADDR_V6_SOURCE_BITS / 8);
	}
}
