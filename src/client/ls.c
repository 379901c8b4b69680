/* SPDX-License-Identifier: MIT */
/*
 * The ls command, with sftp's options: -1 one name a line, -a names
 * starting with '.', -d folders themselves, -h sizes for people, -l long
 * form, -r reverse, -S by size, -t by time. Entries are gathered first so
 * that they can be sorted and their columns aligned.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "wharf/cli.h"
#include "wharf/text.h"
#include "wharf/cmdline.h"
#include "wharf/msg.h"
#include "wharf/strnum.h"

enum {
	LS_ONE = 1 << 0,
	LS_ALL = 1 << 1,
	LS_DIR = 1 << 2,
	LS_HUMAN = 1 << 3,
	LS_LONG = 1 << 4,
	LS_REVERSE = 1 << 5,
	LS_SIZE = 1 << 6,
	LS_TIME = 1 << 7,
};
#define LS_FLAGS "1adhlrSt"
#define LS_ARGS "[-1adhlrSt] [PATH...]"

struct ls_entry {
	char *name; /* as shown: with its folder when a pattern had one */
	Wharf__FileType type;
	uint64_t size;
	int64_t mtime;
	uint32_t mtime_nsec;
	uint32_t mode;
	int protected_;
};

struct ls_set {
	struct ls_entry *v;
	size_t n, cap;
	int flags;
	const char *pattern; /* on names, or NULL */
	const char *prefix; /* put before each name, or "" */
	int err;
};

static int
set_add(struct ls_set *set, const Wharf__FileInfo *fi, const char *name)
{
	struct ls_entry *nv, *e;
	size_t len;

	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 64;
		if ((nv = realloc(set->v, set->cap * sizeof(*nv))) == NULL)
			return WH_ERR_NOMEM;
		set->v = nv;
	}
	e = &set->v[set->n];
	len = strlen(set->prefix) + strlen(name) + 1;
	if ((e->name = malloc(len)) == NULL)
		return WH_ERR_NOMEM;
	snprintf(e->name, len, "%s%s", set->prefix, name);
	e->type = fi->type;
	e->size = fi->size;
	e->mtime = fi->mtime_sec;
	e->mtime_nsec = fi->mtime_nsec;
	e->mode = fi->mode;
	e->protected_ = fi->protected_;
	set->n++;
	return 0;
}

static int
collect(void *arg, const Wharf__Envelope *part)
{
	struct ls_set *set = arg;
	char name[WIRE_NAME_MAX + 1];
	size_t i;

	for (i = 0; i < part->list_part->n_entries && set->err == 0; i++) {
		const Wharf__FileInfo *fi = part->list_part->entries[i];

		if (msg_text(&fi->name, name, sizeof(name)) != 0)
			continue;
		if (set->pattern != NULL ?
		        fnmatch(set->pattern, name, FNM_PERIOD) != 0 :
		        (name[0] == '.' && !(set->flags & LS_ALL)))
			continue;
		set->err = set_add(set, fi, name);
	}
	return 0;
}

static int
list_into(struct cli *cli, struct ls_set *set, const char *path)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__ListReq lr = WHARF__LIST_REQ__INIT;
	int r;

	lr.path = msg_bytes(path);
	/* Hidden names are filtered here, so that a pattern like ".*"
	 * still sees them. */
	lr.all = 1;
	req.body_case = WHARF__ENVELOPE__BODY_LIST;
	req.list = &lr;
	if ((r = client_call(cli->c, &req, &resp, collect, set)) != 0)
		return r;
	if (resp->body_case == WHARF__ENVELOPE__BODY_LIST_PART)
		collect(set, resp);
	msg_free(resp);
	return set->err;
}

/* -d: the entry itself, named as given. */
static int
stat_into(struct cli *cli, struct ls_set *set, const char *path)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__StatReq st = WHARF__STAT_REQ__INIT;
	int r;

	st.path = msg_bytes(path);
	req.body_case = WHARF__ENVELOPE__BODY_STAT;
	req.stat = &st;
	if ((r = client_call(cli->c, &req, &resp, NULL, NULL)) != 0)
		return r;
	r = resp->body_case == WHARF__ENVELOPE__BODY_STAT_REPLY ?
	    set_add(set, resp->stat_reply->info, path) :
	    WH_ERR_PROTOCOL;
	msg_free(resp);
	return r;
}

/*
 * A pattern: its last component is matched against the listing of each
 * folder its first part expands to; the names keep that folder, as sftp
 * shows them.
 */
static int
glob_into(struct cli *cli, struct ls_set *set, const char *pat)
{
	const char *slash = strrchr(pat, '/');
	char dirpat[CLIENT_PATH_MAX], prefix[CLIENT_PATH_MAX + 1];
	char **dirs = NULL;
	int i, ndirs = 0, r = 0;

	if (slash == NULL) {
		set->pattern = pat;
		set->prefix = "";
		return list_into(cli, set, ".");
	}
	snprintf(dirpat, sizeof(dirpat), "%.*s",
	    (int)(slash == pat ? 1 : slash - pat), pat);
	set->pattern = slash + 1;
	if (cmdline_is_pattern(dirpat, strlen(dirpat))) {
		if ((r = cli_remote_glob(cli, dirpat, &dirs, &ndirs)) != 0)
			return r;
	} else {
		if ((dirs = malloc(sizeof(*dirs))) == NULL ||
		    (dirs[0] = malloc(sizeof(dirpat))) == NULL) {
			free(dirs);
			return WH_ERR_NOMEM;
		}
		cmdline_unescape(
		    dirpat, strlen(dirpat), dirs[0], sizeof(dirpat));
		ndirs = 1;
	}
	for (i = 0; i < ndirs && r == 0; i++) {
		snprintf(prefix, sizeof(prefix), "%s%s", dirs[i],
		    strcmp(dirs[i], "/") == 0 ? "" : "/");
		set->prefix = prefix;
		r = list_into(cli, set, dirs[i]);
		/* A match that is no folder lists nothing, as in sftp. */
		if (r != 0 && !cli->c->lost && ndirs > 1)
			r = 0;
	}
	set->prefix = "";
	cli_free_list(dirs, ndirs);
	return r;
}

static int set_flags;

static int
entry_cmp(const void *a, const void *b)
{
	const struct ls_entry *x = a, *y = b;
	int c = 0;

	if (set_flags & LS_TIME)
		c = x->mtime != y->mtime ?
		    (x->mtime < y->mtime ? 1 : -1) :
		    x->mtime_nsec != y->mtime_nsec ?
		    (x->mtime_nsec < y->mtime_nsec ? 1 : -1) :
		    0;
	else if (set_flags & LS_SIZE)
		c = x->size != y->size ? (x->size < y->size ? 1 : -1) : 0;
	if (c == 0)
		c = strcmp(x->name, y->name);
	return set_flags & LS_REVERSE ? -c : c;
}

static void
print_json(const struct ls_entry *e)
{
	printf("{\"name\":");
	cli_json_str(stdout, e->name);
	printf(",\"type\":\"%s\",\"size\":%llu,\"mtime\":%lld,"
	       "\"mtime_nsec\":%u,\"mode\":\"%04o\",\"protected\":%s}\n",
	    cli_type_name(e->type), (unsigned long long)e->size,
	    (long long)e->mtime, e->mtime_nsec, e->mode & 07777,
	    e->protected_ ? "true" : "false");
}

static void
size_text(const struct ls_set *set, const struct ls_entry *e, char *out,
    size_t outlen)
{
	if (set->flags & LS_HUMAN)
		cli_human_size(e->size, out, outlen);
	else
		snprintf(out, outlen, "%llu", (unsigned long long)e->size);
}

static int
term_width(void)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");
	long n;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (cols != NULL && strnum_long(cols, 1, 10000, &n) == 0)
		return (int)n;
	return 80;
}

static void
print_set(struct cli *cli, struct ls_set *set)
{
	char clean[CLIENT_PATH_MAX + 1], sz[32], mode[11], when[32];
	int color = !cli->json && cli_color(stdout), wsize = 0, wname = 0;
	int cols, rows, r, c, len;
	const char *on, *off;
	struct tm tm;
	time_t t;
	size_t i, k;

	set_flags = set->flags;
	/* An empty folder has no array at all: qsort wants one. */
	if (set->n > 0)
		qsort(set->v, set->n, sizeof(*set->v), entry_cmp);
	for (i = 0; i < set->n; i++) {
		size_text(set, &set->v[i], sz, sizeof(sz));
		if ((len = (int)strlen(sz)) > wsize)
			wsize = len;
		if ((len = (int)strlen(set->v[i].name)) > wname)
			wname = len;
	}
	if (cli->json) {
		for (i = 0; i < set->n; i++)
			print_json(&set->v[i]);
		return;
	}
	if (!(set->flags & (LS_LONG | LS_ONE)) && isatty(STDOUT_FILENO)) {
		/* Columns down, then across, as ls(1) and sftp print. */
		cols = term_width() / (wname + 2);
		cols = cols < 1 ? 1 : cols;
		rows = (int)((set->n + (size_t)cols - 1) / (size_t)cols);
		for (r = 0; r < rows; r++) {
			for (c = 0; c < cols; c++) {
				k = (size_t)c * (size_t)rows + (size_t)r;
				if (k >= set->n)
					break;
				text_clean(
				    clean, sizeof(clean), set->v[k].name);
				on = color &&
				        set->v[k].type ==
				            WHARF__FILE_TYPE__TYPE_DIR ?
				    "\033[1;34m" :
				    "";
				off = on[0] != '\0' ? "\033[0m" : "";
				printf("%s%s%s%*s", on, clean, off,
				    k + (size_t)rows < set->n ?
				        wname + 2 - (int)strlen(clean) :
				        0,
				    "");
			}
			putchar('\n');
		}
		return;
	}
	for (i = 0; i < set->n; i++) {
		const struct ls_entry *e = &set->v[i];
		int dir = e->type == WHARF__FILE_TYPE__TYPE_DIR;

		/* Names come from the server: never let them drive the
		 * terminal. */
		text_clean(clean, sizeof(clean), e->name);
		on = color && dir ? "\033[1;34m" : "";
		off = on[0] != '\0' ? "\033[0m" : "";
		if (!(set->flags & LS_LONG)) {
			printf("%s%s%s\n", on, clean, off);
			continue;
		}
		cli_mode_string(e->type, e->mode, mode);
		t = (time_t)e->mtime;
		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
		size_text(set, e, sz, sizeof(sz));
		printf("%s %*s %s %s%s%s%s%s\n", mode, wsize, sz, when, on,
		    clean, off, dir ? "/" : "",
		    e->protected_ ? "  [protected]" : "");
	}
}

static void
set_clear(struct ls_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		free(set->v[i].name);
	set->n = 0;
	set->err = 0;
}

int
cli_ls(struct cli *cli, int argc, char **argv)
{
	struct ls_set set;
	int first, i, r, status = EXIT_OK, nops;
	const char *path, *pat;

	memset(&set, 0, sizeof(set));
	if ((first = cli_parse_flags(argc, argv, LS_FLAGS, &set.flags)) < 0)
		return cli_usage_fail("ls", LS_ARGS);
	nops = argc - first;
	for (i = first; i == first || i < argc; i++) {
		path = i < argc ? argv[i] : ".";
		pat = i < argc && cli->pat != NULL ? cli->pat[i] : NULL;
		set.pattern = NULL;
		set.prefix = "";
		if (pat != NULL)
			r = glob_into(cli, &set, pat);
		else if (set.flags & LS_DIR)
			r = stat_into(cli, &set, path);
		else
			r = list_into(cli, &set, path);
		if (r == 0 && pat != NULL && set.n == 0) {
			snprintf(
			    cli->c->errmsg, sizeof(cli->c->errmsg), "no match");
			r = WH_ERR_NOT_FOUND;
		}
		if (r != 0) {
			status = cli_remote_fail(cli, "ls", path, r);
			set_clear(&set);
			if (status == EXIT_CONNECT)
				break;
			continue;
		}
		if (nops > 1 && pat == NULL && !(set.flags & LS_DIR) &&
		    !cli->json)
			printf("%s%s:\n", i > first ? "\n" : "", path);
		print_set(cli, &set);
		set_clear(&set);
	}
	free(set.v);
	return status;
}
