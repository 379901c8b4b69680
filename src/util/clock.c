/* SPDX-License-Identifier: MIT */
/*
 * Monotonic time and sleeping. One copy: the copies this replaced had
 * drifted (one could not sleep a second or more).
 */
#include <errno.h>
#include <time.h>

#include "wharf/clock.h"

int64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double
clock_mono_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
clock_sleep_ms(int64_t ms)
{
	if (ms > 0)
		clock_sleep_ns((uint64_t)ms * 1000000u);
}

void
clock_sleep_ns(uint64_t ns)
{
	struct timespec ts;

	if (ns == 0)
		return;
	ts.tv_sec = (time_t)(ns / 1000000000u);
	ts.tv_nsec = (long)(ns % 1000000000u);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}
