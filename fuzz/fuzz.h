/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fuzz harnesses, the replay driver and the seed generator:
 * the libFuzzer entry points, fixed key material, a deterministic
 * randombytes (so that a handshake is reproducible from its input), the
 * handshake maths of docs/protocol.md §4.2 written again from the text as
 * an independent oracle, and temporary-folder helpers.
 */
#ifndef WHARF_FUZZ_H
#define WHARF_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "wharf/handshake.h"
#include "wharf/keys.h"

/* libFuzzer's entry points (replay.c calls them the same way). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A failed invariant: prints where and why, then aborts (a finding). */
#define FUZZ_CHECK(cond) \
	((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))
void fuzz_fail(const char *file, int line, const char *what)
    __attribute__((noreturn));

/*
 * Installs the deterministic randombytes and runs sodium_init(), quiets
 * the server log (WHARF_FUZZ_LOG=1 keeps it). Call first in every
 * LLVMFuzzerInitialize and in the seed generator.
 */
void fuzz_init(void);

/*
 * Restarts the random stream: every byte randombytes hands out afterwards
 * is a function of stream only. The seed generator and the harnesses use
 * the same streams, so a ClientHello made by hs_client_init() in one is
 * byte for byte the one made in the other.
 */
#define FUZZ_RNG_CLIENT 1u
#define FUZZ_RNG_SERVER 2u
void fuzz_rng_reset(uint32_t stream);

/* The fixed Ed25519 host key every handshake seed is signed with. */
void fuzz_host_key(struct host_key *k);
/* The fixed pre-shared key. */
extern const uint8_t fuzz_psk[KEYS_PSK_LEN];
/*
 * The fixed session keys of seal_fuzz: res describes the receiving side
 * (its rx_key opens what a peer sealed with that key).
 */
void fuzz_seal_result(struct hs_result *res);

/*
 * Client flag bits of the handshake harnesses: the first input byte says
 * how the client was set up, so that seeds for every branch exist.
 */
#define FUZZ_HS_PSK 0x01u /* the client has fuzz_psk */
#define FUZZ_HS_PLAIN 0x02u /* the client asks for plaintext */
#define FUZZ_HS_ZSTD_ONLY 0x04u /* features = ZSTD only, not ALL */
void fuzz_hs_client_opts(
    uint8_t flags, const uint8_t **psk, int *plain, uint64_t *features);

/* §4.2, from the text: TH, the signed message check and the key schedule. */
#define FUZZ_TH_LEN 32
void
fuzz_transcript(uint8_t th[FUZZ_TH_LEN], const uint8_t *cp, const uint8_t *ch,
    size_t ch_len, const uint8_t *sp, const uint8_t *core, size_t core_len);
int fuzz_signature_ok(
    const uint8_t *sig, const uint8_t th[FUZZ_TH_LEN], const uint8_t *pk);
/* Returns 0, or -1 when X25519 gives the all-zero point. */
int fuzz_session_keys(uint8_t c2s[HS_SESSION_KEY_LEN],
    uint8_t s2c[HS_SESSION_KEY_LEN], uint8_t confirm[WIRE_CONFIRM_LEN],
    const uint8_t *my_sk, const uint8_t *peer_pk, const uint8_t *psk,
    const uint8_t th[FUZZ_TH_LEN]);

/*
 * WHARF_FUZZ_SKIP_KNOWN=1: harnesses steer around findings that are known
 * and not fixed yet (docs/fuzzing.md), so that a long run looks for new
 * ones. The crash-* files in the corpus keep replaying the known ones.
 */
int fuzz_skip_known(void);

/* The content of data.bin in the session harness's tree: half text
 * (zstd shrinks it), half noise (it does not). */
#define FUZZ_DATA_BIN_LEN 3000
void fuzz_data_bin(uint8_t *p, size_t n);

/* Big-endian helpers for building and reading frames. */
uint32_t fuzz_be32(const uint8_t *p);
void fuzz_put_be32(uint8_t *p, uint32_t v);

/* Bytes with an explicit length (they may hold a NUL). */
struct fuzz_bytes {
	const char *p;
	size_t len;
};
#define FUZZ_BYTES(s) \
	{ \
		s, sizeof(s) - 1 \
	}

/*
 * Paths that have broken path jails elsewhere: dot-dot in every disguise,
 * encodings, separators, control bytes, the names of the symlinks the
 * path and session harnesses plant (in_link, etc_link, up2_link, out_abs,
 * out_rel, sub/up_link, loop_link).
 */
extern const struct fuzz_bytes fuzz_hostile_paths[];
extern const size_t fuzz_hostile_count;

/*
 * Makes a fresh folder "wharf-fuzz-TAG-XXXXXX" in $WHARF_FUZZ_TMPDIR,
 * /dev/shm (no disk I/O for the fsyncs of uploads) or /tmp. 0 or -1.
 */
int fuzz_tempdir(const char *tag, char *out, size_t outlen);
/* out = a "/" b; aborts on truncation (a harness bug). */
void fuzz_join(char *out, size_t outlen, const char *a, const char *b);
/* rm -rf path (never following symlinks); keep_top keeps path itself. */
int fuzz_rmtree(const char *path, int keep_top);
/* Writes len bytes to path (created with mode 0644). 0 or -1. */
int fuzz_write_file(const char *path, const void *data, size_t len);
/* Entries in a folder (without "." and ".."), or -1. */
int fuzz_dir_count(const char *path);
/* Open file descriptors of this process. */
int fuzz_fd_count(void);
/*
 * 1 if fd's path (from /proc/self/fd) is root_real or beneath it.
 * root_real must be a realpath() result.
 */
int fuzz_fd_beneath(int fd, const char *root_real);

#endif
