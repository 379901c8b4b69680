/* SPDX-License-Identifier: MIT */
/*
 * `wharf connect`: opens a session and runs commands from -c, from a batch
 * file (-b), or from a prompt. In -c and -b runs the first failing command
 * ends the run with its status, unless its line starts with '-'.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wharf/address.h"
#include "wharf/cli.h"
#include "wharf/client_config.h"
#include "wharf/file.h"
#include "wharf/keys.h"
#include "wharf/sshkey.h"

static void
connect_usage(FILE *f)
{
	fprintf(f,
	    "usage: wharf connect [USER@]HOST[:PORT][:DIR] [-c \"CMD; CMD; "
	    "...\"] [-b BATCHFILE]\n"
	    "       wharf connect wharf://[USER@]HOST[:PORT][/DIR] ...\n"
	    "                     [-P PORT] [-i FILE] [-F FILE] [-o KEY=VALUE] "
	    "[--psk FILE] [--plaintext] [-q]\n"
	    "\n"
	    "  -c CMDS            run these commands (separated by ';') and "
	    "exit\n"
	    "  -b FILE            run the commands in FILE, one a line ('-' "
	    "for stdin),\n"
	    "                     each echoed on stderr; a line starting "
	    "with '@' is not\n"
	    "                     echoed, one starting with '-' may fail\n"
	    "  -q                 no notices on stderr\n"
	    "  --json             ls, stat, ping and transfer summaries as "
	    "JSON, one object a line\n"
	    "%s"
	    "\n"
	    "Type 'help' at the prompt for the commands. Remote patterns are "
	    "expanded on the\nserver as sftp does; quote or backslash a glob "
	    "character to make it literal.\n"
	    "The password comes from WHARF_PASSWORD, or is asked for.\n"
	    "Exit status: 0 ok, 1 a remote operation failed, 2 usage error,\n"
	    "3 connection, handshake or authentication failure.\n",
	    CLIENT_CONN_OPTS_HELP);
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
	const char *cmds = NULL, *batch = NULL, *target_arg = NULL;
	char start_dir[CLIENT_PATH_MAX] = "";
	struct client_target target;
	struct cli cli;
	FILE *bf = NULL;
	int i, r, status;

	memset(&cli, 0, sizeof(cli));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((r = client_parse_conn_opt(&cli.opts, argc, argv, &i)) < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			connect_usage(stdout);
			return EXIT_OK;
		} else if (strcmp(a, "-c") == 0 && i + 1 < argc)
			cmds = argv[++i];
		else if (strcmp(a, "-b") == 0 && i + 1 < argc)
			batch = argv[++i];
		else if (strcmp(a, "-q") == 0)
			cli.opts.quiet = 1;
		else if (strcmp(a, "--json") == 0)
			cli.json = 1;
		else if (a[0] == '-' && a[1] != '\0') {
			fprintf(
			    stderr, "wharf: connect: unknown option %s\n", a);
			connect_usage(stderr);
			return EXIT_USAGE;
		} else if (target_arg == NULL)
			target_arg = a;
		else {
			fprintf(stderr, "wharf: connect: too many arguments\n");
			connect_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (target_arg == NULL) {
		fprintf(stderr, "wharf: connect: missing [USER@]HOST[:PORT]\n");
		connect_usage(stderr);
		return EXIT_USAGE;
	}
	if (cmds != NULL && batch != NULL) {
		fprintf(stderr, "wharf: connect: -c and -b do not mix\n");
		return EXIT_USAGE;
	}
	/* "HOST:DIR" and a URL's path start the session in that folder,
	 * as sftp does. */
	if (address_parse(target_arg, &target, start_dir, sizeof(start_dir)) !=
	    0)
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
	if (start_dir[0] != '\0' && (status = cli_cd(&cli, start_dir)) != 0) {
		if (bf != NULL && bf != stdin)
			fclose(bf);
		client_close(cli.c);
		return status;
	}
	if (cmds != NULL)
		status = run_commands(&cli, cmds);
	else if (bf != NULL) {
		/* As sftp -b: each command is echoed (on stderr, so that
		 * --json output stays parseable) unless it starts with '@'. */
		cli.batch = 1;
		status = run_file(&cli, bf, 0);
	} else if (isatty(STDIN_FILENO)) {
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
keyscan_main(int argc, char **argv)
{
	struct client_target t;
	struct client_opts co;
	char line[KEYS_KNOWN_HOST_LINE_MAX + 1], hostport[NETADDR_STR_MAX];
	uint8_t pk[KEYS_HOST_PK_LEN];
	int i, r, n = 0, status = EXIT_OK;

	memset(&co, 0, sizeof(co));
	for (i = 1; i < argc; i++) {
		if ((r = client_parse_conn_opt(&co, argc, argv, &i)) < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			printf("usage: wharf keyscan [-P PORT] [--psk FILE] "
			       "HOST[:PORT]...\n\n"
			       "Prints each server's known_hosts line, to add "
			       "to ~/.config/wharf/known_hosts\nahead of the "
			       "first connection (see --host-key-policy).\n");
			return EXIT_OK;
		}
		if (argv[i][0] == '-') {
			fprintf(stderr, "wharf: keyscan: unknown option %s\n",
			    argv[i]);
			return EXIT_USAGE;
		}
		if (sodium_init() < 0)
			return EXIT_CONNECT;
		n++;
		if (client_target_parse(argv[i], &t) != 0 ||
		    client_config_resolve(&t, &co, NULL) != 0)
			return EXIT_USAGE;
		if (client_keyscan(&t, &co, pk) != 0) {
			status = EXIT_CONNECT;
			continue;
		}
		netaddr_format_host(t.host, t.port, hostport, sizeof(hostport));
		if (keys_known_host_line(hostport, pk, line, sizeof(line)) != 0)
			return EXIT_REMOTE;
		printf("%s\n", line);
	}
	if (n == 0) {
		fprintf(stderr, "usage: wharf keyscan HOST[:PORT]...\n");
		return EXIT_USAGE;
	}
	return status;
}

#define KEYGEN_USAGE \
	"usage: wharf keygen [-f FILE] [-C COMMENT]\n" \
	"       wharf keygen --psk FILE\n"

int
keygen_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "psk", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *psk = NULL, *file = NULL, *comment = NULL;
	char path[PATH_MAX], dir[PATH_MAX], who[256], host[128];
	char pub[PATH_MAX + 8];
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hf:C:", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			psk = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		case 'C':
			comment = optarg;
			break;
		case 'h':
			printf(KEYGEN_USAGE
			    "\nThe first form makes an Ed25519 key for key "
			    "login, in OpenSSH's format\n(default "
			    "~/.config/wharf/id_ed25519, public half in "
			    "FILE.pub, for 'wharf user\nkey add' on the "
			    "server). The second writes a new random "
			    "pre-shared key\n(mode 0600) for 'wharf serve "
			    "--psk' and clients' --psk.\n");
			return EXIT_OK;
		default:
			fprintf(stderr, KEYGEN_USAGE);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || (psk != NULL && (file || comment))) {
		fprintf(stderr, KEYGEN_USAGE);
		return EXIT_USAGE;
	}
	if (sodium_init() < 0)
		return 1;
	if (psk != NULL) {
		if ((r = keys_psk_generate(psk)) != 0) {
			fprintf(stderr, "wharf: keygen %s: %s\n", psk,
			    r == WH_ERR_EXISTS ? "file exists; not "
			                         "overwriting a key (remove "
			                         "it first)" :
			                         wh_strerror(r));
			return 1;
		}
		fprintf(
		    stderr, "wharf: wrote a new pre-shared key to %s\n", psk);
		return EXIT_OK;
	}
	if (file == NULL) {
		if (client_config_file(NULL, dir, sizeof(dir)) != 0) {
			fprintf(stderr, "wharf: keygen: set HOME or use -f\n");
			return EXIT_USAGE;
		}
		if ((r = file_mkdirs(dir, 0700)) != 0) {
			fprintf(stderr, "wharf: %s: %s\n", dir, wh_strerror(r));
			return 1;
		}
		snprintf(path, sizeof(path), "%.*s/id_ed25519",
		    (int)sizeof(path) - 16, dir);
		file = path;
	}
	if (comment == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(who, sizeof(who), "%s@%s",
		    getenv("USER") != NULL ? getenv("USER") : "wharf", host);
		comment = who;
	}
	if ((r = sshkey_generate(file, comment)) != 0) {
		fprintf(stderr, "wharf: keygen %s: %s\n", file,
		    r == WH_ERR_EXISTS ? "file exists; not overwriting a key "
		                         "(remove it first)" :
		                         wh_strerror(r));
		return 1;
	}
	snprintf(pub, sizeof(pub), "%s.pub", file);
	fprintf(stderr,
	    "wharf: wrote a new Ed25519 key to %s and %s\n"
	    "wharf: on the server: wharf user key add NAME %s\n",
	    file, pub, pub);
	return EXIT_OK;
}
