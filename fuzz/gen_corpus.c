/* SPDX-License-Identifier: MIT */
/*
 * Seed corpora for every harness, made with the project's own encoders so
 * that each seed is a valid (or deliberately broken) input of the kind the
 * harness expects: frames, envelopes of every body type with hostile
 * paths, real ClientHellos and ServerHellos signed with the fixed host key,
 * frames sealed under the fixed keys, raw and compressed chunks, path
 * strings, and whole sessions (list, mkdir, rename, put with correct chunk
 * and file digests, get, sum). Randomness is the deterministic stream of
 * fuzz_common.c, so running it again writes the same bytes.
 *
 * Usage: wharf_gen_corpus OUTDIR (normally fuzz/corpus)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zstd.h>

#include "fuzz.h"
#include "wharf/buf.h"
#include "wharf/channel.h"
#include "wharf/handshake.h"
#include "wharf/msg.h"
#include "wharf/proxy.h"
#include "wharf/xfer.h"

#define GEN_BUF_MAX (8u << 20)
#define GEN_NAME_MAX 4096
#define GEN_CS XFER_CHUNK_MIN
/* ListPart entries in the decode-budget seed: 4 KiB of empty ones. */
#define GEN_EMPTY_ENTRIES 2000
#define GEN_SEAL_FRAME_MAX 255

static const char *outdir;
static int nseeds;

static struct buf *
gen_buf(void)
{
	struct buf *b = buf_new(GEN_BUF_MAX);

	FUZZ_CHECK(b != NULL);
	return b;
}

static void
write_seed(const char *target, const char *name, const void *p, size_t n)
{
	char path[GEN_NAME_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/seed-%s", outdir, target, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    (n > 0 && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	nseeds++;
}

static void
write_buf(const char *target, const char *name, const struct buf *b)
{
	write_seed(target, name, buf_ptr(b), buf_len(b));
}

static ProtobufCBinaryData
bin(const void *p, size_t n)
{
	ProtobufCBinaryData b;

	/* protobuf-c never writes through data when packing. */
	b.data = (uint8_t *)(uintptr_t)p;
	b.len = n;
	return b;
}

static ProtobufCBinaryData
str(const char *s)
{
	return bin(s, strlen(s));
}

/* Appends env's encoding (no frame header). */
static void
put_env(struct buf *b, const Wharf__Envelope *env)
{
	FUZZ_CHECK(msg_pack(env, b, 0, GEN_BUF_MAX) == 0);
}

/* Appends one frame: u32 length, then env. */
static void
put_frame(struct buf *b, const Wharf__Envelope *env)
{
	size_t start = buf_len(b);
	uint8_t *p;

	FUZZ_CHECK(msg_pack(env, b, WIRE_FRAME_HEADER, GEN_BUF_MAX) == 0);
	p = buf_mutable_ptr(b) + start;
	fuzz_put_be32(p, (uint32_t)(buf_len(b) - start - WIRE_FRAME_HEADER));
}

static void
put_raw_frame(struct buf *b, const void *p, size_t n)
{
	FUZZ_CHECK(buf_put_u32(b, (uint32_t)n) == 0 && buf_put(b, p, n) == 0);
}

/*
 * Request builders. Each fills a caller-owned envelope and body; the
 * bodies live in one struct so that one call site can build any request.
 */
struct req {
	Wharf__Envelope env;
	union {
		Wharf__ListReq list;
		Wharf__StatReq stat;
		Wharf__CdReq cd;
		Wharf__PwdReq pwd;
		Wharf__MkdirReq mkdir;
		Wharf__RmdirReq rmdir;
		Wharf__RemoveReq remove;
		Wharf__RenameReq rename;
		Wharf__Ping ping;
		Wharf__PutOpen put_open;
		Wharf__Chunk chunk;
		Wharf__PutEnd put_end;
		Wharf__GetReq get;
		Wharf__SumReq sum;
		Wharf__Ok ok;
	} u;
};

static Wharf__Envelope *
req_list(struct req *r, uint32_t id, ProtobufCBinaryData path, int all)
{
	wharf__envelope__init(&r->env);
	wharf__list_req__init(&r->u.list);
	r->u.list.path = path;
	r->u.list.all = all;
	r->env.id = id;
	r->env.body_case = WHARF__ENVELOPE__BODY_LIST;
	r->env.list = &r->u.list;
	return &r->env;
}

static Wharf__Envelope *
req_stat(struct req *r, uint32_t id, ProtobufCBinaryData path)
{
	wharf__envelope__init(&r->env);
	wharf__stat_req__init(&r->u.stat);
	r->u.stat.path = path;
	r->env.id = id;
	r->env.body_case = WHARF__ENVELOPE__BODY_STAT;
	r->env.stat = &r->u.stat;
	return &r->env;
}

static Wharf__Envelope *
req_cd(struct req *r, uint32_t id, ProtobufCBinaryData path)
{
	wharf__envelope__init(&r->env);
	wharf__cd_req__init(&r->u.cd);
	r->u.cd.path = path;
	r->env.id = id;
	r->env.body_case = WHARF__ENVELOPE__BODY_CD;
	r->env.cd = &r->u.cd;
	return &r->env;
}

static Wharf__Envelope *
req_pwd(struct req *r, uint32_t id)
{
	wharf__envelope__init(&r->env);
	wharf__pwd_req__init(&r->u.pwd);
	r->env.id = id;
	r->env.body_case = WHARF__ENVELOPE__BODY_PWD;
	r->env.pwd = &r->u.pwd;
	return &r->env;
}

static Wharf__Envelope *
req_mkdir(struct req *r, uint32_t id, ProtobufCBinaryData path, int parents)
{
	wharf__envelope__init(&r->env);
	wharf__mkdir_req__init(&r->u.mkdir);
	r->u.mkdir.path = path;
	r->u.mkdir.parents = parents;
	r->env.id = id;
	r->env.body_case = WHARF__ENVELOPE__BODY_MKDIR;
	r->env.mkdir = &r->u.mkdir;
	return &r->env;
}

static Wharf__Envelope *
req_rmdir(struct req *r, uint32_t id, ProtobufCBinaryData path)
{
	wharf__envelope__init(&r->env);
	wharf__rmdir_req__init(&r->u.rmdir);
	r->u.rmdir.path = path;
	r->env.id = id;
	r->env.body_case = WHARF__ENVELOPE__BODY_RMDIR;
	r->env.rmdir = &r->u.rmdir;
	return &r->env;
}

static Wharf__Envelope *
req_remove(struct req *r, uint32_t id, ProtobufCBinaryData path)
{
	wharf__envelope__init(&r->env);
	wharf__remove_req__init(&r->u.remove);
	r->u.remove.path = path;
	r->env.id = id;
	r->env.body_case = WHARF__ENVELOPE__BODY_REMOVE;
	r->env.remove = &r->u.remove;
	return &r->env;
}

static Wharf__Envelope *
req_rename(struct req *r, uint32_t id, ProtobufCBinaryData from,
    ProtobufCBinaryData to)
{
	wharf__envelope__init(&r->env);
	wharf__rename_req__init(&r->u.rename);
	r->u.rename.from = from;
	r->u.rename.to = to;
	r->env.id = id;
	r->env.body_case = WHARF__ENVELOPE__BODY_RENAME;
	r->env.rename = &r->u.rename;
	return &r->env;
}

static Wharf__Envelope *
req_ping(struct req *r, uint32_t id, ProtobufCBinaryData payload)
{
	wharf__envelope__init(&r->env);
	wharf__ping__init(&r->u.ping);
	r->u.ping.payload = payload;
	r->env.id = id;
	r->env.body_case = WHARF__ENVELOPE__BODY_PING;
	r->env.ping = &r->u.ping;
	return &r->env;
}

static Wharf__Envelope *
req_put_open(struct req *r, uint32_t id, ProtobufCBinaryData path,
    uint64_t size, Wharf__HashAlg hash, int resume)
{
	wharf__envelope__init(&r->env);
	wharf__put_open__init(&r->u.put_open);
	r->u.put_open.path = path;
	r->u.put_open.size = size;
	r->u.put_open.mtime_sec = 1700000000;
	r->u.put_open.mtime_nsec = 5;
	r->u.put_open.mode = 0644;
	r->u.put_open.chunk_size = GEN_CS;
	r->u.put_open.hash = hash;
	r->u.put_open.resume = resume;
	r->env.id = id;
	r->env.body_case = WHARF__ENVELOPE__BODY_PUT_OPEN;
	r->env.put_open = &r->u.put_open;
	return &r->env;
}

static Wharf__Envelope *
req_chunk(struct req *r, uint32_t id, const Wharf__Chunk *c)
{
	wharf__envelope__init(&r->env);
	r->u.chunk = *c;
	r->env.id = id;
	r->env.body_case = WHARF__ENVELOPE__BODY_CHUNK;
	r->env.chunk = &r->u.chunk;
	return &r->env;
}

static Wharf__Envelope *
req_put_end(struct req *r, uint32_t id, const uint8_t *file_hash, int abort_)
{
	wharf__envelope__init(&r->env);
	wharf__put_end__init(&r->u.put_end);
	if (file_hash != NULL)
		r->u.put_end.file_hash = bin(file_hash, HASH_LEN);
	r->u.put_end.abort = abort_;
	r->env.id = id;
	r->env.body_case = WHARF__ENVELOPE__BODY_PUT_END;
	r->env.put_end = &r->u.put_end;
	return &r->env;
}

static Wharf__Envelope *
req_get(struct req *r, uint32_t id, ProtobufCBinaryData path,
    Wharf__CompressMode mode, uint64_t offset, const uint8_t *prefix)
{
	wharf__envelope__init(&r->env);
	wharf__get_req__init(&r->u.get);
	r->u.get.path = path;
	r->u.get.chunk_size = GEN_CS;
	r->u.get.compress = mode;
	r->u.get.compress_level = XFER_LEVEL_DEFAULT;
	r->u.get.offset = offset;
	if (prefix != NULL)
		r->u.get.prefix_hash = bin(prefix, HASH_LEN);
	r->env.id = id;
	r->env.body_case = WHARF__ENVELOPE__BODY_GET;
	r->env.get = &r->u.get;
	return &r->env;
}

static Wharf__Envelope *
req_sum(
    struct req *r, uint32_t id, ProtobufCBinaryData path, Wharf__HashAlg hash)
{
	wharf__envelope__init(&r->env);
	wharf__sum_req__init(&r->u.sum);
	r->u.sum.path = path;
	r->u.sum.hash = hash;
	r->env.id = id;
	r->env.body_case = WHARF__ENVELOPE__BODY_SUM;
	r->env.sum = &r->u.sum;
	return &r->env;
}

static Wharf__Envelope *
req_ok(struct req *r, uint32_t id)
{
	wharf__envelope__init(&r->env);
	wharf__ok__init(&r->u.ok);
	r->env.id = id;
	r->env.body_case = WHARF__ENVELOPE__BODY_OK;
	r->env.ok = &r->u.ok;
	return &r->env;
}

/*
 * An upload of len bytes of content to path as frames in b: PutOpen, the
 * chunks (compressed when level > 0 and it pays), PutEnd with the file
 * digest (spoiled when bad_digest).
 */
static void
put_upload(struct buf *b, uint32_t id, const char *path, const uint8_t *content,
    size_t len, Wharf__HashAlg wire_alg, int level, int bad_digest)
{
	enum hash_alg alg = wire_alg == WHARF__HASH_ALG__HASH_SHA256 ?
	    HASH_SHA256 :
	    HASH_BLAKE2B;
	struct xfer_encoder enc;
	struct xfer_digest d;
	uint8_t h[HASH_LEN], fh[HASH_LEN];
	Wharf__Chunk c;
	struct req r;
	uint64_t i, n = xfer_chunk_count(len, GEN_CS);
	uint32_t clen;

	FUZZ_CHECK(xfer_encoder_init(&enc,
	               level > 0 ? WHARF__COMPRESS_MODE__COMPRESS_LEVEL :
	                           WHARF__COMPRESS_MODE__COMPRESS_OFF,
	               level) == 0);
	put_frame(b, req_put_open(&r, id, str(path), len, wire_alg, 0));
	xfer_digest_init(&d, alg, GEN_CS);
	for (i = 0; i < n; i++) {
		clen = xfer_chunk_len(len, GEN_CS, i);
		FUZZ_CHECK(xfer_encode_chunk(&enc, alg, (uint32_t)i,
		               content + i * GEN_CS, clen, &c, h) == 0);
		xfer_digest_add(&d, h, clen);
		put_frame(b, req_chunk(&r, id, &c));
	}
	xfer_digest_peek(&d, fh);
	if (bad_digest)
		fh[0] ^= 1;
	put_frame(b, req_put_end(&r, id, fh, 0));
	xfer_encoder_cleanup(&enc);
}

/* ---- frame ---- */

static void
gen_frame(void)
{
	static const struct {
		const char *name;
		uint8_t sel, step;
	} modes[] = {
		{ "preauth-whole", 0x00, 0 },
		{ "preauth-bytewise", 0x00, 1 },
		{ "max-pieces7", 0x40, 7 },
		{ "small-limit", 0x80 | 8, 3 },
		{ "zero-limit", 0x80, 0 },
		{ "no-limit", 0xc0, 5 },
	};
	uint8_t pre[WIRE_PREFACE_LEN];
	struct buf *b;
	struct req r;
	char name[64];
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		b = gen_buf();
		FUZZ_CHECK(buf_put_u8(b, modes[i].sel) == 0 &&
		    buf_put_u8(b, modes[i].step) == 0);
		wire_preface_encode(pre, WIRE_VERSION_MIN, WIRE_VERSION_MAX);
		FUZZ_CHECK(buf_put(b, pre, sizeof(pre)) == 0);
		put_frame(b, req_ping(&r, 1, str("ping")));
		put_frame(b, req_list(&r, 2, str("/"), 1));
		put_frame(b, req_pwd(&r, 3));
		snprintf(name, sizeof(name), "%s", modes[i].name);
		write_buf("frame", name, b);
		buf_free(b);
	}

	/* Broken streams. */
	b = gen_buf();
	FUZZ_CHECK(buf_put_u16(b, 0x0000) == 0 &&
	    buf_put(b, "\x89WHARF\r\n\x00\x00\x00\x01", 12) == 0);
	put_frame(b, req_pwd(&r, 1));
	FUZZ_CHECK(buf_put_u32(b, 0) == 0);
	write_buf("frame", "zero-length", b);
	buf_free(b);

	b = gen_buf();
	FUZZ_CHECK(buf_put_u16(b, 0x0002) == 0 &&
	    buf_put(b, "\x89WHARF\r\n\x00\x02\x00\x01", 12) == 0);
	FUZZ_CHECK(buf_put_u32(b, 100) == 0 && buf_put(b, "short", 5) == 0);
	write_buf("frame", "bad-range-truncated", b);
	buf_free(b);

	b = gen_buf();
	FUZZ_CHECK(buf_put_u16(b, 0x0001) == 0 &&
	    buf_put(b, "GET / HTTP/1.1\r\n\r\n", 18) == 0);
	write_buf("frame", "http", b);
	buf_free(b);

	b = gen_buf();
	FUZZ_CHECK(buf_put_u16(b, 0x4000) == 0 &&
	    buf_put_u32(b, WIRE_FRAME_MAX_PREAUTH + 1) == 0 &&
	    buf_put(b, "abc", 3) == 0);
	write_buf("frame", "over-preauth", b);
	buf_free(b);

	b = gen_buf();
	FUZZ_CHECK(
	    buf_put_u16(b, 0x0000) == 0 && buf_put_u32(b, 0xffffffffu) == 0);
	write_buf("frame", "huge-length", b);
	buf_free(b);
}

/* ---- envelope ---- */

static void
gen_envelope(void)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__ClientHello ch;
	Wharf__ServerHello sh = WHARF__SERVER_HELLO__INIT;
	Wharf__Auth auth = WHARF__AUTH__INIT;
	Wharf__AuthOk aok = WHARF__AUTH_OK__INIT;
	Wharf__Error err;
	Wharf__ListPart lp = WHARF__LIST_PART__INIT;
	Wharf__FileInfo fi[3], *fip[3];
	Wharf__StatReply srep = WHARF__STAT_REPLY__INIT;
	Wharf__CwdReply cwd = WHARF__CWD_REPLY__INIT;
	Wharf__Pong pong = WHARF__PONG__INIT;
	Wharf__PutReady ready = WHARF__PUT_READY__INIT;
	Wharf__PutDone done = WHARF__PUT_DONE__INIT;
	Wharf__GetInfo gi = WHARF__GET_INFO__INIT;
	Wharf__GetEnd ge = WHARF__GET_END__INIT;
	Wharf__SumReply sumr = WHARF__SUM_REPLY__INIT;
	Wharf__Chunk c = WHARF__CHUNK__INIT;
	uint8_t key[WIRE_KEY_LEN], sig[WIRE_SIG_LEN], h[HASH_LEN];
	const struct fuzz_bytes *hp;
	struct buf *b;
	struct req r;
	char name[64];
	size_t i;

	/* The INIT macros of messages with strings cast away const. */
	wharf__client_hello__init(&ch);
	wharf__error__init(&err);
	memset(key, 0x42, sizeof(key));
	memset(sig, 0x17, sizeof(sig));
	hash_buf(HASH_BLAKE2B, "abc", 3, h);

#define EMIT(nm, e) \
	do { \
		b = gen_buf(); \
		put_env(b, (e)); \
		write_buf("envelope", (nm), b); \
		buf_free(b); \
	} while (0)

	/* Every request type. */
	EMIT("list", req_list(&r, 1, str("/docs"), 1));
	EMIT("stat", req_stat(&r, 2, str("readme.txt")));
	EMIT("cd", req_cd(&r, 3, str("..")));
	EMIT("pwd", req_pwd(&r, 4));
	EMIT("mkdir", req_mkdir(&r, 5, str("a/b/c"), 1));
	EMIT("rmdir", req_rmdir(&r, 6, str("a")));
	EMIT("remove", req_remove(&r, 7, str("x")));
	EMIT("rename", req_rename(&r, 8, str("../../etc/passwd"), str("x")));
	EMIT("ping", req_ping(&r, 9, str("payload")));
	EMIT("put-open",
	    req_put_open(&r, 10, str("/up/../../x"), 12345,
	        WHARF__HASH_ALG__HASH_SHA256, 1));
	c.index = 0;
	c.raw_len = 3;
	c.hash = bin(h, sizeof(h));
	c.data = str("abc");
	EMIT("chunk", req_chunk(&r, 10, &c));
	c.hash = bin(h, 31);
	EMIT("chunk-short-hash", req_chunk(&r, 10, &c));
	EMIT("put-end", req_put_end(&r, 10, h, 0));
	EMIT("put-end-abort", req_put_end(&r, 10, NULL, 1));
	EMIT("get",
	    req_get(&r, 11, str("etc_link/passwd"),
	        WHARF__COMPRESS_MODE__COMPRESS_LEVEL, GEN_CS, h));
	EMIT("sum",
	    req_sum(&r, 12, bin("a\0b", 3), WHARF__HASH_ALG__HASH_BLAKE2B));
	EMIT("ok-as-request", req_ok(&r, 13));
	/* A few hostile paths in path-carrying requests. */
	for (i = 0; i < fuzz_hostile_count; i += 7) {
		hp = &fuzz_hostile_paths[i];
		snprintf(name, sizeof(name), "list-hostile-%02zu", i);
		EMIT(name, req_list(&r, (uint32_t)i, bin(hp->p, hp->len), 0));
	}

	/* Handshake and response types. */
	ch.min_version = 1;
	ch.max_version = 1;
	ch.features = WIRE_FEATURES_ALL;
	ch.ephemeral_key = bin(key, sizeof(key));
	ch.software = (char *)(uintptr_t) "fuzz";
	env.body_case = WHARF__ENVELOPE__BODY_CLIENT_HELLO;
	env.client_hello = &ch;
	EMIT("client-hello", &env);
	ch.ephemeral_key = bin(key, 31);
	EMIT("client-hello-short-key", &env);

	sh.core = str("\x08\x01");
	sh.signature = bin(sig, sizeof(sig));
	sh.key_confirm = bin(key, sizeof(key));
	env.body_case = WHARF__ENVELOPE__BODY_SERVER_HELLO;
	env.server_hello = &sh;
	EMIT("server-hello", &env);

	auth.user = str("admin");
	auth.password = str("hunter2");
	env.body_case = WHARF__ENVELOPE__BODY_AUTH;
	env.auth = &auth;
	EMIT("auth", &env);
	aok.user = str("admin");
	aok.cwd = str("/");
	aok.max_frame = WIRE_FRAME_MAX;
	env.body_case = WHARF__ENVELOPE__BODY_AUTH_OK;
	env.auth_ok = &aok;
	EMIT("auth-ok", &env);

	err.code = WHARF__ERROR_CODE__NOT_FOUND;
	err.message = (char *)(uintptr_t) "no such file or directory";
	env.body_case = WHARF__ENVELOPE__BODY_ERROR;
	env.error = &err;
	EMIT("error", &env);
	err.code = (Wharf__ErrorCode)99;
	EMIT("error-unknown-code", &env);

	for (i = 0; i < 3; i++) {
		wharf__file_info__init(&fi[i]);
		fi[i].type = WHARF__FILE_TYPE__TYPE_FILE;
		fi[i].size = i * 100;
		fi[i].mode = 0644;
		fip[i] = &fi[i];
	}
	fi[0].name = str("a.txt");
	fi[1].name = str("..");
	fi[2].name = str("b\xc3\xa9");
	/* (An empty name: crash-listpart-empty-name-memchr-null.) */
	lp.n_entries = 3;
	lp.entries = fip;
	lp.done = 1;
	env.body_case = WHARF__ENVELOPE__BODY_LIST_PART;
	env.list_part = &lp;
	EMIT("list-part", &env);
	{
		static Wharf__FileInfo none[GEN_EMPTY_ENTRIES];
		static Wharf__FileInfo *nonep[GEN_EMPTY_ENTRIES];

		/* 2 bytes each to send, ~140 to decode: the heap budget's
		 * case (docs/protocol.md section 3). */
		for (i = 0; i < GEN_EMPTY_ENTRIES; i++) {
			wharf__file_info__init(&none[i]);
			nonep[i] = &none[i];
		}
		lp.n_entries = GEN_EMPTY_ENTRIES;
		lp.entries = nonep;
		lp.done = 0;
		EMIT("list-part-empty-entries", &env);
		lp.n_entries = 3;
		lp.entries = fip;
		lp.done = 1;
	}

	srep.info = &fi[0];
	srep.path = str("/a.txt");
	env.body_case = WHARF__ENVELOPE__BODY_STAT_REPLY;
	env.stat_reply = &srep;
	EMIT("stat-reply", &env);

	cwd.cwd = str("/docs");
	env.body_case = WHARF__ENVELOPE__BODY_CWD;
	env.cwd = &cwd;
	EMIT("cwd", &env);

	pong.payload = str("payload");
	env.body_case = WHARF__ENVELOPE__BODY_PONG;
	env.pong = &pong;
	EMIT("pong", &env);

	ready.offset = GEN_CS;
	ready.prefix_hash = bin(h, sizeof(h));
	env.body_case = WHARF__ENVELOPE__BODY_PUT_READY;
	env.put_ready = &ready;
	EMIT("put-ready", &env);

	done.size = 3;
	env.body_case = WHARF__ENVELOPE__BODY_PUT_DONE;
	env.put_done = &done;
	EMIT("put-done", &env);

	gi.size = 3;
	gi.mode = 0644;
	gi.chunk_size = GEN_CS;
	env.body_case = WHARF__ENVELOPE__BODY_GET_INFO;
	env.get_info = &gi;
	EMIT("get-info", &env);

	ge.file_hash = bin(h, sizeof(h));
	env.body_case = WHARF__ENVELOPE__BODY_GET_END;
	env.get_end = &ge;
	EMIT("get-end", &env);

	sumr.hash = bin(h, sizeof(h));
	sumr.size = 3;
	env.body_case = WHARF__ENVELOPE__BODY_SUM_REPLY;
	env.sum_reply = &sumr;
	EMIT("sum-reply", &env);

#ifdef WHARF__CANCEL__INIT
	{
		Wharf__Cancel cancel = WHARF__CANCEL__INIT;

		cancel.target = 11;
		env.body_case = WHARF__ENVELOPE__BODY_CANCEL;
		env.cancel = &cancel;
		EMIT("cancel", &env);
	}
#endif
#ifdef WHARF__PROBE__INIT
	{
		Wharf__Probe probe = WHARF__PROBE__INIT;

		probe.reply_size = 4096;
		probe.payload = str("probe");
		env.body_case = WHARF__ENVELOPE__BODY_PROBE;
		env.probe = &probe;
		EMIT("probe", &env);
	}
#endif
#undef EMIT

	/* Hand-made bytes: unknown body (field 99), id only, truncated.
	 * (The empty input: crash-empty-envelope-pack-null-offset.) */
	write_seed("envelope", "unknown-body", "\x08\x07\x9a\x06\x02hi", 7);
	write_seed("envelope", "id-only", "\x08\xff\xff\xff\xff\x0f", 6);
	write_seed("envelope", "truncated", "\x52\x05\x0a\x03/", 5);
}

/* ---- handshakes ---- */

/* The deterministic client's first flight for flags (FUZZ_HS_*). */
static void
client_flight(uint8_t flags, struct hs_client *c)
{
	const uint8_t *psk;
	uint64_t features;
	int plain;

	fuzz_hs_client_opts(flags, &psk, &plain, &features);
	fuzz_rng_reset(FUZZ_RNG_CLIENT);
	FUZZ_CHECK(hs_client_init(c, psk, plain, features) == 0);
}

static const uint8_t *
flight_hello(const struct hs_client *c, size_t *len)
{
	*len = buf_len(c->sent) - WIRE_PREFACE_LEN - WIRE_FRAME_HEADER;
	return buf_ptr(c->sent) + WIRE_PREFACE_LEN + WIRE_FRAME_HEADER;
}

/* Server harness seed: flags, [preface], hello. */
static void
hss_seed(const char *name, uint8_t flags, const uint8_t *cp,
    const uint8_t *hello, size_t len)
{
	struct buf *b = gen_buf();

	FUZZ_CHECK(buf_put_u8(b, flags) == 0);
	if (cp != NULL)
		FUZZ_CHECK(buf_put(b, cp, WIRE_PREFACE_LEN) == 0);
	FUZZ_CHECK(buf_put(b, hello, len) == 0);
	write_buf("handshake_server", name, b);
	buf_free(b);
}

static void
gen_handshake_server(void)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__ClientHello ch;
	uint8_t cp[WIRE_PREFACE_LEN], key[WIRE_KEY_LEN];
	struct hs_client c;
	const uint8_t *hello;
	struct buf *b;
	struct req r;
	size_t len;

	/* hs_harness flags: 1 valid preface, 2 allow plaintext, 4 PSK,
	 * 8 no features (see handshake_server_fuzz.c). */
	client_flight(0, &c);
	hello = flight_hello(&c, &len);
	hss_seed("hello", 0x01, NULL, hello, len);
	hss_seed("hello-own-preface", 0x00, buf_ptr(c.sent), hello, len);
	hss_seed("hello-psk", 0x05, NULL, hello, len);
	hss_seed("hello-no-features", 0x09, NULL, hello, len);
	wire_preface_encode(cp, 2, 3);
	hss_seed("preface-v2", 0x00, cp, hello, len);
	wire_preface_encode(cp, 0, 1);
	hss_seed("preface-v0", 0x00, cp, hello, len);
	hss_seed("preface-bad-magic", 0x00,
	    (const uint8_t *)"\x89WHARF\n\n\x00\x01\x00\x01", hello, len);
	hs_client_cleanup(&c);

	client_flight(FUZZ_HS_PLAIN | FUZZ_HS_ZSTD_ONLY, &c);
	hello = flight_hello(&c, &len);
	hss_seed("hello-plain-allowed", 0x03, NULL, hello, len);
	hss_seed("hello-plain-refused", 0x01, NULL, hello, len);
	hs_client_cleanup(&c);

	/* Hand-built hellos: range mismatch, low-order key, wrong body. */
	wharf__client_hello__init(&ch);
	ch.min_version = 1;
	ch.max_version = 2;
	memset(key, 0, sizeof(key));
	ch.ephemeral_key = bin(key, sizeof(key));
	ch.software = (char *)(uintptr_t) "fuzz";
	env.body_case = WHARF__ENVELOPE__BODY_CLIENT_HELLO;
	env.client_hello = &ch;
	b = gen_buf();
	put_env(b, &env);
	hss_seed("hello-range-mismatch", 0x01, NULL, buf_ptr(b), buf_len(b));
	buf_free(b);
	ch.max_version = 1;
	b = gen_buf();
	put_env(b, &env);
	hss_seed("hello-zero-key", 0x01, NULL, buf_ptr(b), buf_len(b));
	buf_free(b);
	b = gen_buf();
	put_env(b, req_ping(&r, 0, str("hi")));
	hss_seed("not-a-hello", 0x01, NULL, buf_ptr(b), buf_len(b));
	buf_free(b);
}

/* Client harness seed: flags, server preface, frame payload. */
static void
hsc_seed(const char *name, uint8_t flags, const struct buf *reply, size_t flip)
{
	struct buf *b = gen_buf();
	const uint8_t *p = buf_ptr(reply);
	uint8_t *q;

	FUZZ_CHECK(buf_len(reply) > WIRE_PREFACE_LEN + WIRE_FRAME_HEADER);
	FUZZ_CHECK(buf_put_u8(b, flags) == 0 &&
	    buf_put(b, p, WIRE_PREFACE_LEN) == 0 &&
	    buf_put(b, p + WIRE_PREFACE_LEN + WIRE_FRAME_HEADER,
	        buf_len(reply) - WIRE_PREFACE_LEN - WIRE_FRAME_HEADER) == 0);
	/* Flip one byte counted from the end (0: none). */
	if (flip > 0 && flip < buf_len(b)) {
		q = buf_mutable_ptr(b);
		q[buf_len(b) - flip] ^= 0x01;
	}
	write_buf("handshake_client", name, b);
	buf_free(b);
}

/* A real server answer to the deterministic client of flags. */
static struct buf *
server_answer(uint8_t flags, const uint8_t *psk, int allow_plain)
{
	struct hs_server_config cfg;
	struct hs_result res;
	struct host_key host;
	struct hs_client c;
	const uint8_t *hello;
	struct buf *out = gen_buf();
	size_t len;
	int r;

	fuzz_host_key(&host);
	memset(&cfg, 0, sizeof(cfg));
	cfg.host_key = &host;
	cfg.psk = psk;
	cfg.allow_plaintext = allow_plain;
	cfg.features = WIRE_FEATURES_ALL;
	client_flight(flags, &c);
	hello = flight_hello(&c, &len);
	fuzz_rng_reset(FUZZ_RNG_SERVER);
	/* A refusal (an Error frame in out) is a seed as well. */
	r = hs_server_respond(&cfg, buf_ptr(c.sent), hello, len, out, &res);
	(void)r;
	hs_result_wipe(&res);
	hs_client_cleanup(&c);
	return out;
}

static void
gen_handshake_client(void)
{
	static const uint8_t other_psk[KEYS_PSK_LEN] = { 1, 2, 3 };
	struct buf *b;

	b = server_answer(0, NULL, 0);
	hsc_seed("ok", 0, b, 0);
	/* Tampered: a byte of key_confirm, of the signature, of the core. */
	hsc_seed("bad-confirm", 0, b, 1);
	hsc_seed("bad-signature", 0, b, 40);
	hsc_seed("bad-core", 0, b, 120);
	/* The same answer to a client that expects a PSK. */
	hsc_seed("psk-unexpected", FUZZ_HS_PSK, b, 0);
	buf_free(b);

	b = server_answer(FUZZ_HS_PSK, fuzz_psk, 0);
	hsc_seed("ok-psk", FUZZ_HS_PSK, b, 0);
	hsc_seed("psk-required", 0, b, 0);
	buf_free(b);
	b = server_answer(FUZZ_HS_PSK, other_psk, 0);
	hsc_seed("psk-differs", FUZZ_HS_PSK, b, 0);
	buf_free(b);

	b = server_answer(FUZZ_HS_PLAIN, NULL, 1);
	hsc_seed("ok-plain", FUZZ_HS_PLAIN, b, 0);
	buf_free(b);
	b = server_answer(FUZZ_HS_PLAIN, NULL, 0);
	hsc_seed("plain-refused", FUZZ_HS_PLAIN, b, 0);
	buf_free(b);
	b = server_answer(FUZZ_HS_ZSTD_ONLY, NULL, 0);
	hsc_seed("ok-zstd-only", FUZZ_HS_ZSTD_ONLY, b, 0);
	/* An answer for ALL features given to a ZSTD-only client. */
	buf_free(b);
	b = server_answer(0, NULL, 0);
	hsc_seed("features-not-offered", FUZZ_HS_ZSTD_ONLY, b, 0);
	buf_free(b);

	b = gen_buf();
	FUZZ_CHECK(
	    hs_server_refuse(b, WHARF__ERROR_CODE__BUSY, "server busy") == 0);
	hsc_seed("busy", 0, b, 0);
	buf_free(b);
	b = gen_buf();
	FUZZ_CHECK(hs_server_refuse(b, WHARF__ERROR_CODE__UNSUPPORTED,
	               "unsupported version\x1b[2J: server speaks 2..2") == 0);
	hsc_seed("unsupported-escape", 0, b, 0);
	buf_free(b);
}

/* ---- seal ---- */

/* Appends a frame sealed with s: [len byte][tag || ciphertext]. */
static void
seal_frame(struct buf *b, struct seal *s, const Wharf__Envelope *env,
    const void *raw, size_t raw_len)
{
	struct buf *e = gen_buf();
	uint8_t frame[GEN_SEAL_FRAME_MAX];
	size_t n;

	if (env != NULL)
		put_env(e, env);
	else
		FUZZ_CHECK(buf_put(e, raw, raw_len) == 0);
	n = buf_len(e);
	FUZZ_CHECK(n + SEAL_MAC_LEN <= sizeof(frame));
	if (n > 0)
		memcpy(frame + SEAL_MAC_LEN, buf_ptr(e), n);
	FUZZ_CHECK(seal_close(s, frame, frame + SEAL_MAC_LEN, n) == 0);
	FUZZ_CHECK(buf_put_u8(b, (uint8_t)(n + SEAL_MAC_LEN)) == 0 &&
	    buf_put(b, frame, n + SEAL_MAC_LEN) == 0);
	buf_free(e);
}

static void
gen_seal(void)
{
	struct hs_result keys;
	struct seal s;
	struct buf *b, *f0;
	struct req r;
	uint8_t *q;

	fuzz_seal_result(&keys);

	/* The peer seals with the key this side opens with. */
	b = gen_buf();
	seal_init(&s, keys.rx_key);
	seal_frame(b, &s, req_ping(&r, 1, str("one")), NULL, 0);
	seal_frame(b, &s, req_list(&r, 2, str("/"), 0), NULL, 0);
	seal_frame(b, &s, req_pwd(&r, 3), NULL, 0);
	write_buf("seal", "three-frames", b);
	buf_free(b);

	/* Frame 0 twice: the replay must not open. */
	f0 = gen_buf();
	seal_init(&s, keys.rx_key);
	seal_frame(f0, &s, req_ping(&r, 1, str("one")), NULL, 0);
	b = gen_buf();
	FUZZ_CHECK(buf_put(b, buf_ptr(f0), buf_len(f0)) == 0 &&
	    buf_put(b, buf_ptr(f0), buf_len(f0)) == 0);
	write_buf("seal", "replayed", b);
	buf_free(b);

	/* Frame 1 first: reordered. */
	b = gen_buf();
	seal_frame(b, &s, req_pwd(&r, 2), NULL, 0);
	FUZZ_CHECK(buf_put(b, buf_ptr(f0), buf_len(f0)) == 0);
	write_buf("seal", "reordered", b);
	buf_free(b);

	/* A flipped ciphertext byte, then a frame that would be valid. */
	b = gen_buf();
	FUZZ_CHECK(buf_put(b, buf_ptr(f0), buf_len(f0)) == 0);
	q = buf_mutable_ptr(b);
	q[buf_len(b) - 1] ^= 0x80;
	seal_init(&s, keys.rx_key);
	seal_frame(b, &s, req_pwd(&r, 2), NULL, 0);
	write_buf("seal", "tampered-then-valid", b);
	buf_free(b);
	buf_free(f0);

	/* Authentic but not an Envelope; the next frame still opens. */
	b = gen_buf();
	seal_init(&s, keys.rx_key);
	seal_frame(b, &s, NULL, "\xff\xff\xff", 3);
	seal_frame(b, &s, NULL, "", 0);
	seal_frame(b, &s, req_pwd(&r, 2), NULL, 0);
	write_buf("seal", "garbage-inside", b);
	buf_free(b);

	/* Sealed under the other direction's key. */
	b = gen_buf();
	seal_init(&s, keys.tx_key);
	seal_frame(b, &s, req_pwd(&r, 1), NULL, 0);
	write_buf("seal", "wrong-key", b);
	buf_free(b);

	write_seed("seal", "short",
	    "\x0a"
	    "0123456789",
	    11);
	seal_cleanup(&s);

	/* AES-256-GCM frames from the peer (protocol.md §5.1): three that
	 * open, then the first replayed. */
	b = gen_buf();
	FUZZ_CHECK(
	    seal_init_cipher(&s, SEAL_AES256GCM, keys.rx_key, HS_DIR_S2C) == 0);
	seal_frame(b, &s, req_ping(&r, 1, str("one")), NULL, 0);
	seal_frame(b, &s, req_list(&r, 2, str("/"), 0), NULL, 0);
	seal_frame(b, &s, req_pwd(&r, 3), NULL, 0);
	write_buf("seal", "gcm-three-frames", b);
	seal_cleanup(&s);
	f0 = gen_buf();
	FUZZ_CHECK(
	    seal_init_cipher(&s, SEAL_AES256GCM, keys.rx_key, HS_DIR_S2C) == 0);
	seal_frame(f0, &s, req_ping(&r, 1, str("one")), NULL, 0);
	FUZZ_CHECK(buf_put(b, buf_ptr(f0), buf_len(f0)) == 0);
	write_buf("seal", "gcm-replayed", b);
	buf_free(b);
	buf_free(f0);
	seal_cleanup(&s);
}

/* ---- chunk ---- */

static void
chunk_seed(const char *name, const uint8_t ctl[4], const Wharf__Chunk *c)
{
	struct buf *b = gen_buf();
	uint8_t *dst;
	size_t n = wharf__chunk__get_packed_size(c);

	FUZZ_CHECK(buf_put(b, ctl, 4) == 0);
	FUZZ_CHECK(buf_reserve(b, n, &dst) == 0);
	FUZZ_CHECK(wharf__chunk__pack(c, dst) == n);
	buf_commit(b, n);
	write_buf("chunk", name, b);
	buf_free(b);
}

/* Appends c to b as a stream item: a 2-byte length, the packed chunk. */
static void
stream_item(struct buf *b, const Wharf__Chunk *c)
{
	size_t n = wharf__chunk__get_packed_size(c);
	uint8_t len[2] = { (uint8_t)(n >> 8), (uint8_t)n }, *dst;

	FUZZ_CHECK(n <= 0xffff);
	FUZZ_CHECK(buf_put(b, len, 2) == 0);
	FUZZ_CHECK(buf_reserve(b, n, &dst) == 0);
	FUZZ_CHECK(wharf__chunk__pack(c, dst) == n);
	buf_commit(b, n);
}

/*
 * Streams (§9.3): a transfer of text, noise (raw, outside the stream),
 * the text again (a reference back across chunks) and a level change
 * (a frame ended inside a chunk), with a 2^20 window; and one whose
 * window is more than the grant.
 */
static void
gen_chunk_stream(
    const uint8_t *text, uint32_t tn, const uint8_t *noise, uint32_t nn)
{
	/* flags: CHUNK_STREAM; ctl[0] % 14 + 10 is the window log. */
	static const uint8_t ctl20[4] = { 0x80, 10, 0, 0 };
	static const uint8_t ctl10[4] = { 0x80, 0, 0, 0 };
	struct xfer_encoder enc;
	uint8_t h[HASH_LEN];
	Wharf__Chunk c;
	struct buf *b = gen_buf();

	FUZZ_CHECK(xfer_encoder_init(
	               &enc, WHARF__COMPRESS_MODE__COMPRESS_LEVEL, 3) == 0);
	FUZZ_CHECK(xfer_encoder_begin(&enc, 20) == 0);
	FUZZ_CHECK(buf_put(b, ctl20, 4) == 0);
	FUZZ_CHECK(
	    xfer_encode_chunk(&enc, HASH_BLAKE2B, 0, text, tn, &c, h) == 0);
	FUZZ_CHECK(c.stream);
	stream_item(b, &c);
	enc.skip = 1; /* the noise goes raw, past the stream */
	FUZZ_CHECK(
	    xfer_encode_chunk(&enc, HASH_BLAKE2B, 1, noise, nn, &c, h) == 0);
	FUZZ_CHECK(!c.stream);
	stream_item(b, &c);
	FUZZ_CHECK(
	    xfer_encode_chunk(&enc, HASH_BLAKE2B, 2, text, tn, &c, h) == 0);
	stream_item(b, &c);
	enc.level = 6;
	FUZZ_CHECK(
	    xfer_encode_chunk(&enc, HASH_BLAKE2B, 3, noise, nn, &c, h) == 0);
	stream_item(b, &c);
	write_buf("chunk", "stream", b);
	buf_free(b);

	/* The same first chunk, for a decoder granted only 2^10. */
	b = gen_buf();
	FUZZ_CHECK(xfer_encoder_begin(&enc, 20) == 0);
	FUZZ_CHECK(buf_put(b, ctl10, 4) == 0);
	FUZZ_CHECK(
	    xfer_encode_chunk(&enc, HASH_BLAKE2B, 0, text, tn, &c, h) == 0);
	stream_item(b, &c);
	write_buf("chunk", "stream-window-over-grant", b);
	buf_free(b);
	xfer_encoder_cleanup(&enc);
}

static void
gen_chunk(void)
{
	/* Control bytes: flags, index, length hi, length lo. */
	static const uint8_t own[4] = { 0x06, 0, 0, 0 };
	static const uint8_t own_sha[4] = { 0x07, 0, 0, 0 };
	static const uint8_t ctl_len[4] = { 0x02, 0, 0x03, 0xe8 };
	static const uint8_t wrong_index[4] = { 0x04, 9, 0, 0 };
	uint8_t text[2000], noise[300], h[HASH_LEN], *z, ctl[4];
	struct xfer_encoder enc;
	Wharf__Chunk c;
	size_t i, zn, cap;

	for (i = 0; i < sizeof(text); i++)
		text[i] = (uint8_t)("the quick brown fox "[i % 20]);
	for (i = 0; i < sizeof(noise); i++)
		noise[i] = (uint8_t)((i * 2654435761u) >> 11);

	FUZZ_CHECK(xfer_encoder_init(
	               &enc, WHARF__COMPRESS_MODE__COMPRESS_OFF, 0) == 0);
	FUZZ_CHECK(xfer_encode_chunk(&enc, HASH_BLAKE2B, 3, noise,
	               sizeof(noise), &c, h) == 0);
	chunk_seed("raw", own, &c);
	chunk_seed("raw-wrong-index", wrong_index, &c);
	FUZZ_CHECK(
	    xfer_encode_chunk(&enc, HASH_SHA256, 0, noise, 100, &c, h) == 0);
	chunk_seed("raw-sha256", own_sha, &c);
	h[5] ^= 1;
	chunk_seed("raw-bad-hash", own_sha, &c);
	xfer_encoder_cleanup(&enc);

	FUZZ_CHECK(xfer_encoder_init(
	               &enc, WHARF__COMPRESS_MODE__COMPRESS_LEVEL, 3) == 0);
	FUZZ_CHECK(
	    xfer_encode_chunk(&enc, HASH_BLAKE2B, 0, text, 1000, &c, h) == 0);
	FUZZ_CHECK(c.compressed);
	chunk_seed("zstd", own, &c);
	chunk_seed("zstd-len-1000", ctl_len, &c);
	/* Declared one byte short: inflating needs more than raw_len. */
	c.raw_len = 999;
	chunk_seed("zstd-inflates-past", own, &c);
	c.raw_len = 1001;
	chunk_seed("zstd-inflates-short", own, &c);
	xfer_encoder_cleanup(&enc);

	/* A small frame of a large content: the bound, not the size,
	 * decides. */
	cap = ZSTD_compressBound(XFER_CHUNK_MAX);
	z = malloc(cap);
	FUZZ_CHECK(z != NULL);
	{
		uint8_t *zeros = calloc(1, XFER_CHUNK_MAX);

		FUZZ_CHECK(zeros != NULL);
		zn = ZSTD_compress(z, cap, zeros, XFER_CHUNK_MAX, 3);
		FUZZ_CHECK(!ZSTD_isError(zn));
		hash_buf(HASH_BLAKE2B, zeros, 1000, h);
		free(zeros);
	}
	wharf__chunk__init(&c);
	c.raw_len = 1000;
	c.hash.data = h;
	c.hash.len = HASH_LEN;
	c.compressed = 1;
	c.data.data = z;
	c.data.len = zn;
	chunk_seed("zstd-bomb", own, &c);
	free(z);
	gen_chunk_stream(
	    text, (uint32_t)sizeof(text), noise, (uint32_t)sizeof(noise));

	/* Synthetic: the harness compresses text itself; ctl[2] is the
	 * signed raw_len delta, ctl[1] the level. */
	ctl[0] = 0x10;
	ctl[1] = 2;
	ctl[3] = 0;
	for (i = 0; i < 4; i++) {
		static const uint8_t deltas[4] = { 0, 1, 0xff, 0x80 };
		char name[32];
		struct buf *b = gen_buf();

		ctl[2] = deltas[i];
		FUZZ_CHECK(
		    buf_put(b, ctl, 4) == 0 && buf_put(b, text, 600) == 0);
		snprintf(name, sizeof(name), "synth-delta-%u", deltas[i]);
		write_buf("chunk", name, b);
		buf_free(b);
	}
	{
		static const uint8_t raw_ctl[4] = { 0x30, 1, 0, 0 };
		static const uint8_t bad_ctl[4] = { 0x51, 1, 0, 7 };
		struct buf *b = gen_buf();

		FUZZ_CHECK(buf_put(b, raw_ctl, 4) == 0 &&
		    buf_put(b, noise, sizeof(noise)) == 0);
		write_buf("chunk", "synth-raw", b);
		buf_free(b);
		b = gen_buf();
		FUZZ_CHECK(
		    buf_put(b, bad_ctl, 4) == 0 && buf_put(b, text, 700) == 0);
		write_buf("chunk", "synth-bad-hash-sha256", b);
		buf_free(b);
	}
}

/* ---- path ---- */

static void
gen_path(void)
{
	static const char *const with_cwd[] = {
		"sub\n../file",
		"sub\n../../file",
		"sub/inner\n..",
		"in_link\n../..",
		"in_link\n../file",
		"sub\nup_link/secret",
		"out_rel\nx",
		"/deep/er\n../../..",
		"\xc3\xa9\n..",
	};
	char big[WIRE_PATH_MAX + 16], name[64];
	size_t i;

	for (i = 0; i < fuzz_hostile_count; i++) {
		snprintf(name, sizeof(name), "hostile-%02zu", i);
		write_seed("path", name, fuzz_hostile_paths[i].p,
		    fuzz_hostile_paths[i].len);
	}
	for (i = 0; i < sizeof(with_cwd) / sizeof(with_cwd[0]); i++) {
		snprintf(name, sizeof(name), "cwd-%02zu", i);
		write_seed("path", name, with_cwd[i], strlen(with_cwd[i]));
	}
	/* Names of 255 and 256 bytes; paths of 4096 and 4097 bytes. */
	memset(big, 'n', sizeof(big));
	write_seed("path", "name-255", big, WIRE_NAME_MAX);
	write_seed("path", "name-256", big, WIRE_NAME_MAX + 1);
	for (i = 0; i + 2 < sizeof(big); i += 2)
		big[i + 1] = '/';
	write_seed("path", "path-4096", big, WIRE_PATH_MAX);
	write_seed("path", "path-4097", big, WIRE_PATH_MAX + 1);
	memcpy(big, "../", 3);
	write_seed("path", "path-4096-dotdot", big, WIRE_PATH_MAX);
}

/* ---- session ---- */

#ifdef WHARF__DELTA_INDEX__INIT
/* Delta transfers against data.bin (fuzz_data_bin): an upload that sends
 * one block and refers to another, a download with the client's index. */
static void
gen_session_delta(void)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__DeltaIndex di = WHARF__DELTA_INDEX__INIT;
	Wharf__BlockRef br[2], *brp[2];
	uint8_t old[FUZZ_DATA_BIN_LEN], h0[HASH_LEN], h1[HASH_LEN];
	uint8_t fh[HASH_LEN];
	const uint32_t half = FUZZ_DATA_BIN_LEN / 2;
	struct xfer_digest d;
	Wharf__Chunk c;
	Wharf__Envelope *e;
	struct buf *b;
	struct req r;

	fuzz_data_bin(old, sizeof(old));
	hash_buf(HASH_BLAKE2B, old, half, h0);
	hash_buf(HASH_BLAKE2B, old + half, half, h1);

	b = gen_buf();
	e = req_put_open(&r, 1, str("data.bin"), sizeof(old),
	    WHARF__HASH_ALG__HASH_BLAKE2B, 0);
	r.u.put_open.delta = 1;
	put_frame(b, e);
	wharf__chunk__init(&c);
	c.index = 0;
	c.raw_len = half;
	c.hash = bin(h0, HASH_LEN);
	c.data = bin(old, half);
	put_frame(b, req_chunk(&r, 1, &c));
	c.index = 1;
	c.hash = bin(h1, HASH_LEN);
	c.data = bin(NULL, 0);
	c.ref = 1;
	put_frame(b, req_chunk(&r, 1, &c));
	xfer_digest_init(&d, HASH_BLAKE2B, GEN_CS);
	xfer_digest_add(&d, h0, half);
	xfer_digest_add(&d, h1, half);
	xfer_digest_peek(&d, fh);
	put_frame(b, req_put_end(&r, 1, fh, 0));
	e = req_put_open(
	    &r, 2, str("fresh.bin"), 10, WHARF__HASH_ALG__HASH_BLAKE2B, 0);
	r.u.put_open.delta = 1;
	put_frame(b, e);
	put_frame(b, req_put_end(&r, 2, fh, 1));
	write_buf("session", "delta-put", b);
	buf_free(b);

	b = gen_buf();
	e = req_get(&r, 1, str("data.bin"), WHARF__COMPRESS_MODE__COMPRESS_OFF,
	    0, NULL);
	r.u.get.delta = 1;
	put_frame(b, e);
	br[0] = (Wharf__BlockRef)WHARF__BLOCK_REF__INIT;
	br[1] = (Wharf__BlockRef)WHARF__BLOCK_REF__INIT;
	br[0].len = half;
	br[0].hash = bin(h0, HASH_LEN);
	br[1].len = half;
	br[1].hash = bin(h1, HASH_LEN);
	brp[0] = &br[0];
	brp[1] = &br[1];
	di.n_blocks = 2;
	di.blocks = brp;
	di.done = 1;
	di.cdc_shift = 13;
	env.id = 1;
	env.body_case = WHARF__ENVELOPE__BODY_DELTA_INDEX;
	env.delta_index = &di;
	put_frame(b, &env);
	/* The index of a request that does not wait for one. */
	env.id = 2;
	put_frame(b, &env);
	write_buf("session", "delta-get", b);
	buf_free(b);
}
#endif

#ifdef WHARF__STRIPE_COMMIT__INIT
/* A striped upload in two ranges, committed; and a Join out of place. */
static void
gen_session_stripe(void)
{
	static const uint8_t stripe[16] = { 's', 't', 'r', 'i', 'p', 'e' };
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__StripeCommit sc = WHARF__STRIPE_COMMIT__INIT;
	uint8_t content[FUZZ_DATA_BIN_LEN], h[HASH_LEN], fh[HASH_LEN];
	struct xfer_digest d;
	Wharf__Envelope *e;
	Wharf__Chunk c;
	struct buf *b;
	struct req r;

	fuzz_data_bin(content, sizeof(content));
	hash_buf(HASH_BLAKE2B, content, sizeof(content), h);
	xfer_digest_init(&d, HASH_BLAKE2B, GEN_CS);
	xfer_digest_add(&d, h, sizeof(content));
	xfer_digest_peek(&d, fh);

	b = gen_buf();
	e = req_put_open(&r, 1, str("striped.bin"), sizeof(content),
	    WHARF__HASH_ALG__HASH_BLAKE2B, 0);
	r.u.put_open.range_offset = 0;
	r.u.put_open.range_len = sizeof(content);
	r.u.put_open.stripe = bin(stripe, sizeof(stripe));
	put_frame(b, e);
	wharf__chunk__init(&c);
	c.raw_len = sizeof(content);
	c.hash = bin(h, HASH_LEN);
	c.data = bin(content, sizeof(content));
	put_frame(b, req_chunk(&r, 1, &c));
	put_frame(b, req_put_end(&r, 1, fh, 0));
	sc.stripe = bin(stripe, sizeof(stripe));
	sc.file_hash = bin(fh, HASH_LEN);
	env.id = 2;
	env.body_case = WHARF__ENVELOPE__BODY_STRIPE_COMMIT;
	env.stripe_commit = &sc;
	put_frame(b, &env);
	put_frame(b, &env);
	put_frame(b,
	    req_sum(&r, 3, str("striped.bin"), WHARF__HASH_ALG__HASH_BLAKE2B));
#ifdef WHARF__JOIN__INIT
	{
		Wharf__Join join = WHARF__JOIN__INIT;

		join.token = bin(stripe, sizeof(stripe));
		env.id = 4;
		env.body_case = WHARF__ENVELOPE__BODY_JOIN;
		env.join = &join;
		put_frame(b, &env);
	}
#endif
	write_buf("session", "stripe", b);
	buf_free(b);
}
#endif

#ifdef WHARF__SYMLINK_REQ__INIT
/* Trees (protocol.md §8.2-8.3): safe and unsafe links, a listing that
 * reports their targets, attributes set on a folder, a file, a link and
 * with an mtime that is not one. */
static void
gen_session_tree(void)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__SymlinkReq sl = WHARF__SYMLINK_REQ__INIT;
	Wharf__SetAttrReq sa = WHARF__SET_ATTR_REQ__INIT;
	static const char *const links[][2] = {
		{ "t/safe", "../readme.txt" }, { "t/sub/deep", "../../docs" },
		{ "t/out", "../../etc/passwd" }, { "t/abs", "/etc/passwd" },
		{ "t/part", ".x.wharf-part" },
		{ "t/safe", "readme.txt" }, /* replaces the first */
		{ "docs", "x" }, /* a folder of that name */
	};
	struct buf *b = gen_buf();
	struct req r;
	uint32_t id = 1;
	size_t i;

	put_frame(b, req_mkdir(&r, id++, str("t/sub"), 1));
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		sl.path = str(links[i][0]);
		sl.target = str(links[i][1]);
		env.id = id++;
		env.body_case = WHARF__ENVELOPE__BODY_SYMLINK;
		env.symlink = &sl;
		put_frame(b, &env);
	}
	put_frame(b, req_list(&r, id++, str("t"), 1));
	put_frame(b, req_list(&r, id++, str("t/safe"), 1));
	sa.path = str("t/sub");
	sa.set_mode = 1;
	sa.mode = 0700;
	sa.set_mtime = 1;
	sa.mtime_sec = 981173106;
	env.id = id++;
	env.body_case = WHARF__ENVELOPE__BODY_SET_ATTR;
	env.set_attr = &sa;
	put_frame(b, &env);
	sa.path = str("t/safe");
	sa.mode = 07777;
	env.id = id++;
	put_frame(b, &env);
	sa.mtime_nsec = 1000000000u;
	env.id = id++;
	put_frame(b, &env);
	sa.path = str("../outside");
	sa.mtime_nsec = 0;
	env.id = id++;
	put_frame(b, &env);
	put_frame(b, req_stat(&r, id++, str("t/sub")));
	write_buf("session", "tree", b);
	buf_free(b);
}
#endif

static void
gen_session(void)
{
	static const uint8_t other[HASH_LEN] = { 0 };
	uint8_t content[GEN_CS + 700], prefix[HASH_LEN], h[HASH_LEN];
	const struct fuzz_bytes *hp;
	Wharf__Envelope *e;
	struct xfer_digest d;
	struct buf *b;
	struct req r;
	char name[64];
	uint32_t id;
	size_t i;

	for (i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)("wharf fuzz content\n"[i % 19]);

	b = gen_buf();
	put_frame(b, req_list(&r, 1, str("/"), 0));
	put_frame(b, req_list(&r, 2, str("docs"), 1));
	put_frame(b, req_stat(&r, 3, str("readme.txt")));
	put_frame(b, req_stat(&r, 4, str("in_link/guide.md")));
	put_frame(b, req_cd(&r, 5, str("docs")));
	put_frame(b, req_pwd(&r, 6));
	put_frame(b, req_list(&r, 7, str(""), 1));
	put_frame(b, req_cd(&r, 8, str("/nonexistent")));
	put_frame(b, req_list(&r, 9, str("../readme.txt"), 0));
	put_frame(b, req_ping(&r, 10, str("ping")));
	write_buf("session", "browse", b);
	buf_free(b);

	b = gen_buf();
	put_frame(b, req_mkdir(&r, 1, str("new"), 0));
	put_frame(b, req_mkdir(&r, 2, str("p/q/r"), 1));
	put_frame(b, req_mkdir(&r, 3, str("p/q/r"), 1));
	put_frame(b, req_rename(&r, 4, str("new"), str("docs")));
	put_frame(b, req_rename(&r, 5, str("readme.txt"), str("moved.txt")));
	put_frame(b, req_rename(&r, 6, str("moved.txt"), str("data.bin")));
	put_frame(b, req_rename(&r, 7, str("p"), str("p/q")));
	put_frame(b, req_remove(&r, 8, str("moved.txt")));
	put_frame(b, req_remove(&r, 9, str("docs")));
	put_frame(b, req_rmdir(&r, 10, str("p/q/r")));
	put_frame(b, req_rmdir(&r, 11, str("/")));
	put_frame(b, req_rmdir(&r, 12, str("deep")));
	put_frame(b, req_list(&r, 13, str("/"), 1));
	write_buf("session", "mkdir-rename-remove", b);
	buf_free(b);

	/* Put, get it back, sum it (both hashes). */
	b = gen_buf();
	put_upload(
	    b, 1, "up.txt", content, 600, WHARF__HASH_ALG__HASH_BLAKE2B, 0, 0);
	put_frame(b,
	    req_get(&r, 2, str("up.txt"), WHARF__COMPRESS_MODE__COMPRESS_OFF, 0,
	        NULL));
	put_frame(
	    b, req_sum(&r, 3, str("up.txt"), WHARF__HASH_ALG__HASH_BLAKE2B));
	put_frame(
	    b, req_sum(&r, 4, str("/up.txt"), WHARF__HASH_ALG__HASH_SHA256));
	put_frame(b, req_stat(&r, 5, str("up.txt")));
	write_buf("session", "put-get-sum", b);
	buf_free(b);

	/* Two chunks, the first compressed, SHA-256; then a resumed get. */
	b = gen_buf();
	put_upload(b, 1, "deep/two.bin", content, sizeof(content),
	    WHARF__HASH_ALG__HASH_SHA256, 3, 0);
	hash_buf(HASH_SHA256, content, GEN_CS, h);
	xfer_digest_init(&d, HASH_SHA256, GEN_CS);
	xfer_digest_add(&d, h, GEN_CS);
	xfer_digest_peek(&d, prefix);
	put_frame(b,
	    req_get(&r, 2, str("deep/two.bin"),
	        WHARF__COMPRESS_MODE__COMPRESS_AUTO, 0, NULL));
	e = req_get(&r, 3, str("deep/two.bin"),
	    WHARF__COMPRESS_MODE__COMPRESS_LEVEL, GEN_CS, prefix);
	r.u.get.hash = WHARF__HASH_ALG__HASH_SHA256;
	put_frame(b, e);
	write_buf("session", "put-two-chunks-get-resume", b);
	buf_free(b);

	/* Upload failures. */
	b = gen_buf();
	put_upload(
	    b, 1, "bad.txt", content, 100, WHARF__HASH_ALG__HASH_BLAKE2B, 0, 1);
	put_frame(b,
	    req_put_open(&r, 2, str("big.bin"), 2u << 20,
	        WHARF__HASH_ALG__HASH_BLAKE2B, 0));
	put_frame(b, req_put_end(&r, 2, other, 0));
	put_frame(b,
	    req_put_open(
	        &r, 3, str("docs"), 10, WHARF__HASH_ALG__HASH_BLAKE2B, 0));
	put_frame(b, req_put_end(&r, 3, other, 0));
	put_frame(b,
	    req_put_open(
	        &r, 4, str("abort.txt"), 10, WHARF__HASH_ALG__HASH_BLAKE2B, 1));
	put_frame(b, req_put_end(&r, 4, NULL, 1));
	put_frame(b,
	    req_put_open(&r, 5, str("resume.txt"), 10,
	        WHARF__HASH_ALG__HASH_BLAKE2B, 1));
	put_frame(b, req_put_end(&r, 5, other, 0));
	write_buf("session", "put-failures", b);
	buf_free(b);

	/* Protocol violations that end the session. */
	b = gen_buf();
	put_frame(b,
	    req_put_open(
	        &r, 1, str("a.txt"), 10, WHARF__HASH_ALG__HASH_BLAKE2B, 0));
	put_frame(b,
	    req_put_open(
	        &r, 2, str("b.txt"), 10, WHARF__HASH_ALG__HASH_BLAKE2B, 0));
	write_buf("session", "put-while-open", b);
	buf_free(b);
	b = gen_buf();
	put_upload(
	    b, 7, "c.txt", content, 10, WHARF__HASH_ALG__HASH_BLAKE2B, 0, 0);
	put_frame(b, req_put_end(&r, 7, other, 0));
	write_buf("session", "put-end-outside", b);
	buf_free(b);

	/* Things that are not requests, or not frames. */
	b = gen_buf();
	put_frame(b, req_ok(&r, 1));
	put_raw_frame(b, "\x08\x02\x9a\x06\x02hi", 7);
	put_raw_frame(b, "\xff\xff\xff", 3);
	put_frame(b, req_pwd(&r, 4));
	/* (A zero-length frame: crash-zero-length-frame-spins.) */
	write_buf("session", "not-requests", b);
	buf_free(b);

	/* The ways out of the root, each by several operations. */
	b = gen_buf();
	id = 1;
	put_frame(b, req_list(&r, id++, str("out_abs"), 1));
	put_frame(b, req_list(&r, id++, str("out_rel"), 1));
	put_frame(b, req_stat(&r, id++, str("docs/up_link/secret")));
	put_frame(b,
	    req_sum(
	        &r, id++, str("secret_link"), WHARF__HASH_ALG__HASH_BLAKE2B));
	put_frame(b,
	    req_get(&r, id++, str("in_link/up_link/secret"),
	        WHARF__COMPRESS_MODE__COMPRESS_OFF, 0, NULL));
	put_frame(b, req_mkdir(&r, id++, str("out_abs/made"), 1));
	put_frame(b,
	    req_rename(&r, id++, str("readme.txt"), str("out_rel/readme.txt")));
	put_frame(b, req_rename(&r, id++, str("readme.txt"), str("out_abs")));
	put_frame(b, req_remove(&r, id++, str("out_abs/secret")));
	put_upload(b, id++, "out_abs/secret", content, 20,
	    WHARF__HASH_ALG__HASH_BLAKE2B, 0, 0);
	put_upload(b, id++, "docs/up_link/new", content, 20,
	    WHARF__HASH_ALG__HASH_BLAKE2B, 0, 0);
	put_upload(b, id++, "secret_link", content, 20,
	    WHARF__HASH_ALG__HASH_BLAKE2B, 0, 0);
	put_frame(b, req_list(&r, id++, str("/"), 1));
	put_frame(b, req_list(&r, id++, str("loop_link"), 1));
	write_buf("session", "escapes", b);
	buf_free(b);

	/* Hostile paths through every path-taking request. */
	for (i = 0; i < fuzz_hostile_count; i += 4) {
		hp = &fuzz_hostile_paths[i];
		b = gen_buf();
		put_frame(b, req_stat(&r, 1, bin(hp->p, hp->len)));
		put_frame(b, req_list(&r, 2, bin(hp->p, hp->len), 1));
		put_frame(b, req_cd(&r, 3, bin(hp->p, hp->len)));
		put_frame(b, req_pwd(&r, 4));
		put_frame(b, req_mkdir(&r, 5, bin(hp->p, hp->len), 1));
		put_frame(b,
		    req_sum(&r, 6, bin(hp->p, hp->len),
		        WHARF__HASH_ALG__HASH_BLAKE2B));
		put_frame(b,
		    req_rename(&r, 7, str("readme.txt"), bin(hp->p, hp->len)));
		put_frame(b, req_remove(&r, 8, bin(hp->p, hp->len)));
		snprintf(name, sizeof(name), "hostile-%02zu", i);
		write_buf("session", name, b);
		buf_free(b);
	}

	/* The FIFO in the tree, by the operations that do not open it for
	 * reading (get and sum do: crash-fifo-* in the corpus). */
	b = gen_buf();
	put_frame(b, req_stat(&r, 1, str("fifo")));
	put_frame(b, req_list(&r, 2, str("fifo"), 0));
	put_frame(b, req_rename(&r, 3, str("fifo"), str("fifo2")));
	put_frame(b, req_remove(&r, 4, str("fifo2")));
	write_buf("session", "fifo", b);
	buf_free(b);

	/* At the vault (protected by the harness) without its passcode. */
	b = gen_buf();
	id = 1;
	put_frame(b,
	    req_get(&r, id++, str("vault/secret.txt"),
	        WHARF__COMPRESS_MODE__COMPRESS_OFF, 0, NULL));
	put_frame(b,
	    req_get(&r, id++, str("vault_link"),
	        WHARF__COMPRESS_MODE__COMPRESS_AUTO, 0, NULL));
	put_frame(b,
	    req_sum(&r, id++, str("vault/secret.txt"),
	        WHARF__HASH_ALG__HASH_SHA256));
	put_frame(b,
	    req_sum(
	        &r, id++, str("vault_link"), WHARF__HASH_ALG__HASH_BLAKE2B));
	put_frame(b, req_remove(&r, id++, str("vault/secret.txt")));
	put_frame(b, req_rename(&r, id++, str("vault/secret.txt"), str("x")));
	put_frame(b, req_rename(&r, id++, str("vault"), str("docs")));
	put_frame(b, req_rename(&r, id++, str("docs"), str("vault")));
	put_frame(b, req_rmdir(&r, id++, str("vault")));
	put_frame(b, req_mkdir(&r, id++, str("vault/secret.txt/x"), 1));
	put_upload(b, id++, "vault/secret.txt", content, 30,
	    WHARF__HASH_ALG__HASH_BLAKE2B, 0, 0);
	put_frame(b, req_cd(&r, id++, str("vault")));
	put_frame(b,
	    req_get(&r, id++, str("secret.txt"),
	        WHARF__COMPRESS_MODE__COMPRESS_LEVEL, GEN_CS, h));
	put_frame(b, req_list(&r, id++, str("."), 1));
	put_frame(b, req_stat(&r, id++, str("secret.txt")));
	write_buf("session", "vault", b);
	buf_free(b);

#ifdef WHARF__PROTECT_REQ__INIT
	{
		Wharf__Envelope env = WHARF__ENVELOPE__INIT;
		Wharf__ProtectReq pr = WHARF__PROTECT_REQ__INIT;
		Wharf__UnprotectReq ur = WHARF__UNPROTECT_REQ__INIT;

		/* Change or drop the vault's protection without knowing the
		 * passcode. */
		b = gen_buf();
		pr.path = str("vault/secret.txt");
		pr.passcode = str("mine now");
		pr.current = str("guess");
		env.id = 1;
		env.body_case = WHARF__ENVELOPE__BODY_PROTECT;
		env.protect = &pr;
		put_frame(b, &env);
		pr.path = str("vault_link");
		pr.current = str("");
		env.id = 2;
		put_frame(b, &env);
		ur.path = str("vault/secret.txt");
		ur.passcode = str("guess");
		env.id = 3;
		env.body_case = WHARF__ENVELOPE__BODY_UNPROTECT;
		env.unprotect = &ur;
		put_frame(b, &env);
		e = req_get(&r, 4, str("vault/secret.txt"),
		    WHARF__COMPRESS_MODE__COMPRESS_OFF, 0, NULL);
		r.u.get.passcode = str("mine now");
		put_frame(b, e);
		write_buf("session", "vault-protect", b);
		buf_free(b);
		wharf__protect_req__init(&pr);
		wharf__unprotect_req__init(&ur);

		/* Protect, then reach the file with no, a wrong and the
		 * right passcode, by a link and by its name; unprotect. */
		b = gen_buf();
		pr.path = str("readme.txt");
		pr.passcode = str("open sesame");
		env.id = 1;
		env.body_case = WHARF__ENVELOPE__BODY_PROTECT;
		env.protect = &pr;
		put_frame(b, &env);
		put_frame(b, req_list(&r, 2, str("/"), 0));
		e = req_get(&r, 3, str("file_link"),
		    WHARF__COMPRESS_MODE__COMPRESS_OFF, 0, NULL);
		put_frame(b, e);
		e = req_get(&r, 4, str("readme.txt"),
		    WHARF__COMPRESS_MODE__COMPRESS_OFF, 0, NULL);
		r.u.get.passcode = str("open sesame");
		put_frame(b, e);
		e = req_sum(
		    &r, 5, str("readme.txt"), WHARF__HASH_ALG__HASH_BLAKE2B);
		r.u.sum.passcode = str("wrong");
		put_frame(b, e);
		e = req_rename(&r, 6, str("readme.txt"), str("docs"));
		r.u.rename.passcode = str("open sesame");
		put_frame(b, e);
		put_frame(b, req_stat(&r, 7, str("docs/readme.txt")));
		ur.path = str("docs/readme.txt");
		ur.passcode = str("open sesame");
		env.id = 8;
		env.body_case = WHARF__ENVELOPE__BODY_UNPROTECT;
		env.unprotect = &ur;
		put_frame(b, &env);
		put_frame(b, req_remove(&r, 9, str("docs/readme.txt")));
		write_buf("session", "protect", b);
		buf_free(b);
	}
#endif
#ifdef WHARF__DELTA_INDEX__INIT
	gen_session_delta();
#endif
#ifdef WHARF__STRIPE_COMMIT__INIT
	gen_session_stripe();
#endif
#ifdef WHARF__SYMLINK_REQ__INIT
	gen_session_tree();
#endif
#ifdef WHARF__PROBE__INIT
	{
		Wharf__Envelope env = WHARF__ENVELOPE__INIT;
		Wharf__Probe probe = WHARF__PROBE__INIT;
		Wharf__Cancel cancel = WHARF__CANCEL__INIT;

		b = gen_buf();
		probe.reply_size = 1000;
		env.id = 1;
		env.body_case = WHARF__ENVELOPE__BODY_PROBE;
		env.probe = &probe;
		put_frame(b, &env);
		put_frame(b,
		    req_get(&r, 2, str("data.bin"),
		        WHARF__COMPRESS_MODE__COMPRESS_AUTO, 0, NULL));
		cancel.target = 2;
		env.id = 3;
		env.body_case = WHARF__ENVELOPE__BODY_CANCEL;
		env.cancel = &cancel;
		put_frame(b, &env);
		put_frame(b, &env);
		probe.reply_size = (1u << 20) + 1;
		env.id = 4;
		env.body_case = WHARF__ENVELOPE__BODY_PROBE;
		env.probe = &probe;
		put_frame(b, &env);
		write_buf("session", "probe-cancel", b);
		buf_free(b);
	}
#endif
}

/* PROXY headers as HAProxy writes them (v1 text, v2 binary: TCP over
 * IPv4 and IPv6, LOCAL, with a TLV) and one whose v2 length is past the
 * limit. */
static void
gen_proxy(void)
{
	static const uint8_t v2_tcp4[] = { 0x21, 0x11, 0x00, 0x0c, 0xc0, 0x00,
		0x02, 0x09, 0xc6, 0x33, 0x64, 0x01, 0x9c, 0x40, 0x11, 0x62 };
	static const uint8_t v2_tlv[] = { 0x21, 0x11, 0x00, 0x12, 0xc0, 0x00,
		0x02, 0x09, 0xc6, 0x33, 0x64, 0x01, 0x9c, 0x40, 0x11, 0x62,
		0x05, 0x00, 0x03, 'a', 'b', 'c' };
	static const uint8_t v2_local[] = { 0x20, 0x00, 0x00, 0x00 };
	static const uint8_t v2_big[] = { 0x21, 0x11, 0xff, 0xff };
	uint8_t v2_tcp6[4 + 36], b[PROXY_HEADER_MAX];
	const char *v1[] = {
		"PROXY TCP4 192.0.2.7 198.51.100.1 56324 4450\r\n",
		"PROXY TCP6 2001:db8::7 2001:db8::1 65535 4450\r\n",
		"PROXY UNKNOWN\r\n",
	};
	const char *v1_names[] = { "v1-tcp4", "v1-tcp6", "v1-unknown" };
	size_t i;

	for (i = 0; i < sizeof(v1) / sizeof(v1[0]); i++)
		write_seed("proxy", v1_names[i], v1[i], strlen(v1[i]));
	memset(v2_tcp6, 0, sizeof(v2_tcp6));
	memcpy(v2_tcp6, "\x21\x21\x00\x24\x20\x01\x0d\xb8", 8);
	v2_tcp6[4 + 15] = 9;
	memcpy(v2_tcp6 + 4 + 16, "\x20\x01\x0d\xb8", 4);
	v2_tcp6[4 + 31] = 1;
	memcpy(v2_tcp6 + 4 + 32, "\x01\xbb\x11\x62", 4);
#define V2_SEED(name, body) \
	do { \
		memcpy(b, PROXY_V2_SIG, PROXY_V2_SIG_LEN); \
		memcpy(b + PROXY_V2_SIG_LEN, body, sizeof(body)); \
		write_seed("proxy", name, b, PROXY_V2_SIG_LEN + sizeof(body)); \
	} while (0)
	V2_SEED("v2-tcp4", v2_tcp4);
	V2_SEED("v2-tcp6", v2_tcp6);
	V2_SEED("v2-tlv", v2_tlv);
	V2_SEED("v2-local", v2_local);
	V2_SEED("v2-oversized", v2_big);
#undef V2_SEED
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
		perror(outdir);
		return 1;
	}
	fuzz_init();
	gen_frame();
	gen_envelope();
	gen_handshake_server();
	gen_handshake_client();
	gen_seal();
	gen_chunk();
	gen_path();
	gen_session();
	gen_proxy();
	printf("wrote %d seeds to %s\n", nseeds, outdir);
	return 0;
}
