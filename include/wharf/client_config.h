/* SPDX-License-Identifier: MIT */
/*
 * The client's configuration: ssh_config-style "Host PATTERN..." blocks in
 * ~/.config/wharf/config ($XDG_CONFIG_HOME) and /etc/wharf/client.conf, or
 * the one file named by -F; "-o Key=Value" before both. For each key the
 * first value found wins, as in ssh. The options every command that
 * connects takes (-F, -o, -i, -P, --psk, --plaintext, --host-key-policy)
 * are parsed here too, once.
 */
#ifndef WHARF_CLIENT_CONFIG_H
#define WHARF_CLIENT_CONFIG_H

#include <limits.h>
#include <stdint.h>

#include "wharf/client.h"

#define CLIENT_CONFIG_SYSTEM "/etc/wharf/client.conf"
#define CLIENT_CONFIG_LINE_MAX 4096

struct transfer_opts;

/*
 * Parses one connection option at argv[*i] into co. Returns 1 if it was
 * one (advancing *i past its value), 0 if not, WH_ERR_INVALID_ARG with a
 * message on stderr if it was malformed.
 */
int client_parse_conn_opt(
    struct client_opts *co, int argc, char **argv, int *i) WH_MUST_CHECK;

/* The usage lines of those options, for --help texts. */
extern const char CLIENT_CONN_OPTS_HELP[];

/*
 * Applies the configuration to a parsed target: the Host blocks that match
 * t->alias give HostName, and User and Port where the command line gave
 * none (-P beats both); co gets PSK, IdentityFile and HostKeyPolicy where
 * unset; xo (may be NULL) Compression and Streams where unset. An unknown
 * key or a bad value is WH_ERR_INVALID_ARG, reported with file and line.
 */
int client_config_resolve(struct client_target *t, struct client_opts *co,
    struct transfer_opts *xo) WH_MUST_CHECK;

/* The user's file: $XDG_CONFIG_HOME/wharf/config or ~/.config/wharf/config. */
int client_config_user_path(char *out, size_t outlen) WH_MUST_CHECK;

#endif
