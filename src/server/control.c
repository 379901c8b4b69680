/* SPDX-License-Identifier: MIT */
/*
 * The control socket and the metrics listener (control.h). Both are bound
 * before the server confines itself and served by one thread with one
 * poll loop: every client is a slot with a bounded request, a bounded
 * answer and a deadline, so a client that sends slowly, too much or
 * nothing holds one slot for CONTROL_CLIENT_MS at most, and never a
 * session's thread.
 *
 * The control socket is for the server's own user and root: its mode is
 * 0600 in a 0700 state folder, and each peer's credentials are checked
 * again (SO_PEERCRED), so that a mode changed by hand does not open it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "wharf/buf.h"
#include "wharf/clock.h"
#include "wharf/control.h"
#include "wharf/log.h"
#include "wharf/netaddr.h"
#include "wharf/strnum.h"
#include "wharf/users.h"
#include "wharf/watch.h"

#define CONTROL_METRICS_MAX 4 /* listeners of one --metrics-listen name */
#define CONTROL_TICK_MS 500

enum slot_kind { SLOT_FREE, SLOT_CONTROL, SLOT_METRICS };

struct slot {
	enum slot_kind kind;
	int fd;
	char in[CONTROL_REQUEST_MAX + 1];
	size_t inlen;
	struct buf *out; /* NULL while reading the request */
	int64_t deadline;
};

static struct {
	int ctl_fd; /* -1: none */
	char ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int metrics_fd[CONTROL_METRICS_MAX];
	int nmetrics;
	char users_path[PATH_MAX];
	struct slot slots[CONTROL_CLIENTS_MAX];
	pthread_t thread;
	int running; /* main thread only */
} ctl = { .ctl_fd = -1 };

/* Set by control_close; the thread sees it within CONTROL_TICK_MS. */
static atomic_int stopping;

/* Binds path (which no live server uses) as a 0600 socket. */
static int
bind_control(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int fd, r;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return WH_ERR_TOO_LARGE;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* A socket left by a server that died: nobody answers on it. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return WH_ERR_EXISTS;
		if (unlink(path) != 0)
			return WH_ERR_SYSTEM;
	}
	if ((fd = socket(
	         AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return WH_ERR_SYSTEM;
	/* Never reachable by others, not even for a moment. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r != 0 || chmod(path, 0600) != 0 || listen(fd, 16) != 0) {
		r = errno;
		close(fd);
		errno = r;
		return WH_ERR_SYSTEM;
	}
	ctl.ctl_fd = fd;
	return 0;
}

/* This host's name as a file name's part: [A-Za-z0-9.-], at most 64. */
static void
host_part(char *out, size_t n)
{
	char host[256] = "";
	size_t i;

	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "host");
	for (i = 0; host[i] != '\0' && i + 1 < n && i < 64; i++)
		out[i] = (host[i] >= 'a' && host[i] <= 'z') ||
		        (host[i] >= 'A' && host[i] <= 'Z') ||
		        (host[i] >= '0' && host[i] <= '9') || host[i] == '.' ||
		        host[i] == '-' ?
		    host[i] :
		    '_';
	out[i] = '\0';
}

/*
 * Which name this server takes: control.sock for the server that holds
 * STATE/control.lock (held until it exits, so a socket left by one that
 * died is known stale and replaced), else control.HOST-PID.sock, which
 * no other live server can have, on this host or another sharing the
 * folder (a UNIX socket reaches only its own host's server).
 */
static int
control_name(const char *state, char *path, size_t n)
{
	char lock[PATH_MAX], host[72];
	int fd, k;

	k = snprintf(lock, sizeof(lock), "%s/%s", state, CONTROL_LOCK_NAME);
	if (k > 0 && (size_t)k < sizeof(lock) &&
	    (fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) >= 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			/* Never closed: the lock lasts as long as we do. */
			k = snprintf(
			    path, n, "%s/%s", state, CONTROL_SOCKET_NAME);
			return k > 0 && (size_t)k < n ? 0 : WH_ERR_TOO_LARGE;
		}
		close(fd);
	}
	host_part(host, sizeof(host));
	k = snprintf(path, n, "%s/%s%s-%ld%s", state, CONTROL_SOCKET_PREFIX,
	    host, (long)getpid(), CONTROL_SOCKET_SUFFIX);
	return k > 0 && (size_t)k < n ? 0 : WH_ERR_TOO_LARGE;
}

/* Without a control socket the server still serves; status and kick do
 * not reach it, which the log says. */
static void
open_control(const char *state)
{
	char path[sizeof(ctl.ctl_path)];
	int r;

	if (control_name(state, path, sizeof(path)) != 0) {
		log_warn("no control socket: the state folder's path is too "
		         "long for one (%zu bytes at most); wharf status and "
		         "kick will not reach this server",
		    sizeof(path) - sizeof(CONTROL_SOCKET_NAME) - 1);
		return;
	}
	if ((r = bind_control(path)) != 0) {
		log_warn("no control socket %s: %s; wharf status and kick "
		         "will not reach this server",
		    path,
		    r == WH_ERR_EXISTS ? "exists and is not a socket" :
		                         strerror(errno));
		return;
	}
	snprintf(ctl.ctl_path, sizeof(ctl.ctl_path), "%s", path);
}

static int
open_metrics(const char *spec)
{
	char host[NETADDR_HOST_MAX], portstr[8], shown[NETADDR_STR_MAX];
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sl;
	uint16_t port;
	int fd, one = 1, r;

	if (netaddr_split(spec, host, sizeof(host), &port,
	        CONTROL_METRICS_PORT_DEFAULT) != 0 ||
	    host[0] == '\0') {
		fprintf(stderr,
		    "wharf: --metrics-listen %s: expected HOST:PORT or "
		    "[IPV6]:PORT, such as 127.0.0.1:%d\n",
		    spec, CONTROL_METRICS_PORT_DEFAULT);
		return WH_ERR_INVALID_ARG;
	}
	snprintf(portstr, sizeof(portstr), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((r = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		fprintf(stderr, "wharf: --metrics-listen %s: %s\n", spec,
		    gai_strerror(r));
		return WH_ERR_INVALID_ARG;
	}
	for (ai = res; ai != NULL && ctl.nmetrics < CONTROL_METRICS_MAX;
	     ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(
			    fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
		    listen(fd, 16) != 0) {
			fprintf(stderr, "wharf: --metrics-listen %s: %s\n",
			    spec, strerror(errno));
			close(fd);
			continue;
		}
		sl = sizeof(ss);
		getsockname(fd, (struct sockaddr *)&ss, &sl);
		netaddr_format_sockaddr(
		    (struct sockaddr *)&ss, shown, sizeof(shown));
		log_info("metrics on http://%s/metrics", shown);
		ctl.metrics_fd[ctl.nmetrics++] = fd;
	}
	freeaddrinfo(res);
	return ctl.nmetrics > 0 ? 0 : WH_ERR_SYSTEM;
}

int
control_open(const char *state, const char *metrics_spec)
{
	int r;

	open_control(state);
	if (metrics_spec != NULL && (r = open_metrics(metrics_spec)) != 0) {
		control_close();
		return r;
	}
	return 0;
}

void
control_close(void)
{
	/* unlinkat: the call the server's seccomp allowlist has. */
	if (ctl.ctl_path[0] != '\0')
		unlinkat(AT_FDCWD, ctl.ctl_path, 0);
	ctl.ctl_path[0] = '\0';
	if (!ctl.running)
		return;
	/* Joined, not left running: nothing of it outlives the server. */
	atomic_store(&stopping, 1);
	pthread_join(ctl.thread, NULL);
	ctl.running = 0;
}

static void
slot_close(struct slot *s)
{
	close(s->fd);
	buf_free(s->out);
	s->out = NULL;
	s->inlen = 0;
	s->kind = SLOT_FREE;
}

/* The server's own user, or root. */
static int
peer_allowed(int fd, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return 0;
	*uid = cred.uid;
	return cred.uid == 0 || cred.uid == geteuid();
}

static void
accept_client(int lfd, enum slot_kind kind)
{
	struct slot *s = NULL;
	uid_t uid = (uid_t)-1;
	int fd, i;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0)
		return;
	for (i = 0; i < CONTROL_CLIENTS_MAX && s == NULL; i++)
		if (ctl.slots[i].kind == SLOT_FREE)
			s = &ctl.slots[i];
	if (s == NULL) {
		close(fd); /* all busy: a flood gets nothing, held by no one */
		return;
	}
	if (kind == SLOT_CONTROL && !peer_allowed(fd, &uid)) {
		static const char no[] =
		    "error\tonly root and the server's user may use this "
		    "socket\n";

		log_warn("control socket: refused uid %ld", (long)uid);
		(void)send(fd, no, sizeof(no) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	s->kind = kind;
	s->fd = fd;
	s->inlen = 0;
	s->out = NULL;
	s->deadline = clock_mono_ms() + CONTROL_CLIENT_MS;
}

/* The answer to one control request line. */
static int
control_answer(const char *line, struct buf *out)
{
	long id;
	int n;

	if (strcmp(line, "status") == 0)
		return watch_status(out);
	if (strcmp(line, "hello") == 0)
		return buf_putf(
		    out, "ok\tversion=%d\n", CONTROL_PROTOCOL_VERSION);
	if (strncmp(line, "kick id ", 8) == 0) {
		if (strnum_long(line + 8, 1, LONG_MAX, &id) != 0)
			return buf_putf(out, "error\tbad session id\n");
		n = watch_kick((uint64_t)id, NULL, WATCH_END_KICKED);
	} else if (strncmp(line, "kick user ", 10) == 0) {
		if (!users_name_valid(line + 10))
			return buf_putf(out, "error\tbad user name\n");
		n = watch_kick(0, line + 10, WATCH_END_KICKED);
	} else
		return buf_putf(out, "error\tunknown request\n");
	if (n > 0)
		log_info("control: %s: %d session%s ended", line, n,
		    n == 1 ? "" : "s");
	return buf_putf(out, "ok\tkicked=%d\n", n);
}

static int
http_answer(struct buf *out, const char *status, const char *type,
    const struct buf *body, int head_only)
{
	int r = buf_putf(out,
	    "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
	    status, type, buf_len(body));

	if (r == 0 && !head_only)
		r = buf_put(out, buf_ptr(body), buf_len(body));
	return r;
}

/*
 * The answer to one HTTP request head (NUL-terminated): GET or HEAD of
 * /metrics (any query ignored), 404 for another path, 405 for another
 * method, 400 for what is not a request line.
 */
static int
metrics_answer(const char *head, struct buf *out)
{
	const char *sp1, *sp2, *eol, *target;
	struct buf *body = buf_new(CONTROL_ANSWER_MAX);
	size_t tlen;
	int head_only, r;

	if (body == NULL)
		return WH_ERR_NOMEM;
	eol = strpbrk(head, "\r\n");
	sp1 = strchr(head, ' ');
	sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
	if (eol == NULL || sp1 == NULL || sp2 == NULL || sp2 > eol ||
	    sp1 == head || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		r = buf_putf(body, "bad request\n");
		if (r == 0)
			r = http_answer(out, "400 Bad Request",
			    "text/plain; charset=utf-8", body, 0);
		goto out;
	}
	head_only = (size_t)(sp1 - head) == 4 && strncmp(head, "HEAD", 4) == 0;
	if (!head_only &&
	    ((size_t)(sp1 - head) != 3 || strncmp(head, "GET", 3) != 0)) {
		r = buf_putf(body, "only GET and HEAD\n");
		if (r == 0)
			r = http_answer(out, "405 Method Not Allowed",
			    "text/plain; charset=utf-8", body, 0);
		goto out;
	}
	target = sp1 + 1;
	tlen = strcspn(target, "? ");
	if (tlen != 8 || strncmp(target, "/metrics", 8) != 0) {
		r = buf_putf(body, "not found: the metrics are at /metrics\n");
		if (r == 0)
			r = http_answer(out, "404 Not Found",
			    "text/plain; charset=utf-8", body, head_only);
		goto out;
	}
	if ((r = watch_metrics(body)) == 0)
		r = http_answer(out, "200 OK",
		    "text/plain; version=0.0.4; charset=utf-8", body,
		    head_only);
out:
	buf_free(body);
	return r;
}

/* 1 once the slot holds a whole request: a control line, or an HTTP
 * head (a blank line ends it). */
static int
request_complete(struct slot *s)
{
	s->in[s->inlen] = '\0';
	if (s->kind == SLOT_CONTROL)
		return memchr(s->in, '\n', s->inlen) != NULL;
	return strstr(s->in, "\r\n\r\n") != NULL ||
	    strstr(s->in, "\n\n") != NULL;
}

static void
slot_answer(struct slot *s, int eof)
{
	char *nl;
	int r;

	if ((s->out = buf_new(CONTROL_ANSWER_MAX)) == NULL) {
		slot_close(s);
		return;
	}
	if (s->kind == SLOT_CONTROL) {
		if ((nl = memchr(s->in, '\n', s->inlen)) != NULL)
			*nl = '\0';
		if (nl != NULL && nl > s->in && nl[-1] == '\r')
			nl[-1] = '\0';
		r = nl == NULL ?
		    buf_putf(s->out, "error\t%s\n",
		        eof ? "incomplete request" : "request too long") :
		    control_answer(s->in, s->out);
	} else if (!request_complete(s) && !eof) {
		/* A head longer than CONTROL_REQUEST_MAX: not served. */
		struct buf *body = buf_new(64);

		r = body == NULL ? WH_ERR_NOMEM :
		                   buf_putf(body, "request head too long\n");
		if (r == 0)
			r = http_answer(s->out, "400 Bad Request",
			    "text/plain; charset=utf-8", body, 0);
		buf_free(body);
	} else
		r = metrics_answer(s->in, s->out);
	if (r != 0)
		slot_close(s);
}

static void
slot_read(struct slot *s)
{
	ssize_t n;

	n = recv(s->fd, s->in + s->inlen, CONTROL_REQUEST_MAX - s->inlen,
	    MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* A peer that half-closed after a request line gets its
		 * answer; one that sent nothing, nothing. */
		if (s->inlen > 0)
			slot_answer(s, 1);
		else
			slot_close(s);
		return;
	}
	s->inlen += (size_t)n;
	if (request_complete(s) || s->inlen == CONTROL_REQUEST_MAX)
		slot_answer(s, 0);
}

static void
slot_write(struct slot *s)
{
	ssize_t n;

	n = send(s->fd, buf_ptr(s->out), buf_len(s->out),
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || buf_consume(s->out, (size_t)n) != 0 ||
	    buf_len(s->out) == 0) {
		/* The rest of the request, if any, is not read: the
		 * answer is the last word. */
		shutdown(s->fd, SHUT_WR);
		slot_close(s);
	}
}

static void *
control_thread(void *arg)
{
	struct pollfd pfd[1 + CONTROL_METRICS_MAX + CONTROL_CLIENTS_MAX];
	struct slot *map[CONTROL_CLIENTS_MAX];
	int64_t now, next_tick = 0, wait;
	int i, n, nl, nc;

	(void)arg;
	while (!atomic_load(&stopping)) {
		now = clock_mono_ms();
		if (now >= next_tick) {
			watch_tick(ctl.users_path);
			next_tick = now + CONTROL_TICK_MS;
		}
		wait = next_tick - now;
		n = 0;
		if (ctl.ctl_fd >= 0) {
			pfd[n].fd = ctl.ctl_fd;
			pfd[n++].events = POLLIN;
		}
		for (i = 0; i < ctl.nmetrics; i++) {
			pfd[n].fd = ctl.metrics_fd[i];
			pfd[n++].events = POLLIN;
		}
		nl = n;
		nc = 0;
		for (i = 0; i < CONTROL_CLIENTS_MAX; i++) {
			struct slot *s = &ctl.slots[i];

			if (s->kind == SLOT_FREE)
				continue;
			if (s->deadline <= now) {
				slot_close(s); /* too slow: dropped */
				continue;
			}
			if (s->deadline - now < wait)
				wait = s->deadline - now;
			pfd[n].fd = s->fd;
			pfd[n].events = s->out == NULL ? POLLIN : POLLOUT;
			map[nc++] = s;
			n++;
		}
		if (poll(pfd, (nfds_t)n, (int)wait) <= 0)
			continue;
		for (i = 0; i < nc; i++) {
			short ev = pfd[nl + i].revents;

			if (ev == 0)
				continue;
			if (map[i]->out == NULL)
				slot_read(map[i]);
			else
				slot_write(map[i]);
		}
		for (i = 0; i < nl; i++)
			if (pfd[i].revents & POLLIN)
				accept_client(pfd[i].fd,
				    pfd[i].fd == ctl.ctl_fd ? SLOT_CONTROL :
				                              SLOT_METRICS);
	}
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (ctl.slots[i].kind != SLOT_FREE)
			slot_close(&ctl.slots[i]);
	return NULL;
}

int
control_start(const char *users_path)
{
	int r;

	snprintf(ctl.users_path, sizeof(ctl.users_path), "%s", users_path);
	if (ctl.ctl_fd >= 0)
		log_info("control socket %s", ctl.ctl_path);
	r = pthread_create(&ctl.thread, NULL, control_thread, NULL);
	ctl.running = r == 0;
	if (r != 0) {
		log_error("cannot start the control thread: %s", strerror(r));
		return WH_ERR_SYSTEM;
	}
	return 0;
}
