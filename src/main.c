/* SPDX-License-Identifier: MIT */
/*
 * wharf: one binary, a table of subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "wharf/accel.h"
#include "wharf/cli.h"
#include "wharf/server.h"

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{ "serve", serve_main, "run a server" },
	{ "user", user_main, "add, delete, list users; change passwords" },
	{ "status", status_main, "show a running server's sessions" },
	{ "kick", kick_main, "end sessions of a running server" },
	{ "connect", connect_main, "open a session (prompt, -c or -b)" },
	{ "get", get_main, "download files or trees, then exit" },
	{ "put", put_main, "upload files or trees, then exit" },
	{ "sync", sync_main,
	    "make a remote tree equal to a local one (or back)" },
	{ "ls", remote_cmd_main, "list remote files, then exit" },
	{ "stat", remote_cmd_main, "show remote files' details, then exit" },
	{ "sum", remote_cmd_main, "hash remote files on the server" },
	{ "rm", remote_cmd_main, "remove remote files, then exit" },
	{ "mkdir", remote_cmd_main, "make remote directories, then exit" },
	{ "rmdir", remote_cmd_main, "remove empty remote directories" },
	{ "mv", remote_cmd_main, "rename a remote file or directory" },
	{ "chmod", remote_cmd_main, "change remote permission bits" },
	{ "df", remote_cmd_main, "free space on the server" },
	{ "quota", remote_cmd_main, "bytes used and your quota" },
	{ "ping", ping_main, "measure latency and throughput to a server" },
	{ "keygen", keygen_main, "make a pre-shared key file" },
	{ "keyscan", keyscan_main, "print a server's known_hosts line" },
};

#define NSUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: wharf COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < NSUBCOMMANDS; i++)
		fprintf(f, "  %-9s %s\n", subcommands[i].name,
		    subcommands[i].summary);
	fprintf(f, "\n'wharf COMMAND --help' describes each command.\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("wharf %s (protocol 1)\n", WHARF_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	/* Before any sandbox: OpenSSL reads its configuration on the first
	 * fetch of an algorithm. */
	accel_init();
	/* Hidden: shell completion's question for remote names. */
	if (strcmp(argv[1], "complete-remote") == 0)
		return complete_remote_main(argc - 1, argv + 1);
	for (i = 0; i < NSUBCOMMANDS; i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "wharf: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
