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
#include "wharf/cmdline.h"

#define CLI_ARGS_MAX CMDLINE_ARGS_MAX
#define CLI_LINE_MAX 8192

struct cli {
	struct client *c; /* NULL while not connected */
	struct client_opts opts;
	struct client_target target; /* the last target, for reconnecting */
	int have_target;
	int interactive;
	int json; /* one JSON object per line */
	int quit; /* bye/exit/quit was given */
	int batch; /* -b: echo each command unless it starts with '@' */
	int no_progress; /* the shell's `progress` turned the bar off */
	char resume_cwd[CLIENT_PATH_MAX]; /* where `close` left */
	/* Called with 1 before and 0 after a wait that does not use the
	 * connection (a local command run by "!"), so that the shell can
	 * keep the session alive meanwhile; NULL outside the shell. */
	void (*idle_hook)(int begin);
	/* The running command's patterns, aligned with its argv (cmdline.h):
	 * NULL for a literal word, or for no patterns at all. */
	char **pat;
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

/*
 * Expands a remote pattern (as cmdline_split makes them; a glob may be in
 * any component) by listing folders on the server: never by a shell.
 * *out gets n new paths (cli_free_list), in listing order.
 * WH_ERR_NOT_FOUND with "no match" in c->errmsg when nothing matches.
 */
int cli_remote_glob(
    struct cli *cli, const char *pattern, char ***out, int *n) WH_MUST_CHECK;
/*
 * words[i] as is where pats is NULL or pats[i] is NULL, else its matches:
 * the paths a command operates on. On failure *failed is the index of the
 * word that matched nothing (or could not be listed).
 */
int cli_expand_args(struct cli *cli, char *const *words, char *const *pats,
    int nwords, char ***out, int *n, int *failed) WH_MUST_CHECK;
void cli_free_list(char **v, int n);

/* Runs one command already split into words; pat as in struct cli. */
int cli_run_argv(struct cli *cli, int argc, char **argv, char **pat);

/* "drwxr-xr-x" for a listing entry, and "file", "directory"... */
void cli_mode_string(Wharf__FileType type, uint32_t mode, char out[11]);
const char *cli_type_name(Wharf__FileType t);
/* Prints a failed remote command as "wharf: CMD ARG: reason"; returns
 * EXIT_CONNECT if the connection went, else EXIT_REMOTE. */
int cli_remote_fail(struct cli *cli, const char *cmd, const char *arg, int r);
int cli_usage_fail(const char *cmd, const char *args);
/* Leading single-letter flags from allowed into *flags (bit i for
 * allowed[i]); the index of the first operand, or -1 for another flag. */
int cli_parse_flags(int argc, char **argv, const char *allowed, int *flags);
/* Sizes for people: 1023, 1.0K, 12M (as ls -h and df -h print them). */
void cli_human_size(uint64_t n, char *out, size_t outlen);

/* The shell commands living in their own modules. */
int cli_ls(struct cli *cli, int argc, char **argv);
int cli_df(struct cli *cli, int argc, char **argv);
int cli_quota(struct cli *cli, int argc, char **argv);
int cli_chmod(struct cli *cli, int argc, char **argv);
/* `wharf ls|rm|stat|sum|df|quota|chmod|mkdir|rmdir|mv ...`: one remote
 * command, then exit. */
int remote_cmd_main(int argc, char **argv);
/* `wharf complete-remote [USER@]HOST:PATH` (hidden): the names for shell
 * completion, one a line, within a short timeout. */
int complete_remote_main(int argc, char **argv);

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
