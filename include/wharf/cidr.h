/* SPDX-License-Identifier: MIT */
/*
 * Address ranges ("192.0.2.0/24", "2001:db8::/32", or one address) and a
 * list of them, for the configuration options that trust some peers
 * (--proxy-from). IPv4 ranges also match IPv4-mapped IPv6 peers, as an
 * IPv6 listener sees IPv4 clients.
 */
#ifndef WHARF_CIDR_H
#define WHARF_CIDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "wharf/err.h"

/* Ranges one list holds at most. */
#define CIDR_LIST_MAX 64

struct cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* the first 4 bytes for AF_INET */
	unsigned bits;
};

struct cidr_list {
	struct cidr v[CIDR_LIST_MAX];
	size_t n;
};

/* Parses "R[,R...]" into l (emptied first). WH_ERR_INVALID_ARG with the
 * first bad range in bad (bad_len bytes) if any range is malformed. */
int cidr_list_parse(const char *spec, struct cidr_list *l, char *bad,
    size_t bad_len) WH_MUST_CHECK;
/* 1 if sa (AF_INET or AF_INET6) lies in a range of l. */
int cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa);

#endif
