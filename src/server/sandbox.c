/* SPDX-License-Identifier: MIT */
/*
 * Path jail. Paths are first normalised lexically (so ".." can never climb
 * above "/"), then resolved by the kernel beneath the root fd: openat2's
 * RESOLVE_BENEATH refuses any symlink or mount crossing that would leave
 * the root, and no path string is ever handed to open(2) unanchored.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wharf/sandbox.h"
#include "wharf/xfer.h"

int
sandbox_open(struct sandbox *sb, const char *root)
{
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH };
	int fd;

	sb->root_fd = -1;
	sb->walk_only = 0;
	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return wh_err_from_errno(errno);
	sb->root_fd = fd;
	/* Probe once; kernels before 5.6 answer ENOSYS. */
	fd = (int)syscall(SYS_openat2, sb->root_fd, ".", &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		sb->walk_only = 1;
	else if (fd >= 0)
		close(fd);
	return 0;
}

void
sandbox_close(struct sandbox *sb)
{
	if (sb->root_fd >= 0)
		close(sb->root_fd);
	sb->root_fd = -1;
}

void
sandbox_set_walk_only(struct sandbox *sb, int on)
{
	sb->walk_only = on;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Checks bytes for NUL, control characters and UTF-8 validity. */
static int
text_is_clean(const unsigned char *p, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
		if ((k = utf8_seq(p + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

/* Appends component c (clen bytes) or pops one for "..". With reserve,
 * a partial's name is refused: it is never a peer's to name. */
static int
push_component(char *out, size_t outlen, size_t *used, const char *c,
    size_t clen, int reserve)
{
	char *slash;

	if (clen == 0 || (clen == 1 && c[0] == '.'))
		return 0;
	if (clen == 2 && c[0] == '.' && c[1] == '.') {
		if (*used <= 1)
			return WH_ERR_INVALID_PATH; /* above the root */
		out[*used] = '\0';
		slash = strrchr(out, '/');
		*used = slash == out ? 1 : (size_t)(slash - out);
		out[*used] = '\0';
		return 0;
	}
	if (clen > WIRE_NAME_MAX || (reserve && xfer_partial_is(c, clen)))
		return WH_ERR_INVALID_PATH;
	if (*used + (*used > 1) + clen >= outlen ||
	    *used + (*used > 1) + clen > WIRE_PATH_MAX)
		return WH_ERR_INVALID_PATH;
	if (*used > 1)
		out[(*used)++] = '/';
	memcpy(out + *used, c, clen);
	*used += clen;
	out[*used] = '\0';
	return 0;
}

static int
push_path(char *out, size_t outlen, size_t *used, const char *p, size_t n,
    int reserve)
{
	size_t i = 0, start;
	int r;

	while (i < n) {
		start = i;
		while (i < n && p[i] != '/')
			i++;
		if ((r = push_component(out, outlen, used, p + start, i - start,
		         reserve)) != 0)
			return r;
		i++;
	}
	return 0;
}

static int
join(const char *cwd, const void *path, size_t len, char *out, size_t outlen,
    int reserve)
{
	const char *p = path;
	size_t used = 1;
	int r;

	if (outlen < 2 || len > WIRE_PATH_MAX ||
	    (len > 0 && !text_is_clean(path, len)))
		return WH_ERR_INVALID_PATH;
	out[0] = '/';
	out[1] = '\0';
	if ((len == 0 || p[0] != '/') &&
	    (r = push_path(out, outlen, &used, cwd, strlen(cwd), reserve)) != 0)
		return r;
	return push_path(out, outlen, &used, p, len, reserve);
}

int
sandbox_join(
    const char *cwd, const void *path, size_t len, char *out, size_t outlen)
{
	return join(cwd, path, len, out, outlen, 1);
}

int
sandbox_normalize(
    const char *cwd, const void *path, size_t len, char *out, size_t outlen)
{
	return join(cwd, path, len, out, outlen, 0);
}

const char *
sandbox_basename(const char *vpath)
{
	const char *slash = strrchr(vpath, '/');

	return slash != NULL ? slash + 1 : vpath;
}

/* The root-relative form of a vpath: "." for "/". */
static const char *
relative(const char *vpath)
{
	return vpath[1] == '\0' ? "." : vpath + 1;
}

/* openat with O_NOFOLLOW; a symlink met where a folder was wanted says
 * ENOTDIR, but it is a refused link, not a wrong type: make it ELOOP. */
static int
open_nofollow(int dfd, const char *name, int flags, mode_t mode)
{
	struct stat st;
	int fd, saved;

	fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0 && errno == ENOTDIR) {
		saved = errno;
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			saved = ELOOP;
		errno = saved;
	}
	return fd;
}

static int
walk_open(const struct sandbox *sb, const char *vpath, int flags, mode_t mode)
{
	char comp[SANDBOX_NAME_MAX];
	const char *p = relative(vpath), *slash;
	int dfd = sb->root_fd, fd, next, saved;
	size_t n;

	/* No ".." remains after sandbox_join, and O_NOFOLLOW on every
	 * component refuses symlinks, so the walk cannot leave the root. */
	for (;;) {
		slash = strchr(p, '/');
		if (slash == NULL) {
			fd = open_nofollow(dfd, p, flags, mode);
			break;
		}
		n = (size_t)(slash - p);
		if (n >= sizeof(comp)) {
			errno = ENAMETOOLONG;
			fd = -1;
			break;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		next = open_nofollow(dfd, comp, O_PATH | O_DIRECTORY, 0);
		if (dfd != sb->root_fd) {
			saved = errno;
			close(dfd);
			errno = saved;
		}
		dfd = sb->root_fd;
		if (next < 0) {
			fd = -1;
			break;
		}
		dfd = next;
		p = slash + 1;
	}
	if (dfd != sb->root_fd) {
		saved = errno;
		close(dfd);
		errno = saved;
	}
	return fd;
}

int
sandbox_open_at(const struct sandbox *sb, const char *vpath, int flags,
    mode_t mode, int *fdp)
{
	struct open_how how;
	int fd;

	*fdp = -1;
	if (vpath[0] != '/')
		return WH_ERR_INVALID_PATH;
	if (sb->walk_only) {
		fd = walk_open(sb, vpath, flags, mode);
	} else {
		memset(&how, 0, sizeof(how));
		how.flags = (uint64_t)(flags | O_CLOEXEC);
		/* O_TMPFILE includes O_DIRECTORY's bit: test it whole. */
		how.mode =
		    ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ?
		    mode :
		    0;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
		do {
			fd = (int)syscall(SYS_openat2, sb->root_fd,
			    relative(vpath), &how, sizeof(how));
		} while (fd < 0 && (errno == EAGAIN || errno == EINTR));
	}
	if (fd < 0)
		return wh_err_from_errno(errno);
	*fdp = fd;
	return 0;
}

static int
open_parent(const struct sandbox *sb, const char *vpath, int flags, int *dirfdp,
    char name[SANDBOX_NAME_MAX])
{
	char parent[SANDBOX_VPATH_MAX];
	const char *base = sandbox_basename(vpath);
	size_t plen;

	*dirfdp = -1;
	if (vpath[0] != '/' || vpath[1] == '\0')
		return WH_ERR_INVALID_PATH;
	if (strlen(base) >= SANDBOX_NAME_MAX)
		return WH_ERR_INVALID_PATH;
	plen = (size_t)(base - vpath);
	if (plen > 1)
		plen--; /* drop the slash before the name */
	if (plen >= sizeof(parent))
		return WH_ERR_INVALID_PATH;
	memcpy(parent, vpath, plen);
	parent[plen] = '\0';
	snprintf(name, SANDBOX_NAME_MAX, "%s", base);
	return sandbox_open_at(sb, parent, flags | O_DIRECTORY, 0, dirfdp);
}

int
sandbox_open_parent(const struct sandbox *sb, const char *vpath, int *dirfdp,
    char name[SANDBOX_NAME_MAX])
{
	return open_parent(sb, vpath, O_PATH, dirfdp, name);
}

int
sandbox_open_parent_dir(const struct sandbox *sb, const char *vpath,
    int *dirfdp, char name[SANDBOX_NAME_MAX])
{
	return open_parent(sb, vpath, O_RDONLY, dirfdp, name);
}

int
sandbox_mkdirs(const struct sandbox *sb, const char *vpath)
{
	char prefix[SANDBOX_VPATH_MAX], name[SANDBOX_NAME_MAX];
	size_t i, n = strlen(vpath);
	int dfd, fd, r;

	if (n >= sizeof(prefix))
		return WH_ERR_INVALID_PATH;
	for (i = 1; i <= n; i++) {
		if (vpath[i] != '/' && vpath[i] != '\0')
			continue;
		memcpy(prefix, vpath, i);
		prefix[i] = '\0';
		if ((r = sandbox_open_parent(sb, prefix, &dfd, name)) != 0)
			return r;
		r = mkdirat(dfd, name, 0755) == 0 || errno == EEXIST ?
		    0 :
		    wh_err_from_errno(errno);
		close(dfd);
		if (r != 0)
			return r;
	}
	/* Whatever existed must be a folder reached inside the jail. */
	if ((r = sandbox_open_at(sb, vpath, O_PATH | O_DIRECTORY, 0, &fd)) != 0)
		return r;
	close(fd);
	return 0;
}

int
sandbox_open_sub(
    const struct sandbox *sb, const char *vpath, struct sandbox *out)
{
	int fd, r;

	if ((r = sandbox_open_at(sb, vpath, O_RDONLY | O_DIRECTORY, 0, &fd)) !=
	    0)
		return r;
	out->root_fd = fd;
	out->walk_only = sb->walk_only;
	return 0;
}
