/* SPDX-License-Identifier: MIT */
/*
 * Bandwidth limits (--bwlimit, BwLimit, the server's global and per-user
 * limits): a token bucket refilled continuously and charged per small
 * slice of I/O, as rsync's --bwlimit and scp -l pace their writes, so a
 * limited transfer flows evenly instead of in chunk-sized bursts. One
 * bucket may be shared by several connections (striping) and threads.
 */
#ifndef WHARF_RATELIMIT_H
#define WHARF_RATELIMIT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "wharf/err.h"

/* Bytes per second a limit may be, when not 0 (none). Below 1 KiB/s a
 * 64 KiB chunk would take longer than a minute. */
#define RATELIMIT_MIN 1024u
#define RATELIMIT_MAX (1ull << 40)
/* A limited read or write moves at most this much at a time, and at
 * most 1/RATELIMIT_SLICES_PER_SEC of a second's worth: the bucket holds
 * one slice, so no burst is longer than that. */
#define RATELIMIT_SLICE_MAX (16u * 1024u)
#define RATELIMIT_SLICE_MIN 512u
#define RATELIMIT_SLICES_PER_SEC 50u

struct ratelimit {
	pthread_mutex_t mu;
	uint64_t rate; /* bytes per second */
	double tokens; /* may be negative: bytes reserved ahead */
	double burst; /* the most the bucket holds */
	uint64_t last_ns; /* when tokens was last refilled */
	uint64_t (*now_ns)(void *arg); /* the clock: tests inject one */
	void *clock_arg;
};

/* Starts a bucket of rate bytes/s (RATELIMIT_MIN..RATELIMIT_MAX), full,
 * on the monotonic clock. WH_ERR_INVALID_ARG for a rate out of range. */
int ratelimit_init(struct ratelimit *rl, uint64_t rate) WH_MUST_CHECK;
void ratelimit_cleanup(struct ratelimit *rl);
/* Replaces the clock (nanoseconds, never decreasing) and refills from
 * its current reading: for unit tests. */
void ratelimit_set_clock(
    struct ratelimit *rl, uint64_t (*now_ns)(void *arg), void *arg);

/* The largest piece of I/O to charge at once for this bucket. */
size_t ratelimit_slice(const struct ratelimit *rl);

/*
 * Charges n bytes and returns how many nanoseconds the caller must wait
 * before moving them (0: at once). Concurrent callers queue behind each
 * other's reservations, so streams sharing a bucket share its rate.
 */
uint64_t ratelimit_reserve(struct ratelimit *rl, size_t n);

/* Sleeps ns nanoseconds (after ratelimit_reserve). */
void ratelimit_sleep(uint64_t ns);

/*
 * Parses a rate as rsync's --bwlimit does: a number (a fraction allowed)
 * in KiB/s, or with a suffix B (bytes), K, M, G (KiB, MiB, GiB, also
 * spelled KiB, MiB, GiB; KB, MB, GB are powers of 1000, as in rsync), per
 * second. "0" is no limit
 * (*rate = 0). WH_ERR_INVALID_ARG for anything else, or a rate outside
 * RATELIMIT_MIN..RATELIMIT_MAX.
 */
int ratelimit_parse(const char *s, uint64_t *rate) WH_MUST_CHECK;

#endif
