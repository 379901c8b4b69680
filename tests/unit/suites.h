/* SPDX-License-Identifier: MIT */
/*
 * The unit-test suites, one per module, and the few helpers they share
 * (temporary folders, formatted failure messages). runner.c registers every
 * suite and holds the helpers.
 */
#ifndef WHARF_TEST_SUITES_H
#define WHARF_TEST_SUITES_H

#include <stddef.h>
#include <sys/types.h>

#include <CUnit/CUnit.h>

#include "wharf.pb-c.h"

void register_buf_tests(void);
void register_wire_tests(void);
void register_io_tests(void);
void register_msg_tests(void);
void register_handshake_tests(void);
void register_channel_tests(void);
void register_users_tests(void);
void register_sandbox_tests(void);
void register_keys_tests(void);
void register_netaddr_tests(void);
void register_cli_tests(void);
void register_cdc_tests(void);
void register_xfer_tests(void);
void register_engine_tests(void);
void register_vectors_tests(void);
void register_address_tests(void);
void register_sshkey_tests(void);
void register_quota_tests(void);
void register_guard_tests(void);
void register_stripe_tests(void);
void register_log_tests(void);
void register_startups_tests(void);
void register_ratelimit_tests(void);
void register_treemeta_tests(void);
void register_text_tests(void);
void register_tree_tests(void);
void register_proxy_tests(void);
void register_file_tests(void);

/* One fixed, valid example of each message body (msg_examples.c), in
 * the order of tests/vectors/msgs.txt. Valid for the whole run. */
#define TU_EXAMPLES_MAX 48
struct tu_example {
	const char *name; /* the proto message name */
	Wharf__Envelope env;
};
size_t tu_msg_examples(const struct tu_example **out);

/* Room for any path the tests build. */
#define TU_PATH_MAX 4096

/*
 * Creates a fresh folder /tmp/wharf-unit-XXXXXX (mode 0700) and writes its
 * path to out. Returns 0 or -1.
 */
int tu_tempdir(char *out, size_t outlen);
/* Removes path and everything under it, never following symlinks. */
int tu_rmtree(const char *path);
/* out = dir "/" name; aborts the run on truncation (a test bug). */
void tu_join(char *out, size_t outlen, const char *dir, const char *name);
/* Creates (or truncates) path with len bytes of data and the given mode. */
int tu_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* Printable form of len bytes (\xNN for the rest), for failure messages. */
const char *tu_escape(const void *p, size_t len, char *out, size_t outlen);

/*
 * Records an assertion: passes if cond is true, else fails with the
 * formatted message (which CUnit copies).
 */
void tu_check(int cond, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define TU_CHECK(cond, ...) \
	tu_check((cond) != 0, __FILE__, __LINE__, __VA_ARGS__)

#endif
