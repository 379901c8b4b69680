/* SPDX-License-Identifier: MIT */
/*
 * `wharf status` and `wharf kick`: ask the servers running on a state
 * folder, through their control sockets (server/control.c), what they are
 * doing, or to end sessions. Every server of the folder is asked (there
 * may be more than one: control.sock and control.PID.sock); a socket
 * nobody answers on is what a server that died left behind.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "wharf/buf.h"
#include "wharf/clock.h"
#include "wharf/conf.h"
#include "wharf/control.h"
#include "wharf/server.h"
#include "wharf/stats.h"
#include "wharf/strnum.h"
#include "wharf/users.h"

#define CTL_SERVERS_MAX 64
#define CTL_WAIT_MS 10000
#define CTL_FIELDS_MAX 32

/* The control sockets in state, sorted by name (control.sock first). */
static int
find_sockets(const char *state, char names[][NAME_MAX + 1], int *n)
{
	struct dirent *de;
	DIR *d;
	size_t len, pl = strlen(CONTROL_SOCKET_PREFIX),
	            sl = strlen(CONTROL_SOCKET_SUFFIX);
	int i, k;

	*n = 0;
	if ((d = opendir(state)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL && *n < CTL_SERVERS_MAX) {
		len = strlen(de->d_name);
		if (strcmp(de->d_name, CONTROL_SOCKET_NAME) != 0 &&
		    !(len > pl + sl &&
		        strncmp(de->d_name, CONTROL_SOCKET_PREFIX, pl) == 0 &&
		        strcmp(de->d_name + len - sl, CONTROL_SOCKET_SUFFIX) ==
		            0))
			continue;
		snprintf(names[*n], NAME_MAX + 1, "%s", de->d_name);
		(*n)++;
	}
	closedir(d);
	/* Insertion sort: a handful of names. */
	for (i = 1; i < *n; i++)
		for (k = i; k > 0 && strcmp(names[k - 1], names[k]) > 0; k--) {
			char t[NAME_MAX + 1];

			memcpy(t, names[k], sizeof(t));
			memcpy(names[k], names[k - 1], sizeof(t));
			memcpy(names[k - 1], t, sizeof(t));
		}
	return 0;
}

/*
 * Sends request to the socket at path and reads the whole answer into
 * out (NUL-terminated). 0, or -1 with errno (ECONNREFUSED, ENOENT: no
 * server there; EACCES: not ours to use).
 */
static int
ask(const char *path, const char *request, struct buf *out)
{
	struct sockaddr_un sa;
	struct pollfd pfd;
	int64_t deadline = clock_mono_ms() + CTL_WAIT_MS;
	uint8_t *dst;
	ssize_t n;
	int fd, e, left;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    send(fd, request, strlen(request), MSG_NOSIGNAL) !=
	        (ssize_t)strlen(request) ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1)
		goto fail;
	for (;;) {
		if ((left = (int)(deadline - clock_mono_ms())) <= 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, left) < 0 && errno != EINTR)
			goto fail;
		if (buf_reserve(out, 65536, &dst) != 0) {
			errno = EFBIG;
			goto fail;
		}
		if ((n = recv(fd, dst, 65536, MSG_DONTWAIT)) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		buf_commit(out, (size_t)n);
	}
	close(fd);
	if (buf_put_u8(out, 0) != 0) {
		errno = EFBIG;
		return -1;
	}
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* One answer line split at tabs: fields[0] the kind, then key=value. */
struct line {
	char *kind;
	char *key[CTL_FIELDS_MAX], *val[CTL_FIELDS_MAX];
	int n;
};

static void
split_line(char *s, struct line *l)
{
	char *f, *eq;

	l->n = 0;
	l->kind = strsep(&s, "\t");
	while ((f = strsep(&s, "\t")) != NULL && l->n < CTL_FIELDS_MAX) {
		if ((eq = strchr(f, '=')) == NULL)
			continue;
		*eq = '\0';
		l->key[l->n] = f;
		l->val[l->n++] = eq + 1;
	}
}

static const char *
get(const struct line *l, const char *key)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->key[i], key) == 0)
			return l->val[i];
	return "";
}

static uint64_t
get_u64(const struct line *l, const char *key)
{
	return strtoull(get(l, key), NULL, 10);
}

static void
json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* A number as the server wrote it; anything else becomes a string, so
 * that the JSON stays valid whatever came. */
static void
json_number(const char *s)
{
	if (s[0] != '\0' && strspn(s, "0123456789.") == strlen(s))
		fputs(s, stdout);
	else
		json_string(s);
}

static int
is_string_key(const char *k)
{
	return strcmp(k, "version") == 0 || strcmp(k, "user") == 0 ||
	    strcmp(k, "peer") == 0 || strcmp(k, "op") == 0 ||
	    strcmp(k, "path") == 0;
}

static void
json_fields(const struct line *l)
{
	int i;

	for (i = 0; i < l->n; i++) {
		printf("%s", i ? "," : "");
		json_string(l->key[i]);
		putchar(':');
		if (strcmp(l->key[i], "ending") == 0)
			fputs(strcmp(l->val[i], "1") == 0 ? "true" : "false",
			    stdout);
		else if (is_string_key(l->key[i]))
			json_string(l->val[i]);
		else
			json_number(l->val[i]);
	}
}

static void
format_secs(uint64_t s, char *out, size_t n)
{
	if (s >= 86400)
		snprintf(out, n, "%llud%02lluh%02llum",
		    (unsigned long long)(s / 86400),
		    (unsigned long long)(s % 86400 / 3600),
		    (unsigned long long)(s % 3600 / 60));
	else
		snprintf(out, n, "%lluh%02llum%02llus",
		    (unsigned long long)(s / 3600),
		    (unsigned long long)(s % 3600 / 60),
		    (unsigned long long)(s % 60));
}

static void
print_server(const struct line *l)
{
	char up[32], in[32], out[32];

	format_secs(get_u64(l, "uptime"), up, sizeof(up));
	stats_format_size(get_u64(l, "bytes_in"), in, sizeof(in));
	stats_format_size(get_u64(l, "bytes_out"), out, sizeof(out));
	printf("server pid %s, wharf %s, up %s, %s connection%s "
	       "(%s logged in)\n",
	    get(l, "pid"), get(l, "version"), up, get(l, "connections"),
	    strcmp(get(l, "connections"), "1") == 0 ? "" : "s",
	    get(l, "logged_in"));
	printf("  bytes in %s, out %s; logins %s ok, %s failed; transfers "
	       "%s ok, %s failed, %s cancelled\n",
	    in, out, get(l, "logins_ok"), get(l, "logins_failed"),
	    get(l, "transfers_ok"), get(l, "transfers_failed"),
	    get(l, "transfers_cancelled"));
}

static void
print_session(const struct line *l, int *header)
{
	char since[32], in[32], out[32], rate[32];
	time_t t = (time_t)get_u64(l, "since");
	struct tm tm;

	if (!*header) {
		printf("%-6s %-12s %-22s %-20s %-8s %10s %10s %11s %s\n", "ID",
		    "USER", "PEER", "SINCE", "OP", "IN", "OUT", "RATE", "PATH");
		*header = 1;
	}
	gmtime_r(&t, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	stats_format_size(get_u64(l, "bytes_in"), in, sizeof(in));
	stats_format_size(get_u64(l, "bytes_out"), out, sizeof(out));
	snprintf(
	    rate, sizeof(rate), "%.2fMB/s", strtod(get(l, "rate"), NULL) / 1e6);
	printf("%-6s %-12s %-22s %-20s %-8s %10s %10s %11s %s%s\n",
	    get(l, "id"), get(l, "user"), get(l, "peer"), since, get(l, "op"),
	    in, out, rate, get(l, "path"),
	    strcmp(get(l, "ending"), "1") == 0 ? " (ending)" : "");
}

/* Shows one server's status answer (text, modified). 0, or -1 if it is
 * not one. */
static int
show_status(char *text, int json, int first)
{
	struct line l;
	char *line, *s = text;
	int header = 0, nsessions = 0, ok = 0, done = 0;

	while ((line = strsep(&s, "\n")) != NULL && !done) {
		split_line(line, &l);
		if (!ok) {
			if (strcmp(l.kind, "ok") != 0)
				return -1;
			ok = 1;
		} else if (strcmp(l.kind, "server") == 0) {
			if (json) {
				printf("%s{", first ? "" : ",");
				json_fields(&l);
				printf(",\"sessions\":[");
			} else {
				if (!first)
					putchar('\n');
				print_server(&l);
			}
		} else if (strcmp(l.kind, "session") == 0) {
			if (json) {
				printf("%s{", nsessions ? "," : "");
				json_fields(&l);
				putchar('}');
			} else
				print_session(&l, &header);
			nsessions++;
		} else if (strcmp(l.kind, "end") == 0)
			done = 1;
	}
	if (!done)
		return -1;
	if (json)
		printf("]}");
	return 0;
}

static void
ctl_usage(FILE *f)
{
	fprintf(f,
	    "usage: wharf status [--config FILE | --state DIR] [--json]\n"
	    "       wharf kick [--config FILE | --state DIR] ID|USER\n"
	    "       wharf kick [--config FILE | --state DIR] --id ID | "
	    "--user NAME\n"
	    "\n"
	    "Asks the servers running on the state folder, through their "
	    "control\nsockets, who is connected and what they do, or to end "
	    "sessions: by id,\nor every session of a user. A kicked upload's "
	    "partial stays for the\nclient to resume. Root or the server's "
	    "user only. The state folder is\n'wharf serve''s: --state, else "
	    "the state key of --config FILE or of the\ndefault configuration "
	    "file, else the default.\n");
}

/* Runs request against every server of state; calls each answer. */
static int
ask_all(const char *state, const char *request,
    int (*each)(char *answer, void *arg), void *arg)
{
	static char names[CTL_SERVERS_MAX][NAME_MAX + 1];
	char path[PATH_MAX];
	struct buf *out;
	int i, n, answered = 0, denied = 0;

	if (find_sockets(state, names, &n) != 0) {
		fprintf(
		    stderr, "wharf: state %s: %s\n", state, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%.*s/%.*s",
		    PATH_MAX - NAME_MAX - 2, state, NAME_MAX, names[i]);
		if ((out = buf_new(CONTROL_ANSWER_MAX)) == NULL)
			return -1;
		if (ask(path, request, out) != 0) {
			if (errno == EACCES || errno == EPERM)
				denied++;
			else if (errno != ECONNREFUSED && errno != ENOENT)
				fprintf(stderr, "wharf: %s: %s\n", path,
				    strerror(errno));
			buf_free(out);
			continue;
		}
		if (strncmp((const char *)buf_ptr(out), "error\t", 6) == 0) {
			fprintf(stderr, "wharf: %s: %s", path,
			    (const char *)buf_ptr(out) + 6);
			buf_free(out);
			return -1;
		}
		if (each((char *)buf_mutable_ptr(out), arg) != 0) {
			fprintf(stderr, "wharf: %s: unexpected answer\n", path);
			buf_free(out);
			return -1;
		}
		answered++;
		buf_free(out);
	}
	if (answered == 0) {
		if (denied > 0)
			fprintf(stderr,
			    "wharf: the control socket in %s is for root and "
			    "the server's user only\n",
			    state);
		else
			fprintf(stderr,
			    "wharf: no server is running on the state folder "
			    "%s\n",
			    state);
		return -1;
	}
	return answered;
}

/* The state folder: --state, else as wharf serve finds it. NULL after
 * saying why (buf "" for a usage error). */
static const char *
state_of(const char *state, const char *config, char *buf, size_t n)
{
	buf[0] = '\0';
	if (state != NULL && config != NULL) {
		fprintf(stderr,
		    "wharf: --state and --config exclude each "
		    "other\n");
		return NULL;
	}
	if (state != NULL)
		return state;
	if (conf_state_folder(config, buf, n) != 0) {
		snprintf(buf, n, "?");
		return NULL;
	}
	return buf;
}

struct status_ctx {
	int json;
	int shown;
};

static int
status_each(char *answer, void *arg)
{
	struct status_ctx *c = arg;

	if (show_status(answer, c->json, c->shown == 0) != 0)
		return -1;
	c->shown++;
	return 0;
}

int
status_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state = NULL, *config = NULL;
	char state_buf[PATH_MAX];
	struct status_ctx c = { 0, 0 };
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			state = optarg;
			break;
		case 'C':
			config = optarg;
			break;
		case 'j':
			c.json = 1;
			break;
		case 'h':
			ctl_usage(stdout);
			return 0;
		default:
			ctl_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "wharf: status: unexpected argument '%s'\n",
		    argv[optind]);
		return 2;
	}
	if ((state = state_of(state, config, state_buf, sizeof(state_buf))) ==
	    NULL)
		return state_buf[0] == '\0' ? 2 : 1;
	if (c.json)
		printf("{\"servers\":[");
	if (ask_all(state, "status", status_each, &c) < 0) {
		if (c.json)
			printf("]}\n");
		return 1;
	}
	if (c.json)
		printf("]}\n");
	return 0;
}

static int
kick_each(char *answer, void *arg)
{
	int *total = arg;
	char *nl = strchr(answer, '\n');
	long n;

	if (nl != NULL)
		*nl = '\0';
	if (strncmp(answer, "ok\tkicked=", 10) != 0 ||
	    strnum_long(answer + 10, 0, INT_MAX, &n) != 0)
		return -1;
	*total += (int)n;
	return 0;
}

int
kick_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'C' },
		{ "id", required_argument, NULL, 'i' },
		{ "user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state = NULL, *config = NULL, *id = NULL, *user = NULL;
	char state_buf[PATH_MAX];
	char request[64];
	long v;
	int ch, total = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			state = optarg;
			break;
		case 'C':
			config = optarg;
			break;
		case 'i':
			id = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'h':
			ctl_usage(stdout);
			return 0;
		default:
			ctl_usage(stderr);
			return 2;
		}
	}
	if (id == NULL && user == NULL && optind + 1 == argc) {
		/* All digits: a session id (a user so named: --user). */
		if (strspn(argv[optind], "0123456789") == strlen(argv[optind]))
			id = argv[optind];
		else
			user = argv[optind];
		optind++;
	}
	if (optind != argc || (id == NULL) == (user == NULL)) {
		ctl_usage(stderr);
		return 2;
	}
	if (id != NULL && strnum_long(id, 1, LONG_MAX, &v) != 0) {
		fprintf(stderr, "wharf: kick: '%s' is not a session id\n", id);
		return 2;
	}
	if (user != NULL && !users_name_valid(user)) {
		fprintf(stderr, "wharf: kick: '%s' is not a user name\n", user);
		return 2;
	}
	if ((state = state_of(state, config, state_buf, sizeof(state_buf))) ==
	    NULL)
		return state_buf[0] == '\0' ? 2 : 1;
	if (id != NULL)
		snprintf(request, sizeof(request), "kick id %ld", v);
	else
		snprintf(request, sizeof(request), "kick user %s", user);
	if (ask_all(state, request, kick_each, &total) < 0)
		return 1;
	if (total == 0) {
		fprintf(stderr, "wharf: no session %s%s\n",
		    id != NULL ? "with id " : "of user ",
		    id != NULL ? id : user);
		return 1;
	}
	fprintf(stderr, "wharf: ended %d session%s\n", total,
	    total == 1 ? "" : "s");
	return 0;
}
