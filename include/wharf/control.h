/* SPDX-License-Identifier: MIT */
/*
 * The server's local control socket (`wharf status`, `wharf kick`) and
 * its optional Prometheus metrics listener, served by one thread of their
 * own (docs/design.md, "Control socket" and "Metrics").
 */
#ifndef WHARF_CONTROL_H
#define WHARF_CONTROL_H

#include "wharf/err.h"

/* In the state folder. A second server on the same state folder, while
 * the first holds control.lock, takes control.HOST-PID.sock instead. */
#define CONTROL_SOCKET_NAME "control.sock"
#define CONTROL_LOCK_NAME "control.lock"
#define CONTROL_SOCKET_PREFIX "control."
#define CONTROL_SOCKET_SUFFIX ".sock"
/* A request line, and a metrics request's head, at most. */
#define CONTROL_REQUEST_MAX 4096
/* A client of either has this long, from connect to the last byte of
 * the answer; slower ones are dropped. */
#define CONTROL_CLIENT_MS 3000
/* An answer at most: a status of tens of thousands of sessions. */
#define CONTROL_ANSWER_MAX (16u << 20)
/* Clients served at once; more are closed at accept. */
#define CONTROL_CLIENTS_MAX 16
/* --metrics-listen HOST without a port. */
#define CONTROL_METRICS_PORT_DEFAULT 9750
/* The control protocol's version, in the first answer line's place for
 * `hello`. */
#define CONTROL_PROTOCOL_VERSION 1

/*
 * Binds the control socket in state (mode 0600) and, for a non-NULL
 * metrics_spec ("HOST[:PORT]"), the metrics listener. Before the server
 * drops privileges and confines itself: seccomp forbids bind and listen
 * afterwards. A control socket that cannot be made is logged and done
 * without; a metrics listener that cannot is an error (printed): the
 * server should not start.
 */
int control_open(const char *state, const char *metrics_spec) WH_MUST_CHECK;

/* Starts the thread that serves them and watches users_path. After the
 * containment, before the first accept. */
int control_start(const char *users_path) WH_MUST_CHECK;

/* Removes the control socket (the server is stopping). */
void control_close(void);

#endif
