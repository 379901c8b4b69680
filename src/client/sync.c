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
#include "wharf/syncopts.h"
#include "wharf/text.h"
#include "wharf/transfer.h"
#include "wharf/tree.h"
#include "wharf/treemeta.h"
#include "wharf/xfer.h"

/* What --delete does with an entry the source lacks. */
#define SYNC_DELETE_FILE 0
#define SYNC_DELETE_DIR 1
#define SYNC_DELETE_BACKUP 2 /* a file or link, with --backup */

struct entry {
	char *rel;
	int dir;
	uint64_t size;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	uint32_t mode;
	char *target; /* a symbolic link's target ("" if unsafe), else NULL */
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
	int itemize; /* -i: one line per change */
	int json; /* changes and the summary as JSON objects */
	int delete_excluded; /* excluded names at the destination go too */
	int backup; /* what is overwritten or deleted moves aside */
	const char *backup_dir; /* there (NULL: NAME~ beside it) */
	struct sync_filter filter; /* --include, --exclude, --exclude-from */
	struct tree_meta tm; /* links and attributes after the files */
	struct transfer_opts xo;
};

static void
manifest_free(struct manifest *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].rel);
		free(m->v[i].target);
	}
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
	m->v[m->n].mode = 0;
	m->v[m->n].target = NULL;
	m->n++;
	return 0;
}

/* The last entry added gets its mode, and a link's target (copied). */
static int
manifest_last(struct manifest *m, uint32_t mode, const char *target)
{
	struct entry *e = &m->v[m->n - 1];

	e->mode = mode & 0777;
	if (target != NULL && (e->target = strdup(target)) == NULL)
		return WH_ERR_NOMEM;
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

/*
 * Whether rel is left out besides partials (which the walker leaves out
 * itself): the backups of --backup, and the filter rules (not at the
 * destination with --delete-excluded, so that what they exclude there is
 * deleted).
 */
static int
skipped_name(const struct sync_opts *o, const char *name, const char *rel,
    int is_dir, int dest)
{
	size_t n;

	if (o->backup && o->backup_dir == NULL && dest) {
		n = strlen(name);
		if (n >= strlen(SYNC_BACKUP_SUFFIX) &&
		    strcmp(name + n - strlen(SYNC_BACKUP_SUFFIX),
		        SYNC_BACKUP_SUFFIX) == 0)
			return 1;
	}
	if (o->backup_dir != NULL && o->backup_dir[0] != '/') {
		n = strlen(o->backup_dir);
		while (n > 0 && o->backup_dir[n - 1] == '/')
			n--;
		if (strncmp(rel, o->backup_dir, n) == 0 &&
		    (rel[n] == '\0' || rel[n] == '/'))
			return 1;
	}
	if (dest && o->delete_excluded)
		return 0;
	return sync_filter_excluded(&o->filter, rel, name, is_dir);
}

/* A walk of one side into its manifest. */
struct manifest_walk {
	struct sync_opts *o;
	struct manifest *m;
	int dest; /* the destination's tree */
	struct tree_entry top; /* the top's attributes (top.attrs) */
};

/* Adds what a walk finds to the manifest; the top is kept aside. */
static int
manifest_visit(void *arg, const struct tree_entry *e)
{
	struct manifest_walk *mw = arg;
	int r;

	if (e->rel[0] == '\0') {
		mw->top = *e;
		return 0;
	}
	if ((r = manifest_add(mw->m, e->rel, e->dir, e->size, e->mtime_sec,
	         e->mtime_nsec)) != 0)
		return r;
	return manifest_last(mw->m, e->mode, e->target);
}

static int
manifest_skip(void *arg, const char *rel, const char *name, int dir)
{
	struct manifest_walk *mw = arg;

	return skipped_name(mw->o, name, rel, dir, mw->dest);
}

/* A tree_walk of one side: a source's links as -l/-L say, and its
 * skipped links and special files counted in the tree's summary. */
static void
manifest_walk_init(struct tree_walk *w, struct manifest_walk *mw,
    struct sync_opts *o, struct manifest *m, int dest)
{
	memset(mw, 0, sizeof(*mw));
	mw->o = o;
	mw->m = m;
	mw->dest = dest;
	memset(w, 0, sizeof(*w));
	w->o = &o->xo;
	w->what = "sync";
	w->visit = manifest_visit;
	w->arg = mw;
	w->links = o->xo.links;
	w->dest = dest;
	w->tm = dest ? NULL : &o->tm;
	w->skip = manifest_skip;
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
	char **backups; /* --backup: destination paths to move aside first */
	char **backup_rels; /* ... and their paths below the top */
	size_t nbackup;
	char **unlinks; /* remote links a file or link replaces */
	size_t nunlink;
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
	for (i = 0; i < p->nbackup; i++) {
		free(p->backups[i]);
		free(p->backup_rels[i]);
	}
	for (i = 0; i < p->nunlink; i++)
		free(p->unlinks[i]);
	free(p->backups);
	free(p->backup_rels);
	free(p->unlinks);
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

/* Why file e differs from d (0: it does not). */
static unsigned
file_changes(struct client *c, const struct sync_opts *o, const struct entry *e,
    const struct entry *d, const char *sp, const char *dp)
{
	unsigned why = 0;

	if (d == NULL)
		return SYNC_WHY_NEW;
	if (d->target != NULL)
		return SYNC_WHY_TYPE; /* a link becomes a file */
	if (d->size != e->size)
		why |= SYNC_WHY_SIZE;
	if (d->mtime_sec != e->mtime_sec || d->mtime_nsec != e->mtime_nsec)
		why |= SYNC_WHY_TIME;
	/* --checksum: the content decides, as in rsync -c; a file equal
	 * but for its mtime only gets the mtime. */
	if (o->checksum && !(why & SYNC_WHY_SIZE) &&
	    !same_content(
	        c, o->download ? dp : sp, o->download ? sp : dp, o->xo.alg))
		why |= SYNC_WHY_CONTENT;
	return why;
}

static void
plan_item(const struct sync_opts *o, char type, unsigned why, const char *rel,
    const char *what)
{
	if (o->itemize || o->json)
		sync_itemize(stdout, o->json, o->download, type, why, rel);
	else if (o->dry_run && (why & SYNC_WHY_DELETED))
		printf("delete %s%s\n", rel, type == 'd' ? "/" : "");
	else if (o->dry_run && what != NULL)
		printf("%s %s%s\n", what, rel,
		    (why & SYNC_WHY_NEW) ? " (new)" : " (changed)");
}

/* Compares src (what should be) with dst (what is). */
static int
make_plan(struct client *c, struct sync_opts *o, const char *ltop,
    const char *rtop, const struct manifest *src, struct manifest *dst,
    struct plan *p)
{
	const char *stop = o->download ? rtop : ltop;
	const char *dtop = o->download ? ltop : rtop;
	const struct entry *e, *d;
	struct manifest extra = { 0 };
	char *sp = NULL, *dp = NULL;
	size_t i;
	int r = 0;
	unsigned why;

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
			if (d == NULL || !d->dir) {
				plan_item(o, 'd', SYNC_WHY_NEW, e->rel, NULL);
				r = push_str(&p->mkdirs, &p->nmkdir, dp);
			}
			/* Its mode and mtime, once its contents are in. */
			if (r == 0)
				r = tree_meta_add_dir(&o->tm, dp, e->mode,
				    e->mtime_sec, e->mtime_nsec);
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
		if (e->target != NULL) {
			/* -l: a link, made (or replaced) after the files. */
			if (d != NULL && d->target != NULL &&
			    strcmp(d->target, e->target) == 0) {
				p->unchanged++;
				continue;
			}
			plan_item(o, 'L',
			    d == NULL ? SYNC_WHY_NEW : SYNC_WHY_TYPE, e->rel,
			    "link");
			if (d != NULL && o->backup &&
			    ((r = push_str(&p->backups, &p->nbackup, dp)) !=
			            0 ||
			        (p->nbackup--,
			            (r = push_str(&p->backup_rels, &p->nbackup,
			                 e->rel)) != 0)))
				break;
			r = tree_meta_add_link(&o->tm, dp, e->target);
			continue;
		}
		why = file_changes(c, o, e, d, sp, dp);
		if (why == 0 || why == SYNC_WHY_TIME * (o->checksum != 0)) {
			p->unchanged++;
			/* Same content, other mtime (--checksum): the
			 * mtime alone is brought over. */
			if (why != 0)
				r = tree_meta_add_dir(&o->tm, dp, e->mode,
				    e->mtime_sec, e->mtime_nsec);
			continue;
		}
		plan_item(o, 'f', why, e->rel, o->download ? "get" : "put");
		if (d != NULL && d->target != NULL && !o->download &&
		    (r = push_str(&p->unlinks, &p->nunlink, dp)) != 0)
			break;
		if (d != NULL && o->backup && d->target == NULL) {
			if ((r = push_str(&p->backups, &p->nbackup, dp)) != 0)
				break;
			p->nbackup--;
			if ((r = push_str(
			         &p->backup_rels, &p->nbackup, e->rel)) != 0)
				break;
		}
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
		if (manifest_find(src, dst->v[i].rel) == NULL) {
			r = manifest_add(
			    &extra, dst->v[i].rel, dst->v[i].dir, 0, 0, 0);
			if (r == 0 && dst->v[i].target != NULL)
				r = manifest_last(&extra, 0, "");
		}
	if (extra.n > 0)
		qsort(extra.v, extra.n, sizeof(*extra.v), depth_cmp);
	for (i = 0; i < extra.n && r == 0; i++) {
		if ((dp = tree_join(dtop, extra.v[i].rel)) == NULL) {
			r = WH_ERR_NOMEM;
			break;
		}
		plan_item(o,
		    extra.v[i].dir        ? 'd' :
		        extra.v[i].target ? 'L' :
		                            'f',
		    SYNC_WHY_DELETED, extra.v[i].rel, "delete");
		r = push_str(&p->deletes, &p->ndelete, dp);
		free(dp);
		if (r == 0) {
			int *nd =
			    realloc(p->delete_dir, p->ndelete * sizeof(*nd));

			if (nd == NULL)
				r = WH_ERR_NOMEM;
			else {
				p->delete_dir = nd;
				/* --backup: files and links move aside
				 * instead of going (SYNC_DELETE_BACKUP). */
				nd[p->ndelete - 1] = extra.v[i].dir ?
				    SYNC_DELETE_DIR :
				    o->backup ? SYNC_DELETE_BACKUP :
				                SYNC_DELETE_FILE;
			}
		}
	}
	manifest_free(&extra);
	return r;
}

/* mkdir -p of path's parent folder, here. */
static int
local_parents(const char *path)
{
	char *p = strdup(path), *slash;
	int r = 0;

	if (p == NULL)
		return WH_ERR_NOMEM;
	for (slash = strchr(p + 1, '/'); slash != NULL && r == 0;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			r = WH_ERR_SYSTEM;
		*slash = '/';
	}
	free(p);
	return r;
}

/*
 * --backup: moves the destination's path (rel below its top) aside, into
 * --backup-dir or to NAME~, replacing an older backup. On the server that
 * is a rename inside the user's root.
 */
static int
backup_one(struct client *c, const struct sync_opts *o, const char *dtop,
    const char *path, const char *rel)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT;
	Wharf__RenameReq mv = WHARF__RENAME_REQ__INIT;
	Wharf__RemoveReq rm = WHARF__REMOVE_REQ__INIT;
	Wharf__MkdirReq mk = WHARF__MKDIR_REQ__INIT;
	char *bp = sync_backup_path(dtop, o->backup_dir, rel), *dir;
	int r;

	if (bp == NULL)
		return WH_ERR_NOMEM;
	if (o->download) {
		r = local_parents(bp) == 0 && rename(path, bp) == 0 ?
		    0 :
		    WH_ERR_SYSTEM;
		if (r != 0)
			fprintf(stderr, "wharf: sync: backup %s to %s: %s\n",
			    path, bp, strerror(errno));
		free(bp);
		return r;
	}
	if ((dir = strdup(bp)) == NULL) {
		free(bp);
		return WH_ERR_NOMEM;
	}
	*strrchr(dir, '/') = '\0'; /* bp has one: made by join */
	mk.path = msg_bytes(dir[0] ? dir : "/");
	mk.parents = 1;
	req.body_case = WHARF__ENVELOPE__BODY_MKDIR;
	req.mkdir = &mk;
	r = remote_simple(c, &req);
	free(dir);
	mv.from = msg_bytes(path);
	mv.to = msg_bytes(bp);
	mv.passcode = client_passcode(c);
	req.body_case = WHARF__ENVELOPE__BODY_RENAME;
	req.rename = &mv;
	if (r == 0 && (r = remote_simple(c, &req)) == WH_ERR_EXISTS) {
		/* The server never replaces on rename: the older backup
		 * goes first, as rsync overwrites it. */
		rm.path = msg_bytes(bp);
		rm.passcode = client_passcode(c);
		req.body_case = WHARF__ENVELOPE__BODY_REMOVE;
		req.remove = &rm;
		if ((r = remote_simple(c, &req)) == 0) {
			req.body_case = WHARF__ENVELOPE__BODY_RENAME;
			req.rename = &mv;
			r = remote_simple(c, &req);
		}
	}
	if (r != 0)
		fprintf(stderr, "wharf: sync: backup %s to %s: %s\n", path, bp,
		    c->errmsg);
	free(bp);
	return r;
}

static int
apply_deletes(struct client *c, const struct sync_opts *o, const char *dtop,
    const struct plan *p)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT;
	Wharf__RemoveReq rm = WHARF__REMOVE_REQ__INIT;
	Wharf__RmdirReq rd = WHARF__RMDIR_REQ__INIT;
	size_t i;
	int r, failures = 0, dir;

	for (i = 0; i < p->ndelete; i++) {
		dir = p->delete_dir[i] == SYNC_DELETE_DIR;
		if (p->delete_dir[i] == SYNC_DELETE_BACKUP) {
			if (backup_one(c, o, dtop, p->deletes[i],
			        p->deletes[i] + strlen(dtop) + 1) != 0) {
				failures++;
				if (c->lost)
					return EXIT_CONNECT;
			}
			continue;
		}
		if (o->download) {
			r = dir ? rmdir(p->deletes[i]) : unlink(p->deletes[i]);
			r = r == 0 ? 0 : WH_ERR_SYSTEM;
		} else if (dir) {
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
	Wharf__RemoveReq rm = WHARF__REMOVE_REQ__INIT;
	struct manifest local = { 0 }, remote = { 0 };
	const char *dtop = o->download ? ltop : rtop;
	struct manifest_walk lmw, rmw;
	struct tree_walk lw, rw;
	const struct tree_entry *top;
	struct report_sync rs;
	struct plan p;
	struct stat st;
	size_t i;
	int r, status = EXIT_OK, planned = 0;

	memset(&p, 0, sizeof(p));
	manifest_walk_init(&lw, &lmw, o, &local, o->download);
	manifest_walk_init(&rw, &rmw, o, &remote, !o->download);
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
	/* The top's own mode and mtime, from the source: recorded first, so
	 * set last. */
	top = o->download ? &rmw.top : &lmw.top;
	if ((top->attrs &&
	        (r = tree_meta_add_dir(&o->tm, dtop, top->mode, top->mtime_sec,
	             top->mtime_nsec)) != 0) ||
	    (r = make_plan(c, o, ltop, rtop, o->download ? &remote : &local,
	         o->download ? &local : &remote, &p)) != 0) {
		status = EXIT_REMOTE;
		goto out;
	}
	planned = 1;
	if (o->dry_run)
		goto out;
	/* What would be overwritten moves aside first (so a changed file
	 * goes whole: its old copy is no longer there to be a basis). */
	for (i = 0; i < p.nbackup && status == EXIT_OK; i++)
		if (backup_one(c, o, dtop, p.backups[i], p.backup_rels[i]) != 0)
			status = c->lost ? EXIT_CONNECT : EXIT_REMOTE;
	/* A link a file replaces on the server: an upload would follow it. */
	for (i = 0; i < p.nunlink && status == EXIT_OK; i++) {
		rm.path = msg_bytes(p.unlinks[i]);
		req.body_case = WHARF__ENVELOPE__BODY_REMOVE;
		req.remove = &rm;
		if (remote_simple(c, &req) != 0) {
			fprintf(stderr, "wharf: sync: remove link %s: %s\n",
			    p.unlinks[i], c->errmsg);
			status = c->lost ? EXIT_CONNECT : EXIT_REMOTE;
		}
	}
	if (status != EXIT_OK)
		goto out;
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
		status = apply_deletes(c, o, dtop, &p);
	/* Links, then folder modes and mtimes, deepest first. */
	if (status == EXIT_OK || status == EXIT_REMOTE) {
		if (o->download)
			tree_meta_apply_local(&o->tm, "sync", !o->xo.no_perms);
		else if (tree_meta_apply_remote(
		             c, &o->tm, "sync", !o->xo.no_perms) != 0)
			status = EXIT_CONNECT;
	}
out:
	status = tree_meta_status(&o->tm, status);
	if (planned) {
		memset(&rs, 0, sizeof(rs));
		rs.dry_run = o->dry_run;
		rs.files = p.nxfer;
		rs.bytes = p.bytes;
		rs.unchanged = p.unchanged;
		rs.deleted = p.ndelete;
		rs.skipped = o->tm.skipped;
		rs.status = status;
		report_sync(&o->xo, &rs);
	}
	tree_meta_summary(&o->tm, "sync");
	plan_free(&p);
	manifest_free(&local);
	manifest_free(&remote);
	return status;
}

/* The value of "--opt V" or "--opt=V" at argv[*i], or NULL. */
static const char *
sync_value(const char *name, int argc, char **argv, int *i)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

/* Whether argv[*i] is "--opt" or "--opt=...". */
static int
is_sync_opt(const char *a, const char *name)
{
	size_t n = strlen(name);

	return strncmp(a, name, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

/*
 * The options whose order matters (--include, --exclude and the files of
 * patterns, first match wins) and --backup-dir. 1 if argv[*i] was one,
 * 0 if not, -1 after a message.
 */
static int
parse_sync_filter(struct sync_opts *o, int argc, char **argv, int *i)
{
	static const struct {
		const char *name;
		int include;
		int file;
	} rules[] = {
		{ "--exclude-from", 0, 1 },
		{ "--include-from", 1, 1 },
		{ "--exclude", 0, 0 },
		{ "--include", 1, 0 },
	};
	const char *a = argv[*i], *v;
	size_t k;

	for (k = 0; k < sizeof(rules) / sizeof(rules[0]); k++) {
		if (!is_sync_opt(a, rules[k].name))
			continue;
		if ((v = sync_value(rules[k].name, argc, argv, i)) == NULL) {
			fprintf(stderr, "wharf: sync: %s needs a value\n", a);
			return -1;
		}
		if ((rules[k].file ?
		            sync_filter_load(&o->filter, v, rules[k].include) :
		            sync_filter_add(&o->filter, v, rules[k].include)) !=
		    0)
			return -1;
		return 1;
	}
	if (is_sync_opt(a, "--backup-dir")) {
		if ((v = sync_value("--backup-dir", argc, argv, i)) == NULL ||
		    v[0] == '\0') {
			fprintf(stderr,
			    "wharf: sync: --backup-dir needs a "
			    "folder\n");
			return -1;
		}
		o->backup_dir = v;
		o->backup = 1; /* as rsync: the folder implies --backup */
		return 1;
	}
	return 0;
}

static void
sync_opts_init(struct sync_opts *o)
{
	memset(o, 0, sizeof(*o));
	transfer_opts_init(&o->xo);
	tree_meta_init(&o->tm);
}

static void
sync_opts_cleanup(struct sync_opts *o)
{
	sync_filter_cleanup(&o->filter);
	tree_meta_cleanup(&o->tm);
}

/* Options of sync; returns the number of positional arguments in pos. */
static int
parse_sync(struct sync_opts *o, int argc, char **argv, int first, char **pos,
    int maxpos, struct client_opts *co, const char **target)
{
	int i, n = 0, r;

	for (i = first; i < argc; i++) {
		const char *a = argv[i];

		if ((r = parse_sync_filter(o, argc, argv, &i)) != 0) {
			if (r < 0)
				return -1;
		} else if (strcmp(a, "--download") == 0)
			o->download = 1;
		else if (strcmp(a, "--delete") == 0)
			o->delete = 1;
		else if (strcmp(a, "--dry-run") == 0 || strcmp(a, "-n") == 0)
			o->dry_run = 1;
		else if (strcmp(a, "--checksum") == 0 || strcmp(a, "-c") == 0)
			o->checksum = 1;
		else if (strcmp(a, "--itemize-changes") == 0)
			o->itemize = 1; /* -i stays the identity file */
		else if (strcmp(a, "--json") == 0)
			o->json = o->xo.json = 1;
		else if (strcmp(a, "--delete-excluded") == 0)
			o->delete = o->delete_excluded = 1; /* as rsync */
		else if (strcmp(a, "--backup") == 0 || strcmp(a, "-b") == 0)
			o->backup = 1;
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
	int n, status;

	sync_opts_init(&o);
	o.xo.json = o.json = cli->json;
	n = parse_sync(&o, argc, argv, 1, pos, 2, NULL, NULL);
	o.tm.json = o.json;
	if (n != 2) {
		fprintf(stderr,
		    "wharf: usage: sync [--download] [--delete] "
		    "[--dry-run] [--checksum] [--itemize-changes] [options] "
		    "LOCAL_DIR "
		    "REMOTE_DIR\n");
		sync_opts_cleanup(&o);
		return EXIT_USAGE;
	}
	status = sync_run(cli->c, &o, pos[0], pos[1]);
	sync_opts_cleanup(&o);
	return status;
}

#define SYNC_USAGE \
	"usage: wharf sync LOCAL_DIR [USER@]HOST:REMOTE_DIR [options]\n" \
	"       wharf sync [USER@]HOST:REMOTE_DIR LOCAL_DIR [options]\n" \
	"       wharf sync [USER@]HOST[:PORT] LOCAL_DIR REMOTE_DIR " \
	"[--download] [options]\n"

#define SYNC_OPTS_HELP \
	"  --delete           remove what the source lacks (after all " \
	"transfers)\n" \
	"  --delete-excluded  also remove what the filters exclude " \
	"(implies --delete)\n" \
	"  -n, --dry-run      say what would change, change nothing\n" \
	"  -c, --checksum     compare contents, not size and mtime\n" \
	"  --itemize-changes  one line per change, as rsync -i (see " \
	"wharf(1))\n" \
	"  --json             changes and the summary as JSON objects\n" \
	"  --include PATTERN  keep what matches (first matching rule " \
	"wins)\n" \
	"  --exclude PATTERN  leave out what matches\n" \
	"  --exclude-from FILE, --include-from FILE  one pattern a line\n" \
	"  -b, --backup       move what is overwritten or deleted to " \
	"NAME~\n" \
	"  --backup-dir DIR   ... into DIR instead (below the destination " \
	"if relative)\n" \
	"  -l, --links        keep symbolic links as links (where safe)\n" \
	"  -L, --copy-links   transfer what links point to\n" \
	"  -p, --perms        keep modes (the default); --no-perms: do " \
	"not\n" \
	"  --bwlimit RATE     limit the bandwidth (KiB/s, or 500K, 2M)\n"

int
sync_main(int argc, char **argv)
{
	struct client_target t;
	struct client_opts co;
	struct sync_opts o;
	struct client *c;
	char rpath[CLIENT_PATH_MAX], *pos[3], *local, *remote;
	int n, status = EXIT_USAGE;

	sync_opts_init(&o);
	memset(&co, 0, sizeof(co));
	if (argc > 1 &&
	    (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf(SYNC_USAGE
		    "\n"
		    "Makes the destination equal to the source: with "
		    "HOST:REMOTE_DIR last, or\nwithout --download, the remote "
		    "folder; with HOST:REMOTE_DIR first, or\n--download, the "
		    "local one. New and changed files are sent, with deltas\n"
		    "against the old ones; unchanged files (same size and "
		    "mtime, or same\ncontent with --checksum) are skipped; "
		    "folder modes and mtimes follow.\nSkipped symbolic links "
		    "are listed and the exit status is 23.\n\n%s"
		    "  (and the transfer options of get and put)\n%s",
		    SYNC_OPTS_HELP, CLIENT_CONN_OPTS_HELP);
		sync_opts_cleanup(&o);
		return EXIT_OK;
	}
	if ((n = parse_sync(&o, argc, argv, 1, pos, 3, &co, NULL)) < 0)
		goto out;
	o.tm.json = o.json;
	if (n == 2 && address_classify(pos[1]) == ADDRESS_REMOTE_PATH) {
		/* rsync's order: source first. */
		if (address_parse(pos[1], &t, rpath, sizeof(rpath)) != 0)
			goto out;
		local = pos[0];
		remote = rpath;
	} else if (n == 2 && address_classify(pos[0]) == ADDRESS_REMOTE_PATH) {
		if (address_parse(pos[0], &t, rpath, sizeof(rpath)) != 0)
			goto out;
		o.download = 1;
		local = pos[1];
		remote = rpath;
	} else if (n == 3) {
		if (client_target_parse(pos[0], &t) != 0)
			goto out;
		local = pos[1];
		remote = pos[2];
	} else {
		fprintf(stderr, SYNC_USAGE);
		goto out;
	}
	if (remote[0] == '\0')
		remote = (char *)(uintptr_t) ".";
	if (client_config_resolve(&t, &co, &o.xo) != 0)
		goto out;
	status = EXIT_CONNECT;
	if (sodium_init() < 0 || client_open(&t, &co, &c) != 0)
		goto out;
	status = sync_run(c, &o, local, remote);
	client_close(c);
out:
	sync_opts_cleanup(&o);
	return status;
}
