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

#include "wharf/clock.h"
#include "wharf/guard.h"
#include "wharf/msg.h"
#include "wharf/session.h"
#include "wharf/xfer.h"

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
	int64_t deadline = guard_now_ms() + GUARD_PASSCODE_WAIT_MS, at;
	struct guard_ticket tk;
	int r;

	if (!protect_is(s->srv->protect, rpath))
		return 0;
	if (passcode == NULL || msg_text(passcode, pc, sizeof(pc)) != 0)
		pc[0] = '\0';
	if (pc[0] == '\0') {
		/* None given is no guess (a tree fetched without
		 * passcodes): the first failure's pause, and no record. */
		at = GUARD_DELAY_BASE_MS;
	} else {
		/* Its turn among this user's checks of the file and
		 * everyone's (docs/protocol.md §10.2); refused unchecked if
		 * it cannot come soon, which says nothing of the passcode. */
		r = guard_passcode_begin(&tk, s->user, rpath, deadline);
		if (r != 0) {
			sodium_memzero(pc, sizeof(pc));
			return session_fail(s, WH_ERR_BUSY, "%s",
			    "too many wrong passcodes for this file; try "
			    "again later");
		}
		/* Slots of their own: passcode checks never hold up a
		 * login. */
		sem_wait(&s->srv->passcode_slots);
		r = protect_check(s->srv->protect, rpath, pc);
		sem_post(&s->srv->passcode_slots);
		sodium_memzero(pc, sizeof(pc));
		at = guard_end(&tk,
		    r == 0                     ? GUARD_PASS :
		        r == WH_ERR_PERMISSION ? GUARD_FAIL :
		                                 GUARD_VOID);
		if (r == 0)
			return 0;
		at = (at < deadline ? at : deadline) - guard_now_ms();
	}
	/* One answer for "none given" and "wrong". */
	clock_sleep_ms(at);
	return session_fail(
	    s, WH_ERR_PERMISSION, "protected file: passcode missing or wrong");
}
