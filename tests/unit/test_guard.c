/* SPDX-License-Identifier: MIT */
/*
 * The guessing gate (server/guard.c) without Argon2id: checks in flight
 * per source, penalties that outlive a flood of other addresses (the
 * table cannot be rotated), IPv6 sources taken by their /64, a user's
 * bucket, and what a success forgives.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include <CUnit/CUnit.h>

#include "suites.h"
#include "wharf/guard.h"

/* One failed check of user from addr, started without waiting. */
static int
fail_once(const char *addr, const char *user, int64_t *answer_at)
{
	struct guard_ticket t;
	int r;

	if ((r = guard_login_begin(&t, addr, user, guard_now_ms())) != 0)
		return r;
	*answer_at = guard_end(&t, GUARD_FAIL) - guard_now_ms();
	return 0;
}

static atomic_int third_started;

static void *
third_check(void *arg)
{
	struct guard_ticket *t = arg;

	if (guard_login_begin(t, "192.0.2.7", "u", guard_now_ms()) == 0)
		atomic_store(&third_started, 1);
	return NULL;
}

static void
test_inflight(void)
{
	struct guard_ticket a, b, c, d;
	struct timespec pause = { 0, 200 * 1000000L };
	pthread_t th;
	int64_t now;

	guard_reset(1);
	atomic_store(&third_started, 0);
	now = guard_now_ms();
	CU_ASSERT_EQUAL_FATAL(guard_login_begin(&a, "192.0.2.7", "u", now), 0);
	CU_ASSERT_EQUAL_FATAL(guard_login_begin(&b, "192.0.2.7", "u", now), 0);
	/* A third from the same clean source waits for one of the two
	 * (not for a deadline: checks in flight end with their Argon2id);
	 * another source does not. */
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, third_check, &c), 0);
	CU_ASSERT_EQUAL(guard_login_begin(&d, "192.0.2.8", "u", now), 0);
	nanosleep(&pause, NULL);
	CU_ASSERT_EQUAL(atomic_load(&third_started), 0);
	(void)guard_end(&a, GUARD_PASS);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(atomic_load(&third_started), 1);
	(void)guard_end(&b, GUARD_PASS);
	(void)guard_end(&c, GUARD_PASS);
	(void)guard_end(&d, GUARD_PASS);
}

static void
test_no_rotation(void)
{
	char addr[32], user[32];
	int64_t d = 0;
	int i, ok = 0;
	struct guard_ticket t;

	guard_reset(1);
	CU_ASSERT_EQUAL_FATAL(fail_once("198.51.100.1", "victim", &d), 0);
	CU_ASSERT(d >= GUARD_DELAY_BASE_MS - 50);
	/* More new addresses (and user names) than the table holds, each
	 * with a failure of its own. */
	for (i = 0; i < GUARD_TABLE_MAX + 1000; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		snprintf(user, sizeof(user), "r%d", i);
		if (fail_once(addr, user, &d) == 0)
			ok++;
	}
	CU_ASSERT(ok <= GUARD_TABLE_MAX);
	/* The first address kept its record: its second failure costs the
	 * second penalty, not the first again. */
	CU_ASSERT_EQUAL_FATAL(guard_login_begin(&t, "198.51.100.1", "victim",
	                          guard_now_ms() + 2 * GUARD_DELAY_BASE_MS),
	    0);
	d = guard_end(&t, GUARD_FAIL) - guard_now_ms();
	CU_ASSERT(d >= 2 * GUARD_DELAY_BASE_MS - 50);
	guard_reset(1);
}

static void
test_ipv6_prefix(void)
{
	int64_t d;

	guard_reset(1);
	CU_ASSERT_EQUAL_FATAL(fail_once("2001:db8::1", "u", &d), 0);
	/* The same /64 guessing the same user: penalised, refused at
	 * once; another /64 is not. */
	CU_ASSERT_EQUAL(fail_once("2001:db8::ffff:1", "u", &d), WH_ERR_BUSY);
	CU_ASSERT_EQUAL(fail_once("2001:db8:0:1::1", "u", &d), 0);
	/* IPv4-mapped is the IPv4 source. */
	CU_ASSERT_EQUAL(fail_once("203.0.113.9", "x", &d), 0);
	CU_ASSERT_EQUAL(fail_once("::ffff:203.0.113.9", "x", &d), WH_ERR_BUSY);
	guard_reset(1);
}

static void
test_user_bucket(void)
{
	struct guard_ticket t;
	char addr[32];
	int64_t d;
	int i;

	guard_reset(1);
	/* boss logs in from its usual place. */
	CU_ASSERT_EQUAL_FATAL(
	    guard_login_begin(&t, "192.0.2.50", "boss", guard_now_ms()), 0);
	(void)guard_end(&t, GUARD_PASS);
	/* Ten other addresses guess once each: the bucket is empty. */
	for (i = 0; i < GUARD_USER_BURST; i++) {
		snprintf(addr, sizeof(addr), "198.18.0.%d", i + 1);
		CU_ASSERT_EQUAL(fail_once(addr, "boss", &d), 0);
	}
	CU_ASSERT_EQUAL(fail_once("198.18.1.1", "boss", &d), WH_ERR_BUSY);
	/* boss's own place still gets its turn at once. */
	CU_ASSERT_EQUAL_FATAL(
	    guard_login_begin(&t, "192.0.2.50", "boss", guard_now_ms()), 0);
	(void)guard_end(&t, GUARD_PASS);
	guard_reset(1);
}

static void
test_success_elsewhere(void)
{
	struct guard_ticket t;
	int64_t d;

	guard_reset(1);
	/* A failure for one user is not forgiven by a success as another
	 * (an attacker with an account of its own)... */
	CU_ASSERT_EQUAL_FATAL(fail_once("192.0.2.60", "admin", &d), 0);
	CU_ASSERT_EQUAL_FATAL(
	    guard_login_begin(&t, "192.0.2.60", "mallory", guard_now_ms()), 0);
	(void)guard_end(&t, GUARD_PASS);
	CU_ASSERT_EQUAL(fail_once("192.0.2.60", "admin", &d), WH_ERR_BUSY);
	/* ...but by a success as the same user (a typo, then the
	 * password): the next failure costs the first penalty again. */
	CU_ASSERT_EQUAL_FATAL(guard_login_begin(&t, "192.0.2.60", "admin",
	                          guard_now_ms() + 2 * GUARD_DELAY_BASE_MS),
	    0);
	(void)guard_end(&t, GUARD_PASS);
	CU_ASSERT_EQUAL_FATAL(fail_once("192.0.2.60", "admin", &d), 0);
	CU_ASSERT(d <= GUARD_DELAY_BASE_MS + 50);
	guard_reset(1);
}

void
register_guard_tests(void)
{
	CU_pSuite s = CU_add_suite("guard", NULL, NULL);

	if (s == NULL)
		return;
	CU_add_test(s, "checks in flight per source", test_inflight);
	CU_add_test(
	    s, "penalties survive a flood of addresses", test_no_rotation);
	CU_add_test(s, "IPv6 sources by /64", test_ipv6_prefix);
	CU_add_test(
	    s, "a user's bucket spares its usual source", test_user_bucket);
	CU_add_test(
	    s, "a success forgives only its own user", test_success_elsewhere);
}
