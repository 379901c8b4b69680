/* SPDX-License-Identifier: MIT */
/*
 * The client's command language, shared by `connect -c`, `connect -b` and
 * the interactive prompt: one line is one command, split like a shell
 * splits words (quotes, backslashes), "#" starts a comment, and a leading
 * "-" lets a batch go on when that command fails (as in sftp batches).
 */
#ifndef WHARF_CLI_H
#define WHARF_CLI_H

#include "wharf/client.h"

#define CLI_ARGS_MAX 64
#define CLI_LINE_MAX 8192

struct cli {
	struct client *c; /* NULL while not connected */
	struct client_opts opts;
	int interactive;
	int quit; /* bye/exit/quit was given */
};

/*
 * Splits line into at most CLI_ARGS_MAX words in argv (pointing into
 * storage, which must hold strlen(line) + 1 bytes). Returns the count, or
 * WH_ERR_INVALID_ARG for an unterminated quote or too many words.
 */
int cli_split(const char *line, char *storage, char **argv) WH_MUST_CHECK;

/* Runs one line. Returns an exit status: EXIT_OK, EXIT_REMOTE (the
 * operation failed), EXIT_USAGE (bad command) or EXIT_CONNECT. */
int cli_run_line(struct cli *cli, const char *line);

/* `wharf connect` and `wharf keygen`. */
int connect_main(int argc, char **argv);
int keygen_main(int argc, char **argv);
/* One-shot `wharf get` and `wharf put`. */
int get_main(int argc, char **argv);
int put_main(int argc, char **argv);

#endif
