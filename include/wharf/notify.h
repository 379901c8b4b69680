/* SPDX-License-Identifier: MIT */
/*
 * The service manager's readiness protocol (sd_notify(3)) spoken over its
 * plain datagram socket, without libsystemd: READY=1, RELOADING=1,
 * STOPPING=1 and STATUS= lines to $NOTIFY_SOCKET, when it is set.
 */
#ifndef WHARF_NOTIFY_H
#define WHARF_NOTIFY_H

#include "wharf/err.h"

/*
 * Opens and connects a socket to $NOTIFY_SOCKET (a path, or "@name" for
 * the abstract namespace), before containment: afterwards no socket may
 * be made or connected. 0 also when the variable is unset (then every
 * notify_send does nothing); WH_ERR_INVALID_ARG or WH_ERR_SYSTEM (with a
 * message on stderr) if it names nothing usable.
 */
int notify_open(void) WH_MUST_CHECK;

/* Sends one datagram of "KEY=VALUE\n" lines; best effort, never blocks. */
void notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* RELOADING=1 with the MONOTONIC_USEC= that systemd 253 and later want. */
void notify_reloading(void);

#endif
