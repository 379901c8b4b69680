/* SPDX-License-Identifier: MIT */
/*
 * Per-address failure records for login delays. A fixed-size table: when
 * full, the oldest record is replaced, so an attacker with many addresses
 * cannot make the server grow.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "wharf/guard.h"

#define GUARD_ADDR_MAX 64

struct record {
	char addr[GUARD_ADDR_MAX];
	int failures;
	time_t last;
};

static struct record table[GUARD_TABLE_MAX];
static pthread_mutex_t guard_mu = PTHREAD_MUTEX_INITIALIZER;

static time_t
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* The record of addr, or a free/oldest slot for it. Lock held. */
static struct record *
slot(const char *addr, time_t t)
{
	struct record *oldest = &table[0];
	size_t i;

	for (i = 0; i < GUARD_TABLE_MAX; i++) {
		struct record *r = &table[i];

		if (r->addr[0] != '\0' && t - r->last > GUARD_FORGET_SECS)
			r->addr[0] = '\0';
		if (r->addr[0] != '\0' && strcmp(r->addr, addr) == 0)
			return r;
		if (r->addr[0] == '\0' ||
		    (oldest->addr[0] != '\0' && r->last < oldest->last))
			oldest = r;
	}
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->addr, sizeof(oldest->addr), "%s", addr);
	return oldest;
}

int
guard_failed(const char *addr)
{
	time_t t = now();
	struct record *r;
	long delay;

	pthread_mutex_lock(&guard_mu);
	r = slot(addr, t);
	if (r->failures < 30)
		r->failures++;
	r->last = t;
	delay = (long)GUARD_DELAY_BASE_MS
	    << (r->failures - 1 < 15 ? r->failures - 1 : 15);
	pthread_mutex_unlock(&guard_mu);
	return delay > GUARD_DELAY_MAX_MS ? GUARD_DELAY_MAX_MS : (int)delay;
}

void
guard_succeeded(const char *addr)
{
	size_t i;

	pthread_mutex_lock(&guard_mu);
	for (i = 0; i < GUARD_TABLE_MAX; i++)
		if (strcmp(table[i].addr, addr) == 0)
			table[i].addr[0] = '\0';
	pthread_mutex_unlock(&guard_mu);
}
