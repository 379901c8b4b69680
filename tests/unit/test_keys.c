/* SPDX-License-Identifier: MIT */
/*
 * Key files: PSK generate/load, refusal to overwrite or to read a secret
 * others can read, damaged files, the host key created once and reloaded,
 * fingerprints, and known_hosts pinning with the offending line named.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <sodium.h>

#include "wharf/keys.h"

#include "suites.h"

/* base64 of the bytes 0, 1, ..., 31. */
#define B64_0_TO_31 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static char keys_dir[TU_PATH_MAX];

static int
keys_suite_init(void)
{
	return tu_tempdir(keys_dir, sizeof(keys_dir));
}

static int
keys_suite_clean(void)
{
	return tu_rmtree(keys_dir) == 0 ? 0 : -1;
}

static int
read_small(const char *path, char *out, size_t outlen)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, out, outlen - 1);
	close(fd);
	if (n < 0)
		return -1;
	out[n] = '\0';
	return 0;
}

static mode_t
file_mode(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (st.st_mode & 07777) : (mode_t)-1;
}

static void
test_psk_round_trip(void)
{
	char p1[TU_PATH_MAX], p2[TU_PATH_MAX];
	uint8_t a[KEYS_PSK_LEN], b[KEYS_PSK_LEN], c[KEYS_PSK_LEN];
	static const uint8_t zero[KEYS_PSK_LEN];

	tu_join(p1, sizeof(p1), keys_dir, "psk1");
	tu_join(p2, sizeof(p2), keys_dir, "psk2");
	CU_ASSERT_EQUAL_FATAL(keys_psk_generate(p1), 0);
	TU_CHECK(file_mode(p1) == 0600, "psk mode %o", (unsigned)file_mode(p1));
	CU_ASSERT_EQUAL(keys_psk_load(p1, a), 0);
	CU_ASSERT_EQUAL(keys_psk_load(p1, b), 0);
	CU_ASSERT_EQUAL(memcmp(a, b, sizeof(a)), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a, zero, sizeof(a)), 0);
	CU_ASSERT_EQUAL_FATAL(keys_psk_generate(p2), 0);
	CU_ASSERT_EQUAL(keys_psk_load(p2, c), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a, c, sizeof(a)), 0);
}

static void
test_psk_known_format(void)
{
	char path[TU_PATH_MAX];
	uint8_t k[KEYS_PSK_LEN];
	size_t i;
	int ok = 1;

	tu_join(path, sizeof(path), keys_dir, "psk-known");
	CU_ASSERT_EQUAL_FATAL(
	    tu_write_file(path, "wharf-psk-v1 " B64_0_TO_31 "\r\n",
	        sizeof("wharf-psk-v1 " B64_0_TO_31 "\r\n") - 1, 0600),
	    0);
	CU_ASSERT_EQUAL_FATAL(keys_psk_load(path, k), 0);
	for (i = 0; i < sizeof(k); i++)
		ok &= k[i] == i;
	CU_ASSERT(ok);
}

static void
test_psk_exists(void)
{
	char path[TU_PATH_MAX], before[256], after[256];

	tu_join(path, sizeof(path), keys_dir, "psk-exists");
	CU_ASSERT_EQUAL_FATAL(keys_psk_generate(path), 0);
	CU_ASSERT_EQUAL_FATAL(read_small(path, before, sizeof(before)), 0);
	CU_ASSERT_EQUAL(keys_psk_generate(path), WH_ERR_EXISTS);
	CU_ASSERT_EQUAL_FATAL(read_small(path, after, sizeof(after)), 0);
	CU_ASSERT_STRING_EQUAL(before, after);
}

static void
test_psk_permission(void)
{
	static const mode_t loose[] = { 0644, 0640, 0604, 0660, 0606 };
	char path[TU_PATH_MAX];
	uint8_t k[KEYS_PSK_LEN];
	size_t i;

	tu_join(path, sizeof(path), keys_dir, "psk-perm");
	CU_ASSERT_EQUAL_FATAL(keys_psk_generate(path), 0);
	for (i = 0; i < sizeof(loose) / sizeof(loose[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(chmod(path, loose[i]), 0);
		TU_CHECK(keys_psk_load(path, k) == WH_ERR_PERMISSION,
		    "mode %o accepted", (unsigned)loose[i]);
	}
	CU_ASSERT_EQUAL(chmod(path, 0400), 0);
	CU_ASSERT_EQUAL(keys_psk_load(path, k), 0);
	tu_join(path, sizeof(path), keys_dir, "psk-missing");
	CU_ASSERT_EQUAL(keys_psk_load(path, k), WH_ERR_NOT_FOUND);
}

static void
test_psk_corrupt(void)
{
	static const char *const bad[] = {
		"",
		"\n",
		"hello\n",
		"wharf-psk-v1\n",
		"wharf-psk-v1 \n",
		"wharf-psk-v1 !!!!\n",
		"wharf-psk-v1 AAECAwQFBgcICQoLDA0ODw==\n",
		"wharf-psk-v1 " B64_0_TO_31 " extra\n",
		"wharf-psk-v1 " B64_0_TO_31 "AAAA\n",
		"wharf-psk-v1\t" B64_0_TO_31 "\n",
		"wharf-psk-v2 " B64_0_TO_31 "\n",
		"WHARF-PSK-V1 " B64_0_TO_31 "\n",
		"wharf-ed25519-seed-v1 " B64_0_TO_31 "\n",
		"# comment\nwharf-psk-v1 " B64_0_TO_31 "\n",
	};
	char path[TU_PATH_MAX], esc[160], *big;
	uint8_t k[KEYS_PSK_LEN];
	size_t i;
	int r;

	tu_join(path, sizeof(path), keys_dir, "psk-bad");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tu_write_file(path, bad[i], strlen(bad[i]), 0600) != 0) {
			CU_FAIL("write");
			continue;
		}
		r = keys_psk_load(path, k);
		TU_CHECK(r == WH_ERR_CORRUPT, "\"%s\": %d",
		    tu_escape(bad[i], strlen(bad[i]), esc, sizeof(esc)), r);
	}
	/* A huge file is damage, not something to read whole. */
	big = malloc(1u << 20);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'A', 1u << 20);
	memcpy(big, "wharf-psk-v1 ", 13);
	if (tu_write_file(path, big, 1u << 20, 0600) == 0)
		CU_ASSERT_EQUAL(keys_psk_load(path, k), WH_ERR_CORRUPT);
	free(big);
}

static void
test_host_key(void)
{
	char path[TU_PATH_MAX], p2[TU_PATH_MAX], fp[KEYS_FINGERPRINT_LEN];
	struct host_key a, b, c;
	uint8_t sig[crypto_sign_BYTES];
	static const uint8_t msg[] = "transcript";

	tu_join(path, sizeof(path), keys_dir, "host_key");
	tu_join(p2, sizeof(p2), keys_dir, "host_key2");
	CU_ASSERT_EQUAL_FATAL(keys_host_load_or_create(path, &a), 0);
	TU_CHECK(file_mode(path) == 0600, "host key mode %o",
	    (unsigned)file_mode(path));
	CU_ASSERT_EQUAL_FATAL(keys_host_load_or_create(path, &b), 0);
	CU_ASSERT_EQUAL(memcmp(a.pk, b.pk, sizeof(a.pk)), 0);
	CU_ASSERT_EQUAL(memcmp(a.sk, b.sk, sizeof(a.sk)), 0);
	/* The pair works: what sk signs, pk verifies. */
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), b.sk);
	CU_ASSERT_EQUAL(
	    crypto_sign_verify_detached(sig, msg, sizeof(msg), a.pk), 0);
	CU_ASSERT_EQUAL_FATAL(keys_host_load_or_create(p2, &c), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a.pk, c.pk, sizeof(a.pk)), 0);

	keys_fingerprint(a.pk, fp);
	CU_ASSERT_EQUAL(strncmp(fp, "SHA256:", 7), 0);
	CU_ASSERT_EQUAL(strlen(fp), 50);
	keys_host_wipe(&a);
	CU_ASSERT(sodium_is_zero((const unsigned char *)&a, sizeof(a)));
	keys_host_wipe(&b);
	keys_host_wipe(&c);

	/* Too open, damaged, or a PSK in its place: refused, not replaced. */
	CU_ASSERT_EQUAL(chmod(path, 0644), 0);
	CU_ASSERT_EQUAL(keys_host_load_or_create(path, &a), WH_ERR_PERMISSION);
	CU_ASSERT_EQUAL(tu_write_file(path, "garbage\n", 8, 0600), 0);
	CU_ASSERT_EQUAL(keys_host_load_or_create(path, &a), WH_ERR_CORRUPT);
	CU_ASSERT_EQUAL(tu_write_file(path, "wharf-psk-v1 " B64_0_TO_31 "\n",
	                    sizeof("wharf-psk-v1 " B64_0_TO_31 "\n") - 1, 0600),
	    0);
	CU_ASSERT_EQUAL(keys_host_load_or_create(path, &a), WH_ERR_CORRUPT);
	CU_ASSERT_EQUAL(file_mode(path), 0600);
}

static void
test_host_key_known_seed(void)
{
	char path[TU_PATH_MAX];
	uint8_t seed[crypto_sign_SEEDBYTES], pk[KEYS_HOST_PK_LEN];
	uint8_t sk[KEYS_HOST_SK_LEN];
	struct host_key k;
	size_t i;

	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)i;
	crypto_sign_seed_keypair(pk, sk, seed);
	tu_join(path, sizeof(path), keys_dir, "host_key_known");
	CU_ASSERT_EQUAL_FATAL(
	    tu_write_file(path, "wharf-ed25519-seed-v1 " B64_0_TO_31 "\n",
	        sizeof("wharf-ed25519-seed-v1 " B64_0_TO_31 "\n") - 1, 0600),
	    0);
	CU_ASSERT_EQUAL_FATAL(keys_host_load_or_create(path, &k), 0);
	CU_ASSERT_EQUAL(memcmp(k.pk, pk, sizeof(pk)), 0);
	CU_ASSERT_EQUAL(memcmp(k.sk, sk, sizeof(sk)), 0);
	keys_host_wipe(&k);
}

static void
test_fingerprint(void)
{
	uint8_t pk[KEYS_HOST_PK_LEN];
	char fp[KEYS_FINGERPRINT_LEN];
	size_t i;

	/* Known answers: OpenSSH's format, SHA-256, base64 without '='. */
	memset(pk, 0, sizeof(pk));
	keys_fingerprint(pk, fp);
	CU_ASSERT_STRING_EQUAL(
	    fp, "SHA256:Zmh6rfhivXdsj8GLjp+OIAiXFIVu4jOzkCpZHQ1fKSU");
	for (i = 0; i < sizeof(pk); i++)
		pk[i] = (uint8_t)i;
	keys_fingerprint(pk, fp);
	CU_ASSERT_STRING_EQUAL(
	    fp, "SHA256:Yw3NKWbEM2aRElRIu7JbT/QSpJxzLbLIq8G4WBvXEN0");
	CU_ASSERT_EQUAL(strlen(fp), 50);
}

static int
count_lines(const char *path)
{
	char text[4096];
	int n = 0;
	size_t i;

	if (read_small(path, text, sizeof(text)) != 0)
		return -1;
	for (i = 0; text[i] != '\0'; i++)
		n += text[i] == '\n';
	return n;
}

static void
known_hosts_case(const char *name, const char *first, size_t first_len)
{
	char path[TU_PATH_MAX];
	uint8_t pk1[KEYS_HOST_PK_LEN], pk2[KEYS_HOST_PK_LEN];
	int line = -1;

	randombytes_buf(pk1, sizeof(pk1));
	randombytes_buf(pk2, sizeof(pk2));
	tu_join(path, sizeof(path), keys_dir, name);
	CU_ASSERT_EQUAL(keys_known_host_check(path, "host:4450", pk1, &line),
	    WH_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL_FATAL(tu_write_file(path, first, first_len, 0600), 0);
	CU_ASSERT_EQUAL(keys_known_host_check(path, "host:4450", pk1, &line),
	    WH_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL_FATAL(keys_known_host_add(path, "host:4450", pk1), 0);
	CU_ASSERT_EQUAL(
	    keys_known_host_check(path, "host:4450", pk1, &line), 0);
	line = -1;
	CU_ASSERT_EQUAL(keys_known_host_check(path, "host:4450", pk2, &line),
	    WH_ERR_HOSTKEY);
	CU_ASSERT_EQUAL(line, 2);
	/* Other ports and prefixes are other entries. */
	CU_ASSERT_EQUAL(keys_known_host_check(path, "host:4451", pk1, &line),
	    WH_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(keys_known_host_check(path, "host:445", pk1, &line),
	    WH_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(
	    keys_known_host_check(path, "host", pk1, &line), WH_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL_FATAL(keys_known_host_add(path, "[::1]:22", pk2), 0);
	CU_ASSERT_EQUAL(keys_known_host_check(path, "[::1]:22", pk2, &line), 0);
	CU_ASSERT_EQUAL(keys_known_host_check(path, "[::1]:22", pk1, &line),
	    WH_ERR_HOSTKEY);
	CU_ASSERT_EQUAL(line, 3);
	CU_ASSERT_EQUAL(
	    keys_known_host_check(path, "host:4450", pk1, &line), 0);
	CU_ASSERT_EQUAL(count_lines(path), 3);
}

static void
test_known_hosts(void)
{
	/* With and without a newline after the comment. */
	known_hosts_case("known_hosts1", "# pinned keys\n", 14);
	known_hosts_case("known_hosts2", "# pinned keys", 13);
}

static void
test_known_hosts_creates_folders(void)
{
	char path[TU_PATH_MAX];
	uint8_t pk[KEYS_HOST_PK_LEN];
	int line = -1;

	randombytes_buf(pk, sizeof(pk));
	tu_join(path, sizeof(path), keys_dir, "a/b/known_hosts");
	CU_ASSERT_EQUAL(
	    keys_known_host_check(path, "h:1", pk, &line), WH_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL_FATAL(keys_known_host_add(path, "h:1", pk), 0);
	CU_ASSERT_EQUAL(keys_known_host_check(path, "h:1", pk, &line), 0);
	CU_ASSERT_EQUAL(file_mode(path), 0600);
	CU_ASSERT_EQUAL(count_lines(path), 1);
}

static void
test_known_hosts_damaged_entry(void)
{
	static const char text[] = "# c\nh:1 rsa AAAA\nh:2 ed25519 !!!\n";
	char path[TU_PATH_MAX];
	uint8_t pk[KEYS_HOST_PK_LEN];
	int line = -1;

	randombytes_buf(pk, sizeof(pk));
	tu_join(path, sizeof(path), keys_dir, "known_hosts_bad");
	CU_ASSERT_EQUAL_FATAL(
	    tu_write_file(path, text, sizeof(text) - 1, 0600), 0);
	/* An entry that cannot match is a mismatch, never a pass. */
	CU_ASSERT_EQUAL(
	    keys_known_host_check(path, "h:1", pk, &line), WH_ERR_HOSTKEY);
	CU_ASSERT_EQUAL(line, 2);
	CU_ASSERT_EQUAL(
	    keys_known_host_check(path, "h:2", pk, &line), WH_ERR_HOSTKEY);
	CU_ASSERT_EQUAL(line, 3);
}

void
register_keys_tests(void)
{
	CU_pSuite s = CU_add_suite("keys", keys_suite_init, keys_suite_clean);

	if (s == NULL)
		return;
	CU_add_test(s, "PSK generate and load", test_psk_round_trip);
	CU_add_test(s, "PSK file format", test_psk_known_format);
	CU_add_test(s, "PSK never overwritten", test_psk_exists);
	CU_add_test(s, "PSK readable by others", test_psk_permission);
	CU_add_test(s, "PSK damaged", test_psk_corrupt);
	CU_add_test(s, "host key created once, then loaded", test_host_key);
	CU_add_test(s, "host key from a known seed", test_host_key_known_seed);
	CU_add_test(s, "fingerprints", test_fingerprint);
	CU_add_test(s, "known_hosts pinning", test_known_hosts);
	CU_add_test(
	    s, "known_hosts folders created", test_known_hosts_creates_folders);
	CU_add_test(
	    s, "known_hosts damaged entries", test_known_hosts_damaged_entry);
}
