/* SPDX-License-Identifier: MIT */
/*
 * The options of `wharf serve`: one table of keys that drives both the
 * command line (--KEY VALUE) and the configuration file (KEY = VALUE
 * lines), their defaults by platform, and the file's reader (inih).
 */
#ifndef WHARF_CONF_H
#define WHARF_CONF_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "wharf/err.h"
#include "wharf/startups.h"

/* As root: the system's folders (hier(7)); otherwise XDG base dirs. */
#define CONF_FILE_SYSTEM "/etc/wharf/wharf.conf"
#define CONF_ROOT_SYSTEM "/srv/wharf"
#define CONF_STATE_SYSTEM "/var/lib/wharf"
/* The file used instead of the default one, if set (tests, packagers). */
#define CONF_FILE_ENV "WHARF_SERVE_CONFIG"
#define CONF_DRAIN_TIMEOUT_DEFAULT 30
/* Room for a message naming file, line, key and value. */
#define CONF_ERR_MAX 1024

/* Every option's value. Strings are owned (conf_cleanup frees them). */
struct serve_conf {
	char *listen; /* NULL: [::]:WIRE_PORT_DEFAULT */
	char *root;
	char *state;
	char *psk; /* NULL: none */
	char *log; /* NULL: stderr (the journal under systemd) */
	char *stats; /* NULL: none */
	char *user; /* NULL: CONTAIN_USER_DEFAULT when started as root */
	char *max_startups; /* NULL: the defaults for max_clients */
	char *metrics_listen; /* NULL: no metrics listener */
	char *ciphers; /* NULL: aes256gcm,secretbox */
	char *proxy_from; /* NULL: no balancers (cidr.h ranges) */
	long max_clients;
	long idle_timeout; /* seconds */
	long per_source_max_startups; /* 0: the default */
	long drain_timeout; /* seconds a stop waits for connections */
	uint64_t max_file_size; /* 0: unlimited */
	uint64_t bwlimit; /* bytes/s each way, all clients; 0: none */
	int allow_plaintext;
	int keys_only;
	int verbose;
};

/* What the command line says besides the keys. */
struct serve_args {
	const char *config; /* --config FILE, or NULL */
	int check_config; /* --check-config */
	int help;
};

/* Defaults: root's folders if as_root (a server started as root keeps
 * them after it drops root), else the XDG ones. 0 or WH_ERR_NOMEM. */
int conf_init(struct serve_conf *c, int as_root) WH_MUST_CHECK;
void conf_cleanup(struct serve_conf *c);

/* The configuration file used without --config: $WHARF_SERVE_CONFIG, else
 * CONF_FILE_SYSTEM as root, else $XDG_CONFIG_HOME/wharf/wharf.conf (or
 * ~/.config/wharf/wharf.conf). Written to out; "" if none can be named. */
void conf_default_file(char *out, size_t outlen);

/*
 * Reads path into c, over what it holds. must_exist 0: a missing file is
 * no error (the default file). Unknown keys, sections, a key given twice
 * and bad values are errors: WH_ERR_INVALID_ARG with "FILE:LINE: why" in
 * err; WH_ERR_SYSTEM (and err) if it cannot be read. Relative paths in the
 * file are taken from the file's folder.
 */
int conf_load_file(struct serve_conf *c, const char *path, int must_exist,
    char *err, size_t errlen) WH_MUST_CHECK;

/*
 * The state folder `wharf serve` would use, into out: the state key of
 * the configuration file (config, or the default file if it exists),
 * else the default. For the commands that act on a server's state
 * (user, status, kick). 0, or 1 after saying why on stderr.
 */
int conf_state_folder(const char *config, char *out, size_t outlen);

/* conf_load_file's reader on an open stream: errors say name, relative
 * paths are taken from base (a folder). */
int conf_load_stream(struct serve_conf *c, FILE *f, const char *name,
    const char *base, char *err, size_t errlen) WH_MUST_CHECK;

/*
 * The command line of `wharf serve`. With c NULL, only fills a (a first
 * pass, to find --config before the file is read); else applies every
 * key option to c, so that the command line overrides the file. Returns
 * 0, or WH_ERR_INVALID_ARG with the reason in err (a usage error).
 */
int conf_parse_args(struct serve_conf *c, struct serve_args *a, int argc,
    char **argv, char *err, size_t errlen) WH_MUST_CHECK;

/* Checks the keys that depend on each other and gives the connection
 * limits they make. 0, or WH_ERR_INVALID_ARG with the reason in err. */
int conf_finish(const struct serve_conf *c, struct startups_limits *lim,
    char *err, size_t errlen) WH_MUST_CHECK;

/* The option lines of `wharf serve --help`, one per key, to f. */
void conf_usage(FILE *f);

/*
 * For a SIGHUP: the names of the keys that differ between running and
 * next and take effect only at a restart, comma-separated into out ("" if
 * none).
 */
void conf_restart_keys(const struct serve_conf *running,
    const struct serve_conf *next, char *out, size_t outlen);

#endif
