/* SPDX-License-Identifier: MIT */
/*
 * Key files. Both secret formats are one text line, "<tag> <base64>", so a
 * wrong file (a PSK passed as a host key, say) is recognised and named.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wharf/file.h"
#include "wharf/keys.h"

#define HOSTKEY_TAG "wharf-ed25519-seed-v1"
#define PSK_TAG "wharf-psk-v1"
#define KEYFILE_MAX 4096
#define KNOWN_HOSTS_MAX (4u * 1024u * 1024u)
#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL

/* Parses "<tag> <base64 of exactly outlen bytes>\n". */
static int
parse_secret_line(
    const struct buf *b, const char *tag, uint8_t *out, size_t outlen)
{
	char line[KEYFILE_MAX];
	size_t taglen = strlen(tag), binlen = 0;
	const char *end = NULL;
	size_t n = buf_len(b);

	if (n >= sizeof(line))
		return WH_ERR_CORRUPT;
	memcpy(line, buf_ptr(b), n);
	line[n] = '\0';
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (strncmp(line, tag, taglen) != 0 || line[taglen] != ' ')
		return WH_ERR_CORRUPT;
	if (sodium_base642bin(out, outlen, line + taglen + 1,
	        strlen(line + taglen + 1), NULL, &binlen, &end,
	        B64_VARIANT) != 0 ||
	    binlen != outlen || *end != '\0') {
		sodium_memzero(line, sizeof(line));
		return WH_ERR_CORRUPT;
	}
	sodium_memzero(line, sizeof(line));
	return 0;
}

static int
format_secret_line(const char *tag, const uint8_t *key, size_t keylen,
    char *out, size_t outlen)
{
	char b64[128];
	int n;

	if (sodium_base64_ENCODED_LEN(keylen, B64_VARIANT) > sizeof(b64))
		return WH_ERR_TOO_LARGE;
	sodium_bin2base64(b64, sizeof(b64), key, keylen, B64_VARIANT);
	n = snprintf(out, outlen, "%s %s\n", tag, b64);
	sodium_memzero(b64, sizeof(b64));
	return n > 0 && (size_t)n < outlen ? n : WH_ERR_TOO_LARGE;
}

static int
read_secret_file(const char *path, const char *tag, uint8_t *out, size_t outlen)
{
	struct buf *b = NULL;
	struct stat st;
	int r;

	if (stat(path, &st) != 0)
		return errno == ENOENT ? WH_ERR_NOT_FOUND : WH_ERR_SYSTEM;
	if ((st.st_mode & 077) != 0)
		return WH_ERR_PERMISSION;
	if ((r = file_read_all(path, KEYFILE_MAX, &b)) != 0)
		return r == WH_ERR_TOO_LARGE ? WH_ERR_CORRUPT : r;
	r = parse_secret_line(b, tag, out, outlen);
	sodium_memzero(buf_mutable_ptr(b), buf_len(b));
	buf_free(b);
	return r;
}

/* Creates path with O_EXCL so an existing secret is never overwritten. */
static int
write_secret_file(
    const char *path, const char *tag, const uint8_t *key, size_t keylen)
{
	char line[256];
	int fd, n, r = 0;

	if ((n = format_secret_line(tag, key, keylen, line, sizeof(line))) < 0)
		return n;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		sodium_memzero(line, sizeof(line));
		return errno == EEXIST ? WH_ERR_EXISTS : WH_ERR_SYSTEM;
	}
	if (write(fd, line, (size_t)n) != n || fsync(fd) != 0)
		r = WH_ERR_SYSTEM;
	sodium_memzero(line, sizeof(line));
	if (close(fd) != 0 && r == 0)
		r = WH_ERR_SYSTEM;
	if (r != 0)
		unlink(path);
	return r;
}

int
keys_host_load_or_create(const char *path, struct host_key *out)
{
	uint8_t seed[crypto_sign_SEEDBYTES];
	int r;

	r = read_secret_file(path, HOSTKEY_TAG, seed, sizeof(seed));
	if (r == WH_ERR_NOT_FOUND) {
		randombytes_buf(seed, sizeof(seed));
		r = write_secret_file(path, HOSTKEY_TAG, seed, sizeof(seed));
	}
	if (r == 0 && crypto_sign_seed_keypair(out->pk, out->sk, seed) != 0)
		r = WH_ERR_CORRUPT;
	sodium_memzero(seed, sizeof(seed));
	return r;
}

void
keys_host_wipe(struct host_key *k)
{
	sodium_memzero(k, sizeof(*k));
}

int
keys_psk_generate(const char *path)
{
	uint8_t key[KEYS_PSK_LEN];
	int r;

	randombytes_buf(key, sizeof(key));
	r = write_secret_file(path, PSK_TAG, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	return r;
}

int
keys_psk_load(const char *path, uint8_t out[KEYS_PSK_LEN])
{
	return read_secret_file(path, PSK_TAG, out, KEYS_PSK_LEN);
}

void
keys_fingerprint(
    const uint8_t pk[KEYS_HOST_PK_LEN], char out[KEYS_FINGERPRINT_LEN])
{
	uint8_t h[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];

	crypto_hash_sha256(h, pk, KEYS_HOST_PK_LEN);
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	snprintf(out, KEYS_FINGERPRINT_LEN, "SHA256:%s", b64);
}

/* Splits the next line off text; returns NULL at the end. */
static char *
next_line(char **cursor)
{
	char *s = *cursor, *nl;

	if (s == NULL || *s == '\0')
		return NULL;
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		*cursor = nl + 1;
	} else
		*cursor = NULL;
	return s;
}

/* Next whitespace-separated field of *cursor, or NULL. */
static char *
next_field(char **cursor)
{
	char *s = *cursor, *start;

	if (s == NULL)
		return NULL;
	s += strspn(s, " \t\r");
	if (*s == '\0') {
		*cursor = s;
		return NULL;
	}
	start = s;
	s += strcspn(s, " \t\r");
	if (*s != '\0')
		*s++ = '\0';
	*cursor = s;
	return start;
}

int
keys_known_host_check(const char *path, const char *hostport,
    const uint8_t pk[KEYS_HOST_PK_LEN], int *line)
{
	struct buf *b = NULL;
	char *text = NULL, *cursor, *l, *host, *type, *key;
	uint8_t bin[KEYS_HOST_PK_LEN];
	size_t binlen;
	int r, n = 0;

	*line = 0;
	if ((r = file_read_all(path, KNOWN_HOSTS_MAX, &b)) != 0)
		return r;
	if ((text = calloc(1, buf_len(b) + 1)) == NULL) {
		r = WH_ERR_NOMEM;
		goto out;
	}
	memcpy(text, buf_ptr(b), buf_len(b));
	cursor = text;
	r = WH_ERR_NOT_FOUND;
	while ((l = next_line(&cursor)) != NULL) {
		n++;
		if (*l == '#' || *l == '\0')
			continue;
		host = next_field(&l);
		type = next_field(&l);
		key = next_field(&l);
		if (host == NULL || strcmp(host, hostport) != 0)
			continue;
		*line = n;
		if (type == NULL || key == NULL ||
		    strcmp(type, "ed25519") != 0 ||
		    sodium_base642bin(bin, sizeof(bin), key, strlen(key), NULL,
		        &binlen, NULL, B64_VARIANT) != 0 ||
		    binlen != sizeof(bin) ||
		    sodium_memcmp(bin, pk, sizeof(bin)) != 0) {
			r = WH_ERR_HOSTKEY;
			goto out;
		}
		r = 0;
		goto out;
	}
out:
	free(text);
	buf_free(b);
	return r;
}

int
keys_known_host_line(const char *hostport, const uint8_t pk[KEYS_HOST_PK_LEN],
    char *out, size_t outlen)
{
	char b64[sodium_base64_ENCODED_LEN(KEYS_HOST_PK_LEN, B64_VARIANT)];
	int n;

	sodium_bin2base64(b64, sizeof(b64), pk, KEYS_HOST_PK_LEN, B64_VARIANT);
	n = snprintf(out, outlen, "%s ed25519 %s", hostport, b64);
	return n > 0 && (size_t)n < outlen ? 0 : WH_ERR_TOO_LARGE;
}

int
keys_known_host_add(
    const char *path, const char *hostport, const uint8_t pk[KEYS_HOST_PK_LEN])
{
	char dir[PATH_MAX], entry[KEYS_KNOWN_HOST_LINE_MAX + 1];
	struct buf *b = NULL;
	int r;
	size_t n;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return WH_ERR_TOO_LARGE;
	if ((r = file_mkdirs(dirname(dir), 0700)) != 0)
		return r;
	r = file_read_all(path, KNOWN_HOSTS_MAX, &b);
	if (r == WH_ERR_NOT_FOUND) {
		if ((b = buf_new(KNOWN_HOSTS_MAX)) == NULL)
			return WH_ERR_NOMEM;
	} else if (r != 0)
		return r;
	if ((r = keys_known_host_line(hostport, pk, entry, sizeof(entry))) != 0)
		goto out;
	n = strlen(entry);
	entry[n++] = '\n';
	/* A file whose last line lacks its newline gets one first. */
	if ((buf_len(b) > 0 && buf_ptr(b)[buf_len(b) - 1] != '\n' &&
	        (r = buf_put(b, "\n", 1)) != 0) ||
	    (r = buf_put(b, entry, n)) != 0)
		goto out;
	r = file_write_atomic(path, buf_ptr(b), buf_len(b), 0600);
out:
	buf_free(b);
	return r;
}
