/* SPDX-License-Identifier: MIT */
/*
 * Command-line addresses (address.h) and the client configuration
 * (client_config.h): the HOST:PORT / HOST:PATH rule, URLs, and Host blocks
 * with ssh_config's first-value-wins order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"
#include "wharf/address.h"
#include "wharf/client_config.h"
#include "wharf/transfer.h"

static void
test_classify(void)
{
	static const struct {
		const char *s;
		enum address_kind kind;
	} cases[] = {
		{ "files", ADDRESS_PLAIN },
		{ "alice@files", ADDRESS_PLAIN },
		{ "files:4450", ADDRESS_SERVER },
		{ "alice@files:4450", ADDRESS_SERVER },
		{ "[::1]", ADDRESS_SERVER },
		{ "[::1]:4450", ADDRESS_SERVER },
		{ "alice@[::1]:4450", ADDRESS_SERVER },
		{ "files:/www/index.html", ADDRESS_REMOTE_PATH },
		{ "files:isos/", ADDRESS_REMOTE_PATH },
		{ "files:", ADDRESS_REMOTE_PATH },
		{ "files:./4450", ADDRESS_REMOTE_PATH },
		{ "files:4450x", ADDRESS_REMOTE_PATH },
		{ "alice@files:a@b", ADDRESS_REMOTE_PATH },
		{ "[::1]:/x", ADDRESS_REMOTE_PATH },
		{ "wharf://files", ADDRESS_SERVER },
		{ "wharf://files:4450/", ADDRESS_SERVER },
		{ "wharf://alice@files:4450/www/x", ADDRESS_REMOTE_PATH },
		{ "./a:b", ADDRESS_LOCAL },
		{ "/tmp/a:b", ADDRESS_LOCAL },
		{ "dir/a:b", ADDRESS_LOCAL },
		{ "a.iso", ADDRESS_PLAIN },
		{ "", ADDRESS_LOCAL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		TU_CHECK(address_classify(cases[i].s) == cases[i].kind,
		    "'%s': kind %d, expected %d", cases[i].s,
		    address_classify(cases[i].s), cases[i].kind);
}

static void
test_parse(void)
{
	struct client_target t;
	char path[CLIENT_PATH_MAX];

	CU_ASSERT_EQUAL_FATAL(address_parse("alice@files:/www/index.html", &t,
	                          path, sizeof(path)),
	    0);
	CU_ASSERT_STRING_EQUAL(t.user, "alice");
	CU_ASSERT_STRING_EQUAL(t.host, "files");
	CU_ASSERT_EQUAL(t.port, WIRE_PORT_DEFAULT);
	CU_ASSERT(t.user_given && !t.port_given);
	CU_ASSERT_STRING_EQUAL(path, "/www/index.html");

	CU_ASSERT_EQUAL_FATAL(
	    address_parse("files:4450", &t, path, sizeof(path)), 0);
	CU_ASSERT_EQUAL(t.port, 4450);
	CU_ASSERT(t.port_given && !t.user_given);
	CU_ASSERT_STRING_EQUAL(path, "");

	CU_ASSERT_EQUAL_FATAL(
	    address_parse("[::1]:/x y", &t, path, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(t.host, "::1");
	CU_ASSERT_STRING_EQUAL(path, "/x y");

	/* URLs: the port, and a %-encoded path that stays absolute. */
	CU_ASSERT_EQUAL_FATAL(
	    address_parse("wharf://bob@files.example.org:4999/a%20b/%C3%A9", &t,
	        path, sizeof(path)),
	    0);
	CU_ASSERT_STRING_EQUAL(t.user, "bob");
	CU_ASSERT_STRING_EQUAL(t.host, "files.example.org");
	CU_ASSERT_EQUAL(t.port, 4999);
	CU_ASSERT_STRING_EQUAL(path, "/a b/\xc3\xa9");
	CU_ASSERT_EQUAL_FATAL(
	    address_parse("wharf://[::1]:4450", &t, path, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(t.host, "::1");
	CU_ASSERT_STRING_EQUAL(path, "");

	/* Refused, each with a message on stderr. */
	CU_ASSERT_NOT_EQUAL(
	    address_parse("wharf://files/%00", &t, path, sizeof(path)), 0);
	CU_ASSERT_NOT_EQUAL(
	    address_parse("wharf://files/%zz", &t, path, sizeof(path)), 0);
	CU_ASSERT_NOT_EQUAL(
	    address_parse("files:99999", &t, path, sizeof(path)), 0);
	CU_ASSERT_NOT_EQUAL(
	    address_parse("@files:/x", &t, path, sizeof(path)), 0);
	CU_ASSERT_NOT_EQUAL(
	    address_parse("./local", &t, path, sizeof(path)), 0);
	/* client_target_parse wants a server, not a file. */
	CU_ASSERT_NOT_EQUAL(client_target_parse("files:/x", &t), 0);
	CU_ASSERT_EQUAL(client_target_parse("wharf://files:7/", &t), 0);
	CU_ASSERT_EQUAL(t.port, 7);
}

static int
write_config(const char *dir, const char *text, char *path, size_t n)
{
	tu_join(path, n, dir, "config");
	return tu_write_file(path, text, strlen(text), 0600);
}

static void
test_config(void)
{
	char dir[TU_PATH_MAX], path[TU_PATH_MAX];
	struct client_target t;
	struct client_opts co;
	struct transfer_opts xo;

	CU_ASSERT_EQUAL_FATAL(tu_tempdir(dir, sizeof(dir)), 0);
	CU_ASSERT_EQUAL_FATAL(write_config(dir,
	                          "# the lab\n"
	                          "Host files lab-*\n"
	                          "    HostName 10.1.2.3\n"
	                          "    Port 4999\n"
	                          "    User alice\n"
	                          "    Compression 9\n"
	                          "Host lab-2 !lab-3\n"
	                          "    User bob\n"
	                          "    Streams 4\n"
	                          "Host *\n"
	                          "    User nobody\n"
	                          "    Port=5000\n"
	                          "    PSK \"~/team.psk\"\n",
	                          path, sizeof(path)),
	    0);
	setenv("HOME", "/home/t", 1);

	/* First value wins: the specific block's User and Port. */
	memset(&co, 0, sizeof(co));
	co.config_file = path;
	transfer_opts_init(&xo);
	CU_ASSERT_EQUAL_FATAL(client_target_parse("lab-2", &t), 0);
	CU_ASSERT_EQUAL_FATAL(client_config_resolve(&t, &co, &xo), 0);
	CU_ASSERT_STRING_EQUAL(t.host, "10.1.2.3");
	CU_ASSERT_EQUAL(t.port, 4999);
	CU_ASSERT_STRING_EQUAL(t.user, "alice");
	CU_ASSERT_EQUAL(xo.compress, WHARF__COMPRESS_MODE__COMPRESS_LEVEL);
	CU_ASSERT_EQUAL(xo.level, 9);
	CU_ASSERT_EQUAL(xo.streams, 4);
	CU_ASSERT_STRING_EQUAL(co.psk_file, "/home/t/team.psk");

	/* The command line beats the file: USER@, :PORT, -P, -z, -o. */
	memset(&co, 0, sizeof(co));
	co.config_file = path;
	co.overrides[co.noverrides++] = "Streams=2";
	transfer_opts_init(&xo);
	CU_ASSERT_EQUAL(transfer_parse_compress(&xo, "off"), 0);
	CU_ASSERT_EQUAL_FATAL(client_target_parse("carol@lab-2:7000", &t), 0);
	CU_ASSERT_EQUAL_FATAL(client_config_resolve(&t, &co, &xo), 0);
	CU_ASSERT_STRING_EQUAL(t.user, "carol");
	CU_ASSERT_EQUAL(t.port, 7000);
	CU_ASSERT_EQUAL(xo.compress, WHARF__COMPRESS_MODE__COMPRESS_OFF);
	CU_ASSERT_EQUAL(xo.streams, 2);
	memset(&co, 0, sizeof(co));
	co.config_file = path;
	co.port = 6000;
	CU_ASSERT_EQUAL_FATAL(client_target_parse("files:7000", &t), 0);
	CU_ASSERT_EQUAL_FATAL(client_config_resolve(&t, &co, NULL), 0);
	CU_ASSERT_EQUAL(t.port, 6000);

	/* "!lab-3" takes lab-3 out of the second block only. */
	memset(&co, 0, sizeof(co));
	co.config_file = path;
	CU_ASSERT_EQUAL_FATAL(client_target_parse("lab-3", &t), 0);
	CU_ASSERT_EQUAL_FATAL(client_config_resolve(&t, &co, NULL), 0);
	CU_ASSERT_STRING_EQUAL(t.user, "alice");

	/* A host no block names gets the catch-all. */
	memset(&co, 0, sizeof(co));
	co.config_file = path;
	CU_ASSERT_EQUAL_FATAL(client_target_parse("elsewhere", &t), 0);
	CU_ASSERT_EQUAL_FATAL(client_config_resolve(&t, &co, NULL), 0);
	CU_ASSERT_STRING_EQUAL(t.host, "elsewhere");
	CU_ASSERT_STRING_EQUAL(t.user, "nobody");
	CU_ASSERT_EQUAL(t.port, 5000);

	/* Unknown keys and bad values are errors, in any block. */
	CU_ASSERT_EQUAL_FATAL(write_config(dir,
	                          "Host other\n"
	                          "  Prot 22\n",
	                          path, sizeof(path)),
	    0);
	memset(&co, 0, sizeof(co));
	co.config_file = path;
	CU_ASSERT_EQUAL_FATAL(client_target_parse("files", &t), 0);
	CU_ASSERT_EQUAL(
	    client_config_resolve(&t, &co, NULL), WH_ERR_INVALID_ARG);
	CU_ASSERT_EQUAL_FATAL(
	    write_config(dir, "Port 70000\n", path, sizeof(path)), 0);
	CU_ASSERT_EQUAL(
	    client_config_resolve(&t, &co, NULL), WH_ERR_INVALID_ARG);
	/* -F names a file that must exist. */
	co.config_file = "/nonexistent/wharf/config";
	CU_ASSERT_EQUAL(
	    client_config_resolve(&t, &co, NULL), WH_ERR_INVALID_ARG);
	memset(&co, 0, sizeof(co));
	co.config_file = path;
	co.overrides[co.noverrides++] = "NoSuchKey=1";
	CU_ASSERT_EQUAL(
	    client_config_resolve(&t, &co, NULL), WH_ERR_INVALID_ARG);
	tu_rmtree(dir);
}

void
register_address_tests(void)
{
	CU_pSuite s = CU_add_suite("address", NULL, NULL);

	CU_add_test(s, "HOST:PORT, HOST:PATH, URL, local", test_classify);
	CU_add_test(s, "parsing servers, paths and URLs", test_parse);
	CU_add_test(s, "client configuration Host blocks", test_config);
}
