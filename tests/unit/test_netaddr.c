/* SPDX-License-Identifier: MIT */
/*
 * HOST[:PORT] parsing: names, IPv4, bracketed IPv6, the default port, and
 * the malformed forms a user might type. Printing back, brackets included.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/CUnit.h>

#include "wharf/netaddr.h"
#include "wharf/wire.h"

#include "suites.h"

static void
test_split_good(void)
{
	static const struct {
		const char *in, *host;
		uint16_t port;
	} cases[] = {
		{ "host", "host", WIRE_PORT_DEFAULT },
		{ "host:22", "host", 22 },
		{ "1.2.3.4:5", "1.2.3.4", 5 },
		{ "1.2.3.4", "1.2.3.4", WIRE_PORT_DEFAULT },
		{ "[::1]:4450", "::1", 4450 },
		{ "[::1]", "::1", WIRE_PORT_DEFAULT },
		{ "[fe80::1:2]:65535", "fe80::1:2", 65535 },
		{ "files.example.org:0", "files.example.org", 0 },
		{ "h:00022", "h", 22 },
	};
	char host[NETADDR_HOST_MAX];
	uint16_t port;
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(host, 'X', sizeof(host));
		port = 1;
		r = netaddr_split(
		    cases[i].in, host, sizeof(host), &port, WIRE_PORT_DEFAULT);
		TU_CHECK(r == 0 && strcmp(host, cases[i].host) == 0 &&
		        port == cases[i].port,
		    "\"%s\": %d host \"%.40s\" port %u", cases[i].in, r,
		    r == 0 ? host : "", port);
	}
}

static void
test_split_bad(void)
{
	static const char *const bad[] = { "::1", "[::1", "host:", "host:99999",
		"host:65536", "host:12a", ":80", "", "[]", "[]:80", "[::1]x",
		"[::1]:", "[::1]:x", "host:-1", "host:+1", "host: 1", "a:b:c",
		"host:4450:1", "host:99999999999999999999" };
	char host[NETADDR_HOST_MAX];
	uint16_t port;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TU_CHECK(netaddr_split(bad[i], host, sizeof(host), &port,
		             WIRE_PORT_DEFAULT) == WH_ERR_INVALID_ARG,
		    "\"%s\" accepted", bad[i]);
	/* A host that does not fit is refused, not cut. */
	CU_ASSERT_EQUAL(
	    netaddr_split("abcdef:1", host, 6, &port, 1), WH_ERR_INVALID_ARG);
	CU_ASSERT_EQUAL(netaddr_split("abcde:1", host, 6, &port, 1), 0);
	CU_ASSERT_STRING_EQUAL(host, "abcde");
}

static void
test_format(void)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	char out[NETADDR_STR_MAX];

	netaddr_format_host("::1", 4450, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "[::1]:4450");
	netaddr_format_host("example.org", 22, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "example.org:22");

	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = htons(5);
	CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET, "1.2.3.4", &s4.sin_addr), 1);
	netaddr_format_sockaddr(
	    (const struct sockaddr *)(const void *)&s4, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "1.2.3.4:5");

	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(4450);
	CU_ASSERT_EQUAL_FATAL(
	    inet_pton(AF_INET6, "::ffff:10.0.0.1", &s6.sin6_addr), 1);
	netaddr_format_sockaddr(
	    (const struct sockaddr *)(const void *)&s6, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.1:4450");
	CU_ASSERT_EQUAL_FATAL(
	    inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr), 1);
	netaddr_format_sockaddr(
	    (const struct sockaddr *)(const void *)&s6, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "[2001:db8::1]:4450");
}

static void
key_of(const char *text, uint8_t key[NETADDR_KEY_LEN])
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(80);
	} else if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(443);
	} else
		ss.ss_family = AF_UNIX;
	netaddr_source_key((struct sockaddr *)&ss, key);
}

/* One source: an IPv4 address (mapped or not), an IPv6 /64. */
static void
test_source_key(void)
{
	static const struct {
		const char *a, *b;
		int same;
	} cases[] = {
		{ "192.0.2.1", "192.0.2.1", 1 },
		{ "192.0.2.1", "::ffff:192.0.2.1", 1 },
		{ "192.0.2.1", "192.0.2.2", 0 },
		{ "192.0.2.1", "::192.0.2.1", 0 },
		{ "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", 1 },
		{ "2001:db8:1:2::1", "2001:db8:1:3::1", 0 },
		{ "::1", "::2", 1 },
		{ "::ffff:10.0.0.1", "::ffff:10.0.0.2", 0 },
		{ "unix", "unix", 1 },
	};
	uint8_t ka[NETADDR_KEY_LEN], kb[NETADDR_KEY_LEN];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		key_of(cases[i].a, ka);
		key_of(cases[i].b, kb);
		TU_CHECK((memcmp(ka, kb, sizeof(ka)) == 0) == cases[i].same,
		    "%s and %s: same source %d, expected %d", cases[i].a,
		    cases[i].b, memcmp(ka, kb, sizeof(ka)) == 0, cases[i].same);
	}
}

void
register_netaddr_tests(void)
{
	CU_pSuite s = CU_add_suite("netaddr", NULL, NULL);

	if (s == NULL)
		return;
	CU_add_test(s, "split: good", test_split_good);
	CU_add_test(s, "split: malformed", test_split_bad);
	CU_add_test(s, "format", test_format);
	CU_add_test(s, "source key", test_source_key);
}
