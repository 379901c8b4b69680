/* SPDX-License-Identifier: MIT */
/*
 * Number parsing with every error reported, never atoi-style silence.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wharf/strnum.h"

int
strnum_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	const char *u;
	double v, mult = 1.0;
	char *end;

	if (*s == '\0' || *s == '-' || *s == '+')
		return WH_ERR_INVALID_ARG;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !isfinite(v) || v < 0)
		return WH_ERR_INVALID_ARG;
	if (*end != '\0') {
		if ((u = strchr(units, end[0] & ~0x20)) == NULL)
			return WH_ERR_INVALID_ARG;
		mult = ldexp(1.0, 10 * (int)(u - units + 1));
		end++;
		if (strcasecmp(end, "ib") != 0 && strcasecmp(end, "b") != 0 &&
		    *end != '\0')
			return WH_ERR_INVALID_ARG;
	} else if (strchr(s, '.') != NULL)
		return WH_ERR_INVALID_ARG; /* "1.5" bytes */
	v *= mult;
	if (v >= 18446744073709551615.0)
		return WH_ERR_INVALID_ARG;
	*out = (uint64_t)v;
	return 0;
}

int
strnum_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return WH_ERR_INVALID_ARG;
	*out = v;
	return 0;
}
