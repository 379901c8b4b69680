/* SPDX-License-Identifier: MIT */
/*
 * The unit-test runner: registers every module's suite, runs them all in
 * verbose mode and exits non-zero if anything failed. Also holds the small
 * helpers the suites share (see suites.h).
 */
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <sodium.h>

#include "suites.h"

#define TU_TEMPLATE "/tmp/wharf-unit-XXXXXX"
#define TU_MSG_MAX 1024
#define TU_RMTREE_FDS 32

int
tu_tempdir(char *out, size_t outlen)
{
	if (outlen < sizeof(TU_TEMPLATE))
		return -1;
	memcpy(out, TU_TEMPLATE, sizeof(TU_TEMPLATE));
	return mkdtemp(out) != NULL ? 0 : -1;
}

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

int
tu_rmtree(const char *path)
{
	if (path == NULL || path[0] == '\0')
		return -1;
	return nftw(path, rm_entry, TU_RMTREE_FDS, FTW_DEPTH | FTW_PHYS);
}

void
tu_join(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= outlen) {
		fprintf(stderr, "unit: path too long: %s/%s\n", dir, name);
		abort();
	}
}

int
tu_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if (len > 0 && write(fd, data, len) != (ssize_t)len)
		r = -1;
	/* open() applied the umask; the tests need the exact bits. */
	if (fchmod(fd, mode) != 0)
		r = -1;
	if (close(fd) != 0)
		r = -1;
	return r;
}

const char *
tu_escape(const void *p, size_t len, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = p;
	size_t i, o = 0;

	for (i = 0; i < len && o + 5 < outlen; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\') {
			out[o++] = (char)s[i];
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[s[i] >> 4];
		out[o++] = hex[s[i] & 0xf];
	}
	if (i < len && o + 3 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

void
tu_check(int cond, const char *file, unsigned line, const char *fmt, ...)
{
	char msg[TU_MSG_MAX];
	va_list ap;

	if (cond) {
		CU_assertImplementation(
		    CU_TRUE, line, "TU_CHECK", file, "", CU_FALSE);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	CU_assertImplementation(CU_FALSE, line, msg, file, "", CU_FALSE);
}

/* Every suite, by the name ctest gives it (unit_NAME, from test_NAME.c). */
static const struct {
	const char *name;
	void (*add)(void);
} suites[] = {
	{ "buf", register_buf_tests },
	{ "wire", register_wire_tests },
	{ "io", register_io_tests },
	{ "msg", register_msg_tests },
	{ "handshake", register_handshake_tests },
	{ "channel", register_channel_tests },
	{ "users", register_users_tests },
	{ "sandbox", register_sandbox_tests },
	{ "keys", register_keys_tests },
	{ "netaddr", register_netaddr_tests },
	{ "guard", register_guard_tests },
	{ "cli", register_cli_tests },
	{ "cdc", register_cdc_tests },
	{ "xfer", register_xfer_tests },
	{ "engine", register_engine_tests },
	{ "vectors", register_vectors_tests },
	{ "address", register_address_tests },
	{ "sshkey", register_sshkey_tests },
	{ "quota", register_quota_tests },
	{ "stripe", register_stripe_tests },
	{ "log", register_log_tests },
	{ "startups", register_startups_tests },
	{ "text", register_text_tests },
	{ "tree", register_tree_tests },
	{ "ratelimit", register_ratelimit_tests },
	{ "treemeta", register_treemeta_tests },
	{ "proxy", register_proxy_tests },
	{ "file", register_file_tests },
};

static int
register_suites(int argc, char **argv)
{
	size_t k;
	int i, found;

	if (argc < 2) {
		for (k = 0; k < sizeof(suites) / sizeof(suites[0]); k++)
			suites[k].add();
		return 0;
	}
	for (i = 1; i < argc; i++) {
		found = 0;
		for (k = 0; k < sizeof(suites) / sizeof(suites[0]); k++)
			if (strcmp(argv[i], suites[k].name) == 0) {
				suites[k].add();
				found = 1;
			}
		/* A misspelt name must fail, not pass with nothing run. */
		if (!found) {
			fprintf(stderr, "unit: no suite %s\n", argv[i]);
			return -1;
		}
	}
	return 0;
}

/* unit_tests [SUITE...]: the named suites, or all of them. */
int
main(int argc, char **argv)
{
	unsigned failures, tests_failed, suites_failed;

	if (sodium_init() < 0) {
		fprintf(stderr, "unit: sodium_init failed\n");
		return 1;
	}
	/* A test that fails early may leave a writer facing a closed
	 * socket: that must be a failed write, not the end of the run. */
	signal(SIGPIPE, SIG_IGN);
	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "unit: %s\n", CU_get_error_msg());
		return 1;
	}
	if (register_suites(argc, argv) != 0) {
		CU_cleanup_registry();
		return 1;
	}
	if (CU_get_error() != CUE_SUCCESS) {
		fprintf(stderr, "unit: registering tests: %s\n",
		    CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		fprintf(stderr, "unit: %s\n", CU_get_error_msg());
	failures = CU_get_number_of_failures();
	tests_failed = CU_get_number_of_tests_failed();
	suites_failed = CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	if (failures > 0 || tests_failed > 0 || suites_failed > 0) {
		fprintf(stderr,
		    "unit: %u failed assertions, %u failed tests, "
		    "%u suites failed to set up or tear down\n",
		    failures, tests_failed, suites_failed);
		return 1;
	}
	return 0;
}
