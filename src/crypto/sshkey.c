/* SPDX-License-Identifier: MIT */
/*
 * OpenSSH key formats for Ed25519 (PROTOCOL.key and sshd(8)'s
 * AUTHORIZED_KEYS FILE FORMAT). Only what a user key needs: no other key
 * types, no encrypted private keys (ssh-agent holds those).
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "wharf/file.h"
#include "wharf/sshkey.h"

#define PRIV_MAGIC "openssh-key-v1"
#define PRIV_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define PRIV_END "-----END OPENSSH PRIVATE KEY-----"
#define PRIV_FILE_MAX 8192
#define B64 sodium_base64_VARIANT_ORIGINAL

void
sshkey_blob(const uint8_t pk[SSHKEY_PK_LEN], uint8_t out[SSHKEY_BLOB_LEN])
{
	struct buf *b = buf_new(SSHKEY_BLOB_LEN);

	/* Fixed sizes: nothing here can fail but the allocation. */
	if (b == NULL || buf_put_string(b, SSHKEY_TYPE, strlen(SSHKEY_TYPE)) ||
	    buf_put_string(b, pk, SSHKEY_PK_LEN))
		memset(out, 0, SSHKEY_BLOB_LEN);
	else
		memcpy(out, buf_ptr(b), SSHKEY_BLOB_LEN);
	buf_free(b);
}

int
sshkey_from_blob(const uint8_t *blob, size_t len, uint8_t pk[SSHKEY_PK_LEN])
{
	struct buf *b;
	const uint8_t *type, *key;
	size_t tn, kn;
	int r = WH_ERR_FORMAT;

	if ((b = buf_view_new(blob, len)) == NULL)
		return WH_ERR_NOMEM;
	if (buf_get_string(b, &type, &tn) != 0 ||
	    buf_get_string(b, &key, &kn) != 0 || buf_get_end(b) != 0)
		goto out;
	if (tn != strlen(SSHKEY_TYPE) || memcmp(type, SSHKEY_TYPE, tn) != 0) {
		r = WH_ERR_UNSUPPORTED;
		goto out;
	}
	if (kn != SSHKEY_PK_LEN)
		goto out;
	memcpy(pk, key, SSHKEY_PK_LEN);
	r = 0;
out:
	buf_free(b);
	return r;
}

void
sshkey_fingerprint(const uint8_t pk[SSHKEY_PK_LEN], char out[SSHKEY_FP_LEN])
{
	uint8_t blob[SSHKEY_BLOB_LEN], h[crypto_hash_sha256_BYTES];

	sshkey_blob(pk, blob);
	crypto_hash_sha256(h, blob, sizeof(blob));
	memcpy(out, "SHA256:", 7);
	sodium_bin2base64(out + 7, SSHKEY_FP_LEN - 7, h, sizeof(h),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

/* Options before the key type: from="..." and read-only. *pp moves past
 * them and the space that ends them. */
static int
parse_options(const char **pp, struct sshkey_authorized *out)
{
	const char *p = *pp;
	size_t n;

	while (*p != '\0' && *p != ' ' && *p != '\t') {
		if (strncmp(p, "from=\"", 6) == 0) {
			const char *end = strchr(p + 6, '"');

			if (end == NULL ||
			    (n = (size_t)(end - p - 6)) >= sizeof(out->from) ||
			    n == 0)
				return WH_ERR_FORMAT;
			memcpy(out->from, p + 6, n);
			out->from[n] = '\0';
			p = end + 1;
		} else if (strncmp(p, "read-only", 9) == 0 &&
		    (p[9] == ',' || p[9] == ' ' || p[9] == '\t')) {
			out->read_only = 1;
			p += 9;
		} else
			return WH_ERR_UNSUPPORTED;
		if (*p == ',')
			p++;
		else if (*p != ' ' && *p != '\t')
			return WH_ERR_FORMAT;
	}
	*pp = p;
	return 0;
}

int
sshkey_parse_authorized(const char *line, struct sshkey_authorized *out)
{
	char b64[SSHKEY_LINE_MAX];
	uint8_t blob[SSHKEY_LINE_MAX];
	const char *p = line, *end;
	size_t n, bn;
	int r;

	memset(out, 0, sizeof(*out));
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '\n' || *p == '#')
		return WH_ERR_NOT_FOUND;
	if (strncmp(p, SSHKEY_TYPE " ", strlen(SSHKEY_TYPE) + 1) != 0) {
		/* Not the type first: options, or another key type. */
		if (strncmp(p, "ssh-", 4) == 0 ||
		    strncmp(p, "ecdsa-", 6) == 0 || strncmp(p, "sk-", 3) == 0)
			return WH_ERR_UNSUPPORTED;
		if ((r = parse_options(&p, out)) != 0)
			return r;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, SSHKEY_TYPE " ", strlen(SSHKEY_TYPE) + 1) != 0)
			return strncmp(p, "ssh-", 4) == 0 ? WH_ERR_UNSUPPORTED :
			                                    WH_ERR_FORMAT;
	}
	p += strlen(SSHKEY_TYPE) + 1;
	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strcspn(p, " \t\r\n");
	if ((n = (size_t)(end - p)) == 0 || n >= sizeof(b64))
		return WH_ERR_FORMAT;
	memcpy(b64, p, n);
	b64[n] = '\0';
	if (sodium_base642bin(
	        blob, sizeof(blob), b64, n, NULL, &bn, NULL, B64) != 0 ||
	    (r = sshkey_from_blob(blob, bn, out->pk)) != 0)
		return r == WH_ERR_UNSUPPORTED ? r : WH_ERR_FORMAT;
	while (*end == ' ' || *end == '\t')
		end++;
	snprintf(out->comment, sizeof(out->comment), "%.*s",
	    (int)strcspn(end, "\r\n"), end);
	return 0;
}

int
sshkey_format_public(const uint8_t pk[SSHKEY_PK_LEN], const char *comment,
    char *out, size_t outlen)
{
	uint8_t blob[SSHKEY_BLOB_LEN];
	char b64[sodium_base64_ENCODED_LEN(SSHKEY_BLOB_LEN, B64)];
	int n;

	sshkey_blob(pk, blob);
	sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob), B64);
	n = snprintf(out, outlen, "%s %s%s%s", SSHKEY_TYPE, b64,
	    comment != NULL && comment[0] ? " " : "",
	    comment != NULL ? comment : "");
	return n > 0 && (size_t)n < outlen ? 0 : WH_ERR_TOO_LARGE;
}

int
sshkey_from_matches(const char *from, const char *addr)
{
	char pat[SSHKEY_FROM_MAX];
	const char *p = from;
	int yes = 0;
	size_t n;

	if (from[0] == '\0')
		return 1;
	while (*p != '\0') {
		n = strcspn(p, ",");
		if (n > 0 && n < sizeof(pat)) {
			memcpy(pat, p, n);
			pat[n] = '\0';
			if (pat[0] == '!') {
				if (fnmatch(pat + 1, addr, 0) == 0)
					return 0;
			} else if (fnmatch(pat, addr, 0) == 0)
				yes = 1;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return yes;
}

/* The binary body of an unencrypted key file, from its armour. */
static int
dearmour(const struct buf *file, uint8_t *out, size_t outlen, size_t *len)
{
	char text[PRIV_FILE_MAX];
	char *begin, *end;
	size_t n = buf_len(file);
	int r = WH_ERR_FORMAT;

	if (n >= sizeof(text))
		return WH_ERR_FORMAT;
	memcpy(text, buf_ptr(file), n);
	text[n] = '\0';
	if ((begin = strstr(text, PRIV_BEGIN)) != NULL &&
	    (end = strstr(begin, PRIV_END)) != NULL) {
		begin += strlen(PRIV_BEGIN);
		*end = '\0';
		if (sodium_base642bin(out, outlen, begin, strlen(begin),
		        " \t\r\n", len, NULL, B64) == 0)
			r = 0;
	}
	sodium_memzero(text, sizeof(text));
	return r;
}

int
sshkey_load_private(
    const char *path, uint8_t sk[SSHKEY_SK_LEN], uint8_t pk[SSHKEY_PK_LEN])
{
	uint8_t bin[PRIV_FILE_MAX];
	const uint8_t *p, *cipher, *kdf, *s;
	size_t len = 0, cn, kn, n, sn;
	uint32_t nkeys, c1, c2;
	struct buf *file = NULL, *b = NULL, *priv = NULL;
	struct stat st;
	int r = WH_ERR_FORMAT;

	if (stat(path, &st) != 0)
		return errno == ENOENT ? WH_ERR_NOT_FOUND : WH_ERR_SYSTEM;
	if ((st.st_mode & 077) != 0)
		return WH_ERR_PERMISSION;
	if ((r = file_read_all(path, PRIV_FILE_MAX, &file)) != 0)
		return r == WH_ERR_TOO_LARGE ? WH_ERR_FORMAT : r;
	r = dearmour(file, bin, sizeof(bin), &len);
	sodium_memzero(buf_mutable_ptr(file), buf_len(file));
	buf_free(file);
	if (r != 0)
		goto out;
	r = WH_ERR_FORMAT;
	if ((b = buf_view_new(bin, len)) == NULL) {
		r = WH_ERR_NOMEM;
		goto out;
	}
	if (buf_get_ptr(b, sizeof(PRIV_MAGIC), &p) != 0 ||
	    memcmp(p, PRIV_MAGIC, sizeof(PRIV_MAGIC)) != 0 ||
	    buf_get_string(b, &cipher, &cn) != 0 ||
	    buf_get_string(b, &kdf, &kn) != 0 ||
	    buf_get_string(b, &p, &n) != 0 || buf_get_u32(b, &nkeys) != 0)
		goto out;
	if (cn != 4 || memcmp(cipher, "none", 4) != 0) {
		r = WH_ERR_UNSUPPORTED; /* encrypted: the agent's job */
		goto out;
	}
	if (nkeys != 1 || buf_get_string(b, &p, &n) != 0 ||
	    buf_get_string(b, &s, &sn) != 0 || buf_get_end(b) != 0)
		goto out;
	if ((priv = buf_view_new(s, sn)) == NULL) {
		r = WH_ERR_NOMEM;
		goto out;
	}
	if (buf_get_u32(priv, &c1) != 0 || buf_get_u32(priv, &c2) != 0 ||
	    c1 != c2 || buf_get_string(priv, &p, &n) != 0)
		goto out;
	if (n != strlen(SSHKEY_TYPE) || memcmp(p, SSHKEY_TYPE, n) != 0) {
		r = WH_ERR_UNSUPPORTED;
		goto out;
	}
	if (buf_get_string(priv, &p, &n) != 0 || n != SSHKEY_PK_LEN)
		goto out;
	memcpy(pk, p, SSHKEY_PK_LEN);
	if (buf_get_string(priv, &p, &n) != 0 || n != SSHKEY_SK_LEN ||
	    memcmp(p + 32, pk, SSHKEY_PK_LEN) != 0)
		goto out;
	memcpy(sk, p, SSHKEY_SK_LEN);
	r = 0;
out:
	buf_free(priv);
	buf_free(b);
	sodium_memzero(bin, sizeof(bin));
	return r;
}

/* The armoured file text of a new key into out. */
static int
format_private(const uint8_t sk[SSHKEY_SK_LEN], const uint8_t pk[SSHKEY_PK_LEN],
    const char *comment, struct buf *out)
{
	uint8_t blob[SSHKEY_BLOB_LEN], check[4];
	struct buf *priv = buf_new(1024), *body = buf_new(2048);
	char b64[4096];
	size_t i, n;
	int r = WH_ERR_NOMEM;

	if (priv == NULL || body == NULL)
		goto out;
	sshkey_blob(pk, blob);
	randombytes_buf(check, sizeof(check));
	if ((r = buf_put(priv, check, 4)) != 0 ||
	    (r = buf_put(priv, check, 4)) != 0 ||
	    (r = buf_put_string(priv, SSHKEY_TYPE, strlen(SSHKEY_TYPE))) != 0 ||
	    (r = buf_put_string(priv, pk, SSHKEY_PK_LEN)) != 0 ||
	    (r = buf_put_string(priv, sk, SSHKEY_SK_LEN)) != 0 ||
	    (r = buf_put_string(priv, comment, strlen(comment))) != 0)
		goto out;
	/* Padded to the "none" cipher's block of 8 with 1, 2, 3, ... */
	for (i = 1; buf_len(priv) % 8 != 0; i++)
		if ((r = buf_put_u8(priv, (uint8_t)i)) != 0)
			goto out;
	if ((r = buf_put(body, PRIV_MAGIC, sizeof(PRIV_MAGIC))) != 0 ||
	    (r = buf_put_string(body, "none", 4)) != 0 ||
	    (r = buf_put_string(body, "none", 4)) != 0 ||
	    (r = buf_put_string(body, "", 0)) != 0 ||
	    (r = buf_put_u32(body, 1)) != 0 ||
	    (r = buf_put_string(body, blob, sizeof(blob))) != 0 ||
	    (r = buf_put_string(body, buf_ptr(priv), buf_len(priv))) != 0)
		goto out;
	r = WH_ERR_TOO_LARGE;
	if (sodium_base64_ENCODED_LEN(buf_len(body), B64) > sizeof(b64))
		goto out;
	sodium_bin2base64(b64, sizeof(b64), buf_ptr(body), buf_len(body), B64);
	if ((r = buf_put(out, PRIV_BEGIN "\n", strlen(PRIV_BEGIN) + 1)) != 0)
		goto out;
	/* 70 columns, as ssh-keygen writes them. */
	for (i = 0, n = strlen(b64); i < n && r == 0; i += 70)
		if ((r = buf_put(out, b64 + i, n - i < 70 ? n - i : 70)) == 0)
			r = buf_put(out, "\n", 1);
	if (r == 0)
		r = buf_put(out, PRIV_END "\n", strlen(PRIV_END) + 1);
	sodium_memzero(b64, sizeof(b64));
out:
	if (priv != NULL)
		sodium_memzero(buf_mutable_ptr(priv), buf_len(priv));
	if (body != NULL)
		sodium_memzero(buf_mutable_ptr(body), buf_len(body));
	buf_free(priv);
	buf_free(body);
	return r;
}

int
sshkey_generate(const char *path, const char *comment)
{
	uint8_t pk[SSHKEY_PK_LEN], sk[SSHKEY_SK_LEN];
	char pubpath[4096], line[SSHKEY_LINE_MAX];
	struct buf *text = buf_new(PRIV_FILE_MAX);
	size_t n;
	int fd = -1, r;

	if (text == NULL)
		return WH_ERR_NOMEM;
	if (snprintf(pubpath, sizeof(pubpath), "%s.pub", path) >=
	    (int)sizeof(pubpath)) {
		r = WH_ERR_TOO_LARGE;
		goto out;
	}
	crypto_sign_keypair(pk, sk);
	if ((r = format_private(sk, pk, comment, text)) != 0 ||
	    (r = sshkey_format_public(pk, comment, line, sizeof(line) - 1)) !=
	        0)
		goto out;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) <
	    0) {
		r = errno == EEXIST ? WH_ERR_EXISTS : wh_err_from_errno(errno);
		goto out;
	}
	if (write(fd, buf_ptr(text), buf_len(text)) != (ssize_t)buf_len(text) ||
	    fsync(fd) != 0) {
		r = WH_ERR_SYSTEM;
		close(fd);
		unlink(path);
		goto out;
	}
	close(fd);
	n = strlen(line);
	line[n++] = '\n';
	r = file_write_atomic(pubpath, line, n, 0644);
out:
	sodium_memzero(sk, sizeof(sk));
	if (text != NULL)
		sodium_memzero(buf_mutable_ptr(text), buf_len(text));
	buf_free(text);
	return r;
}

int
sshkey_login_message(const uint8_t th[32], const char *user,
    const uint8_t pk[SSHKEY_PK_LEN], uint8_t out[SSHKEY_LOGIN_MSG_MAX],
    size_t *len)
{
	struct buf *b = buf_new(SSHKEY_LOGIN_MSG_MAX);
	int r;

	if (b == NULL)
		return WH_ERR_NOMEM;
	if ((r = buf_put_string(
	         b, SSHKEY_LOGIN_LABEL, strlen(SSHKEY_LOGIN_LABEL))) == 0 &&
	    (r = buf_put_string(b, th, 32)) == 0 &&
	    (r = buf_put_string(b, user, strlen(user))) == 0 &&
	    (r = buf_put_string(b, pk, SSHKEY_PK_LEN)) == 0) {
		*len = buf_len(b);
		memcpy(out, buf_ptr(b), *len);
	}
	buf_free(b);
	return r;
}
