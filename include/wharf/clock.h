/* SPDX-License-Identifier: MIT */
/*
 * The monotonic clock and a sleep that survives signals: written once,
 * for every layer that measures time or waits.
 */
#ifndef WHARF_CLOCK_H
#define WHARF_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds and in seconds. */
int64_t clock_mono_ms(void);
double clock_mono_sec(void);
/* Sleeps ms milliseconds (any length), resuming after EINTR; <= 0: none. */
void clock_sleep_ms(int64_t ms);
/* The same in nanoseconds (pacing a bandwidth limit needs less than a ms). */
void clock_sleep_ns(uint64_t ns);

#endif
