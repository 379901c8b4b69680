/* SPDX-License-Identifier: MIT */
/*
 * Trees for get -r, put -r and sync: the local walk, the remote listing,
 * the excludes and the rule for names from the server, written once so
 * that every command refuses the same names and skips the same files.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wharf/cli.h"
#include "wharf/log.h"
#include "wharf/msg.h"
#include "wharf/tree.h"
#include "wharf/xfer.h"
#include "wharf/text.h"

char *
tree_join(const char *dir, const char *name)
{
	size_t n = strlen(dir), len = n + strlen(name) + 2;
	char *p;

	if ((p = malloc(len)) == NULL)
		return NULL;
	snprintf(p, len, "%s%s%s", dir, n == 0 || dir[n - 1] == '/' ? "" : "/",
	    name);
	return p;
}

const char *
tree_base(const char *path)
{
	const char *end = path + strlen(path), *s;

	while (end > path + 1 && end[-1] == '/')
		end--;
	for (s = end; s > path && s[-1] != '/'; s--)
		;
	return s;
}

int
tree_base_copy(const char *path, char *out, size_t outlen)
{
	const char *b = tree_base(path);
	size_t n = strcspn(b, "/");

	if (n == 0 || n >= outlen)
		return WH_ERR_INVALID_ARG;
	memcpy(out, b, n);
	out[n] = '\0';
	return 0;
}

int
tree_name_safe(const ProtobufCBinaryData *b, char *out, size_t outlen)
{
	size_t i;

	if (msg_text(b, out, outlen) != 0 || out[0] == '\0' ||
	    strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		return 0;
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f ||
		    out[i] == '/')
			return 0;
	return 1;
}

int
tree_skipped(const struct transfer_opts *o, const char *rel)
{
	const char *base = tree_base(rel);
	int i;

	/* Partials are transfer state, and reserved on the server. */
	if (xfer_partial_is(base, strlen(base)))
		return 1;
	for (i = 0; i < o->nexcludes; i++) {
		if (fnmatch(o->excludes[i], rel, 0) == 0)
			return 1;
		if (strchr(o->excludes[i], '/') == NULL &&
		    fnmatch(o->excludes[i], base, 0) == 0)
			return 1;
	}
	return 0;
}

static void
walk_failed(struct tree_walk *w, const char *path, const char *why)
{
	char clean[LOG_PEER_STR_MAX + 1];

	fprintf(stderr, "wharf: %s %s: %s\n", w->what,
	    text_clean(clean, sizeof(clean), path), why);
	w->failures++;
}

static void
not_regular(const struct tree_walk *w, const char *path)
{
	char clean[LOG_PEER_STR_MAX + 1];

	if (!w->o->quiet)
		fprintf(stderr,
		    "wharf: %s: skipping %s: not a regular file or "
		    "directory\n",
		    w->what, text_clean(clean, sizeof(clean), path));
}

static int
walk_local_dir(struct tree_walk *w, const char *dir, const char *rel, int depth)
{
	struct tree_entry e;
	struct dirent *de;
	struct stat st;
	char *path = NULL, *sub = NULL;
	DIR *d;
	int r = 0;

	if (depth > TREE_DEPTH_MAX) {
		walk_failed(w, dir, "too deep");
		return 0;
	}
	if ((d = opendir(dir)) == NULL) {
		walk_failed(w, dir, strerror(errno));
		return 0;
	}
	while (r == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		free(path);
		free(sub);
		path = tree_join(dir, de->d_name);
		sub = tree_join(rel, de->d_name);
		if (path == NULL || sub == NULL) {
			r = WH_ERR_NOMEM;
			break;
		}
		if (tree_skipped(w->o, sub))
			continue;
		if (lstat(path, &st) != 0) {
			walk_failed(w, path, strerror(errno));
			continue;
		}
		memset(&e, 0, sizeof(e));
		e.rel = sub;
		e.path = path;
		if (S_ISDIR(st.st_mode)) {
			e.dir = 1;
			if ((r = w->visit(w->arg, &e)) == 0)
				r = walk_local_dir(w, path, sub, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			e.size = (uint64_t)st.st_size;
			e.mtime_sec = st.st_mtim.tv_sec;
			e.mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
			r = w->visit(w->arg, &e);
		} else
			not_regular(w, path);
	}
	/* A folder read only in part must not look whole (sync deletes by
	 * what it did not see). */
	if (r == 0 && de == NULL && errno != 0)
		walk_failed(w, dir, strerror(errno));
	free(path);
	free(sub);
	closedir(d);
	return r;
}

/* Every walk visits its top first, as a folder with rel "". */
static int
visit_top(struct tree_walk *w, const char *top)
{
	struct tree_entry e;

	memset(&e, 0, sizeof(e));
	e.rel = "";
	e.path = top;
	e.dir = 1;
	return w->visit(w->arg, &e);
}

int
tree_walk_local(struct tree_walk *w, const char *top)
{
	int r;

	if ((r = visit_top(w, top)) != 0)
		return r;
	return walk_local_dir(w, top, "", 0);
}

struct remote_walk {
	struct tree_walk *w;
	const char *dir; /* the folder being listed */
	const char *rel; /* its path below the top */
	char **queue; /* rel of folders still to list */
	size_t nq;
	size_t capq;
	int err; /* the visitor's, or WH_ERR_NOMEM: ends the walk */
};

static int
queue_push(struct remote_walk *rw, char *rel)
{
	char **nq;

	if (rw->nq == rw->capq) {
		rw->capq = rw->capq ? rw->capq * 2 : 16;
		if ((nq = realloc(rw->queue, rw->capq * sizeof(*nq))) == NULL)
			return WH_ERR_NOMEM;
		rw->queue = nq;
	}
	rw->queue[rw->nq++] = rel;
	return 0;
}

static int
collect(void *arg, const Wharf__Envelope *part)
{
	struct remote_walk *rw = arg;
	struct tree_walk *w = rw->w;
	char name[WIRE_NAME_MAX + 1], clean[LOG_PEER_STR_MAX + 1];
	char dirclean[LOG_PEER_STR_MAX + 1], *rel, *path;
	const Wharf__FileInfo *fi;
	struct tree_entry e;
	size_t i;
	int r = 0;

	for (i = 0; i < part->list_part->n_entries && r == 0; i++) {
		fi = part->list_part->entries[i];
		if (!tree_name_safe(&fi->name, name, sizeof(name))) {
			/* Never let the server pick a path of ours. */
			fprintf(stderr,
			    "wharf: %s: refusing unsafe name \"%s\" from the "
			    "server in %s\n",
			    w->what, text_clean(clean, sizeof(clean), name),
			    text_clean(dirclean, sizeof(dirclean), rw->dir));
			w->failures++;
			continue;
		}
		rel = tree_join(rw->rel, name);
		path = tree_join(rw->dir, name);
		if (rel == NULL || path == NULL) {
			r = WH_ERR_NOMEM;
		} else if (tree_skipped(w->o, rel)) {
			;
		} else if (fi->type == WHARF__FILE_TYPE__TYPE_DIR ||
		    fi->type == WHARF__FILE_TYPE__TYPE_FILE) {
			memset(&e, 0, sizeof(e));
			e.rel = rel;
			e.path = path;
			e.dir = fi->type == WHARF__FILE_TYPE__TYPE_DIR;
			if (!e.dir) {
				e.size = fi->size;
				e.mtime_sec = fi->mtime_sec;
				e.mtime_nsec = fi->mtime_nsec;
			}
			if ((r = w->visit(w->arg, &e)) == 0 && e.dir &&
			    (r = queue_push(rw, rel)) == 0)
				rel = NULL;
		} else
			not_regular(w, path);
		free(rel);
		free(path);
	}
	if (r != 0)
		rw->err = r;
	return r;
}

int
tree_walk_remote(struct tree_walk *w, struct client *c, const char *top)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__ListReq lr = WHARF__LIST_REQ__INIT;
	struct remote_walk rw = { w, top, "", NULL, 0, 0, 0 };
	char *dir = NULL;
	size_t k;
	int r;

	if ((r = visit_top(w, top)) != 0)
		return r;
	/* The queue grows while it is read: parents are listed (and
	 * visited) before their children. */
	for (k = 0; r == 0 && (k == 0 || k <= rw.nq); k++) {
		free(dir);
		dir = NULL;
		rw.rel = k == 0 ? "" : rw.queue[k - 1];
		if (k > 0 && (dir = tree_join(top, rw.rel)) == NULL) {
			r = WH_ERR_NOMEM;
			break;
		}
		rw.dir = k == 0 ? top : dir;
		lr.path = msg_bytes(rw.dir);
		lr.all = 1;
		req.body_case = WHARF__ENVELOPE__BODY_LIST;
		req.list = &lr;
		r = client_call(c, &req, &resp, collect, &rw);
		if (r == 0 &&
		    resp->body_case == WHARF__ENVELOPE__BODY_LIST_PART)
			r = collect(&rw, resp);
		msg_free(resp);
		resp = NULL;
		if (rw.err != 0)
			r = rw.err;
		else if (r != 0 && k > 0 && !c->lost) {
			walk_failed(w, rw.dir,
			    c->errmsg[0] ? c->errmsg : wh_strerror(r));
			r = 0;
		}
	}
	free(dir);
	for (k = 0; k < rw.nq; k++)
		free(rw.queue[k]);
	free(rw.queue);
	return r;
}
