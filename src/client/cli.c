/* SPDX-License-Identifier: MIT */
/*
 * Client commands. Each remote command turns its arguments into one
 * request and prints the answer; failures print
 * "wharf: CMD ARG: reason" on stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wharf/cli.h"
#include "wharf/client_config.h"
#include "wharf/file.h"
#include "wharf/log.h"
#include "wharf/msg.h"
#include "wharf/strnum.h"
#include "wharf/transfer.h"
#include "wharf/tty.h"
#include "wharf/text.h"

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
	    arg ? text_clean(clean, sizeof(clean), arg) : "",
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

/* Colour only on a terminal, and never when NO_COLOR is set. */
int
cli_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(fileno(f)) && (nc == NULL || nc[0] == '\0');
}

void
cli_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void
print_entry_json(const Wharf__FileInfo *fi, const char *name)
{
	printf("{\"name\":");
	cli_json_str(stdout, name);
	printf(",\"type\":\"%s\",\"size\":%llu,\"mtime\":%lld,"
	       "\"mtime_nsec\":%u,\"mode\":\"%04o\",\"protected\":%s}\n",
	    type_name(fi->type), (unsigned long long)fi->size,
	    (long long)fi->mtime_sec, fi->mtime_nsec, fi->mode & 07777,
	    fi->protected_ ? "true" : "false");
}

struct ls_ctx {
	int lng;
	int json;
	int color;
	const char *pattern; /* glob on names, or NULL */
	int matched;
};

static void
print_entry(struct ls_ctx *l, const Wharf__FileInfo *fi)
{
	char name[WIRE_NAME_MAX + 1], clean[WIRE_NAME_MAX + 1], mode[11];
	char when[32];
	struct tm tm;
	time_t t = (time_t)fi->mtime_sec;
	int dir = fi->type == WHARF__FILE_TYPE__TYPE_DIR;
	const char *on = "", *off = "";

	if (msg_text(&fi->name, name, sizeof(name)) != 0)
		return;
	if (l->pattern != NULL && fnmatch(l->pattern, name, FNM_PERIOD) != 0)
		return;
	l->matched++;
	/* Names come from the server: never let them drive the terminal. */
	text_clean(clean, sizeof(clean), name);
	if (l->json) {
		print_entry_json(fi, name);
		return;
	}
	if (l->color && dir) {
		on = "\033[1;34m";
		off = "\033[0m";
	}
	if (!l->lng) {
		printf("%s%s%s\n", on, clean, off);
		return;
	}
	mode_string(fi->type, fi->mode, mode);
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	printf("%s %12llu %s %s%s%s%s%s\n", mode, (unsigned long long)fi->size,
	    when, on, clean, off, dir ? "/" : "",
	    fi->protected_ ? "  [protected]" : "");
}

static int
print_part(void *arg, const Wharf__Envelope *part)
{
	struct ls_ctx *l = arg;
	size_t i;

	for (i = 0; i < part->list_part->n_entries; i++)
		print_entry(l, part->list_part->entries[i]);
	return 0;
}

int
cli_has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Splits "dir/pat" into a listable dir and the pattern (last part). */
static void
split_glob(const char *arg, char *dir, size_t dirlen, const char **pat)
{
	const char *slash = strrchr(arg, '/');

	if (slash == NULL) {
		snprintf(dir, dirlen, ".");
		*pat = arg;
	} else {
		snprintf(dir, dirlen, "%.*s",
		    (int)(slash == arg ? 1 : slash - arg), arg);
		*pat = slash + 1;
	}
}

struct glob_ctx {
	const char *pattern;
	const char *dir;
	char **v;
	int n;
	int cap;
	int err;
};

static int
glob_collect(void *arg, const Wharf__Envelope *part)
{
	struct glob_ctx *g = arg;
	char name[WIRE_NAME_MAX + 1], **nv;
	size_t i, len;

	for (i = 0; i < part->list_part->n_entries; i++) {
		if (msg_text(&part->list_part->entries[i]->name, name,
		        sizeof(name)) != 0 ||
		    fnmatch(g->pattern, name, FNM_PERIOD) != 0)
			continue;
		if (g->n == g->cap) {
			g->cap = g->cap ? g->cap * 2 : 16;
			if ((nv = realloc(
			         g->v, (size_t)g->cap * sizeof(*nv))) == NULL)
				return WH_ERR_NOMEM;
			g->v = nv;
		}
		len = strlen(g->dir) + strlen(name) + 2;
		if ((g->v[g->n] = malloc(len)) == NULL)
			return WH_ERR_NOMEM;
		if (strcmp(g->dir, ".") == 0)
			snprintf(g->v[g->n], len, "%s", name);
		else
			snprintf(g->v[g->n], len, "%s%s%s", g->dir,
			    strcmp(g->dir, "/") == 0 ? "" : "/", name);
		g->n++;
	}
	return 0;
}

void
cli_free_list(char **v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
cli_remote_glob(struct cli *cli, const char *arg, char ***out, int *n)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__ListReq lr = WHARF__LIST_REQ__INIT;
	struct glob_ctx g;
	char dir[CLIENT_PATH_MAX];
	int r;

	memset(&g, 0, sizeof(g));
	*out = NULL;
	*n = 0;
	split_glob(arg, dir, sizeof(dir), &g.pattern);
	g.dir = dir;
	/* Expanded here, by listing: a pattern never reaches a shell. */
	lr.path = msg_bytes(dir);
	lr.all = 1;
	req.body_case = WHARF__ENVELOPE__BODY_LIST;
	req.list = &lr;
	r = client_call(cli->c, &req, &resp, glob_collect, &g);
	if (r == 0 && resp->body_case == WHARF__ENVELOPE__BODY_LIST_PART)
		r = glob_collect(&g, resp);
	msg_free(resp);
	if (r != 0) {
		cli_free_list(g.v, g.n);
		return r;
	}
	if (g.n == 0) {
		free(g.v);
		snprintf(cli->c->errmsg, sizeof(cli->c->errmsg), "no match");
		return WH_ERR_NOT_FOUND;
	}
	*out = g.v;
	*n = g.n;
	return 0;
}

static int
ls_one(struct cli *cli, struct ls_ctx *l, const char *path, int all)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__ListReq lr = WHARF__LIST_REQ__INIT;
	char dir[CLIENT_PATH_MAX];
	int r;

	l->pattern = NULL;
	l->matched = 0;
	if (cli_has_glob(path)) {
		split_glob(path, dir, sizeof(dir), &l->pattern);
		path = dir;
	}
	lr.path = msg_bytes(path);
	lr.all = all || l->pattern != NULL;
	req.body_case = WHARF__ENVELOPE__BODY_LIST;
	req.list = &lr;
	if ((r = client_call(cli->c, &req, &resp, print_part, l)) != 0)
		return r;
	if (resp->body_case == WHARF__ENVELOPE__BODY_LIST_PART)
		print_part(l, resp);
	msg_free(resp);
	if (l->pattern != NULL && l->matched == 0) {
		snprintf(cli->c->errmsg, sizeof(cli->c->errmsg), "no match");
		return WH_ERR_NOT_FOUND;
	}
	return 0;
}

static int
cmd_ls(struct cli *cli, int argc, char **argv)
{
	struct ls_ctx l;
	int flags, first, i, r, status = EXIT_OK;
	const char *path;

	if ((first = parse_flags(argc, argv, "la", &flags)) < 0)
		return usage_fail("ls", "[-l] [-a] [PATH...]");
	memset(&l, 0, sizeof(l));
	l.lng = flags & 1;
	l.json = cli->json;
	l.color = !cli->json && cli_color(stdout);
	for (i = first; i == first || i < argc; i++) {
		path = i < argc ? argv[i] : ".";
		if (argc - first > 1 && !cli->json)
			printf("%s%s:\n", i > first ? "\n" : "", path);
		if ((r = ls_one(cli, &l, path, (flags & 2) != 0)) != 0) {
			status = remote_fail(cli, "ls", path, r);
			if (status == EXIT_CONNECT)
				return status;
		}
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

int
cli_cd(struct cli *cli, const char *path)
{
	char *argv[3] = { (char *)(uintptr_t) "cd", (char *)(uintptr_t)path,
		NULL };

	return cmd_cd(cli, 2, argv);
}

static int
cmd_pwd(struct cli *cli, int argc, char **argv)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__PwdReq pwd = WHARF__PWD_REQ__INIT;
	char clean[CLIENT_PATH_MAX];
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
		printf("%s\n", text_clean(clean, sizeof(clean), cli->c->cwd));
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
rm_one(struct cli *cli, const char *path)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT;
	Wharf__RemoveReq rm = WHARF__REMOVE_REQ__INIT;

	rm.path = msg_bytes(path);
	rm.passcode = client_passcode(cli->c);
	req.body_case = WHARF__ENVELOPE__BODY_REMOVE;
	req.remove = &rm;
	return simple_call(cli, &req, "rm", path);
}

static int
cmd_rm(struct cli *cli, int argc, char **argv)
{
	char **v;
	int i, k, n, r;

	if (argc < 2)
		return usage_fail("rm", "PATH...");
	for (i = 1; i < argc; i++) {
		if (!cli_has_glob(argv[i])) {
			if ((r = rm_one(cli, argv[i])) != 0)
				return r;
			continue;
		}
		if ((r = cli_remote_glob(cli, argv[i], &v, &n)) != 0)
			return remote_fail(cli, "rm", argv[i], r);
		for (k = 0, r = 0; k < n && r == 0; k++)
			r = rm_one(cli, v[k]);
		cli_free_list(v, n);
		if (r != 0)
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
	mv.passcode = client_passcode(cli->c);
	req.body_case = WHARF__ENVELOPE__BODY_RENAME;
	req.rename = &mv;
	return simple_call(cli, &req, "mv", argv[1]);
}

static int
cmd_stat(struct cli *cli, int argc, char **argv)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__StatReq st = WHARF__STAT_REQ__INIT;
	char path[CLIENT_PATH_MAX], clean[CLIENT_PATH_MAX], mode[11];
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
	if (cli->json) {
		printf("{\"path\":");
		cli_json_str(stdout, path);
		printf(",\"type\":\"%s\",\"size\":%llu,\"mtime\":%lld,"
		       "\"mtime_nsec\":%u,\"mode\":\"%04o\"}\n",
		    type_name(fi->type), (unsigned long long)fi->size,
		    (long long)fi->mtime_sec, fi->mtime_nsec, fi->mode & 07777);
		msg_free(resp);
		return EXIT_OK;
	}
	mode_string(fi->type, fi->mode, mode);
	t = (time_t)fi->mtime_sec;
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
	printf("    Path: %s\n    Type: %s\n    Size: %llu\n"
	       "    Mode: %04o (%s)\nModified: %s\n",
	    text_clean(clean, sizeof(clean), path), type_name(fi->type),
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

/* lls runs the local ls(1), as sftp does: every ls option works. */
static int
cmd_lls(struct cli *cli, int argc, char **argv)
{
	char *args[CLI_ARGS_MAX + 2];
	pid_t pid;
	int i, st;

	(void)cli;
	args[0] = (char *)(uintptr_t) "ls";
	for (i = 1; i < argc && i <= CLI_ARGS_MAX; i++)
		args[i] = argv[i];
	args[i] = NULL;
	fflush(stdout);
	if ((pid = fork()) < 0) {
		fprintf(stderr, "wharf: lls: %s\n", strerror(errno));
		return EXIT_REMOTE;
	}
	if (pid == 0) {
		execvp("ls", args);
		fprintf(
		    stderr, "wharf: lls: cannot run ls: %s\n", strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? EXIT_OK : EXIT_REMOTE;
}

/* get/put: options first or mixed in, then paths; the last of two or
 * more paths is the destination. Remote patterns in get are expanded by
 * listing on the server. */
static int
cmd_transfer(struct cli *cli, int argc, char **argv, int put)
{
	struct transfer_opts o;
	char *paths[CLI_ARGS_MAX], **all = NULL, **v, **nall;
	int i, n = 0, nsrc, nall_n = 0, k, cnt, r, status;
	const char *dest;

	transfer_opts_init(&o);
	o.json = cli->json;
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
	nsrc = n > 1 ? n - 1 : 1;
	dest = n > 1 ? paths[n - 1] : NULL;
	if (put)
		return transfer_put(cli->c, &o, paths, nsrc, dest);
	for (i = 0; i < nsrc; i++) {
		if (cli_has_glob(paths[i])) {
			if ((r = cli_remote_glob(cli, paths[i], &v, &cnt)) !=
			    0) {
				cli_free_list(all, nall_n);
				return remote_fail(cli, "get", paths[i], r);
			}
		} else {
			cnt = 1;
			if ((v = malloc(sizeof(*v))) == NULL ||
			    (v[0] = strdup(paths[i])) == NULL) {
				free(v);
				cli_free_list(all, nall_n);
				return EXIT_REMOTE;
			}
		}
		nall = realloc(all, (size_t)(nall_n + cnt) * sizeof(*all));
		if (nall == NULL) {
			cli_free_list(v, cnt);
			cli_free_list(all, nall_n);
			return EXIT_REMOTE;
		}
		all = nall;
		for (k = 0; k < cnt; k++)
			all[nall_n++] = v[k];
		free(v);
	}
	/* Several matches need a folder to land in. */
	if (nall_n > 1 && dest == NULL)
		dest = ".";
	status = transfer_get(cli->c, &o, all, nall_n, dest);
	cli_free_list(all, nall_n);
	return status;
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

static int
cmd_lmkdir(struct cli *cli, int argc, char **argv)
{
	int flags, first, i;

	(void)cli;
	if ((first = parse_flags(argc, argv, "p", &flags)) < 0 || first >= argc)
		return usage_fail("lmkdir", "[-p] DIR...");
	for (i = first; i < argc; i++) {
		int r = (flags & 1) ?
		    file_mkdirs(argv[i], 0777) :
		    (mkdir(argv[i], 0777) == 0 ? 0 : WH_ERR_SYSTEM);

		if (r != 0) {
			fprintf(stderr, "wharf: lmkdir %s: %s\n", argv[i],
			    wh_strerror(r));
			return EXIT_REMOTE;
		}
	}
	return EXIT_OK;
}

int
cli_open(struct cli *cli, const struct client_target *target)
{
	struct client_target resolved;
	struct client_opts opts;
	struct client *c;

	if (cli->c != NULL) {
		client_close(cli->c);
		cli->c = NULL;
	}
	cli->target = *target;
	cli->have_target = 1;
	/* The configuration is applied to copies: cli keeps what the
	 * command line said, for the next "open" to another host. */
	resolved = *target;
	opts = cli->opts;
	if (client_config_resolve(&resolved, &opts, NULL) != 0)
		return EXIT_USAGE;
	if (client_open(&resolved, &opts, &c) != 0)
		return EXIT_CONNECT;
	cli->c = c;
	return EXIT_OK;
}

static int
cmd_open(struct cli *cli, int argc, char **argv)
{
	struct client_target target;

	if (argc > 2 || (argc == 1 && !cli->have_target))
		return usage_fail("open", "[USER@]HOST[:PORT]");
	if (argc == 1)
		target = cli->target;
	else if (client_target_parse(argv[1], &target) != 0)
		return EXIT_USAGE;
	return cli_open(cli, &target);
}

static int
cmd_close(struct cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return usage_fail("close", "");
	if (cli->c == NULL) {
		fprintf(stderr, "wharf: close: not connected\n");
		return EXIT_REMOTE;
	}
	client_close(cli->c);
	cli->c = NULL;
	return EXIT_OK;
}

static int
cmd_ping(struct cli *cli, int argc, char **argv)
{
	long count = 10;

	if (argc == 3 && strcmp(argv[1], "-n") == 0) {
		if (strnum_long(argv[2], 1, 100000, &count) != 0)
			return usage_fail("ping", "[-n COUNT]");
	} else if (argc != 1)
		return usage_fail("ping", "[-n COUNT]");
	return ping_run(cli, (int)count, NULL);
}

/* A passcode: WHARF_PASSCODE in scripts, else asked for (twice when it
 * is a new one). */
static int
read_passcode(const char *env, int twice, char *out, size_t outlen)
{
	const char *v = getenv(env);
	int r;

	if (v != NULL) {
		if (strlen(v) >= outlen)
			return WH_ERR_TOO_LARGE;
		snprintf(out, outlen, "%s", v);
		return 0;
	}
	r = twice ? tty_read_new_secret("passcode", out, outlen) :
	            tty_read_secret("Passcode: ", out, outlen);
	if (r == WH_ERR_UNSUPPORTED)
		fprintf(stderr,
		    "wharf: no passcode: set %s or run on a terminal\n", env);
	return r;
}

static int
cmd_protect(struct cli *cli, int argc, char **argv)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT;
	Wharf__ProtectReq pr = WHARF__PROTECT_REQ__INIT;
	char pc[CLIENT_PASSCODE_MAX + 1];
	int r;

	if (argc != 2)
		return usage_fail("protect", "PATH");
	if (read_passcode("WHARF_PASSCODE", 1, pc, sizeof(pc)) != 0)
		return EXIT_USAGE;
	if (pc[0] == '\0') {
		fprintf(stderr, "wharf: protect: empty passcode refused\n");
		return EXIT_USAGE;
	}
	pr.path = msg_bytes(argv[1]);
	pr.passcode = msg_bytes(pc);
	/* Changing an existing passcode: the current one, if known. */
	pr.current = msg_bytes(getenv("WHARF_PASSCODE_CURRENT") != NULL ?
	        getenv("WHARF_PASSCODE_CURRENT") :
	        cli->c->passcode);
	req.body_case = WHARF__ENVELOPE__BODY_PROTECT;
	req.protect = &pr;
	r = simple_call(cli, &req, "protect", argv[1]);
	sodium_memzero(pc, sizeof(pc));
	return r;
}

static int
cmd_unprotect(struct cli *cli, int argc, char **argv)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT;
	Wharf__UnprotectReq ur = WHARF__UNPROTECT_REQ__INIT;
	char pc[CLIENT_PASSCODE_MAX + 1];
	int r;

	if (argc != 2)
		return usage_fail("unprotect", "PATH");
	if (cli->c->passcode[0] != '\0')
		snprintf(pc, sizeof(pc), "%s", cli->c->passcode);
	else if (read_passcode("WHARF_PASSCODE", 0, pc, sizeof(pc)) != 0)
		return EXIT_USAGE;
	ur.path = msg_bytes(argv[1]);
	ur.passcode = msg_bytes(pc);
	req.body_case = WHARF__ENVELOPE__BODY_UNPROTECT;
	req.unprotect = &ur;
	r = simple_call(cli, &req, "unprotect", argv[1]);
	sodium_memzero(pc, sizeof(pc));
	return r;
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
	{ "sync", "[--download] [--delete] [--dry-run] LOCAL REMOTE",
	    "make a tree equal to another", 1, cli_sync },
	{ "protect", "PATH", "require a passcode to read or change a file", 1,
	    cmd_protect },
	{ "unprotect", "PATH", "remove a file's passcode", 1, cmd_unprotect },
	{ "sum", "[--hash ALG] PATH", "hash a remote file on the server", 1,
	    cmd_sum },
	{ "lls", "[LS-OPTIONS] [PATH...]", "list local files (runs ls)", 0,
	    cmd_lls },
	{ "lcd", "[DIR]", "change the local directory", 0, cmd_lcd },
	{ "lpwd", "", "print the local directory", 0, cmd_lpwd },
	{ "lmkdir", "[-p] DIR...", "make local directories", 0, cmd_lmkdir },
	{ "open", "[USER@]HOST[:PORT]", "connect (again, or elsewhere)", 0,
	    cmd_open },
	{ "close", "", "disconnect, stay in the shell", 0, cmd_close },
	{ "ping", "[-n COUNT]", "latency and throughput to the server", 1,
	    cmd_ping },
	{ "help", "[CMD]", "show commands (also h and ?)", 0, cmd_help },
	{ "h", "[CMD]", NULL, 0, cmd_help },
	{ "?", "[CMD]", NULL, 0, cmd_help },
	{ "bye", "", "leave (also exit, quit)", 0, cmd_bye },
	{ "exit", "", NULL, 0, cmd_bye },
	{ "quit", "", NULL, 0, cmd_bye },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const char *const *
cli_command_names(void)
{
	static const char *names[NCOMMANDS + 1];
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		names[i] = commands[i].name;
	names[NCOMMANDS] = NULL;
	return names;
}

int
cli_command_is_remote_path(const char *name)
{
	static const char *const remote[] = { "ls", "cd", "mkdir", "rmdir",
		"rm", "mv", "stat", "get", "sum", NULL };
	size_t i;

	for (i = 0; remote[i] != NULL; i++)
		if (strcmp(name, remote[i]) == 0)
			return 1;
	return 0;
}

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
	} else {
		if (cli->c != NULL)
			cli->c->need_passcode = 0;
		status = commands[i].fn(cli, argc, argv);
		/* In the shell, a file that turned out to be protected:
		 * ask once for its passcode and run the command again. */
		if (status == EXIT_REMOTE && cli->interactive &&
		    cli->c != NULL && cli->c->need_passcode &&
		    cli->c->passcode[0] == '\0' &&
		    strcmp(argv[0], "protect") != 0 &&
		    strcmp(argv[0], "unprotect") != 0 &&
		    tty_read_secret("Passcode: ", cli->c->passcode,
		        sizeof(cli->c->passcode)) == 0) {
			status = commands[i].fn(cli, argc, argv);
			/* Kept for one command only. */
			sodium_memzero(
			    cli->c->passcode, sizeof(cli->c->passcode));
		}
	}
	free(storage);
	return ignore && status != EXIT_CONNECT ? EXIT_OK : status;
}
