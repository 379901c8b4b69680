/* SPDX-License-Identifier: MIT */
/*
 * The guessing gate (guard.h): one fixed table of records keyed by a
 * BLAKE2b digest of (kind, key), one mutex and one condition variable.
 * A check waits for its turn on the condition, with a timeout at the
 * moment its earliest blocker lifts or at its deadline.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "wharf/guard.h"

enum guard_kind {
	GUARD_SOURCE, /* logins from one address or /64 */
	GUARD_USER, /* logins naming one user */
	GUARD_FILE_USER, /* passcode checks of one file by one user */
	GUARD_FILE, /* passcode checks of one file */
	GUARD_KINDS
};

struct policy {
	int inflight; /* at once; 0: any number */
	int inflight_failed; /* at once while failures are remembered */
	int penalty; /* failures push back the next check, doubling */
	int burst; /* token bucket of failures; 0: none */
	int refill_ms; /* one token back every refill_ms */
};

static const struct policy policies[GUARD_KINDS] = {
	[GUARD_SOURCE] = { GUARD_SOURCE_INFLIGHT, GUARD_SOURCE_INFLIGHT_FAILED,
	    1, 0, 0 },
	[GUARD_USER] = { 0, 0, 0, GUARD_USER_BURST, GUARD_USER_REFILL_MS },
	[GUARD_FILE_USER] = { 1, 1, 1, 0, 0 },
	[GUARD_FILE] = { 0, 0, 0, GUARD_FILE_BURST, GUARD_FILE_REFILL_MS },
};

struct record {
	int kind; /* -1: free */
	uint8_t key[GUARD_KEY_LEN];
	int busy; /* checks in flight */
	int failures; /* since the last GUARD_FORGET_MS without one */
	int64_t last_fail;
	int64_t not_before; /* no check of this key starts earlier */
	double tokens; /* as of filled_at */
	int64_t filled_at;
	int64_t used_at; /* the idle record used longest ago is reused */
};

/* The last GUARD_KINDS records are the overflow of each kind. */
static struct record table[GUARD_TABLE_MAX + GUARD_KINDS];
static pthread_mutex_t guard_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t guard_cv;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;
static int guard_waits = 1;

int64_t
guard_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
record_clear(struct record *r, int kind, const uint8_t key[GUARD_KEY_LEN])
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	if (key != NULL)
		memcpy(r->key, key, GUARD_KEY_LEN);
	if (kind >= 0)
		r->tokens = policies[kind].burst;
}

static void
guard_init(void)
{
	pthread_condattr_t ca;
	size_t i;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&guard_cv, &ca);
	pthread_condattr_destroy(&ca);
	for (i = 0; i < GUARD_TABLE_MAX; i++)
		record_clear(&table[i], -1, NULL);
	for (i = 0; i < GUARD_KINDS; i++)
		record_clear(&table[GUARD_TABLE_MAX + i], (int)i, NULL);
}

static void
key_make(uint8_t out[GUARD_KEY_LEN], int kind, const void *a, size_t alen,
    const void *b, size_t blen)
{
	crypto_generichash_state st;
	uint8_t k = (uint8_t)kind, sep = 0;

	crypto_generichash_init(&st, NULL, 0, GUARD_KEY_LEN);
	crypto_generichash_update(&st, &k, 1);
	crypto_generichash_update(&st, a, alen);
	crypto_generichash_update(&st, &sep, 1);
	if (b != NULL)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, GUARD_KEY_LEN);
}

/* An address's source: IPv4 as is (also when mapped into IPv6), IPv6
 * cut to its /64, which one host or site can rotate through freely. */
static void
key_source(uint8_t out[GUARD_KEY_LEN], const char *addr)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, addr, a) == 1) {
		key_make(out, GUARD_SOURCE, a, 4, NULL, 0);
	} else if (inet_pton(AF_INET6, addr, a) == 1) {
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a))
			key_make(out, GUARD_SOURCE, a + 12, 4, NULL, 0);
		else
			key_make(out, GUARD_SOURCE, a, 8, NULL, 0);
	} else {
		key_make(out, GUARD_SOURCE, addr, strlen(addr), NULL, 0);
	}
}

static int
remembers(const struct record *r, int64_t now)
{
	return r->failures > 0 && now - r->last_fail < GUARD_FORGET_MS;
}

static void
refill(struct record *r, int64_t now)
{
	const struct policy *p = &policies[r->kind];

	if (p->burst == 0)
		return;
	if (now > r->filled_at)
		r->tokens += (double)(now - r->filled_at) / p->refill_ms;
	if (r->tokens > p->burst)
		r->tokens = p->burst;
	r->filled_at = now;
}

/* Nothing to remember: the slot may hold another key. Lock held. */
static int
idle(struct record *r, int64_t now)
{
	if (r->kind < 0)
		return 1;
	refill(r, now);
	return r->busy == 0 && !remembers(r, now) && r->not_before <= now &&
	    r->tokens >= policies[r->kind].burst;
}

/* The slot of (kind, key): its record, a free or idle one made its own,
 * or when every slot carries something the kind's overflow. Lock held. */
static int
slot_find(int kind, const uint8_t key[GUARD_KEY_LEN], int64_t now)
{
	int i, spare = -1;

	for (i = 0; i < GUARD_TABLE_MAX; i++) {
		struct record *r = &table[i];

		if (r->kind == kind && memcmp(r->key, key, GUARD_KEY_LEN) == 0)
			return i;
		if (spare >= 0 && table[spare].kind < 0)
			continue;
		if (r->kind < 0 ||
		    (idle(r, now) &&
		        (spare < 0 || r->used_at < table[spare].used_at)))
			spare = i;
	}
	if (spare < 0)
		return GUARD_TABLE_MAX + kind;
	record_clear(&table[spare], kind, key);
	table[spare].filled_at = now;
	return spare;
}

/* 0 if a check of r may start now; otherwise the time at which it may
 * (INT64_MAX: when a check in flight ends). Lock held. */
static int64_t
blocked_until(struct record *r, int64_t now)
{
	const struct policy *p = &policies[r->kind];
	int64_t until = 0;
	int most = remembers(r, now) ? p->inflight_failed : p->inflight;

	if (most > 0 && r->busy >= most)
		return INT64_MAX;
	if (!guard_waits)
		return 0;
	if (r->not_before > now)
		until = r->not_before;
	refill(r, now);
	if (p->burst > 0 && r->tokens < 1.0) {
		int64_t t =
		    now + (int64_t)((1.0 - r->tokens) * p->refill_ms) + 1;

		if (t > until)
			until = t;
	}
	return until;
}

static int
gate_enter(struct guard_ticket *t, const int kinds[],
    uint8_t keys[][GUARD_KEY_LEN], int n, int64_t deadline)
{
	struct timespec ts;
	int64_t now, until, u;
	int i, r = 0;

	pthread_once(&guard_once, guard_init);
	pthread_mutex_lock(&guard_mu);
	for (;;) {
		now = guard_now_ms();
		until = 0;
		for (i = 0; i < n; i++) {
			t->held[i] = slot_find(kinds[i], keys[i], now);
			table[t->held[i]].used_at = now;
			if ((u = blocked_until(&table[t->held[i]], now)) >
			    until)
				until = u;
		}
		if (until == 0)
			break;
		/* A turn that comes only after the deadline is refused
		 * now rather than waited for. */
		if (until != INT64_MAX && until > deadline) {
			r = WH_ERR_BUSY;
			break;
		}
		if (now >= deadline) {
			r = WH_ERR_TIMEOUT;
			break;
		}
		if (until > deadline)
			until = deadline;
		ts.tv_sec = (time_t)(until / 1000);
		ts.tv_nsec = (long)(until % 1000) * 1000000L;
		(void)pthread_cond_timedwait(&guard_cv, &guard_mu, &ts);
	}
	t->nheld = 0;
	if (r == 0) {
		for (i = 0; i < n; i++) {
			struct record *rec = &table[t->held[i]];

			rec->busy++;
			/* Spent now, given back for a success: parallel
			 * checks cannot overdraw the bucket. */
			if (policies[rec->kind].burst > 0)
				rec->tokens -= 1.0;
		}
		t->nheld = n;
	}
	pthread_mutex_unlock(&guard_mu);
	return r;
}

int
guard_login_begin(struct guard_ticket *t, const char *addr, const char *user,
    int64_t deadline_ms)
{
	int kinds[GUARD_TICKET_KEYS] = { GUARD_SOURCE, GUARD_USER };
	uint8_t keys[GUARD_TICKET_KEYS][GUARD_KEY_LEN];

	key_source(keys[0], addr);
	key_make(keys[1], GUARD_USER, user, strlen(user), NULL, 0);
	return gate_enter(t, kinds, keys, GUARD_TICKET_KEYS, deadline_ms);
}

int
guard_passcode_begin(struct guard_ticket *t, const char *user,
    const char *rpath, int64_t deadline_ms)
{
	int kinds[GUARD_TICKET_KEYS] = { GUARD_FILE_USER, GUARD_FILE };
	uint8_t keys[GUARD_TICKET_KEYS][GUARD_KEY_LEN];

	key_make(
	    keys[0], GUARD_FILE_USER, rpath, strlen(rpath), user, strlen(user));
	key_make(keys[1], GUARD_FILE, rpath, strlen(rpath), NULL, 0);
	return gate_enter(t, kinds, keys, GUARD_TICKET_KEYS, deadline_ms);
}

static int64_t
penalty_ms(int failures)
{
	int64_t d = (int64_t)GUARD_DELAY_BASE_MS
	    << (failures - 1 < 15 ? failures - 1 : 15);

	return d > GUARD_DELAY_MAX_MS ? GUARD_DELAY_MAX_MS : d;
}

/* Lock held; returns when the failure may be answered. */
static int64_t
record_end(struct record *r, enum guard_outcome o, int64_t now)
{
	const struct policy *p = &policies[r->kind];
	int64_t at = now;

	r->busy--;
	r->used_at = now;
	if (p->burst > 0 && o != GUARD_FAIL) {
		refill(r, now);
		r->tokens =
		    r->tokens + 1.0 > p->burst ? p->burst : r->tokens + 1.0;
	}
	if (!p->penalty)
		return at;
	/* A success forgives the key's failures: a typo, then the
	 * password, and the next login from there is prompt again. */
	if (o == GUARD_PASS)
		r->failures = 0;
	if (o != GUARD_FAIL)
		return at;
	if (!remembers(r, now))
		r->failures = 0;
	if (r->failures < INT_MAX)
		r->failures++;
	r->last_fail = now;
	if (guard_waits)
		at = now + penalty_ms(r->failures);
	if (at > r->not_before)
		r->not_before = at;
	return at;
}

int64_t
guard_end(struct guard_ticket *t, enum guard_outcome outcome)
{
	int64_t now = guard_now_ms(), at = now, a;
	int i;

	pthread_mutex_lock(&guard_mu);
	for (i = 0; i < t->nheld; i++)
		if ((a = record_end(&table[t->held[i]], outcome, now)) > at)
			at = a;
	t->nheld = 0;
	pthread_cond_broadcast(&guard_cv);
	pthread_mutex_unlock(&guard_mu);
	return at;
}

void
guard_reset(int waits)
{
	size_t i;

	pthread_once(&guard_once, guard_init);
	pthread_mutex_lock(&guard_mu);
	for (i = 0; i < GUARD_TABLE_MAX; i++)
		record_clear(&table[i], -1, NULL);
	for (i = 0; i < GUARD_KINDS; i++)
		record_clear(&table[GUARD_TABLE_MAX + i], (int)i, NULL);
	guard_waits = waits;
	pthread_mutex_unlock(&guard_mu);
}
