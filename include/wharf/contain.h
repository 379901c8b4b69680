/* SPDX-License-Identifier: MIT */
/*
 * Containment of the server process, applied once at start, after the
 * listeners, keys and files are open and before the first peer byte is
 * read: drop root for a service user, no new privileges, Landlock on the
 * served root and the state folder, and a seccomp allowlist.
 */
#ifndef WHARF_CONTAIN_H
#define WHARF_CONTAIN_H

#include <sys/types.h>

#include "wharf/err.h"

/* The service user a server started as root drops to without --user. */
#define CONTAIN_USER_DEFAULT "wharf"
/* In the state folder, the file that stays root's when the state goes to
 * the service user: the first admin password (serve.c keeps it there). */
#define CONTAIN_ROOT_ONLY_FILE "admin-password"

/* What the contained process may still reach by name. */
struct contain_paths {
	const char *root; /* canonical served root: read and write */
	const char *state; /* canonical state folder: read and write */
	const char *stats; /* --stats CSV (appended), or NULL */
	/* Read again on SIGHUP: its folder stays readable (an editor
	 * replaces the file). Canonical, or NULL. */
	const char *config;
	/* Opened again on SIGHUP (logrotate moved it): files may be made
	 * and written in its folder. NULL: stderr. */
	const char *log;
};

/* The user a root-started server runs as, resolved before any change. */
struct contain_user {
	char name[64];
	uid_t uid;
	gid_t gid;
};

/*
 * The whole sequence, for serve_main: umask and core limit, then (as
 * root) hand the state folder to the service user and drop to it, then
 * no-new-privs, Landlock and seccomp. user is --user or NULL. Says once
 * in the log what the kernel lacks and carries on without it; fails
 * (with a message on stderr) only where serving would be unsafe or
 * could not work. Call before any thread starts.
 */
int
contain_server(const char *user, const struct contain_paths *p) WH_MUST_CHECK;

/*
 * Looks up name (NULL: CONTAIN_USER_DEFAULT) in the password database.
 * WH_ERR_NOT_FOUND if it does not exist, WH_ERR_PERMISSION for uid 0.
 */
int
contain_resolve_user(const char *name, struct contain_user *out) WH_MUST_CHECK;

/*
 * From root to u for good: supplementary groups, gid, uid, the bounding
 * and ambient capability sets; then checks that root cannot be regained
 * and no capability is left. WH_ERR_PERMISSION if any step fails.
 */
int contain_drop_privileges(const struct contain_user *u) WH_MUST_CHECK;

/*
 * Limits the calling thread and its future threads to p's paths.
 * 0 when applied, WH_ERR_UNSUPPORTED (with *why set) when the kernel
 * lacks Landlock or an ABI the server needs; other codes are failures.
 */
int
contain_landlock(const struct contain_paths *p, const char **why) WH_MUST_CHECK;

/*
 * Narrows the calling session thread (and threads it starts) to the home
 * folder open at home_fd, the state folder and the stats file; the rest
 * of the process keeps the root. A no-op where contain_landlock was not
 * applied. Landlock holds a thread against a path mistake of its own,
 * not against code run in it, which can reach the other threads' memory.
 */
int contain_thread_home(int home_fd) WH_MUST_CHECK;

/*
 * Installs the system-call allowlist on every thread. 0 when installed,
 * WH_ERR_UNSUPPORTED (with *why set) when the kernel or the build lacks
 * seccomp.
 */
int contain_seccomp(const char **why) WH_MUST_CHECK;

#endif
