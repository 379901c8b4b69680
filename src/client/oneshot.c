/* SPDX-License-Identifier: MIT */
/*
 * One-shot `wharf get` and `wharf put`: connect, move files, leave. The
 * last of two or more paths is the destination, as with scp.
 */
#include <stdio.h>
#include <string.h>

#include "wharf/cli.h"
#include "wharf/transfer.h"

static void
oneshot_usage(FILE *f, int put)
{
	fprintf(f,
	    "usage: wharf %s [USER@]HOST[:PORT] %s [-r]\n"
	    "                 [-z[LEVEL] | --compress=auto|off|LEVEL] "
	    "[--hash blake2b|sha256]\n"
	    "                 [--exclude PATTERN]... [--stats FILE] "
	    "[--psk FILE] [--plaintext] [-q]\n"
	    "                 [--streams N] [--no-delta]\n"
	    "\n"
	    "  -r                 whole trees\n"
	    "  -z[LEVEL]          always try zstd (level 1-19, default %d)\n"
	    "  --compress=MODE    auto (default: when the link is slow), off, "
	    "or a level\n"
	    "  --hash ALG         chunk digest: blake2b (default) or sha256\n"
	    "  --exclude PATTERN  skip paths matching this glob (repeatable)\n"
	    "  --stats FILE       append one CSV row per file\n"
	    "  --streams N        send a big file over N connections at once\n"
	    "  --no-delta         send whole files even where an old copy "
	    "exists\n"
	    "  --no-progress      no progress line on the terminal\n"
	    "  -q                 no summary lines\n"
	    "  --json             summaries as JSON, one object a line\n"
	    "\n"
	    "The password comes from WHARF_PASSWORD, or is asked for. An "
	    "interrupted\ntransfer resumes when repeated.\n",
	    put ? "put" : "get",
	    put ? "LOCAL... [REMOTE]" : "REMOTE... [LOCAL]", 3);
}

static int
oneshot(int argc, char **argv, int put)
{
	struct transfer_opts o;
	struct client_opts co;
	struct client_target target;
	struct client *c = NULL;
	char *paths[256];
	const char *target_arg = NULL;
	int i, n = 0, r, status;

	transfer_opts_init(&o);
	memset(&co, 0, sizeof(co));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			oneshot_usage(stdout, put);
			return EXIT_OK;
		}
		if (strcmp(a, "--psk") == 0 && i + 1 < argc) {
			co.psk_file = argv[++i];
			continue;
		}
		if (strncmp(a, "--psk=", 6) == 0) {
			co.psk_file = a + 6;
			continue;
		}
		if (strcmp(a, "--json") == 0) {
			o.json = 1;
			continue;
		}
		if (strcmp(a, "--plaintext") == 0) {
			co.plaintext = 1;
			continue;
		}
		if (strcmp(a, "-q") == 0) {
			co.quiet = 1;
			o.quiet = 1;
			continue;
		}
		if (a[0] == '-' && a[1] != '\0') {
			if ((r = transfer_parse_opt(&o, argc, argv, &i)) < 0)
				return EXIT_USAGE;
			if (r == 0) {
				fprintf(stderr,
				    "wharf: %s: unknown option "
				    "%s\n",
				    put ? "put" : "get", a);
				oneshot_usage(stderr, put);
				return EXIT_USAGE;
			}
			continue;
		}
		if (target_arg == NULL)
			target_arg = a;
		else if (n < (int)(sizeof(paths) / sizeof(paths[0])))
			paths[n++] = argv[i];
		else {
			fprintf(stderr, "wharf: too many paths\n");
			return EXIT_USAGE;
		}
	}
	if (target_arg == NULL || n == 0) {
		oneshot_usage(stderr, put);
		return EXIT_USAGE;
	}
	if (client_target_parse(target_arg, &target) != 0)
		return EXIT_USAGE;
	if (sodium_init() < 0)
		return EXIT_CONNECT;
	if (client_open(&target, &co, &c) != 0)
		return EXIT_CONNECT;
	if (put)
		status = transfer_put(c, &o, paths, n > 1 ? n - 1 : 1,
		    n > 1 ? paths[n - 1] : NULL);
	else
		status = transfer_get(c, &o, paths, n > 1 ? n - 1 : 1,
		    n > 1 ? paths[n - 1] : NULL);
	client_close(c);
	return status;
}

int
put_main(int argc, char **argv)
{
	return oneshot(argc, argv, 1);
}

int
get_main(int argc, char **argv)
{
	return oneshot(argc, argv, 0);
}
