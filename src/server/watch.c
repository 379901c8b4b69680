/* SPDX-License-Identifier: MIT */
/*
 * The table of connections being served and the server's counters
 * (watch.h). One mutex guards the table's links; each entry has its own
 * for the strings its session changes (user, operation, path), and plain
 * atomics for the rest, so that a status or a scrape never waits for a
 * session's request and a session never waits for more than a copy.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wharf/clock.h"
#include "wharf/log.h"
#include "wharf/users.h"
#include "wharf/watch.h"

#define WATCH_OP_MAX 24
#define WATCH_PATH_MAX 256
#define WATCH_PEER_MAX 64

/* What identifies one version of the users file: it is always replaced
 * by a rename (users_save), so a new inode, but an editor may write it in
 * place, hence the times and size too. */
struct users_sig {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	int valid;
};

struct watch_entry {
	struct watch_entry *prev, *next; /* under table_mu */
	uint64_t id;
	char peer[WATCH_PEER_MAX];
	time_t since; /* connected, wall clock */
	struct wire_io *io;
	atomic_int end; /* enum watch_end */
	_Atomic int64_t end_at; /* when end was set (monotonic ms) */
	atomic_int shut_all; /* both directions shut after the grace */

	pthread_mutex_t mu; /* the fields below */
	char user[USERS_NAME_MAX + 1]; /* "" before login */
	uint64_t logout_gen;
	char op[WATCH_OP_MAX]; /* "" when idle */
	char path[WATCH_PATH_MAX];
	int64_t op_ms; /* the operation began (monotonic ms) */
	uint64_t op_bytes; /* bytes in and out when it began */

	/* The session's thread alone. */
	struct users_sig seen;
};

static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;
static struct watch_entry *table;
static int table_count;
/* Bytes of the connections that ended, so that totals never go down. */
static uint64_t closed_in, closed_out;

static time_t started_wall;
static int64_t started_mono;

/* Histogram bounds of wharf_commit_seconds, in seconds. */
static const double commit_bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define COMMIT_BUCKETS (sizeof(commit_bounds) / sizeof(commit_bounds[0]))

enum { XFER_PUT, XFER_GET, XFER_DIRS };
enum { RES_OK, RES_FAILED, RES_CANCELLED, RES_KINDS };
static const char *const dir_names[XFER_DIRS] = { "put", "get" };
static const char *const res_names[RES_KINDS] = { "ok", "failed", "cancelled" };

static struct {
	_Atomic uint64_t logins_ok, logins_failed;
	_Atomic uint64_t transfers[XFER_DIRS][RES_KINDS];
	_Atomic uint64_t commit_bucket[COMMIT_BUCKETS + 1]; /* +Inf last */
	_Atomic uint64_t commit_us; /* sum, microseconds */
	_Atomic uint64_t commits;
} counters;

static uint64_t
load64(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static void
inc64(_Atomic uint64_t *v, uint64_t n)
{
	atomic_fetch_add_explicit(v, n, memory_order_relaxed);
}

void
watch_start(void)
{
	started_wall = time(NULL);
	started_mono = clock_mono_ms();
}

struct watch_entry *
watch_add(uint64_t id, const char *peer, struct wire_io *io)
{
	struct watch_entry *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->id = id;
	snprintf(e->peer, sizeof(e->peer), "%s", peer);
	e->since = time(NULL);
	e->io = io;
	pthread_mutex_init(&e->mu, NULL);
	pthread_mutex_lock(&table_mu);
	e->next = table;
	if (table != NULL)
		table->prev = e;
	table = e;
	table_count++;
	pthread_mutex_unlock(&table_mu);
	return e;
}

void
watch_remove(struct watch_entry *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&table_mu);
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		table = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	table_count--;
	closed_in += wire_io_bytes_in(e->io);
	closed_out += wire_io_bytes_out(e->io);
	pthread_mutex_unlock(&table_mu);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

void
watch_logged_in(struct watch_entry *e, const char *user, uint64_t logout_gen)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&e->mu);
	snprintf(e->user, sizeof(e->user), "%s", user);
	e->logout_gen = logout_gen;
	pthread_mutex_unlock(&e->mu);
	/* Not seen yet: the first request reads the file again, so that a
	 * change between the login's read and now is not missed. */
	e->seen.valid = 0;
}

static uint64_t
io_bytes(const struct watch_entry *e)
{
	return wire_io_bytes_in(e->io) + wire_io_bytes_out(e->io);
}

void
watch_op(struct watch_entry *e, const char *op, const void *path, size_t len)
{
	const unsigned char *p = path;
	size_t i, n;

	if (e == NULL)
		return;
	n = len < WATCH_PATH_MAX - 1 ? len : WATCH_PATH_MAX - 1;
	pthread_mutex_lock(&e->mu);
	snprintf(e->op, sizeof(e->op), "%s", op);
	/* Shown in a tab-separated answer and in JSON: no control bytes. */
	for (i = 0; i < n; i++)
		e->path[i] = p[i] < 0x20 || p[i] == 0x7f ? '?' : (char)p[i];
	e->path[n] = '\0';
	e->op_ms = clock_mono_ms();
	e->op_bytes = io_bytes(e);
	pthread_mutex_unlock(&e->mu);
}

void
watch_idle(struct watch_entry *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&e->mu);
	e->op[0] = e->path[0] = '\0';
	pthread_mutex_unlock(&e->mu);
}

const char *
watch_end_text(enum watch_end why)
{
	switch (why) {
	case WATCH_END_KICKED:
		return "session ended by the server's administrator";
	case WATCH_END_DELETED:
		return "session ended: the user was deleted";
	case WATCH_END_DISABLED:
		return "session ended: the user was disabled";
	case WATCH_END_LOGOUT:
		return "session ended: the password was changed with --logout";
	default:
		return "";
	}
}

/* What the users file (usr, NULL if the user is not in it) says of a
 * session that logged in under logout_gen. */
static enum watch_end
verdict(const struct user *usr, uint64_t logout_gen)
{
	if (usr == NULL)
		return WATCH_END_DELETED;
	if (usr->disabled)
		return WATCH_END_DISABLED;
	if (usr->logout > logout_gen)
		return WATCH_END_LOGOUT;
	return WATCH_END_NONE;
}

static int
users_sig_read(const char *path, struct users_sig *sig)
{
	struct stat st;

	memset(sig, 0, sizeof(*sig));
	if (stat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1; /* a missing file: no one */
	sig->dev = st.st_dev;
	sig->ino = st.st_ino;
	sig->size = st.st_size;
	sig->mtime = st.st_mtim;
	sig->ctime = st.st_ctim;
	sig->valid = 1;
	return 0;
}

static int
users_sig_same(const struct users_sig *a, const struct users_sig *b)
{
	return a->valid == b->valid && a->dev == b->dev && a->ino == b->ino &&
	    a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec &&
	    a->ctime.tv_sec == b->ctime.tv_sec &&
	    a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* Sets why, once; the first reason stays. */
static int
set_end(struct watch_entry *e, enum watch_end why)
{
	int none = WATCH_END_NONE;

	if (!atomic_compare_exchange_strong(&e->end, &none, (int)why))
		return 0;
	atomic_store(&e->end_at, clock_mono_ms());
	return 1;
}

enum watch_end
watch_must_end(struct watch_entry *e, const char *users_path)
{
	struct users_sig now;
	struct user usr;
	char user[USERS_NAME_MAX + 1];
	uint64_t gen;
	int r;

	if (e == NULL)
		return WATCH_END_NONE;
	if (atomic_load(&e->end) != WATCH_END_NONE)
		return (enum watch_end)atomic_load(&e->end);
	pthread_mutex_lock(&e->mu);
	memcpy(user, e->user, sizeof(user));
	gen = e->logout_gen;
	pthread_mutex_unlock(&e->mu);
	if (user[0] == '\0' || users_sig_read(users_path, &now) != 0 ||
	    (e->seen.valid && users_sig_same(&now, &e->seen)))
		return WATCH_END_NONE;
	r = now.valid ? users_lookup(users_path, user, &usr) : WH_ERR_NOT_FOUND;
	if (r != 0 && r != WH_ERR_NOT_FOUND)
		return WATCH_END_NONE; /* cannot tell now: look again next time */
	e->seen = now;
	set_end(e, verdict(r == 0 ? &usr : NULL, gen));
	sodium_memzero(&usr, sizeof(usr));
	return (enum watch_end)atomic_load(&e->end);
}

/* Ends e (under table_mu): the session's thread notices at its next
 * request, or at once when waiting for one, as its socket reads EOF. */
static int
end_session(struct watch_entry *e, enum watch_end why)
{
	if (!set_end(e, why))
		return 0;
	shutdown(wire_io_fd(e->io), SHUT_RD);
	return 1;
}

int
watch_kick(uint64_t id, const char *user, enum watch_end why)
{
	struct watch_entry *e;
	int n = 0, match;

	pthread_mutex_lock(&table_mu);
	for (e = table; e != NULL; e = e->next) {
		pthread_mutex_lock(&e->mu);
		match = (id != 0 && e->id == id) ||
		    (user != NULL && strcmp(e->user, user) == 0);
		pthread_mutex_unlock(&e->mu);
		if (match && end_session(e, why))
			n++;
	}
	pthread_mutex_unlock(&table_mu);
	return n;
}

/* The users file as the control thread last read it. */
static struct users_sig tick_seen;

static void
check_users(const char *users_path)
{
	struct users_sig now;
	struct users u;
	struct watch_entry *e;
	enum watch_end why;
	int bad;

	if (users_sig_read(users_path, &now) != 0 ||
	    users_sig_same(&now, &tick_seen))
		return;
	memset(&u, 0, sizeof(u));
	if (now.valid && users_load(users_path, &u, &bad) != 0)
		return; /* damaged or unreadable now: no one is ended for it */
	tick_seen = now;
	pthread_mutex_lock(&table_mu);
	for (e = table; e != NULL; e = e->next) {
		pthread_mutex_lock(&e->mu);
		why = e->user[0] == '\0' ?
		    WATCH_END_NONE :
		    verdict(users_find(&u, e->user), e->logout_gen);
		pthread_mutex_unlock(&e->mu);
		if (why != WATCH_END_NONE && end_session(e, why))
			log_info("session=%llu %s", (unsigned long long)e->id,
			    watch_end_text(why));
	}
	pthread_mutex_unlock(&table_mu);
	users_cleanup(&u);
}

void
watch_tick(const char *users_path)
{
	struct watch_entry *e;
	int64_t now = clock_mono_ms();

	check_users(users_path);
	pthread_mutex_lock(&table_mu);
	for (e = table; e != NULL; e = e->next)
		if (atomic_load(&e->end) != WATCH_END_NONE &&
		    now - atomic_load(&e->end_at) > WATCH_KICK_GRACE_MS &&
		    !atomic_exchange(&e->shut_all, 1))
			shutdown(wire_io_fd(e->io), SHUT_RDWR);
	pthread_mutex_unlock(&table_mu);
}

void
watch_count_login(int ok)
{
	inc64(ok ? &counters.logins_ok : &counters.logins_failed, 1);
}

void
watch_count_transfer(const char *dir, int r)
{
	int d = strcmp(dir, "get") == 0 ? XFER_GET : XFER_PUT;
	int k = r == 0            ? RES_OK :
	    r == WH_ERR_CANCELLED ? RES_CANCELLED :
	                            RES_FAILED;

	inc64(&counters.transfers[d][k], 1);
}

void
watch_count_commit(double seconds)
{
	size_t i;

	for (i = 0; i < COMMIT_BUCKETS && seconds > commit_bounds[i]; i++)
		;
	inc64(&counters.commit_bucket[i], 1);
	inc64(&counters.commit_us,
	    seconds > 0 ? (uint64_t)(seconds * 1e6 + 0.5) : 0);
	inc64(&counters.commits, 1);
}

/* Under table_mu: bytes of every connection, ended or not. */
static void
bytes_total(uint64_t *in, uint64_t *out, int *logged_in)
{
	struct watch_entry *e;

	*in = closed_in;
	*out = closed_out;
	*logged_in = 0;
	for (e = table; e != NULL; e = e->next) {
		*in += wire_io_bytes_in(e->io);
		*out += wire_io_bytes_out(e->io);
		pthread_mutex_lock(&e->mu);
		*logged_in += e->user[0] != '\0';
		pthread_mutex_unlock(&e->mu);
	}
}

static uint64_t
transfers_of(int k)
{
	return load64(&counters.transfers[XFER_PUT][k]) +
	    load64(&counters.transfers[XFER_GET][k]);
}

static int
status_session(struct buf *out, struct watch_entry *e, int64_t now)
{
	uint64_t in = wire_io_bytes_in(e->io), o = wire_io_bytes_out(e->io);
	double secs = 0, rate = 0;
	int r;

	pthread_mutex_lock(&e->mu);
	if (e->op[0] != '\0') {
		secs = (double)(now - e->op_ms) / 1000.0;
		if (secs > 0)
			rate = (double)(in + o - e->op_bytes) / secs;
	}
	r = buf_putf(out,
	    "session\tid=%llu\tuser=%s\tpeer=%s\tsince=%lld\top=%s\t"
	    "op_secs=%.1f\tbytes_in=%llu\tbytes_out=%llu\trate=%.0f\t"
	    "ending=%d\tpath=%s\n",
	    (unsigned long long)e->id, e->user[0] ? e->user : "-", e->peer,
	    (long long)e->since, e->op[0] ? e->op : "idle", secs,
	    (unsigned long long)in, (unsigned long long)o, rate,
	    atomic_load(&e->end) != WATCH_END_NONE, e->path);
	pthread_mutex_unlock(&e->mu);
	return r;
}

int
watch_status(struct buf *out)
{
	struct watch_entry *e;
	uint64_t in, o;
	int64_t now = clock_mono_ms();
	int r, logged_in;

	pthread_mutex_lock(&table_mu);
	bytes_total(&in, &o, &logged_in);
	r = buf_putf(out,
	    "ok\nserver\tpid=%ld\tversion=%s\tstarted=%lld\tuptime=%lld\t"
	    "connections=%d\tlogged_in=%d\tbytes_in=%llu\tbytes_out=%llu\t"
	    "logins_ok=%llu\tlogins_failed=%llu\ttransfers_ok=%llu\t"
	    "transfers_failed=%llu\ttransfers_cancelled=%llu\n",
	    (long)getpid(), WHARF_VERSION, (long long)started_wall,
	    (long long)((now - started_mono) / 1000), table_count, logged_in,
	    (unsigned long long)in, (unsigned long long)o,
	    (unsigned long long)load64(&counters.logins_ok),
	    (unsigned long long)load64(&counters.logins_failed),
	    (unsigned long long)transfers_of(RES_OK),
	    (unsigned long long)transfers_of(RES_FAILED),
	    (unsigned long long)transfers_of(RES_CANCELLED));
	for (e = table; e != NULL && r == 0; e = e->next)
		r = status_session(out, e, now);
	pthread_mutex_unlock(&table_mu);
	return r != 0 ? r : buf_putf(out, "end\n");
}

static int
metric_head(
    struct buf *out, const char *name, const char *type, const char *help)
{
	return buf_putf(
	    out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int
metrics_histogram(struct buf *out)
{
	uint64_t cum = 0;
	size_t i;
	int r;

	if ((r = metric_head(out, "wharf_commit_seconds", "histogram",
	         "Time to make uploads durable: fsync, rename, folder "
	         "sync (a group commit of small files is one).")) != 0)
		return r;
	for (i = 0; i <= COMMIT_BUCKETS && r == 0; i++) {
		cum += load64(&counters.commit_bucket[i]);
		if (i < COMMIT_BUCKETS)
			r = buf_putf(out,
			    "wharf_commit_seconds_bucket{le=\"%g\"} %llu\n",
			    commit_bounds[i], (unsigned long long)cum);
		else
			r = buf_putf(out,
			    "wharf_commit_seconds_bucket{le=\"+Inf\"} %llu\n",
			    (unsigned long long)cum);
	}
	if (r == 0)
		r = buf_putf(out,
		    "wharf_commit_seconds_sum %.6f\n"
		    "wharf_commit_seconds_count %llu\n",
		    (double)load64(&counters.commit_us) / 1e6,
		    (unsigned long long)load64(&counters.commits));
	return r;
}

int
watch_metrics(struct buf *out)
{
	uint64_t in, o;
	int d, k, r, logged_in, conns;

	pthread_mutex_lock(&table_mu);
	bytes_total(&in, &o, &logged_in);
	conns = table_count;
	pthread_mutex_unlock(&table_mu);
	if ((r = metric_head(out, "wharf_connections", "gauge",
	         "Connections being served, logged in or not.")) != 0 ||
	    (r = buf_putf(out, "wharf_connections %d\n", conns)) != 0 ||
	    (r = metric_head(out, "wharf_sessions", "gauge",
	         "Connections logged in.")) != 0 ||
	    (r = buf_putf(out, "wharf_sessions %d\n", logged_in)) != 0 ||
	    (r = metric_head(out, "wharf_logins_total", "counter",
	         "Logins by result.")) != 0 ||
	    (r = buf_putf(out,
	         "wharf_logins_total{result=\"ok\"} %llu\n"
	         "wharf_logins_total{result=\"failed\"} %llu\n",
	         (unsigned long long)load64(&counters.logins_ok),
	         (unsigned long long)load64(&counters.logins_failed))) != 0 ||
	    (r = metric_head(out, "wharf_bytes_total", "counter",
	         "Bytes on the clients' connections (protocol and "
	         "encryption included).")) != 0 ||
	    (r = buf_putf(out,
	         "wharf_bytes_total{direction=\"in\"} %llu\n"
	         "wharf_bytes_total{direction=\"out\"} %llu\n",
	         (unsigned long long)in, (unsigned long long)o)) != 0 ||
	    (r = metric_head(out, "wharf_transfers_total", "counter",
	         "Files uploaded (put) and downloaded (get), by result.")) != 0)
		return r;
	for (d = 0; d < XFER_DIRS; d++)
		for (k = 0; k < RES_KINDS; k++)
			if ((r = buf_putf(out,
			         "wharf_transfers_total{op=\"%s\",result=\"%s\"} "
			         "%llu\n",
			         dir_names[d], res_names[k],
			         (unsigned long long)load64(
			             &counters.transfers[d][k]))) != 0)
				return r;
	if ((r = metrics_histogram(out)) != 0 ||
	    (r = metric_head(out, "wharf_start_time_seconds", "gauge",
	         "When the server started, seconds since the epoch.")) != 0 ||
	    (r = buf_putf(out, "wharf_start_time_seconds %lld\n",
	         (long long)started_wall)) != 0 ||
	    (r = metric_head(out, "wharf_uptime_seconds", "gauge",
	         "Seconds since the server started.")) != 0)
		return r;
	return buf_putf(out, "wharf_uptime_seconds %.3f\n",
	    (double)(clock_mono_ms() - started_mono) / 1000.0);
}
