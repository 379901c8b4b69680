/* SPDX-License-Identifier: MIT */
/*
 * The PROXY header parser (wire/proxy.c) and the trusted-range lists
 * (util/cidr.c): headers as HAProxy writes them, every prefix of them
 * (the parser must ask for more, never read past the header), and broken
 * ones; proxy_read over a socketpair leaves the preface unread.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "suites.h"
#include "wharf/cidr.h"
#include "wharf/clock.h"
#include "wharf/netaddr.h"
#include "wharf/proxy.h"

static size_t
v2_header(
    uint8_t *out, uint8_t ver_cmd, uint8_t fam, const void *body, uint16_t len)
{
	memcpy(out, PROXY_V2_SIG, PROXY_V2_SIG_LEN);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(len >> 8);
	out[15] = (uint8_t)len;
	if (len > 0 && body != NULL)
		memcpy(out + 16, body, len);
	return 16 + (size_t)len;
}

/* Feeds p as proxy_read would: the first PROXY_PROBE_LEN bytes, then
 * exactly what the parser asks for. Returns the final result. */
static int
feed(const uint8_t *p, size_t len, struct proxy_addr *pa, size_t *used)
{
	size_t have = len < PROXY_PROBE_LEN ? len : PROXY_PROBE_LEN, need;
	int r;

	for (;;) {
		r = proxy_parse(p, have, pa, &need);
		if (r != WH_ERR_TRUNCATED) {
			*used = have;
			return r;
		}
		TU_CHECK(need > have, "asked for %zu after %zu", need, have);
		if (need <= have || need > len) {
			*used = have;
			return WH_ERR_TRUNCATED;
		}
		have = need;
	}
}

static void
shown(const struct proxy_addr *pa, char *out, size_t n)
{
	netaddr_format_sockaddr((const struct sockaddr *)&pa->src, out, n);
}

static void
test_v1_good(void)
{
	static const struct {
		const char *line;
		const char *addr; /* NULL: keep the connection's */
	} cases[] = {
		{ "PROXY TCP4 192.0.2.7 198.51.100.1 56324 4450\r\n",
		    "192.0.2.7:56324" },
		{ "PROXY TCP6 2001:db8::7 2001:db8::1 65535 4450\r\n",
		    "[2001:db8::7]:65535" },
		{ "PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n", "0.0.0.0:0" },
		{ "PROXY UNKNOWN\r\n", NULL },
		{ "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 "
		  "65535\r\n",
		    NULL },
	};
	struct proxy_addr pa;
	char got[NETADDR_STR_MAX];
	const char *l;
	size_t i, used;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		l = cases[i].line;
		r = feed((const uint8_t *)l, strlen(l), &pa, &used);
		TU_CHECK(r == 0, "%s: %s", l, wh_strerror(r));
		TU_CHECK(used == strlen(l), "%s: used %zu", l, used);
		if (r != 0)
			continue;
		TU_CHECK(pa.keep == (cases[i].addr == NULL), "%s: keep %d", l,
		    pa.keep);
		if (cases[i].addr == NULL)
			continue;
		shown(&pa, got, sizeof(got));
		TU_CHECK(strcmp(got, cases[i].addr) == 0, "%s: got %s", l, got);
	}
}

static void
test_v1_bad(void)
{
	static const char *cases[] = {
		"PROXY TCP4 192.0.2.7 198.51.100.1 56324\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 56324 4450 x\r\n",
		"PROXY TCP4 2001:db8::7 198.51.100.1 1 2\r\n",
		"PROXY TCP6 192.0.2.7 2001:db8::1 1 2\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 65536 4450\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 0123 4450\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 -1 4450\r\n",
		"PROXY TCP4  192.0.2.7 198.51.100.1 1 2\r\n",
		"PROXY UDP4 192.0.2.7 198.51.100.1 1 2\r\n",
		"PROXY TCP4 192.0.2.7\r198.51.100.1 1 2\r\n",
		"PROXY TCP4 192.0.2.7\n",
		"PROXY \r\n",
		"proxy TCP4 192.0.2.7 198.51.100.1 1 2\r\n",
		"\x89WHARF\r\n",
		"GET / HTTP/1.0\r\n",
	};
	struct proxy_addr pa;
	size_t i, used;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = feed(
		    (const uint8_t *)cases[i], strlen(cases[i]), &pa, &used);
		TU_CHECK(r == WH_ERR_FORMAT, "case %zu: %s", i, wh_strerror(r));
	}
}

static void
test_v1_oversized(void)
{
	uint8_t line[PROXY_V1_MAX + 16];
	struct proxy_addr pa;
	size_t used;
	int r;

	memcpy(line, "PROXY UNKNOWN ", 14);
	memset(line + 14, 'a', sizeof(line) - 14);
	r = feed(line, sizeof(line), &pa, &used);
	TU_CHECK(r == WH_ERR_TOO_LARGE, "%s", wh_strerror(r));
	TU_CHECK(used <= PROXY_V1_MAX, "read %zu bytes of a line", used);
	/* The longest allowed line is fine. */
	line[PROXY_V1_MAX - 2] = '\r';
	line[PROXY_V1_MAX - 1] = '\n';
	r = feed(line, PROXY_V1_MAX, &pa, &used);
	TU_CHECK(r == 0 && pa.keep, "107 bytes: %s", wh_strerror(r));
}

static void
test_v2_good(void)
{
	uint8_t h[PROXY_HEADER_MAX], body[64];
	struct proxy_addr pa;
	char got[NETADDR_STR_MAX];
	size_t n, used;
	int r;

	/* IPv4, TCP: 192.0.2.9:40000 -> 198.51.100.1:4450 */
	memcpy(body, "\xc0\x00\x02\x09\xc6\x33\x64\x01\x9c\x40\x11\x62", 12);
	n = v2_header(h, 0x21, 0x11, body, 12);
	r = feed(h, n, &pa, &used);
	shown(&pa, got, sizeof(got));
	TU_CHECK(r == 0 && !pa.keep && used == n &&
	        strcmp(got, "192.0.2.9:40000") == 0,
	    "v4: %s %s", wh_strerror(r), got);
	/* With TLVs after the addresses (HAProxy's unique-id, say). */
	memcpy(body + 12,
	    "\x05\x00\x03"
	    "abc",
	    6);
	n = v2_header(h, 0x21, 0x11, body, 18);
	r = feed(h, n, &pa, &used);
	TU_CHECK(r == 0 && !pa.keep && used == n, "v4+tlv: %s", wh_strerror(r));
	/* IPv6: 2001:db8::9 port 443. */
	memset(body, 0, 36);
	memcpy(body, "\x20\x01\x0d\xb8", 4);
	body[15] = 9;
	body[32] = 0x01;
	body[33] = 0xbb;
	n = v2_header(h, 0x21, 0x21, body, 36);
	r = feed(h, n, &pa, &used);
	shown(&pa, got, sizeof(got));
	TU_CHECK(r == 0 && !pa.keep && strcmp(got, "[2001:db8::9]:443") == 0,
	    "v6: %s %s", wh_strerror(r), got);
	/* LOCAL (a health check): keep, whatever the body. */
	n = v2_header(h, 0x20, 0x00, NULL, 0);
	r = feed(h, n, &pa, &used);
	TU_CHECK(r == 0 && pa.keep, "local: %s", wh_strerror(r));
	n = v2_header(h, 0x20, 0x11, body, 12);
	r = feed(h, n, &pa, &used);
	TU_CHECK(r == 0 && pa.keep, "local with addresses: %s", wh_strerror(r));
	/* UNSPEC and UNIX families: keep. */
	n = v2_header(h, 0x21, 0x00, NULL, 0);
	r = feed(h, n, &pa, &used);
	TU_CHECK(r == 0 && pa.keep, "unspec: %s", wh_strerror(r));
	memset(body, 'u', 64);
	n = v2_header(h, 0x21, 0x31, body, 64);
	r = feed(h, n, &pa, &used);
	TU_CHECK(r == 0 && pa.keep, "unix: %s", wh_strerror(r));
}

static void
test_v2_bad(void)
{
	uint8_t h[PROXY_HEADER_MAX + 64], body[64];
	struct proxy_addr pa;
	size_t n, used, i;
	int r;

	memset(body, 0, sizeof(body));
	/* Bad signature (last byte). */
	n = v2_header(h, 0x21, 0x11, body, 12);
	h[11] = 'X';
	r = feed(h, n, &pa, &used);
	TU_CHECK(r == WH_ERR_FORMAT, "signature: %s", wh_strerror(r));
	/* Bad signature in the first bytes: refused at once. */
	h[0] = '\r';
	h[1] = 'X';
	r = proxy_parse(h, 2, &pa, &used);
	TU_CHECK(r == WH_ERR_FORMAT, "early signature: %s", wh_strerror(r));
	/* Version 1 in the binary form, command 2. */
	n = v2_header(h, 0x11, 0x11, body, 12);
	r = feed(h, n, &pa, &used);
	TU_CHECK(r == WH_ERR_UNSUPPORTED, "version: %s", wh_strerror(r));
	n = v2_header(h, 0x22, 0x11, body, 12);
	r = feed(h, n, &pa, &used);
	TU_CHECK(r == WH_ERR_UNSUPPORTED, "command: %s", wh_strerror(r));
	/* Addresses shorter than the family needs. */
	n = v2_header(h, 0x21, 0x11, body, 11);
	r = feed(h, n, &pa, &used);
	TU_CHECK(r == WH_ERR_FORMAT, "short v4: %s", wh_strerror(r));
	n = v2_header(h, 0x21, 0x21, body, 35);
	r = feed(h, n, &pa, &used);
	TU_CHECK(r == WH_ERR_FORMAT, "short v6: %s", wh_strerror(r));
	/* UDP, and an unknown family. */
	n = v2_header(h, 0x21, 0x12, body, 12);
	r = feed(h, n, &pa, &used);
	TU_CHECK(r == WH_ERR_FORMAT, "dgram: %s", wh_strerror(r));
	n = v2_header(h, 0x21, 0x41, body, 12);
	r = feed(h, n, &pa, &used);
	TU_CHECK(r == WH_ERR_FORMAT, "family: %s", wh_strerror(r));
	/* Oversized: refused from the 16 bytes, nothing more read. */
	v2_header(h, 0x21, 0x11, NULL, 0);
	h[14] = (uint8_t)((PROXY_V2_BODY_MAX + 1) >> 8);
	h[15] = (uint8_t)(PROXY_V2_BODY_MAX + 1);
	r = feed(h, sizeof(h), &pa, &used);
	TU_CHECK(r == WH_ERR_TOO_LARGE && used == PROXY_V2_HDR_LEN,
	    "oversized: %s after %zu", wh_strerror(r), used);
	/* Truncated: every prefix of a good header asks for more. */
	memcpy(body, "\xc0\x00\x02\x09\xc6\x33\x64\x01\x9c\x40\x11\x62", 12);
	n = v2_header(h, 0x21, 0x11, body, 12);
	for (i = 0; i < n; i++) {
		size_t need = 0;

		r = proxy_parse(h, i, &pa, &need);
		TU_CHECK(r == WH_ERR_TRUNCATED && need > i && need <= n,
		    "prefix %zu: %s need %zu", i, wh_strerror(r), need);
	}
	/* Past the header: the caller read too far. */
	r = proxy_parse(h, n + 1, &pa, &used);
	TU_CHECK(r == WH_ERR_FORMAT, "trailing: %s", wh_strerror(r));
}

/* proxy_read takes the header and leaves the preface in the socket. */
static void
test_read_socket(void)
{
	const char *msg = "PROXY TCP4 203.0.113.5 192.0.2.1 1234 4450\r\n"
	                  "\x89WHARF\r\n";
	struct proxy_addr pa;
	char rest[16], got[NETADDR_STR_MAX];
	int sv[2], r;
	ssize_t n;

	TU_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	TU_CHECK(
	    write(sv[0], msg, strlen(msg)) == (ssize_t)strlen(msg), "write");
	r = proxy_read(sv[1], clock_mono_ms() + 2000, &pa);
	shown(&pa, got, sizeof(got));
	TU_CHECK(r == 0 && strcmp(got, "203.0.113.5:1234") == 0, "%s %s",
	    wh_strerror(r), got);
	n = read(sv[1], rest, sizeof(rest));
	TU_CHECK(n == 8 && memcmp(rest, "\x89WHARF\r\n", 8) == 0,
	    "preface left: %zd", n);
	/* Silence until the deadline. */
	r = proxy_read(sv[1], clock_mono_ms() + 50, &pa);
	TU_CHECK(r == WH_ERR_TIMEOUT, "timeout: %s", wh_strerror(r));
	/* Cut in the middle. */
	TU_CHECK(write(sv[0], "PROXY TCP4 1.2", 14) == 14, "write");
	close(sv[0]);
	r = proxy_read(sv[1], clock_mono_ms() + 2000, &pa);
	TU_CHECK(r == WH_ERR_TRUNCATED, "cut: %s", wh_strerror(r));
	close(sv[1]);
}

static int
match(const struct cidr_list *l, const char *addr)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, addr, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		return cidr_list_match(l, (struct sockaddr *)&sin);
	}
	if (inet_pton(AF_INET6, addr, &sin6.sin6_addr) != 1)
		return -1;
	sin6.sin6_family = AF_INET6;
	return cidr_list_match(l, (struct sockaddr *)&sin6);
}

static void
test_cidr(void)
{
	struct cidr_list l;
	char bad[64];
	size_t i;
	static const struct {
		const char *addr;
		int in;
	} cases[] = {
		{ "127.0.0.1", 1 },
		{ "127.0.0.2", 0 },
		{ "10.1.2.3", 1 },
		{ "10.255.0.1", 1 },
		{ "11.0.0.1", 0 },
		{ "::ffff:10.0.0.1", 1 },
		{ "::ffff:127.0.0.2", 0 },
		{ "2001:db8:0:1::5", 1 },
		{ "2001:db8:1::5", 0 },
		{ "::1", 0 },
	};

	TU_CHECK(cidr_list_parse("127.0.0.1,10.0.0.0/8,2001:db8::/48", &l, bad,
	             sizeof(bad)) == 0 &&
	        l.n == 3,
	    "parse: %s", bad);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		TU_CHECK(match(&l, cases[i].addr) == cases[i].in,
		    "%s: expected %d", cases[i].addr, cases[i].in);
	TU_CHECK(cidr_list_parse("10.0.0.0/33", &l, bad, sizeof(bad)) != 0 &&
	        strcmp(bad, "10.0.0.0/33") == 0,
	    "/33: %s", bad);
	TU_CHECK(cidr_list_parse("1.2.3.4,,5.6.7.8", &l, bad, sizeof(bad)) != 0,
	    "empty range");
	TU_CHECK(cidr_list_parse("host.example", &l, bad, sizeof(bad)) != 0,
	    "a name");
	TU_CHECK(cidr_list_parse("::/0", &l, bad, sizeof(bad)) == 0 &&
	        match(&l, "2001:db8::1") == 1 && match(&l, "1.2.3.4") == 0,
	    "::/0");
}

void
register_proxy_tests(void)
{
	CU_pSuite s = CU_add_suite("proxy", NULL, NULL);

	if (s == NULL)
		return;
	CU_add_test(s, "v1: good", test_v1_good);
	CU_add_test(s, "v1: malformed", test_v1_bad);
	CU_add_test(s, "v1: oversized", test_v1_oversized);
	CU_add_test(s, "v2: good", test_v2_good);
	CU_add_test(s, "v2: malformed, truncated, oversized", test_v2_bad);
	CU_add_test(s, "read from a socket", test_read_socket);
	CU_add_test(s, "trusted ranges", test_cidr);
}
