/* SPDX-License-Identifier: MIT */
/*
 * The token bucket behind every bandwidth limit. Reservations may drive
 * the bucket below zero: each caller then sleeps off its own deficit, and
 * the next one finds the debt and waits behind it, which is how several
 * streams share one rate without a queue.
 */
#include <string.h>
#include <time.h>

#include "wharf/clock.h"
#include "wharf/ratelimit.h"

#define NS_PER_SEC 1000000000.0

static uint64_t
mono_ns(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
ratelimit_init(struct ratelimit *rl, uint64_t rate)
{
	memset(rl, 0, sizeof(*rl));
	if (rate < RATELIMIT_MIN || rate > RATELIMIT_MAX)
		return WH_ERR_INVALID_ARG;
	if (pthread_mutex_init(&rl->mu, NULL) != 0)
		return WH_ERR_SYSTEM;
	rl->rate = rate;
	rl->now_ns = mono_ns;
	rl->burst = (double)ratelimit_slice(rl);
	rl->tokens = rl->burst;
	rl->last_ns = rl->now_ns(NULL);
	return 0;
}

void
ratelimit_cleanup(struct ratelimit *rl)
{
	if (rl->rate != 0)
		pthread_mutex_destroy(&rl->mu);
	memset(rl, 0, sizeof(*rl));
}

void
ratelimit_set_clock(
    struct ratelimit *rl, uint64_t (*now_ns)(void *arg), void *arg)
{
	pthread_mutex_lock(&rl->mu);
	rl->now_ns = now_ns;
	rl->clock_arg = arg;
	rl->last_ns = now_ns(arg);
	pthread_mutex_unlock(&rl->mu);
}

size_t
ratelimit_slice(const struct ratelimit *rl)
{
	uint64_t s = rl->rate / RATELIMIT_SLICES_PER_SEC;

	if (s < RATELIMIT_SLICE_MIN)
		s = RATELIMIT_SLICE_MIN;
	if (s > RATELIMIT_SLICE_MAX)
		s = RATELIMIT_SLICE_MAX;
	return (size_t)s;
}

uint64_t
ratelimit_reserve(struct ratelimit *rl, size_t n)
{
	uint64_t now, wait = 0;
	double refill;

	pthread_mutex_lock(&rl->mu);
	now = rl->now_ns(rl->clock_arg);
	if (now > rl->last_ns) {
		refill =
		    (double)(now - rl->last_ns) / NS_PER_SEC * (double)rl->rate;
		rl->tokens += refill;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst; /* idle time earns no burst */
		rl->last_ns = now;
	}
	rl->tokens -= (double)n;
	if (rl->tokens < 0)
		wait = (uint64_t)(-rl->tokens / (double)rl->rate * NS_PER_SEC);
	pthread_mutex_unlock(&rl->mu);
	return wait;
}

void
ratelimit_sleep(uint64_t ns)
{
	clock_sleep_ns(ns);
}

/* The multiplier of a suffix at s (advanced past it), 0 if bad. */
static double
suffix_scale(const char **s)
{
	const char *p = *s;
	double base = 1024.0, scale;

	switch (*p) {
	case '\0':
		return 1024.0; /* KiB/s, rsync's unit */
	case 'b':
	case 'B':
		*s = p + 1;
		return 1.0;
	case 'k':
	case 'K':
		scale = 1.0;
		break;
	case 'm':
	case 'M':
		scale = 2.0;
		break;
	case 'g':
	case 'G':
		scale = 3.0;
		break;
	default:
		return 0.0;
	}
	p++;
	/* "K" and "KiB" are 1024, "KB" is 1000, as in rsync. */
	if ((p[0] == 'i' || p[0] == 'I') && (p[1] == 'b' || p[1] == 'B'))
		p += 2;
	else if (p[0] == 'b' || p[0] == 'B') {
		base = 1000.0;
		p++;
	}
	*s = p;
	return scale == 1.0 ? base :
	    scale == 2.0    ? base * base :
	                      base * base * base;
}

int
ratelimit_parse(const char *s, uint64_t *rate)
{
	double v = 0, frac = 0.1, scale;
	int digits = 0;

	*rate = 0;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		v = v * 10 + (*s - '0');
		if (v > (double)RATELIMIT_MAX)
			return WH_ERR_INVALID_ARG;
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
			v += frac * (*s - '0');
			frac /= 10;
		}
	}
	if (digits == 0 || (scale = suffix_scale(&s)) == 0.0 || *s != '\0')
		return WH_ERR_INVALID_ARG;
	v *= scale;
	if (v == 0)
		return 0;
	if (v < RATELIMIT_MIN || v > (double)RATELIMIT_MAX)
		return WH_ERR_INVALID_ARG;
	*rate = (uint64_t)v;
	return 0;
}
