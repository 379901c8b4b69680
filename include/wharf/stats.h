/* SPDX-License-Identifier: MIT */
/*
 * Transfer figures: one record per file moved, appended as a CSV row to a
 * --stats file and shown to people as a summary line.
 */
#ifndef WHARF_STATS_H
#define WHARF_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "wharf/err.h"

#define STATS_CSV_HEADER \
	"timestamp,peer,user,direction,path,bytes,wire_bytes,resumed_bytes," \
	"seconds,mb_per_s,hash,compression,result\n"

struct xfer_stats {
	const char *peer;
	const char *user;
	const char *direction; /* "put" or "get" */
	const char *path;
	const char *hash; /* "blake2b" or "sha256" */
	const char *compression; /* "auto", "off" or "zstd-N" */
	const char *result; /* "ok" or an error code name */
	uint64_t bytes; /* size of the file */
	uint64_t wire_bytes; /* chunk data actually sent */
	uint64_t resumed; /* bytes not sent again */
	double seconds;
};

/* Megabytes (10^6) per second; 0 for no time. */
double stats_rate(uint64_t bytes, double seconds);

/*
 * Appends st as one CSV row to path (creating it with a header line).
 * One write(2) per row with O_APPEND, so concurrent writers do not mix.
 */
int
stats_append_csv(const char *path, const struct xfer_stats *st) WH_MUST_CHECK;

/* "512 B", "1.50 KiB", "1.00 GiB". */
void stats_format_size(uint64_t bytes, char *out, size_t outlen);

#endif
