/* SPDX-License-Identifier: MIT */
/*
 * The users file: add, save and load round trip with mode 0600, malformed
 * lines named by number, password checks, and the user-name rule. Each
 * Argon2id hash costs a noticeable fraction of a second, so few are made.
 */
#include <string.h>
#include <sys/stat.h>

#include <CUnit/CUnit.h>

#include "wharf/users.h"

#include "suites.h"

#define FAKE_HASH "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"

static char users_dir[TU_PATH_MAX];
static char users_path[TU_PATH_MAX];

static int
users_suite_init(void)
{
	if (tu_tempdir(users_dir, sizeof(users_dir)) != 0)
		return -1;
	tu_join(users_path, sizeof(users_path), users_dir, USERS_FILE_NAME);
	return 0;
}

static int
users_suite_clean(void)
{
	return tu_rmtree(users_dir) == 0 ? 0 : -1;
}

/* Writes alice (rw, with an extra field) and bob (ro) to users_path. */
static void
test_add_save_load(void)
{
	struct users u = { NULL, 0 }, l = { NULL, 0 };
	struct user *a;
	struct stat st;
	int bad = -1;

	CU_ASSERT_EQUAL_FATAL(users_add(&u, "alice", "alice-pw", 0), 0);
	CU_ASSERT_EQUAL(users_add(&u, "bob", "bob-pw", 1), 0);
	/* Refused before any hashing is spent. */
	CU_ASSERT_EQUAL(users_add(&u, "alice", "other", 1), WH_ERR_EXISTS);
	CU_ASSERT_EQUAL(users_add(&u, "no good", "pw", 0), WH_ERR_INVALID_ARG);
	CU_ASSERT_EQUAL(u.n, 2);
	a = users_find(&u, "alice");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(strncmp(a->hash, "$argon2id$", 10), 0);
	CU_ASSERT_PTR_NULL(strstr(a->hash, "alice-pw"));
	/* Known fields are parsed; unknown ones travel along untouched. */
	memcpy(a->extra, "note=x", sizeof("note=x"));
	a->quota = 5;
	CU_ASSERT_EQUAL_FATAL(users_set_home(a, "teams//alice/"), 0);
	CU_ASSERT_STRING_EQUAL(a->home, "/teams/alice");
	CU_ASSERT_NOT_EQUAL(users_set_home(a, "../up"), 0);
	CU_ASSERT_NOT_EQUAL(users_set_home(a, "a:b"), 0);
	/* What ends sessions (server/watch.c): a disabled user, a logout
	 * generation. */
	u.v[1].disabled = 1;
	u.v[1].logout = 7;
	CU_ASSERT_EQUAL_FATAL(users_save(users_path, &u), 0);

	CU_ASSERT_EQUAL_FATAL(stat(users_path, &st), 0);
	TU_CHECK((st.st_mode & 07777) == 0600, "users file mode %o",
	    (unsigned)(st.st_mode & 07777));

	CU_ASSERT_EQUAL_FATAL(users_load(users_path, &l, &bad), 0);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 2);
	CU_ASSERT_STRING_EQUAL(l.v[0].name, "alice");
	CU_ASSERT_STRING_EQUAL(l.v[0].hash, u.v[0].hash);
	CU_ASSERT_FALSE(l.v[0].read_only);
	CU_ASSERT_STRING_EQUAL(l.v[0].extra, "note=x");
	CU_ASSERT_EQUAL(l.v[0].quota, 5);
	CU_ASSERT_STRING_EQUAL(l.v[0].home, "/teams/alice");
	CU_ASSERT_EQUAL(l.v[1].quota, 0);
	CU_ASSERT_STRING_EQUAL(l.v[1].home, "");
	CU_ASSERT_STRING_EQUAL(l.v[1].name, "bob");
	CU_ASSERT_STRING_EQUAL(l.v[1].hash, u.v[1].hash);
	CU_ASSERT(l.v[1].read_only);
	CU_ASSERT_STRING_EQUAL(l.v[1].extra, "");
	CU_ASSERT(l.v[1].disabled);
	CU_ASSERT_EQUAL(l.v[1].logout, 7);
	CU_ASSERT_FALSE(l.v[0].disabled);
	CU_ASSERT_EQUAL(l.v[0].logout, 0);
	CU_ASSERT_PTR_NULL(users_find(&l, "carol"));

	CU_ASSERT_EQUAL(users_remove(&l, "alice"), 0);
	CU_ASSERT_EQUAL(users_remove(&l, "alice"), WH_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(l.n, 1);
	CU_ASSERT_STRING_EQUAL(l.v[0].name, "bob");
	users_cleanup(&l);
	CU_ASSERT_PTR_NULL(l.v);
	CU_ASSERT_EQUAL(l.n, 0);
	users_cleanup(&u);
}

/* Uses the file test_add_save_load wrote. */
static void
test_verify(void)
{
	struct user out;

	memset(&out, 0, sizeof(out));
	CU_ASSERT_EQUAL(users_verify(users_path, "alice", "alice-pw", &out), 0);
	CU_ASSERT_STRING_EQUAL(out.name, "alice");
	CU_ASSERT_FALSE(out.read_only);
	CU_ASSERT_EQUAL(
	    users_verify(users_path, "alice", "bob-pw", &out), WH_ERR_AUTH);
	CU_ASSERT_EQUAL(
	    users_verify(users_path, "mallory", "alice-pw", &out), WH_ERR_AUTH);
	/* Invalid names are never looked up, yet still cost a hash. */
	CU_ASSERT_EQUAL(users_verify(users_path, "../alice", "alice-pw", &out),
	    WH_ERR_AUTH);
}

static void
test_load_missing(void)
{
	char path[TU_PATH_MAX];
	struct users u = { NULL, 0 };
	int bad = -1;

	tu_join(path, sizeof(path), users_dir, "does-not-exist");
	CU_ASSERT_EQUAL(users_load(path, &u, &bad), 0);
	CU_ASSERT_EQUAL(u.n, 0);
	users_cleanup(&u);
}

static void
test_malformed_lines(void)
{
	static const struct {
		const char *text;
		int line;
	} cases[] = {
		{ "# users\nalice:" FAKE_HASH ":rw\nthis is not a user\n", 3 },
		{ "alice:" FAKE_HASH "\n", 1 },
		{ "alice:" FAKE_HASH ":rx\n", 1 },
		{ "\n\nalice:$2b$10$notargon:rw\n", 3 },
		{ ".alice:" FAKE_HASH ":rw\n", 1 },
		{ "al ice:" FAKE_HASH ":ro\n", 1 },
		{ ":" FAKE_HASH ":ro\n", 1 },
		{ "alice:" FAKE_HASH ":rw\nbob:" FAKE_HASH ":ro\n"
		  "alice:" FAKE_HASH ":ro\n",
		    3 },
		{ "alice:" FAKE_HASH ":rw\n#\nbob::rw\n", 3 },
		{ "alice:" FAKE_HASH ":rw:logout=x\n", 1 },
		{ "alice:" FAKE_HASH ":rw:logout=-1\n", 1 },
		{ "alice:" FAKE_HASH ":rw:logout=\n", 1 },
	};
	char path[TU_PATH_MAX], esc[256];
	struct users u;
	size_t i;
	int r, bad;

	tu_join(path, sizeof(path), users_dir, "users.bad");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (tu_write_file(path, cases[i].text, strlen(cases[i].text),
		        0600) != 0) {
			CU_FAIL("writing the users file");
			continue;
		}
		bad = -1;
		r = users_load(path, &u, &bad);
		TU_CHECK(r == WH_ERR_CORRUPT && bad == cases[i].line,
		    "case %zu (%s): r=%d bad_line=%d, wanted line %d", i,
		    tu_escape(
		        cases[i].text, strlen(cases[i].text), esc, sizeof(esc)),
		    r, bad, cases[i].line);
		users_cleanup(&u);
	}
	/* An embedded NUL is damage too. */
	if (tu_write_file(path, "alice\0:x:rw\n", 12, 0600) == 0) {
		r = users_load(path, &u, &bad);
		CU_ASSERT_EQUAL(r, WH_ERR_CORRUPT);
		CU_ASSERT_EQUAL(bad, 1);
		users_cleanup(&u);
	}
	/* Comments and blank lines alone are an empty list. */
	if (tu_write_file(path, "# none\n\n", 8, 0600) == 0) {
		CU_ASSERT_EQUAL(users_load(path, &u, &bad), 0);
		CU_ASSERT_EQUAL(u.n, 0);
		users_cleanup(&u);
	}
}

static void
test_name_valid(void)
{
	static const char *const good[] = { "alice", "a.b-c_1", "A", "0", "x.",
		"x-", "_x", "abcdefghijklmnopqrstuvwxyz012345" };
	static const char *const bad[] = { "", ".x", "-x", "a:b", "a b",
		"abcdefghijklmnopqrstuvwxyz0123456", "a/b", "a\nb", "\xc3\xa9",
		"a\tb", "a$b" };
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		TU_CHECK(users_name_valid(good[i]), "\"%s\" refused", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TU_CHECK(!users_name_valid(bad[i]), "bad name %zu accepted", i);
}

static void
test_random_password(void)
{
	char a[64], b[64];
	size_t i;

	users_random_password(a, sizeof(a));
	users_random_password(b, sizeof(b));
	CU_ASSERT_EQUAL(strlen(a), 20);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	for (i = 0; a[i] != '\0'; i++)
		TU_CHECK(
		    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
		           "vwxyz0123456789-_",
		        a[i]) != NULL,
		    "character 0x%02x", (unsigned char)a[i]);
}

void
register_users_tests(void)
{
	CU_pSuite s =
	    CU_add_suite("users", users_suite_init, users_suite_clean);

	if (s == NULL)
		return;
	CU_add_test(s, "add, save and load", test_add_save_load);
	CU_add_test(s, "verify passwords", test_verify);
	CU_add_test(s, "missing file is empty", test_load_missing);
	CU_add_test(s, "malformed lines", test_malformed_lines);
	CU_add_test(s, "user names", test_name_valid);
	CU_add_test(s, "random password", test_random_password);
}
