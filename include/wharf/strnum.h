/* SPDX-License-Identifier: MIT */
/*
 * Parsing numbers from the command line: sizes with binary suffixes
 * ("10G", "512M", "4096") and bounded integers.
 */
#ifndef WHARF_STRNUM_H
#define WHARF_STRNUM_H

#include <stdint.h>

#include "wharf/err.h"

/* "123", "10K", "1.5G" (K/M/G/T, powers of 1024, optional "iB"/"B"). */
int strnum_size(const char *s, uint64_t *out) WH_MUST_CHECK;
/* A decimal integer within [min, max]. */
int strnum_long(const char *s, long min, long max, long *out) WH_MUST_CHECK;

#endif
