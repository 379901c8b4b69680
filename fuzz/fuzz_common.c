/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the harnesses and the seed generator (see fuzz.h).
 * The handshake maths here is written from docs/protocol.md §4.2, not
 * taken from src/crypto, so that the harnesses check the code against the
 * specification rather than against itself.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fuzz.h"
#include "wharf/log.h"
#include "wharf/wire.h"

#define FUZZ_SEED_BYTE 0x5a
#define FUZZ_RNG_KEY_BYTE 0x3c
#define FUZZ_NFTW_FDS 16

void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", file, line, what);
	abort();
}

/*
 * Deterministic randombytes: ChaCha20 under a fixed key, the nonce being
 * the stream number and a call counter. Not random at all, which is the
 * point: the fuzzers need reproducible ephemeral keys.
 */
static uint32_t rng_stream;
static uint32_t rng_calls;

static const char *
rng_name(void)
{
	return "wharf-fuzz-deterministic";
}

static void
rng_buf(void *const p, const size_t n)
{
	uint8_t key[crypto_stream_chacha20_KEYBYTES];
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];

	memset(key, FUZZ_RNG_KEY_BYTE, sizeof(key));
	fuzz_put_be32(nonce, rng_stream);
	fuzz_put_be32(nonce + 4, rng_calls++);
	crypto_stream_chacha20(p, n, nonce, key);
}

static uint32_t
rng_random(void)
{
	uint8_t b[4];

	rng_buf(b, sizeof(b));
	return fuzz_be32(b);
}

static randombytes_implementation rng_impl = {
	.implementation_name = rng_name,
	.random = rng_random,
	.stir = NULL,
	.uniform = NULL,
	.buf = rng_buf,
	.close = NULL,
};

void
fuzz_rng_reset(uint32_t stream)
{
	rng_stream = stream;
	rng_calls = 0;
}

void
fuzz_init(void)
{
	const char *verbose = getenv("WHARF_FUZZ_LOG");

	if (randombytes_set_implementation(&rng_impl) != 0 ||
	    sodium_init() < 0) {
		fprintf(stderr, "fuzz: libsodium setup failed\n");
		abort();
	}
	fuzz_rng_reset(0);
	/* Peer strings still pass through log_quote(): the arguments are
	 * evaluated before log_msg() drops the line. */
	log_set_level(verbose != NULL && verbose[0] == '1' ? LOG_LVL_DEBUG :
	                                                     LOG_LVL_ERROR);
}

const uint8_t fuzz_psk[KEYS_PSK_LEN] = { 'w', 'h', 'a', 'r', 'f', '-', 'f', 'u',
	'z', 'z', '-', 'p', 's', 'k' };

void
fuzz_host_key(struct host_key *k)
{
	uint8_t seed[crypto_sign_SEEDBYTES];

	memset(seed, FUZZ_SEED_BYTE, sizeof(seed));
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

void
fuzz_seal_result(struct hs_result *res)
{
	memset(res, 0, sizeof(*res));
	res->version = WIRE_VERSION_MAX;
	res->features = WIRE_FEATURES_ALL;
	memset(res->tx_key, 0x11, sizeof(res->tx_key));
	memset(res->rx_key, 0x22, sizeof(res->rx_key));
}

void
fuzz_hs_client_opts(
    uint8_t flags, const uint8_t **psk, int *plain, uint64_t *features)
{
	*psk = (flags & FUZZ_HS_PSK) ? fuzz_psk : NULL;
	*plain = (flags & FUZZ_HS_PLAIN) != 0;
	*features =
	    (flags & FUZZ_HS_ZSTD_ONLY) ? WIRE_FEAT_ZSTD : WIRE_FEATURES_ALL;
}

int
fuzz_skip_known(void)
{
	static int known = -1;
	const char *v;

	if (known < 0) {
		v = getenv("WHARF_FUZZ_SKIP_KNOWN");
		known = v != NULL && strcmp(v, "1") == 0;
	}
	return known;
}

void
fuzz_data_bin(uint8_t *p, size_t n)
{
	static const char text[] = "wharf ";
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = i < n / 2 ? (uint8_t)text[i % (sizeof(text) - 1)] :
		                   (uint8_t)((i * 2654435761u) >> 13);
}

uint32_t
fuzz_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

void
fuzz_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* absorb(x) = u32(len(x)) || x */
static void
absorb(crypto_generichash_state *st, const void *p, size_t len)
{
	uint8_t be[4];

	fuzz_put_be32(be, (uint32_t)len);
	crypto_generichash_update(st, be, sizeof(be));
	crypto_generichash_update(st, p, len);
}

static void
absorb_str(crypto_generichash_state *st, const char *s)
{
	absorb(st, s, strlen(s));
}

void
fuzz_transcript(uint8_t th[FUZZ_TH_LEN], const uint8_t *cp, const uint8_t *ch,
    size_t ch_len, const uint8_t *sp, const uint8_t *core, size_t core_len)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, FUZZ_TH_LEN);
	absorb_str(&st, "wharf-v1 transcript");
	absorb(&st, cp, WIRE_PREFACE_LEN);
	absorb(&st, ch, ch_len);
	absorb(&st, sp, WIRE_PREFACE_LEN);
	absorb(&st, core, core_len);
	crypto_generichash_final(&st, th, FUZZ_TH_LEN);
}

int
fuzz_signature_ok(
    const uint8_t *sig, const uint8_t th[FUZZ_TH_LEN], const uint8_t *pk)
{
	static const char label[] = "wharf-v1 server signature";
	uint8_t m[sizeof(label) - 1 + FUZZ_TH_LEN];

	memcpy(m, label, sizeof(label) - 1);
	memcpy(m + sizeof(label) - 1, th, FUZZ_TH_LEN);
	return crypto_sign_verify_detached(sig, m, sizeof(m), pk) == 0;
}

int
fuzz_session_keys(uint8_t c2s[HS_SESSION_KEY_LEN],
    uint8_t s2c[HS_SESSION_KEY_LEN], uint8_t confirm[WIRE_CONFIRM_LEN],
    const uint8_t *my_sk, const uint8_t *peer_pk, const uint8_t *psk,
    const uint8_t th[FUZZ_TH_LEN])
{
	uint8_t s[crypto_scalarmult_BYTES], okm[2 * HS_SESSION_KEY_LEN];
	crypto_generichash_state st;

	if (crypto_scalarmult(s, my_sk, peer_pk) != 0)
		return -1;
	crypto_generichash_init(
	    &st, psk, psk != NULL ? KEYS_PSK_LEN : 0, sizeof(okm));
	absorb_str(&st, "wharf-v1 session keys");
	absorb(&st, s, sizeof(s));
	absorb(&st, th, FUZZ_TH_LEN);
	crypto_generichash_final(&st, okm, sizeof(okm));
	memcpy(c2s, okm, HS_SESSION_KEY_LEN);
	memcpy(s2c, okm + HS_SESSION_KEY_LEN, HS_SESSION_KEY_LEN);
	crypto_generichash_init(&st, s2c, HS_SESSION_KEY_LEN, WIRE_CONFIRM_LEN);
	absorb_str(&st, "wharf-v1 key confirmation");
	absorb(&st, th, FUZZ_TH_LEN);
	crypto_generichash_final(&st, confirm, WIRE_CONFIRM_LEN);
	return 0;
}

/* Kept in one place so that the dictionary, the seeds and the path
 * harness agree on the names of the symlinks they aim at. */
const struct fuzz_bytes fuzz_hostile_paths[] = {
	FUZZ_BYTES(""),
	FUZZ_BYTES("/"),
	FUZZ_BYTES("."),
	FUZZ_BYTES(".."),
	FUZZ_BYTES("../"),
	FUZZ_BYTES("/.."),
	FUZZ_BYTES("/../.."),
	FUZZ_BYTES("../etc/passwd"),
	FUZZ_BYTES("/../etc/passwd"),
	FUZZ_BYTES("a/../../b"),
	FUZZ_BYTES("sub/../../sub"),
	FUZZ_BYTES("a/./b//c/"),
	FUZZ_BYTES("./././"),
	FUZZ_BYTES("..."),
	FUZZ_BYTES("...."),
	FUZZ_BYTES(".../..."),
	FUZZ_BYTES("//etc//passwd"),
	FUZZ_BYTES("/etc/passwd"),
	FUZZ_BYTES("sub/inner/../../file"),
	FUZZ_BYTES("file/"),
	FUZZ_BYTES("file/."),
	FUZZ_BYTES("file/.."),
	FUZZ_BYTES("in_link"),
	FUZZ_BYTES("in_link/inner"),
	FUZZ_BYTES("in_link/.."),
	FUZZ_BYTES("etc_link"),
	FUZZ_BYTES("etc_link/passwd"),
	FUZZ_BYTES("up2_link"),
	FUZZ_BYTES("up2_link/etc/passwd"),
	FUZZ_BYTES("out_abs"),
	FUZZ_BYTES("out_abs/new"),
	FUZZ_BYTES("out_rel"),
	FUZZ_BYTES("out_rel/new"),
	FUZZ_BYTES("sub/up_link/x"),
	FUZZ_BYTES("loop_link"),
	FUZZ_BYTES("loop_link/x"),
	FUZZ_BYTES("%2e%2e/%2e%2e/etc"),
	FUZZ_BYTES("%2e%2e%2f%2e%2e"),
	FUZZ_BYTES("..%2f..%2f"),
	FUZZ_BYTES("..\\..\\windows"),
	FUZZ_BYTES("a\\..\\..\\b"),
	FUZZ_BYTES("\\\\server\\share"),
	FUZZ_BYTES("C:\\"),
	FUZZ_BYTES("\xc0\xae\xc0\xae/\xc0\xae\xc0\xae"),
	FUZZ_BYTES("\xe0\x80\xae\xe0\x80\xae"),
	FUZZ_BYTES("\xef\xbc\x8e\xef\xbc\x8e/x"),
	FUZZ_BYTES("\xed\xa0\x80"),
	FUZZ_BYTES("\xf4\x90\x80\x80"),
	FUZZ_BYTES("\xf8\x88\x80\x80\x80"),
	FUZZ_BYTES("\xff\xfe"),
	FUZZ_BYTES("\xc2\x9b[31m"),
	FUZZ_BYTES("caf\xc3\xa9/\xe2\x82\xac"),
	FUZZ_BYTES("a\x01"
	           "b"),
	FUZZ_BYTES("a\x1b[2J"),
	FUZZ_BYTES("a\x7f"
	           "b"),
	FUZZ_BYTES("a\nb"),
	FUZZ_BYTES("a\0b"),
	FUZZ_BYTES("~root"),
	FUZZ_BYTES(".wharf-part"),
	FUZZ_BYTES(".x.wharf-part"),
	FUZZ_BYTES("-rf"),
	FUZZ_BYTES("*"),
	FUZZ_BYTES("sub/*"),
};
const size_t fuzz_hostile_count =
    sizeof(fuzz_hostile_paths) / sizeof(fuzz_hostile_paths[0]);

int
fuzz_tempdir(const char *tag, char *out, size_t outlen)
{
	const char *base = getenv("WHARF_FUZZ_TMPDIR");
	int n;

	if (base == NULL || base[0] == '\0')
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	n = snprintf(out, outlen, "%s/wharf-fuzz-%s-XXXXXX", base, tag);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	return mkdtemp(out) != NULL ? 0 : -1;
}

void
fuzz_join(char *out, size_t outlen, const char *a, const char *b)
{
	int n = snprintf(out, outlen, "%s/%s", a, b);

	FUZZ_CHECK(n >= 0 && (size_t)n < outlen);
}

static const char *rm_top;
static int rm_keep_top;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (rm_keep_top && strcmp(path, rm_top) == 0)
		return 0;
	if (flag == FTW_DP)
		return rmdir(path) == 0 ? 0 : -1;
	return unlink(path) == 0 ? 0 : -1;
}

int
fuzz_rmtree(const char *path, int keep_top)
{
	rm_top = path;
	rm_keep_top = keep_top;
	return nftw(path, rm_one, FUZZ_NFTW_FDS, FTW_DEPTH | FTW_PHYS);
}

int
fuzz_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

int
fuzz_dir_count(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

int
fuzz_fd_count(void)
{
	/* opendir's own fd is counted in both calls alike. */
	return fuzz_dir_count("/proc/self/fd");
}

int
fuzz_fd_beneath(int fd, const char *root_real)
{
	char link[64], target[PATH_MAX];
	size_t rl = strlen(root_real);
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, target, sizeof(target) - 1)) < 0)
		return 0;
	target[n] = '\0';
	return strncmp(target, root_real, rl) == 0 &&
	    (target[rl] == '\0' || target[rl] == '/');
}
