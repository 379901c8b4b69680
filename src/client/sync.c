/* SPDX-License-Identifier: MIT */
/*
 * `wharf sync`: makes a destination tree equal to a source tree. Both
 * trees are listed first; files that are new or differ (size and mtime,
 * or content with --checksum) are transferred, with deltas where the old
 * file exists; unchanged ones are skipped, so a sync that was interrupted
 * finishes on the next run without redoing finished files. --delete
 * removes what the source lacks, only after every transfer succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wharf/address.h"
#include "wharf/cli.h"
#include "wharf/client_config.h"
#include "wharf/msg.h"
#include "wharf/report.h"
#include "wharf/transfer.h"
#include "wharf/tree.h"
#include "wharf/xfer.h"

struct entry {
	char *rel;
	int dir;
	uint64_t size;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
};

struct manifest {
	struct entry *v;
	size_t n;
	size_t cap;
};

struct sync_opts {
	int download;
	int delete;
	int dry_run;
	int checksum;
	struct transfer_opts xo;
};

static void
manifest_free(struct manifest *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].rel);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static int
manifest_add(struct manifest *m, const char *rel, int dir, uint64_t size,
    int64_t sec, uint32_t nsec)
{
	struct entry *nv;

	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		if ((nv = realloc(m->v, m->cap * sizeof(*nv))) == NULL)
			return WH_ERR_NOMEM;
		m->v = nv;
	}
	if ((m->v[m->n].rel = strdup(rel)) == NULL)
		return WH_ERR_NOMEM;
	m->v[m->n].dir = dir;
	m->v[m->n].size = size;
	m->v[m->n].mtime_sec = sec;
	m->v[m->n].mtime_nsec = nsec;
	m->n++;
	return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const struct entry *)a)->rel, ((const struct entry *)b)->rel);
}

static const struct entry *
manifest_find(const struct manifest *m, const char *rel)
{
	struct entry key;

	if (m->n == 0)
		return NULL; /* bsearch wants a real array */
	key.rel = (char *)(uintptr_t)rel;
	return bsearch(&key, m->v, m->n, sizeof(*m->v), entry_cmp);
}

/* Adds what a walk finds, except the top itself, to a manifest. */
static int
manifest_visit(void *arg, const struct tree_entry *e)
{
	if (e->rel[0] == '\0')
		return 0;
	return manifest_add(
	    arg, e->rel, e->dir, e->size, e->mtime_sec, e->mtime_nsec);
}

static int
remote_simple(struct client *c, Wharf__Envelope *req)
{
	Wharf__Envelope *resp = NULL;
	int r = client_call(c, req, &resp, NULL, NULL);

	msg_free(resp);
	return r;
}

/* Plain content digests of both copies: 1 if they are equal. */
static int
same_content(
    struct client *c, const char *local, const char *remote, enum hash_alg alg)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__SumReq sr = WHARF__SUM_REQ__INIT;
	uint8_t h[HASH_LEN];
	uint64_t size;
	int fd, r, same = 0;

	if ((fd = open(local, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	r = xfer_file_sum(fd, alg, h, &size);
	close(fd);
	if (r != 0)
		return 0;
	sr.path = msg_bytes(remote);
	sr.hash = hash_alg_to_wire(alg);
	sr.passcode = client_passcode(c);
	req.body_case = WHARF__ENVELOPE__BODY_SUM;
	req.sum = &sr;
	if (client_call(c, &req, &resp, NULL, NULL) == 0 &&
	    resp->body_case == WHARF__ENVELOPE__BODY_SUM_REPLY)
		same =
		    sodium_memcmp(resp->sum_reply->hash.data, h, HASH_LEN) == 0;
	msg_free(resp);
	return same;
}

struct plan {
	char **locals;
	char **remotes;
	size_t nxfer;
	uint64_t bytes;
	size_t unchanged;
	char **mkdirs;
	size_t nmkdir;
	char **deletes; /* in deletion order: files, then deepest folders */
	int *delete_dir;
	size_t ndelete;
};

static int
push_str(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (nv == NULL)
		return WH_ERR_NOMEM;
	*v = nv;
	if ((nv[*n] = strdup(s)) == NULL)
		return WH_ERR_NOMEM;
	(*n)++;
	return 0;
}

static void
plan_free(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->nxfer; i++) {
		free(p->locals[i]);
		free(p->remotes[i]);
	}
	for (i = 0; i < p->nmkdir; i++)
		free(p->mkdirs[i]);
	for (i = 0; i < p->ndelete; i++)
		free(p->deletes[i]);
	free(p->locals);
	free(p->remotes);
	free(p->mkdirs);
	free(p->deletes);
	free(p->delete_dir);
}

static int
depth_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	size_t dx = 0, dy = 0;
	const char *s;

	/* Files first, then folders, deepest first: children go before
	 * their parents. */
	if (x->dir != y->dir)
		return x->dir - y->dir;
	for (s = x->rel; *s; s++)
		dx += *s == '/';
	for (s = y->rel; *s; s++)
		dy += *s == '/';
	return dx != dy ? (dx > dy ? -1 : 1) : strcmp(x->rel, y->rel);
}

/* Compares src (what should be) with dst (what is). */
static int
make_plan(struct client *c, const struct sync_opts *o, const char *ltop,
    const char *rtop, const struct manifest *src, struct manifest *dst,
    struct plan *p)
{
	const char *stop = o->download ? rtop : ltop;
	const char *dtop = o->download ? ltop : rtop;
	const struct entry *e, *d;
	struct manifest extra = { 0 };
	char *sp = NULL, *dp = NULL;
	size_t i;
	int r = 0, changed;

	for (i = 0; i < src->n && r == 0; i++) {
		e = &src->v[i];
		d = manifest_find(dst, e->rel);
		free(sp);
		free(dp);
		sp = tree_join(stop, e->rel);
		dp = tree_join(dtop, e->rel);
		if (sp == NULL || dp == NULL) {
			r = WH_ERR_NOMEM;
			break;
		}
		if (e->dir) {
			if (d == NULL || !d->dir)
				r = push_str(&p->mkdirs, &p->nmkdir, dp);
			continue;
		}
		if (d != NULL && d->dir) {
			fprintf(stderr,
			    "wharf: sync: %s is a folder at the "
			    "destination; not replacing it\n",
			    dp);
			r = WH_ERR_IS_DIR;
			break;
		}
		changed = d == NULL || d->size != e->size;
		if (!changed && o->checksum)
			changed = !same_content(c, o->download ? dp : sp,
			    o->download ? sp : dp, o->xo.alg);
		else if (!changed)
			changed = d->mtime_sec != e->mtime_sec ||
			    d->mtime_nsec != e->mtime_nsec;
		if (!changed) {
			p->unchanged++;
			continue;
		}
		if (o->dry_run)
			printf("%s %s%s\n", o->download ? "get" : "put", e->rel,
			    d == NULL ? " (new)" : " (changed)");
		if ((r = push_str(
		         &p->locals, &p->nxfer, o->download ? dp : sp)) != 0)
			break;
		p->nxfer--;
		if ((r = push_str(
		         &p->remotes, &p->nxfer, o->download ? sp : dp)) != 0)
			break;
		p->bytes += e->size;
	}
	free(sp);
	free(dp);
	if (r != 0 || !o->delete)
		return r;
	for (i = 0; i < dst->n && r == 0; i++)
		if (manifest_find(src, dst->v[i].rel) == NULL)
			r = manifest_add(
			    &extra, dst->v[i].rel, dst->v[i].dir, 0, 0, 0);
	if (extra.n > 0)
		qsort(extra.v, extra.n, sizeof(*extra.v), depth_cmp);
	for (i = 0; i < extra.n && r == 0; i++) {
		if ((dp = tree_join(dtop, extra.v[i].rel)) == NULL) {
			r = WH_ERR_NOMEM;
			break;
		}
		if (o->dry_run)
			printf("delete %s%s\n", extra.v[i].rel,
			    extra.v[i].dir ? "/" : "");
		r = push_str(&p->deletes, &p->ndelete, dp);
		free(dp);
		if (r == 0) {
			int *nd =
			    realloc(p->delete_dir, p->ndelete * sizeof(*nd));

			if (nd == NULL)
				r = WH_ERR_NOMEM;
			else {
				p->delete_dir = nd;
				nd[p->ndelete - 1] = extra.v[i].dir;
			}
		}
	}
	manifest_free(&extra);
	return r;
}

static int
apply_deletes(struct client *c, const struct sync_opts *o, const struct plan *p)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT;
	Wharf__RemoveReq rm = WHARF__REMOVE_REQ__INIT;
	Wharf__RmdirReq rd = WHARF__RMDIR_REQ__INIT;
	size_t i;
	int r, failures = 0;

	for (i = 0; i < p->ndelete; i++) {
		if (o->download) {
			r = p->delete_dir[i] ? rmdir(p->deletes[i]) :
			                       unlink(p->deletes[i]);
			r = r == 0 ? 0 : WH_ERR_SYSTEM;
		} else if (p->delete_dir[i]) {
			rd.path = msg_bytes(p->deletes[i]);
			req.body_case = WHARF__ENVELOPE__BODY_RMDIR;
			req.rmdir = &rd;
			r = remote_simple(c, &req);
		} else {
			rm.path = msg_bytes(p->deletes[i]);
			rm.passcode = client_passcode(c);
			req.body_case = WHARF__ENVELOPE__BODY_REMOVE;
			req.remove = &rm;
			r = remote_simple(c, &req);
		}
		if (r != 0) {
			fprintf(stderr, "wharf: sync: delete %s: %s\n",
			    p->deletes[i],
			    o->download ? strerror(errno) : c->errmsg);
			failures++;
			if (c->lost)
				return EXIT_CONNECT;
		}
	}
	return failures ? EXIT_REMOTE : EXIT_OK;
}

static int
sync_run(
    struct client *c, struct sync_opts *o, const char *ltop, const char *rtop)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT;
	Wharf__MkdirReq mk = WHARF__MKDIR_REQ__INIT;
	struct manifest local = { 0 }, remote = { 0 };
	struct tree_walk lw = { &o->xo, "sync", manifest_visit, &local, 0 };
	struct tree_walk rw = { &o->xo, "sync", manifest_visit, &remote, 0 };
	struct plan p;
	struct stat st;
	size_t i;
	int r, status = EXIT_OK;

	memset(&p, 0, sizeof(p));
	if (stat(ltop, &st) != 0 || !S_ISDIR(st.st_mode)) {
		if (!o->download) {
			fprintf(
			    stderr, "wharf: sync: %s is not a folder\n", ltop);
			return EXIT_USAGE;
		}
		if (!o->dry_run && mkdir(ltop, 0755) != 0) {
			fprintf(stderr, "wharf: sync: mkdir %s: %s\n", ltop,
			    strerror(errno));
			return EXIT_REMOTE;
		}
	} else if ((r = tree_walk_local(&lw, ltop)) != 0) {
		fprintf(stderr, "wharf: sync: %s\n", wh_strerror(r));
		status = EXIT_REMOTE;
		goto out;
	}
	r = tree_walk_remote(&rw, c, rtop);
	if (r == WH_ERR_NOT_FOUND && !o->download) {
		/* A new destination: everything is to be sent. */
		if (!o->dry_run) {
			mk.path = msg_bytes(rtop);
			mk.parents = 1;
			req.body_case = WHARF__ENVELOPE__BODY_MKDIR;
			req.mkdir = &mk;
			if ((r = remote_simple(c, &req)) != 0) {
				fprintf(stderr, "wharf: sync: mkdir %s: %s\n",
				    rtop, c->errmsg);
				status = c->lost ? EXIT_CONNECT : EXIT_REMOTE;
				goto out;
			}
		}
		r = 0;
	}
	if (r != 0) {
		fprintf(stderr, "wharf: sync: %s: %s\n", rtop,
		    c->errmsg[0] ? c->errmsg : wh_strerror(r));
		status = c->lost ? EXIT_CONNECT : EXIT_REMOTE;
		goto out;
	}
	if (local.n > 0)
		qsort(local.v, local.n, sizeof(*local.v), entry_cmp);
	if (remote.n > 0)
		qsort(remote.v, remote.n, sizeof(*remote.v), entry_cmp);
	if ((r = make_plan(c, o, ltop, rtop, o->download ? &remote : &local,
	         o->download ? &local : &remote, &p)) != 0) {
		status = r == WH_ERR_IS_DIR ? EXIT_REMOTE : EXIT_REMOTE;
		goto out;
	}
	if (o->dry_run) {
		report_sync(
		    &o->xo, 1, p.nxfer, p.bytes, p.unchanged, p.ndelete, 1);
		goto out;
	}
	for (i = 0; i < p.nmkdir; i++) {
		if (o->download)
			r = mkdir(p.mkdirs[i], 0755) == 0 || errno == EEXIST ?
			    0 :
			    WH_ERR_SYSTEM;
		else {
			mk.path = msg_bytes(p.mkdirs[i]);
			mk.parents = 1;
			req.body_case = WHARF__ENVELOPE__BODY_MKDIR;
			req.mkdir = &mk;
			r = remote_simple(c, &req);
		}
		if (r != 0) {
			fprintf(stderr, "wharf: sync: mkdir %s: %s\n",
			    p.mkdirs[i],
			    o->download ? strerror(errno) : c->errmsg);
			status = c->lost ? EXIT_CONNECT : EXIT_REMOTE;
			goto out;
		}
	}
	if (p.nxfer > 0)
		status = transfer_pairs(
		    c, &o->xo, !o->download, p.locals, p.remotes, p.nxfer);
	/* What could not be listed is missing from the manifests: sync the
	 * rest, but delete nothing by an incomplete picture (as rsync
	 * skips deletion after an I/O error). */
	if (lw.failures + rw.failures > 0) {
		if (p.ndelete > 0)
			fprintf(stderr,
			    "wharf: sync: errors while listing; not "
			    "deleting\n");
		if (status == EXIT_OK)
			status = EXIT_REMOTE;
	}
	/* Deleting only after everything arrived: a failed sync never
	 * leaves the destination with less than it had. */
	if (status == EXIT_OK && p.ndelete > 0)
		status = apply_deletes(c, o, &p);
	report_sync(&o->xo, 0, p.nxfer, p.bytes, p.unchanged, p.ndelete,
	    status == EXIT_OK);
out:
	plan_free(&p);
	manifest_free(&local);
	manifest_free(&remote);
	return status;
}

/* Options of sync; returns the number of positional arguments in pos. */
static int
parse_sync(struct sync_opts *o, int argc, char **argv, int first, char **pos,
    int maxpos, struct client_opts *co, const char **target)
{
	int i, n = 0, r;

	for (i = first; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--download") == 0)
			o->download = 1;
		else if (strcmp(a, "--delete") == 0)
			o->delete = 1;
		else if (strcmp(a, "--dry-run") == 0 || strcmp(a, "-n") == 0)
			o->dry_run = 1;
		else if (strcmp(a, "--checksum") == 0 || strcmp(a, "-c") == 0)
			o->checksum = 1;
		else if (co != NULL &&
		    (r = client_parse_conn_opt(co, argc, argv, &i)) != 0) {
			if (r < 0)
				return -1;
		} else if (strcmp(a, "-q") == 0) {
			o->xo.quiet = 1;
			if (co != NULL)
				co->quiet = 1;
		} else if (a[0] == '-' && a[1] != '\0') {
			if ((r = transfer_parse_opt(&o->xo, argc, argv, &i)) <
			    0)
				return -1;
			if (r == 0) {
				fprintf(stderr,
				    "wharf: sync: unknown option "
				    "%s\n",
				    a);
				return -1;
			}
		} else if (target != NULL && *target == NULL)
			*target = a;
		else if (n < maxpos)
			pos[n++] = argv[i];
		else {
			fprintf(stderr, "wharf: sync: too many arguments\n");
			return -1;
		}
	}
	return n;
}

int
cli_sync(struct cli *cli, int argc, char **argv)
{
	struct sync_opts o;
	char *pos[2];
	int n;

	memset(&o, 0, sizeof(o));
	transfer_opts_init(&o.xo);
	o.xo.json = cli->json;
	if ((n = parse_sync(&o, argc, argv, 1, pos, 2, NULL, NULL)) != 2) {
		fprintf(stderr,
		    "wharf: usage: sync [--download] [--delete] "
		    "[--dry-run] [--checksum] LOCAL_DIR REMOTE_DIR\n");
		return EXIT_USAGE;
	}
	return sync_run(cli->c, &o, pos[0], pos[1]);
}

#define SYNC_USAGE \
	"usage: wharf sync LOCAL_DIR [USER@]HOST:REMOTE_DIR [options]\n" \
	"       wharf sync [USER@]HOST:REMOTE_DIR LOCAL_DIR [options]\n" \
	"       wharf sync [USER@]HOST[:PORT] LOCAL_DIR REMOTE_DIR " \
	"[--download] [options]\n"

int
sync_main(int argc, char **argv)
{
	struct client_target t;
	struct client_opts co;
	struct sync_opts o;
	struct client *c;
	char rpath[CLIENT_PATH_MAX], *pos[3], *local, *remote;
	int n, status;

	memset(&o, 0, sizeof(o));
	memset(&co, 0, sizeof(co));
	transfer_opts_init(&o.xo);
	if (argc > 1 &&
	    (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf(SYNC_USAGE
		    "                  [--delete] [--dry-run] [--checksum] "
		    "[--exclude PATTERN]... [transfer options]\n\n"
		    "Makes the destination equal to the source: with "
		    "HOST:REMOTE_DIR last, or\nwithout --download, the remote "
		    "folder; with HOST:REMOTE_DIR first, or\n--download, the "
		    "local one. New and changed files are sent, with deltas\n"
		    "against the old ones; unchanged files (same size and "
		    "mtime, or same\ncontent with --checksum) are skipped. "
		    "--delete removes files the source\nlacks, after all "
		    "transfers succeeded. --dry-run lists what would "
		    "change.\n\n%s",
		    CLIENT_CONN_OPTS_HELP);
		return EXIT_OK;
	}
	if ((n = parse_sync(&o, argc, argv, 1, pos, 3, &co, NULL)) < 0)
		return EXIT_USAGE;
	if (n == 2 && address_classify(pos[1]) == ADDRESS_REMOTE_PATH) {
		/* rsync's order: source first. */
		if (address_parse(pos[1], &t, rpath, sizeof(rpath)) != 0)
			return EXIT_USAGE;
		local = pos[0];
		remote = rpath;
	} else if (n == 2 && address_classify(pos[0]) == ADDRESS_REMOTE_PATH) {
		if (address_parse(pos[0], &t, rpath, sizeof(rpath)) != 0)
			return EXIT_USAGE;
		o.download = 1;
		local = pos[1];
		remote = rpath;
	} else if (n == 3) {
		if (client_target_parse(pos[0], &t) != 0)
			return EXIT_USAGE;
		local = pos[1];
		remote = pos[2];
	} else {
		fprintf(stderr, SYNC_USAGE);
		return EXIT_USAGE;
	}
	if (remote[0] == '\0')
		remote = (char *)(uintptr_t) ".";
	if (client_config_resolve(&t, &co, &o.xo) != 0)
		return EXIT_USAGE;
	if (sodium_init() < 0 || client_open(&t, &co, &c) != 0)
		return EXIT_CONNECT;
	status = sync_run(c, &o, local, remote);
	client_close(c);
	return status;
}
