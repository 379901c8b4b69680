/* SPDX-License-Identifier: MIT */
/*
 * Access rules beyond the jail: passcode-protected files (quotas are in
 * quota.c). Protection is keyed by a file's canonical path below the root,
 * taken from the open fd (/proc/self/fd), so a symlink inside the tree
 * cannot reach a protected file under another name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wharf/msg.h"
#include "wharf/session.h"

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
