/* SPDX-License-Identifier: MIT */
/*
 * What trees need besides files (docs/protocol.md §8.2, §8.3): symbolic
 * links made only where their target stays inside the session's root, as
 * rsync's --safe-links, and the targets of such links in listings. (The
 * mode and mtime a tree sets after its files go through ops.c's SetAttr.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wharf/log.h"
#include "wharf/msg.h"
#include "wharf/session.h"

/*
 * Whether a link at vpath pointing to target (len bytes) is safe: a
 * relative path, valid text by §6.1, that resolved lexically from the
 * link's folder stays inside the root and names no partial. Serving still
 * resolves beneath the root, so an unsafe link cannot be followed out;
 * refusing it keeps the tree from pointing out at all.
 */
static int
target_safe(const char *vpath, const void *target, size_t len)
{
	char dir[SANDBOX_VPATH_MAX], out[SANDBOX_VPATH_MAX];
	const char *base = sandbox_basename(vpath);
	size_t n = (size_t)(base - vpath);

	if (len == 0 || ((const char *)target)[0] == '/' || n >= sizeof(dir))
		return 0;
	memcpy(dir, vpath, n);
	dir[n] = '\0';
	return sandbox_join(dir, target, len, out, sizeof(out)) == 0;
}

char *
tree_link_target(int dirfd, const char *dir_vpath, const char *name)
{
	char target[SANDBOX_VPATH_MAX], vpath[SANDBOX_VPATH_MAX];
	ssize_t n;

	n = readlinkat(dirfd, name, target, sizeof(target) - 1);
	if (n <= 0 ||
	    snprintf(vpath, sizeof(vpath), "%s/%s",
	        dir_vpath[1] ? dir_vpath : "", name) >= (int)sizeof(vpath))
		return NULL;
	target[n] = '\0';
	if (memchr(target, '\0', (size_t)n) != NULL ||
	    !target_safe(vpath, target, (size_t)n))
		return NULL;
	return strdup(target);
}

int
tree_op_symlink(struct session *s, uint32_t id, const Wharf__SymlinkReq *m)
{
	char vpath[SANDBOX_VPATH_MAX], name[SANDBOX_NAME_MAX];
	char target[SANDBOX_VPATH_MAX], rpath[SANDBOX_VPATH_MAX];
	struct stat st;
	int dfd = -1, r, replaced = 0, prot = 0;

	if (!(s->features & WIRE_FEAT_LINKS))
		return session_fail(
		    s, WH_ERR_UNSUPPORTED, "%s", "links not negotiated");
	if ((r = session_resolve(s, &m->path, vpath)) != 0 ||
	    (r = session_require_rw(s)) != 0)
		return r;
	if (vpath[1] == '\0')
		return session_fail(s, WH_ERR_EXISTS, "%s", "the root exists");
	if (msg_text(&m->target, target, sizeof(target)) != 0 ||
	    !target_safe(vpath, m->target.data, m->target.len))
		return session_fail(s, WH_ERR_INVALID_PATH, "%s",
		    "unsafe link: its target must be a relative path that "
		    "stays inside the tree");
	if ((r = sandbox_open_parent(s->sb, vpath, &dfd, name)) != 0)
		return r;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* Replaces a file or link, as an upload would; never a
		 * folder, and a protected file only with its passcode. */
		if (S_ISDIR(st.st_mode)) {
			r = session_fail(s, WH_ERR_IS_DIR, "%s",
			    "a folder of that name exists");
			goto out;
		}
		if ((r = session_rpath_at(s, dfd, name, rpath)) != 0)
			goto out;
		prot =
		    S_ISREG(st.st_mode) && protect_is(s->srv->protect, rpath);
		if ((prot &&
		        (r = session_check_passcode(s, rpath, &m->passcode)) !=
		            0) ||
		    (r = quota_unlink(s->account, dfd, name)) != 0)
			goto out;
		replaced = 1;
	} else if (errno != ENOENT) {
		r = wh_err_from_errno(errno);
		goto out;
	}
	if (symlinkat(target, dfd, name) != 0)
		r = wh_err_from_errno(errno);
	if (replaced && prot && protect_clear(s->srv->protect, rpath) != 0)
		log_warn("session=%llu cannot drop protection of a replaced "
		         "file",
		    (unsigned long long)s->id);
out:
	close(dfd);
	return r == 0 ? session_send_ok(s, id) : r;
}
