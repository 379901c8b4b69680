/* SPDX-License-Identifier: MIT */
/*
 * Connections that have not logged in yet ("startups", as sshd calls them),
 * counted in total and per source (netaddr_source_key: an IPv4 address, an
 * IPv6 /64), so that neither one address nor a flood from many can take the
 * slots that logins need. The accept loop asks before it starts a session;
 * the session gives its place back when it has logged in or ends.
 */
#ifndef WHARF_STARTUPS_H
#define WHARF_STARTUPS_H

#include <stdint.h>
#include <sys/socket.h>

#include "wharf/err.h"
#include "wharf/netaddr.h"

/* Connections from one source that may be logging in at once. */
#define STARTUPS_PER_SOURCE_DEFAULT 10
/*
 * Random early drop: from STARTUPS_START_DEFAULT connections before login,
 * a new one is refused with probability STARTUPS_RATE_DEFAULT percent,
 * rising to 100 % at "full". The start is twice the per-source limit, so
 * that one source alone never pushes the others into the draw.
 */
#define STARTUPS_START_DEFAULT 20
#define STARTUPS_RATE_DEFAULT 30
/* "full" by default leaves this fraction (1/N) of --max-clients to
 * sessions that have logged in: --max-clients 64 gives 48. */
#define STARTUPS_RESERVE_DIV 4

/* The limits, as sshd's MaxStartups start:rate:full and
 * PerSourceMaxStartups. */
struct startups_limits {
	int start; /* from this many, refuse at random */
	int rate; /* percent refused at start */
	int full; /* refuse every new one at this many */
	int per_source; /* at most this many from one source */
};

typedef enum {
	STARTUPS_ADMIT = 0,
	STARTUPS_PER_SOURCE, /* its source has per_source already */
	STARTUPS_FULL, /* full connections are logging in */
	STARTUPS_EARLY_DROP, /* between start and full: lost the draw */
} startups_verdict;

/* A place held by one connection; owned by its session, which gives it
 * back exactly once (startups_release ignores a second call). */
struct startups_ticket {
	uint8_t key[NETADDR_KEY_LEN];
	int held;
};

struct startups;

/* The defaults for a server of max_clients: STARTUPS_START_DEFAULT:
 * STARTUPS_RATE_DEFAULT:(max_clients less its 1/STARTUPS_RESERVE_DIV),
 * per source STARTUPS_PER_SOURCE_DEFAULT, each at most full. */
void startups_defaults(int max_clients, struct startups_limits *out);

/*
 * Parses "START:RATE:FULL", or "N" for N:100:N (a hard limit, no random
 * drop), into l's start, rate and full. WH_ERR_INVALID_ARG if malformed or
 * out of order: 1 <= START <= FULL, RATE from 0 to 100.
 */
int startups_parse(const char *spec, struct startups_limits *l) WH_MUST_CHECK;

/* 0 if l is usable with max_clients (FULL at most max_clients, the rest as
 * startups_parse, per_source at least 1), else WH_ERR_INVALID_ARG. */
int
startups_check(const struct startups_limits *l, int max_clients) WH_MUST_CHECK;

/* A counter for l (copied), or NULL without memory. Shared by the accept
 * thread and every session: its own mutex guards it. */
struct startups *startups_new(const struct startups_limits *l);
void startups_free(struct startups *st);

/*
 * Decides on a new connection from sa, without blocking. On STARTUPS_ADMIT
 * the connection is counted and t holds its place; any other verdict
 * leaves the counts and t->held alone, and the caller closes it.
 */
startups_verdict startups_admit(
    struct startups *st, const struct sockaddr *sa, struct startups_ticket *t);

/* Gives back t's place, if it holds one (st NULL: nothing to do). */
void startups_release(struct startups *st, struct startups_ticket *t);

/* Connections counted now: in total, and from sa's source. */
int startups_count(struct startups *st, const struct sockaddr *sa, int *same);

#endif
