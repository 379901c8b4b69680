/* SPDX-License-Identifier: MIT */
/*
 * The options of `wharf serve` as one table: each key is a command-line
 * option (--KEY) and a configuration file line (KEY = VALUE), parsed by
 * the same code. The file is read with inih (Debian's libinih), through a
 * line reader of our own so that every error names its line.
 */
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wharf/cidr.h"
#include "wharf/conf.h"
#include "wharf/contain.h"
#include "wharf/session.h"
#include "wharf/strnum.h"
#include "wharf/wire.h"

enum conf_type {
	CONF_STR, /* a string, as given */
	CONF_PATH, /* a path: relative ones in a file are from its folder */
	CONF_INT, /* a number from min to max */
	CONF_SIZE, /* bytes, with an optional K, M, G or T */
	CONF_BOOL, /* yes or no */
	CONF_RATE, /* bytes/s written as rsync's --bwlimit: KiB/s, K, M, G */
	CONF_CIDRS, /* a string of address ranges (cidr.h), checked */
};

/* When a changed value takes effect. */
enum conf_when {
	CONF_RELOAD, /* at the next SIGHUP */
	CONF_RESTART, /* at the next start only */
};

struct conf_key {
	const char *name; /* the file's key and the long option */
	enum conf_type type;
	size_t off; /* of the field in struct serve_conf */
	long min, max; /* CONF_INT only */
	enum conf_when when;
	const char *arg; /* shown in --help */
	const char *help;
};

#define F(field) offsetof(struct serve_conf, field)

/*
 * Every key. A new server option is one line here (and its field in
 * struct serve_conf); the command line, the file, --help and SIGHUP all
 * follow from it. docs/wharf.1 CONFIGURATION documents each one.
 */
static const struct conf_key conf_keys[] = {
	{ "listen", CONF_STR, F(listen), 0, 0, CONF_RESTART, "HOST:PORT",
	    "address to listen on (default [::]:4450, IPv6 and IPv4)" },
	{ "root", CONF_PATH, F(root), 0, 0, CONF_RESTART, "DIR",
	    "folder to serve" },
	{ "state", CONF_PATH, F(state), 0, 0, CONF_RESTART, "DIR",
	    "users file and host key; never inside the root" },
	{ "user", CONF_STR, F(user), 0, 0, CONF_RESTART, "NAME",
	    "started as root, serve as this user (default wharf)" },
	{ "psk", CONF_PATH, F(psk), 0, 0, CONF_RESTART, "FILE",
	    "require this pre-shared key (see wharf keygen)" },
	{ "log", CONF_PATH, F(log), 0, 0, CONF_RESTART, "FILE",
	    "append the log here instead of stderr (reopened on SIGHUP)" },
	{ "stats", CONF_PATH, F(stats), 0, 0, CONF_RESTART, "FILE",
	    "append one CSV row per transfer" },
	{ "max-clients", CONF_INT, F(max_clients), 1, 100000, CONF_RELOAD, "N",
	    "connections at once (default 64)" },
	{ "idle-timeout", CONF_INT, F(idle_timeout), 1, 604800, CONF_RELOAD,
	    "SECONDS", "drop a client idle this long (default 300)" },
	{ "max-file-size", CONF_SIZE, F(max_file_size), 0, 0, CONF_RELOAD,
	    "SIZE", "refuse uploads larger than SIZE (e.g. 10G; 0: none)" },
	{ "allow-plaintext", CONF_BOOL, F(allow_plaintext), 0, 0, CONF_RELOAD,
	    NULL, "let clients ask for an unencrypted session" },
	{ "keys-only", CONF_BOOL, F(keys_only), 0, 0, CONF_RELOAD, NULL,
	    "key logins only (wharf user key add); no passwords" },
	{ "bwlimit", CONF_RATE, F(bwlimit), 0, 0, CONF_RESTART, "RATE",
	    "all clients together at most RATE each way (KiB/s, or 500K, 2M, "
	    "1G; 0: none; per user: wharf user mod --bwlimit)" },
	{ "max-startups", CONF_STR, F(max_startups), 0, 0, CONF_RESTART,
	    "START:RATE:FULL",
	    "connections not logged in yet: from START refuse RATE% of new "
	    "ones, rising to all at FULL (default 20:30:(3/4 of "
	    "max-clients))" },
	{ "per-source-max-startups", CONF_INT, F(per_source_max_startups), 1,
	    100000, CONF_RESTART, "N",
	    "of those, at most N from one address or IPv6 /64 (default 10)" },
	{ "ciphers", CONF_STR, F(ciphers), 0, 0, CONF_RESTART, "LIST",
	    "ciphers a client may seal with, of aes256gcm,secretbox (default "
	    "both; aes256gcm only where this CPU has AES-NI)" },
	{ "drain-timeout", CONF_INT, F(drain_timeout), 0, 86400, CONF_RELOAD,
	    "SECONDS",
	    "on SIGTERM, wait this long for connections to end (default 30)" },
	{ "metrics-listen", CONF_STR, F(metrics_listen), 0, 0, CONF_RESTART,
	    "HOST:PORT",
	    "serve Prometheus metrics at http://HOST:PORT/metrics (keep it "
	    "on loopback, e.g. 127.0.0.1:9750)" },
	{ "proxy-from", CONF_CIDRS, F(proxy_from), 0, 0, CONF_RELOAD,
	    "CIDR[,CIDR...]",
	    "connections from these load balancers start with a PROXY v1/v2 "
	    "header giving the client's address (docs/deployment.md)" },
	{ "verbose", CONF_BOOL, F(verbose), 0, 0, CONF_RELOAD, NULL,
	    "debug logging (-v)" },
};

#define CONF_NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))
/* getopt values of the keys: past every character. */
#define CONF_OPT_BASE 256
#define CONF_OPT_CONFIG (CONF_OPT_BASE + (int)CONF_NKEYS)
#define CONF_OPT_CHECK (CONF_OPT_CONFIG + 1)

static char **
str_field(struct serve_conf *c, const struct conf_key *k)
{
	return (char **)(void *)((char *)c + k->off);
}

static long *
long_field(struct serve_conf *c, const struct conf_key *k)
{
	return (long *)(void *)((char *)c + k->off);
}

static int *
int_field(struct serve_conf *c, const struct conf_key *k)
{
	return (int *)(void *)((char *)c + k->off);
}

static uint64_t *
size_field(struct serve_conf *c, const struct conf_key *k)
{
	return (uint64_t *)(void *)((char *)c + k->off);
}

/* dir/name into out; WH_ERR_TOO_LARGE if it does not fit. */
static int
join(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= outlen ? WH_ERR_TOO_LARGE : 0;
}

/* $VAR if set and absolute, else ~/fallback. */
static int
xdg_dir(char *out, size_t outlen, const char *var, const char *fallback)
{
	const char *v = getenv(var), *home = getenv("HOME");
	struct passwd *pw;

	if (v != NULL && v[0] == '/')
		return join(out, outlen, v, "wharf");
	if ((home == NULL || home[0] == '\0') &&
	    (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	if (home == NULL || home[0] == '\0')
		return WH_ERR_NOT_FOUND;
	if (snprintf(out, outlen, "%s/%s/wharf", home, fallback) >= (int)outlen)
		return WH_ERR_TOO_LARGE;
	return 0;
}

void
conf_default_file(char *out, size_t outlen)
{
	const char *env = getenv(CONF_FILE_ENV);
	char dir[PATH_MAX];

	out[0] = '\0';
	if (env != NULL && env[0] != '\0')
		snprintf(out, outlen, "%s", env);
	else if (geteuid() == 0)
		snprintf(out, outlen, "%s", CONF_FILE_SYSTEM);
	else if (xdg_dir(dir, sizeof(dir), "XDG_CONFIG_HOME", ".config") == 0)
		(void)join(out, outlen, dir, "wharf.conf");
}

int
conf_init(struct serve_conf *c, int as_root)
{
	char root[PATH_MAX], state[PATH_MAX];

	memset(c, 0, sizeof(*c));
	c->max_clients = SERVER_MAX_CLIENTS_DEFAULT;
	c->idle_timeout = SERVER_IDLE_TIMEOUT_DEFAULT;
	c->drain_timeout = CONF_DRAIN_TIMEOUT_DEFAULT;
	if (as_root) {
		snprintf(root, sizeof(root), "%s", CONF_ROOT_SYSTEM);
		snprintf(state, sizeof(state), "%s", CONF_STATE_SYSTEM);
	} else if (xdg_dir(root, sizeof(root), "XDG_DATA_HOME",
	               ".local/share") != 0 ||
	    xdg_dir(state, sizeof(state), "XDG_STATE_HOME", ".local/state") !=
	        0) {
		/* No home at all: the folder the server starts in. */
		snprintf(root, sizeof(root), "wharf-data");
		snprintf(state, sizeof(state), "wharf-state");
	}
	if ((c->root = strdup(root)) == NULL ||
	    (c->state = strdup(state)) == NULL) {
		conf_cleanup(c);
		return WH_ERR_NOMEM;
	}
	return 0;
}

void
conf_cleanup(struct serve_conf *c)
{
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++)
		if (conf_keys[i].type == CONF_STR ||
		    conf_keys[i].type == CONF_PATH ||
		    conf_keys[i].type == CONF_CIDRS) {
			free(*str_field(c, &conf_keys[i]));
			*str_field(c, &conf_keys[i]) = NULL;
		}
}

static const struct conf_key *
key_find(const char *name)
{
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++)
		if (strcmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	return NULL;
}

static int
parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return WH_ERR_INVALID_ARG;
}

/*
 * Sets k to value. base: the folder relative paths are taken from (the
 * file's), or NULL to keep them as given (the command line's, relative to
 * the working folder as every command's are). On a bad value, says why in
 * err (without the key: the caller says where).
 */
static int
key_set(struct serve_conf *c, const struct conf_key *k, const char *value,
    const char *base, char *err, size_t errlen)
{
	struct cidr_list ranges;
	char path[PATH_MAX], bad[CONF_ERR_MAX / 4];
	char *copy;
	uint64_t size;
	long n;
	int b;

	/* Checked here, so that a bad range names its file and line; kept
	 * as text, and parsed again where it is used. */
	if (k->type == CONF_CIDRS &&
	    cidr_list_parse(value, &ranges, bad, sizeof(bad)) != 0) {
		snprintf(err, errlen,
		    "'%.100s' is not an address or ADDRESS/BITS (at most %d "
		    "ranges)",
		    bad, CIDR_LIST_MAX);
		return WH_ERR_INVALID_ARG;
	}
	switch (k->type) {
	case CONF_CIDRS:
	case CONF_STR:
	case CONF_PATH:
		if (value[0] == '\0') {
			snprintf(err, errlen, "needs a value");
			return WH_ERR_INVALID_ARG;
		}
		if (k->type == CONF_PATH && base != NULL && value[0] != '/') {
			if (join(path, sizeof(path), base, value) != 0) {
				snprintf(err, errlen, "path too long");
				return WH_ERR_INVALID_ARG;
			}
			value = path;
		}
		if ((copy = strdup(value)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return WH_ERR_NOMEM;
		}
		free(*str_field(c, k));
		*str_field(c, k) = copy;
		return 0;
	case CONF_INT:
		if (strnum_long(value, k->min, k->max, &n) != 0) {
			snprintf(err, errlen,
			    "expected a number from %ld to %ld", k->min,
			    k->max);
			return WH_ERR_INVALID_ARG;
		}
		*long_field(c, k) = n;
		return 0;
	case CONF_SIZE:
		if (strnum_size(value, &size) != 0) {
			snprintf(
			    err, errlen, "expected a size such as 500M or 10G");
			return WH_ERR_INVALID_ARG;
		}
		*size_field(c, k) = size;
		return 0;
	case CONF_BOOL:
		if (parse_bool(value, &b) != 0) {
			snprintf(err, errlen, "expected yes or no");
			return WH_ERR_INVALID_ARG;
		}
		*int_field(c, k) = b;
		return 0;
	case CONF_RATE:
		if (ratelimit_parse(value, &size) != 0) {
			snprintf(err, errlen,
			    "expected a rate such as 500K or 2M (KiB/s without "
			    "a suffix; 0: none), at least 1K");
			return WH_ERR_INVALID_ARG;
		}
		*size_field(c, k) = size;
		return 0;
	}
	return WH_ERR_INVALID_ARG;
}

/* One file being read: inih calls back into it line by line. */
struct conf_file {
	FILE *f;
	struct serve_conf *c;
	const char *path; /* as errors name it */
	char base[PATH_MAX]; /* the file's folder */
	int line; /* the line last handed to inih */
	char *buf; /* getline's */
	size_t cap;
	unsigned char seen[CONF_NKEYS];
	int err_line; /* of the first error we found, 0: none */
	char err[CONF_ERR_MAX];
};

/* Keeps the first error, with the line it is on. */
static void
file_error(struct conf_file *cf, const char *msg)
{
	if (cf->err_line != 0)
		return;
	cf->err_line = cf->line;
	snprintf(cf->err, sizeof(cf->err), "%s", msg);
}

/*
 * inih's line source: whole lines from getline, so that the count is
 * ours. A line longer than inih's buffer would be split by it into two
 * lines; it is refused here instead.
 */
static char *
file_reader(char *str, int num, void *stream)
{
	struct conf_file *cf = stream;
	char why[64];
	ssize_t n;

	if ((n = getline(&cf->buf, &cf->cap, cf->f)) < 0)
		return NULL;
	cf->line++;
	if (n > 0 && cf->buf[n - 1] == '\n')
		cf->buf[--n] = '\0';
	if (n > 0 && cf->buf[n - 1] == '\r')
		cf->buf[--n] = '\0';
	if (n >= num - 1) {
		snprintf(why, sizeof(why), "line longer than %d characters",
		    num - 2);
		file_error(cf, why);
		str[0] = '\0';
		return str;
	}
	memcpy(str, cf->buf, (size_t)n + 1);
	return str;
}

/* inih's handler: nonzero to go on. */
static int
file_handler(
    void *user, const char *section, const char *name, const char *value)
{
	struct conf_file *cf = user;
	const struct conf_key *k;
	char why[256], msg[512];

	if (section[0] != '\0') {
		snprintf(msg, sizeof(msg), "[%.200s]: the file has no sections",
		    section);
		file_error(cf, msg);
		return 0;
	}
	if ((k = key_find(name)) == NULL) {
		snprintf(msg, sizeof(msg), "unknown key '%.200s'", name);
		file_error(cf, msg);
		return 0;
	}
	if (cf->seen[k - conf_keys]++) {
		snprintf(msg, sizeof(msg), "%s given twice", name);
		file_error(cf, msg);
		return 0;
	}
	if (key_set(cf->c, k, value, cf->base, why, sizeof(why)) != 0) {
		snprintf(msg, sizeof(msg), "%s: %s", name, why);
		file_error(cf, msg);
		return 0;
	}
	return 1;
}

int
conf_load_stream(struct serve_conf *c, FILE *f, const char *name,
    const char *base, char *err, size_t errlen)
{
	struct conf_file cf;
	int r;

	memset(&cf, 0, sizeof(cf));
	cf.f = f;
	cf.c = c;
	cf.path = name;
	snprintf(cf.base, sizeof(cf.base), "%s", base);
	r = ini_parse_stream(file_reader, &cf, file_handler, &cf);
	if (r == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		r = WH_ERR_SYSTEM;
	} else if (r == 0 && cf.err_line != 0) {
		/* The error of a line cut short by the reader. */
		snprintf(err, errlen, "%s:%d: %s", name, cf.err_line, cf.err);
		r = WH_ERR_INVALID_ARG;
	} else if (r > 0) {
		/* inih's own: a line that is no KEY = VALUE nor [section]. */
		if (cf.err_line == 0 || r < cf.err_line)
			snprintf(err, errlen, "%s:%d: expected KEY = VALUE",
			    name, r);
		else
			snprintf(err, errlen, "%s:%d: %s", name, cf.err_line,
			    cf.err);
		r = WH_ERR_INVALID_ARG;
	} else if (r != 0) {
		snprintf(err, errlen, "%s: out of memory", name);
		r = WH_ERR_NOMEM;
	}
	free(cf.buf);
	return r;
}

int
conf_load_file(struct serve_conf *c, const char *path, int must_exist,
    char *err, size_t errlen)
{
	char real[PATH_MAX], *slash;
	FILE *f;
	int r;

	if ((f = fopen(path, "r")) == NULL) {
		if (!must_exist && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return WH_ERR_SYSTEM;
	}
	if (realpath(path, real) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		return WH_ERR_SYSTEM;
	}
	if ((slash = strrchr(real, '/')) != NULL)
		*(slash == real ? slash + 1 : slash) = '\0';
	r = conf_load_stream(c, f, path, real, err, errlen);
	fclose(f);
	return r;
}

int
conf_parse_args(struct serve_conf *c, struct serve_args *a, int argc,
    char **argv, char *err, size_t errlen)
{
	struct option longopts[CONF_NKEYS + 4];
	const struct conf_key *k;
	char why[256];
	size_t i;
	int opt, n = 0;

	for (i = 0; i < CONF_NKEYS; i++)
		longopts[n++] = (struct option){ conf_keys[i].name,
			conf_keys[i].type == CONF_BOOL ? optional_argument :
			                                 required_argument,
			NULL, CONF_OPT_BASE + (int)i };
	longopts[n++] = (struct option){ "config", required_argument, NULL,
		CONF_OPT_CONFIG };
	longopts[n++] = (struct option){ "check-config", no_argument, NULL,
		CONF_OPT_CHECK };
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };

	memset(a, 0, sizeof(*a));
	err[0] = '\0';
	/* 0, not 1: glibc starts over (argv may have been permuted). The
	 * second pass stays quiet: the first said it all. */
	optind = 0;
	opterr = c == NULL;
	while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		if (opt == 'h') {
			a->help = 1;
			continue;
		}
		if (opt == CONF_OPT_CONFIG) {
			a->config = optarg;
			continue;
		}
		if (opt == CONF_OPT_CHECK) {
			a->check_config = 1;
			continue;
		}
		if (opt == 'v')
			k = key_find("verbose");
		else if (opt >= CONF_OPT_BASE && opt < CONF_OPT_CONFIG)
			k = &conf_keys[opt - CONF_OPT_BASE];
		else {
			snprintf(err, errlen, "unknown option");
			return WH_ERR_INVALID_ARG;
		}
		if (c == NULL || k == NULL)
			continue;
		if (key_set(c, k,
		        k->type == CONF_BOOL && (opt == 'v' || optarg == NULL) ?
		            "yes" :
		            optarg,
		        NULL, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "--%s: %s", k->name, why);
			return WH_ERR_INVALID_ARG;
		}
	}
	if (optind != argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return WH_ERR_INVALID_ARG;
	}
	return 0;
}

int
conf_finish(const struct serve_conf *c, struct startups_limits *lim, char *err,
    size_t errlen)
{
	unsigned ciphers;

	if (c->ciphers != NULL &&
	    seal_ciphers_parse(c->ciphers, &ciphers) != 0) {
		snprintf(err, errlen,
		    "--ciphers: expected a list of aes256gcm and secretbox, "
		    "comma-separated");
		return WH_ERR_INVALID_ARG;
	}
	/* Explicit limits are checked against the final max-clients,
	 * whatever the order of the options. */
	startups_defaults((int)c->max_clients, lim);
	if (c->per_source_max_startups > 0)
		lim->per_source = (int)c->per_source_max_startups;
	if ((c->max_startups != NULL &&
	        startups_parse(c->max_startups, lim) != 0) ||
	    startups_check(lim, (int)c->max_clients) != 0) {
		snprintf(err, errlen,
		    "--max-startups: expected START:RATE:FULL (or N) with 1 <= "
		    "START <= FULL <= --max-clients (%ld) and RATE from 0 to "
		    "100",
		    c->max_clients);
		return WH_ERR_INVALID_ARG;
	}
	return 0;
}

/* Help text wrapped to 80 columns beside a column of options. */
#define CONF_USAGE_COL 25
#define CONF_USAGE_WIDTH 80

void
conf_usage(FILE *f)
{
	const char *h, *end, *sp;
	char opt[64];
	size_t i, room = CONF_USAGE_WIDTH - CONF_USAGE_COL;
	int col;

	for (i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];

		snprintf(opt, sizeof(opt), "--%s%s%s", k->name,
		    k->arg != NULL ? " " : "", k->arg != NULL ? k->arg : "");
		col = fprintf(f, "  %s", opt);
		for (h = k->help; *h != '\0'; h = *end == ' ' ? end + 1 : end) {
			/* Up to room bytes, cut at the last space. */
			end = h + strlen(h);
			if ((size_t)(end - h) > room) {
				for (sp = h + room; sp > h && *sp != ' '; sp--)
					;
				end = sp > h ? sp : h + room;
			}
			if (col >= CONF_USAGE_COL) {
				fputc('\n', f);
				col = 0;
			}
			fprintf(f, "%*s%.*s", CONF_USAGE_COL - col, "",
			    (int)(end - h), h);
			col = CONF_USAGE_WIDTH;
		}
		fputc('\n', f);
	}
}

static int
key_differs(const struct serve_conf *x, const struct serve_conf *y,
    const struct conf_key *k)
{
	const void *px = (const char *)x + k->off;
	const void *py = (const char *)y + k->off;
	const char *a, *b;

	switch (k->type) {
	case CONF_STR:
	case CONF_PATH:
	case CONF_CIDRS:
		a = *(const char *const *)px;
		b = *(const char *const *)py;
		return (a == NULL) != (b == NULL) ||
		    (a != NULL && strcmp(a, b) != 0);
	case CONF_INT:
		return *(const long *)px != *(const long *)py;
	case CONF_SIZE:
	case CONF_RATE:
		return *(const uint64_t *)px != *(const uint64_t *)py;
	case CONF_BOOL:
		return *(const int *)px != *(const int *)py;
	}
	return 0;
}

void
conf_restart_keys(const struct serve_conf *running,
    const struct serve_conf *next, char *out, size_t outlen)
{
	size_t i, len = 0;
	int n;

	out[0] = '\0';
	for (i = 0; i < CONF_NKEYS; i++) {
		if (conf_keys[i].when != CONF_RESTART ||
		    !key_differs(running, next, &conf_keys[i]))
			continue;
		n = snprintf(out + len, outlen - len, "%s%s",
		    len > 0 ? ", " : "", conf_keys[i].name);
		if (n < 0 || (size_t)n >= outlen - len)
			return;
		len += (size_t)n;
	}
}

/*
 * The state folder `wharf serve` would use, into out: the state key of
 * the configuration file (config, or the default file if it exists),
 * else the default. 0, or 1 after saying why on stderr.
 */
int
conf_state_folder(const char *config, char *out, size_t outlen)
{
	struct serve_conf c;
	char file[PATH_MAX], err[CONF_ERR_MAX];
	int r;

	if (conf_init(&c, geteuid() == 0) != 0)
		return 1;
	if (config != NULL)
		snprintf(file, sizeof(file), "%s", config);
	else
		conf_default_file(file, sizeof(file));
	if (file[0] != '\0' &&
	    (r = conf_load_file(&c, file, config != NULL, err, sizeof(err))) !=
	        0) {
		fprintf(stderr, "wharf: %s\n", err);
		conf_cleanup(&c);
		return 1;
	}
	snprintf(out, outlen, "%s", c.state);
	conf_cleanup(&c);
	return 0;
}
