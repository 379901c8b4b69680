/* SPDX-License-Identifier: MIT */
/*
 * The guessing gate (guard.h): a fixed set-associative table of records
 * keyed by a keyed BLAKE2b digest of (kind, key), one mutex and one
 * condition variable. A check waits for its turn on the condition, with a
 * timeout at the moment its earliest blocker lifts or at its deadline.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "wharf/clock.h"
#include "wharf/guard.h"

enum guard_kind {
	GUARD_SOURCE, /* logins from one address or /64 */
	GUARD_USER, /* logins naming one user, from all sources */
	GUARD_SOURCE_USER, /* logins naming one user from one source */
	GUARD_FILE_USER, /* passcode checks of one file by one user */
	GUARD_FILE, /* passcode checks of one file, by all users */
	GUARD_USER_FILES, /* passcode checks by one user, of all files */
	GUARD_KINDS
};

struct policy {
	int inflight; /* at once; 0: any number */
	int inflight_failed; /* at once after recent failures */
	int penalty; /* failures push back the next check, doubling */
	int burst; /* token bucket of failures; 0: none */
	int refill_ms; /* one token back every refill_ms */
};

static const struct policy policies[GUARD_KINDS] = {
	[GUARD_SOURCE] = { GUARD_SOURCE_INFLIGHT, GUARD_SOURCE_INFLIGHT_FAILED,
	    0, GUARD_SOURCE_BURST, GUARD_SOURCE_REFILL_MS },
	[GUARD_USER] = { 0, 0, 0, GUARD_USER_BURST, GUARD_USER_REFILL_MS },
	[GUARD_SOURCE_USER] = { 0, 1, 1, 0, 0 },
	[GUARD_FILE_USER] = { 1, 1, 1, 0, 0 },
	[GUARD_FILE] = { 0, 0, 0, GUARD_FILE_BURST, GUARD_FILE_REFILL_MS },
	[GUARD_USER_FILES] = { 0, 0, 0, GUARD_USER_FILES_BURST,
	    GUARD_USER_FILES_REFILL_MS },
};

struct record {
	int kind; /* -1: free */
	uint8_t key[GUARD_KEY_LEN];
	int busy; /* checks in flight */
	int owed; /* of those, the ones that spent a token */
	int failures; /* since the last GUARD_FORGET_MS without one */
	int64_t last_fail;
	int64_t not_before; /* no check of this key starts earlier */
	double tokens; /* as of filled_at */
	int64_t filled_at;
	int64_t used_at; /* the idle record used longest ago is reused */
	/* A user's: the source of its last successful login, whose checks
	 * do not spend the user's tokens, so that guessing from elsewhere
	 * does not lock the user out of their usual place. */
	uint8_t trusted[GUARD_KEY_LEN];
	int has_trusted;
};

#define GUARD_SETS (GUARD_TABLE_MAX / GUARD_WAYS)

/* GUARD_SETS sets of GUARD_WAYS, then the overflow of each kind. */
static struct record table[GUARD_TABLE_MAX + GUARD_KINDS];
static pthread_mutex_t guard_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t guard_cv;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;
/* Keys the digests: nobody outside can aim keys at one set. */
static uint8_t guard_secret[crypto_generichash_KEYBYTES];
static int guard_waits = 1;

int64_t
guard_now_ms(void)
{
	return clock_mono_ms();
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
table_clear(void)
{
	size_t i;

	for (i = 0; i < GUARD_TABLE_MAX; i++)
		record_clear(&table[i], -1, NULL);
	for (i = 0; i < GUARD_KINDS; i++)
		record_clear(&table[GUARD_TABLE_MAX + i], (int)i, NULL);
}

static void
guard_init(void)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&guard_cv, &ca);
	pthread_condattr_destroy(&ca);
	randombytes_buf(guard_secret, sizeof(guard_secret));
	table_clear();
}

static void
key_make(uint8_t out[GUARD_KEY_LEN], int kind, const void *a, size_t alen,
    const void *b, size_t blen)
{
	crypto_generichash_state st;
	uint8_t k = (uint8_t)kind, sep = 0;

	crypto_generichash_init(
	    &st, guard_secret, sizeof(guard_secret), GUARD_KEY_LEN);
	crypto_generichash_update(&st, &k, 1);
	crypto_generichash_update(&st, a, alen);
	crypto_generichash_update(&st, &sep, 1);
	if (b != NULL)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, GUARD_KEY_LEN);
}

/* An address's source, as bytes: IPv4 as is (also when mapped into
 * IPv6), IPv6 cut to its /64, which one host or site can rotate through
 * freely; anything else as text. */
static size_t
source_bytes(const char *addr, uint8_t out[16], const void **p)
{
	if (inet_pton(AF_INET, addr, out) == 1) {
		*p = out;
		return 4;
	}
	if (inet_pton(AF_INET6, addr, out) == 1) {
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)(void *)out)) {
			*p = out + 12;
			return 4;
		}
		*p = out;
		return 8;
	}
	*p = addr;
	return strlen(addr);
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

/* Failed recently: a penalty remembered, or tokens not yet back. */
static int
failed_recently(struct record *r, int64_t now)
{
	const struct policy *p = &policies[r->kind];

	refill(r, now);
	return remembers(r, now) ||
	    (p->burst > 0 && r->tokens + r->owed < p->burst);
}

/* Nothing to remember: the slot may hold another key. Lock held. */
static int
idle(struct record *r, int64_t now)
{
	return r->kind < 0 ||
	    (r->busy == 0 && r->not_before <= now && !failed_recently(r, now));
}

/* The slot of (kind, key): its record, a free or idle one of its set
 * made its own, or when the set carries only records that remember
 * something, the kind's overflow (shared). Lock held. */
static int
slot_find(int kind, const uint8_t key[GUARD_KEY_LEN], int64_t now)
{
	uint32_t h;
	int i, base, spare = -1;

	memcpy(&h, key, sizeof(h));
	base = (int)(h % GUARD_SETS) * GUARD_WAYS;
	for (i = base; i < base + GUARD_WAYS; i++) {
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

/* The time at which a penalty or the bucket of r lets a check start (0:
 * now); *capped if the checks in flight must end first. Lock held. */
static int64_t
blocked_until(struct record *r, int exempt, int64_t now, int *capped)
{
	const struct policy *p = &policies[r->kind];
	int most = failed_recently(r, now) ? p->inflight_failed : p->inflight;
	int64_t until = 0, t;

	if (most > 0 && r->busy >= most)
		*capped = 1;
	if (!guard_waits)
		return 0;
	if (r->not_before > now)
		until = r->not_before;
	if (p->burst > 0 && !exempt && r->tokens < 1.0) {
		t = now + (int64_t)((1.0 - r->tokens) * p->refill_ms) + 1;
		if (t > until)
			until = t;
	}
	return until;
}

/* A user's check from the source of the user's last success. */
static int
exempt(const struct record *r, const struct guard_ticket *t)
{
	return r->kind == GUARD_USER && t->has_source && r->has_trusted &&
	    sodium_memcmp(r->trusted, t->source, GUARD_KEY_LEN) == 0;
}

static int
gate_enter(struct guard_ticket *t, const int kinds[],
    uint8_t keys[][GUARD_KEY_LEN], int64_t deadline)
{
	struct timespec ts;
	int64_t now, until, u;
	int i, capped, r = 0;

	pthread_mutex_lock(&guard_mu);
	for (;;) {
		now = guard_now_ms();
		until = 0;
		capped = 0;
		for (i = 0; i < GUARD_TICKET_KEYS; i++) {
			struct record *rec;

			t->held[i] = slot_find(kinds[i], keys[i], now);
			rec = &table[t->held[i]];
			rec->used_at = now;
			u = blocked_until(rec, exempt(rec, t), now, &capped);
			if (u > until)
				until = u;
		}
		if (until == 0 && !capped)
			break;
		/* A turn that a penalty or a bucket puts after the
		 * deadline is refused now rather than waited for. Checks
		 * in flight end when their Argon2id does (like the slots
		 * behind them), so their queue is not cut. */
		if (until > deadline) {
			r = WH_ERR_BUSY;
			break;
		}
		if (until == 0) {
			(void)pthread_cond_wait(&guard_cv, &guard_mu);
			continue;
		}
		ts.tv_sec = (time_t)(until / 1000);
		ts.tv_nsec = (long)(until % 1000) * 1000000L;
		(void)pthread_cond_timedwait(&guard_cv, &guard_mu, &ts);
	}
	t->nheld = 0;
	if (r == 0) {
		for (i = 0; i < GUARD_TICKET_KEYS; i++) {
			struct record *rec = &table[t->held[i]];

			rec->busy++;
			/* Spent now, given back unless it fails: parallel
			 * checks cannot overdraw the bucket. */
			t->charged[i] =
			    policies[rec->kind].burst > 0 && !exempt(rec, t);
			if (t->charged[i]) {
				rec->tokens -= 1.0;
				rec->owed++;
			}
		}
		t->nheld = GUARD_TICKET_KEYS;
	}
	pthread_mutex_unlock(&guard_mu);
	return r;
}

int
guard_login_begin(struct guard_ticket *t, const char *addr, const char *user,
    int64_t deadline_ms)
{
	int kinds[GUARD_TICKET_KEYS] = { GUARD_SOURCE, GUARD_USER,
		GUARD_SOURCE_USER };
	uint8_t keys[GUARD_TICKET_KEYS][GUARD_KEY_LEN], sb[16];
	const void *src;
	size_t n;

	pthread_once(&guard_once, guard_init);
	n = source_bytes(addr, sb, &src);
	key_make(keys[0], GUARD_SOURCE, src, n, NULL, 0);
	key_make(keys[1], GUARD_USER, user, strlen(user), NULL, 0);
	key_make(keys[2], GUARD_SOURCE_USER, src, n, user, strlen(user));
	memcpy(t->source, keys[0], GUARD_KEY_LEN);
	t->has_source = 1;
	return gate_enter(t, kinds, keys, deadline_ms);
}

int
guard_passcode_begin(struct guard_ticket *t, const char *user,
    const char *rpath, int64_t deadline_ms)
{
	int kinds[GUARD_TICKET_KEYS] = { GUARD_FILE_USER, GUARD_FILE,
		GUARD_USER_FILES };
	uint8_t keys[GUARD_TICKET_KEYS][GUARD_KEY_LEN];

	pthread_once(&guard_once, guard_init);
	key_make(
	    keys[0], GUARD_FILE_USER, rpath, strlen(rpath), user, strlen(user));
	key_make(keys[1], GUARD_FILE, rpath, strlen(rpath), NULL, 0);
	key_make(keys[2], GUARD_USER_FILES, user, strlen(user), NULL, 0);
	t->has_source = 0;
	return gate_enter(t, kinds, keys, deadline_ms);
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
record_end(struct record *r, const struct guard_ticket *t, int charged,
    enum guard_outcome o, int64_t now)
{
	const struct policy *p = &policies[r->kind];
	int64_t at = now;

	r->busy--;
	r->used_at = now;
	if (charged) {
		r->owed--;
		if (o != GUARD_FAIL) {
			refill(r, now);
			r->tokens = r->tokens + 1.0 > p->burst ?
			    p->burst :
			    r->tokens + 1.0;
		}
	}
	if (r->kind == GUARD_USER && o == GUARD_PASS && t->has_source) {
		memcpy(r->trusted, t->source, GUARD_KEY_LEN);
		r->has_trusted = 1;
	}
	if (!p->penalty)
		return at;
	/* A success forgives the key's failures: a typo, then the
	 * password, and the next login is prompt again. */
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
	for (i = 0; i < t->nheld; i++) {
		a = record_end(
		    &table[t->held[i]], t, t->charged[i], outcome, now);
		if (a > at)
			at = a;
	}
	t->nheld = 0;
	pthread_cond_broadcast(&guard_cv);
	pthread_mutex_unlock(&guard_mu);
	return at;
}

void
guard_reset(int waits)
{
	pthread_once(&guard_once, guard_init);
	pthread_mutex_lock(&guard_mu);
	table_clear();
	guard_waits = waits;
	pthread_mutex_unlock(&guard_mu);
}
