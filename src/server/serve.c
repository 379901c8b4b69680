/* SPDX-License-Identifier: MIT */
/*
 * `wharf serve`: start-up checks (folders, host key, first admin), the
 * listening sockets, and the accept loop that hands each connection to a
 * thread of its own, up to --max-clients.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

#include "wharf/clock.h"
#include "wharf/contain.h"
#include "wharf/file.h"
#include "wharf/handshake.h"
#include "wharf/log.h"
#include "wharf/msg.h"
#include "wharf/netaddr.h"
#include "wharf/proxy.h"
#include "wharf/quota.h"
#include "wharf/server.h"
#include "wharf/session.h"
#include "wharf/startups.h"
#include "wharf/strnum.h"

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

static volatile sig_atomic_t stop_requested;
static atomic_int rejecting;

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
on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
serve_usage(FILE *f)
{
	fprintf(f,
	    "usage: wharf serve [--root DIR] [--listen HOST:PORT] "
	    "[--state DIR]\n"
	    "                   [--max-clients N] [--idle-timeout S] "
	    "[--psk FILE]\n"
	    "                   [--allow-plaintext] [--log FILE] [-v]\n"
	    "                   [--max-file-size SIZE] [--stats FILE] "
	    "[--user NAME]\n"
	    "                   [--max-startups START:RATE:FULL]\n"
	    "                   [--per-source-max-startups N] [--keys-only]\n"
	    "                   [--proxy-from CIDR[,CIDR...]]\n"
	    "\n"
	    "  --root DIR         folder to serve (default %s)\n"
	    "  --listen HOST:PORT address to listen on (default [::]:%d, "
	    "IPv6 and IPv4)\n"
	    "  --state DIR        users file and host key (default %s);\n"
	    "                     never inside the served root\n"
	    "  --max-clients N    connections at once (default %d)\n"
	    "  --idle-timeout S   drop a client idle this long (default %d)\n"
	    "  --psk FILE         require this pre-shared key "
	    "(see wharf keygen)\n"
	    "  --allow-plaintext  let clients ask for an unencrypted "
	    "session\n"
	    "  --keys-only        key logins only (wharf user key add); no "
	    "passwords\n"
	    "  --log FILE         append the log here instead of stderr\n"
	    "  --max-file-size SIZE  refuse uploads larger than SIZE "
	    "(e.g. 10G)\n"
	    "  --stats FILE       append one CSV row per transfer\n"
	    "  --max-startups START:RATE:FULL\n"
	    "                     connections not logged in yet: from START,\n"
	    "                     refuse RATE%% of new ones, rising to all at\n"
	    "                     FULL (default %d:%d:(3/4 of --max-clients))\n"
	    "  --per-source-max-startups N\n"
	    "                     of those, at most N from one address or\n"
	    "                     IPv6 /64 (default %d)\n"
	    "  --proxy-from CIDR[,CIDR...]\n"
	    "                     connections from these load balancers start\n"
	    "                     with a PROXY v1/v2 header giving the client's\n"
	    "                     address (see docs/deployment.md)\n"
	    "  --user NAME        started as root, serve as this user "
	    "(default %s)\n"
	    "  -v                 debug logging\n",
	    SERVER_ROOT_DEFAULT, WIRE_PORT_DEFAULT, SERVER_STATE_DEFAULT,
	    SERVER_MAX_CLIENTS_DEFAULT, SERVER_IDLE_TIMEOUT_DEFAULT,
	    STARTUPS_START_DEFAULT, STARTUPS_RATE_DEFAULT,
	    STARTUPS_PER_SOURCE_DEFAULT, CONTAIN_USER_DEFAULT);
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

/* The new admin's password, alone between rules so that it stands out
 * from the start-up lines above it. */
static void
show_admin_password(char password[SERVE_ADMIN_PW_LEN])
{
	if (password[0] == '\0')
		return;
	fprintf(stderr,
	    "wharf: "
	    "------------------------------------------------------------\n"
	    "wharf: created user 'admin' with password: %s\n"
	    "wharf: it is shown only this once; change it with "
	    "'wharf user passwd admin'\n"
	    "wharf: "
	    "------------------------------------------------------------\n",
	    password);
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
	/* From a --proxy-from balancer: a PROXY header comes first, and
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
	pthread_t t;
	int r;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, SERVE_THREAD_STACK);
	r = pthread_create(&t, &attr, fn, job);
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
		         "--max-clients %d may need (%d a session); raise the "
		         "hard limit (ulimit -Hn) or lower --max-clients",
		    (unsigned long long)rl.rlim_cur, (unsigned long long)need,
		    max_clients, SESSION_FD_BUDGET);
	else
		log_debug(
		    "descriptor limit %llu", (unsigned long long)rl.rlim_cur);
}

int
serve_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "listen", required_argument, NULL, 'l' },
		{ "state", required_argument, NULL, 's' },
		{ "max-clients", required_argument, NULL, 'm' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "psk", required_argument, NULL, 'k' },
		{ "allow-plaintext", no_argument, NULL, 'P' },
		{ "keys-only", no_argument, NULL, 'K' },
		{ "log", required_argument, NULL, 'L' },
		{ "max-file-size", required_argument, NULL, 'F' },
		{ "stats", required_argument, NULL, 'S' },
		{ "max-startups", required_argument, NULL, 'T' },
		{ "per-source-max-startups", required_argument, NULL, 'X' },
		{ "user", required_argument, NULL, 'U' },
		{ "proxy-from", required_argument, NULL, 'Y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *root = SERVER_ROOT_DEFAULT, *state = SERVER_STATE_DEFAULT;
	const char *listen_spec = NULL, *psk_file = NULL, *log_file = NULL;
	const char *user = NULL;
	struct contain_paths cp;
	char root_real[PATH_MAX], state_real[PATH_MAX], path[PATH_MAX];
	/* Static: sessions may outlive this function by a little while the
	 * process exits. */
	static struct server the_server;
	struct server *srv = &the_server;
	struct pollfd pfds[SERVE_LISTEN_MAX];
	int lfds[SERVE_LISTEN_MAX], nl = 0, i, c, r, verbose = 0, status = 1;
	int bad, init_lock = -1;
	long max_clients = SERVER_MAX_CLIENTS_DEFAULT;
	long idle = SERVER_IDLE_TIMEOUT_DEFAULT, per_source = 0;
	const char *startups_spec = NULL;
	struct startups_limits lim;
	char admin_pw[SERVE_ADMIN_PW_LEN] = "";
	char bad_range[64];
	char fp[KEYS_FINGERPRINT_LEN];
	struct sigaction sa;
	int64_t wait;

	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			root = optarg;
			break;
		case 'l':
			listen_spec = optarg;
			break;
		case 's':
			state = optarg;
			break;
		case 'm':
			if (strnum_long(optarg, 1, 100000, &max_clients) != 0) {
				fprintf(stderr,
				    "wharf: --max-clients: expected "
				    "a number from 1 to 100000\n");
				status = 2;
				goto out;
			}
			break;
		case 'i':
			if (strnum_long(optarg, 1, 86400 * 7, &idle) != 0) {
				fprintf(stderr,
				    "wharf: --idle-timeout: "
				    "expected seconds (1 to 604800)\n");
				status = 2;
				goto out;
			}
			break;
		case 'k':
			psk_file = optarg;
			break;
		case 'P':
			srv->allow_plaintext = 1;
			break;
		case 'K':
			srv->keys_only = 1;
			break;
		case 'L':
			log_file = optarg;
			break;
		case 'F':
			if (strnum_size(optarg, &srv->max_file_size) != 0) {
				fprintf(stderr,
				    "wharf: --max-file-size: "
				    "expected a size such as 500M or 10G\n");
				status = 2;
				goto out;
			}
			break;
		case 'S':
			srv->stats_path = optarg;
			break;
		case 'T':
			startups_spec = optarg;
			break;
		case 'X':
			if (strnum_long(optarg, 1, 100000, &per_source) != 0) {
				fprintf(stderr,
				    "wharf: --per-source-max-startups: "
				    "expected a number from 1 to 100000\n");
				status = 2;
				goto out;
			}
			break;
		case 'U':
			user = optarg;
			break;
		case 'Y':
			if (cidr_list_parse(optarg, &srv->proxy_from, bad_range,
			        sizeof(bad_range)) != 0) {
				fprintf(stderr,
				    "wharf: --proxy-from: '%s' is not an "
				    "address or ADDRESS/BITS\n",
				    bad_range);
				status = 2;
				goto out;
			}
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			serve_usage(stdout);
			status = 0;
			goto out;
		default:
			serve_usage(stderr);
			status = 2;
			goto out;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "wharf: serve: unexpected argument '%s'\n",
		    argv[optind]);
		serve_usage(stderr);
		status = 2;
		goto out;
	}
	/* Explicit limits are checked against the final --max-clients,
	 * whatever the order of the options. */
	startups_defaults((int)max_clients, &lim);
	if (per_source > 0)
		lim.per_source = (int)per_source;
	if ((startups_spec != NULL &&
	        startups_parse(startups_spec, &lim) != 0) ||
	    startups_check(&lim, (int)max_clients) != 0) {
		fprintf(stderr,
		    "wharf: --max-startups: expected START:RATE:FULL (or N) "
		    "with 1 <= START <= FULL <= --max-clients (%ld) and RATE "
		    "from 0 to 100\n",
		    max_clients);
		status = 2;
		goto out;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "wharf: libsodium failed to initialise\n");
		goto out;
	}
	if ((r = log_open(log_file, verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO)) !=
	    0) {
		fprintf(
		    stderr, "wharf: --log %s: %s\n", log_file, wh_strerror(r));
		goto out;
	}
	if ((r = prepare_dir(root, 0755, root_real)) != 0) {
		fprintf(stderr, "wharf: root %s: %s\n", root, wh_strerror(r));
		goto out;
	}
	if ((r = prepare_dir(state, 0700, state_real)) != 0) {
		fprintf(stderr, "wharf: state %s: %s\n", state, wh_strerror(r));
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
	if (psk_file != NULL) {
		if ((r = keys_psk_load(psk_file, srv->psk)) != 0) {
			fprintf(stderr, "wharf: --psk %s: %s\n", psk_file,
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
	srv->idle_timeout_ms = (int)idle * 1000;
	srv->auth_timeout_ms = SERVER_AUTH_TIMEOUT_MS;
	srv->max_clients = (int)max_clients;
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
#endif

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (open_listeners(listen_spec, lfds, &nl) != 0)
		goto out;
	/* Everything that needs root or a file outside the root and state
	 * is open: drop and confine before the first peer byte. */
	cp = (struct contain_paths){
		.root = root_real, .state = state_real, .stats = srv->stats_path
	};
	if (contain_server(user, &cp) != 0)
		goto out;
	keys_fingerprint(srv->host_key.pk, fp);
	log_info("wharf %s serving %s (state %s) host key %s%s%s",
	    WHARF_VERSION, root_real, state_real, fp,
	    srv->have_psk ? " psk=on" : "",
	    srv->allow_plaintext ? " plaintext=allowed" : "");
	log_info("max-clients=%d max-startups=%d:%d:%d "
	         "per-source-max-startups=%d",
	    srv->max_clients, lim.start, lim.rate, lim.full, lim.per_source);
	if (srv->proxy_from.n > 0)
		log_info("PROXY headers expected from %zu address range(s)",
		    srv->proxy_from.n);
	if (srv->sb.walk_only)
		log_warn("openat2 unavailable: symlinks in the root will not "
		         "be followed");
	show_admin_password(admin_pw);
	for (i = 0; i < nl; i++) {
		pfds[i].fd = lfds[i];
		pfds[i].events = POLLIN;
	}
	while (!stop_requested) {
		/* Paused: the listeners would wake us at once. */
		if ((wait = accept_pause.until - clock_mono_ms()) > 0) {
			poll(NULL, 0, (int)wait);
			continue;
		}
		if (poll(pfds, (nfds_t)nl, SERVE_POLL_MS) <= 0)
			continue;
		for (i = 0; i < nl; i++)
			if (pfds[i].revents & POLLIN)
				accept_one(srv, lfds[i]);
	}
	log_info(
	    "stopping (%d clients connected)", atomic_load(&srv->nclients));
	status = 0;
out:
	/* Made but not shown (a later start-up step failed): shown now,
	 * or the account could never be used. */
	show_admin_password(admin_pw);
	if (init_lock >= 0)
		close(init_lock);
	for (i = 0; i < nl; i++)
		close(lfds[i]);
	if (status != 0) {
		keys_host_wipe(&srv->host_key);
		sodium_memzero(srv->psk, sizeof(srv->psk));
	}
	return status;
}
