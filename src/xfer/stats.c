/* SPDX-License-Identifier: MIT */
/*
 * Transfer records: CSV rows (RFC 4180 quoting for paths) and sizes for
 * people.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wharf/stats.h"

#define STATS_ROW_MAX 8192

double
stats_rate(uint64_t bytes, double seconds)
{
	return seconds > 0 ? (double)bytes / seconds / 1e6 : 0.0;
}

void
stats_format_size(uint64_t bytes, char *out, size_t outlen)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(out, outlen, "%llu B", (unsigned long long)bytes);
		return;
	}
	while (v >= 1024.0 && u < 3) {
		v /= 1024.0;
		u++;
	}
	snprintf(out, outlen, "%.2f %s", v, units[u]);
}

/* Appends s to out as a CSV field, quoted when it needs to be. */
static size_t
csv_field(char *out, size_t outlen, size_t n, const char *s)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL;
	size_t i;

	if (quote && n + 1 < outlen)
		out[n++] = '"';
	for (i = 0; s[i] != '\0' && n + 2 < outlen; i++) {
		if (s[i] == '"')
			out[n++] = '"';
		out[n++] = s[i];
	}
	if (quote && n + 1 < outlen)
		out[n++] = '"';
	if (n + 1 < outlen)
		out[n++] = ',';
	out[n] = '\0';
	return n;
}

int
stats_append_csv(const char *path, const struct xfer_stats *st)
{
	char row[STATS_ROW_MAX], stamp[32];
	struct timespec ts;
	struct stat sb;
	struct tm tm;
	size_t n = 0;
	int fd, k, r = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = csv_field(row, sizeof(row), n, stamp);
	n = csv_field(row, sizeof(row), n, st->peer ? st->peer : "");
	n = csv_field(row, sizeof(row), n, st->user ? st->user : "");
	n = csv_field(row, sizeof(row), n, st->direction);
	n = csv_field(row, sizeof(row), n, st->path);
	k = snprintf(row + n, sizeof(row) - n, "%llu,%llu,%llu,%.3f,%.2f,",
	    (unsigned long long)st->bytes, (unsigned long long)st->wire_bytes,
	    (unsigned long long)st->resumed, st->seconds,
	    stats_rate(st->bytes - st->resumed, st->seconds));
	if (k < 0 || (size_t)k >= sizeof(row) - n)
		return WH_ERR_TOO_LARGE;
	n += (size_t)k;
	n = csv_field(row, sizeof(row), n, st->hash);
	n = csv_field(row, sizeof(row), n, st->compression);
	n = csv_field(row, sizeof(row), n, st->result);
	if (n == 0 || n + 1 >= sizeof(row))
		return WH_ERR_TOO_LARGE;
	row[n - 1] = '\n'; /* the last field's comma */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return WH_ERR_SYSTEM;
	if (fstat(fd, &sb) == 0 && sb.st_size == 0 &&
	    write(fd, STATS_CSV_HEADER, strlen(STATS_CSV_HEADER)) < 0)
		r = WH_ERR_SYSTEM;
	if (r == 0 && write(fd, row, n) != (ssize_t)n)
		r = WH_ERR_SYSTEM;
	close(fd);
	return r;
}
