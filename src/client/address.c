/* SPDX-License-Identifier: MIT */
/*
 * Command-line addresses: servers, remote paths in the manner of scp, and
 * wharf:// URLs. Pure string work, so that the rules can be unit-tested
 * and no command grows a parser of its own.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wharf/address.h"
#include "wharf/netaddr.h"
#include "wharf/wire.h"

/* Where the host part of s starts: after a user part, which ends at the
 * first "@" that comes before any colon ("files:/a@b" has none). */
static const char *
host_start(const char *s)
{
	const char *colon = strchr(s, ':'), *at = strchr(s, '@');

	return at != NULL && (colon == NULL || at < colon) ? at + 1 : s;
}

/* The colon that ends the host part (after a bracketed IPv6 literal), or
 * NULL if there is none. */
static const char *
host_colon(const char *s)
{
	const char *host = host_start(s), *end;

	if (host[0] == '[') {
		if ((end = strchr(host, ']')) == NULL)
			return NULL;
		return end[1] == ':' ? end + 1 : NULL;
	}
	return strchr(host, ':');
}

static int
all_digits(const char *s)
{
	return s[0] != '\0' && strspn(s, "0123456789") == strlen(s);
}

enum address_kind
address_classify(const char *s)
{
	const char *colon, *slash;

	if (strncmp(s, ADDRESS_URL_SCHEME, strlen(ADDRESS_URL_SCHEME)) == 0) {
		const char *auth = s + strlen(ADDRESS_URL_SCHEME);

		slash = strchr(auth, '/');
		return slash != NULL && slash[1] != '\0' ? ADDRESS_REMOTE_PATH :
		                                           ADDRESS_SERVER;
	}
	if (s[0] == '/' || s[0] == '.' || s[0] == '\0')
		return ADDRESS_LOCAL;
	if ((colon = host_colon(s)) == NULL) {
		/* "[::1]" and "alice@[::1]" are servers. */
		if (host_start(s)[0] == '[')
			return strchr(s, ']') != NULL ? ADDRESS_SERVER :
			                                ADDRESS_LOCAL;
		return strchr(s, '/') != NULL ? ADDRESS_LOCAL : ADDRESS_PLAIN;
	}
	slash = strchr(s, '/');
	if (slash != NULL && slash < colon)
		return ADDRESS_LOCAL;
	return all_digits(colon + 1) ? ADDRESS_SERVER : ADDRESS_REMOTE_PATH;
}

static void
default_user(struct client_target *t)
{
	const char *login = getenv("USER");
	struct passwd *pw;

	if (login == NULL || *login == '\0') {
		pw = getpwuid(geteuid());
		login = pw != NULL ? pw->pw_name : "";
	}
	snprintf(t->user, sizeof(t->user), "%s", login);
}

/* "[USER@]HOST[:PORT]" of n bytes at s into t. */
static int
parse_server(const char *s, size_t n, struct client_target *t, const char *arg)
{
	char hostport[NETADDR_STR_MAX];
	const char *at;
	size_t un;

	if (n >= sizeof(hostport))
		goto bad;
	memcpy(hostport, s, n);
	hostport[n] = '\0';
	if ((at = strrchr(hostport, '@')) != NULL) {
		un = (size_t)(at - hostport);
		if (un == 0 || un >= sizeof(t->user)) {
			fprintf(stderr, "wharf: bad user in '%s'\n", arg);
			return WH_ERR_INVALID_ARG;
		}
		memcpy(t->user, hostport, un);
		t->user[un] = '\0';
		t->user_given = 1;
	} else
		default_user(t);
	at = at != NULL ? at + 1 : hostport;
	if (netaddr_split(
	        at, t->host, sizeof(t->host), &t->port, WIRE_PORT_DEFAULT) != 0)
		goto bad;
	t->port_given =
	    strchr(at[0] == '[' ? strchr(at, ']') : at, ':') != NULL;
	snprintf(t->alias, sizeof(t->alias), "%s", t->host);
	return 0;
bad:
	fprintf(stderr,
	    "wharf: bad address '%s': expected [USER@]HOST[:PORT], "
	    "[USER@]HOST:PATH or wharf://[USER@]HOST[:PORT]/PATH, with IPv6 "
	    "in brackets\n",
	    arg);
	return WH_ERR_INVALID_ARG;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %-decodes src into dst (dstlen bytes with the NUL); -1 for a bad or
 * NUL escape, or no room. */
static int
url_decode(const char *src, char *dst, size_t dstlen)
{
	size_t o = 0;
	int hi, lo;

	for (; *src != '\0'; src++) {
		char ch = *src;

		if (ch == '%') {
			if ((hi = hexval(src[1])) < 0 ||
			    (lo = hexval(src[2])) < 0 || (hi | lo) == 0)
				return -1;
			ch = (char)(hi << 4 | lo);
			src += 2;
		}
		if (o + 1 >= dstlen)
			return -1;
		dst[o++] = ch;
	}
	dst[o] = '\0';
	return 0;
}

int
address_parse(
    const char *s, struct client_target *t, char *path, size_t pathlen)
{
	char decoded[NETADDR_STR_MAX];
	const char *colon, *slash, *auth;
	size_t n;
	int r;

	memset(t, 0, sizeof(*t));
	if (path != NULL && pathlen > 0)
		path[0] = '\0';
	if (strncmp(s, ADDRESS_URL_SCHEME, strlen(ADDRESS_URL_SCHEME)) == 0) {
		auth = s + strlen(ADDRESS_URL_SCHEME);
		slash = strchr(auth, '/');
		n = slash != NULL ? (size_t)(slash - auth) : strlen(auth);
		if (n >= sizeof(decoded))
			return parse_server("", 0, t, s);
		memcpy(decoded, auth, n);
		decoded[n] = '\0';
		if (url_decode(decoded, decoded, sizeof(decoded)) != 0)
			return parse_server("", 0, t, s);
		if ((r = parse_server(decoded, strlen(decoded), t, s)) != 0)
			return r;
		if (slash != NULL && path != NULL &&
		    url_decode(slash, path, pathlen) != 0) {
			fprintf(stderr, "wharf: bad path in URL '%s'\n", s);
			return WH_ERR_INVALID_ARG;
		}
		return 0;
	}
	switch (address_classify(s)) {
	case ADDRESS_PLAIN:
	case ADDRESS_SERVER:
		return parse_server(s, strlen(s), t, s);
	case ADDRESS_REMOTE_PATH:
		colon = host_colon(s);
		if ((r = parse_server(s, (size_t)(colon - s), t, s)) != 0)
			return r;
		if (path != NULL) {
			if (strlen(colon + 1) >= pathlen) {
				fprintf(stderr,
				    "wharf: path too long in '%s'\n", s);
				return WH_ERR_INVALID_ARG;
			}
			snprintf(path, pathlen, "%s", colon + 1);
		}
		return 0;
	case ADDRESS_LOCAL:
	default:
		break;
	}
	fprintf(stderr, "wharf: '%s' is a local path, not a server\n", s);
	return WH_ERR_INVALID_ARG;
}

int
address_same_server(
    const struct client_target *a, const struct client_target *b)
{
	return strcmp(a->user, b->user) == 0 &&
	    strcmp(a->alias, b->alias) == 0 && a->port == b->port;
}
