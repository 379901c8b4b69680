/* SPDX-License-Identifier: MIT */
/*
 * A whole authenticated server session in process: the input is what a
 * client sends, as frames (4-byte big-endian length, clamped to what is
 * left, then the payload), over a socketpair to session_serve_authenticated
 * running in a thread on a plaintext channel. Everything the server
 * answers is parsed while it is read, until the server closes: whole
 * frames only, each a valid envelope of a response type whose id is 0 or
 * one the client used; Error texts one printable line; listed names single
 * valid components; at most one Error with id 0 per client frame, plus
 * one (docs/protocol.md §3, §6, §8). The session must end within a
 * deadline and never stall. After each input nothing outside the root may
 * have changed (the root holds symlinks aimed at a sentinel folder beside
 * it), no descriptor may have leaked, and the transfer CSV must still parse
 * (RFC 4180, 13 fields a row).
 *
 * The root also holds vault/secret.txt, protected with a passcode the
 * input cannot know. Its bytes and their digests must never appear in
 * what the server sends (decompressed chunks included), and after each
 * input it must still be there, unchanged and protected.
 *
 * The client half-closes only after the server has answered everything:
 * a Ping with a reserved id (the barrier) follows the input's frames, and
 * the shutdown(SHUT_WR) waits for its Pong (or for the server to close).
 * Requests are answered in order, so a download never meets an EOF that
 * arrived early (docs/fuzzing.md explains why that matters).
 *
 * The root and the passcode store are rebuilt before every input so that
 * an input always meets the same state and a finding replays.
 *
 * Passcodes cost Argon2id and a deliberate second per wrong one, which
 * would cut the rate fifty-fold. These binaries are linked with
 * --wrap (fuzz/CMakeLists.txt): Argon2id becomes a keyed BLAKE2b (the
 * right passcode still opens, any other still does not) and nanosleep
 * returns at once on the server thread (only there: libFuzzer's threads
 * sleep as usual); the guessing gate is reset to never wait (guard.h).
 * Odd-sized inputs run the sandbox in walk-only mode (the fallback for
 * kernels without openat2).
 * WHARF_FUZZ_SKIP_KNOWN=1 steers around the known, unfixed findings
 * (docs/fuzzing.md) so that a long run can look for new ones.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "wharf/buf.h"
#include "wharf/channel.h"
#include "wharf/file.h"
#include "wharf/guard.h"
#include "wharf/io.h"
#include "wharf/msg.h"
#include "wharf/protect.h"
#include "wharf/session.h"
#include "wharf/stats.h"
#include "wharf/stripe.h"
#include "wharf/xfer.h"

#define SESSION_IO_TIMEOUT_MS 2000
#define SESSION_MAX_FILE (1u << 20)
/* No byte moved in either direction for this long: the server hangs. */
#define SESSION_STALL_MS 15000
/* Far beyond what any input needs: the session does not end. */
#define SESSION_DEADLINE_MS 30000
#define SESSION_FRAME_MS 100
#define SESSION_FAKE_PWHASH "$wharf-fuzz$"
#define SESSION_VAULT "vault/secret.txt"
#define SESSION_VAULT_RPATH "/vault/secret.txt"
#define SESSION_VAULT_LEN 4096
/* The secret's first bytes, searched for in every answer. */
#define SESSION_VAULT_MARK 32
#define SESSION_FAKE_PWHASH_LEN 16
#define SESSION_POLL_MS 500
#define SESSION_READ_CHUNK 65536
#define SESSION_CSV_MAX (16u << 20)
#define SESSION_CSV_FIELDS 13
#define SESSION_ERROR_TEXT_MAX 1024
#define SESSION_SECRET "sentinel: must never change\n"
#define SESSION_BARRIER_ID 0xfffffff0u
#define SESSION_BARRIER_TEXT "wharf-fuzz-barrier"

static struct server srv;
static char base[PATH_MAX], root[PATH_MAX], outside[PATH_MAX];
static char state[PATH_MAX], csv_path[PATH_MAX], protect_path[PATH_MAX];
/* The vault's content and passcode, and the digests that must not leak. */
static uint8_t vault[SESSION_VAULT_LEN];
static char vault_passcode[2 * SESSION_VAULT_MARK + 1];
static uint8_t vault_b2[HASH_LEN], vault_sha[HASH_LEN];
static const uint8_t zero_token[WIRE_TOKEN_LEN];
/* The barrier frame: u32 length, then a Ping envelope. */
static uint8_t barrier[64];
static size_t barrier_len;

static void
cleanup(void)
{
	protect_store_free(srv.protect);
	srv.protect = NULL;
	sandbox_close(&srv.sb);
	if (base[0] != '\0')
		fuzz_rmtree(base, 0);
}

static void
at(char *p, size_t n, const char *name)
{
	fuzz_join(p, n, root, name);
}

/* The tree every input meets. */
static void
build_root(void)
{
	static const char *const dirs[] = { "docs", "empty", "deep", "deep/a",
		"deep/a/b" };
	char p[PATH_MAX], q[PATH_MAX];
	uint8_t data[FUZZ_DATA_BIN_LEN];
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		at(p, sizeof(p), dirs[i]);
		FUZZ_CHECK(mkdir(p, 0755) == 0);
	}
	fuzz_data_bin(data, sizeof(data));
	at(p, sizeof(p), "data.bin");
	FUZZ_CHECK(fuzz_write_file(p, data, sizeof(data)) == 0);
	at(p, sizeof(p), "readme.txt");
	FUZZ_CHECK(fuzz_write_file(p, "hello wharf\n", 12) == 0);
	at(p, sizeof(p), "docs/guide.md");
	FUZZ_CHECK(fuzz_write_file(p, "# guide\n", 8) == 0);
	at(p, sizeof(p), ".hidden");
	FUZZ_CHECK(fuzz_write_file(p, "h\n", 2) == 0);
	at(p, sizeof(p), "deep/a/b/leaf");
	FUZZ_CHECK(fuzz_write_file(p, "leaf\n", 5) == 0);
	/* Protected in reset_protect(). */
	at(p, sizeof(p), "vault");
	FUZZ_CHECK(mkdir(p, 0755) == 0);
	at(p, sizeof(p), SESSION_VAULT);
	FUZZ_CHECK(fuzz_write_file(p, vault, sizeof(vault)) == 0);
	at(p, sizeof(p), "vault_link");
	FUZZ_CHECK(symlink(SESSION_VAULT, p) == 0);
	/* Not valid UTF-8: listings must leave it out. */
	at(p, sizeof(p), "bad\xff\xfe.bin");
	FUZZ_CHECK(fuzz_write_file(p, "x", 1) == 0);
	/* Known finding: a delta upload onto it hangs in open(2). */
	if (!fuzz_skip_known()) {
		at(p, sizeof(p), "fifo");
		FUZZ_CHECK(mkfifo(p, 0644) == 0);
	}
	at(p, sizeof(p), "in_link");
	FUZZ_CHECK(symlink("docs", p) == 0);
	at(p, sizeof(p), "file_link");
	FUZZ_CHECK(symlink("readme.txt", p) == 0);
	at(p, sizeof(p), "loop_link");
	FUZZ_CHECK(symlink("loop_link", p) == 0);
	/* Ways out, all aimed at the sentinel folder. */
	at(p, sizeof(p), "out_abs");
	FUZZ_CHECK(symlink(outside, p) == 0);
	at(p, sizeof(p), "out_rel");
	FUZZ_CHECK(symlink("../outside", p) == 0);
	at(p, sizeof(p), "docs/up_link");
	FUZZ_CHECK(symlink("../../outside", p) == 0);
	at(p, sizeof(p), "secret_link");
	fuzz_join(q, sizeof(q), outside, "secret");
	FUZZ_CHECK(symlink(q, p) == 0);
}

/* Secret bytes the input cannot guess (not in any seed or dictionary). */
static void
make_vault(void)
{
	static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = { 'v' };
	uint8_t key[crypto_stream_chacha20_KEYBYTES];

	memset(key, 0x7e, sizeof(key));
	crypto_stream_chacha20(vault, sizeof(vault), nonce, key);
	sodium_bin2hex(vault_passcode, sizeof(vault_passcode),
	    vault + sizeof(vault) - SESSION_VAULT_MARK, SESSION_VAULT_MARK);
	hash_buf(HASH_BLAKE2B, vault, sizeof(vault), vault_b2);
	hash_buf(HASH_SHA256, vault, sizeof(vault), vault_sha);
}

static void
make_barrier(void)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__Ping ping = WHARF__PING__INIT;
	size_t n;

	ping.payload = msg_bytes(SESSION_BARRIER_TEXT);
	env.id = SESSION_BARRIER_ID;
	env.body_case = WHARF__ENVELOPE__BODY_PING;
	env.ping = &ping;
	n = wharf__envelope__get_packed_size(&env);
	FUZZ_CHECK(n + WIRE_FRAME_HEADER <= sizeof(barrier));
	fuzz_put_be32(barrier, (uint32_t)n);
	wharf__envelope__pack(&env, barrier + WIRE_FRAME_HEADER);
	barrier_len = n + WIRE_FRAME_HEADER;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char p[PATH_MAX];

	(void)argc;
	(void)argv;
	fuzz_init();
	make_vault();
	FUZZ_CHECK(fuzz_tempdir("session", base, sizeof(base)) == 0);
	fuzz_join(root, sizeof(root), base, "root");
	fuzz_join(outside, sizeof(outside), base, "outside");
	fuzz_join(state, sizeof(state), base, "state");
	fuzz_join(csv_path, sizeof(csv_path), state, "transfers.csv");
	fuzz_join(protect_path, sizeof(protect_path), state, PROTECT_FILE_NAME);
	FUZZ_CHECK(mkdir(root, 0755) == 0 && mkdir(outside, 0755) == 0 &&
	    mkdir(state, 0700) == 0);
	fuzz_join(p, sizeof(p), outside, "secret");
	FUZZ_CHECK(
	    fuzz_write_file(p, SESSION_SECRET, strlen(SESSION_SECRET)) == 0);
	build_root();

	memset(&srv, 0, sizeof(srv));
	/* As serve.c sets it up: the canonical root, an empty store. */
	FUZZ_CHECK(realpath(root, srv.root_real) != NULL);
	FUZZ_CHECK(sandbox_open(&srv.sb, srv.root_real) == 0);
	/* Never read: the session starts authenticated. */
	fuzz_join(srv.users_path, sizeof(srv.users_path), state, "users");
	srv.idle_timeout_ms = SESSION_IO_TIMEOUT_MS;
	srv.auth_timeout_ms = SESSION_IO_TIMEOUT_MS;
	srv.max_clients = 1;
	srv.max_file_size = SESSION_MAX_FILE;
	srv.stats_path = csv_path;
	FUZZ_CHECK(sem_init(&srv.pwhash_slots, 0, SERVER_PWHASH_SLOTS) == 0);
	FUZZ_CHECK(
	    sem_init(&srv.passcode_slots, 0, SERVER_PASSCODE_SLOTS) == 0);
	make_barrier();
	atexit(cleanup);
	return 0;
}

/* Set on the server thread only (see the note at the top). */
static _Thread_local int on_server;

int __real_nanosleep(const struct timespec *req, struct timespec *rem);
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem);
int __wrap_crypto_pwhash_str_alg(char out[crypto_pwhash_STRBYTES],
    const char *const passwd, unsigned long long passwdlen,
    unsigned long long opslimit, size_t memlimit, int alg);
int __wrap_crypto_pwhash_str_verify(
    const char *str, const char *const passwd, unsigned long long passwdlen);

int
__wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
	if (on_server) {
		if (rem != NULL)
			memset(rem, 0, sizeof(*rem));
		return 0;
	}
	return __real_nanosleep(req, rem);
}

int
__wrap_crypto_pwhash_str_alg(char out[crypto_pwhash_STRBYTES],
    const char *const passwd, unsigned long long passwdlen,
    unsigned long long opslimit, size_t memlimit, int alg)
{
	static const uint8_t key[crypto_generichash_KEYBYTES] = { 'f', 'a', 'k',
		'e' };
	uint8_t h[SESSION_FAKE_PWHASH_LEN];
	size_t n = strlen(SESSION_FAKE_PWHASH);

	(void)opslimit;
	(void)memlimit;
	(void)alg;
	crypto_generichash(
	    h, sizeof(h), (const uint8_t *)passwd, passwdlen, key, sizeof(key));
	memcpy(out, SESSION_FAKE_PWHASH, n);
	sodium_bin2hex(out + n, crypto_pwhash_STRBYTES - n, h, sizeof(h));
	return 0;
}

int
__wrap_crypto_pwhash_str_verify(
    const char *str, const char *const passwd, unsigned long long passwdlen)
{
	char want[crypto_pwhash_STRBYTES];

	FUZZ_CHECK(__wrap_crypto_pwhash_str_alg(
	               want, passwd, passwdlen, 0, 0, 0) == 0);
	return strcmp(str, want) == 0 ? 0 : -1;
}

static void
reset_protect(void)
{
	int bad = 0;

	protect_store_free(srv.protect);
	srv.protect = NULL;
	if (unlink(protect_path) != 0)
		FUZZ_CHECK(errno == ENOENT);
	FUZZ_CHECK(protect_store_open(protect_path, &srv.protect, &bad) == 0);
	FUZZ_CHECK(
	    protect_set(srv.protect, SESSION_VAULT_RPATH, vault_passcode) == 0);
}

static int
contains(const uint8_t *p, size_t n, const uint8_t *what, size_t wn)
{
	return n >= wn && memmem(p, n, what, wn) != NULL;
}

/* Nothing of the vault in a frame, nor in a chunk once inflated. */
static void
check_no_leak(const uint8_t *p, size_t n, const Wharf__Envelope *env)
{
	const Wharf__Chunk *c;
	uint8_t *raw;
	size_t k;

	FUZZ_CHECK(!contains(p, n, vault, SESSION_VAULT_MARK));
	FUZZ_CHECK(!contains(p, n, vault_b2, HASH_LEN));
	FUZZ_CHECK(!contains(p, n, vault_sha, HASH_LEN));
	if (env->body_case != WHARF__ENVELOPE__BODY_CHUNK ||
	    !env->chunk->compressed || env->chunk->raw_len > XFER_CHUNK_MAX)
		return;
	c = env->chunk;
	raw = malloc(c->raw_len > 0 ? c->raw_len : 1);
	FUZZ_CHECK(raw != NULL);
	k = ZSTD_decompress(raw, c->raw_len, c->data.data, c->data.len);
	if (!ZSTD_isError(k))
		FUZZ_CHECK(!contains(raw, k, vault, SESSION_VAULT_MARK));
	free(raw);
}

/* Still there, unchanged and protected. */
static void
check_vault(void)
{
	uint8_t got[SESSION_VAULT_LEN + 1];
	char p[PATH_MAX];
	ssize_t n;
	int fd;

	at(p, sizeof(p), SESSION_VAULT);
	FUZZ_CHECK((fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0);
	n = read(fd, got, sizeof(got));
	close(fd);
	FUZZ_CHECK(n == (ssize_t)sizeof(vault) &&
	    memcmp(got, vault, sizeof(vault)) == 0);
	FUZZ_CHECK(protect_is(srv.protect, SESSION_VAULT_RPATH));
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *
serve(void *arg)
{
	struct channel *ch = arg;

	on_server = 1;
	session_serve_authenticated(&srv, ch, "fuzz", 0, WIRE_FEATURES_ALL);
	/* The session is over: let the client side see EOF. */
	shutdown(wire_io_fd(channel_io(ch)), SHUT_WR);
	return NULL;
}

struct ids {
	uint32_t *v;
	size_t n;
	size_t frames; /* frames in the client stream */
};

static int
id_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The client's stream: the input with every frame length clamped to
 * what remains, the barrier, then any bytes too few for a frame header.
 * *tail is where those start, *total the stream's length. Also collects
 * the ids of the frames that decode.
 */
static uint8_t *
client_stream(const uint8_t *data, size_t size, struct ids *ids, size_t *tail,
    size_t *total)
{
	Wharf__Envelope *env;
	uint8_t *out = malloc(size + barrier_len);
	size_t pos = 0, o = 0;
	uint32_t len;

	FUZZ_CHECK(out != NULL);
	ids->v = malloc((size / WIRE_FRAME_HEADER + 2) * sizeof(*ids->v));
	FUZZ_CHECK(ids->v != NULL);
	ids->n = 0;
	ids->frames = 0;
	while (size - pos >= WIRE_FRAME_HEADER) {
		len = fuzz_be32(data + pos);
		if (len > size - pos - WIRE_FRAME_HEADER)
			len = (uint32_t)(size - pos - WIRE_FRAME_HEADER);
		pos += WIRE_FRAME_HEADER;
		fuzz_put_be32(out + o, len);
		memcpy(out + o + WIRE_FRAME_HEADER, data + pos, len);
		o += WIRE_FRAME_HEADER + len;
		ids->frames++;
		env = wharf__envelope__unpack(NULL, len, data + pos);
		if (env != NULL) {
			ids->v[ids->n++] = env->id;
			wharf__envelope__free_unpacked(env, NULL);
		}
		pos += len;
	}
	memcpy(out + o, barrier, barrier_len);
	o += barrier_len;
	*tail = o;
	/* A few trailing bytes: a frame header cut short. */
	if (pos < size) {
		memcpy(out + o, data + pos, size - pos);
		o += size - pos;
	}
	*total = o;
	ids->v[ids->n++] = SESSION_BARRIER_ID;
	qsort(ids->v, ids->n, sizeof(*ids->v), id_cmp);
	return out;
}

static int
is_response(Wharf__Envelope__BodyCase c)
{
	switch (c) {
	case WHARF__ENVELOPE__BODY_ERROR:
	case WHARF__ENVELOPE__BODY_OK:
	case WHARF__ENVELOPE__BODY_LIST_PART:
	case WHARF__ENVELOPE__BODY_STAT_REPLY:
	case WHARF__ENVELOPE__BODY_CWD:
	case WHARF__ENVELOPE__BODY_PONG:
	case WHARF__ENVELOPE__BODY_PUT_READY:
	case WHARF__ENVELOPE__BODY_PUT_DONE:
	case WHARF__ENVELOPE__BODY_GET_INFO:
	case WHARF__ENVELOPE__BODY_CHUNK:
	case WHARF__ENVELOPE__BODY_GET_END:
	case WHARF__ENVELOPE__BODY_SUM_REPLY:
		return 1;
	default:
		break;
	}
	/* Bodies added to the protocol later, when this build has them. */
#ifdef WHARF__PROBE_REPLY__INIT
	if (c == WHARF__ENVELOPE__BODY_PROBE_REPLY)
		return 1;
#endif
#ifdef WHARF__DELTA_INDEX__INIT
	/* The server's index of the old file, for a delta upload. */
	if (c == WHARF__ENVELOPE__BODY_DELTA_INDEX)
		return 1;
#endif
	return 0;
}

static void
check_name(const ProtobufCBinaryData *name)
{
	char v[SANDBOX_VPATH_MAX];

	/* One valid component: joins to "/" followed by itself. */
	FUZZ_CHECK(name->len > 0 && name->len < sizeof(v) - 1);
	FUZZ_CHECK(sandbox_join("/", name->data, name->len, v, sizeof(v)) == 0);
	FUZZ_CHECK(strlen(v) == name->len + 1 &&
	    memcmp(v + 1, name->data, name->len) == 0);
}

static void
check_answer(const Wharf__Envelope *env, const struct ids *ids)
{
	const char *t;
	size_t i;

	FUZZ_CHECK(is_response(env->body_case));
	FUZZ_CHECK(env->id == 0 ||
	    bsearch(&env->id, ids->v, ids->n, sizeof(*ids->v), id_cmp) != NULL);
	if (env->body_case == WHARF__ENVELOPE__BODY_ERROR) {
		t = env->error->message;
		FUZZ_CHECK(strlen(t) <= SESSION_ERROR_TEXT_MAX);
		for (i = 0; t[i] != '\0'; i++)
			FUZZ_CHECK((unsigned char)t[i] >= 0x20 && t[i] != 0x7f);
		FUZZ_CHECK(env->error->code != 0);
	} else if (env->body_case == WHARF__ENVELOPE__BODY_LIST_PART) {
		FUZZ_CHECK(env->list_part->n_entries <= WIRE_LIST_PART_ENTRIES);
		for (i = 0; i < env->list_part->n_entries; i++)
			check_name(&env->list_part->entries[i]->name);
	}
}

/* The server's answers, parsed as they arrive. */
struct answers {
	const struct ids *ids;
	uint8_t *buf; /* the unparsed tail: at most one frame */
	size_t len, cap;
	size_t errors0; /* Errors with id 0 */
	int barrier; /* the barrier's Pong arrived */
};

static void
answers_feed(struct answers *a, const uint8_t *p, size_t n)
{
	Wharf__Envelope *env;
	size_t pos = 0;
	uint32_t len;
	uint8_t *nb;

	if (a->len + n > a->cap) {
		a->cap = 2 * (a->len + n);
		nb = realloc(a->buf, a->cap);
		FUZZ_CHECK(nb != NULL);
		a->buf = nb;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
	while (a->len - pos >= WIRE_FRAME_HEADER) {
		len = fuzz_be32(a->buf + pos);
		FUZZ_CHECK(len > 0 && len <= WIRE_FRAME_MAX);
		if (a->len - pos - WIRE_FRAME_HEADER < len)
			break;
		pos += WIRE_FRAME_HEADER;
		FUZZ_CHECK(msg_unpack(a->buf + pos, len, &env) == 0);
		check_answer(env, a->ids);
		check_no_leak(a->buf + pos, len, env);
		if (env->id == 0 &&
		    env->body_case == WHARF__ENVELOPE__BODY_ERROR) {
			/* One per malformed frame, one before closing. */
			a->errors0++;
			FUZZ_CHECK(a->errors0 <= a->ids->frames + 1);
		}
		if (env->id == SESSION_BARRIER_ID &&
		    env->body_case == WHARF__ENVELOPE__BODY_PONG)
			a->barrier = 1;
		msg_free(env);
		pos += len;
	}
	if (pos > 0) {
		memmove(a->buf, a->buf + pos, a->len - pos);
		a->len -= pos;
	}
}

/*
 * Writes the stream (its tail only after the barrier's Pong) and parses
 * the answers until the server closes, all within the deadline and without
 * a stall.
 */
static void
exchange(int fd, const uint8_t *out, size_t tail, size_t n, struct answers *a)
{
	struct pollfd pfd;
	int64_t start = now_ms(), last = start;
	int64_t deadline =
	    SESSION_DEADLINE_MS + (int64_t)a->ids->frames * SESSION_FRAME_MS;
	uint8_t tmp[SESSION_READ_CHUNK];
	size_t off = 0, lim;
	int shut = 0, k;
	ssize_t m;

	for (;;) {
		FUZZ_CHECK(now_ms() - start < deadline);
		if (off == n && a->barrier && !shut) {
			shutdown(fd, SHUT_WR);
			shut = 1;
		}
		/* Until the barrier is answered, hold back the tail. */
		lim = a->barrier ? n : tail;
		pfd.fd = fd;
		pfd.events =
		    (short)(POLLIN | (shut || off == lim ? 0 : POLLOUT));
		pfd.revents = 0;
		k = poll(&pfd, 1, SESSION_POLL_MS);
		if (k < 0 && errno == EINTR)
			continue;
		FUZZ_CHECK(k >= 0);
		if (k == 0) {
			/* Longer than any server timeout: a hang. */
			FUZZ_CHECK(now_ms() - last < SESSION_STALL_MS);
			continue;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			m = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
			if (m == 0 ||
			    (m < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			        errno != EINTR))
				break;
			if (m > 0) {
				last = now_ms();
				answers_feed(a, tmp, (size_t)m);
			}
		}
		if (!shut && off < lim && (pfd.revents & POLLOUT)) {
			m = send(fd, out + off, lim - off,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			if (m > 0) {
				off += (size_t)m;
				last = now_ms();
			} else if (m < 0 && errno != EAGAIN &&
			    errno != EWOULDBLOCK && errno != EINTR) {
				off = n; /* the server is gone */
			}
		}
	}
	/* Whole frames only: the server never stops mid-frame. */
	FUZZ_CHECK(a->len == 0);
}

/* RFC 4180 rows of the transfer log: every one has all the fields. */
static void
check_csv(void)
{
	size_t i, n, hl = strlen(STATS_CSV_HEADER), fields = 1;
	struct buf *b = NULL;
	const uint8_t *p;
	int quoted = 0, r;

	r = file_read_all(csv_path, SESSION_CSV_MAX, &b);
	if (r == WH_ERR_NOT_FOUND)
		return;
	FUZZ_CHECK(r == 0);
	p = buf_ptr(b);
	n = buf_len(b);
	FUZZ_CHECK(n >= hl && memcmp(p, STATS_CSV_HEADER, hl) == 0);
	for (i = hl; i < n; i++) {
		if (quoted) {
			if (p[i] != '"')
				continue;
			if (i + 1 < n && p[i + 1] == '"') {
				i++;
				continue;
			}
			quoted = 0;
			/* A closing quote ends the field. */
			FUZZ_CHECK(
			    i + 1 < n && (p[i + 1] == ',' || p[i + 1] == '\n'));
		} else if (p[i] == '"') {
			/* Quotes open a field or do not appear. */
			FUZZ_CHECK(p[i - 1] == ',' || p[i - 1] == '\n');
			quoted = 1;
		} else if (p[i] == ',') {
			fields++;
		} else if (p[i] == '\n') {
			FUZZ_CHECK(fields == SESSION_CSV_FIELDS);
			fields = 1;
		} else {
			FUZZ_CHECK(p[i] != '\r');
		}
	}
	/* Whole rows only. */
	FUZZ_CHECK(!quoted && p[n - 1] == '\n');
	buf_free(b);
}

static void
check_outside(void)
{
	char p[PATH_MAX], got[sizeof(SESSION_SECRET)];
	ssize_t n;
	int fd;

	FUZZ_CHECK(fuzz_dir_count(outside) == 1);
	FUZZ_CHECK(fuzz_dir_count(base) == 3);
	fuzz_join(p, sizeof(p), outside, "secret");
	FUZZ_CHECK((fd = open(p, O_RDONLY | O_CLOEXEC)) >= 0);
	n = read(fd, got, sizeof(got));
	close(fd);
	FUZZ_CHECK(n == (ssize_t)strlen(SESSION_SECRET) &&
	    memcmp(got, SESSION_SECRET, strlen(SESSION_SECRET)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct answers ans;
	struct wire_io *io;
	struct channel *ch;
	struct ids ids;
	pthread_t th;
	uint8_t *out;
	size_t tail, total;
	int sv[2], fds;

	/* The same tree and log for every input. */
	FUZZ_CHECK(fuzz_rmtree(root, 1) == 0);
	build_root();
	if (unlink(csv_path) != 0)
		FUZZ_CHECK(errno == ENOENT);
	reset_protect();
	/* Every input meets a fresh gate that never waits (see the note
	 * at the top on sleeping). */
	guard_reset(0);
	sandbox_set_walk_only(&srv.sb, (int)(size & 1));
	fds = fuzz_fd_count();

	out = client_stream(data, size, &ids, &tail, &total);
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	io = wire_io_new(sv[0]);
	FUZZ_CHECK(io != NULL);
	wire_io_set_timeout(io, SESSION_IO_TIMEOUT_MS);
	ch = channel_new(io);
	FUZZ_CHECK(ch != NULL);
	FUZZ_CHECK(pthread_create(&th, NULL, serve, ch) == 0);
	memset(&ans, 0, sizeof(ans));
	ans.ids = &ids;
	exchange(sv[1], out, tail, total, &ans);
	FUZZ_CHECK(pthread_join(th, NULL) == 0);
	channel_free(ch);
	close(sv[1]);
	/* Known finding: session_serve_authenticated leaves the stripes
	 * of its (all-zero) token open; a real session abandons them. */
	if (fuzz_skip_known())
		stripe_abandon(zero_token);

	check_outside();
	check_vault();
	check_csv();
	FUZZ_CHECK(fuzz_fd_count() == fds);

	free(ans.buf);
	free(out);
	free(ids.v);
	return 0;
}
