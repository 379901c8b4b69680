/* SPDX-License-Identifier: MIT */
/*
 * Client configuration files in the manner of ssh_config(5): "Key Value"
 * or "Key=Value" lines, keys in any case, "#" comments, "Host" starting a
 * block that applies to the names its patterns match (globs, "!" to
 * exclude). Lines before the first Host apply to every host. The first
 * value found for a key wins, so -o comes first, then the user's file,
 * then the system's, and specific blocks go before general ones.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wharf/channel.h"
#include "wharf/client_config.h"
#include "wharf/strnum.h"
#include "wharf/striped.h"
#include "wharf/transfer.h"
#include "wharf/xfer.h"

const char CLIENT_CONN_OPTS_HELP[] =
    "  -P, --port PORT    server port (default 4450, or the config's)\n"
    "  -i FILE            identity (key) file for key login\n"
    "  -F FILE            configuration file instead of "
    "~/.config/wharf/config\n"
    "  -o KEY=VALUE       one configuration value (see wharf(1))\n"
    "  --host-key-policy ask|accept-new|strict\n"
    "                     an unknown server key: ask (on a terminal), "
    "pin it, or refuse\n"
    "  --psk FILE         pre-shared key the server requires\n"
    "  --plaintext        ask for an unencrypted session\n"
    "  --cipher aes256gcm|secretbox\n"
    "                     seal with AES-256-GCM where both ends have AES\n"
    "                     instructions (else secretbox, the default)\n";

/* What one lookup has found so far; each field is set at most once. */
struct found {
	char hostname[NETADDR_HOST_MAX];
	long port;
	char user[WIRE_USER_MAX + 1];
	char identity[PATH_MAX];
	char psk[PATH_MAX];
	int policy;
	char compress[32];
	long streams;
};

static int
policy_parse(const char *v, int *out)
{
	if (strcmp(v, "ask") == 0)
		*out = HOST_KEY_ASK;
	else if (strcmp(v, "accept-new") == 0)
		*out = HOST_KEY_ACCEPT_NEW;
	else if (strcmp(v, "strict") == 0 || strcmp(v, "yes") == 0)
		*out = HOST_KEY_STRICT;
	else
		return WH_ERR_INVALID_ARG;
	return 0;
}

/* "~/x" under $HOME; other paths as they are. */
static int
expand_path(const char *v, char *out, size_t outlen)
{
	const char *home = getenv("HOME");
	int n;

	if (strncmp(v, "~/", 2) == 0 && home != NULL)
		n = snprintf(out, outlen, "%s/%s", home, v + 2);
	else
		n = snprintf(out, outlen, "%s", v);
	return n > 0 && (size_t)n < outlen ? 0 : WH_ERR_TOO_LARGE;
}

/* One key and value (where says where, for messages). 0, or
 * WH_ERR_INVALID_ARG with the message printed. */
static int
apply(struct found *f, const char *key, const char *v, const char *where)
{
	struct transfer_opts probe;
	long n;

	if (strcasecmp(key, "HostName") == 0) {
		if (f->hostname[0] == '\0' &&
		    snprintf(f->hostname, sizeof(f->hostname), "%s", v) >=
		        (int)sizeof(f->hostname))
			goto bad;
	} else if (strcasecmp(key, "Port") == 0) {
		if (strnum_long(v, 1, 65535, &n) != 0)
			goto bad;
		if (f->port == 0)
			f->port = n;
	} else if (strcasecmp(key, "User") == 0) {
		if (v[0] == '\0' || strlen(v) >= sizeof(f->user))
			goto bad;
		if (f->user[0] == '\0')
			snprintf(f->user, sizeof(f->user), "%s", v);
	} else if (strcasecmp(key, "IdentityFile") == 0) {
		if (f->identity[0] == '\0' &&
		    expand_path(v, f->identity, sizeof(f->identity)) != 0)
			goto bad;
	} else if (strcasecmp(key, "PSK") == 0) {
		if (f->psk[0] == '\0' &&
		    expand_path(v, f->psk, sizeof(f->psk)) != 0)
			goto bad;
	} else if (strcasecmp(key, "HostKeyPolicy") == 0 ||
	    strcasecmp(key, "StrictHostKeyChecking") == 0) {
		int p;

		if (policy_parse(v, &p) != 0)
			goto bad;
		if (f->policy == 0)
			f->policy = p;
	} else if (strcasecmp(key, "Compression") == 0) {
		/* Checked now, applied after the command line. */
		transfer_opts_init(&probe);
		if (strlen(v) >= sizeof(f->compress) ||
		    transfer_parse_compress(&probe, v) != 0)
			goto bad;
		if (f->compress[0] == '\0')
			snprintf(f->compress, sizeof(f->compress), "%s", v);
	} else if (strcasecmp(key, "Streams") == 0) {
		if (strnum_long(v, 1, STRIPED_STREAMS_MAX, &n) != 0)
			goto bad;
		if (f->streams == 0)
			f->streams = n;
	} else {
		fprintf(stderr, "wharf: %s: unknown key '%s'\n", where, key);
		return WH_ERR_INVALID_ARG;
	}
	return 0;
bad:
	fprintf(stderr, "wharf: %s: bad value for %s: '%s'\n", where, key, v);
	return WH_ERR_INVALID_ARG;
}

/* Splits "Key Value", "Key=Value" or "Key = Value" in place. */
static int
split_line(char *line, char **key, char **value)
{
	char *p = line, *end;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	*key = p;
	while (*p != '\0' && !isspace((unsigned char)*p) && *p != '=')
		p++;
	if (*p != '\0')
		*p++ = '\0';
	while (isspace((unsigned char)*p) || *p == '=')
		p++;
	end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		*--end = '\0';
	/* A value may be quoted to keep its spaces. */
	if (end - p >= 2 && p[0] == '"' && end[-1] == '"') {
		end[-1] = '\0';
		p++;
	}
	*value = p;
	return 1;
}

/* 1 if a Host line's patterns select alias. */
static int
host_matches(char *patterns, const char *alias)
{
	char *save = NULL, *pat;
	int yes = 0;

	for (pat = strtok_r(patterns, " \t", &save); pat != NULL;
	     pat = strtok_r(NULL, " \t", &save)) {
		if (pat[0] == '!') {
			if (fnmatch(pat + 1, alias, FNM_CASEFOLD) == 0)
				return 0;
		} else if (fnmatch(pat, alias, FNM_CASEFOLD) == 0)
			yes = 1;
	}
	return yes;
}

/* Reads one file; a missing one is no error unless required. */
static int
read_file(const char *path, int required, const char *alias, struct found *f)
{
	char line[CLIENT_CONFIG_LINE_MAX], where[PATH_MAX + 32];
	char *key, *value;
	int lineno = 0, in = 1, r = 0;
	FILE *fp = fopen(path, "r");

	if (fp == NULL) {
		if (errno == ENOENT && !required)
			return 0;
		fprintf(stderr, "wharf: %s: %s\n", path, strerror(errno));
		return WH_ERR_INVALID_ARG;
	}
	while (r == 0 && fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		snprintf(where, sizeof(where), "%s line %d", path, lineno);
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			fprintf(stderr, "wharf: %s: line too long\n", where);
			r = WH_ERR_INVALID_ARG;
			break;
		}
		if (!split_line(line, &key, &value))
			continue;
		if (strcasecmp(key, "Host") == 0) {
			if (value[0] == '\0') {
				fprintf(stderr,
				    "wharf: %s: Host needs a "
				    "pattern\n",
				    where);
				r = WH_ERR_INVALID_ARG;
				break;
			}
			in = host_matches(value, alias);
			continue;
		}
		if (strcasecmp(key, "Match") == 0) {
			fprintf(stderr,
			    "wharf: %s: Match blocks are not "
			    "supported; use Host\n",
			    where);
			r = WH_ERR_INVALID_ARG;
			break;
		}
		/* Every value is checked, matching or not: a typo in
		 * another host's block is still a typo. */
		{
			struct found scratch;

			memset(&scratch, 0, sizeof(scratch));
			r = apply(in ? f : &scratch, key, value, where);
		}
	}
	fclose(fp);
	return r;
}

int
client_config_user_path(char *out, size_t outlen)
{
	return client_config_file("config", out, outlen);
}

int
client_config_resolve(
    struct client_target *t, struct client_opts *co, struct transfer_opts *xo)
{
	char path[PATH_MAX], line[CLIENT_CONFIG_LINE_MAX], *key, *value;
	struct found f;
	int i, r;

	memset(&f, 0, sizeof(f));
	for (i = 0; i < co->noverrides; i++) {
		snprintf(line, sizeof(line), "%s", co->overrides[i]);
		if (!split_line(line, &key, &value) ||
		    strcasecmp(key, "Host") == 0) {
			fprintf(stderr, "wharf: -o %s: expected KEY=VALUE\n",
			    co->overrides[i]);
			return WH_ERR_INVALID_ARG;
		}
		if ((r = apply(&f, key, value, "-o")) != 0)
			return r;
	}
	if (co->config_file != NULL) {
		if ((r = read_file(co->config_file, 1, t->alias, &f)) != 0)
			return r;
	} else {
		if (client_config_user_path(path, sizeof(path)) == 0 &&
		    (r = read_file(path, 0, t->alias, &f)) != 0)
			return r;
		if ((r = read_file(CLIENT_CONFIG_SYSTEM, 0, t->alias, &f)) != 0)
			return r;
	}
	if (f.hostname[0] != '\0')
		snprintf(t->host, sizeof(t->host), "%s", f.hostname);
	if (co->port != 0)
		t->port = co->port;
	else if (!t->port_given && f.port != 0)
		t->port = (uint16_t)f.port;
	if (!t->user_given && f.user[0] != '\0')
		snprintf(t->user, sizeof(t->user), "%s", f.user);
	if (co->psk_file[0] == '\0')
		snprintf(co->psk_file, sizeof(co->psk_file), "%s", f.psk);
	if (co->identity_file[0] == '\0')
		snprintf(co->identity_file, sizeof(co->identity_file), "%s",
		    f.identity);
	if (co->host_key_policy == HOST_KEY_DEFAULT)
		co->host_key_policy = f.policy;
	if (xo != NULL) {
		if (!xo->compress_set && f.compress[0] != '\0' &&
		    (r = transfer_parse_compress(xo, f.compress)) != 0)
			return r;
		if (!xo->streams_set && f.streams != 0)
			xo->streams = (int)f.streams;
	}
	return 0;
}

/* The value of "-x V", "-xV", "--opt V" or "--opt=V". */
static const char *
value_of(
    const char *shortname, const char *longname, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	size_t n;

	if (shortname != NULL && strncmp(a, shortname, 2) == 0) {
		if (a[2] != '\0')
			return a + 2;
	} else if (longname != NULL &&
	    strncmp(a, longname, (n = strlen(longname))) == 0) {
		if (a[n] == '=')
			return a + n + 1;
		if (a[n] != '\0')
			return NULL;
	} else
		return NULL;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static int
is_opt(const char *a, const char *shortname, const char *longname)
{
	size_t n;

	if (shortname != NULL && strncmp(a, shortname, 2) == 0)
		return 1;
	if (longname != NULL) {
		n = strlen(longname);
		return strncmp(a, longname, n) == 0 &&
		    (a[n] == '\0' || a[n] == '=');
	}
	return 0;
}

int
client_parse_conn_opt(struct client_opts *co, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v;
	long n;

	if (strcmp(a, "--plaintext") == 0) {
		co->plaintext = 1;
		return 1;
	}
	if (is_opt(a, NULL, "--cipher")) {
		if ((v = value_of(NULL, "--cipher", argc, argv, i)) == NULL)
			goto missing;
		if (seal_cipher_parse(v, &co->cipher) != 0) {
			fprintf(stderr,
			    "wharf: --cipher: expected aes256gcm or "
			    "secretbox\n");
			return WH_ERR_INVALID_ARG;
		}
		return 1;
	}
	if (is_opt(a, NULL, "--psk")) {
		if ((v = value_of(NULL, "--psk", argc, argv, i)) == NULL)
			goto missing;
		if (expand_path(v, co->psk_file, sizeof(co->psk_file)) != 0)
			goto toolong;
		return 1;
	}
	if (is_opt(a, "-i", NULL)) {
		if ((v = value_of("-i", NULL, argc, argv, i)) == NULL)
			goto missing;
		if (expand_path(
		        v, co->identity_file, sizeof(co->identity_file)) != 0)
			goto toolong;
		return 1;
	}
	if (is_opt(a, "-P", "--port")) {
		if ((v = value_of(strncmp(a, "--", 2) == 0 ? NULL : "-P",
		         "--port", argc, argv, i)) == NULL)
			goto missing;
		if (strnum_long(v, 1, 65535, &n) != 0) {
			fprintf(stderr,
			    "wharf: %s: expected a port from 1 to "
			    "65535\n",
			    a);
			return WH_ERR_INVALID_ARG;
		}
		co->port = (uint16_t)n;
		return 1;
	}
	if (is_opt(a, "-F", NULL)) {
		if ((co->config_file = value_of("-F", NULL, argc, argv, i)) ==
		    NULL)
			goto missing;
		return 1;
	}
	if (is_opt(a, "-o", NULL)) {
		if ((v = value_of("-o", NULL, argc, argv, i)) == NULL)
			goto missing;
		if (co->noverrides == CLIENT_OVERRIDES_MAX) {
			fprintf(stderr, "wharf: at most %d -o options\n",
			    CLIENT_OVERRIDES_MAX);
			return WH_ERR_INVALID_ARG;
		}
		co->overrides[co->noverrides++] = v;
		return 1;
	}
	if (is_opt(a, NULL, "--host-key-policy")) {
		if ((v = value_of(NULL, "--host-key-policy", argc, argv, i)) ==
		    NULL)
			goto missing;
		if (policy_parse(v, &co->host_key_policy) != 0) {
			fprintf(stderr,
			    "wharf: --host-key-policy: expected "
			    "ask, accept-new or strict\n");
			return WH_ERR_INVALID_ARG;
		}
		return 1;
	}
	return 0;
missing:
	fprintf(stderr, "wharf: %s needs a value\n", a);
	return WH_ERR_INVALID_ARG;
toolong:
	fprintf(stderr, "wharf: %s: path too long\n", a);
	return WH_ERR_INVALID_ARG;
}
