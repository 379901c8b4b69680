/* SPDX-License-Identifier: MIT */
/*
 * One-shot `wharf get` and `wharf put`: connect, move files, leave. The
 * last of two or more paths is the destination, as with scp.
 */
#include <stdio.h>
#include <string.h>

#include "wharf/address.h"
#include "wharf/cli.h"
#include "wharf/client_config.h"
#include "wharf/transfer.h"

static void
oneshot_usage(FILE *f, int put)
{
	fprintf(f,
	    "usage: wharf %s\n"
	    "       wharf %s\n"
	    "                 [-r] [-z[LEVEL] | --compress=auto|off|LEVEL] "
	    "[--hash blake2b|sha256]\n"
	    "                 [--exclude PATTERN]... [--stats FILE] [-q] "
	    "[--streams N] [--no-delta]\n"
	    "\n"
	    "  REMOTE is [USER@]HOST:PATH or wharf://[USER@]HOST[:PORT]/PATH; "
	    "after HOST:\n"
	    "  digits alone are a port (use HOST:./1234 for a file named "
	    "1234).\n"
	    "  Remote paths of get may be patterns (*, ?, [...]), expanded "
	    "on the server;\n"
	    "  one that matches nothing is an error; a backslash makes a glob "
	    "character literal.\n"
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
	    "%s"
	    "\n"
	    "The password comes from WHARF_PASSWORD, or is asked for. An "
	    "interrupted\ntransfer resumes when repeated.\n",
	    put ? "put LOCAL... REMOTE" : "get REMOTE... [LOCAL]",
	    put ? "put [USER@]HOST[:PORT] LOCAL... [REMOTE_PATH]" :
	          "get [USER@]HOST[:PORT] REMOTE_PATH... [LOCAL]",
	    3, CLIENT_CONN_OPTS_HELP);
}

#define ONESHOT_ARGS_MAX 256

/* The arguments of one command once its form is known: a server, remote
 * paths and local ones. Paths point into argv or into rpaths. */
struct oneshot_args {
	struct client_target target;
	char *locals[ONESHOT_ARGS_MAX];
	char *remotes[ONESHOT_ARGS_MAX];
	int nlocal, nremote;
	char rpaths[ONESHOT_ARGS_MAX][CLIENT_PATH_MAX];
};

/* A "HOST:PATH" or URL argument: its server must be the command's. */
static int
add_remote(struct oneshot_args *a, const char *arg, int first)
{
	struct client_target t;
	char *path = a->rpaths[a->nremote];

	if (address_parse(arg, &t, path, CLIENT_PATH_MAX) != 0)
		return -1;
	if (first)
		a->target = t;
	else if (!address_same_server(&a->target, &t)) {
		fprintf(stderr,
		    "wharf: '%s' names another server; one command talks "
		    "to one server\n",
		    arg);
		return -1;
	}
	/* "HOST:" is the remote working folder. */
	if (path[0] == '\0')
		snprintf(path, CLIENT_PATH_MAX, ".");
	a->remotes[a->nremote++] = path;
	return 0;
}

/*
 * Sorts pos[] into a->target, remotes and locals. scp's form is taken
 * when a remote path names the server (get: the first argument; put: the
 * last); otherwise the first argument is the server, as before.
 */
static int
sort_args(struct oneshot_args *a, char **pos, int n, int put)
{
	enum address_kind first = address_classify(pos[0]);
	enum address_kind last = address_classify(pos[n - 1]);
	int i;

	memset(a, 0, sizeof(*a));
	if (!put && first == ADDRESS_REMOTE_PATH) {
		for (i = 0;
		     i < n && address_classify(pos[i]) == ADDRESS_REMOTE_PATH;
		     i++)
			if (add_remote(a, pos[i], i == 0) != 0)
				return -1;
		if (n - i > 1) {
			fprintf(stderr,
			    "wharf: get: after the remote files, only one "
			    "local destination ('%s' is more)\n",
			    pos[i + 1]);
			return -1;
		}
		if (i < n)
			a->locals[a->nlocal++] = pos[i];
		return 0;
	}
	if (put && n >= 2 && last == ADDRESS_REMOTE_PATH) {
		if (add_remote(a, pos[n - 1], 1) != 0)
			return -1;
		for (i = 0; i < n - 1; i++) {
			if (address_classify(pos[i]) == ADDRESS_SERVER ||
			    address_classify(pos[i]) == ADDRESS_REMOTE_PATH) {
				fprintf(stderr,
				    "wharf: put: '%s' looks remote; write "
				    "./%s for a local file\n",
				    pos[i], pos[i]);
				return -1;
			}
			a->locals[a->nlocal++] = pos[i];
		}
		return 0;
	}
	if (first == ADDRESS_LOCAL || first == ADDRESS_REMOTE_PATH) {
		fprintf(stderr,
		    "wharf: %s: '%s' is not a server; give [USER@]HOST:PATH "
		    "or a server first\n",
		    put ? "put" : "get", pos[0]);
		return -1;
	}
	if (n == 1) {
		if (first == ADDRESS_SERVER)
			fprintf(stderr,
			    "wharf: %s: '%s' is a server and port, with no "
			    "file; for a file named like a number write "
			    "HOST:./NAME\n",
			    put ? "put" : "get", pos[0]);
		else
			oneshot_usage(stderr, put);
		return -1;
	}
	if (address_parse(pos[0], &a->target, NULL, 0) != 0)
		return -1;
	/* The old form: get SERVER REMOTE... [LOCAL], put SERVER LOCAL...
	 * [REMOTE]; with two or more paths the last is the destination. */
	for (i = 1; i < n; i++) {
		int dest = n > 2 && i == n - 1;

		if (put != dest)
			a->locals[a->nlocal++] = pos[i];
		else
			a->remotes[a->nremote++] = pos[i];
	}
	return 0;
}

/*
 * get's remote patterns, expanded on the server exactly as in the shell
 * (cli_remote_glob). The user's shell has removed the quotes already, so
 * any word with a glob character is a pattern; a backslash makes one
 * literal. Nothing matching is an error, as in sftp.
 */
static int
get_expanded(
    struct client *c, const struct transfer_opts *o, struct oneshot_args *a)
{
	struct cli cli;
	char *pats[ONESHOT_ARGS_MAX], **all;
	const char *dest = a->nlocal > 0 ? a->locals[0] : NULL;
	int i, n, bad, r, status;

	memset(&cli, 0, sizeof(cli));
	cli.c = c;
	for (i = 0; i < a->nremote; i++)
		pats[i] = strpbrk(a->remotes[i], "*?[") != NULL ?
		    a->remotes[i] :
		    NULL;
	if ((r = cli_expand_args(
	         &cli, a->remotes, pats, a->nremote, &all, &n, &bad)) != 0)
		return cli_remote_fail(
		    &cli, "get", bad >= 0 ? a->remotes[bad] : NULL, r);
	/* Several matches need a folder to land in. */
	if (n > 1 && dest == NULL)
		dest = ".";
	status = transfer_get(c, o, all, n, dest);
	cli_free_list(all, n);
	return status;
}

static int
oneshot(int argc, char **argv, int put)
{
	static struct oneshot_args args;
	struct transfer_opts o;
	struct client_opts co;
	struct client *c = NULL;
	char *pos[ONESHOT_ARGS_MAX];
	int i, n = 0, r, status;

	transfer_opts_init(&o);
	memset(&co, 0, sizeof(co));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			oneshot_usage(stdout, put);
			return EXIT_OK;
		}
		if (strcmp(a, "--json") == 0) {
			o.json = 1;
			continue;
		}
		if (strcmp(a, "-q") == 0) {
			co.quiet = 1;
			o.quiet = 1;
			continue;
		}
		if ((r = client_parse_conn_opt(&co, argc, argv, &i)) < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
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
		if (n == ONESHOT_ARGS_MAX) {
			fprintf(stderr, "wharf: too many paths\n");
			return EXIT_USAGE;
		}
		pos[n++] = argv[i];
	}
	if (n == 0) {
		oneshot_usage(stderr, put);
		return EXIT_USAGE;
	}
	if (sort_args(&args, pos, n, put) != 0 ||
	    client_config_resolve(&args.target, &co, &o) != 0)
		return EXIT_USAGE;
	if (sodium_init() < 0)
		return EXIT_CONNECT;
	if (client_open(&args.target, &co, &c) != 0)
		return EXIT_CONNECT;
	if (put)
		status = transfer_put(c, &o, args.locals, args.nlocal,
		    args.nremote > 0 ? args.remotes[0] : NULL);
	else
		status = get_expanded(c, &o, &args);
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
