/* SPDX-License-Identifier: MIT */
/*
 * OpenSSH key formats (sshkey.h) against bytes made by OpenSSH itself: a
 * private key file and public line from ssh-keygen 9.2, with the
 * fingerprint ssh-keygen -l printed for it; authorized_keys options; and
 * the key login check (authkeys.h), including a signature for another
 * session's transcript.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "suites.h"
#include "wharf/authkeys.h"
#include "wharf/sshkey.h"
#include "wharf/users.h"

/* A throwaway test key, made by `ssh-keygen -t ed25519 -N ''`. */
static const char OPENSSH_PRIVATE[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDcYJASveecBCbQUpC8CZyIQheau6D/gGnzvJJ1wYeqmgAAAJCz18FUs9fB\n"
    "VAAAAAtzc2gtZWQyNTUxOQAAACDcYJASveecBCbQUpC8CZyIQheau6D/gGnzvJJ1wYeqmg\n"
    "AAAECPKSpWQtIFLGoLKYXO3xKP3zMr7WClDndnk82NRwyhXdxgkBK955wEJtBSkLwJnIhC\n"
    "F5q7oP+AafO8knXBh6qaAAAAB3Jvb3RAdm0BAgMEBQY=\n"
    "-----END OPENSSH PRIVATE KEY-----\n";
static const char OPENSSH_PUBLIC[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINxgkBK955wEJtBSkLwJnIhCF5q7oP+"
    "AafO8knXBh6qa root@vm";
static const char OPENSSH_FP[] =
    "SHA256:DPlieQ3goQYT42sOSdnTzm5rHCJJy1CHaVxai7/XbB8";

static void
test_openssh_files(void)
{
	char dir[TU_PATH_MAX], path[TU_PATH_MAX], fp[SSHKEY_FP_LEN];
	char line[SSHKEY_LINE_MAX];
	struct sshkey_authorized k;
	uint8_t sk[SSHKEY_SK_LEN], pk[SSHKEY_PK_LEN], sig[SSHKEY_SIG_LEN];

	CU_ASSERT_EQUAL_FATAL(tu_tempdir(dir, sizeof(dir)), 0);
	tu_join(path, sizeof(path), dir, "id_ed25519");
	CU_ASSERT_EQUAL_FATAL(
	    tu_write_file(path, OPENSSH_PRIVATE, strlen(OPENSSH_PRIVATE), 0600),
	    0);
	CU_ASSERT_EQUAL_FATAL(sshkey_load_private(path, sk, pk), 0);
	CU_ASSERT_EQUAL_FATAL(sshkey_parse_authorized(OPENSSH_PUBLIC, &k), 0);
	CU_ASSERT_EQUAL(memcmp(k.pk, pk, SSHKEY_PK_LEN), 0);
	CU_ASSERT_STRING_EQUAL(k.comment, "root@vm");
	sshkey_fingerprint(pk, fp);
	CU_ASSERT_STRING_EQUAL(fp, OPENSSH_FP);
	/* The secret half signs for the public half. */
	CU_ASSERT_EQUAL(
	    crypto_sign_detached(sig, NULL, (const uint8_t *)"m", 1, sk), 0);
	CU_ASSERT_EQUAL(
	    crypto_sign_verify_detached(sig, (const uint8_t *)"m", 1, pk), 0);
	/* Our own line for the key is ssh-keygen's. */
	CU_ASSERT_EQUAL(
	    sshkey_format_public(pk, "root@vm", line, sizeof(line)), 0);
	CU_ASSERT_STRING_EQUAL(line, OPENSSH_PUBLIC);
	/* Readable by others: refused, as ssh refuses it. */
	chmod(path, 0644);
	CU_ASSERT_EQUAL(sshkey_load_private(path, sk, pk), WH_ERR_PERMISSION);
	/* A key we made loads back. */
	tu_join(path, sizeof(path), dir, "made");
	CU_ASSERT_EQUAL_FATAL(sshkey_generate(path, "made here"), 0);
	CU_ASSERT_EQUAL(sshkey_load_private(path, sk, pk), 0);
	CU_ASSERT_EQUAL(sshkey_generate(path, "again"), WH_ERR_EXISTS);
	sodium_memzero(sk, sizeof(sk));
	tu_rmtree(dir);
}

static void
test_authorized_lines(void)
{
	struct sshkey_authorized k;
	char line[SSHKEY_LINE_MAX];

	snprintf(line, sizeof(line), "from=\"10.0.0.*,!10.0.0.9\",read-only %s",
	    OPENSSH_PUBLIC);
	CU_ASSERT_EQUAL_FATAL(sshkey_parse_authorized(line, &k), 0);
	CU_ASSERT_STRING_EQUAL(k.from, "10.0.0.*,!10.0.0.9");
	CU_ASSERT(k.read_only);
	CU_ASSERT(sshkey_from_matches(k.from, "10.0.0.1"));
	CU_ASSERT_FALSE(sshkey_from_matches(k.from, "10.0.0.9"));
	CU_ASSERT_FALSE(sshkey_from_matches(k.from, "127.0.0.1"));
	CU_ASSERT(sshkey_from_matches("", "127.0.0.1"));
	/* Options we do not enforce are refused, not dropped. */
	snprintf(line, sizeof(line), "no-pty %s", OPENSSH_PUBLIC);
	CU_ASSERT_EQUAL(sshkey_parse_authorized(line, &k), WH_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(sshkey_parse_authorized("ssh-rsa AAAAB3Nza x", &k),
	    WH_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(
	    sshkey_parse_authorized("# comment", &k), WH_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(sshkey_parse_authorized("   ", &k), WH_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(
	    sshkey_parse_authorized("ssh-ed25519 !!!! x", &k), WH_ERR_FORMAT);
	/* A blob of another type under the ed25519 name. */
	CU_ASSERT_EQUAL(sshkey_parse_authorized(
	                    "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ x", &k),
	    WH_ERR_FORMAT);
}

static void
test_key_login(void)
{
	char dir[TU_PATH_MAX], users[TU_PATH_MAX], line[SSHKEY_LINE_MAX];
	uint8_t pk[SSHKEY_PK_LEN], sk[SSHKEY_SK_LEN], other_pk[SSHKEY_PK_LEN];
	uint8_t other_sk[SSHKEY_SK_LEN], sig[SSHKEY_SIG_LEN], msg[256];
	uint8_t th1[32], th2[32];
	struct users u = { 0 };
	struct user out;
	const char *why;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(tu_tempdir(dir, sizeof(dir)), 0);
	tu_join(users, sizeof(users), dir, USERS_FILE_NAME);
	CU_ASSERT_EQUAL_FATAL(users_add(&u, "alice", "pw", 0), 0);
	CU_ASSERT_EQUAL_FATAL(users_save(users, &u), 0);
	users_cleanup(&u);
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(other_pk, other_sk);
	randombytes_buf(th1, sizeof(th1));
	randombytes_buf(th2, sizeof(th2));
	CU_ASSERT_EQUAL_FATAL(
	    sshkey_format_public(pk, "a", line, sizeof(line)), 0);
	CU_ASSERT_EQUAL_FATAL(authkeys_add(dir, "alice", line), 0);
	CU_ASSERT_EQUAL(authkeys_add(dir, "alice", line), WH_ERR_EXISTS);

	CU_ASSERT_EQUAL_FATAL(
	    sshkey_login_message(th1, "alice", pk, msg, &len), 0);
	crypto_sign_detached(sig, NULL, msg, len, sk);
	CU_ASSERT_EQUAL(authkeys_verify_login(users, "127.0.0.1", th1, "alice",
	                    pk, sizeof(pk), sig, sizeof(sig), &out, &why),
	    0);
	CU_ASSERT_STRING_EQUAL(out.name, "alice");
	/* The same signature in a session with another transcript. */
	CU_ASSERT_EQUAL(authkeys_verify_login(users, "127.0.0.1", th2, "alice",
	                    pk, sizeof(pk), sig, sizeof(sig), &out, &why),
	    WH_ERR_AUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "signature"));
	/* A key that is not alice's, even with a good signature. */
	CU_ASSERT_EQUAL_FATAL(
	    sshkey_login_message(th1, "alice", other_pk, msg, &len), 0);
	crypto_sign_detached(sig, NULL, msg, len, other_sk);
	CU_ASSERT_EQUAL(
	    authkeys_verify_login(users, "127.0.0.1", th1, "alice", other_pk,
	        sizeof(other_pk), sig, sizeof(sig), &out, &why),
	    WH_ERR_AUTH);
	CU_ASSERT_STRING_EQUAL(why, "key not authorized");
	/* A user who does not exist. */
	CU_ASSERT_EQUAL(authkeys_verify_login(users, "127.0.0.1", th1, "bob",
	                    pk, sizeof(pk), sig, sizeof(sig), &out, &why),
	    WH_ERR_AUTH);
	/* Bad lengths. */
	CU_ASSERT_EQUAL(authkeys_verify_login(users, "127.0.0.1", th1, "alice",
	                    pk, 31, sig, sizeof(sig), &out, &why),
	    WH_ERR_AUTH);
	/* Removal by fingerprint takes effect at the next check. */
	{
		char fp[SSHKEY_FP_LEN];

		sshkey_fingerprint(pk, fp);
		CU_ASSERT_EQUAL(authkeys_del(dir, "alice", fp), 0);
		CU_ASSERT_EQUAL(
		    authkeys_del(dir, "alice", fp), WH_ERR_NOT_FOUND);
	}
	CU_ASSERT_EQUAL_FATAL(
	    sshkey_login_message(th1, "alice", pk, msg, &len), 0);
	crypto_sign_detached(sig, NULL, msg, len, sk);
	CU_ASSERT_EQUAL(authkeys_verify_login(users, "127.0.0.1", th1, "alice",
	                    pk, sizeof(pk), sig, sizeof(sig), &out, &why),
	    WH_ERR_AUTH);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(other_sk, sizeof(other_sk));
	tu_rmtree(dir);
}

void
register_sshkey_tests(void)
{
	CU_pSuite s = CU_add_suite("sshkey", NULL, NULL);

	CU_add_test(
	    s, "OpenSSH key files and fingerprints", test_openssh_files);
	CU_add_test(
	    s, "authorized_keys lines and options", test_authorized_lines);
	CU_add_test(s, "key login: keys, users, transcripts", test_key_login);
}
