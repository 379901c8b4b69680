/* SPDX-License-Identifier: MIT */
/*
 * The configuration file reader (server/conf.c over inih): any bytes as
 * wharf.conf. Checked: it either accepts, with every number within its
 * key's range and every path absolute (relative ones joined to the
 * folder), or refuses with "NAME:LINE: why" for a line that exists, or
 * "NAME: why"; and the same bytes read twice give the same answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "wharf/conf.h"

#define CONF_FUZZ_NAME "fuzz.conf"

/* Lines in data, a last one without a newline counted. */
static long
count_lines(const uint8_t *data, size_t size)
{
	long n = 0;
	size_t i;

	for (i = 0; i < size; i++)
		if (data[i] == '\n')
			n++;
	return size > 0 && data[size - 1] != '\n' ? n + 1 : n;
}

static int
load(const uint8_t *data, size_t size, struct serve_conf *c, char *err,
    size_t errlen)
{
	FILE *f;
	int r;

	if (conf_init(c, 1) != 0)
		FUZZ_CHECK(!"conf_init");
	/* fmemopen of 0 bytes fails with EINVAL: an empty file instead. */
	f = size > 0 ? fmemopen((void *)(uintptr_t)data, size, "r") :
	               fopen("/dev/null", "r");
	FUZZ_CHECK(f != NULL);
	err[0] = '\0';
	r = conf_load_stream(c, f, CONF_FUZZ_NAME, "/base", err, errlen);
	fclose(f);
	return r;
}

static void
check_path(const char *p)
{
	FUZZ_CHECK(p == NULL || p[0] == '/');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct serve_conf c, again;
	char err[CONF_ERR_MAX], err2[CONF_ERR_MAX];
	const char *rest;
	char *end;
	long line;
	int r, r2;

	r = load(data, size, &c, err, sizeof(err));
	r2 = load(data, size, &again, err2, sizeof(err2));
	FUZZ_CHECK(r == r2 && strcmp(err, err2) == 0);
	if (r == 0) {
		FUZZ_CHECK(c.max_clients >= 1 && c.max_clients <= 100000);
		FUZZ_CHECK(c.idle_timeout >= 1 && c.idle_timeout <= 604800);
		FUZZ_CHECK(c.drain_timeout >= 0 && c.drain_timeout <= 86400);
		FUZZ_CHECK(c.per_source_max_startups >= 0 &&
		    c.per_source_max_startups <= 100000);
		FUZZ_CHECK(c.allow_plaintext == 0 || c.allow_plaintext == 1);
		FUZZ_CHECK(c.keys_only == 0 || c.keys_only == 1);
		FUZZ_CHECK(c.verbose == 0 || c.verbose == 1);
		check_path(c.root);
		check_path(c.state);
		check_path(c.psk);
		check_path(c.log);
		check_path(c.stats);
	} else {
		FUZZ_CHECK(strncmp(err, CONF_FUZZ_NAME ":",
		               sizeof(CONF_FUZZ_NAME)) == 0);
		rest = err + sizeof(CONF_FUZZ_NAME);
		if (*rest != ' ') {
			line = strtol(rest, &end, 10);
			FUZZ_CHECK(end != rest && *end == ':');
			FUZZ_CHECK(
			    line >= 1 && line <= count_lines(data, size));
		}
	}
	conf_cleanup(&c);
	conf_cleanup(&again);
	return 0;
}
