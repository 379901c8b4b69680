/* SPDX-License-Identifier: MIT */
/*
 * File operation handlers. Every path goes through sandbox_join() and is
 * opened beneath the root; operations on a final component (mkdir, rmdir,
 * unlink, rename) act on a parent directory fd and a single name, so no
 * step can be redirected outside the root between check and use.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "wharf/log.h"
#include "wharf/msg.h"
#include "wharf/session.h"
#include "wharf/xfer.h"

#define OPS_DIR_MODE 0755

int
session_fail(struct session *s, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	return r;
}

/* Joins a peer path with the cwd; records it for the log line. */
int
session_resolve(struct session *s, const ProtobufCBinaryData *path,
    char out[SANDBOX_VPATH_MAX])
{
	int r =
	    sandbox_join(s->cwd, path->data, path->len, out, SANDBOX_VPATH_MAX);

	if (r != 0) {
		/* Valid but for the partial rule: say why it is refused. */
		int reserved = sandbox_normalize(s->cwd, path->data, path->len,
		                   out, SANDBOX_VPATH_MAX) == 0;
		/* Log the refused path as sent (sanitised, truncated). */
		size_t n = path->len < sizeof(s->logpath) - 1 ?
		    path->len :
		    sizeof(s->logpath) - 1;
		if (n > 0)
			memcpy(s->logpath, path->data, n);
		s->logpath[n] = '\0';
		out[0] = '\0';
		return session_fail(s, r, "%s",
		    reserved ?
		        "invalid path: names ending in " XFER_PARTIAL_SUFFIX
		        " are the server's partial uploads" :
		        "invalid path");
	}
	if (s->logpath[0] == '\0')
		snprintf(s->logpath, sizeof(s->logpath), "%s", out);
	return 0;
}

int
session_require_rw(struct session *s)
{
	return s->read_only ?
	    session_fail(s, WH_ERR_PERMISSION, "%s", "read-only user") :
	    0;
}

static Wharf__FileType
file_type(mode_t m)
{
	if (S_ISREG(m))
		return WHARF__FILE_TYPE__TYPE_FILE;
	if (S_ISDIR(m))
		return WHARF__FILE_TYPE__TYPE_DIR;
	if (S_ISLNK(m))
		return WHARF__FILE_TYPE__TYPE_SYMLINK;
	return WHARF__FILE_TYPE__TYPE_OTHER;
}

static void
fill_info(Wharf__FileInfo *fi, const char *name, const struct stat *st)
{
	wharf__file_info__init(fi);
	fi->name = msg_bytes(name);
	fi->type = file_type(st->st_mode);
	fi->size = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0;
	fi->mtime_sec = st->st_mtim.tv_sec;
	fi->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	fi->mode = st->st_mode & 07777;
}

struct dir_entry {
	char *name;
	struct stat st;
	int protected;
	char *link; /* LINKS: a symlink's safe target, or NULL */
};

/* Marks entries of the folder dirfd that are passcode-protected. */
static void
mark_protected(struct session *s, int dirfd, struct dir_entry *v, size_t n)
{
	char rpath[SANDBOX_VPATH_MAX];
	size_t i;

	for (i = 0; i < n; i++)
		v[i].protected = S_ISREG(v[i].st.st_mode) &&
		    session_rpath_at(s, dirfd, v[i].name, rpath) == 0 &&
		    protect_is(s->srv->protect, rpath);
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dir_entry *)a)->name,
	    ((const struct dir_entry *)b)->name);
}

/* A name a listing may carry: checked like any path component. */
static int
name_listable(const char *name)
{
	char tmp[SANDBOX_VPATH_MAX];

	return sandbox_join("/", name, strlen(name), tmp, sizeof(tmp)) == 0 &&
	    strcmp(tmp, "/") != 0 && strchr(tmp + 1, '/') == NULL;
}

static int
send_entries(struct session *s, uint32_t id, struct dir_entry *v, size_t n)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__ListPart part = WHARF__LIST_PART__INIT;
	Wharf__FileInfo infos[WIRE_LIST_PART_ENTRIES];
	Wharf__FileInfo *ptrs[WIRE_LIST_PART_ENTRIES];
	size_t i = 0, k;
	int r;

	env.body_case = WHARF__ENVELOPE__BODY_LIST_PART;
	env.list_part = &part;
	/* Streamed so that no directory can outgrow the frame limit. */
	do {
		for (k = 0; k < WIRE_LIST_PART_ENTRIES && i < n; k++, i++) {
			fill_info(&infos[k], v[i].name, &v[i].st);
			infos[k].protected_ = v[i].protected != 0;
			if (v[i].link != NULL)
				infos[k].link_target = msg_bytes(v[i].link);
			ptrs[k] = &infos[k];
		}
		part.n_entries = k;
		part.entries = ptrs;
		part.done = i == n;
		if ((r = session_send(s, id, &env)) != 0)
			return r;
	} while (i < n);
	return 0;
}

/* Whether the file fd is protected into *prot; WH_ERR_INVALID_PATH if
 * it is a partial, reached through a symbolic link. */
static int
protected_fd(struct session *s, int fd, int *prot)
{
	char rpath[SANDBOX_VPATH_MAX];
	int r = session_rpath_fd(s, fd, rpath);

	*prot = r == 0 && protect_is(s->srv->protect, rpath);
	return r == WH_ERR_INVALID_PATH ? r : 0;
}

static int
op_list(struct session *s, uint32_t id, const Wharf__ListReq *req)
{
	char vpath[SANDBOX_VPATH_MAX], shown[LOG_QUOTE_MAX];
	char shown_dir[LOG_QUOTE_MAX];
	struct dir_entry *v = NULL, *nv, one;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	DIR *d = NULL;
	int fd = -1, r;

	if ((r = session_resolve(s, &req->path, vpath)) != 0)
		return r;
	r = sandbox_open_at(s->sb, vpath, O_RDONLY | O_DIRECTORY, 0, &fd);
	if (r == WH_ERR_NOT_DIR) {
		/* ls of a file lists that file, as ls(1) does. */
		if ((r = sandbox_open_at(s->sb, vpath, O_PATH, 0, &fd)) != 0)
			return r;
		if (fstat(fd, &one.st) != 0) {
			r = wh_err_from_errno(errno);
			close(fd);
			return r;
		}
		r = protected_fd(s, fd, &one.protected);
		one.link = NULL;
		close(fd);
		if (r != 0)
			return r;
		one.name = (char *)(uintptr_t)sandbox_basename(vpath);
		return send_entries(s, id, &one, 1);
	}
	if (r != 0)
		return r;
	if ((d = fdopendir(fd)) == NULL) {
		r = wh_err_from_errno(errno);
		close(fd);
		return r;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    (!req->all && de->d_name[0] == '.') ||
		    xfer_partial_is(de->d_name, strlen(de->d_name)))
			continue; /* partials: the server's, not content */
		if (!name_listable(de->d_name)) {
			log_warn("session=%llu not listing name=%s in path=%s: "
			         "not valid UTF-8 text",
			    (unsigned long long)s->id,
			    log_quote(shown, sizeof(shown), de->d_name),
			    log_quote(shown_dir, sizeof(shown_dir), vpath));
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				r = WH_ERR_NOMEM;
				goto out;
			}
			v = nv;
		}
		if (fstatat(dirfd(d), de->d_name, &v[n].st,
		        AT_SYMLINK_NOFOLLOW) != 0)
			continue; /* removed while listing */
		if ((v[n].name = strdup(de->d_name)) == NULL) {
			r = WH_ERR_NOMEM;
			goto out;
		}
		v[n].link = S_ISLNK(v[n].st.st_mode) &&
		        (s->features & WIRE_FEAT_LINKS) ?
		    tree_link_target(dirfd(d), vpath, de->d_name) :
		    NULL;
		n++;
	}
	if (errno != 0) {
		r = wh_err_from_errno(errno);
		goto out;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), entry_cmp);
	mark_protected(s, dirfd(d), v, n);
	r = send_entries(s, id, v, n);
out:
	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].link);
	}
	free(v);
	closedir(d);
	return r;
}

static int
op_stat(struct session *s, uint32_t id, const Wharf__StatReq *req)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__StatReply reply = WHARF__STAT_REPLY__INIT;
	Wharf__FileInfo info;
	char vpath[SANDBOX_VPATH_MAX];
	struct stat st;
	int fd, prot, r;

	if ((r = session_resolve(s, &req->path, vpath)) != 0 ||
	    (r = sandbox_open_at(s->sb, vpath, O_PATH, 0, &fd)) != 0)
		return r;
	if (fstat(fd, &st) != 0) {
		r = wh_err_from_errno(errno);
		close(fd);
		return r;
	}
	fill_info(&info, vpath[1] ? sandbox_basename(vpath) : "/", &st);
	prot = 0;
	r = S_ISREG(st.st_mode) ? protected_fd(s, fd, &prot) : 0;
	info.protected_ = prot != 0;
	close(fd);
	if (r != 0)
		return r;
	reply.info = &info;
	reply.path = msg_bytes(vpath);
	env.body_case = WHARF__ENVELOPE__BODY_STAT_REPLY;
	env.stat_reply = &reply;
	return session_send(s, id, &env);
}

static int
send_cwd(struct session *s, uint32_t id)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__CwdReply reply = WHARF__CWD_REPLY__INIT;

	reply.cwd = msg_bytes(s->cwd);
	env.body_case = WHARF__ENVELOPE__BODY_CWD;
	env.cwd = &reply;
	return session_send(s, id, &env);
}

static int
op_cd(struct session *s, uint32_t id, const Wharf__CdReq *req)
{
	char vpath[SANDBOX_VPATH_MAX];
	int fd, r;

	if ((r = session_resolve(s, &req->path, vpath)) != 0 ||
	    (r = sandbox_open_at(s->sb, vpath, O_PATH | O_DIRECTORY, 0, &fd)) !=
	        0)
		return r == WH_ERR_NOT_FOUND ?
		    session_fail(s, r, "%s", "no such directory") :
		    r;
	close(fd);
	snprintf(s->cwd, sizeof(s->cwd), "%s", vpath);
	return send_cwd(s, id);
}

/* mkdir of one component; with exist_ok an existing directory is fine. */
static int
make_dir(struct session *s, const char *vpath, int exist_ok)
{
	char name[SANDBOX_NAME_MAX];
	int dfd, probe, r = 0;

	if (vpath[1] == '\0')
		return exist_ok ? 0 : WH_ERR_EXISTS;
	if ((r = sandbox_open_parent(s->sb, vpath, &dfd, name)) != 0)
		return r == WH_ERR_NOT_FOUND ?
		    session_fail(s, r, "%s", "no such directory") :
		    r;
	if (mkdirat(dfd, name, OPS_DIR_MODE) != 0)
		r = wh_err_from_errno(errno);
	close(dfd);
	/* "Exists" is fine for -p only if it is a folder we may enter: the
	 * check goes through the jail, never through a link leading out. */
	if (r == WH_ERR_EXISTS && exist_ok &&
	    (r = sandbox_open_at(
	         s->sb, vpath, O_PATH | O_DIRECTORY, 0, &probe)) == 0)
		close(probe);
	return r;
}

static int
op_mkdir(struct session *s, uint32_t id, const Wharf__MkdirReq *req)
{
	char vpath[SANDBOX_VPATH_MAX], prefix[SANDBOX_VPATH_MAX];
	char *slash;
	int r;

	if ((r = session_resolve(s, &req->path, vpath)) != 0 ||
	    (r = session_require_rw(s)) != 0)
		return r;
	if (req->parents) {
		snprintf(prefix, sizeof(prefix), "%s", vpath);
		/* Each ancestor in turn, from the top. */
		for (slash = strchr(prefix + 1, '/'); slash != NULL;
		     slash = strchr(slash + 1, '/')) {
			*slash = '\0';
			r = make_dir(s, prefix, 1);
			*slash = '/';
			if (r != 0)
				return r;
		}
	}
	if ((r = make_dir(s, vpath, req->parents)) != 0)
		return r;
	return session_send_ok(s, id);
}

static int
op_rmdir(struct session *s, uint32_t id, const Wharf__RmdirReq *req)
{
	char vpath[SANDBOX_VPATH_MAX], name[SANDBOX_NAME_MAX];
	int dfd, r;

	if ((r = session_resolve(s, &req->path, vpath)) != 0 ||
	    (r = session_require_rw(s)) != 0)
		return r;
	if (vpath[1] == '\0')
		return session_fail(
		    s, WH_ERR_PERMISSION, "%s", "cannot remove the root");
	if ((r = sandbox_open_parent(s->sb, vpath, &dfd, name)) != 0)
		return r;
	if (unlinkat(dfd, name, AT_REMOVEDIR) != 0)
		r = wh_err_from_errno(errno);
	close(dfd);
	if (r == 0)
		return session_send_ok(s, id);
	return r;
}

static int
op_remove(struct session *s, uint32_t id, const Wharf__RemoveReq *req)
{
	char vpath[SANDBOX_VPATH_MAX], name[SANDBOX_NAME_MAX];
	char rpath[SANDBOX_VPATH_MAX], shown[LOG_QUOTE_MAX];
	struct stat st;
	int dfd, r = 0;

	if ((r = session_resolve(s, &req->path, vpath)) != 0 ||
	    (r = session_require_rw(s)) != 0)
		return r;
	if (vpath[1] == '\0')
		return WH_ERR_IS_DIR;
	if ((r = sandbox_open_parent(s->sb, vpath, &dfd, name)) != 0)
		return r;
	if ((r = session_rpath_at(s, dfd, name, rpath)) != 0 ||
	    (r = session_check_passcode(s, rpath, &req->passcode)) != 0) {
		close(dfd);
		return r;
	}
	/* unlink(2) of a directory says EISDIR on Linux, but only for
	 * some filesystems; ask first so the answer is always the same. */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		r = wh_err_from_errno(errno);
	else if (S_ISDIR(st.st_mode))
		r = session_fail(
		    s, WH_ERR_IS_DIR, "%s", "is a directory (use rmdir)");
	else
		r = quota_unlink(s->account, dfd, name);
	close(dfd);
	/* The file is gone, so is its protection. */
	if (r == 0 && protect_clear(s->srv->protect, rpath) != 0)
		log_warn("session=%llu cannot drop protection of path=%s",
		    (unsigned long long)s->id,
		    log_quote(shown, sizeof(shown), rpath));
	if (r == 0)
		return session_send_ok(s, id);
	return r;
}

/*
 * renameat2(RENAME_NOREPLACE), or where the filesystem refuses the flag
 * (EINVAL from FUSE: GlusterFS; some network filesystems) a move that
 * still never replaces an existing entry. A file (or link) is linked
 * under the new name, which fails if the name exists, then unlinked
 * under the old. A folder cannot be linked: the name is checked free and
 * the folder renamed, both under one lock of this process, so no two
 * moves through this server race; what remains is a folder made at the
 * name in between by someone else (another server, a local user). A
 * rename replaces only an empty folder, so nothing but that empty folder
 * can be lost (docs/deployment.md). EINVAL stays the answer for a folder
 * moved into itself.
 */
static int
rename_noreplace(int ffd, const char *fname, int tfd, const char *tname)
{
	static pthread_mutex_t dir_mu = PTHREAD_MUTEX_INITIALIZER;
	struct stat st;
	int r;

	if (renameat2(ffd, fname, tfd, tname, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	if (fstatat(ffd, fname, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		if (linkat(ffd, fname, tfd, tname, 0) != 0)
			return -1;
		if (unlinkat(ffd, fname, 0) != 0) {
			r = errno;
			unlinkat(tfd, tname, 0);
			errno = r;
			return -1;
		}
		return 0;
	}
	pthread_mutex_lock(&dir_mu);
	if (fstatat(tfd, tname, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		r = -1;
	} else if (errno != ENOENT)
		r = -1;
	else
		r = renameat(ffd, fname, tfd, tname);
	pthread_mutex_unlock(&dir_mu);
	return r;
}

static int
op_rename(struct session *s, uint32_t id, const Wharf__RenameReq *req)
{
	char from[SANDBOX_VPATH_MAX], to[SANDBOX_VPATH_MAX];
	char into[SANDBOX_VPATH_MAX];
	char fname[SANDBOX_NAME_MAX], tname[SANDBOX_NAME_MAX];
	char rfrom[SANDBOX_VPATH_MAX], rto[SANDBOX_VPATH_MAX];
	char shown[LOG_QUOTE_MAX], shown_to[LOG_QUOTE_MAX];
	struct stat st;
	int ffd = -1, tfd = -1, probe, r;

	if ((r = session_resolve(s, &req->from, from)) != 0 ||
	    (r = session_resolve(s, &req->to, to)) != 0 ||
	    (r = session_require_rw(s)) != 0)
		return r;
	if (from[1] == '\0')
		return session_fail(
		    s, WH_ERR_INVALID_PATH, "%s", "cannot move the root");
	/* mv a dir/ puts a inside dir, as mv(1) does. */
	if (sandbox_open_at(s->sb, to, O_PATH | O_DIRECTORY, 0, &probe) == 0) {
		close(probe);
		if (snprintf(into, sizeof(into), "%s/%s", to[1] ? to : "",
		        sandbox_basename(from)) >= (int)sizeof(into))
			return WH_ERR_INVALID_PATH;
		snprintf(to, sizeof(to), "%s", into);
	}
	if ((r = sandbox_open_parent(s->sb, from, &ffd, fname)) != 0 ||
	    (r = sandbox_open_parent(s->sb, to, &tfd, tname)) != 0 ||
	    (r = session_rpath_at(s, ffd, fname, rfrom)) != 0 ||
	    (r = session_rpath_at(s, tfd, tname, rto)) != 0 ||
	    (r = session_check_passcode(s, rfrom, &req->passcode)) != 0)
		goto out;
	/* Moving a folder would move protected files without their
	 * passcodes: they must be moved one by one. */
	if (fstatat(ffd, fname, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode) && protect_any_under(s->srv->protect, rfrom)) {
		r = session_fail(s, WH_ERR_PERMISSION, "%s",
		    "the folder holds "
		    "protected files; move them one by one");
		goto out;
	}
	/* Never replace: a rename must not lose the file it lands on. */
	if (rename_noreplace(ffd, fname, tfd, tname) != 0) {
		r = wh_err_from_errno(errno);
		if (errno == EINVAL)
			r = session_fail(s, WH_ERR_INVALID_PATH, "%s",
			    "cannot move a directory into itself");
		else if (r == WH_ERR_EXISTS)
			r = session_fail(s, r, "%s", "destination exists");
	}
	/* Protection follows the file to its new name. */
	if (r == 0 && protect_rename(s->srv->protect, rfrom, rto) != 0)
		log_error("session=%llu protection of path=%s not moved to "
		          "to=%s",
		    (unsigned long long)s->id,
		    log_quote(shown, sizeof(shown), rfrom),
		    log_quote(shown_to, sizeof(shown_to), rto));
out:
	if (ffd >= 0)
		close(ffd);
	if (tfd >= 0)
		close(tfd);
	if (r == 0)
		return session_send_ok(s, id);
	return r;
}

/* The regular file vpath names, opened to learn its canonical path. */
static int
protect_target(struct session *s, const ProtobufCBinaryData *path,
    char rpath[SANDBOX_VPATH_MAX])
{
	char vpath[SANDBOX_VPATH_MAX];
	struct stat st;
	int fd, r;

	if ((r = session_resolve(s, path, vpath)) != 0 ||
	    (r = session_require_rw(s)) != 0 ||
	    (r = sandbox_open_at(s->sb, vpath, O_PATH, 0, &fd)) != 0)
		return r;
	if (fstat(fd, &st) != 0)
		r = wh_err_from_errno(errno);
	else if (!S_ISREG(st.st_mode))
		r = session_fail(s,
		    S_ISDIR(st.st_mode) ? WH_ERR_IS_DIR : WH_ERR_PERMISSION,
		    "%s",
		    "only regular files can be "
		    "protected");
	else
		r = session_rpath_fd(s, fd, rpath);
	close(fd);
	return r;
}

int
ops_protect(struct session *s, uint32_t id, const Wharf__ProtectReq *m)
{
	char rpath[SANDBOX_VPATH_MAX], pc[PROTECT_PASSCODE_MAX + 1];
	int r;

	if ((r = protect_target(s, &m->path, rpath)) != 0)
		return r;
	/* Changing a passcode needs the current one. */
	if ((r = session_check_passcode(s, rpath, &m->current)) != 0)
		return r;
	if (msg_text(&m->passcode, pc, sizeof(pc)) != 0 || pc[0] == '\0')
		return session_fail(s, WH_ERR_PROTOCOL, "%s",
		    "passcode empty, "
		    "too long or not text");
	sem_wait(&s->srv->passcode_slots);
	r = protect_set(s->srv->protect, rpath, pc);
	sem_post(&s->srv->passcode_slots);
	sodium_memzero(pc, sizeof(pc));
	if (r != 0)
		return session_fail(
		    s, r, "cannot save the protection: %s", wh_strerror(r));
	return session_send_ok(s, id);
}

int
ops_unprotect(struct session *s, uint32_t id, const Wharf__UnprotectReq *m)
{
	char rpath[SANDBOX_VPATH_MAX];
	int r;

	if ((r = protect_target(s, &m->path, rpath)) != 0)
		return r;
	if (!protect_is(s->srv->protect, rpath))
		return session_fail(
		    s, WH_ERR_NOT_FOUND, "%s", "not a protected file");
	if ((r = session_check_passcode(s, rpath, &m->passcode)) != 0)
		return r;
	if ((r = protect_clear(s->srv->protect, rpath)) != 0)
		return session_fail(
		    s, r, "cannot save the protection: %s", wh_strerror(r));
	return session_send_ok(s, id);
}

static int
op_ping(struct session *s, uint32_t id, const Wharf__Ping *req)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__Pong pong = WHARF__PONG__INIT;

	pong.payload = req->payload;
	env.body_case = WHARF__ENVELOPE__BODY_PONG;
	env.pong = &pong;
	return session_send(s, id, &env);
}

/* df and quota: the filesystem under path, and the user's account. The
 * byte counts are those statfs(2) gives the server's account; a quota is
 * what limits the user first, and the client shows both. */
static int
op_statfs(struct session *s, uint32_t id, const Wharf__StatFsReq *req)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__StatFsReply reply = WHARF__STAT_FS_REPLY__INIT;
	ProtobufCBinaryData dot = { 1, (uint8_t *)(uintptr_t) "." };
	char vpath[SANDBOX_VPATH_MAX];
	struct statfs sf;
	uint64_t used = 0, reserved = 0, unit;
	int fd, r;

	if ((r = session_resolve(
	         s, req->path.len > 0 ? &req->path : &dot, vpath)) != 0 ||
	    (r = sandbox_open_at(s->sb, vpath, O_PATH, 0, &fd)) != 0)
		return r;
	r = fstatfs(fd, &sf) == 0 ? 0 : wh_err_from_errno(errno);
	close(fd);
	if (r != 0)
		return r;
	unit = sf.f_frsize > 0 ? (uint64_t)sf.f_frsize : (uint64_t)sf.f_bsize;
	reply.total = (uint64_t)sf.f_blocks * unit;
	reply.free = (uint64_t)sf.f_bfree * unit;
	reply.avail = (uint64_t)sf.f_bavail * unit;
	reply.files = (uint64_t)sf.f_files;
	reply.files_free = (uint64_t)sf.f_ffree;
	if (s->quota > 0 && s->account != NULL) {
		if ((r = quota_account_usage(s->account, &used, &reserved)) !=
		    0)
			return session_fail(s, r, "cannot count your files: %s",
			    wh_strerror(r));
		reply.quota = s->quota;
		reply.used = used + reserved;
	}
	env.body_case = WHARF__ENVELOPE__BODY_STATFS_REPLY;
	env.statfs_reply = &reply;
	return session_send(s, id, &env);
}

/*
 * Mode and/or mtime of one regular file or folder (`chmod`, and trees after
 * their files): through a descriptor opened beneath the root without
 * following a link, so a link swapped in cannot redirect it.
 */
static int
set_attr_fd(int fd, const Wharf__SetAttrReq *req, const struct timespec *t)
{
	if (req->set_mode && fchmod(fd, (mode_t)req->mode) != 0)
		return wh_err_from_errno(errno);
	if (req->set_mtime && futimens(fd, t) != 0)
		return wh_err_from_errno(errno);
	return 0;
}

static int
op_set_attr(struct session *s, uint32_t id, const Wharf__SetAttrReq *req)
{
	char vpath[SANDBOX_VPATH_MAX], name[SANDBOX_NAME_MAX];
	struct timespec times[2];
	struct stat st, st2;
	int dfd = -1, fd = -1, r;

	if (!(s->features & WIRE_FEAT_SETATTR))
		return session_fail(
		    s, WH_ERR_UNSUPPORTED, "%s", "SetAttr not negotiated");
	if ((r = session_resolve(s, &req->path, vpath)) != 0 ||
	    (r = session_require_rw(s)) != 0)
		return r;
	if (req->set_mode && req->mode > 0777)
		return session_fail(s, WH_ERR_PERMISSION, "%s",
		    "only permission bits (0777) can be set");
	if (req->set_mtime && req->mtime_nsec >= 1000000000u)
		return session_fail(
		    s, WH_ERR_PROTOCOL, "%s", "mtime_nsec out of range");
	if (vpath[1] == '\0')
		return session_fail(s, WH_ERR_PERMISSION, "%s",
		    "cannot change the root's attributes");
	times[0].tv_sec = 0;
	times[0].tv_nsec = UTIME_OMIT;
	times[1].tv_sec = (time_t)req->mtime_sec;
	times[1].tv_nsec = (long)req->mtime_nsec;
	if ((r = sandbox_open_parent(s->sb, vpath, &dfd, name)) != 0)
		return r;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		r = wh_err_from_errno(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		r = session_fail(s, WH_ERR_PERMISSION, "%s",
		    S_ISLNK(st.st_mode) ? "a symbolic link: name its target" :
		                          "not a regular file or directory");
		goto out;
	}
	fd = openat(dfd, name,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
	        (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
	if (fd >= 0) {
		if (fstat(fd, &st2) != 0 || st2.st_dev != st.st_dev ||
		    st2.st_ino != st.st_ino)
			r = session_fail(
			    s, WH_ERR_IO, "%s", "changed while being opened");
		else
			r = set_attr_fd(fd, req, times);
	} else if (errno == EACCES) {
		/* No read permission (the owner took it away): by name, in
		 * the folder fd, after checking the name is still no link. */
		if (fstatat(dfd, name, &st2, AT_SYMLINK_NOFOLLOW) != 0 ||
		    S_ISLNK(st2.st_mode) || st2.st_ino != st.st_ino ||
		    st2.st_dev != st.st_dev)
			r = session_fail(
			    s, WH_ERR_IO, "%s", "changed while being opened");
		else if (req->set_mode &&
		    fchmodat(dfd, name, (mode_t)req->mode, 0) != 0)
			r = wh_err_from_errno(errno);
		else if (req->set_mtime &&
		    utimensat(dfd, name, times, AT_SYMLINK_NOFOLLOW) != 0)
			r = wh_err_from_errno(errno);
	} else
		r = wh_err_from_errno(errno);
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	return r != 0 ? r : session_send_ok(s, id);
}

int
ops_dispatch(struct session *s, const Wharf__Envelope *req)
{
	uint32_t id = req->id;

	switch (req->body_case) {
	case WHARF__ENVELOPE__BODY_LIST:
		return op_list(s, id, req->list);
	case WHARF__ENVELOPE__BODY_STAT:
		return op_stat(s, id, req->stat);
	case WHARF__ENVELOPE__BODY_CD:
		return op_cd(s, id, req->cd);
	case WHARF__ENVELOPE__BODY_PWD:
		snprintf(s->logpath, sizeof(s->logpath), "%s", s->cwd);
		return send_cwd(s, id);
	case WHARF__ENVELOPE__BODY_MKDIR:
		return op_mkdir(s, id, req->mkdir);
	case WHARF__ENVELOPE__BODY_RMDIR:
		return op_rmdir(s, id, req->rmdir);
	case WHARF__ENVELOPE__BODY_REMOVE:
		return op_remove(s, id, req->remove);
	case WHARF__ENVELOPE__BODY_RENAME:
		return op_rename(s, id, req->rename);
	case WHARF__ENVELOPE__BODY_PING:
		return op_ping(s, id, req->ping);
	case WHARF__ENVELOPE__BODY_PUT_OPEN:
		return upload_open(s, id, req->put_open);
	case WHARF__ENVELOPE__BODY_CHUNK:
		return upload_chunk(s, id, req->chunk);
	case WHARF__ENVELOPE__BODY_PUT_END:
		return upload_end(s, id, req->put_end);
	case WHARF__ENVELOPE__BODY_GET:
		return download_get(s, id, req->get);
	case WHARF__ENVELOPE__BODY_SUM:
		return download_sum(s, id, req->sum);
	case WHARF__ENVELOPE__BODY_PROBE:
		return download_probe(s, id, req->probe);
	case WHARF__ENVELOPE__BODY_STRIPE_COMMIT:
		return upload_stripe_commit(s, id, req->stripe_commit);
	case WHARF__ENVELOPE__BODY_PROTECT:
		return ops_protect(s, id, req->protect);
	case WHARF__ENVELOPE__BODY_UNPROTECT:
		return ops_unprotect(s, id, req->unprotect);
	case WHARF__ENVELOPE__BODY_SYMLINK:
		return tree_op_symlink(s, id, req->symlink);
	case WHARF__ENVELOPE__BODY_SET_ATTR:
		return op_set_attr(s, id, req->set_attr);
	case WHARF__ENVELOPE__BODY_STATFS:
		return op_statfs(s, id, req->statfs);
	case WHARF__ENVELOPE__BODY_CANCEL:
		/* Nothing to cancel any more: no answer, by design. */
		return 0;
	case WHARF__ENVELOPE__BODY__NOT_SET:
		return session_fail(
		    s, WH_ERR_UNSUPPORTED, "%s", "unknown request type");
	default:
		/* A response type sent as a request. */
		return session_fail(s, WH_ERR_PROTOCOL, "%s", "not a request");
	}
}
