/* SPDX-License-Identifier: MIT */
/*
 * `wharf connect`: opens a session and runs commands from -c, from a batch
 * file (-b), or from a prompt. In -c and -b runs the first failing command
 * ends the run with its status, unless its line starts with '-'.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wharf/cli.h"
#include "wharf/keys.h"

static void
connect_usage(FILE *f)
{
	fprintf(f,
	    "usage: wharf connect [USER@]HOST[:PORT] [-c \"CMD; CMD; ...\"] "
	    "[-b BATCHFILE]\n"
	    "                     [--psk FILE] [--plaintext] [-q]\n"
	    "\n"
	    "  -c CMDS        run these commands (separated by ';') and exit\n"
	    "  -b FILE        run the commands in FILE, one a line ('-' for "
	    "stdin)\n"
	    "  --psk FILE     pre-shared key the server requires\n"
	    "  --plaintext    ask for an unencrypted session (server must "
	    "allow it)\n"
	    "  -q             no notices on stderr\n"
	    "  --json         ls, stat, ping and transfer summaries as JSON, "
	    "one object a line\n"
	    "\n"
	    "The password comes from WHARF_PASSWORD, or is asked for.\n"
	    "Exit status: 0 ok, 1 a remote operation failed, 2 usage error,\n"
	    "3 connection, handshake or authentication failure.\n");
}

/* Runs ';'-separated commands (quotes protect a ';'). */
static int
run_commands(struct cli *cli, const char *cmds)
{
	char *copy = strdup(cmds), *p, *start;
	char quote = 0;
	int status = EXIT_OK;

	if (copy == NULL)
		return EXIT_REMOTE;
	for (p = start = copy;; p++) {
		if (quote != 0) {
			if (*p == quote)
				quote = 0;
			else if (*p == '\\' && p[1] != '\0')
				p++;
			if (*p != '\0')
				continue;
		}
		if (*p == '\'' || *p == '"') {
			quote = *p;
			continue;
		}
		if (*p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p != ';' && *p != '\0')
			continue;
		char end = *p;
		*p = '\0';
		status = cli_run_line(cli, start);
		if (status != EXIT_OK || cli->quit || end == '\0')
			break;
		start = p + 1;
	}
	free(copy);
	return status;
}

static int
run_file(struct cli *cli, FILE *f, int prompt)
{
	char line[CLI_LINE_MAX];
	int status = EXIT_OK;
	size_t n;

	for (;;) {
		if (prompt) {
			fprintf(stdout, "wharf:%s> ",
			    cli->c != NULL ? cli->c->cwd : "");
			fflush(stdout);
		}
		if (fgets(line, sizeof(line), f) == NULL)
			break;
		n = strlen(line);
		if (n > 0 && line[n - 1] != '\n' && !feof(f)) {
			fprintf(stderr, "wharf: line longer than %d bytes\n",
			    CLI_LINE_MAX - 1);
			return EXIT_USAGE;
		}
		status = cli_run_line(cli, line);
		if (cli->quit)
			break;
		if (!prompt && status != EXIT_OK)
			return status;
		if (prompt && status == EXIT_CONNECT && cli->c != NULL &&
		    cli->c->lost) {
			fprintf(stderr, "wharf: connection lost\n");
			return status;
		}
	}
	if (prompt)
		fputc('\n', stdout);
	return prompt ? EXIT_OK : status;
}

int
connect_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "psk", required_argument, NULL, 'k' },
		{ "plaintext", no_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmds = NULL, *batch = NULL;
	struct client_target target;
	struct cli cli;
	FILE *bf = NULL;
	int c, status;

	memset(&cli, 0, sizeof(cli));
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:b:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cmds = optarg;
			break;
		case 'b':
			batch = optarg;
			break;
		case 'k':
			cli.opts.psk_file = optarg;
			break;
		case 'P':
			cli.opts.plaintext = 1;
			break;
		case 'q':
			cli.opts.quiet = 1;
			break;
		case 'j':
			cli.json = 1;
			break;
		case 'h':
			connect_usage(stdout);
			return EXIT_OK;
		default:
			connect_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "wharf: connect: %s\n",
		    optind >= argc ? "missing [USER@]HOST[:PORT]" :
		                     "too many arguments");
		connect_usage(stderr);
		return EXIT_USAGE;
	}
	if (cmds != NULL && batch != NULL) {
		fprintf(stderr, "wharf: connect: -c and -b do not mix\n");
		return EXIT_USAGE;
	}
	if (client_target_parse(argv[optind], &target) != 0)
		return EXIT_USAGE;
	if (batch != NULL) {
		bf = strcmp(batch, "-") == 0 ? stdin : fopen(batch, "r");
		if (bf == NULL) {
			fprintf(stderr, "wharf: -b %s: %s\n", batch,
			    strerror(errno));
			return EXIT_USAGE;
		}
	}
	if (sodium_init() < 0)
		return EXIT_CONNECT;
	if (cli_open(&cli, &target) != EXIT_OK) {
		if (bf != NULL && bf != stdin)
			fclose(bf);
		return EXIT_CONNECT;
	}
	if (cmds != NULL)
		status = run_commands(&cli, cmds);
	else if (bf != NULL)
		status = run_file(&cli, bf, 0);
	else if (isatty(STDIN_FILENO)) {
		cli.interactive = 1;
		status = shell_run(&cli);
	} else
		status = run_file(&cli, stdin, 0);
	if (bf != NULL && bf != stdin)
		fclose(bf);
	client_close(cli.c);
	return status;
}

int
keygen_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "psk", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			path = optarg;
			break;
		case 'h':
			printf("usage: wharf keygen --psk FILE\n\n"
			       "Writes a new random pre-shared key to FILE "
			       "(mode 0600). Give the same\nfile to "
			       "'wharf serve --psk' and to clients' --psk.\n");
			return EXIT_OK;
		default:
			fprintf(stderr, "usage: wharf keygen --psk FILE\n");
			return EXIT_USAGE;
		}
	}
	if (path == NULL || optind != argc) {
		fprintf(stderr, "usage: wharf keygen --psk FILE\n");
		return EXIT_USAGE;
	}
	if (sodium_init() < 0)
		return 1;
	if ((r = keys_psk_generate(path)) != 0) {
		fprintf(stderr, "wharf: keygen %s: %s\n", path,
		    r == WH_ERR_EXISTS ? "file exists; not overwriting a key "
		                         "(remove it first)" :
		                         wh_strerror(r));
		return 1;
	}
	fprintf(stderr, "wharf: wrote a new pre-shared key to %s\n", path);
	return EXIT_OK;
}
