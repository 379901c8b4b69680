/* SPDX-License-Identifier: MIT */
/*
 * Remote patterns, expanded by listing folders on the server, one
 * component at a time, as sftp's glob does over readdir: a pattern never
 * reaches a shell, '*' does not match a leading '.', and a pattern that
 * matches nothing is an error. The same expansion serves the shell, -c,
 * -b and the one-shot commands.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "wharf/cli.h"
#include "wharf/cmdline.h"
#include "wharf/msg.h"

/* Bounds what one pattern may expand to, so that "*" over a huge tree
 * cannot exhaust memory. */
#define GLOB_MATCHES_MAX 100000

void
cli_free_list(char **v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

struct path_list {
	char **v;
	int n, cap;
};

static int
list_add(struct path_list *l, const char *dir, const char *name)
{
	char **nv;
	size_t len;

	if (l->n == GLOB_MATCHES_MAX)
		return WH_ERR_TOO_LARGE;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		if ((nv = realloc(l->v, (size_t)l->cap * sizeof(*nv))) == NULL)
			return WH_ERR_NOMEM;
		l->v = nv;
	}
	len = strlen(dir) + strlen(name) + 2;
	if ((l->v[l->n] = malloc(len)) == NULL)
		return WH_ERR_NOMEM;
	if (dir[0] == '\0')
		snprintf(l->v[l->n], len, "%s", name);
	else
		snprintf(l->v[l->n], len, "%s%s%s", dir,
		    dir[strlen(dir) - 1] == '/' ? "" : "/", name);
	l->n++;
	return 0;
}

struct match_ctx {
	const char *pattern; /* one component */
	const char *dir; /* as the user wrote it, "" for the cwd */
	int dirs_only; /* an inner component: only folders go on */
	struct path_list *out;
	int err;
};

static int
match_part(void *arg, const Wharf__Envelope *part)
{
	struct match_ctx *m = arg;
	char name[WIRE_NAME_MAX + 1];
	size_t i;

	for (i = 0; i < part->list_part->n_entries && m->err == 0; i++) {
		const Wharf__FileInfo *fi = part->list_part->entries[i];

		if (msg_text(&fi->name, name, sizeof(name)) != 0 ||
		    (m->dirs_only && fi->type != WHARF__FILE_TYPE__TYPE_DIR) ||
		    fnmatch(m->pattern, name, FNM_PERIOD) != 0)
			continue;
		m->err = list_add(m->out, m->dir, name);
	}
	return 0;
}

/* Adds the entries of dir matching one pattern component to out. A folder
 * that cannot be listed matches nothing (as with glob(3)), unless the
 * connection went. */
static int
match_dir(struct cli *cli, const char *dir, const char *pattern, int dirs_only,
    struct path_list *out)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__ListReq lr = WHARF__LIST_REQ__INIT;
	struct match_ctx m = { pattern, dir, dirs_only, out, 0 };
	int r;

	lr.path = msg_bytes(dir[0] == '\0' ? "." : dir);
	lr.all = 1;
	req.body_case = WHARF__ENVELOPE__BODY_LIST;
	req.list = &lr;
	r = client_call(cli->c, &req, &resp, match_part, &m);
	if (r == 0 && resp->body_case == WHARF__ENVELOPE__BODY_LIST_PART)
		match_part(&m, resp);
	msg_free(resp);
	if (m.err != 0)
		return m.err;
	return cli->c->lost ? r : 0;
}

static void
list_free(struct path_list *l)
{
	cli_free_list(l->v, l->n);
	memset(l, 0, sizeof(*l));
}

int
cli_remote_glob(struct cli *cli, const char *pattern, char ***out, int *n)
{
	struct path_list cur = { NULL, 0, 0 }, next = { NULL, 0, 0 };
	char comp[CLIENT_PATH_MAX];
	const char *p = pattern, *slash;
	size_t len;
	int i, r = 0, last;

	*out = NULL;
	*n = 0;
	/* The expansion starts from the root or the working folder. */
	if ((r = list_add(&cur, "", *p == '/' ? "/" : "")) != 0)
		goto out;
	if (*p != '/')
		cur.v[0][0] = '\0';
	while (*p == '/')
		p++;
	while (*p != '\0') {
		slash = strchr(p, '/');
		len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		last = slash == NULL || slash[strspn(slash, "/")] == '\0';
		if (len >= sizeof(comp)) {
			r = WH_ERR_TOO_LARGE;
			goto out;
		}
		if (cmdline_is_pattern(p, len)) {
			memcpy(comp, p, len);
			comp[len] = '\0';
			for (i = 0; i < cur.n && r == 0; i++)
				r = match_dir(
				    cli, cur.v[i], comp, !last, &next);
		} else {
			/* A literal component: no listing, the operation
			 * itself says whether it exists. */
			cmdline_unescape(p, len, comp, sizeof(comp));
			for (i = 0; i < cur.n && r == 0; i++)
				r = list_add(&next, cur.v[i], comp);
		}
		if (r != 0)
			goto out;
		list_free(&cur);
		cur = next;
		memset(&next, 0, sizeof(next));
		p += len;
		while (*p == '/')
			p++;
	}
	if (cur.n == 0 || (cur.n == 1 && cur.v[0][0] == '\0')) {
		snprintf(cli->c->errmsg, sizeof(cli->c->errmsg), "no match");
		r = WH_ERR_NOT_FOUND;
		goto out;
	}
	*out = cur.v;
	*n = cur.n;
	memset(&cur, 0, sizeof(cur));
	r = 0;
out:
	list_free(&cur);
	list_free(&next);
	return r;
}

int
cli_expand_args(struct cli *cli, char *const *words, char *const *pats,
    int nwords, char ***out, int *n, int *failed)
{
	struct path_list all = { NULL, 0, 0 };
	char **v;
	int i, k, cnt, r;

	*out = NULL;
	*n = 0;
	*failed = -1;
	for (i = 0; i < nwords; i++) {
		if (pats == NULL || pats[i] == NULL) {
			if ((r = list_add(&all, "", words[i])) != 0)
				goto fail;
			continue;
		}
		if ((r = cli_remote_glob(cli, pats[i], &v, &cnt)) != 0)
			goto fail;
		for (k = 0; k < cnt && r == 0; k++)
			r = list_add(&all, "", v[k]);
		cli_free_list(v, cnt);
		if (r != 0)
			goto fail;
	}
	*out = all.v;
	*n = all.n;
	return 0;
fail:
	*failed = i;
	list_free(&all);
	return r;
}
