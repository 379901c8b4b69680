/* SPDX-License-Identifier: MIT */
/*
 * Single-core throughput of the primitives on wharf's data path, on 1 MiB
 * chunks as wharf uses them: copies, digests, sealing, zstd. It tells what
 * one core can do at best, so the transfer numbers of bench/run.sh can be
 * read against it. OpenSSL's ciphers and SHA-256 are measured too when its
 * headers are present, as candidates (wharf does not use them). Given a
 * folder, it also times wharf's durable commit of one small file there
 * (write, fsync, rename, fsync of the folder), which bounds how many small
 * files a second a server on that disk can commit one by one.
 *
 *   cc -O2 bench/primitives.c -lsodium -lzstd [-DWITH_OPENSSL -lcrypto]
 *      [-DWITH_XXHASH -lxxhash]
 *   ./primitives [CORPUS_FILE [DIR]]
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <zstd.h>
#ifdef WITH_OPENSSL
#include <openssl/evp.h>
#endif
#ifdef WITH_XXHASH
#include <xxhash.h>
#endif

#define CHUNK (1024u * 1024u)
#define TOTAL (64u * CHUNK)
#define ROUNDS 3

static uint8_t *src, *dst;
static uint8_t key[32], nonce[24], mac[32];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef size_t (*chunk_fn)(const uint8_t *in, uint8_t *out, size_t len);

/* Best of ROUNDS passes over TOTAL bytes in CHUNK pieces; MB/s of input. */
static void
run(const char *name, chunk_fn fn, const uint8_t *in, size_t total)
{
	double best = 0, t0, dt;
	size_t off, wire = 0;
	int r;

	for (r = 0; r < ROUNDS; r++) {
		wire = 0;
		t0 = now();
		for (off = 0; off + CHUNK <= total; off += CHUNK)
			wire += fn(in + off, dst + off, CHUNK);
		dt = now() - t0;
		if (best == 0 || dt < best)
			best = dt;
	}
	if (wire != total)
		printf("%-34s %8.0f MB/s  (ratio %.2f)\n", name,
		    (double)total / best / 1e6, (double)total / (double)wire);
	else
		printf("%-34s %8.0f MB/s\n", name, (double)total / best / 1e6);
	fflush(stdout);
}

static size_t
f_memcpy(const uint8_t *in, uint8_t *out, size_t len)
{
	memcpy(out, in, len);
	return len;
}

static size_t
f_blake2b(const uint8_t *in, uint8_t *out, size_t len)
{
	crypto_generichash(out, 32, in, len, NULL, 0);
	return len;
}

static size_t
f_sha256(const uint8_t *in, uint8_t *out, size_t len)
{
	crypto_hash_sha256(out, in, len);
	return len;
}

static size_t
f_secretbox(const uint8_t *in, uint8_t *out, size_t len)
{
	crypto_secretbox_detached(out, mac, in, len, nonce, key);
	return len;
}

static uint8_t *sealed, (*macs)[16];

static size_t
f_secretbox_open(const uint8_t *in, uint8_t *out, size_t len)
{
	size_t i = (size_t)(in - sealed) / CHUNK;

	if (crypto_secretbox_open_detached(out, in, macs[i], len, nonce, key) !=
	    0)
		abort(); /* sealed above with this key: cannot fail */
	return len;
}

static size_t
f_xsalsa20(const uint8_t *in, uint8_t *out, size_t len)
{
	crypto_stream_xsalsa20_xor(out, in, len, nonce, key);
	return len;
}

static size_t
f_poly1305(const uint8_t *in, uint8_t *out, size_t len)
{
	(void)out;
	crypto_onetimeauth_poly1305(mac, in, len, key);
	return len;
}

static size_t
f_chacha_ietf(const uint8_t *in, uint8_t *out, size_t len)
{
	unsigned long long maclen;

	crypto_aead_chacha20poly1305_ietf_encrypt_detached(
	    out, mac, &maclen, in, len, NULL, 0, NULL, nonce, key);
	return len;
}

static size_t
f_aes256gcm(const uint8_t *in, uint8_t *out, size_t len)
{
	unsigned long long maclen;

	crypto_aead_aes256gcm_encrypt_detached(
	    out, mac, &maclen, in, len, NULL, 0, NULL, nonce, key);
	return len;
}

static int zlevel;
static ZSTD_CCtx *cctx;
static ZSTD_DCtx *dctx;
static uint8_t *zbuf;
static size_t zcap;
static size_t *zlen;
static uint8_t *zstore;

static size_t
f_unzstd(const uint8_t *in, uint8_t *out, size_t len)
{
	size_t i = (size_t)(in - zstore) / CHUNK;
	size_t n = ZSTD_decompressDCtx(dctx, out, len, in, zlen[i]);

	if (ZSTD_isError(n) || n != len)
		abort();
	return len;
}

static size_t
f_zstd(const uint8_t *in, uint8_t *out, size_t len)
{
	size_t z;

	(void)out;
	z = ZSTD_compressCCtx(cctx, zbuf, zcap, in, len, zlevel);
	return ZSTD_isError(z) ? len : z;
}

#ifdef WITH_OPENSSL
static size_t
ossl_aead(const EVP_CIPHER *c, const uint8_t *in, uint8_t *out, size_t len)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, f = 0;

	EVP_EncryptInit_ex(ctx, c, NULL, key, nonce);
	EVP_EncryptUpdate(ctx, out, &n, in, (int)len);
	EVP_EncryptFinal_ex(ctx, out + n, &f);
	EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, mac);
	EVP_CIPHER_CTX_free(ctx);
	return len;
}

static size_t
f_ossl_aes128gcm(const uint8_t *in, uint8_t *out, size_t len)
{
	return ossl_aead(EVP_aes_128_gcm(), in, out, len);
}

static size_t
f_ossl_aes256gcm(const uint8_t *in, uint8_t *out, size_t len)
{
	return ossl_aead(EVP_aes_256_gcm(), in, out, len);
}

/* As wharf seals: one context keyed once, a new IV per frame, in place. */
static EVP_CIPHER_CTX *gcm_ctx;

static size_t
f_ossl_aes256gcm_inplace(const uint8_t *in, uint8_t *out, size_t len)
{
	int n = 0, f = 0;

	(void)out;
	EVP_EncryptInit_ex(gcm_ctx, NULL, NULL, NULL, nonce);
	EVP_EncryptUpdate(gcm_ctx, (uint8_t *)in, &n, in, (int)len);
	EVP_EncryptFinal_ex(gcm_ctx, (uint8_t *)in + n, &f);
	EVP_CIPHER_CTX_ctrl(gcm_ctx, EVP_CTRL_AEAD_GET_TAG, 16, mac);
	return len;
}

static size_t
f_ossl_chacha(const uint8_t *in, uint8_t *out, size_t len)
{
	return ossl_aead(EVP_chacha20_poly1305(), in, out, len);
}

static size_t
ossl_digest(const EVP_MD *md, const uint8_t *in, uint8_t *out, size_t len)
{
	unsigned int n;

	EVP_Digest(in, len, out, &n, md, NULL);
	return len;
}

static size_t
f_ossl_sha256(const uint8_t *in, uint8_t *out, size_t len)
{
	return ossl_digest(EVP_sha256(), in, out, len);
}

static size_t
f_ossl_blake2b(const uint8_t *in, uint8_t *out, size_t len)
{
	return ossl_digest(EVP_blake2b512(), in, out, len);
}
#endif

#ifdef WITH_XXHASH
static size_t
f_xxh128(const uint8_t *in, uint8_t *out, size_t len)
{
	XXH128_hash_t h = XXH3_128bits(in, len);

	memcpy(out, &h, sizeof(h));
	return len;
}
#endif

/* AES-256-GCM through libsodium's precomputed state, in place. */
static crypto_aead_aes256gcm_state gcm_state;

static size_t
f_aes256gcm_afternm(const uint8_t *in, uint8_t *out, size_t len)
{
	unsigned long long maclen;

	(void)out;
	crypto_aead_aes256gcm_encrypt_detached_afternm((uint8_t *)in, mac,
	    &maclen, in, len, NULL, 0, NULL, nonce, &gcm_state);
	return len;
}

#define COMMITS 200
#define COMMIT_LEN (8u * 1024u)

/* Mean ms for COMMITS durable small-file commits in dir, as wharf's
 * server does them; -1 on error. */
static double
commit_ms(const char *dir)
{
	char tmp[4096], fin[4096];
	double t0, dt;
	int dfd, fd, i, ok = 1;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		return -1;
	t0 = now();
	for (i = 0; i < COMMITS && ok; i++) {
		snprintf(tmp, sizeof(tmp), ".c%d.part", i);
		snprintf(fin, sizeof(fin), "c%d", i);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		ok = fd >= 0 && write(fd, src, COMMIT_LEN) == COMMIT_LEN &&
		    fsync(fd) == 0 && renameat(dfd, tmp, dfd, fin) == 0 &&
		    fsync(dfd) == 0;
		if (fd >= 0)
			close(fd);
	}
	dt = now() - t0;
	for (i = 0; i < COMMITS; i++) {
		snprintf(fin, sizeof(fin), "c%d", i);
		unlinkat(dfd, fin, 0);
		snprintf(tmp, sizeof(tmp), ".c%d.part", i);
		unlinkat(dfd, tmp, 0);
	}
	close(dfd);
	return ok ? dt * 1000 / COMMITS : -1;
}

/* Fills buf with FILE's bytes, repeated as needed; 0 if unreadable. */
static int
load(const char *path, uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "rb");
	size_t have = 0, n;

	if (f == NULL)
		return 0;
	while (have < len) {
		n = fread(buf + have, 1, len - have, f);
		if (n == 0) {
			if (have == 0)
				break;
			rewind(f);
			continue;
		}
		have += n;
	}
	fclose(f);
	return have == len;
}

int
main(int argc, char **argv)
{
	uint8_t *text;
	size_t off, z;

	if (sodium_init() < 0)
		return 1;
	src = malloc(TOTAL);
	dst = malloc(TOTAL);
	text = malloc(TOTAL);
	sealed = malloc(TOTAL);
	zstore = malloc(TOTAL / CHUNK * ZSTD_compressBound(CHUNK));
	macs = malloc(TOTAL / CHUNK * sizeof(*macs));
	zcap = ZSTD_compressBound(CHUNK);
	zbuf = malloc(zcap);
	zlen = calloc(TOTAL / CHUNK, sizeof(*zlen));
	cctx = ZSTD_createCCtx();
	dctx = ZSTD_createDCtx();
	if (src == NULL || dst == NULL || text == NULL || zbuf == NULL ||
	    sealed == NULL || zstore == NULL || macs == NULL || zlen == NULL ||
	    cctx == NULL || dctx == NULL)
		return 1;
	randombytes_buf(src, TOTAL);
	randombytes_buf(key, sizeof(key));
	memset(dst, 0, TOTAL);
	memset(text, 0, TOTAL);

	printf("one core, 1 MiB chunks, best of %d passes over %u MiB\n",
	    ROUNDS, TOTAL / CHUNK);
	run("memcpy", f_memcpy, src, TOTAL);
	run("BLAKE2b-256 (libsodium)", f_blake2b, src, TOTAL);
	run("SHA-256 (libsodium)", f_sha256, src, TOTAL);
	run("secretbox seal (libsodium)", f_secretbox, src, TOTAL);
	for (off = 0; off < TOTAL; off += CHUNK)
		crypto_secretbox_detached(sealed + off, macs[off / CHUNK],
		    src + off, CHUNK, nonce, key);
	run("secretbox open (libsodium)", f_secretbox_open, sealed, TOTAL);
	run("  of which XSalsa20", f_xsalsa20, src, TOTAL);
	run("  of which Poly1305", f_poly1305, src, TOTAL);
	run("ChaCha20-Poly1305-IETF (libsodium)", f_chacha_ietf, src, TOTAL);
	if (crypto_aead_aes256gcm_is_available()) {
		run("AES-256-GCM (libsodium)", f_aes256gcm, src, TOTAL);
		crypto_aead_aes256gcm_beforenm(&gcm_state, key);
		memcpy(sealed, src, TOTAL);
		run("AES-256-GCM in place (libsodium)", f_aes256gcm_afternm,
		    sealed, TOTAL);
	}
#ifdef WITH_OPENSSL
	run("AES-128-GCM (OpenSSL)", f_ossl_aes128gcm, src, TOTAL);
	run("AES-256-GCM (OpenSSL)", f_ossl_aes256gcm, src, TOTAL);
	gcm_ctx = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(gcm_ctx, EVP_aes_256_gcm(), NULL, key, nonce);
	memcpy(sealed, src, TOTAL);
	run("AES-256-GCM in place (OpenSSL)", f_ossl_aes256gcm_inplace, sealed,
	    TOTAL);
	EVP_CIPHER_CTX_free(gcm_ctx);
	run("ChaCha20-Poly1305 (OpenSSL)", f_ossl_chacha, src, TOTAL);
	run("SHA-256 (OpenSSL)", f_ossl_sha256, src, TOTAL);
	run("BLAKE2b-512 (OpenSSL)", f_ossl_blake2b, src, TOTAL);
#endif
#ifdef WITH_XXHASH
	run("XXH3-128 (libxxhash)", f_xxh128, src, TOTAL);
#endif
	if (argc > 1 && load(argv[1], text, TOTAL)) {
		zlevel = 1;
		run("zstd -1 on the corpus", f_zstd, text, TOTAL);
		zlevel = 3;
		run("zstd -3 on the corpus", f_zstd, text, TOTAL);
		/* Chunks stored CHUNK apart so the index is the offset. */
		for (off = 0; off < TOTAL; off += CHUNK) {
			z = ZSTD_compressCCtx(cctx, zstore + off,
			    ZSTD_compressBound(CHUNK), text + off, CHUNK, 3);
			if (ZSTD_isError(z) || z > CHUNK)
				abort();
			zlen[off / CHUNK] = z;
		}
		run("zstd decompress (level 3 frames)", f_unzstd, zstore,
		    TOTAL);
	}
	zlevel = 1;
	run("zstd -1 on random bytes", f_zstd, src, TOTAL);
	if (argc > 2) {
		double ms = commit_ms(argv[2]);

		if (ms >= 0)
			printf("%-34s %8.2f ms per file\n",
			    "commit 8 KiB (fsync file + dir)", ms);
	}
	return 0;
}
