/* SPDX-License-Identifier: MIT */
/*
 * Address ranges (see cidr.h). Parsed with inet_pton on a bounded copy of
 * each range; the prefix length with strnum.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "wharf/cidr.h"
#include "wharf/strnum.h"

/* The longest range text: an IPv6 literal and "/128". */
#define CIDR_TEXT_MAX (INET6_ADDRSTRLEN + 4)

static int
parse_one(const char *s, size_t n, struct cidr *c)
{
	char text[CIDR_TEXT_MAX + 1], *slash;
	long bits;

	if (n == 0 || n > CIDR_TEXT_MAX)
		return WH_ERR_INVALID_ARG;
	memcpy(text, s, n);
	text[n] = '\0';
	memset(c, 0, sizeof(*c));
	if ((slash = strchr(text, '/')) != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, text, c->addr) == 1)
		c->family = AF_INET;
	else if (inet_pton(AF_INET6, text, c->addr) == 1)
		c->family = AF_INET6;
	else
		return WH_ERR_INVALID_ARG;
	c->bits = c->family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		if (strnum_long(slash + 1, 0, (long)c->bits, &bits) != 0)
			return WH_ERR_INVALID_ARG;
		c->bits = (unsigned)bits;
	}
	return 0;
}

int
cidr_list_parse(
    const char *spec, struct cidr_list *l, char *bad, size_t bad_len)
{
	const char *p = spec, *e;
	size_t n;

	l->n = 0;
	if (bad_len > 0)
		bad[0] = '\0';
	for (;;) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (l->n == CIDR_LIST_MAX ||
		    parse_one(p, n, &l->v[l->n]) != 0) {
			snprintf(bad, bad_len, "%.*s", (int)n, p);
			return WH_ERR_INVALID_ARG;
		}
		l->n++;
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

static int
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	uint8_t mask;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

int
cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
		0xff };
	uint8_t a[16];
	int family;
	size_t i;

	if (sa->sa_family == AF_INET) {
		family = AF_INET;
		memcpy(a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		family = AF_INET6;
		memcpy(a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			family = AF_INET;
			memmove(a, a + 12, 4);
		}
	} else
		return 0;
	for (i = 0; i < l->n; i++)
		if (l->v[i].family == family &&
		    prefix_equal(a, l->v[i].addr, l->v[i].bits))
			return 1;
	return 0;
}
