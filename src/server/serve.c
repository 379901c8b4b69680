/* SPDX-License-Identifier: MIT */
/*
 * `wharf serve`: start-up checks (folders, host key, first admin), the
 * listening sockets, and the accept loop that hands each connection to a
 * thread of its own, up to --max-clients.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wharf/accel.h"
#include "wharf/clock.h"
#include "wharf/conf.h"
#include "wharf/contain.h"
#include "wharf/control.h"
#include "wharf/file.h"
#include "wharf/handshake.h"
#include "wharf/log.h"
#include "wharf/msg.h"
#include "wharf/netaddr.h"
#include "wharf/notify.h"
#include "wharf/proxy.h"
#include "wharf/quota.h"
#include "wharf/server.h"
#include "wharf/session.h"
#include "wharf/startups.h"
#include "wharf/strnum.h"
#include "wharf/xfer.h"

#define SERVE_LISTEN_MAX 8
#define SERVE_ADMIN_PW_LEN 32
#define SERVE_BACKLOG 128
#define SERVE_THREAD_STACK (1024u * 1024u)
#define SERVE_REJECT_MAX 16
#define SERVE_REJECT_LINGER_MS 2000
#define SERVE_POLL_MS 500
/* The descriptor limit the server raises itself to (if the hard limit
 * allows): enough for thousands of sessions at SESSION_FD_BUDGET. */
#define SERVE_NOFILE_MAX 65536
/* Descriptors held besides the sessions': stdio, log, listeners, root,
 * state files, the stripe table (two per striped upload). */
#define SERVE_FD_BASE (32 + 2 * STRIPE_MAX)
/* Out of descriptors or memory, accept fails while the listener stays
 * readable: pause accepting, from this long doubling to the most. */
#define SERVE_ACCEPT_PAUSE_MS 100
#define SERVE_ACCEPT_PAUSE_MAX_MS 1000
/* Refusals logged one by one in a second; the rest are counted. */
#define SERVE_REFUSE_LOG_BURST 10
/* A balancer sends its PROXY header at once: a connection from one that
 * has not within this long is closed. */
#define SERVE_PROXY_TIMEOUT_MS 5000
#define SERVE_BUSY_TEXT "server busy: too many clients, try again later"
#define SERVE_SOURCE_TEXT \
	"server busy: too many connections from your address are not " \
	"logged in yet, try again later"
#define SERVE_STARTUPS_TEXT \
	"server busy: too many connections are logging in, try again later"

static atomic_int rejecting;

/* The signals the accept loop acts on arrive through this pipe: the
 * handler writes the signal's number as one byte, the loop reads it. */
static int signal_pipe[2] = { -1, -1 };

/* An episode of accept failing for lack of resources. The accept loop's
 * thread alone touches it. */
static struct {
	int64_t until; /* accepting again at (monotonic ms); 0: not paused */
	int pause_ms; /* the current pause, doubled per failure */
	int failures; /* in this episode; 0: none */
	int64_t since;
} accept_pause;

/*
 * After accept failed with e. Out of descriptors (EMFILE, ENFILE) or
 * memory (ENOBUFS, ENOMEM) the pending connection stays, the listener
 * stays readable and the loop would spin: stop polling the listeners for
 * a while (as sshd and nginx do), logging once per episode. Other errors
 * concern one connection only.
 */
static void
accept_failed(struct server *srv, int e)
{
	if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM)
		return;
	if (accept_pause.failures++ == 0) {
		accept_pause.since = clock_mono_ms();
		accept_pause.pause_ms = SERVE_ACCEPT_PAUSE_MS;
		log_error("cannot accept connections: %s; pausing (%d clients "
		          "connected)",
		    strerror(e), atomic_load(&srv->nclients));
	} else if ((accept_pause.pause_ms *= 2) > SERVE_ACCEPT_PAUSE_MAX_MS)
		accept_pause.pause_ms = SERVE_ACCEPT_PAUSE_MAX_MS;
	accept_pause.until = clock_mono_ms() + accept_pause.pause_ms;
}

/* A connection was accepted: an episode of failures is over. */
static void
accept_recovered(void)
{
	if (accept_pause.failures == 0)
		return;
	log_info("accepting connections again after %lld ms (%d failed "
	         "accepts)",
	    (long long)(clock_mono_ms() - accept_pause.since),
	    accept_pause.failures);
	accept_pause.failures = 0;
	accept_pause.until = 0;
}

static void
on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	/* Full (a burst of signals): the bytes already there suffice. */
	if (write(signal_pipe[1], &c, 1) < 0)
		errno = saved;
	errno = saved;
}

/* The loop's signals, blocked in every other thread (see spawn). */
static void
signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

/* SIGHUP, SIGTERM and SIGINT into signal_pipe; SIGPIPE ignored. Before
 * containment: no pipe can be made after it. */
static int
signals_install(void)
{
	struct sigaction sa;

	if (pipe2(signal_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		return WH_ERR_SYSTEM;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	return 0;
}

static void
serve_usage(FILE *f)
{
	char conf[PATH_MAX];

	conf_default_file(conf, sizeof(conf));
	fprintf(f,
	    "usage: wharf serve [--config FILE] [--check-config] [-v] "
	    "[--KEY VALUE ...]\n"
	    "\n"
	    "  --config FILE          KEY = VALUE lines (default, if it "
	    "exists:\n"
	    "                         %s); options here override it\n"
	    "  --check-config         check the configuration and exit "
	    "(0 if good)\n",
	    conf[0] != '\0' ? conf : "none");
	conf_usage(f);
	fprintf(f,
	    "\nEach option is also a key of the file (see wharf(1)); "
	    "booleans take =no\n(--keys-only=no). Default root and state: "
	    "as root %s and %s,\notherwise $XDG_DATA_HOME/wharf and "
	    "$XDG_STATE_HOME/wharf. SIGHUP reloads,\nSIGTERM stops "
	    "accepting and waits up to drain-timeout, then exits.\n",
	    CONF_ROOT_SYSTEM, CONF_STATE_SYSTEM);
}

/* Creates dir if needed and returns its canonical path in out. */
static int
prepare_dir(const char *dir, mode_t mode, char out[PATH_MAX])
{
	struct stat st;
	int r;

	if ((r = file_mkdirs(dir, mode)) != 0)
		return r;
	if (realpath(dir, out) == NULL)
		return WH_ERR_SYSTEM;
	if (stat(out, &st) != 0)
		return WH_ERR_SYSTEM;
	if (!S_ISDIR(st.st_mode))
		return WH_ERR_NOT_DIR;
	return 0;
}

/* 1 if path is dir or lies beneath it (both canonical). */
static int
path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return 1;
	return strncmp(path, dir, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

/* A users file with nobody in it gets an admin with a random password,
 * left in password (else "") to be shown once, after everything else the
 * start prints; only its hash is stored. */
static int
ensure_admin(const char *users_path, char password[SERVE_ADMIN_PW_LEN])
{
	struct users u;
	int r, bad;

	password[0] = '\0';
	if ((r = users_load(users_path, &u, &bad)) != 0) {
		if (r == WH_ERR_CORRUPT)
			fprintf(stderr,
			    "wharf: %s line %d is malformed; fix "
			    "or remove it\n",
			    users_path, bad);
		return r;
	}
	if (u.n > 0) {
		users_cleanup(&u);
		return 0;
	}
	users_random_password(password, SERVE_ADMIN_PW_LEN);
	if ((r = users_add(&u, "admin", password, 0)) != 0 ||
	    (r = users_save(users_path, &u)) != 0)
		sodium_memzero(password, SERVE_ADMIN_PW_LEN);
	users_cleanup(&u);
	return r;
}

/*
 * Takes the users file's lock (the one `wharf user` edits under) for the
 * first start: of several servers started at once on one empty state
 * folder, one makes the admin and the host key, the others wait for it
 * and load them. -1 if it cannot be taken.
 */
static int
lock_first_start(const char *state_real)
{
	char lockpath[PATH_MAX];
	int fd;

	if (snprintf(lockpath, sizeof(lockpath), "%s/%s.lock", state_real,
	        USERS_FILE_NAME) >= (int)sizeof(lockpath))
		return -1;
	if ((fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return -1;
	while (flock(fd, LOCK_EX) != 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

/*
 * Started as root with no terminal (a service, a script), the password
 * printed on stderr ends in a journal or a log that others may read: it
 * is also kept in STATE/admin-password, root's alone (0600, made before
 * the server drops to its account, which cannot read it), for the
 * administrator to read and remove. Returns whether the file was made.
 */
static int
keep_admin_password(const char *state, const char *password)
{
	char path[PATH_MAX], line[SERVE_ADMIN_PW_LEN + 2];
	int fd, ok;

	if (password[0] == '\0' || geteuid() != 0 || isatty(STDERR_FILENO))
		return 0;
	if (snprintf(path, sizeof(path), "%s/%s", state,
	        CONTAIN_ROOT_ONLY_FILE) >= (int)sizeof(path))
		return 0;
	snprintf(line, sizeof(line), "%s\n", password);
	/* A file left from an earlier users file names a dead password. */
	(void)unlink(path);
	fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return 0;
	ok = fchown(fd, 0, 0) == 0 && fchmod(fd, 0600) == 0 &&
	    file_write_all(fd, line, strlen(line)) == 0 && fsync(fd) == 0;
	sodium_memzero(line, sizeof(line));
	if (close(fd) != 0)
		ok = 0;
	if (!ok)
		(void)unlink(path);
	return ok;
}

/* The new admin's password, alone between rules so that it stands out
 * from the start-up lines above it. */
static void
show_admin_password(char password[SERVE_ADMIN_PW_LEN], const char *kept)
{
	if (password[0] == '\0')
		return;
	fprintf(stderr,
	    "wharf: "
	    "------------------------------------------------------------\n"
	    "wharf: created user 'admin' with password: %s\n",
	    password);
	if (kept != NULL)
		fprintf(stderr,
		    "wharf: also kept in %s (root only): remove it once "
		    "read; change it with 'wharf user passwd admin'\n",
		    kept);
	else
		fprintf(stderr,
		    "wharf: it is shown only this once; change it "
		    "with 'wharf user passwd admin'\n");
	fprintf(stderr,
	    "wharf: "
	    "------------------------------------------------------------\n");
	sodium_memzero(password, SERVE_ADMIN_PW_LEN);
}

static int
open_listeners(const char *spec, int *fds, int *nfds)
{
	char host[NETADDR_HOST_MAX], portstr[8], shown[NETADDR_STR_MAX];
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sl;
	uint16_t port;
	int fd, one = 1, zero = 0, r;

	*nfds = 0;
	if (spec == NULL)
		spec = "[::]";
	if (netaddr_split(spec, host, sizeof(host), &port, WIRE_PORT_DEFAULT) !=
	    0) {
		fprintf(stderr,
		    "wharf: --listen %s: expected HOST:PORT or "
		    "[IPV6]:PORT\n",
		    spec);
		return WH_ERR_INVALID_ARG;
	}
	snprintf(portstr, sizeof(portstr), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((r = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		fprintf(
		    stderr, "wharf: --listen %s: %s\n", spec, gai_strerror(r));
		return WH_ERR_INVALID_ARG;
	}
	for (ai = res; ai != NULL && *nfds < SERVE_LISTEN_MAX;
	     ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* "[::]" serves IPv4 too, through mapped addresses. */
		if (ai->ai_family == AF_INET6)
			setsockopt(
			    fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
		    listen(fd, SERVE_BACKLOG) != 0) {
			r = errno;
			close(fd);
			/* Both families of a dual-stack name: the second
			 * bind of the same port is expected to fail. */
			if (*nfds > 0 && r == EADDRINUSE)
				continue;
			errno = r;
			fprintf(stderr, "wharf: listen on %s: %s\n", spec,
			    strerror(r));
			continue;
		}
		sl = sizeof(ss);
		getsockname(fd, (struct sockaddr *)&ss, &sl);
		netaddr_format_sockaddr(
		    (struct sockaddr *)&ss, shown, sizeof(shown));
		log_info("listening on %s", shown);
		fds[(*nfds)++] = fd;
	}
	freeaddrinfo(res);
	return *nfds > 0 ? 0 : WH_ERR_SYSTEM;
}

struct conn_job {
	struct server *srv;
	int fd;
	char peer[SESSION_PEER_MAX];
	/* From a proxy-from balancer: a PROXY header comes first, and
	 * the start-up limits wait for the address it gives. */
	int proxied;
	struct sockaddr_storage ss;
	struct startups_ticket ticket; /* handed to the session */
	const char *refusal; /* the BUSY text, for reject_thread */
};

static int admit_startup(
    struct server *srv, struct conn_job *job, const struct sockaddr *sa);

/*
 * The PROXY header of a connection from a balancer: the client's address
 * replaces the balancer's (unless the header says LOCAL or UNKNOWN), and
 * only then do the per-address start-up limits see it. 0 to serve it, -1
 * if it was refused or closed (job is gone).
 */
static int
proxied_start(struct server *srv, struct conn_job *job)
{
	struct proxy_addr pa;
	char balancer[SESSION_PEER_MAX];
	int r;

	r = proxy_read(job->fd, clock_mono_ms() + SERVE_PROXY_TIMEOUT_MS, &pa);
	if (r != 0) {
		/* A health check that only connects is not an error. */
		if (r == WH_ERR_EOF)
			log_debug(
			    "peer=%s closed before a PROXY header", job->peer);
		else
			log_warn("peer=%s refused: no valid PROXY header (%s)",
			    job->peer, wh_strerror(r));
		close(job->fd);
		free(job);
		return -1;
	}
	if (!pa.keep) {
		memcpy(balancer, job->peer, sizeof(balancer));
		memcpy(&job->ss, &pa.src, sizeof(job->ss));
		netaddr_format_sockaddr(
		    (struct sockaddr *)&job->ss, job->peer, sizeof(job->peer));
		log_debug("peer=%s via balancer=%s", job->peer, balancer);
	}
	return admit_startup(srv, job, (struct sockaddr *)&job->ss);
}

static void *
conn_thread(void *arg)
{
	struct conn_job *job = arg;
	struct server *srv = job->srv;

	if (job->proxied && proxied_start(srv, job) != 0) {
		atomic_fetch_sub(&srv->nclients, 1);
		return NULL;
	}
	session_serve(srv, job->fd, job->peer, &job->ticket);
	free(job);
	atomic_fetch_sub(&srv->nclients, 1);
	return NULL;
}

/* Tells an over-limit client why, then lingers briefly so that closing
 * with its hello unread does not reset the connection before it reads
 * the answer. */
static void *
reject_thread(void *arg)
{
	struct conn_job *job = arg;
	struct pollfd pfd = { .fd = job->fd, .events = POLLIN };
	struct buf *out = buf_new(WIRE_FRAME_MAX_PREAUTH);
	char sink[4096];

	if (out != NULL &&
	    hs_server_refuse(out, WHARF__ERROR_CODE__BUSY, job->refusal) == 0 &&
	    send(job->fd, buf_ptr(out), buf_len(out),
	        MSG_NOSIGNAL | MSG_DONTWAIT) > 0) {
		shutdown(job->fd, SHUT_WR);
		while (poll(&pfd, 1, SERVE_REJECT_LINGER_MS) > 0 &&
		    recv(job->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
	}
	buf_free(out);
	close(job->fd);
	free(job);
	atomic_fetch_sub(&rejecting, 1);
	return NULL;
}

static int
spawn(void *(*fn)(void *), struct conn_job *job)
{
	pthread_attr_t attr;
	sigset_t block, old;
	pthread_t t;
	int r;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, SERVE_THREAD_STACK);
	/* The new thread inherits the mask: the loop's signals go to the
	 * loop alone, never interrupting a session's system call. */
	signal_set(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	r = pthread_create(&t, &attr, fn, job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return r;
}

/*
 * Logs a refusal: one line each for the first SERVE_REFUSE_LOG_BURST in a
 * second, then one line with the count, so that a peer reconnecting in a
 * loop cannot flood the log. The accept thread and the threads reading a
 * balancer's PROXY header call it.
 */
static void
log_refusal(const char *peer, const char *why)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static int64_t window;
	static int logged, hidden;
	int64_t now;

	pthread_mutex_lock(&mu);
	now = clock_mono_ms() / 1000;
	if (now != window) {
		if (hidden > 0)
			log_warn("refused %d more connections in the last "
			         "%lld s",
			    hidden, (long long)(now - window));
		window = now;
		logged = hidden = 0;
	}
	if (logged++ < SERVE_REFUSE_LOG_BURST)
		log_warn("peer=%s refused: %s", peer, why);
	else
		hidden++;
	pthread_mutex_unlock(&mu);
}

/* Turns job away with a BUSY (answered by a bounded number of lingering
 * threads; beyond them the connection is just closed). */
static void
refuse(struct conn_job *job, const char *text)
{
	job->refusal = text;
	if (atomic_fetch_add(&rejecting, 1) < SERVE_REJECT_MAX &&
	    spawn(reject_thread, job) == 0)
		return;
	atomic_fetch_sub(&rejecting, 1);
	close(job->fd);
	free(job);
}

/* 0 if job may start logging in, else refuses it and returns -1. */
static int
admit_startup(
    struct server *srv, struct conn_job *job, const struct sockaddr *sa)
{
	const struct startups_limits *l = &srv->startup_limits;
	startups_verdict v = startups_admit(srv->startups, sa, &job->ticket);
	char why[128];

	if (v == STARTUPS_ADMIT)
		return 0;
	if (v == STARTUPS_PER_SOURCE) {
		snprintf(why, sizeof(why),
		    "%d connections from this address not logged in yet",
		    l->per_source);
		log_refusal(job->peer, why);
		refuse(job, SERVE_SOURCE_TEXT);
		return -1;
	}
	snprintf(why, sizeof(why),
	    "%d connections not logged in yet (max-startups %d:%d:%d%s)",
	    startups_count(srv->startups, sa, NULL), l->start, l->rate, l->full,
	    v == STARTUPS_EARLY_DROP ? ", random early drop" : "");
	log_refusal(job->peer, why);
	refuse(job, SERVE_STARTUPS_TEXT);
	return -1;
}

static void
accept_one(struct server *srv, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct conn_job *job;
	char why[64];
	int fd, one = 1;

	fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0) {
		accept_failed(srv, errno);
		return;
	}
	accept_recovered();
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((job = calloc(1, sizeof(*job))) == NULL) {
		close(fd);
		return;
	}
	job->srv = srv;
	job->fd = fd;
	netaddr_format_sockaddr(
	    (struct sockaddr *)&ss, job->peer, sizeof(job->peer));
	memcpy(&job->ss, &ss, sizeof(ss));
	/* Read by this thread only; SIGHUP changes it on this thread too. */
	job->proxied = srv->proxy_from.n > 0 &&
	    cidr_list_match(&srv->proxy_from, (struct sockaddr *)&ss);
	if (atomic_fetch_add(&srv->nclients, 1) >= srv->max_clients) {
		atomic_fetch_sub(&srv->nclients, 1);
		snprintf(why, sizeof(why), "server busy (%d clients)",
		    srv->max_clients);
		log_refusal(job->peer, why);
		refuse(job, SERVE_BUSY_TEXT);
		return;
	}
	/* A balancer's connections count against the client's address,
	 * known once its thread has read the PROXY header. */
	if (!job->proxied &&
	    admit_startup(srv, job, (struct sockaddr *)&ss) != 0) {
		atomic_fetch_sub(&srv->nclients, 1);
		return;
	}
	if (spawn(conn_thread, job) != 0) {
		log_error("peer=%s: cannot start a thread", job->peer);
		startups_release(srv->startups, &job->ticket);
		atomic_fetch_sub(&srv->nclients, 1);
		close(fd);
		free(job);
	}
}

/*
 * Raises the soft descriptor limit to the hard one (at most
 * SERVE_NOFILE_MAX) and warns if --max-clients sessions, SESSION_FD_BUDGET
 * each, could need more: past the limit, new connections wait (accept
 * pauses) and requests of those connected fail.
 */
static void
fd_limit_raise(int max_clients)
{
	struct rlimit rl, up;
	rlim_t want, need;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > SERVE_NOFILE_MAX ?
	    SERVE_NOFILE_MAX :
	    rl.rlim_max;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		up.rlim_cur = want;
		up.rlim_max = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl.rlim_cur = want;
	}
	need = (rlim_t)max_clients * SESSION_FD_BUDGET + SERVE_FD_BASE;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
		log_warn("descriptor limit %llu is below the %llu that "
		         "max-clients %d may need (%d a session); raise the "
		         "hard limit (ulimit -Hn) or lower max-clients",
		    (unsigned long long)rl.rlim_cur, (unsigned long long)need,
		    max_clients, SESSION_FD_BUDGET);
	else
		log_debug(
		    "descriptor limit %llu", (unsigned long long)rl.rlim_cur);
}

/* The running server: what SIGHUP and SIGTERM act on. */
struct serve_run {
	struct server *srv;
	struct serve_conf conf; /* in force */
	int as_root; /* started as root: root's default folders */
	char config[PATH_MAX]; /* the file read at start, "" for none */
	int config_explicit; /* named by --config: must exist */
	int argc; /* the command line, applied over the file again */
	char **argv;
	int lfds[SERVE_LISTEN_MAX];
	int nl;
};

/* The conf in force to srv, for what sessions read. */
static void
apply_conf(struct server *srv, const struct serve_conf *c)
{
	char bad[CONF_ERR_MAX];
	unsigned ciphers;

	srv->idle_timeout_ms = (int)c->idle_timeout * 1000;
	srv->max_clients = (int)c->max_clients;
	srv->allow_plaintext = c->allow_plaintext;
	if (c->ciphers == NULL ||
	    seal_ciphers_parse(c->ciphers, &ciphers) != 0) /* checked before */
		ciphers = HS_CIPHERS_DEFAULT;
	srv->ciphers = ciphers;
	srv->keys_only = c->keys_only;
	srv->max_file_size = c->max_file_size;
	/* Checked before; were it not, no peer is taken for a balancer. */
	if (c->proxy_from == NULL ||
	    cidr_list_parse(
	        c->proxy_from, &srv->proxy_from, bad, sizeof(bad)) != 0)
		srv->proxy_from.n = 0;
	log_set_level(c->verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
}

/* What load_conf says of a file that is wrong (a start-up failure, not
 * a usage error). */
#define CONF_BAD_FILE 1

/* The file (if any), then the command line over it, into c. 0,
 * CONF_BAD_FILE, or the error of the command line or of conf_finish. */
static int
load_conf(const struct serve_run *run, struct serve_conf *c, char *err,
    size_t errlen, struct startups_limits *lim)
{
	struct serve_args a;
	int r;

	if ((r = conf_init(c, run->as_root)) != 0) {
		snprintf(err, errlen, "out of memory");
		return r;
	}
	if (run->config[0] != '\0' &&
	    conf_load_file(c, run->config, run->config_explicit, err, errlen) !=
	        0) {
		conf_cleanup(c);
		return CONF_BAD_FILE;
	}
	if ((r = conf_parse_args(c, &a, run->argc, run->argv, err, errlen)) !=
	        0 ||
	    (r = conf_finish(c, lim, err, errlen)) != 0) {
		conf_cleanup(c);
		return r;
	}
	return 0;
}

/*
 * SIGHUP: the log file opened again (logrotate moved it), the file and
 * command line read again and what may change at run time applied; keys
 * that need a restart keep their running values, and say so. A file that
 * no longer parses changes nothing. The users file is read at each login
 * already: it is checked here so that a broken edit shows in the log.
 */
static void
serve_reload(struct serve_run *run)
{
	struct server *srv = run->srv;
	struct serve_conf next;
	struct startups_limits lim;
	char err[CONF_ERR_MAX], keys[256];
	struct users u;
	int bad, r;

	notify_reloading();
	if (log_reopen() != 0)
		log_error("SIGHUP: cannot reopen the log file: %s; still "
		          "writing to the old one",
		    strerror(errno));
	log_info("SIGHUP: reloading %s",
	    run->config[0] != '\0' ? run->config : "(no configuration file)");
	if (load_conf(run, &next, err, sizeof(err), &lim) != 0) {
		log_error("SIGHUP: %s; the running configuration stays", err);
		notify_send("READY=1\nSTATUS=reload failed: %.200s\n", err);
		return;
	}
	conf_restart_keys(&run->conf, &next, keys, sizeof(keys));
	if (keys[0] != '\0')
		log_warn(
		    "SIGHUP: changed %s: takes effect at the next start", keys);
	run->conf.max_clients = next.max_clients;
	run->conf.idle_timeout = next.idle_timeout;
	run->conf.max_file_size = next.max_file_size;
	run->conf.allow_plaintext = next.allow_plaintext;
	run->conf.keys_only = next.keys_only;
	run->conf.drain_timeout = next.drain_timeout;
	run->conf.verbose = next.verbose;
	free(run->conf.proxy_from);
	run->conf.proxy_from = next.proxy_from;
	next.proxy_from = NULL;
	conf_cleanup(&next);
	apply_conf(srv, &run->conf);
	fd_limit_raise(srv->max_clients);
	if ((r = users_load(srv->users_path, &u, &bad)) != 0)
		log_error("SIGHUP: users file %s: %s%s", srv->users_path,
		    wh_strerror(r),
		    r == WH_ERR_CORRUPT ? " (a malformed line): logins "
		                          "fail until it is fixed" :
		                          "");
	else {
		log_info("SIGHUP: %zu users in %s", u.n, srv->users_path);
		users_cleanup(&u);
	}
	log_info("reloaded: max-clients=%ld idle-timeout=%ld "
	         "max-file-size=%llu allow-plaintext=%s keys-only=%s "
	         "drain-timeout=%ld proxy-from=%s",
	    run->conf.max_clients, run->conf.idle_timeout,
	    (unsigned long long)run->conf.max_file_size,
	    run->conf.allow_plaintext ? "yes" : "no",
	    run->conf.keys_only ? "yes" : "no", run->conf.drain_timeout,
	    run->conf.proxy_from != NULL ? run->conf.proxy_from : "none");
	notify_send("READY=1\nSTATUS=serving, configuration reloaded\n");
}

/*
 * SIGHUP runs as the service user: says at start what it will not be
 * able to do, rather than at the first reload.
 */
static void
warn_reload_access(const struct serve_run *run)
{
	char dir[PATH_MAX], *slash;

	if (run->config[0] != '\0' && access(run->config, R_OK) != 0)
		log_warn("%s is not readable by this user (%s): SIGHUP will "
		         "not reread it; make it 0644 or 0640 root:GROUP",
		    run->config, strerror(errno));
	if (run->conf.log == NULL)
		return;
	snprintf(dir, sizeof(dir), "%s", run->conf.log);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if (access(dir, W_OK) != 0)
		log_warn("the log's folder %s is not writable by this user: "
		         "after a rotation SIGHUP reopens the log only if "
		         "logrotate made the new file (create)",
		    dir);
}

/* The signals waiting in the pipe, oldest first: HUP as 'h', a stop as
 * 's'; at most n. */
static int
signals_read(char *out, int n)
{
	unsigned char b[16];
	ssize_t got;
	int k = 0, i;

	while (k < n && (got = read(signal_pipe[0], b, sizeof(b))) > 0)
		for (i = 0; i < got && k < n; i++)
			out[k++] = b[i] == SIGHUP ? 'h' : 's';
	return k;
}

/*
 * Accepts until a stop signal, acting on SIGHUP on the way. The first
 * SIGTERM or SIGINT closes the listeners (new connections are refused)
 * and waits up to drain-timeout for the connections to end; a second one
 * stops at once. Connections cut then leave their partial uploads to be
 * resumed, as a dropped connection does.
 */
static void
serve_loop(struct serve_run *run)
{
	struct server *srv = run->srv;
	struct pollfd pfds[SERVE_LISTEN_MAX + 1];
	char sigs[16];
	int64_t wait, now, drain_until = 0;
	int draining = 0, npfd, i, j, n, timeout;

	for (;;) {
		pfds[0].fd = signal_pipe[0];
		pfds[0].events = POLLIN;
		npfd = 1;
		timeout = SERVE_POLL_MS;
		now = clock_mono_ms();
		if (draining) {
			if (atomic_load(&srv->nclients) == 0) {
				log_info("stopped: every connection ended");
				return;
			}
			if (now >= drain_until) {
				log_warn("stopped: drain-timeout (%ld s) "
				         "reached with %d connections; their "
				         "partial uploads can be resumed",
				    run->conf.drain_timeout,
				    atomic_load(&srv->nclients));
				return;
			}
			if (drain_until - now < timeout)
				timeout = (int)(drain_until - now);
		} else if ((wait = accept_pause.until - now) > 0) {
			/* Paused: the listeners would wake us at once. */
			timeout = (int)(wait < timeout ? wait : timeout);
		} else {
			for (i = 0; i < run->nl; i++) {
				pfds[npfd].fd = run->lfds[i];
				pfds[npfd++].events = POLLIN;
			}
		}
		if (poll(pfds, (nfds_t)npfd, timeout) <= 0)
			continue;
		if (pfds[0].revents & POLLIN) {
			n = signals_read(sigs, (int)sizeof(sigs));
			for (i = 0; i < n; i++) {
				if (sigs[i] == 'h') {
					serve_reload(run);
					continue;
				}
				if (draining) {
					log_warn("stopping at once: %d "
					         "connections cut",
					    atomic_load(&srv->nclients));
					return;
				}
				draining = 1;
				drain_until = clock_mono_ms() +
				    run->conf.drain_timeout * 1000;
				for (j = 0; j < run->nl; j++)
					close(run->lfds[j]);
				run->nl = 0;
				log_info("stopping (%d clients connected): "
				         "no new connections; waiting up to "
				         "%ld s for them to end (a second "
				         "SIGTERM or SIGINT stops at once)",
				    atomic_load(&srv->nclients),
				    run->conf.drain_timeout);
				notify_send("STOPPING=1\nSTATUS=stopping: "
				            "waiting for %d connections\n",
				    atomic_load(&srv->nclients));
			}
			/* The listeners' slots are gone. */
			if (draining)
				npfd = 1;
		}
		for (i = 1; i < npfd; i++)
			if (pfds[i].revents & POLLIN)
				accept_one(srv, pfds[i].fd);
	}
}

/*
 * The command line and the configuration file into run->conf. Returns 0
 * to serve, or the exit status: 0 after --help or a good --check-config,
 * 1 for a bad file, 2 for a usage error.
 */
static int
serve_configure(struct serve_run *run, struct startups_limits *lim)
{
	struct serve_args a;
	char err[CONF_ERR_MAX], real[PATH_MAX], dflt[PATH_MAX];
	const char *file;
	int r;

	/* First pass: --config, --check-config and --help only. */
	if (conf_parse_args(NULL, &a, run->argc, run->argv, err, sizeof(err)) !=
	    0) {
		if (strcmp(err, "unknown option") != 0)
			fprintf(stderr, "wharf: serve: %s\n", err);
		serve_usage(stderr);
		return 2;
	}
	if (a.help) {
		serve_usage(stdout);
		return -1;
	}
	run->config_explicit = a.config != NULL;
	if (a.config != NULL)
		file = a.config;
	else {
		conf_default_file(dflt, sizeof(dflt));
		file = dflt;
	}
	/* Canonical: SIGHUP reads it by this name, and containment lets the
	 * process read its folder. A default file that does not exist is
	 * no file at all. */
	run->config[0] = '\0';
	if (file[0] != '\0' && realpath(file, real) != NULL)
		snprintf(run->config, sizeof(run->config), "%s", real);
	else if (run->config_explicit) {
		fprintf(
		    stderr, "wharf: --config %s: %s\n", file, strerror(errno));
		return 1;
	}
	if ((r = load_conf(run, &run->conf, err, sizeof(err), lim)) != 0) {
		fprintf(stderr, "wharf: %s\n", err);
		/* A bad file (or none) stops the start; options that do not
		 * fit are a usage error. */
		return r == CONF_BAD_FILE || r == WH_ERR_SYSTEM ? 1 : 2;
	}
	if (a.check_config) {
		char host[NETADDR_HOST_MAX];
		uint16_t port;

		if (run->conf.listen != NULL &&
		    netaddr_split(run->conf.listen, host, sizeof(host), &port,
		        WIRE_PORT_DEFAULT) != 0) {
			fprintf(stderr,
			    "wharf: --listen %s: expected HOST:PORT or "
			    "[IPV6]:PORT\n",
			    run->conf.listen);
			return 1;
		}
		fprintf(stderr, "wharf: configuration %s is valid\n",
		    run->config[0] != '\0' ? run->config :
		                             "(command line only)");
		return -1;
	}
	return 0;
}

int
serve_main(int argc, char **argv)
{
	struct contain_paths cp;
	char root_real[PATH_MAX], state_real[PATH_MAX], path[PATH_MAX];
	/* Static: sessions may outlive this function by a little while the
	 * process exits. */
	static struct server the_server;
	static struct serve_run the_run;
	struct server *srv = &the_server;
	struct serve_run *run = &the_run;
	struct serve_conf *conf = &run->conf;
	int i, r, status = 1;
	int bad, init_lock = -1;
	struct startups_limits lim;
	char admin_pw[SERVE_ADMIN_PW_LEN] = "";
	static char admin_pw_file[PATH_MAX];
	char fp[KEYS_FINGERPRINT_LEN];

	run->srv = srv;
	run->argc = argc;
	run->argv = argv;
	run->as_root = geteuid() == 0;
	if ((r = serve_configure(run, &lim)) != 0)
		return r < 0 ? 0 : r;
	if (sodium_init() < 0) {
		fprintf(stderr, "wharf: libsodium failed to initialise\n");
		goto out;
	}
	if ((r = log_open(conf->log,
	         conf->verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO)) != 0) {
		fprintf(
		    stderr, "wharf: --log %s: %s\n", conf->log, wh_strerror(r));
		goto out;
	}
	if ((r = prepare_dir(conf->root, 0755, root_real)) != 0) {
		fprintf(
		    stderr, "wharf: root %s: %s\n", conf->root, wh_strerror(r));
		goto out;
	}
	if ((r = prepare_dir(conf->state, 0700, state_real)) != 0) {
		fprintf(stderr, "wharf: state %s: %s\n", conf->state,
		    wh_strerror(r));
		goto out;
	}
	if (path_within(state_real, root_real)) {
		fprintf(stderr,
		    "wharf: the state folder %s is inside the "
		    "served root %s; clients could read the users file and "
		    "host key. Choose a state folder outside the root.\n",
		    state_real, root_real);
		goto out;
	}
	if (strlen(state_real) + sizeof(SERVER_HOST_KEY_FILE) + 2 >
	    sizeof(path)) {
		fprintf(stderr, "wharf: state path too long\n");
		goto out;
	}
	snprintf(srv->users_path, sizeof(srv->users_path), "%.*s/%s",
	    PATH_MAX - 16, state_real, USERS_FILE_NAME);
	if ((init_lock = lock_first_start(state_real)) < 0) {
		fprintf(stderr, "wharf: cannot lock the state folder %s: %s\n",
		    state_real, strerror(errno));
		goto out;
	}
	if (ensure_admin(srv->users_path, admin_pw) != 0) {
		fprintf(stderr, "wharf: cannot set up users in %s\n",
		    srv->users_path);
		goto out;
	}
	if (keep_admin_password(state_real, admin_pw))
		snprintf(admin_pw_file, sizeof(admin_pw_file), "%.*s/%s",
		    PATH_MAX - 32, state_real, CONTAIN_ROOT_ONLY_FILE);
	memcpy(srv->root_real, root_real, sizeof(srv->root_real));
	snprintf(path, sizeof(path), "%.*s/%s", PATH_MAX - 16, state_real,
	    PROTECT_FILE_NAME);
	if ((r = protect_store_open(path, &srv->protect, &bad)) != 0) {
		/* Refuse rather than serve protected files unprotected. */
		fprintf(stderr,
		    "wharf: protection store %s: %s%s; fix or "
		    "restore it before starting the server\n",
		    path, wh_strerror(r),
		    r == WH_ERR_CORRUPT ?
		        " (a bad header, or a line whose path "
		        "cannot be read)" :
		        "");
		if (r == WH_ERR_CORRUPT && bad > 0)
			fprintf(stderr, "wharf: first damaged line: %d\n", bad);
		goto out;
	}
	/* Quotas are counted once for every server on this state folder. */
	if ((r = quota_shared_open(state_real)) != 0) {
		fprintf(stderr, "wharf: quota ledgers in %s/%s: %s\n",
		    state_real, QUOTA_DIR_NAME, wh_strerror(r));
		goto out;
	}
	snprintf(path, sizeof(path), "%.*s/%s", PATH_MAX - 16, state_real,
	    SERVER_HOST_KEY_FILE);
	if ((r = keys_host_load_or_create(path, &srv->host_key)) != 0) {
		fprintf(stderr, "wharf: host key %s: %s\n", path,
		    r == WH_ERR_PERMISSION ? "readable by others; chmod 600 "
		                             "it" :
		                             wh_strerror(r));
		goto out;
	}
	close(init_lock);
	init_lock = -1;
	if (conf->psk != NULL) {
		if ((r = keys_psk_load(conf->psk, srv->psk)) != 0) {
			fprintf(stderr, "wharf: --psk %s: %s\n", conf->psk,
			    r == WH_ERR_PERMISSION ?
			        "readable by others; "
			        "chmod 600 it" :
			        r == WH_ERR_CORRUPT ?
			        "not a wharf key file (make one with "
			        "'wharf keygen --psk FILE')" :
			        wh_strerror(r));
			goto out;
		}
		srv->have_psk = 1;
	}
	if ((r = sandbox_open(&srv->sb, root_real)) != 0) {
		fprintf(
		    stderr, "wharf: root %s: %s\n", root_real, wh_strerror(r));
		goto out;
	}
	srv->stats_path = conf->stats;
	apply_conf(srv, conf);
	/* One bucket each way for every session together (--bwlimit). */
	if (conf->bwlimit > 0 &&
	    (ratelimit_init(&srv->bw_in, conf->bwlimit) != 0 ||
	        ratelimit_init(&srv->bw_out, conf->bwlimit) != 0)) {
		fprintf(stderr, "wharf: --bwlimit: cannot set it up\n");
		goto out;
	}
	srv->auth_timeout_ms = SERVER_AUTH_TIMEOUT_MS;
	fd_limit_raise(srv->max_clients);
	srv->startup_limits = lim;
	/* Never freed, like the_server: sessions may release into it while
	 * the process exits. */
	if ((srv->startups = startups_new(&lim)) == NULL) {
		fprintf(stderr, "wharf: out of memory\n");
		goto out;
	}
	sem_init(&srv->pwhash_slots, 0, SERVER_PWHASH_SLOTS);
	sem_init(&srv->passcode_slots, 0, SERVER_PASSCODE_SLOTS);
#ifdef __GLIBC__
	/* zstd's stream windows and contexts (4 to 21 MiB) must go back to
	 * the system when a transfer ends. glibc raises its mmap threshold
	 * to the largest block freed, after which such blocks come from the
	 * threads' arenas and stay there: a fixed threshold keeps them
	 * mmapped, and leaves the 1 MiB chunk buffers in the arenas. */
	mallopt(M_MMAP_THRESHOLD, SERVER_MMAP_THRESHOLD);
	/* A fixed mmap threshold also fixes the trim threshold at 128 KiB,
	 * so the arena gave back the 1 MiB a chunk is decoded into each
	 * time it was freed, and faulted it in again for the next one: 225
	 * page faults a chunk, 5 % of the server's CPU in a put. Keeping
	 * up to this much free at an arena's top costs at most that per
	 * arena, whatever the file size. */
	mallopt(M_TRIM_THRESHOLD, SERVER_TRIM_THRESHOLD);
#endif
	if (signals_install() != 0) {
		fprintf(stderr, "wharf: signals: %s\n", strerror(errno));
		goto out;
	}
	if (notify_open() != 0)
		goto out;
	if (open_listeners(conf->listen, run->lfds, &run->nl) != 0)
		goto out;
	/* Bound now: the containment forbids bind and listen. */
	watch_start();
	if (control_open(state_real, conf->metrics_listen) != 0)
		goto out;
	/* Everything that needs root or a file outside the root and state
	 * is open: drop and confine before the first peer byte. */
	cp = (struct contain_paths){ .root = root_real,
		.state = state_real,
		.stats = srv->stats_path,
		.config = run->config[0] != '\0' ? run->config : NULL,
		.log = conf->log };
	if (contain_server(conf->user, &cp) != 0)
		goto out;
	warn_reload_access(run);
	if (control_start(srv->users_path) != 0)
		goto out;
	keys_fingerprint(srv->host_key.pk, fp);
	log_info("wharf %s serving %s (state %s) host key %s%s%s",
	    WHARF_VERSION, root_real, state_real, fp,
	    srv->have_psk ? " psk=on" : "",
	    srv->allow_plaintext ? " plaintext=allowed" : "");
	if (srv->ciphers == 0)
		srv->ciphers = HS_CIPHERS_DEFAULT;
	log_info("ciphers=%s%s%s cpu: aes=%s sha=%s",
	    (srv->ciphers & HS_CIPHER_BIT(SEAL_AES256GCM)) ? "aes256gcm" : "",
	    (srv->ciphers & HS_CIPHER_BIT(SEAL_AES256GCM)) &&
	            (srv->ciphers & HS_CIPHER_BIT(SEAL_SECRETBOX)) ?
	        "," :
	        "",
	    (srv->ciphers & HS_CIPHER_BIT(SEAL_SECRETBOX)) ? "secretbox" : "",
	    accel_have_aes() ? "yes" : "no",
	    accel_have_sha256() ? "yes" : "no");
	log_info("max-clients=%d max-startups=%d:%d:%d "
	         "per-source-max-startups=%d config=%s",
	    srv->max_clients, lim.start, lim.rate, lim.full, lim.per_source,
	    run->config[0] != '\0' ? run->config : "none");
	if (srv->bw_out.rate > 0)
		log_info("bwlimit=%llu bytes/s each way, all clients together",
		    (unsigned long long)srv->bw_out.rate);
	if (srv->proxy_from.n > 0)
		log_info("PROXY headers expected from %zu address range(s): "
		         "%s",
		    srv->proxy_from.n, conf->proxy_from);
	if (srv->sb.walk_only)
		log_warn("openat2 unavailable: symlinks in the root will not "
		         "be followed");
	show_admin_password(
	    admin_pw, admin_pw_file[0] != '\0' ? admin_pw_file : NULL);
	notify_send("READY=1\nSTATUS=serving %.200s\n", root_real);
	serve_loop(run);
	status = 0;
out:
	/* Made but not shown (a later start-up step failed): shown now,
	 * or the account could never be used. */
	show_admin_password(
	    admin_pw, admin_pw_file[0] != '\0' ? admin_pw_file : NULL);
	if (init_lock >= 0)
		close(init_lock);
	control_close();
	for (i = 0; i < run->nl; i++)
		close(run->lfds[i]);
	run->nl = 0;
	if (status != 0) {
		keys_host_wipe(&srv->host_key);
		sodium_memzero(srv->psk, sizeof(srv->psk));
	}
	return status;
}
