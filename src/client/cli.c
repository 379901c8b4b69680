/* SPDX-License-Identifier: MIT */
/*
 * Client commands. Each remote command turns its arguments into one
 * request and prints the answer; failures print
 * "wharf: CMD ARG: reason" on stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wharf/cli.h"
#include "wharf/log.h"
#include "wharf/msg.h"
#include "wharf/transfer.h"

struct cli_cmd {
	const char *name;
	const char *args;
	const char *help;
	int remote; /* needs a connection */
	int (*fn)(struct cli *cli, int argc, char **argv);
};

int
cli_split(const char *line, char *storage, char **argv)
{
	const char *p = line;
	char *o = storage, quote;
	int argc = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0' || *p == '#')
			break;
		if (argc == CLI_ARGS_MAX)
			return WH_ERR_INVALID_ARG;
		argv[argc++] = o;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' &&
		    *p != '\n') {
			if (*p == '\'' || *p == '"') {
				quote = *p++;
				while (*p != '\0' && *p != quote) {
					if (quote == '"' && *p == '\\' &&
					    p[1] != '\0')
						p++;
					*o++ = *p++;
				}
				if (*p != quote)
					return WH_ERR_INVALID_ARG;
				p++;
			} else if (*p == '\\' && p[1] != '\0') {
				p++;
				*o++ = *p++;
			} else
				*o++ = *p++;
		}
		*o++ = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

static int
remote_fail(struct cli *cli, const char *cmd, const char *arg, int r)
{
	char clean[LOG_PEER_STR_MAX + 1];

	fprintf(stderr, "wharf: %s%s%s: %s\n", cmd, arg ? " " : "",
	    arg ? log_clean(clean, sizeof(clean), arg) : "",
	    cli->c->errmsg[0] ? cli->c->errmsg : wh_strerror(r));
	return cli->c->lost ? EXIT_CONNECT : EXIT_REMOTE;
}

static int
usage_fail(const char *cmd, const char *args)
{
	fprintf(stderr, "wharf: usage: %s %s\n", cmd, args);
	return EXIT_USAGE;
}

/* Parses leading single-letter flags from allowed; returns the index of
 * the first operand, or -1 for an unknown flag. */
static int
parse_flags(int argc, char **argv, const char *allowed, int *flags)
{
	int i;
	const char *f;

	*flags = 0;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--") == 0)
			return i + 1;
		for (f = argv[i] + 1; *f != '\0'; f++) {
			const char *pos = strchr(allowed, *f);

			if (pos == NULL)
				return -1;
			*flags |= 1 << (pos - allowed);
		}
	}
	return i;
}

static void
mode_string(Wharf__FileType type, uint32_t mode, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";
	int i;

	out[0] = type == WHARF__FILE_TYPE__TYPE_DIR ? 'd' :
	    type == WHARF__FILE_TYPE__TYPE_SYMLINK  ? 'l' :
	    type == WHARF__FILE_TYPE__TYPE_FILE     ? '-' :
	                                              '?';
	for (i = 0; i < 9; i++)
		out[i + 1] = (mode & (1u << (8 - i))) ? rwx[i] : '-';
	out[10] = '\0';
}

static const char *
type_name(Wharf__FileType t)
{
	switch (t) {
	case WHARF__FILE_TYPE__TYPE_FILE:
		return "file";
	case WHARF__FILE_TYPE__TYPE_DIR:
		return "directory";
	case WHARF__FILE_TYPE__TYPE_SYMLINK:
		return "symlink";
	default:
		return "other";
	}
}

static void
print_entry(const Wharf__FileInfo *fi, int lng)
{
	char name[WIRE_NAME_MAX + 1], clean[WIRE_NAME_MAX + 1], mode[11];
	char when[32];
	struct tm tm;
	time_t t = (time_t)fi->mtime_sec;

	if (msg_text(&fi->name, name, sizeof(name)) != 0)
		return;
	/* Names come from the server: never let them drive the terminal. */
	log_clean(clean, sizeof(clean), name);
	if (!lng) {
		printf("%s\n", clean);
		return;
	}
	mode_string(fi->type, fi->mode, mode);
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	printf("%s %12llu %s %s%s\n", mode, (unsigned long long)fi->size, when,
	    clean, fi->type == WHARF__FILE_TYPE__TYPE_DIR ? "/" : "");
}

static int
print_part(void *arg, const Wharf__Envelope *part)
{
	int lng = *(int *)arg;
	size_t i;

	for (i = 0; i < part->list_part->n_entries; i++)
		print_entry(part->list_part->entries[i], lng);
	return 0;
}

static int
cmd_ls(struct cli *cli, int argc, char **argv)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__ListReq lr = WHARF__LIST_REQ__INIT;
	int flags, first, i, r, lng, status = EXIT_OK;
	const char *path;

	if ((first = parse_flags(argc, argv, "la", &flags)) < 0)
		return usage_fail("ls", "[-l] [-a] [PATH...]");
	lng = flags & 1;
	for (i = first; i == first || i < argc; i++) {
		path = i < argc ? argv[i] : ".";
		if (argc - first > 1)
			printf("%s%s:\n", i > first ? "\n" : "", path);
		lr.path = msg_bytes(path);
		lr.all = (flags & 2) != 0;
		req.body_case = WHARF__ENVELOPE__BODY_LIST;
		req.list = &lr;
		r = client_call(cli->c, &req, &resp, print_part, &lng);
		if (r != 0) {
			status = remote_fail(cli, "ls", path, r);
			if (status == EXIT_CONNECT)
				return status;
			continue;
		}
		if (resp->body_case == WHARF__ENVELOPE__BODY_LIST_PART)
			print_part(&lng, resp);
		msg_free(resp);
	}
	return status;
}

/* Sends a request whose success answer carries nothing to print. */
static int
simple_call(
    struct cli *cli, Wharf__Envelope *req, const char *cmd, const char *arg)
{
	Wharf__Envelope *resp = NULL;
	int r;

	if ((r = client_call(cli->c, req, &resp, NULL, NULL)) != 0)
		return remote_fail(cli, cmd, arg, r);
	msg_free(resp);
	return EXIT_OK;
}

static int
cmd_cd(struct cli *cli, int argc, char **argv)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__CdReq cd = WHARF__CD_REQ__INIT;
	const char *path = argc > 1 ? argv[1] : "/";
	int r;

	if (argc > 2)
		return usage_fail("cd", "[PATH]");
	cd.path = msg_bytes(path);
	req.body_case = WHARF__ENVELOPE__BODY_CD;
	req.cd = &cd;
	if ((r = client_call(cli->c, &req, &resp, NULL, NULL)) != 0)
		return remote_fail(cli, "cd", path, r);
	if (resp->body_case == WHARF__ENVELOPE__BODY_CWD &&
	    msg_text(&resp->cwd->cwd, cli->c->cwd, sizeof(cli->c->cwd)) != 0)
		snprintf(cli->c->cwd, sizeof(cli->c->cwd), "/");
	msg_free(resp);
	return EXIT_OK;
}

static int
cmd_pwd(struct cli *cli, int argc, char **argv)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__PwdReq pwd = WHARF__PWD_REQ__INIT;
	char clean[SANDBOX_VPATH_MAX];
	int r;

	(void)argv;
	if (argc > 1)
		return usage_fail("pwd", "");
	req.body_case = WHARF__ENVELOPE__BODY_PWD;
	req.pwd = &pwd;
	if ((r = client_call(cli->c, &req, &resp, NULL, NULL)) != 0)
		return remote_fail(cli, "pwd", NULL, r);
	if (resp->body_case == WHARF__ENVELOPE__BODY_CWD &&
	    msg_text(&resp->cwd->cwd, cli->c->cwd, sizeof(cli->c->cwd)) == 0)
		printf("%s\n", log_clean(clean, sizeof(clean), cli->c->cwd));
	msg_free(resp);
	return EXIT_OK;
}

static int
cmd_mkdir(struct cli *cli, int argc, char **argv)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT;
	Wharf__MkdirReq mk = WHARF__MKDIR_REQ__INIT;
	int flags, first, i, status = EXIT_OK, r;

	if ((first = parse_flags(argc, argv, "p", &flags)) < 0 || first >= argc)
		return usage_fail("mkdir", "[-p] PATH...");
	for (i = first; i < argc; i++) {
		mk.path = msg_bytes(argv[i]);
		mk.parents = flags & 1;
		req.body_case = WHARF__ENVELOPE__BODY_MKDIR;
		req.mkdir = &mk;
		if ((r = simple_call(cli, &req, "mkdir", argv[i])) != 0)
			return r;
	}
	return status;
}

static int
cmd_rmdir(struct cli *cli, int argc, char **argv)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT;
	Wharf__RmdirReq rd = WHARF__RMDIR_REQ__INIT;
	int i, r;

	if (argc < 2)
		return usage_fail("rmdir", "PATH...");
	for (i = 1; i < argc; i++) {
		rd.path = msg_bytes(argv[i]);
		req.body_case = WHARF__ENVELOPE__BODY_RMDIR;
		req.rmdir = &rd;
		if ((r = simple_call(cli, &req, "rmdir", argv[i])) != 0)
			return r;
	}
	return EXIT_OK;
}

static int
cmd_rm(struct cli *cli, int argc, char **argv)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT;
	Wharf__RemoveReq rm = WHARF__REMOVE_REQ__INIT;
	int i, r;

	if (argc < 2)
		return usage_fail("rm", "PATH...");
	for (i = 1; i < argc; i++) {
		rm.path = msg_bytes(argv[i]);
		req.body_case = WHARF__ENVELOPE__BODY_REMOVE;
		req.remove = &rm;
		if ((r = simple_call(cli, &req, "rm", argv[i])) != 0)
			return r;
	}
	return EXIT_OK;
}

static int
cmd_mv(struct cli *cli, int argc, char **argv)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT;
	Wharf__RenameReq mv = WHARF__RENAME_REQ__INIT;

	if (argc != 3)
		return usage_fail("mv", "SRC DST");
	mv.from = msg_bytes(argv[1]);
	mv.to = msg_bytes(argv[2]);
	req.body_case = WHARF__ENVELOPE__BODY_RENAME;
	req.rename = &mv;
	return simple_call(cli, &req, "mv", argv[1]);
}

static int
cmd_stat(struct cli *cli, int argc, char **argv)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__StatReq st = WHARF__STAT_REQ__INIT;
	char path[SANDBOX_VPATH_MAX], clean[SANDBOX_VPATH_MAX], mode[11];
	char when[64];
	const Wharf__FileInfo *fi;
	struct tm tm;
	time_t t;
	int r;

	if (argc != 2)
		return usage_fail("stat", "PATH");
	st.path = msg_bytes(argv[1]);
	req.body_case = WHARF__ENVELOPE__BODY_STAT;
	req.stat = &st;
	if ((r = client_call(cli->c, &req, &resp, NULL, NULL)) != 0)
		return remote_fail(cli, "stat", argv[1], r);
	if (resp->body_case != WHARF__ENVELOPE__BODY_STAT_REPLY ||
	    msg_text(&resp->stat_reply->path, path, sizeof(path)) != 0) {
		msg_free(resp);
		fprintf(stderr, "wharf: stat %s: unexpected answer\n", argv[1]);
		return EXIT_REMOTE;
	}
	fi = resp->stat_reply->info;
	mode_string(fi->type, fi->mode, mode);
	t = (time_t)fi->mtime_sec;
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
	printf("    Path: %s\n    Type: %s\n    Size: %llu\n"
	       "    Mode: %04o (%s)\nModified: %s\n",
	    log_clean(clean, sizeof(clean), path), type_name(fi->type),
	    (unsigned long long)fi->size, fi->mode & 07777, mode, when);
	msg_free(resp);
	return EXIT_OK;
}

static int
cmd_lpwd(struct cli *cli, int argc, char **argv)
{
	char cwd[PATH_MAX];

	(void)cli;
	(void)argv;
	if (argc > 1)
		return usage_fail("lpwd", "");
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		fprintf(stderr, "wharf: lpwd: %s\n", strerror(errno));
		return EXIT_REMOTE;
	}
	printf("%s\n", cwd);
	return EXIT_OK;
}

static int
cmd_lcd(struct cli *cli, int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("HOME");

	(void)cli;
	if (argc > 2 || dir == NULL)
		return usage_fail("lcd", "[DIR]");
	if (chdir(dir) != 0) {
		fprintf(stderr, "wharf: lcd %s: %s\n", dir, strerror(errno));
		return EXIT_REMOTE;
	}
	return EXIT_OK;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmd_lls(struct cli *cli, int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	struct dirent *de;
	char **names = NULL, **nn;
	size_t n = 0, cap = 0, i;
	DIR *d;

	(void)cli;
	if (argc > 2)
		return usage_fail("lls", "[DIR]");
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "wharf: lls %s: %s\n", dir, strerror(errno));
		return EXIT_REMOTE;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nn = realloc(names, cap * sizeof(*nn))) == NULL)
				break;
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) != NULL)
			n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		printf("%s\n", names[i]);
		free(names[i]);
	}
	free(names);
	return EXIT_OK;
}

/* get/put: options first or mixed in, then paths; the last of two or
 * more paths is the destination. */
static int
cmd_transfer(struct cli *cli, int argc, char **argv, int put)
{
	struct transfer_opts o;
	char *paths[CLI_ARGS_MAX];
	int i, n = 0, r;

	transfer_opts_init(&o);
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			if ((r = transfer_parse_opt(&o, argc, argv, &i)) < 0)
				return EXIT_USAGE;
			if (r == 0) {
				fprintf(stderr,
				    "wharf: %s: unknown option "
				    "%s\n",
				    argv[0], argv[i]);
				return EXIT_USAGE;
			}
			continue;
		}
		paths[n++] = argv[i];
	}
	if (n == 0)
		return usage_fail(argv[0],
		    put ? "[-r] [-z[LEVEL]] "
		          "[--hash ALG] LOCAL... [REMOTE]" :
		          "[-r] [-z[LEVEL]] "
		          "[--hash ALG] REMOTE... [LOCAL]");
	if (put)
		return transfer_put(cli->c, &o, paths, n > 1 ? n - 1 : 1,
		    n > 1 ? paths[n - 1] : NULL);
	return transfer_get(
	    cli->c, &o, paths, n > 1 ? n - 1 : 1, n > 1 ? paths[n - 1] : NULL);
}

static int
cmd_put(struct cli *cli, int argc, char **argv)
{
	return cmd_transfer(cli, argc, argv, 1);
}

static int
cmd_get(struct cli *cli, int argc, char **argv)
{
	return cmd_transfer(cli, argc, argv, 0);
}

static int
cmd_sum(struct cli *cli, int argc, char **argv)
{
	enum hash_alg alg = HASH_BLAKE2B;
	int i = 1;

	if (argc == 4 && strcmp(argv[1], "--hash") == 0) {
		if (hash_alg_parse(argv[2], &alg) != 0)
			return usage_fail(
			    "sum", "[--hash blake2b|sha256] PATH");
		i = 3;
	}
	if (argc != i + 1)
		return usage_fail("sum", "[--hash blake2b|sha256] PATH");
	return transfer_sum(cli->c, alg, argv[i]);
}

static int cmd_help(struct cli *cli, int argc, char **argv);

static int
cmd_bye(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli->quit = 1;
	return EXIT_OK;
}

static const struct cli_cmd commands[] = {
	{ "ls", "[-l] [-a] [PATH...]", "list a remote directory", 1, cmd_ls },
	{ "cd", "[PATH]", "change the remote directory", 1, cmd_cd },
	{ "pwd", "", "print the remote directory", 1, cmd_pwd },
	{ "mkdir", "[-p] PATH...", "make remote directories", 1, cmd_mkdir },
	{ "rmdir", "PATH...", "remove empty remote directories", 1, cmd_rmdir },
	{ "rm", "PATH...", "remove remote files", 1, cmd_rm },
	{ "mv", "SRC DST", "rename or move a remote file or directory", 1,
	    cmd_mv },
	{ "stat", "PATH", "show a remote file's details", 1, cmd_stat },
	{ "get", "[-r] REMOTE... [LOCAL]", "download files or trees", 1,
	    cmd_get },
	{ "put", "[-r] LOCAL... [REMOTE]", "upload files or trees", 1,
	    cmd_put },
	{ "sum", "[--hash ALG] PATH", "hash a remote file on the server", 1,
	    cmd_sum },
	{ "lls", "[DIR]", "list a local directory", 0, cmd_lls },
	{ "lcd", "[DIR]", "change the local directory", 0, cmd_lcd },
	{ "lpwd", "", "print the local directory", 0, cmd_lpwd },
	{ "help", "[CMD]", "show commands (also ?)", 0, cmd_help },
	{ "?", "[CMD]", NULL, 0, cmd_help },
	{ "bye", "", "leave (also exit, quit)", 0, cmd_bye },
	{ "exit", "", NULL, 0, cmd_bye },
	{ "quit", "", NULL, 0, cmd_bye },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static int
cmd_help(struct cli *cli, int argc, char **argv)
{
	size_t i;

	(void)cli;
	for (i = 0; i < NCOMMANDS; i++) {
		if (commands[i].help == NULL ||
		    (argc > 1 && strcmp(argv[1], commands[i].name) != 0))
			continue;
		printf("  %-6s %-22s %s\n", commands[i].name, commands[i].args,
		    commands[i].help);
		if (argc > 1)
			return EXIT_OK;
	}
	if (argc > 1) {
		fprintf(stderr, "wharf: help: no command '%s'\n", argv[1]);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int
cli_run_line(struct cli *cli, const char *line)
{
	char *storage, *argv[CLI_ARGS_MAX + 1];
	int argc, status, ignore = 0;
	size_t i;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '-') {
		ignore = 1;
		line++;
	}
	if ((storage = malloc(strlen(line) + 1)) == NULL)
		return EXIT_REMOTE;
	if ((argc = cli_split(line, storage, argv)) < 0) {
		fprintf(stderr,
		    "wharf: cannot parse: unbalanced quotes or "
		    "more than %d words\n",
		    CLI_ARGS_MAX);
		free(storage);
		return ignore ? EXIT_OK : EXIT_USAGE;
	}
	if (argc == 0) {
		free(storage);
		return EXIT_OK;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			break;
	if (i == NCOMMANDS) {
		fprintf(stderr, "wharf: unknown command '%s' (try help)\n",
		    argv[0]);
		status = EXIT_USAGE;
	} else if (commands[i].remote && (cli->c == NULL || cli->c->lost)) {
		fprintf(stderr, "wharf: %s: not connected\n", argv[0]);
		status = EXIT_CONNECT;
	} else
		status = commands[i].fn(cli, argc, argv);
	free(storage);
	return ignore && status != EXIT_CONNECT ? EXIT_OK : status;
}
