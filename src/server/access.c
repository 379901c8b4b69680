/* SPDX-License-Identifier: MIT */
/*
 * Access rules beyond the jail: passcode-protected files and per-user
 * quotas. Protection is keyed by a file's canonical path below the root,
 * taken from the open fd (/proc/self/fd), so a symlink inside the tree
 * cannot reach a protected file under another name.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wharf/msg.h"
#include "wharf/session.h"
#include "wharf/xfer.h"

#define ACCESS_USAGE_TTL 2.0 /* seconds a usage count stays fresh */
#define ACCESS_WALK_DEPTH 128

static double
mono_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 if no component of rpath is a partial's name. */
static int
reachable(const char *rpath)
{
	const char *p = rpath, *slash;
	size_t n;

	while (*p != '\0') {
		if ((slash = strchr(p, '/')) == NULL)
			slash = p + strlen(p);
		n = (size_t)(slash - p);
		if (xfer_partial_is(p, n))
			return 0;
		p = *slash != '\0' ? slash + 1 : slash;
	}
	return 1;
}

int
session_rpath_fd(struct session *s, int fd, char out[SANDBOX_VPATH_MAX])
{
	char link[64], real[PATH_MAX];
	size_t rl = strlen(s->srv->root_real);
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, real, sizeof(real) - 1)) < 0)
		return wh_err_from_errno(errno);
	real[n] = '\0';
	if (strcmp(s->srv->root_real, "/") == 0)
		rl = 0;
	if (strncmp(real, s->srv->root_real, rl) != 0 ||
	    (real[rl] != '\0' && real[rl] != '/'))
		return WH_ERR_INVALID_PATH; /* cannot happen: jailed fd */
	if (snprintf(out, SANDBOX_VPATH_MAX, "%s",
	        real[rl] ? real + rl : "/") >= SANDBOX_VPATH_MAX)
		return WH_ERR_INVALID_PATH;
	/* The path a peer sent had no partial's name, but a symbolic link
	 * (placed by a local user) may still lead to one. */
	if (!reachable(out))
		return session_fail(s, WH_ERR_INVALID_PATH, "%s",
		    "invalid path: leads to a partial upload");
	return 0;
}

int
session_rpath_at(
    struct session *s, int dirfd, const char *name, char out[SANDBOX_VPATH_MAX])
{
	char dir[SANDBOX_VPATH_MAX];
	int r;

	if ((r = session_rpath_fd(s, dirfd, dir)) != 0)
		return r;
	if (snprintf(out, SANDBOX_VPATH_MAX, "%s/%s",
	        strcmp(dir, "/") == 0 ? "" : dir, name) >= SANDBOX_VPATH_MAX)
		return WH_ERR_INVALID_PATH;
	return 0;
}

int
session_check_passcode(
    struct session *s, const char *rpath, const ProtobufCBinaryData *passcode)
{
	char pc[PROTECT_PASSCODE_MAX + 1];
	struct timespec ts = { PROTECT_DELAY_MS / 1000,
		(long)(PROTECT_DELAY_MS % 1000) * 1000000L };
	int r;

	if (!protect_is(s->srv->protect, rpath))
		return 0;
	if (passcode == NULL || msg_text(passcode, pc, sizeof(pc)) != 0)
		pc[0] = '\0';
	sem_wait(&s->srv->pwhash_slots);
	r = protect_check(s->srv->protect, rpath, pc);
	sem_post(&s->srv->pwhash_slots);
	sodium_memzero(pc, sizeof(pc));
	if (r == 0)
		return 0;
	/* One answer for "none given" and "wrong": no hint which. */
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return session_fail(
	    s, WH_ERR_PERMISSION, "protected file: passcode missing or wrong");
}

/* Bytes of regular files beneath dirfd (closed here). */
static uint64_t
tree_bytes(int dirfd, int depth)
{
	struct dirent *de;
	struct stat st;
	uint64_t total = 0;
	DIR *d;
	int fd;

	if (depth > ACCESS_WALK_DEPTH || (d = fdopendir(dirfd)) == NULL) {
		close(dirfd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
		else if (S_ISDIR(st.st_mode) &&
		    (fd = openat(dirfd, de->d_name,
		         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
			total += tree_bytes(fd, depth + 1);
	}
	closedir(d);
	return total;
}

static uint64_t
home_usage(struct session *s)
{
	int fd;

	if (s->usage_at > 0 && mono_sec() - s->usage_at < ACCESS_USAGE_TTL)
		return s->usage;
	fd = openat(s->sb->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	s->usage = fd >= 0 ? tree_bytes(fd, 0) : 0;
	s->usage_at = mono_sec();
	return s->usage;
}

int
session_check_quota(struct session *s, uint64_t size, uint64_t old)
{
	uint64_t used, after;

	if (s->quota == 0)
		return 0;
	used = home_usage(s);
	after = used - (old < used ? old : used) + size;
	if (after <= s->quota)
		return 0;
	return session_fail(s, WH_ERR_TOO_LARGE,
	    "quota exceeded: %llu of "
	    "%llu bytes used, this file needs %llu more",
	    (unsigned long long)used, (unsigned long long)s->quota,
	    (unsigned long long)(size > old ? size - old : 0));
}

void
session_note_usage(struct session *s, uint64_t added, uint64_t removed)
{
	if (s->usage_at <= 0)
		return;
	s->usage = s->usage - (removed < s->usage ? removed : s->usage) + added;
}
