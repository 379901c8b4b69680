/* SPDX-License-Identifier: MIT */
/*
 * The token bucket of --bwlimit on an injected clock: the rate holds over
 * many slices, idle time earns no more than one slice of burst, callers
 * sharing a bucket queue behind each other's debt, and rates parse as
 * rsync's --bwlimit does.
 */
#include <stdint.h>

#include <CUnit/CUnit.h>

#include "wharf/ratelimit.h"

#include "suites.h"

static uint64_t fake_now;

static uint64_t
fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

/* Charges n bytes and lets the fake clock run for the wait. */
static uint64_t
take(struct ratelimit *rl, size_t n)
{
	uint64_t w = ratelimit_reserve(rl, n);

	fake_now += w;
	return w;
}

static void
test_rate_holds(void)
{
	struct ratelimit rl;
	uint64_t start;
	size_t slice;
	int i;

	fake_now = 1000000000u;
	CU_ASSERT_FATAL(ratelimit_init(&rl, 512 * 1024) == 0);
	ratelimit_set_clock(&rl, fake_clock, NULL);
	slice = ratelimit_slice(&rl);
	CU_ASSERT(slice == 512 * 1024 / RATELIMIT_SLICES_PER_SEC);
	start = fake_now;
	/* 2 MiB in slices: 4 s at 512 KiB/s, less the one slice the full
	 * bucket lends at the start. */
	for (i = 0; i < (int)(2 * 1024 * 1024 / slice); i++)
		take(&rl, slice);
	TU_CHECK(
	    fake_now - start >= 3900000000u && fake_now - start <= 4000000000u,
	    "2 MiB took %llu ns", (unsigned long long)(fake_now - start));
	ratelimit_cleanup(&rl);
}

static void
test_idle_earns_one_slice(void)
{
	struct ratelimit rl;
	size_t slice;

	fake_now = 5;
	CU_ASSERT_FATAL(ratelimit_init(&rl, 100 * 1024) == 0);
	ratelimit_set_clock(&rl, fake_clock, NULL);
	slice = ratelimit_slice(&rl);
	/* A full bucket lends one slice, no more. */
	CU_ASSERT(take(&rl, slice) == 0);
	CU_ASSERT(take(&rl, slice) > 0);
	/* An hour idle: still one slice, then the rate again. */
	fake_now += 3600ull * 1000000000u;
	CU_ASSERT(ratelimit_reserve(&rl, slice) == 0);
	CU_ASSERT(ratelimit_reserve(&rl, 1024) ==
	    (uint64_t)(1024.0 / (100 * 1024) * 1e9));
	ratelimit_cleanup(&rl);
}

static void
test_shared_callers_queue(void)
{
	struct ratelimit rl;
	uint64_t a, b;

	fake_now = 0;
	CU_ASSERT_FATAL(ratelimit_init(&rl, 10000) == 0);
	ratelimit_set_clock(&rl, fake_clock, NULL);
	(void)ratelimit_reserve(&rl, ratelimit_slice(&rl)); /* empty it */
	/* Two streams at the same instant: the second waits behind the
	 * first, so together they get the rate once. */
	a = ratelimit_reserve(&rl, 1000);
	b = ratelimit_reserve(&rl, 1000);
	CU_ASSERT(a == 100000000u);
	CU_ASSERT(b == 200000000u);
	ratelimit_cleanup(&rl);
}

static void
expect_rate(const char *s, int ok, uint64_t want)
{
	uint64_t v = 12345;
	int r = ratelimit_parse(s, &v);

	TU_CHECK((r == 0) == ok && (!ok || v == want),
	    "ratelimit_parse(%s) = %d, %llu; want %s %llu", s, r,
	    (unsigned long long)v, ok ? "ok" : "error",
	    (unsigned long long)want);
}

static void
test_parse(void)
{
	expect_rate("0", 1, 0);
	expect_rate("500", 1, 500 * 1024);
	expect_rate("500K", 1, 500 * 1024);
	expect_rate("500k", 1, 500 * 1024);
	expect_rate("2M", 1, 2 * 1024 * 1024);
	expect_rate("1.5M", 1, 3 * 512 * 1024);
	expect_rate("1G", 1, 1024ull * 1024 * 1024);
	expect_rate("1MiB", 1, 1024 * 1024);
	expect_rate("1MB", 1, 1000 * 1000);
	expect_rate("4096B", 1, 4096);
	expect_rate("1", 1, 1024);
	expect_rate("100B", 0, 0); /* below RATELIMIT_MIN */
	expect_rate("", 0, 0);
	expect_rate("K", 0, 0);
	expect_rate("-5", 0, 0);
	expect_rate("5X", 0, 0);
	expect_rate("5MM", 0, 0);
	expect_rate("99999999999999999999", 0, 0);
	expect_rate("2000G", 0, 0); /* above RATELIMIT_MAX */
}

void
register_ratelimit_tests(void)
{
	CU_pSuite s = CU_add_suite("ratelimit", NULL, NULL);

	if (s == NULL)
		return;
	CU_add_test(s, "rate holds over many slices", test_rate_holds);
	CU_add_test(s, "idle time earns one slice", test_idle_earns_one_slice);
	CU_add_test(s, "shared callers queue", test_shared_callers_queue);
	CU_add_test(s, "rsync rate syntax", test_parse);
}
