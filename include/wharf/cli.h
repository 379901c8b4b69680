/* SPDX-License-Identifier: MIT */
/*
 * The client's command language, shared by `connect -c`, `connect -b` and
 * the interactive prompt: one line is one command, split like a shell
 * splits words (quotes, backslashes), "#" starts a comment, and a leading
 * "-" lets a batch go on when that command fails (as in sftp batches).
 */
#ifndef WHARF_CLI_H
#define WHARF_CLI_H

#include <stdio.h>

#include "wharf/client.h"

#define CLI_ARGS_MAX 64
#define CLI_LINE_MAX 8192

struct cli {
	struct client *c; /* NULL while not connected */
	struct client_opts opts;
	struct client_target target; /* the last target, for reconnecting */
	int have_target;
	int interactive;
	int json; /* one JSON object per line */
	int quit; /* bye/exit/quit was given */
};

/*
 * Splits line into at most CLI_ARGS_MAX words in argv, which must have
 * CLI_ARGS_MAX + 1 slots (a NULL ends the list); the words point into
 * storage, which must hold strlen(line) + 1 bytes. Returns the count, or
 * WH_ERR_INVALID_ARG for an unterminated quote or too many words.
 */
int cli_split(const char *line, char *storage, char **argv) WH_MUST_CHECK;

/* Runs one line. Returns an exit status: EXIT_OK, EXIT_REMOTE (the
 * operation failed), EXIT_USAGE (bad command) or EXIT_CONNECT. */
int cli_run_line(struct cli *cli, const char *line);

/* Names of the commands, in table order, NULL-terminated (completion). */
const char *const *cli_command_names(void);
/* 1 if the command's arguments are remote paths (completion). */
int cli_command_is_remote_path(const char *name);

/* Colour allowed on f: a terminal, and NO_COLOR unset. */
int cli_color(FILE *f);

/* Writes s as a JSON string (quoted, escaped). */
void cli_json_str(FILE *f, const char *s);

/* 1 if s holds glob characters. */
int cli_has_glob(const char *s);
/*
 * Expands a pattern in the last component of arg by listing its folder on
 * the server: never by a shell. *out gets n new paths (cli_free_list).
 * WH_ERR_NOT_FOUND with "no match" when nothing matches.
 */
int cli_remote_glob(
    struct cli *cli, const char *arg, char ***out, int *n) WH_MUST_CHECK;
void cli_free_list(char **v, int n);

/* Connects cli to target (closing any current connection), after the
 * client configuration (client_config.h) has had its say. */
int cli_open(struct cli *cli, const struct client_target *target);
/* Changes the remote folder, as the cd command does. */
int cli_cd(struct cli *cli, const char *path);

/* The interactive shell on a terminal (libedit). Returns an exit status. */
int shell_run(struct cli *cli);

/* `wharf ping`, and the measurement behind the shell's ping. */
int ping_main(int argc, char **argv);
int ping_run(struct cli *cli, int count, const char *csv_path);

/* `wharf connect` and `wharf keygen`. */
int connect_main(int argc, char **argv);
int keygen_main(int argc, char **argv);
int keyscan_main(int argc, char **argv);
/* `wharf sync`, and the shell's sync command. */
int sync_main(int argc, char **argv);
int cli_sync(struct cli *cli, int argc, char **argv);

/* One-shot `wharf get` and `wharf put`. */
int get_main(int argc, char **argv);
int put_main(int argc, char **argv);

#endif
