/* SPDX-License-Identifier: MIT */
/*
 * What the server is doing, for `wharf status`, `wharf kick` and the
 * metrics (server/control.c): a table of the connections it serves, each
 * with the figures its own thread keeps and others read, and the
 * server-wide totals. Session threads write their entry only; the control
 * thread reads all of them and may ask one to end.
 */
#ifndef WHARF_WATCH_H
#define WHARF_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "wharf/buf.h"
#include "wharf/io.h"

/* Why a session must end, as the control thread or a users file change
 * decided. WATCH_END_NONE: it may go on. */
enum watch_end {
	WATCH_END_NONE = 0,
	WATCH_END_KICKED, /* wharf kick */
	WATCH_END_DELETED, /* the user is gone from the users file */
	WATCH_END_DISABLED, /* wharf user mod --disable */
	WATCH_END_LOGOUT, /* wharf user passwd --logout */
};

/* A kicked session that has not gone this long after its socket's read
 * side was shut has its write side shut too (a send stuck on a client
 * that does not read). */
#define WATCH_KICK_GRACE_MS 2000

struct watch_entry;

/* Records the server's start (for uptime). Once, before any session. */
void watch_start(void);

/*
 * A connection being served: id, "ip:port", and its io, whose byte
 * counters the table reads and whose socket a kick shuts. NULL when out
 * of memory: the connection is served, unwatched (every call below takes
 * NULL and does nothing).
 */
struct watch_entry *
watch_add(uint64_t id, const char *peer, struct wire_io *io);
/* Before io is freed. Its bytes go to the totals. */
void watch_remove(struct watch_entry *e);

/* Logged in (or joined) as user, under the user's logout generation. */
void
watch_logged_in(struct watch_entry *e, const char *user, uint64_t logout_gen);

/* The request now served: op ("put", "get", "ls", ...) and, for the long
 * ones, its path as the peer sent it (shown with control bytes and tabs
 * replaced). watch_idle: nothing. */
void
watch_op(struct watch_entry *e, const char *op, const void *path, size_t len);
void watch_idle(struct watch_entry *e);

/*
 * Whether the session must end now: a kick, or a users file that changed
 * since the session last looked and no longer lets its user in (deleted,
 * disabled, logged out). Called by the session's thread before each
 * request; the file is stat'ed each time and read only when it changed.
 */
enum watch_end watch_must_end(struct watch_entry *e, const char *users_path);
/* Text for the client and the log. */
const char *watch_end_text(enum watch_end why);

/* Server-wide counters, from the session threads. */
void watch_count_login(int ok);
/* dir "put" or "get"; r 0, WH_ERR_CANCELLED, or another error. */
void watch_count_transfer(const char *dir, int r);
/* One commit (a direct one, or a group commit of small files). */
void watch_count_commit(double seconds);

/* The control thread's side. */

/* Ends the sessions with this id (id != 0) or of this user (user !=
 * NULL): returns how many. */
int watch_kick(uint64_t id, const char *user, enum watch_end why);
/* Reads the users file if it changed since the last call and ends the
 * sessions whose user it no longer lets in; shuts kicked sessions that
 * outstayed WATCH_KICK_GRACE_MS. Every second or so. */
void watch_tick(const char *users_path);
/* The status answer (docs/design.md, "Control socket"). */
int watch_status(struct buf *out) WH_MUST_CHECK;
/* The Prometheus text exposition, version 0.0.4. */
int watch_metrics(struct buf *out) WH_MUST_CHECK;

#endif
