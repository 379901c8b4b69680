/* SPDX-License-Identifier: MIT */
/*
 * Links and folder attributes of a tree, applied after its files. Folders
 * are recorded parents first (both walks are top down), so walking the
 * list backwards sets children before their parents: a parent's mtime is
 * set last, after everything inside it has stopped changing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wharf/cli.h"
#include "wharf/log.h"
#include "wharf/msg.h"
#include "wharf/treemeta.h"
#include "wharf/text.h"

void
tree_meta_init(struct tree_meta *tm)
{
	memset(tm, 0, sizeof(*tm));
}

void
tree_meta_cleanup(struct tree_meta *tm)
{
	size_t i;

	for (i = 0; i < tm->ndirs; i++)
		free(tm->dirs[i].path);
	for (i = 0; i < tm->nlinks; i++) {
		free(tm->links[i].path);
		free(tm->links[i].target);
	}
	free(tm->dirs);
	free(tm->links);
	memset(tm, 0, sizeof(*tm));
}

int
tree_meta_add_dir(struct tree_meta *tm, const char *path, uint32_t mode,
    int64_t mtime_sec, uint32_t mtime_nsec)
{
	struct tree_dir *nd;

	if (tm->ndirs == tm->capdirs) {
		tm->capdirs = tm->capdirs ? tm->capdirs * 2 : 16;
		if ((nd = realloc(tm->dirs, tm->capdirs * sizeof(*nd))) == NULL)
			return WH_ERR_NOMEM;
		tm->dirs = nd;
	}
	if ((tm->dirs[tm->ndirs].path = strdup(path)) == NULL)
		return WH_ERR_NOMEM;
	tm->dirs[tm->ndirs].mode = mode & 0777;
	tm->dirs[tm->ndirs].mtime_sec = mtime_sec;
	tm->dirs[tm->ndirs].mtime_nsec =
	    mtime_nsec < 1000000000u ? mtime_nsec : 0;
	tm->ndirs++;
	return 0;
}

int
tree_meta_add_dir_st(
    struct tree_meta *tm, const char *path, const struct stat *st)
{
	return tree_meta_add_dir(tm, path, st->st_mode & 0777,
	    st->st_mtim.tv_sec, (uint32_t)st->st_mtim.tv_nsec);
}

int
tree_meta_add_link(struct tree_meta *tm, const char *path, const char *target)
{
	struct tree_link *nl;

	if (tm->nlinks == tm->caplinks) {
		tm->caplinks = tm->caplinks ? tm->caplinks * 2 : 16;
		if ((nl = realloc(tm->links, tm->caplinks * sizeof(*nl))) ==
		    NULL)
			return WH_ERR_NOMEM;
		tm->links = nl;
	}
	nl = &tm->links[tm->nlinks];
	if ((nl->path = strdup(path)) == NULL)
		return WH_ERR_NOMEM;
	if ((nl->target = strdup(target)) == NULL) {
		free(nl->path);
		return WH_ERR_NOMEM;
	}
	tm->nlinks++;
	return 0;
}

void
tree_meta_skip(
    struct tree_meta *tm, const char *op, const char *shown, const char *why)
{
	char clean[LOG_PEER_STR_MAX + 1];

	tm->skipped++;
	fprintf(stderr, "wharf: %s: skipped symbolic link %s: %s\n", op,
	    text_clean(clean, sizeof(clean), shown), why);
	if (tm->json) {
		printf("{\"op\":\"%s\",\"path\":", op);
		cli_json_str(stdout, shown);
		fputs(",\"type\":\"link\",\"result\":\"skipped\","
		      "\"reason\":",
		    stdout);
		cli_json_str(stdout, why);
		fputs("}\n", stdout);
		fflush(stdout);
	}
}

void
tree_meta_skip_special(struct tree_meta *tm, const char *op, const char *shown)
{
	char clean[LOG_PEER_STR_MAX + 1];

	tm->skipped_special++;
	fprintf(stderr,
	    "wharf: %s: skipped %s: not a regular file, folder or link\n", op,
	    text_clean(clean, sizeof(clean), shown));
	if (tm->json) {
		printf("{\"op\":\"%s\",\"path\":", op);
		cli_json_str(stdout, shown);
		fputs(",\"type\":\"other\",\"result\":\"skipped\","
		      "\"reason\":\"not a regular file, folder or link\"}\n",
		    stdout);
		fflush(stdout);
	}
}

int
tree_link_safe(const char *rel, const char *target)
{
	const char *p, *end;
	long depth = 0;
	size_t n;

	if (target[0] == '\0' || target[0] == '/')
		return 0;
	for (p = target; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	/* The folder the link is in, as a depth below the top. */
	for (p = rel; *p != '\0'; p++)
		depth += *p == '/';
	for (p = target; *p != '\0'; p = *end ? end + 1 : end) {
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return 0;
		} else if (n > 0 && !(n == 1 && p[0] == '.'))
			depth++;
	}
	return 1;
}

/* A link at path, replacing a file or link there (never a folder). */
static int
make_local_link(const char *path, const char *target)
{
	struct stat st;

	if (lstat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			errno = EISDIR;
			return -1;
		}
		if (unlink(path) != 0)
			return -1;
	}
	return symlink(target, path);
}

void
tree_meta_apply_local(struct tree_meta *tm, const char *op, int perms)
{
	struct timespec times[2];
	struct tree_dir *d;
	size_t i;

	for (i = 0; i < tm->nlinks; i++)
		if (make_local_link(tm->links[i].path, tm->links[i].target) !=
		    0) {
			fprintf(stderr, "wharf: %s: link %s: %s\n", op,
			    tm->links[i].path, strerror(errno));
			tm->failed++;
		}
	for (i = tm->ndirs; i-- > 0;) {
		d = &tm->dirs[i];
		times[0].tv_sec = 0;
		times[0].tv_nsec = UTIME_OMIT;
		times[1].tv_sec = (time_t)d->mtime_sec;
		times[1].tv_nsec = (long)d->mtime_nsec;
		if ((perms && chmod(d->path, d->mode) != 0) ||
		    utimensat(AT_FDCWD, d->path, times, 0) != 0) {
			fprintf(stderr, "wharf: %s: %s: %s\n", op, d->path,
			    strerror(errno));
			tm->failed++;
		}
	}
}

/* One request that answers Ok; its failure reported. */
static int
remote_call(struct client *c, Wharf__Envelope *req, struct tree_meta *tm,
    const char *op, const char *what, const char *path)
{
	Wharf__Envelope *resp = NULL;
	char clean[LOG_PEER_STR_MAX + 1];
	int r = client_call(c, req, &resp, NULL, NULL);

	msg_free(resp);
	if (r != 0) {
		fprintf(stderr, "wharf: %s: %s %s: %s\n", op, what,
		    text_clean(clean, sizeof(clean), path), c->errmsg);
		tm->failed++;
		return c->lost ? r : 0;
	}
	return 0;
}

int
tree_meta_apply_remote(
    struct client *c, struct tree_meta *tm, const char *op, int perms)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT;
	Wharf__SymlinkReq sl = WHARF__SYMLINK_REQ__INIT;
	Wharf__SetAttrReq sa = WHARF__SET_ATTR_REQ__INIT;
	Wharf__Envelope *resp = NULL;
	char clean[LOG_PEER_STR_MAX + 1];
	size_t i;
	int r;

	if (tm->nlinks > 0 && !(c->features & WIRE_FEAT_LINKS)) {
		fprintf(stderr,
		    "wharf: %s: the server cannot make links (an older "
		    "server); %zu skipped\n",
		    op, tm->nlinks);
		tm->skipped += tm->nlinks;
	} else
		for (i = 0; i < tm->nlinks; i++) {
			sl.path = msg_bytes(tm->links[i].path);
			sl.target = msg_bytes(tm->links[i].target);
			sl.passcode = client_passcode(c);
			req.body_case = WHARF__ENVELOPE__BODY_SYMLINK;
			req.symlink = &sl;
			if ((r = client_call(c, &req, &resp, NULL, NULL)) == 0)
				msg_free(resp);
			else if (c->lost)
				return r;
			else if (r == WH_ERR_INVALID_PATH)
				/* The server's --safe-links judgement. */
				tree_meta_skip(
				    tm, op, tm->links[i].path, c->errmsg);
			else {
				fprintf(stderr, "wharf: %s: link %s: %s\n", op,
				    text_clean(clean, sizeof(clean),
				        tm->links[i].path),
				    c->errmsg);
				tm->failed++;
			}
			resp = NULL;
		}
	if (tm->ndirs > 0 && !(c->features & WIRE_FEAT_SETATTR)) {
		fprintf(stderr,
		    "wharf: %s: the server cannot set folder modes and "
		    "times (an older server)\n",
		    op);
		return 0;
	}
	for (i = tm->ndirs; i-- > 0;) {
		sa.path = msg_bytes(tm->dirs[i].path);
		sa.set_mode = perms != 0;
		sa.mode = tm->dirs[i].mode;
		sa.set_mtime = 1;
		sa.mtime_sec = tm->dirs[i].mtime_sec;
		sa.mtime_nsec = tm->dirs[i].mtime_nsec;
		req.body_case = WHARF__ENVELOPE__BODY_SET_ATTR;
		req.set_attr = &sa;
		if ((r = remote_call(c, &req, tm, op, "set attributes of",
		         tm->dirs[i].path)) != 0)
			return r;
	}
	return 0;
}

void
tree_meta_summary(const struct tree_meta *tm, const char *op)
{
	if (tm->skipped > 0)
		fprintf(stderr,
		    "wharf: %s: %zu symbolic link%s skipped (-l keeps links, "
		    "-L follows them): the tree is incomplete\n",
		    op, tm->skipped, tm->skipped == 1 ? "" : "s");
	if (tm->skipped_special > 0)
		fprintf(stderr,
		    "wharf: %s: %zu special file%s (FIFOs, sockets, devices) "
		    "skipped: the tree is incomplete\n",
		    op, tm->skipped_special,
		    tm->skipped_special == 1 ? "" : "s");
}

int
tree_meta_status(const struct tree_meta *tm, int status)
{
	if (status != EXIT_OK)
		return status;
	if (tm->failed > 0)
		return EXIT_REMOTE;
	return tm->skipped + tm->skipped_special > 0 ? EXIT_INCOMPLETE :
	                                               EXIT_OK;
}
