/* SPDX-License-Identifier: MIT */
/*
 * One remote command from the command line, then exit: `wharf ls`, `rm`,
 * `stat`, `sum`, `df`, `quota`, `chmod`, `mkdir`, `rmdir`, `mv`. They run
 * the shell's own commands, so options, patterns and output are the same
 * in one-shot form, in -c, in -b and at the prompt. Also the hidden
 * `wharf complete-remote`, which shell completion asks for remote names.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wharf/address.h"
#include "wharf/cli.h"
#include "wharf/text.h"
#include "wharf/client_config.h"
#include "wharf/msg.h"
#include "wharf/strnum.h"

/* Completion must never keep the user's shell waiting long. */
#define COMPLETE_TIMEOUT_DEFAULT 3

static void
remote_cmd_usage(FILE *f, const char *cmd)
{
	fprintf(f,
	    "usage: wharf %s [OPTIONS] [USER@]HOST[:PORT] ARGS...\n"
	    "       wharf %s [OPTIONS] ARGS... with paths as "
	    "[USER@]HOST:PATH\n"
	    "\n"
	    "  Runs the shell's %s command once (see 'help %s' in 'wharf "
	    "connect').\n"
	    "  Remote patterns (*, ?, [...]) are expanded on the server; "
	    "one that\n"
	    "  matches nothing is an error. A backslash makes a glob "
	    "character literal.\n"
	    "\n"
	    "  -q                 no notices\n"
	    "  --json             answers as JSON, one object a line\n"
	    "%s",
	    cmd, cmd, cmd, cmd, CLIENT_CONN_OPTS_HELP);
}

/* A one-shot word is a pattern when it holds a glob character; the
 * user's shell removed the quotes already, so a backslash is the only
 * way to say a '*' is literal (cli_remote_glob removes it). */
static char *
word_pattern(char *w)
{
	return strpbrk(w, "*?[") != NULL ? w : NULL;
}

int
remote_cmd_main(int argc, char **argv)
{
	static char paths[CLI_ARGS_MAX][CLIENT_PATH_MAX];
	char *cargv[CLI_ARGS_MAX + 1], *cpat[CLI_ARGS_MAX + 1];
	char *ops[CLI_ARGS_MAX];
	struct client_target t;
	struct cli cli;
	int i, r, n = 0, nops = 0, status, have_target = 0, scp_form = 0;

	memset(&cli, 0, sizeof(cli));
	cargv[n] = argv[0];
	cpat[n++] = NULL;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0) {
			remote_cmd_usage(stdout, argv[0]);
			return EXIT_OK;
		}
		if (strcmp(a, "--json") == 0) {
			cli.json = 1;
			continue;
		}
		if (strcmp(a, "-q") == 0) {
			cli.opts.quiet = 1;
			continue;
		}
		if ((r = client_parse_conn_opt(&cli.opts, argc, argv, &i)) < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		if (n + nops >= CLI_ARGS_MAX) {
			fprintf(
			    stderr, "wharf: %s: too many arguments\n", argv[0]);
			return EXIT_USAGE;
		}
		if (a[0] == '-' && a[1] != '\0' && nops == 0) {
			/* The command's own options (ls -l, df -h, sum
			 * --hash ALG) go to it, in order. */
			cpat[n] = NULL;
			cargv[n++] = argv[i];
			if (strcmp(a, "--hash") == 0 && i + 1 < argc) {
				cpat[n] = NULL;
				cargv[n++] = argv[++i];
			}
			continue;
		}
		ops[nops++] = argv[i];
		if (address_classify(a) == ADDRESS_REMOTE_PATH)
			scp_form = 1;
	}
	/* scp's form when a path names the server, else the first operand
	 * is the server, as for get and put. */
	for (i = 0; i < nops; i++) {
		enum address_kind k = address_classify(ops[i]);

		if (scp_form && k == ADDRESS_REMOTE_PATH) {
			struct client_target ti;

			if (address_parse(
			        ops[i], &ti, paths[i], sizeof(paths[i])) != 0)
				return EXIT_USAGE;
			if (!have_target)
				t = ti;
			else if (!address_same_server(&t, &ti)) {
				fprintf(stderr,
				    "wharf: '%s' names another server; one "
				    "command talks to one server\n",
				    ops[i]);
				return EXIT_USAGE;
			}
			have_target = 1;
			if (paths[i][0] == '\0')
				snprintf(paths[i], sizeof(paths[i]), ".");
			cargv[n] = paths[i];
		} else if (!scp_form && !have_target) {
			if (client_target_parse(ops[i], &t) != 0)
				return EXIT_USAGE;
			have_target = 1;
			continue;
		} else
			cargv[n] = ops[i];
		/* chmod's MODE is no path. */
		cpat[n] = strcmp(argv[0], "chmod") == 0 && n == 1 ?
		    NULL :
		    word_pattern(cargv[n]);
		n++;
	}
	cargv[n] = NULL;
	cpat[n] = NULL;
	if (!have_target) {
		remote_cmd_usage(stderr, argv[0]);
		return EXIT_USAGE;
	}
	if (sodium_init() < 0)
		return EXIT_CONNECT;
	if ((status = cli_open(&cli, &t)) != EXIT_OK)
		return status;
	status = cli_run_argv(&cli, n, cargv, cpat);
	client_close(cli.c);
	return status;
}

/* Prints the entries of one listing part that complete base. */
struct complete_ctx {
	const char *dirpart; /* as typed, up to and with the last '/' */
	const char *base;
};

static int
complete_part(void *arg, const Wharf__Envelope *part)
{
	struct complete_ctx *cc = arg;
	char name[WIRE_NAME_MAX + 1], clean[WIRE_NAME_MAX + 1];
	size_t i;

	for (i = 0; i < part->list_part->n_entries; i++) {
		const Wharf__FileInfo *fi = part->list_part->entries[i];

		if (msg_text(&fi->name, name, sizeof(name)) != 0 ||
		    strncmp(name, cc->base, strlen(cc->base)) != 0 ||
		    (name[0] == '.' && cc->base[0] != '.'))
			continue;
		/* One name a line: a newline in a name cannot be shown. */
		if (strchr(name, '\n') != NULL)
			continue;
		printf("%s%s%s\n", cc->dirpart,
		    text_clean(clean, sizeof(clean), name),
		    fi->type == WHARF__FILE_TYPE__TYPE_DIR ? "/" : "");
	}
	return 0;
}

int
complete_remote_main(int argc, char **argv)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__ListReq lr = WHARF__LIST_REQ__INIT;
	char path[CLIENT_PATH_MAX], dir[CLIENT_PATH_MAX];
	char dirpart[CLIENT_PATH_MAX];
	struct complete_ctx cc;
	struct client_target t;
	struct client_opts co;
	struct client *c = NULL;
	const char *arg = NULL, *slash, *env;
	long secs = COMPLETE_TIMEOUT_DEFAULT;
	int i, r;

	memset(&co, 0, sizeof(co));
	for (i = 1; i < argc; i++) {
		if ((r = client_parse_conn_opt(&co, argc, argv, &i)) < 0)
			return EXIT_USAGE;
		if (r == 0)
			arg = argv[i];
	}
	if (arg == NULL || address_classify(arg) != ADDRESS_REMOTE_PATH)
		return EXIT_USAGE;
	env = getenv("WHARF_COMPLETE_TIMEOUT");
	if (env != NULL && strnum_long(env, 1, 60, &secs) != 0)
		secs = COMPLETE_TIMEOUT_DEFAULT;
	/* Never a prompt, never a wait: no terminal to ask on (a password,
	 * an unknown host key), and the whole run ends at the timeout. */
	signal(SIGALRM, SIG_DFL);
	alarm((unsigned)secs);
	(void)setsid();
	co.quiet = 1;
	co.host_key_policy = HOST_KEY_STRICT;
	if (address_parse(arg, &t, path, sizeof(path)) != 0 ||
	    client_config_resolve(&t, &co, NULL) != 0)
		return EXIT_USAGE;
	/* Only keys and the agent, or WHARF_PASSWORD: the password prompt
	 * finds no terminal after setsid. */
	if (sodium_init() < 0 || client_open(&t, &co, &c) != 0)
		return EXIT_CONNECT;
	slash = strrchr(path, '/');
	if (slash == NULL) {
		snprintf(dir, sizeof(dir), ".");
		dirpart[0] = '\0';
		cc.base = path;
	} else {
		snprintf(dir, sizeof(dir), "%.*s",
		    (int)(slash == path ? 1 : slash - path), path);
		snprintf(dirpart, sizeof(dirpart), "%.*s",
		    (int)(slash - path + 1), path);
		cc.base = slash + 1;
	}
	cc.dirpart = dirpart;
	lr.path = msg_bytes(dir);
	lr.all = 1;
	req.body_case = WHARF__ENVELOPE__BODY_LIST;
	req.list = &lr;
	r = client_call(c, &req, &resp, complete_part, &cc);
	if (r == 0 && resp->body_case == WHARF__ENVELOPE__BODY_LIST_PART)
		complete_part(&cc, resp);
	msg_free(resp);
	client_close(c);
	return r == 0 ? EXIT_OK : EXIT_REMOTE;
}
