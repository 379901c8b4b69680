/* SPDX-License-Identifier: MIT */
/*
 * Connections before login (server/startups.c): the defaults for a server's
 * size, parsing START:RATE:FULL, the per-source limit (IPv4, IPv6 /64,
 * IPv4-mapped), the hard limit at FULL, the random early drop between
 * START and FULL, and the counts staying exact through many admits and
 * releases (the table's deletions).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <sodium.h>

#include "wharf/startups.h"

#include "suites.h"

static struct sockaddr_storage
addr(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(1234);
	} else if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(4321);
	}
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static void
test_defaults(void)
{
	static const struct {
		int max_clients, start, rate, full, per_source;
	} cases[] = {
		{ 64, 20, 30, 48, 10 },
		{ 120, 20, 30, 90, 10 },
		{ 20, 15, 30, 15, 10 },
		{ 8, 6, 30, 6, 6 },
		{ 2, 2, 30, 2, 2 },
		{ 1, 1, 30, 1, 1 },
	};
	struct startups_limits l;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		startups_defaults(cases[i].max_clients, &l);
		TU_CHECK(l.start == cases[i].start && l.rate == cases[i].rate &&
		        l.full == cases[i].full &&
		        l.per_source == cases[i].per_source &&
		        startups_check(&l, cases[i].max_clients) == 0,
		    "max_clients %d: %d:%d:%d per source %d",
		    cases[i].max_clients, l.start, l.rate, l.full,
		    l.per_source);
	}
}

static void
test_parse(void)
{
	static const char *const bad[] = { "", "1:2", "1:2:3:4", "5:30:4",
		"0:30:10", "1:101:10", "1:-1:10", "a:b:c", "1::3", "10:30:100x",
		":30:100", "10:30:", "99999999999999999999:1:2" };
	struct startups_limits l = { 0, 0, 0, 0 };
	size_t i;

	TU_CHECK(startups_parse("10:30:100", &l) == 0 && l.start == 10 &&
	        l.rate == 30 && l.full == 100,
	    "10:30:100 -> %d:%d:%d", l.start, l.rate, l.full);
	TU_CHECK(startups_parse("5", &l) == 0 && l.start == 5 &&
	        l.rate == 100 && l.full == 5,
	    "5 -> %d:%d:%d", l.start, l.rate, l.full);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TU_CHECK(startups_parse(bad[i], &l) == WH_ERR_INVALID_ARG,
		    "\"%s\" accepted", bad[i]);
	l.start = 10;
	l.rate = 30;
	l.full = 65;
	l.per_source = 10;
	TU_CHECK(startups_check(&l, 64) == WH_ERR_INVALID_ARG,
	    "FULL over --max-clients accepted");
	l.full = 64;
	l.per_source = 0;
	TU_CHECK(startups_check(&l, 64) == WH_ERR_INVALID_ARG,
	    "per source 0 accepted");
}

static struct startups *
make(int start, int rate, int full, int per_source)
{
	struct startups_limits l = { start, rate, full, per_source };

	return startups_new(&l);
}

static void
test_per_source(void)
{
	struct startups *st = make(100, 30, 100, 3);
	struct startups_ticket t[8];
	struct sockaddr_storage a = addr("10.0.0.1"), b = addr("10.0.0.2");
	struct sockaddr_storage mapped = addr("::ffff:10.0.0.1");
	struct sockaddr_storage v6a = addr("2001:db8:0:5::1");
	struct sockaddr_storage v6b = addr("2001:db8:0:5:ffff:1:2:3");
	struct sockaddr_storage v6c = addr("2001:db8:0:6::1");
	int i, same;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	memset(t, 0, sizeof(t));
	for (i = 0; i < 3; i++)
		TU_CHECK(startups_admit(st, SA(a), &t[i]) == STARTUPS_ADMIT &&
		        t[i].held,
		    "connection %d from 10.0.0.1 refused", i + 1);
	TU_CHECK(startups_admit(st, SA(a), &t[3]) == STARTUPS_PER_SOURCE &&
	        !t[3].held,
	    "a 4th from 10.0.0.1 admitted");
	TU_CHECK(startups_admit(st, SA(mapped), &t[3]) == STARTUPS_PER_SOURCE,
	    "::ffff:10.0.0.1 is not the same source as 10.0.0.1");
	TU_CHECK(startups_admit(st, SA(b), &t[4]) == STARTUPS_ADMIT,
	    "10.0.0.2 refused for 10.0.0.1's connections");
	TU_CHECK(startups_count(st, SA(a), &same) == 4 && same == 3,
	    "counts: %d total, %d from 10.0.0.1",
	    startups_count(st, SA(a), &same), same);
	startups_release(st, &t[1]);
	startups_release(st, &t[1]); /* a second time: nothing */
	TU_CHECK(startups_count(st, SA(a), &same) == 3 && same == 2,
	    "after a release: %d total, %d from 10.0.0.1",
	    startups_count(st, SA(a), &same), same);
	TU_CHECK(startups_admit(st, SA(mapped), &t[1]) == STARTUPS_ADMIT,
	    "the released place was not given back");
	/* IPv6: one /64 is one source. */
	TU_CHECK(startups_admit(st, SA(v6a), &t[5]) == STARTUPS_ADMIT &&
	        startups_admit(st, SA(v6b), &t[6]) == STARTUPS_ADMIT &&
	        startups_admit(st, SA(v6a), &t[7]) == STARTUPS_ADMIT,
	    "three from one /64 refused");
	TU_CHECK(startups_admit(st, SA(v6b), &t[3]) == STARTUPS_PER_SOURCE,
	    "a 4th from the same /64 admitted");
	TU_CHECK(startups_admit(st, SA(v6c), &t[3]) == STARTUPS_ADMIT,
	    "the next /64 refused");
	startups_free(st);
}

static void
test_full(void)
{
	struct startups *st = make(5, 30, 5, 5);
	struct startups_ticket t[7];
	struct sockaddr_storage a;
	char text[32];
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	memset(t, 0, sizeof(t));
	for (i = 0; i < 6; i++) {
		snprintf(text, sizeof(text), "192.0.2.%d", i + 1);
		a = addr(text);
		TU_CHECK(startups_admit(st, SA(a), &t[i]) ==
		        (i < 5 ? STARTUPS_ADMIT : STARTUPS_FULL),
		    "connection %d at 5:30:5", i + 1);
	}
	startups_release(st, &t[0]);
	TU_CHECK(startups_admit(st, SA(a), &t[6]) == STARTUPS_ADMIT,
	    "a place given back is not taken again");
	startups_free(st);
}

/* Between START and FULL the refusals are random, at the sshd rate. */
static void
test_early_drop(void)
{
	struct startups *st = make(10, 30, 110, 200);
	struct startups_ticket held[60], t;
	struct sockaddr_storage a = addr("198.51.100.7");
	int i, dropped = 0, other = 0, n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	memset(held, 0, sizeof(held));
	for (i = 0; i < 10; i++)
		TU_CHECK(startups_admit(st, SA(a), &held[i]) == STARTUPS_ADMIT,
		    "below START: connection %d refused", i + 1);
	/* At START: 30 % of 2000 tries, well inside 20 to 40 %. */
	for (i = 0; i < 2000; i++) {
		memset(&t, 0, sizeof(t));
		switch (startups_admit(st, SA(a), &t)) {
		case STARTUPS_ADMIT:
			startups_release(st, &t);
			break;
		case STARTUPS_EARLY_DROP:
			dropped++;
			break;
		default:
			other++;
		}
	}
	TU_CHECK(other == 0 && dropped > 400 && dropped < 800,
	    "at START: %d of 2000 dropped, %d otherwise refused", dropped,
	    other);
	/* Half way to FULL: 30 + 70 / 2 = 65 %. */
	for (n = 10; n < 60;) {
		if (startups_admit(st, SA(a), &held[n]) == STARTUPS_ADMIT)
			n++;
	}
	dropped = 0;
	for (i = 0; i < 2000; i++) {
		memset(&t, 0, sizeof(t));
		if (startups_admit(st, SA(a), &t) == STARTUPS_ADMIT)
			startups_release(st, &t);
		else
			dropped++;
	}
	TU_CHECK(dropped > 1100 && dropped < 1500,
	    "half way: %d of 2000 dropped", dropped);
	startups_free(st);
}

/* Many sources coming and going: every count stays exact. */
static void
test_churn(void)
{
	enum { SOURCES = 300, HELD = 64, ROUNDS = 20000 };
	static struct startups_ticket t[HELD];
	static int src_of[HELD], model[SOURCES];
	struct startups *st = make(HELD, 30, HELD, HELD);
	struct sockaddr_storage a;
	char text[48];
	int i, k, src, same, total = 0, bad = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	memset(t, 0, sizeof(t));
	memset(model, 0, sizeof(model));
	for (i = 0; i < ROUNDS && !bad; i++) {
		k = (int)randombytes_uniform(HELD);
		if (t[k].held) {
			src = src_of[k];
			startups_release(st, &t[k]);
			model[src]--;
			total--;
		} else {
			src = (int)randombytes_uniform(SOURCES);
			snprintf(text, sizeof(text), "2001:db8:%x:%x::1",
			    src / 100, src % 100);
			a = addr(text);
			if (startups_admit(st, SA(a), &t[k]) != STARTUPS_ADMIT)
				bad = 1;
			src_of[k] = src;
			model[src]++;
			total++;
		}
		snprintf(text, sizeof(text), "2001:db8:%x:%x::9", src / 100,
		    src % 100);
		a = addr(text);
		if (startups_count(st, SA(a), &same) != total ||
		    same != model[src])
			bad = 1;
	}
	TU_CHECK(!bad, "round %d: counts differ from the model", i);
	startups_free(st);
}

void
register_startups_tests(void)
{
	CU_pSuite s = CU_add_suite("startups", NULL, NULL);

	if (s == NULL)
		return;

	CU_add_test(s, "defaults by --max-clients", test_defaults);
	CU_add_test(s, "START:RATE:FULL parsing", test_parse);
	CU_add_test(s, "per source: IPv4, mapped, IPv6 /64", test_per_source);
	CU_add_test(s, "refused at FULL", test_full);
	CU_add_test(s, "random early drop", test_early_drop);
	CU_add_test(s, "admits and releases keep counts", test_churn);
}
