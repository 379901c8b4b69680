/* SPDX-License-Identifier: MIT */
/*
 * Client commands. Each remote command turns its arguments into one
 * request and prints the answer; failures print
 * "wharf: CMD ARG: reason" on stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
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
	return cmdline_split(line, storage, argv, NULL);
}

int
cli_remote_fail(struct cli *cli, const char *cmd, const char *arg, int r)
{
	char clean[LOG_PEER_STR_MAX + 1];

	fprintf(stderr, "wharf: %s%s%s: %s\n", cmd, arg ? " " : "",
	    arg ? text_clean(clean, sizeof(clean), arg) : "",
	    cli->c->errmsg[0] ? cli->c->errmsg : wh_strerror(r));
	return cli->c->lost ? EXIT_CONNECT : EXIT_REMOTE;
}

int
cli_usage_fail(const char *cmd, const char *args)
{
	fprintf(stderr, "wharf: usage: %s %s\n", cmd, args);
	return EXIT_USAGE;
}

int
cli_parse_flags(int argc, char **argv, const char *allowed, int *flags)
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

void
cli_mode_string(Wharf__FileType type, uint32_t mode, char out[11])
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

const char *
cli_type_name(Wharf__FileType t)
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

/* Sends a request whose success answer carries nothing to print. */
static int
simple_call(
    struct cli *cli, Wharf__Envelope *req, const char *cmd, const char *arg)
{
	Wharf__Envelope *resp = NULL;
	int r;

	if ((r = client_call(cli->c, req, &resp, NULL, NULL)) != 0)
		return cli_remote_fail(cli, cmd, arg, r);
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
		return cli_usage_fail("cd", "[PATH]");
	cd.path = msg_bytes(path);
	req.body_case = WHARF__ENVELOPE__BODY_CD;
	req.cd = &cd;
	if ((r = client_call(cli->c, &req, &resp, NULL, NULL)) != 0)
		return cli_remote_fail(cli, "cd", path, r);
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
		return cli_usage_fail("pwd", "");
	req.body_case = WHARF__ENVELOPE__BODY_PWD;
	req.pwd = &pwd;
	if ((r = client_call(cli->c, &req, &resp, NULL, NULL)) != 0)
		return cli_remote_fail(cli, "pwd", NULL, r);
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

	if ((first = cli_parse_flags(argc, argv, "p", &flags)) < 0 ||
	    first >= argc)
		return cli_usage_fail("mkdir", "[-p] PATH...");
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
		return cli_usage_fail("rmdir", "PATH...");
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

/* The operands of a command from argv[first], with its patterns
 * expanded; a pattern that matches nothing is reported and fails the
 * command, as in sftp. */
static int
expand_operands(struct cli *cli, const char *cmd, int argc, char **argv,
    int first, char ***v, int *n)
{
	int r, bad;

	r = cli_expand_args(cli, argv + first,
	    cli->pat != NULL ? cli->pat + first : NULL, argc - first, v, n,
	    &bad);
	if (r != 0)
		return cli_remote_fail(
		    cli, cmd, bad >= 0 ? argv[first + bad] : NULL, r);
	return EXIT_OK;
}

static int
cmd_rm(struct cli *cli, int argc, char **argv)
{
	char **v;
	int k, n, r;

	if (argc < 2)
		return cli_usage_fail("rm", "PATH...");
	if ((r = expand_operands(cli, "rm", argc, argv, 1, &v, &n)) != 0)
		return r;
	for (k = 0, r = 0; k < n && r == 0; k++)
		r = rm_one(cli, v[k]);
	cli_free_list(v, n);
	return r;
}

static int
cmd_mv(struct cli *cli, int argc, char **argv)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT;
	Wharf__RenameReq mv = WHARF__RENAME_REQ__INIT;

	if (argc != 3)
		return cli_usage_fail("mv", "SRC DST");
	mv.from = msg_bytes(argv[1]);
	mv.to = msg_bytes(argv[2]);
	mv.passcode = client_passcode(cli->c);
	req.body_case = WHARF__ENVELOPE__BODY_RENAME;
	req.rename = &mv;
	return simple_call(cli, &req, "mv", argv[1]);
}

static int
stat_one(struct cli *cli, const char *arg)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__StatReq st = WHARF__STAT_REQ__INIT;
	char path[CLIENT_PATH_MAX], clean[CLIENT_PATH_MAX], mode[11];
	char when[64];
	const Wharf__FileInfo *fi;
	struct tm tm;
	time_t t;
	int r;

	st.path = msg_bytes(arg);
	req.body_case = WHARF__ENVELOPE__BODY_STAT;
	req.stat = &st;
	if ((r = client_call(cli->c, &req, &resp, NULL, NULL)) != 0)
		return cli_remote_fail(cli, "stat", arg, r);
	if (resp->body_case != WHARF__ENVELOPE__BODY_STAT_REPLY ||
	    msg_text(&resp->stat_reply->path, path, sizeof(path)) != 0) {
		msg_free(resp);
		fprintf(stderr, "wharf: stat %s: unexpected answer\n", arg);
		return EXIT_REMOTE;
	}
	fi = resp->stat_reply->info;
	if (cli->json) {
		printf("{\"path\":");
		cli_json_str(stdout, path);
		printf(",\"type\":\"%s\",\"size\":%llu,\"mtime\":%lld,"
		       "\"mtime_nsec\":%u,\"mode\":\"%04o\"}\n",
		    cli_type_name(fi->type), (unsigned long long)fi->size,
		    (long long)fi->mtime_sec, fi->mtime_nsec, fi->mode & 07777);
		msg_free(resp);
		return EXIT_OK;
	}
	cli_mode_string(fi->type, fi->mode, mode);
	t = (time_t)fi->mtime_sec;
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
	printf("    Path: %s\n    Type: %s\n    Size: %llu\n"
	       "    Mode: %04o (%s)\nModified: %s\n",
	    text_clean(clean, sizeof(clean), path), cli_type_name(fi->type),
	    (unsigned long long)fi->size, fi->mode & 07777, mode, when);
	msg_free(resp);
	return EXIT_OK;
}

static int
cmd_stat(struct cli *cli, int argc, char **argv)
{
	char **v;
	int k, n, r, status = EXIT_OK;

	if (argc < 2)
		return cli_usage_fail("stat", "PATH...");
	if ((r = expand_operands(cli, "stat", argc, argv, 1, &v, &n)) != 0)
		return r;
	for (k = 0; k < n; k++) {
		if (k > 0 && !cli->json)
			putchar('\n');
		if ((r = stat_one(cli, v[k])) != EXIT_OK)
			status = r;
		if (r == EXIT_CONNECT)
			break;
	}
	cli_free_list(v, n);
	return status;
}

static int
cmd_lpwd(struct cli *cli, int argc, char **argv)
{
	char cwd[PATH_MAX];

	(void)cli;
	(void)argv;
	if (argc > 1)
		return cli_usage_fail("lpwd", "");
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
		return cli_usage_fail("lcd", "[DIR]");
	if (chdir(dir) != 0) {
		fprintf(stderr, "wharf: lcd %s: %s\n", dir, strerror(errno));
		return EXIT_REMOTE;
	}
	return EXIT_OK;
}

/*
 * Local patterns (put's sources, lls's operands), expanded with glob(3)
 * as sftp does; the pattern carries cmdline.c's escapes, which glob
 * honours. No match is an error. *v gets n new strings (cli_free_list).
 */
static int
expand_local(const char *cmd, char *const *words, char *const *pats, int nwords,
    char ***v, int *n)
{
	glob_t g;
	char **nv;
	int i, k, r;

	*v = NULL;
	*n = 0;
	for (i = 0; i < nwords; i++) {
		memset(&g, 0, sizeof(g));
		if (pats != NULL && pats[i] != NULL) {
			if ((r = glob(pats[i], 0, NULL, &g)) != 0) {
				fprintf(stderr, "wharf: %s %s: %s\n", cmd,
				    words[i],
				    r == GLOB_NOMATCH ? "no match" :
				                        "cannot expand");
				globfree(&g);
				cli_free_list(*v, *n);
				*v = NULL;
				*n = 0;
				return EXIT_REMOTE;
			}
		}
		k = g.gl_pathc > 0 ? (int)g.gl_pathc : 1;
		if ((nv = realloc(*v, (size_t)(*n + k) * sizeof(*nv))) ==
		    NULL) {
			globfree(&g);
			cli_free_list(*v, *n);
			*v = NULL;
			*n = 0;
			return EXIT_REMOTE;
		}
		*v = nv;
		for (k = 0; k < (g.gl_pathc > 0 ? (int)g.gl_pathc : 1); k++) {
			const char *w =
			    g.gl_pathc > 0 ? g.gl_pathv[k] : words[i];

			if (((*v)[*n] = strdup(w)) == NULL) {
				globfree(&g);
				cli_free_list(*v, *n);
				*v = NULL;
				*n = 0;
				return EXIT_REMOTE;
			}
			(*n)++;
		}
		globfree(&g);
	}
	return EXIT_OK;
}

/* lls runs the local ls(1), as sftp does: every ls option works, and
 * patterns are expanded here, as sftp's shell would. */
static int
cmd_lls(struct cli *cli, int argc, char **argv)
{
	char *args[CLI_ARGS_MAX + 2], **v = NULL;
	pid_t pid;
	int i, k, n = 0, st, r, status;

	args[0] = (char *)(uintptr_t) "ls";
	if (argc > 1 &&
	    (r = expand_local("lls", argv + 1,
	         cli->pat != NULL ? cli->pat + 1 : NULL, argc - 1, &v, &n)) !=
	        EXIT_OK)
		return r;
	if (n > CLI_ARGS_MAX) {
		fprintf(
		    stderr, "wharf: lls: more than %d names\n", CLI_ARGS_MAX);
		cli_free_list(v, n);
		return EXIT_USAGE;
	}
	for (k = 0; k < n; k++)
		args[k + 1] = v[k];
	args[n + 1] = NULL;
	fflush(stdout);
	if ((pid = fork()) < 0) {
		fprintf(stderr, "wharf: lls: %s\n", strerror(errno));
		cli_free_list(v, n);
		return EXIT_REMOTE;
	}
	if (pid == 0) {
		execvp("ls", args);
		fprintf(
		    stderr, "wharf: lls: cannot run ls: %s\n", strerror(errno));
		_exit(127);
	}
	while ((i = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	status = i >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? EXIT_OK :
	                                                           EXIT_REMOTE;
	cli_free_list(v, n);
	return status;
}

/* get/put: options first or mixed in, then paths; the last of two or
 * more paths is the destination. Remote patterns in get are expanded by
 * listing on the server. */
static int
cmd_transfer(struct cli *cli, int argc, char **argv, int put)
{
	struct transfer_opts o;
	char *paths[CLI_ARGS_MAX], *pats[CLI_ARGS_MAX], **all;
	int i, n = 0, nsrc, nall, r, bad, status;
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
		pats[n] = cli->pat != NULL ? cli->pat[i] : NULL;
		paths[n++] = argv[i];
	}
	if (cli->no_progress)
		o.progress = 0;
	if (n == 0)
		return cli_usage_fail(argv[0],
		    put ? "[-r] [-z[LEVEL]] "
		          "[--hash ALG] LOCAL... [REMOTE]" :
		          "[-r] [-z[LEVEL]] "
		          "[--hash ALG] REMOTE... [LOCAL]");
	nsrc = n > 1 ? n - 1 : 1;
	dest = n > 1 ? paths[n - 1] : NULL;
	if (put) {
		if ((r = expand_local("put", paths, pats, nsrc, &all, &nall)) !=
		    EXIT_OK)
			return r;
		if (nall > 1 && dest == NULL)
			dest = ".";
		status = transfer_put(cli->c, &o, all, nall, dest);
		cli_free_list(all, nall);
		return status;
	}
	if ((r = cli_expand_args(cli, paths, pats, nsrc, &all, &nall, &bad)) !=
	    0)
		return cli_remote_fail(
		    cli, "get", bad >= 0 ? paths[bad] : NULL, r);
	/* Several matches need a folder to land in. */
	if (nall > 1 && dest == NULL)
		dest = ".";
	status = transfer_get(cli->c, &o, all, nall, dest);
	cli_free_list(all, nall);
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
	char **v;
	int i = 1, k, n, r, status = EXIT_OK;

	if (argc >= 3 && strcmp(argv[1], "--hash") == 0) {
		/* A sum is compared with b2sum and sha256sum: xxh128's
		 * padded digest has no such tool. */
		if (hash_alg_parse(argv[2], &alg) != 0 || alg == HASH_XXH128)
			return cli_usage_fail(
			    "sum", "[--hash blake2b|sha256] PATH...");
		i = 3;
	}
	if (argc < i + 1)
		return cli_usage_fail("sum", "[--hash blake2b|sha256] PATH...");
	if ((r = expand_operands(cli, "sum", argc, argv, i, &v, &n)) != 0)
		return r;
	for (k = 0; k < n; k++) {
		if ((r = transfer_sum(cli->c, alg, v[k])) != EXIT_OK)
			status = r;
		if (r == EXIT_CONNECT)
			break;
	}
	cli_free_list(v, n);
	return status;
}

static int
cmd_lmkdir(struct cli *cli, int argc, char **argv)
{
	int flags, first, i;

	(void)cli;
	if ((first = cli_parse_flags(argc, argv, "p", &flags)) < 0 ||
	    first >= argc)
		return cli_usage_fail("lmkdir", "[-p] DIR...");
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
	int r;

	if (argc > 2 || (argc == 1 && !cli->have_target))
		return cli_usage_fail("open", "[USER@]HOST[:PORT]");
	if (argc == 1)
		target = cli->target;
	else if (client_target_parse(argv[1], &target) != 0)
		return EXIT_USAGE;
	if ((r = cli_open(cli, &target)) != EXIT_OK)
		return r;
	/* "open" alone goes back where "close" left, as a reconnect does. */
	if (argc == 1 && cli->resume_cwd[0] != '\0' &&
	    strcmp(cli->resume_cwd, "/") != 0 &&
	    cli_cd(cli, cli->resume_cwd) != EXIT_OK)
		fprintf(stderr, "wharf: staying in %s\n", cli->c->cwd);
	return EXIT_OK;
}

static int
cmd_close(struct cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_usage_fail("close", "");
	if (cli->c == NULL) {
		fprintf(stderr, "wharf: close: not connected\n");
		return EXIT_REMOTE;
	}
	snprintf(cli->resume_cwd, sizeof(cli->resume_cwd), "%s", cli->c->cwd);
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
			return cli_usage_fail("ping", "[-n COUNT]");
	} else if (argc != 1)
		return cli_usage_fail("ping", "[-n COUNT]");
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
		return cli_usage_fail("protect", "PATH");
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
		return cli_usage_fail("unprotect", "PATH");
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

static int
cmd_progress(struct cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_usage_fail("progress", "");
	cli->no_progress = !cli->no_progress;
	printf(
	    "Progress meter %s\n", cli->no_progress ? "disabled" : "enabled");
	return EXIT_OK;
}

static const struct cli_cmd commands[] = {
	{ "ls", "[-1adhlrSt] [PATH...]", "list remote files", 1, cli_ls },
	{ "cd", "[PATH]", "change the remote directory", 1, cmd_cd },
	{ "pwd", "", "print the remote directory", 1, cmd_pwd },
	{ "mkdir", "[-p] PATH...", "make remote directories", 1, cmd_mkdir },
	{ "rmdir", "PATH...", "remove empty remote directories", 1, cmd_rmdir },
	{ "rm", "PATH...", "remove remote files", 1, cmd_rm },
	{ "mv", "SRC DST", "rename or move a remote file or directory", 1,
	    cmd_mv },
	{ "chmod", "MODE PATH...", "change remote permission bits", 1,
	    cli_chmod },
	{ "stat", "PATH...", "show remote files' details", 1, cmd_stat },
	{ "df", "[-h] [PATH]", "free space where the files are kept", 1,
	    cli_df },
	{ "quota", "[-h]", "bytes used and the quota", 1, cli_quota },
	{ "get", "[-r] REMOTE... [LOCAL]", "download files or trees", 1,
	    cmd_get },
	{ "reget", "[-r] REMOTE... [LOCAL]", "resume a download (as get)", 1,
	    cmd_get },
	{ "put", "[-r] LOCAL... [REMOTE]", "upload files or trees", 1,
	    cmd_put },
	{ "reput", "[-r] LOCAL... [REMOTE]", "resume an upload (as put)", 1,
	    cmd_put },
	{ "sync", "[--download] [--delete] [--dry-run] LOCAL REMOTE",
	    "make a tree equal to another", 1, cli_sync },
	{ "protect", "PATH", "require a passcode to read or change a file", 1,
	    cmd_protect },
	{ "unprotect", "PATH", "remove a file's passcode", 1, cmd_unprotect },
	{ "sum", "[--hash ALG] PATH...", "hash remote files on the server", 1,
	    cmd_sum },
	{ "lls", "[LS-OPTIONS] [PATH...]", "list local files (runs ls)", 0,
	    cmd_lls },
	{ "lcd", "[DIR]", "change the local directory", 0, cmd_lcd },
	{ "lpwd", "", "print the local directory", 0, cmd_lpwd },
	{ "lmkdir", "[-p] DIR...", "make local directories", 0, cmd_lmkdir },
	{ "!", "[COMMAND]", "run a local command, or a shell", 0, NULL },
	{ "progress", "", "turn the progress bar off or on", 0, cmd_progress },
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
		"rm", "mv", "stat", "get", "reget", "sum", "chmod", "df",
		"protect", "unprotect", NULL };
	size_t i;

	for (i = 0; remote[i] != NULL; i++)
		if (strcmp(name, remote[i]) == 0)
			return 1;
	return 0;
}

/* Columns sized to the longest name and arguments, so that every line
 * lines up however the table grows. */
static int
cmd_help(struct cli *cli, int argc, char **argv)
{
	int wname = 0, wargs = 0, len;
	size_t i;

	(void)cli;
	for (i = 0; i < NCOMMANDS; i++) {
		if (commands[i].help == NULL)
			continue;
		if ((len = (int)strlen(commands[i].name)) > wname)
			wname = len;
		if ((len = (int)strlen(commands[i].args)) > wargs)
			wargs = len;
	}
	for (i = 0; i < NCOMMANDS; i++) {
		if (commands[i].help == NULL ||
		    (argc > 1 && strcmp(argv[1], commands[i].name) != 0))
			continue;
		printf("  %-*s %-*s  %s\n", wname, commands[i].name, wargs,
		    commands[i].args, commands[i].help);
		if (argc > 1)
			return EXIT_OK;
	}
	if (argc > 1) {
		fprintf(stderr, "wharf: help: no command '%s'\n", argv[1]);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* "!" alone starts the user's shell, "!CMD" runs CMD through it, as in
 * sftp; the exit status is the command's success or failure. */
static int
run_local(struct cli *cli, const char *cmd)
{
	const char *sh = getenv("SHELL");
	struct sigaction ign, oint, oquit;
	pid_t pid, r;
	int st;

	if (sh == NULL || sh[0] == '\0')
		sh = "/bin/sh";
	fflush(stdout);
	if ((pid = fork()) < 0) {
		fprintf(stderr, "wharf: !: %s\n", strerror(errno));
		return EXIT_REMOTE;
	}
	if (pid == 0) {
		if (cmd[strspn(cmd, " \t\r\n")] == '\0')
			execl(sh, sh, (char *)NULL);
		else
			execl(sh, sh, "-c", cmd, (char *)NULL);
		fprintf(stderr, "wharf: !: cannot run %s: %s\n", sh,
		    strerror(errno));
		_exit(127);
	}
	/* Ctrl-C is the command's, as with system(3): wharf stays. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	if (cli->idle_hook != NULL)
		cli->idle_hook(1);
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (cli->idle_hook != NULL)
		cli->idle_hook(0);
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGQUIT, &oquit, NULL);
	if (r < 0)
		return EXIT_REMOTE;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? EXIT_OK : EXIT_REMOTE;
}

int
cli_run_argv(struct cli *cli, int argc, char **argv, char **pat)
{
	int status;
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			break;
	/* "!" is a line of its own (cli_run_line), never a word. */
	if (i == NCOMMANDS || commands[i].fn == NULL) {
		fprintf(stderr, "wharf: unknown command '%s' (try help)\n",
		    argv[0]);
		return EXIT_USAGE;
	}
	if (commands[i].remote && (cli->c == NULL || cli->c->lost)) {
		fprintf(stderr, "wharf: %s: not connected\n", argv[0]);
		return EXIT_CONNECT;
	}
	if (cli->c != NULL)
		cli->c->need_passcode = 0;
	cli->pat = pat;
	status = commands[i].fn(cli, argc, argv);
	/* In the shell, a file that turned out to be protected: ask once
	 * for its passcode and run the command again. */
	if (status == EXIT_REMOTE && cli->interactive && cli->c != NULL &&
	    cli->c->need_passcode && cli->c->passcode[0] == '\0' &&
	    strcmp(argv[0], "protect") != 0 &&
	    strcmp(argv[0], "unprotect") != 0 &&
	    tty_read_secret("Passcode: ", cli->c->passcode,
	        sizeof(cli->c->passcode)) == 0) {
		status = commands[i].fn(cli, argc, argv);
		/* Kept for one command only. */
		sodium_memzero(cli->c->passcode, sizeof(cli->c->passcode));
	}
	cli->pat = NULL;
	return status;
}

int
cli_run_line(struct cli *cli, const char *line)
{
	char *storage, *argv[CLI_ARGS_MAX + 1], *pat[CLI_ARGS_MAX + 1];
	int argc, status, ignore = 0, quiet = 0;
	size_t len;

	/* sftp's batch prefixes, in either order: '-' goes on after a
	 * failure, '@' does not echo the command. */
	for (;; line++) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '-' && !ignore)
			ignore = 1;
		else if (*line == '@' && !quiet)
			quiet = 1;
		else
			break;
	}
	len = strcspn(line, "\r\n");
	if (cli->batch && !quiet && !cli->opts.quiet &&
	    line[strspn(line, " \t\r\n")] != '\0' && line[0] != '#')
		fprintf(stderr, "wharf> %.*s\n", (int)len, line);
	if (*line == '!') {
		char *cmd = strndup(line + 1, len > 0 ? len - 1 : 0);

		if (cmd == NULL)
			return EXIT_REMOTE;
		status = run_local(cli, cmd);
		free(cmd);
		return ignore && status != EXIT_CONNECT ? EXIT_OK : status;
	}
	if ((storage = malloc(CMDLINE_STORAGE(strlen(line)))) == NULL)
		return EXIT_REMOTE;
	if ((argc = cmdline_split(line, storage, argv, pat)) < 0) {
		fprintf(stderr,
		    "wharf: cannot parse: unbalanced quotes or "
		    "more than %d words\n",
		    CLI_ARGS_MAX);
		free(storage);
		return ignore ? EXIT_OK : EXIT_USAGE;
	}
	status = argc == 0 ? EXIT_OK : cli_run_argv(cli, argc, argv, pat);
	free(storage);
	return ignore && status != EXIT_CONNECT ? EXIT_OK : status;
}
