/* SPDX-License-Identifier: MIT */
/*
 * sd_notify without libsystemd: one connected datagram socket, opened
 * while the process may still make one, to which each state change is
 * sent as a datagram of KEY=VALUE lines.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "wharf/notify.h"

#define NOTIFY_MSG_MAX 512

static int notify_fd = -1;

int
notify_open(void)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	size_t n;
	int fd;

	if (name == NULL || name[0] == '\0')
		return 0;
	n = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || n >= sizeof(sun.sun_path)) {
		fprintf(stderr,
		    "wharf: NOTIFY_SOCKET=%s: expected an absolute path or "
		    "@name\n",
		    name);
		return WH_ERR_INVALID_ARG;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, name, n);
	/* The abstract namespace: a leading NUL, and no NUL counted after. */
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (name[0] == '/'));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return WH_ERR_SYSTEM;
	if (connect(fd, (struct sockaddr *)&sun, len) != 0) {
		fprintf(stderr, "wharf: NOTIFY_SOCKET=%s: %s\n", name,
		    strerror(errno));
		close(fd);
		return WH_ERR_SYSTEM;
	}
	notify_fd = fd;
	return 0;
}

void
notify_send(const char *fmt, ...)
{
	char msg[NOTIFY_MSG_MAX];
	va_list ap;
	int n, saved = errno;

	if (notify_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n >= sizeof(msg))
		n = (int)sizeof(msg) - 1;
	/* A manager too busy to read must not stall the server. */
	if (n > 0 &&
	    send(notify_fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		errno = saved;
	errno = saved;
}

void
notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_send("RELOADING=1\nMONOTONIC_USEC=%llu\n",
	    (unsigned long long)ts.tv_sec * 1000000ull +
	        (unsigned long long)ts.tv_nsec / 1000ull);
}
