/* SPDX-License-Identifier: MIT */
/*
 * Server-side subcommands: `wharf serve` and `wharf user ...`.
 */
#ifndef WHARF_SERVER_H
#define WHARF_SERVER_H

#define SERVER_HOST_KEY_FILE "host_key"

/* Exit status: 0, or 1 for a start-up failure, 2 for a usage error. */
int serve_main(int argc, char **argv);
int user_main(int argc, char **argv);
/* `wharf status` and `wharf kick` (server/ctlcmd.c). */
int status_main(int argc, char **argv);
int kick_main(int argc, char **argv);

#endif
