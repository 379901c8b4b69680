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
#include <unistd.h>

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

static int
walk_skips(
    const struct tree_walk *w, const char *rel, const char *name, int dir)
{
	if (w->skip != NULL)
		return xfer_partial_is(name, strlen(name)) ||
		    w->skip(w->arg, rel, name, dir);
	return tree_skipped(w->o, rel);
}

/* A source's link left out: counted, so that the tree's exit status says
 * it is incomplete. */
static void
link_skipped(struct tree_walk *w, const char *path, const char *why)
{
	if (w->tm != NULL)
		tree_meta_skip(w->tm, w->what, path, why);
	else
		walk_failed(w, path, why);
}

static void
not_regular(struct tree_walk *w, const char *path)
{
	char clean[LOG_PEER_STR_MAX + 1];

	if (w->dest)
		return; /* not ours to move: nothing is missing */
	if (w->tm != NULL) {
		tree_meta_skip_special(w->tm, w->what, path);
		return;
	}
	if (!w->o->quiet)
		fprintf(stderr,
		    "wharf: %s: skipping %s: not a regular file or "
		    "directory\n",
		    w->what, text_clean(clean, sizeof(clean), path));
}

static void
entry_attrs(struct tree_entry *e, const struct stat *st)
{
	e->attrs = 1;
	e->mode = st->st_mode & 0777;
	e->mtime_sec = st->st_mtim.tv_sec;
	e->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	if (S_ISREG(st->st_mode))
		e->size = (uint64_t)st->st_size;
}

/*
 * A local symbolic link: 1 when it was dealt with (visited as a link into
 * *r, or skipped), 0 with *st now what it points to (-L).
 */
static int
local_link(struct tree_walk *w, struct tree_entry *e, struct stat *st,
    int depth, int *r)
{
	char target[PATH_MAX];
	ssize_t n;

	*r = 0;
	if (!w->dest && w->links == TREE_LINKS_FOLLOW) {
		if (stat(e->path, st) != 0) {
			/* The kernel's own loop limit (40 links a path) can
			 * come before TREE_DEPTH_MAX. */
			link_skipped(w, e->path,
			    errno == ELOOP ?
			        "links nest too deep (a link loop?)" :
			        "it points to nothing (a broken link)");
			return 1;
		}
		if (S_ISDIR(st->st_mode) && depth >= TREE_DEPTH_MAX) {
			link_skipped(
			    w, e->path, "folders nest too deep (a link loop?)");
			return 1;
		}
		return 0;
	}
	if (!w->dest && w->links != TREE_LINKS_KEEP) {
		link_skipped(w, e->path, "not followed without -L or -l");
		return 1;
	}
	if ((n = readlink(e->path, target, sizeof(target) - 1)) < 0) {
		link_skipped(w, e->path, strerror(errno));
		return 1;
	}
	target[n] = '\0';
	entry_attrs(e, st);
	e->mode = 0777;
	e->target = target;
	*r = w->visit(w->arg, e);
	return 1;
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
		if (lstat(path, &st) != 0) {
			walk_failed(w, path, strerror(errno));
			continue;
		}
		if (walk_skips(w, sub, de->d_name, S_ISDIR(st.st_mode)))
			continue;
		memset(&e, 0, sizeof(e));
		e.rel = sub;
		e.path = path;
		if (S_ISLNK(st.st_mode) && local_link(w, &e, &st, depth, &r))
			continue;
		if (S_ISDIR(st.st_mode)) {
			e.dir = 1;
			entry_attrs(&e, &st);
			if ((r = w->visit(w->arg, &e)) == 0)
				r = walk_local_dir(w, path, sub, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			entry_attrs(&e, &st);
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

/* Every walk visits its top first, as a folder with rel "" (and its
 * attributes where known). */
static int
visit_top(struct tree_walk *w, const char *top, const struct stat *st)
{
	struct tree_entry e;

	memset(&e, 0, sizeof(e));
	if (st != NULL)
		entry_attrs(&e, st);
	e.rel = "";
	e.path = top;
	e.dir = 1;
	return w->visit(w->arg, &e);
}

int
tree_walk_local(struct tree_walk *w, const char *top)
{
	struct stat st;
	int r;

	if ((r = visit_top(w, top, stat(top, &st) == 0 ? &st : NULL)) != 0)
		return r;
	return walk_local_dir(w, top, "", 0);
}

struct remote_walk {
	struct tree_walk *w;
	struct client *c;
	const char *dir; /* the folder being listed */
	const char *rel; /* its path below the top */
	char **queue; /* rel of folders still to list */
	size_t nq;
	size_t capq;
	char **follow; /* -L: rel of the listing's links, to stat after it */
	size_t nfollow;
	size_t capfollow;
	int err; /* the visitor's, or WH_ERR_NOMEM: ends the walk */
};

static int
push_str(char ***v, size_t *n, size_t *cap, char *s)
{
	char **nv;

	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;

		if ((nv = realloc(*v, ncap * sizeof(*nv))) == NULL)
			return WH_ERR_NOMEM;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = s;
	return 0;
}

static int
depth_of(const char *rel)
{
	int depth = 0;

	for (; *rel != '\0'; rel++)
		depth += *rel == '/';
	return depth;
}

static void
info_attrs(struct tree_entry *e, const Wharf__FileInfo *fi)
{
	e->attrs = 1;
	e->mode = fi->mode & 0777;
	e->mtime_sec = fi->mtime_sec;
	e->mtime_nsec = fi->mtime_nsec;
	e->dir = fi->type == WHARF__FILE_TYPE__TYPE_DIR;
	if (fi->type == WHARF__FILE_TYPE__TYPE_FILE)
		e->size = fi->size;
}

/* A folder or file: visited, and a folder queued to be listed. *rel is
 * taken by the queue (set to NULL) when it is. */
static int
visit_remote(struct remote_walk *rw, struct tree_entry *e, char **rel)
{
	int r;

	if ((r = rw->w->visit(rw->w->arg, e)) == 0 && e->dir &&
	    (r = push_str(&rw->queue, &rw->nq, &rw->capq, *rel)) == 0)
		*rel = NULL;
	return r;
}

/* A remote symbolic link (see struct tree_walk's links). */
static int
remote_link(struct remote_walk *rw, const Wharf__FileInfo *fi,
    struct tree_entry *e, char **rel)
{
	struct tree_walk *w = rw->w;
	char target[WIRE_PATH_MAX + 1] = "", *dup;

	if (!w->dest && w->links == TREE_LINKS_FOLLOW) {
		if ((dup = strdup(*rel)) == NULL)
			return WH_ERR_NOMEM;
		if (push_str(&rw->follow, &rw->nfollow, &rw->capfollow, dup) !=
		    0) {
			free(dup);
			return WH_ERR_NOMEM;
		}
		return 0;
	}
	if (!w->dest && w->links != TREE_LINKS_KEEP) {
		link_skipped(w, e->path, "not followed without -L or -l");
		return 0;
	}
	if (fi->link_target.len > 0 &&
	    msg_text(&fi->link_target, target, sizeof(target)) != 0)
		target[0] = '\0';
	/* Never make a link here that leads out of what we were given. */
	if (!w->dest && (target[0] == '\0' || !tree_link_safe(*rel, target))) {
		link_skipped(
		    w, e->path, "unsafe: its target leads out of the tree");
		return 0;
	}
	info_attrs(e, fi);
	e->dir = 0;
	e->mode = 0777;
	e->target = target;
	return w->visit(w->arg, e);
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
		memset(&e, 0, sizeof(e));
		e.rel = rel;
		e.path = path;
		if (rel == NULL || path == NULL) {
			r = WH_ERR_NOMEM;
		} else if (walk_skips(w, rel, name,
		               fi->type == WHARF__FILE_TYPE__TYPE_DIR)) {
			;
		} else if (fi->type == WHARF__FILE_TYPE__TYPE_DIR ||
		    fi->type == WHARF__FILE_TYPE__TYPE_FILE) {
			info_attrs(&e, fi);
			r = visit_remote(rw, &e, &rel);
		} else if (fi->type == WHARF__FILE_TYPE__TYPE_SYMLINK) {
			r = remote_link(rw, fi, &e, &rel);
		} else
			not_regular(w, path);
		free(rel);
		free(path);
	}
	if (r != 0)
		rw->err = r;
	return r;
}

/* What a path on the server is (StatReq follows links): the reply, which
 * the caller frees, or NULL with the error in *r. */
static Wharf__Envelope *
remote_stat(struct client *c, const char *path, int *r)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__StatReq st = WHARF__STAT_REQ__INIT;

	st.path = msg_bytes(path);
	req.body_case = WHARF__ENVELOPE__BODY_STAT;
	req.stat = &st;
	if ((*r = client_call(c, &req, &resp, NULL, NULL)) == 0 &&
	    resp->body_case != WHARF__ENVELOPE__BODY_STAT_REPLY) {
		msg_free(resp);
		resp = NULL;
		*r = WH_ERR_PROTOCOL;
	}
	return resp;
}

/* -L: the links of the listing just read, as what they point to. */
static int
follow_links(struct remote_walk *rw, const char *top)
{
	struct tree_walk *w = rw->w;
	Wharf__Envelope *resp;
	const Wharf__FileInfo *fi;
	struct tree_entry e;
	char *path, *rel;
	size_t k;
	int r = 0;

	for (k = 0; k < rw->nfollow && r == 0; k++) {
		rel = rw->follow[k];
		if ((path = tree_join(top, rel)) == NULL) {
			r = WH_ERR_NOMEM;
			break;
		}
		resp = remote_stat(rw->c, path, &r);
		fi = resp != NULL ? resp->stat_reply->info : NULL;
		memset(&e, 0, sizeof(e));
		e.rel = rel;
		e.path = path;
		if (resp == NULL) {
			if (!rw->c->lost) {
				link_skipped(w, path,
				    rw->c->errmsg[0] ? rw->c->errmsg :
				                       wh_strerror(r));
				r = 0;
			}
		} else if (fi == NULL) {
			r = WH_ERR_PROTOCOL;
		} else if (fi->type == WHARF__FILE_TYPE__TYPE_DIR &&
		    depth_of(rel) >= TREE_DEPTH_MAX) {
			link_skipped(
			    w, path, "folders nest too deep (a link loop?)");
		} else if (fi->type == WHARF__FILE_TYPE__TYPE_DIR ||
		    fi->type == WHARF__FILE_TYPE__TYPE_FILE) {
			info_attrs(&e, fi);
			r = visit_remote(rw, &e, &rw->follow[k]);
		} else
			link_skipped(w, path, "not a file or folder");
		msg_free(resp);
		free(path);
	}
	if (r != 0 && rw->err == 0)
		rw->err = r;
	for (k = 0; k < rw->nfollow; k++)
		free(rw->follow[k]);
	rw->nfollow = 0;
	return r;
}

int
tree_walk_remote(struct tree_walk *w, struct client *c, const char *top)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__ListReq lr = WHARF__LIST_REQ__INIT;
	struct remote_walk rw = { .w = w, .c = c, .dir = top, .rel = "" };
	struct tree_entry e;
	char *dir = NULL;
	size_t k;
	int r;

	/* A source's top: its mode and mtime, for after its files. */
	memset(&e, 0, sizeof(e));
	e.rel = "";
	e.path = top;
	e.dir = 1;
	if (!w->dest && (resp = remote_stat(c, top, &r)) != NULL) {
		if (resp->stat_reply->info != NULL &&
		    resp->stat_reply->info->type == WHARF__FILE_TYPE__TYPE_DIR)
			info_attrs(&e, resp->stat_reply->info);
		msg_free(resp);
		resp = NULL;
	}
	if (c->lost)
		return r; /* ListReq would meet the same lost connection */
	if ((r = w->visit(w->arg, &e)) != 0)
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
		if (r == 0 && rw.err == 0 && rw.nfollow > 0 && !c->lost)
			(void)follow_links(&rw, top);
		if (rw.err != 0)
			r = rw.err;
		else if (r != 0 && k > 0 && !c->lost) {
			walk_failed(w, rw.dir,
			    c->errmsg[0] ? c->errmsg : wh_strerror(r));
			r = 0;
		}
	}
	free(dir);
	for (k = 0; k < rw.nfollow; k++)
		free(rw.follow[k]);
	free(rw.follow);
	for (k = 0; k < rw.nq; k++)
		free(rw.queue[k]);
	free(rw.queue);
	return r;
}
