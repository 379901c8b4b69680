/* SPDX-License-Identifier: MIT */
/*
 * Counting connections before login, per source and in total, with sshd's
 * MaxStartups random early drop. The sources live in an open-addressing
 * table sized for "full" distinct keys, hashed with a random SipHash key so
 * that a peer cannot choose addresses that collide.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "wharf/startups.h"
#include "wharf/strnum.h"

#define STARTUPS_SPEC_MAX 32
#define STARTUPS_SLOTS_MIN 16
#define STARTUPS_PERCENT 100

struct source {
	uint8_t key[NETADDR_KEY_LEN];
	int count; /* 0: the slot is free */
};

struct startups {
	pthread_mutex_t mu;
	struct startups_limits lim;
	int total;
	size_t mask; /* slots - 1, a power of two */
	struct source *slots;
	uint8_t hash_key[crypto_shorthash_KEYBYTES];
};

void
startups_defaults(int max_clients, struct startups_limits *out)
{
	int full = max_clients - max_clients / STARTUPS_RESERVE_DIV;

	if (full < 1)
		full = 1;
	out->full = full;
	out->start =
	    STARTUPS_START_DEFAULT < full ? STARTUPS_START_DEFAULT : full;
	out->rate = STARTUPS_RATE_DEFAULT;
	out->per_source = STARTUPS_PER_SOURCE_DEFAULT < full ?
	    STARTUPS_PER_SOURCE_DEFAULT :
	    full;
}

int
startups_parse(const char *spec, struct startups_limits *l)
{
	char part[3][STARTUPS_SPEC_MAX];
	const char *p = spec, *colon;
	long v[3];
	int n = 0, i;
	size_t len;

	for (;;) {
		colon = strchr(p, ':');
		len = colon != NULL ? (size_t)(colon - p) : strlen(p);
		if (n == 3 || len >= sizeof(part[0]))
			return WH_ERR_INVALID_ARG;
		memcpy(part[n], p, len);
		part[n++][len] = '\0';
		if (colon == NULL)
			break;
		p = colon + 1;
	}
	if (n == 2)
		return WH_ERR_INVALID_ARG;
	for (i = 0; i < n; i++)
		if (strnum_long(part[i], i == 1 ? 0 : 1,
		        i == 1 ? STARTUPS_PERCENT : 1000000, &v[i]) != 0)
			return WH_ERR_INVALID_ARG;
	if (n == 1) {
		v[1] = STARTUPS_PERCENT;
		v[2] = v[0];
	}
	if (v[0] > v[2])
		return WH_ERR_INVALID_ARG;
	l->start = (int)v[0];
	l->rate = (int)v[1];
	l->full = (int)v[2];
	return 0;
}

int
startups_check(const struct startups_limits *l, int max_clients)
{
	if (l->start < 1 || l->start > l->full || l->full > max_clients ||
	    l->rate < 0 || l->rate > STARTUPS_PERCENT || l->per_source < 1)
		return WH_ERR_INVALID_ARG;
	return 0;
}

struct startups *
startups_new(const struct startups_limits *l)
{
	struct startups *st;
	size_t n = STARTUPS_SLOTS_MIN;

	/* At most full sources at once (each counts one connection or
	 * more): twice that many slots keeps every probe short and always
	 * finds a free one. */
	while (n < 2 * (size_t)l->full)
		n *= 2;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if ((st->slots = calloc(n, sizeof(*st->slots))) == NULL) {
		free(st);
		return NULL;
	}
	pthread_mutex_init(&st->mu, NULL);
	st->lim = *l;
	st->mask = n - 1;
	crypto_shorthash_keygen(st->hash_key);
	return st;
}

void
startups_free(struct startups *st)
{
	if (st == NULL)
		return;
	pthread_mutex_destroy(&st->mu);
	free(st->slots);
	free(st);
}

static size_t
home_slot(const struct startups *st, const uint8_t key[NETADDR_KEY_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v = 0;
	size_t i;

	crypto_shorthash(h, key, NETADDR_KEY_LEN, st->hash_key);
	for (i = 0; i < sizeof(h); i++)
		v = v << 8 | h[i];
	return (size_t)v & st->mask;
}

/* The slot of key, or the free slot where it would go. Lock held. */
static size_t
find_slot(const struct startups *st, const uint8_t key[NETADDR_KEY_LEN])
{
	size_t i = home_slot(st, key);

	while (st->slots[i].count != 0 &&
	    memcmp(st->slots[i].key, key, NETADDR_KEY_LEN) != 0)
		i = (i + 1) & st->mask;
	return i;
}

/* Frees slot i, moving later entries of its run back so that every key
 * stays reachable from its home without tombstones (Knuth's Algorithm R).
 * Lock held. */
static void
free_slot(struct startups *st, size_t i)
{
	size_t j = i, k;

	for (;;) {
		st->slots[i].count = 0;
		for (;;) {
			j = (j + 1) & st->mask;
			if (st->slots[j].count == 0)
				return;
			k = home_slot(st, st->slots[j].key);
			/* Stays if its home lies cyclically in (i, j]. */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		st->slots[i] = st->slots[j];
		i = j;
	}
}

/* The sshd rule: rate percent at start, rising linearly to 100 at full. */
static int
drop_percent(const struct startups_limits *l, int total)
{
	if (total < l->start)
		return 0;
	if (total >= l->full)
		return STARTUPS_PERCENT;
	return l->rate +
	    (STARTUPS_PERCENT - l->rate) * (total - l->start) /
	    (l->full - l->start);
}

startups_verdict
startups_admit(
    struct startups *st, const struct sockaddr *sa, struct startups_ticket *t)
{
	uint8_t key[NETADDR_KEY_LEN];
	startups_verdict v = STARTUPS_ADMIT;
	size_t i;
	int pct;

	netaddr_source_key(sa, key);
	pthread_mutex_lock(&st->mu);
	i = find_slot(st, key);
	pct = drop_percent(&st->lim, st->total);
	if (st->slots[i].count >= st->lim.per_source)
		v = STARTUPS_PER_SOURCE;
	else if (st->total >= st->lim.full)
		v = STARTUPS_FULL;
	else if (pct > 0 &&
	    randombytes_uniform(STARTUPS_PERCENT) < (uint32_t)pct)
		v = STARTUPS_EARLY_DROP;
	if (v == STARTUPS_ADMIT) {
		if (st->slots[i].count == 0)
			memcpy(st->slots[i].key, key, NETADDR_KEY_LEN);
		st->slots[i].count++;
		st->total++;
		memcpy(t->key, key, NETADDR_KEY_LEN);
		t->held = 1;
	}
	pthread_mutex_unlock(&st->mu);
	return v;
}

void
startups_release(struct startups *st, struct startups_ticket *t)
{
	size_t i;

	if (st == NULL || !t->held)
		return;
	pthread_mutex_lock(&st->mu);
	i = find_slot(st, t->key);
	/* A ticket names a counted source: anything else is a bug here. */
	if (st->slots[i].count == 0)
		abort();
	if (--st->slots[i].count == 0)
		free_slot(st, i);
	st->total--;
	pthread_mutex_unlock(&st->mu);
	t->held = 0;
}

int
startups_count(struct startups *st, const struct sockaddr *sa, int *same)
{
	uint8_t key[NETADDR_KEY_LEN];
	int total;

	netaddr_source_key(sa, key);
	pthread_mutex_lock(&st->mu);
	total = st->total;
	if (same != NULL)
		*same = st->slots[find_slot(st, key)].count;
	pthread_mutex_unlock(&st->mu);
	return total;
}
