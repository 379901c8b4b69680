/* SPDX-License-Identifier: MIT */
/*
 * msg.h: Envelope packing and the validation that runs on every message a
 * peer sends. Round trips for several body types, garbage, wrong key
 * lengths, unknown fields, text extraction and the wire error codes, and
 * the heap budget of a decode (frames of empty entries against the
 * largest real messages).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "wharf/buf.h"
#include "wharf/delta.h"
#include "wharf/msg.h"
#include "wharf/wire.h"
#include "wharf/xfer.h"

#include "suites.h"

#define HEADROOM 4

/* Packs env with headroom, checks the headroom, and unpacks it again. */
static int
round_trip(const Wharf__Envelope *env, Wharf__Envelope **out)
{
	static const uint8_t zero[HEADROOM];
	struct buf *b = buf_new(WIRE_FRAME_MAX);
	int r;

	*out = NULL;
	if (b == NULL)
		return WH_ERR_NOMEM;
	if ((r = msg_pack(env, b, HEADROOM, WIRE_FRAME_MAX)) == 0) {
		CU_ASSERT_EQUAL(buf_len(b),
		    HEADROOM + wharf__envelope__get_packed_size(env));
		CU_ASSERT_EQUAL(memcmp(buf_ptr(b), zero, HEADROOM), 0);
		r = msg_unpack(
		    buf_ptr(b) + HEADROOM, buf_len(b) - HEADROOM, out);
	}
	buf_free(b);
	return r;
}

static int
bytes_eq(const ProtobufCBinaryData *b, const void *p, size_t n)
{
	return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

static void
test_round_trip_mkdir(void)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT, *got = NULL;
	Wharf__MkdirReq mk = WHARF__MKDIR_REQ__INIT;

	mk.path = msg_bytes("/a/b c/\xc3\xa9t\xc3\xa9");
	mk.parents = 1;
	env.id = 7;
	env.body_case = WHARF__ENVELOPE__BODY_MKDIR;
	env.mkdir = &mk;
	CU_ASSERT_EQUAL_FATAL(round_trip(&env, &got), 0);
	CU_ASSERT_EQUAL(got->id, 7);
	CU_ASSERT_EQUAL_FATAL(got->body_case, WHARF__ENVELOPE__BODY_MKDIR);
	CU_ASSERT(bytes_eq(&got->mkdir->path, mk.path.data, mk.path.len));
	CU_ASSERT(got->mkdir->parents);
	CU_ASSERT_STRING_EQUAL(msg_body_name(got->body_case), "mkdir");
	msg_free(got);
}

static void
test_round_trip_list_part(void)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT, *got = NULL;
	Wharf__ListPart lp = WHARF__LIST_PART__INIT;
	Wharf__FileInfo fi[3], *ptrs[3];
	static const char *const names[3] = { "a.txt", "sub", "link" };
	static const Wharf__FileType types[3] = { WHARF__FILE_TYPE__TYPE_FILE,
		WHARF__FILE_TYPE__TYPE_DIR, WHARF__FILE_TYPE__TYPE_SYMLINK };
	size_t i;

	for (i = 0; i < 3; i++) {
		Wharf__FileInfo init = WHARF__FILE_INFO__INIT;

		fi[i] = init;
		fi[i].name = msg_bytes(names[i]);
		fi[i].type = types[i];
		fi[i].size = (uint64_t)1 << (20 * i);
		fi[i].mtime_sec = -1 + (int64_t)i * 1700000000;
		fi[i].mtime_nsec = 999999999u - (uint32_t)i;
		fi[i].mode = 0644u + (uint32_t)i;
		ptrs[i] = &fi[i];
	}
	lp.n_entries = 3;
	lp.entries = ptrs;
	lp.done = 1;
	env.id = 0xffffffffu;
	env.body_case = WHARF__ENVELOPE__BODY_LIST_PART;
	env.list_part = &lp;
	CU_ASSERT_EQUAL_FATAL(round_trip(&env, &got), 0);
	CU_ASSERT_EQUAL(got->id, 0xffffffffu);
	CU_ASSERT_EQUAL_FATAL(got->body_case, WHARF__ENVELOPE__BODY_LIST_PART);
	CU_ASSERT(got->list_part->done);
	CU_ASSERT_EQUAL_FATAL(got->list_part->n_entries, 3);
	for (i = 0; i < 3; i++) {
		const Wharf__FileInfo *g = got->list_part->entries[i];

		TU_CHECK(bytes_eq(&g->name, names[i], strlen(names[i])) &&
		        g->type == types[i] && g->size == fi[i].size &&
		        g->mtime_sec == fi[i].mtime_sec &&
		        g->mtime_nsec == fi[i].mtime_nsec &&
		        g->mode == fi[i].mode,
		    "entry %zu differs", i);
	}
	msg_free(got);
}

static void
test_round_trip_error(void)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT, *got = NULL;
	Wharf__Error err;
	char text[] = "no such file: /x";

	/* Not the INIT macro: it casts const away, which clang flags. */
	wharf__error__init(&err);
	err.code = WHARF__ERROR_CODE__NOT_FOUND;
	err.message = text;
	env.id = 3;
	env.body_case = WHARF__ENVELOPE__BODY_ERROR;
	env.error = &err;
	CU_ASSERT_EQUAL_FATAL(round_trip(&env, &got), 0);
	CU_ASSERT_EQUAL(got->id, 3);
	CU_ASSERT_EQUAL_FATAL(got->body_case, WHARF__ENVELOPE__BODY_ERROR);
	CU_ASSERT_EQUAL(got->error->code, WHARF__ERROR_CODE__NOT_FOUND);
	CU_ASSERT_STRING_EQUAL(got->error->message, text);
	msg_free(got);
}

static void
test_round_trip_auth(void)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT, *got = NULL;
	Wharf__Auth auth = WHARF__AUTH__INIT;

	auth.user = msg_bytes("alice");
	auth.password = msg_bytes("correct horse battery staple");
	env.id = 1;
	env.body_case = WHARF__ENVELOPE__BODY_AUTH;
	env.auth = &auth;
	CU_ASSERT_EQUAL_FATAL(round_trip(&env, &got), 0);
	CU_ASSERT_EQUAL_FATAL(got->body_case, WHARF__ENVELOPE__BODY_AUTH);
	CU_ASSERT(bytes_eq(&got->auth->user, "alice", 5));
	CU_ASSERT(bytes_eq(
	    &got->auth->password, auth.password.data, auth.password.len));
	msg_free(got);
}

static void
test_round_trip_ping(void)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT, *got = NULL;
	Wharf__Ping ping = WHARF__PING__INIT;
	uint8_t payload[1000];
	size_t i;

	/* Binary, NULs included: a ping payload is not text. */
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i % 251);
	ping.payload.data = payload;
	ping.payload.len = sizeof(payload);
	env.id = 99;
	env.body_case = WHARF__ENVELOPE__BODY_PING;
	env.ping = &ping;
	CU_ASSERT_EQUAL_FATAL(round_trip(&env, &got), 0);
	CU_ASSERT_EQUAL(got->id, 99);
	CU_ASSERT_EQUAL_FATAL(got->body_case, WHARF__ENVELOPE__BODY_PING);
	CU_ASSERT(bytes_eq(&got->ping->payload, payload, sizeof(payload)));
	msg_free(got);
}

static void
test_round_trip_rename(void)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT, *got = NULL;
	Wharf__RenameReq rn = WHARF__RENAME_REQ__INIT;

	rn.from = msg_bytes("old name");
	rn.to = msg_bytes("/new/name");
	env.id = 12;
	env.body_case = WHARF__ENVELOPE__BODY_RENAME;
	env.rename = &rn;
	CU_ASSERT_EQUAL_FATAL(round_trip(&env, &got), 0);
	CU_ASSERT_EQUAL_FATAL(got->body_case, WHARF__ENVELOPE__BODY_RENAME);
	CU_ASSERT(bytes_eq(&got->rename->from, "old name", 8));
	CU_ASSERT(bytes_eq(&got->rename->to, "/new/name", 9));
	msg_free(got);
}

static void
test_pack_limit(void)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__Ping ping = WHARF__PING__INIT;
	uint8_t payload[100] = { 0 };
	struct buf *b = buf_new(64);
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	ping.payload.data = payload;
	ping.payload.len = sizeof(payload);
	env.body_case = WHARF__ENVELOPE__BODY_PING;
	env.ping = &ping;
	n = wharf__envelope__get_packed_size(&env);
	CU_ASSERT_EQUAL(msg_pack(&env, b, 0, n - 1), WH_ERR_TOO_LARGE);
	CU_ASSERT_EQUAL(buf_len(b), 0);
	/* Under the limit but over the buffer's cap. */
	CU_ASSERT_EQUAL(msg_pack(&env, b, 0, WIRE_FRAME_MAX), WH_ERR_TOO_LARGE);
	CU_ASSERT_EQUAL(buf_len(b), 0);
	buf_free(b);
}

static void
test_unpack_garbage(void)
{
	static const struct {
		const char *what;
		const uint8_t *p;
		size_t len;
	} cases[] = {
		{ "overlong varint tag",
		    (const uint8_t *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff"
		                     "\xff\x01",
		    11 },
		{ "wire type 7", (const uint8_t *)"\x0f", 1 },
		{ "length past the end", (const uint8_t *)"\x12\x10\x00", 3 },
		{ "truncated varint", (const uint8_t *)"\x08", 1 },
		{ "field number 0", (const uint8_t *)"\x00\x01", 2 },
		{ "text", (const uint8_t *)"GET / HTTP/1.1\r\n", 16 },
	};
	Wharf__Envelope sentinel = WHARF__ENVELOPE__INIT, *got;
	char esc[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = &sentinel;
		TU_CHECK(
		    msg_unpack(cases[i].p, cases[i].len, &got) == WH_ERR_FORMAT,
		    "%s (%s) accepted", cases[i].what,
		    tu_escape(cases[i].p, cases[i].len, esc, sizeof(esc)));
		TU_CHECK(got == NULL, "%s: *out not NULL", cases[i].what);
		if (got != &sentinel)
			msg_free(got);
	}
}

static void
test_unpack_truncated(void)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT, *got = NULL;
	Wharf__MkdirReq mk = WHARF__MKDIR_REQ__INIT;
	uint8_t packed[64];
	size_t n, cut;

	mk.path = msg_bytes("/some/dir");
	mk.parents = 1;
	env.id = 300;
	env.body_case = WHARF__ENVELOPE__BODY_MKDIR;
	env.mkdir = &mk;
	n = wharf__envelope__get_packed_size(&env);
	CU_ASSERT_FATAL(n <= sizeof(packed));
	CU_ASSERT_EQUAL_FATAL(wharf__envelope__pack(&env, packed), n);
	/* Every proper prefix that cuts into the mkdir body is refused. */
	for (cut = 4; cut < n; cut++) {
		TU_CHECK(msg_unpack(packed, cut, &got) == WH_ERR_FORMAT,
		    "prefix of %zu of %zu bytes accepted", cut, n);
		msg_free(got);
		got = NULL;
	}
}

static void
client_hello_with_key(size_t keylen, int *r)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT, *got = NULL;
	Wharf__ClientHello ch;
	uint8_t key[64];
	struct buf *b = buf_new(WIRE_FRAME_MAX_PREAUTH);

	/* Not the INIT macro: it casts const away, which clang flags. */
	wharf__client_hello__init(&ch);
	*r = WH_ERR_NOMEM;
	if (b == NULL)
		return;
	memset(key, 0x42, sizeof(key));
	ch.min_version = 1;
	ch.max_version = 1;
	ch.ephemeral_key.data = key;
	ch.ephemeral_key.len = keylen;
	env.body_case = WHARF__ENVELOPE__BODY_CLIENT_HELLO;
	env.client_hello = &ch;
	if ((*r = msg_pack(&env, b, 0, WIRE_FRAME_MAX_PREAUTH)) == 0)
		*r = msg_unpack(buf_ptr(b), buf_len(b), &got);
	msg_free(got);
	buf_free(b);
}

/* A DeltaIndex names a chunk geometry in range, or none (0). */
static int
delta_index_with_shift(uint32_t shift)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT, *got = NULL;
	Wharf__DeltaIndex di = WHARF__DELTA_INDEX__INIT;
	Wharf__BlockRef br = WHARF__BLOCK_REF__INIT, *brp = &br;
	uint8_t h[WIRE_DIGEST_LEN] = { 1 };
	int r;

	br.len = 4096;
	br.hash.data = h;
	br.hash.len = sizeof(h);
	di.n_blocks = 1;
	di.blocks = &brp;
	di.cdc_shift = shift;
	di.done = 1;
	env.id = 3;
	env.body_case = WHARF__ENVELOPE__BODY_DELTA_INDEX;
	env.delta_index = &di;
	if ((r = round_trip(&env, &got)) == 0)
		CU_ASSERT_EQUAL(got->delta_index->cdc_shift, shift);
	msg_free(got);
	return r;
}

static void
test_delta_index_shift(void)
{
	CU_ASSERT_EQUAL(delta_index_with_shift(0), 0);
	CU_ASSERT_EQUAL(delta_index_with_shift(WIRE_CDC_SHIFT_MIN), 0);
	CU_ASSERT_EQUAL(delta_index_with_shift(WIRE_CDC_SHIFT_MAX), 0);
	CU_ASSERT_EQUAL(
	    delta_index_with_shift(WIRE_CDC_SHIFT_MIN - 1), WH_ERR_FORMAT);
	CU_ASSERT_EQUAL(
	    delta_index_with_shift(WIRE_CDC_SHIFT_MAX + 1), WH_ERR_FORMAT);
	CU_ASSERT_EQUAL(delta_index_with_shift(UINT32_MAX), WH_ERR_FORMAT);
}

static void
test_client_hello_key_length(void)
{
	int r;

	client_hello_with_key(31, &r);
	CU_ASSERT_EQUAL(r, WH_ERR_FORMAT);
	client_hello_with_key(0, &r);
	CU_ASSERT_EQUAL(r, WH_ERR_FORMAT);
	client_hello_with_key(33, &r);
	CU_ASSERT_EQUAL(r, WH_ERR_FORMAT);
	client_hello_with_key(WIRE_KEY_LEN, &r);
	CU_ASSERT_EQUAL(r, 0);
}

static void
test_server_hello_lengths(void)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT, *got = NULL;
	Wharf__ServerHello sh = WHARF__SERVER_HELLO__INIT;
	uint8_t core[8] = { 0 }, sig[WIRE_SIG_LEN + 1] = { 0 };
	uint8_t confirm[WIRE_CONFIRM_LEN + 1] = { 0 };
	struct buf *b = buf_new(WIRE_FRAME_MAX_PREAUTH);

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	sh.core.data = core;
	sh.core.len = sizeof(core);
	sh.signature.data = sig;
	sh.key_confirm.data = confirm;
	env.body_case = WHARF__ENVELOPE__BODY_SERVER_HELLO;
	env.server_hello = &sh;

	sh.signature.len = WIRE_SIG_LEN;
	sh.key_confirm.len = WIRE_CONFIRM_LEN;
	CU_ASSERT_EQUAL(msg_pack(&env, b, 0, WIRE_FRAME_MAX_PREAUTH), 0);
	CU_ASSERT_EQUAL(msg_unpack(buf_ptr(b), buf_len(b), &got), 0);
	msg_free(got);
	got = NULL;

	buf_reset(b);
	sh.signature.len = WIRE_SIG_LEN - 1;
	CU_ASSERT_EQUAL(msg_pack(&env, b, 0, WIRE_FRAME_MAX_PREAUTH), 0);
	CU_ASSERT_EQUAL(
	    msg_unpack(buf_ptr(b), buf_len(b), &got), WH_ERR_FORMAT);
	msg_free(got);
	got = NULL;

	buf_reset(b);
	sh.signature.len = WIRE_SIG_LEN;
	sh.key_confirm.len = WIRE_CONFIRM_LEN + 1;
	CU_ASSERT_EQUAL(msg_pack(&env, b, 0, WIRE_FRAME_MAX_PREAUTH), 0);
	CU_ASSERT_EQUAL(
	    msg_unpack(buf_ptr(b), buf_len(b), &got), WH_ERR_FORMAT);
	msg_free(got);
	buf_free(b);
}

static int
list_part_with_name(const void *name, size_t len)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT, *got = NULL;
	Wharf__ListPart lp = WHARF__LIST_PART__INIT;
	Wharf__FileInfo fi = WHARF__FILE_INFO__INIT, *ptr = &fi;
	struct buf *b = buf_new(WIRE_FRAME_MAX);
	int r;

	if (b == NULL)
		return WH_ERR_NOMEM;
	fi.name.data = (uint8_t *)(uintptr_t)name;
	fi.name.len = len;
	lp.n_entries = 1;
	lp.entries = &ptr;
	env.body_case = WHARF__ENVELOPE__BODY_LIST_PART;
	env.list_part = &lp;
	if ((r = msg_pack(&env, b, 0, WIRE_FRAME_MAX)) == 0)
		r = msg_unpack(buf_ptr(b), buf_len(b), &got);
	msg_free(got);
	buf_free(b);
	return r;
}

static void
test_list_part_names(void)
{
	char name[WIRE_NAME_MAX + 1];

	memset(name, 'n', sizeof(name));
	CU_ASSERT_EQUAL(list_part_with_name(name, WIRE_NAME_MAX), 0);
	CU_ASSERT_EQUAL(
	    list_part_with_name(name, WIRE_NAME_MAX + 1), WH_ERR_FORMAT);
	CU_ASSERT_EQUAL(list_part_with_name("a\0b", 3), WH_ERR_FORMAT);
}

static void
test_unknown_fields(void)
{
	/* id = 5, then field 99 (varint) = 1. */
	static const uint8_t unknown_field[] = { 0x08, 0x05, 0x98, 0x06, 0x01 };
	/* id = 5, then an empty body in field 1000 (a later version's). */
	static const uint8_t unknown_body[] = { 0x08, 0x05, 0xc2, 0x3e, 0x00 };
	Wharf__Envelope *got = NULL;

	CU_ASSERT_EQUAL_FATAL(
	    msg_unpack(unknown_field, sizeof(unknown_field), &got), 0);
	CU_ASSERT_EQUAL(got->id, 5);
	CU_ASSERT_EQUAL(got->body_case, WHARF__ENVELOPE__BODY__NOT_SET);
	CU_ASSERT_STRING_EQUAL(msg_body_name(got->body_case), "unknown");
	msg_free(got);
	got = NULL;
	CU_ASSERT_EQUAL_FATAL(
	    msg_unpack(unknown_body, sizeof(unknown_body), &got), 0);
	CU_ASSERT_EQUAL(got->id, 5);
	CU_ASSERT_EQUAL(got->body_case, WHARF__ENVELOPE__BODY__NOT_SET);
	msg_free(got);
}

static void
test_msg_text(void)
{
	ProtobufCBinaryData b;
	char out[10];

	b = msg_bytes("abc");
	memset(out, 'X', sizeof(out));
	CU_ASSERT_EQUAL(msg_text(&b, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "abc");

	b.data = (uint8_t *)(uintptr_t) "a\0b";
	b.len = 3;
	CU_ASSERT_EQUAL(msg_text(&b, out, sizeof(out)), WH_ERR_FORMAT);
	b.len = 1;
	CU_ASSERT_EQUAL(msg_text(&b, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "a");

	/* Nine bytes and the NUL fit in ten; ten bytes do not. */
	b = msg_bytes("123456789");
	CU_ASSERT_EQUAL(msg_text(&b, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "123456789");
	b = msg_bytes("1234567890");
	CU_ASSERT_EQUAL(msg_text(&b, out, sizeof(out)), WH_ERR_TOO_LARGE);

	b.data = NULL;
	b.len = 0;
	CU_ASSERT_EQUAL(msg_text(&b, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
}

static void
test_error_codes(void)
{
	static const struct {
		int err;
		Wharf__ErrorCode code;
		const char *name;
	} map[] = {
		{ WH_ERR_NOT_FOUND, WHARF__ERROR_CODE__NOT_FOUND, "NOT_FOUND" },
		{ WH_ERR_EXISTS, WHARF__ERROR_CODE__EXISTS, "EXISTS" },
		{ WH_ERR_NOT_EMPTY, WHARF__ERROR_CODE__NOT_EMPTY, "NOT_EMPTY" },
		{ WH_ERR_PERMISSION, WHARF__ERROR_CODE__PERMISSION,
		    "PERMISSION" },
		{ WH_ERR_INVALID_PATH, WHARF__ERROR_CODE__INVALID_PATH,
		    "INVALID_PATH" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		TU_CHECK(msg_code_from_err(map[i].err) == map[i].code,
		    "%s: wrong wire code", map[i].name);
		TU_CHECK(msg_err_from_code(msg_code_from_err(map[i].err)) ==
		        map[i].err,
		    "%s: no round trip", map[i].name);
		TU_CHECK(strcmp(msg_code_name(map[i].code), map[i].name) == 0,
		    "%s: name %s", map[i].name, msg_code_name(map[i].code));
	}
	/* Internal detail never crosses the wire. */
	CU_ASSERT_EQUAL(
	    msg_code_from_err(WH_ERR_CORRUPT), WHARF__ERROR_CODE__INTERNAL);
	CU_ASSERT_EQUAL(msg_code_from_err(-9999), WHARF__ERROR_CODE__INTERNAL);
	/* A code this version does not know is a generic remote error. */
	CU_ASSERT_EQUAL(msg_err_from_code(WHARF__ERROR_CODE__ERR_UNSPECIFIED),
	    WH_ERR_REMOTE);
	CU_ASSERT_EQUAL(
	    msg_err_from_code((Wharf__ErrorCode)999), WH_ERR_REMOTE);
	CU_ASSERT_STRING_EQUAL(msg_code_text(WHARF__ERROR_CODE__NOT_FOUND),
	    "no such file or directory");
}

/* Envelope field list_part (11), length-delimited. */
#define LIST_PART_KEY 0x5a
#define EMPTY_ENTRY_LEN 2
#define DECODE_HEAVY 4194303u /* 4 MiB - 1: under WIRE_FRAME_MAX */

/*
 * An Envelope of about len bytes whose ListPart holds nothing but empty
 * entries (2 bytes each on the wire: key 0x0a, length 0). Sets *outlen.
 */
static uint8_t *
empty_entries(size_t len, size_t *outlen)
{
	size_t body = len - 1 - 4, i, o = 0;
	uint8_t *p;

	body -= body % EMPTY_ENTRY_LEN;
	if ((p = malloc(1 + 4 + body)) == NULL)
		return NULL;
	p[o++] = LIST_PART_KEY;
	/* A 4-byte varint: 2^21 <= body < 2^28 for the sizes used here,
	 * padded with continuation bytes below that (protobuf allows it). */
	p[o++] = (uint8_t)(0x80 | (body & 0x7f));
	p[o++] = (uint8_t)(0x80 | ((body >> 7) & 0x7f));
	p[o++] = (uint8_t)(0x80 | ((body >> 14) & 0x7f));
	p[o++] = (uint8_t)(body >> 21);
	for (i = 0; i < body; i += EMPTY_ENTRY_LEN) {
		p[o++] = 0x0a;
		p[o++] = 0x00;
	}
	*outlen = o;
	return p;
}

static void
test_decode_amplification(void)
{
	static const size_t sizes[] = { DECODE_HEAVY, WIRE_FRAME_MAX_PREAUTH };
	Wharf__Envelope *got = NULL;
	uint8_t *p;
	size_t i, len = 0;

	/* Two million empty entries in 4 MiB (and 32 768 in the pre-login
	 * limit) once cost 70 bytes of heap per byte: refused now. */
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = empty_entries(sizes[i], &len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		TU_CHECK(msg_unpack(p, len, &got) == WH_ERR_FORMAT,
		    "%zu bytes of empty entries decoded", len);
		CU_ASSERT_PTR_NULL(got);
		msg_free(got);
		got = NULL;
		free(p);
	}
}

static void
test_decode_peak(void)
{
	Wharf__Envelope *got = NULL;
	size_t len = 0, peak = 0, limit;
	uint8_t *p;

	/* Refused before the heap it holds passes the bound. */
	p = empty_entries(DECODE_HEAVY, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	limit = msg_decode_limit(len, WIRE_FRAME_MAX);
	CU_ASSERT(limit <= WIRE_DECODE_FACTOR * len + WIRE_DECODE_FLOOR);
	CU_ASSERT_EQUAL(
	    msg_unpack_budget(p, len, limit, &got, &peak), WH_ERR_FORMAT);
	TU_CHECK(peak > 0 && peak <= limit, "peak %zu, limit %zu", peak, limit);
	free(p);

	/* Unbounded, 64 KiB of them: what the budget stops. The count sees
	 * the decoder's scratch as well as the entries. */
	p = empty_entries(WIRE_FRAME_MAX_PREAUTH, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL_FATAL(
	    msg_unpack_budget(p, len, SIZE_MAX, &got, &peak), 0);
	CU_ASSERT_EQUAL(got->list_part->n_entries, (len - 5) / 2);
	TU_CHECK(peak > 32 * len && msg_decoded_size(got) > 32 * len &&
	        msg_decoded_size(got) < peak,
	    "peak %zu, held %zu for %zu bytes", peak, msg_decoded_size(got),
	    len);
	msg_free(got);
	free(p);
}

/*
 * Packs env and unpacks it under the normal budget; *peakp gets the most
 * heap an unbounded decode of it holds, *limitp its budget.
 */
static int
decode_cost(const Wharf__Envelope *env, size_t *peakp, size_t *limitp)
{
	struct buf *b = buf_new(WIRE_FRAME_MAX);
	Wharf__Envelope *got = NULL;
	int r;

	if (b == NULL)
		return WH_ERR_NOMEM;
	if ((r = msg_pack(env, b, 0, WIRE_FRAME_MAX)) == 0 &&
	    (r = msg_unpack_budget(
	         buf_ptr(b), buf_len(b), SIZE_MAX, &got, peakp)) == 0) {
		*limitp = msg_decode_limit(buf_len(b), WIRE_FRAME_MAX);
		msg_free(got);
		got = NULL;
		r = msg_unpack(buf_ptr(b), buf_len(b), &got);
	}
	msg_free(got);
	buf_free(b);
	return r;
}

static void
test_decode_largest_real(void)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__DeltaIndex di = WHARF__DELTA_INDEX__INIT;
	Wharf__ListPart lp = WHARF__LIST_PART__INIT;
	Wharf__Chunk ch = WHARF__CHUNK__INIT;
	Wharf__BlockRef *refs = calloc(DELTA_INDEX_PART, sizeof(*refs));
	Wharf__BlockRef **rp = calloc(DELTA_INDEX_PART, sizeof(*rp));
	Wharf__FileInfo *fi = calloc(WIRE_LIST_PART_ENTRIES, sizeof(*fi));
	Wharf__FileInfo **fp = calloc(WIRE_LIST_PART_ENTRIES, sizeof(*fp));
	uint8_t *data = calloc(1, XFER_CHUNK_MAX), hash[WIRE_DIGEST_LEN];
	size_t i, peak = 0, limit = 0;

	CU_ASSERT_FATAL(refs != NULL && rp != NULL && fi != NULL &&
	    fp != NULL && data != NULL);
	memset(hash, 0xab, sizeof(hash));

	/* The most blocks a DeltaIndex part carries: the most fields per
	 * byte of any message a peer sends in bulk. */
	for (i = 0; i < DELTA_INDEX_PART; i++) {
		Wharf__BlockRef init = WHARF__BLOCK_REF__INIT;

		refs[i] = init;
		refs[i].len = 1;
		refs[i].hash.data = hash;
		refs[i].hash.len = sizeof(hash);
		rp[i] = &refs[i];
	}
	di.n_blocks = DELTA_INDEX_PART;
	di.blocks = rp;
	di.cdc_shift = WIRE_CDC_SHIFT_MIN;
	env.body_case = WHARF__ENVELOPE__BODY_DELTA_INDEX;
	env.delta_index = &di;
	CU_ASSERT_EQUAL(decode_cost(&env, &peak, &limit), 0);
	TU_CHECK(
	    peak > 0 && peak <= limit, "DeltaIndex: %zu of %zu", peak, limit);

	/* A full ListPart of one-byte names. */
	for (i = 0; i < WIRE_LIST_PART_ENTRIES; i++) {
		Wharf__FileInfo init = WHARF__FILE_INFO__INIT;

		fi[i] = init;
		fi[i].name = msg_bytes("n");
		fp[i] = &fi[i];
	}
	lp.n_entries = WIRE_LIST_PART_ENTRIES;
	lp.entries = fp;
	env.body_case = WHARF__ENVELOPE__BODY_LIST_PART;
	env.list_part = &lp;
	CU_ASSERT_EQUAL(decode_cost(&env, &peak, &limit), 0);
	TU_CHECK(
	    peak > 0 && peak <= limit, "ListPart: %zu of %zu", peak, limit);

	/* The largest chunk: its data is copied, about 1 byte per byte. */
	ch.raw_len = XFER_CHUNK_MAX;
	ch.hash.data = hash;
	ch.hash.len = sizeof(hash);
	ch.data.data = data;
	ch.data.len = XFER_CHUNK_MAX;
	env.body_case = WHARF__ENVELOPE__BODY_CHUNK;
	env.chunk = &ch;
	CU_ASSERT_EQUAL(decode_cost(&env, &peak, &limit), 0);
	TU_CHECK(peak > XFER_CHUNK_MAX && peak <= limit, "Chunk: %zu of %zu",
	    peak, limit);

	free(refs);
	free(rp);
	free(fi);
	free(fp);
	free(data);
}

static void
test_decode_preauth(void)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT, *got = NULL;
	Wharf__Auth auth = WHARF__AUTH__INIT;
	static char user[WIRE_PATH_MAX], pw[WIRE_PASSWORD_MAX];
	struct buf *b = buf_new(WIRE_FRAME_MAX_PREAUTH);
	size_t peak = 0;

	/* The largest Auth fits the pre-login budget with room to spare. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	memset(user, 'u', sizeof(user));
	memset(pw, 'p', sizeof(pw));
	auth.user.data = (uint8_t *)user;
	auth.user.len = sizeof(user);
	auth.password.data = (uint8_t *)pw;
	auth.password.len = sizeof(pw);
	env.body_case = WHARF__ENVELOPE__BODY_AUTH;
	env.auth = &auth;
	CU_ASSERT_EQUAL_FATAL(msg_pack(&env, b, 0, WIRE_FRAME_MAX_PREAUTH), 0);
	CU_ASSERT_EQUAL(
	    msg_unpack_budget(buf_ptr(b), buf_len(b),
	        msg_decode_limit(buf_len(b), WIRE_FRAME_MAX_PREAUTH), &got,
	        &peak),
	    0);
	CU_ASSERT(peak < WIRE_DECODE_FLOOR_PREAUTH);
	msg_free(got);
	buf_free(b);
	/* Before login a full frame may cost a few times its size. */
	CU_ASSERT_EQUAL(
	    msg_decode_limit(WIRE_FRAME_MAX_PREAUTH, WIRE_FRAME_MAX_PREAUTH),
	    WIRE_DECODE_FACTOR * WIRE_FRAME_MAX_PREAUTH +
	        WIRE_DECODE_FLOOR_PREAUTH);
}

/* Every body type has an example (msg_examples.c), which passes
 * msg_validate and survives a round trip. */
static void
test_validate_examples(void)
{
	const struct tu_example *x;
	Wharf__Envelope *got = NULL;
	int seen[128] = { 0 }; /* body field numbers stay below 128 */
	size_t n, i, bodies = 0;

	n = tu_msg_examples(&x);
	for (i = 0; i < n; i++) {
		TU_CHECK(msg_validate(&x[i].env) == 0, "%s refused", x[i].name);
		TU_CHECK(round_trip(&x[i].env, &got) == 0, "%s: no round trip",
		    x[i].name);
		if (got != NULL)
			TU_CHECK(got->body_case == x[i].env.body_case,
			    "%s: body changed", x[i].name);
		msg_free(got);
		got = NULL;
		if ((size_t)x[i].env.body_case < sizeof(seen) / sizeof(seen[0]))
			seen[x[i].env.body_case]++;
	}
	/* The envelope's fields: the id and one per body type. */
	for (i = 0; i < wharf__envelope__descriptor.n_fields; i++) {
		uint32_t f = wharf__envelope__descriptor.fields[i].id;

		if (f == 1)
			continue;
		bodies++;
		TU_CHECK(f < sizeof(seen) / sizeof(seen[0]) && seen[f] == 1,
		    "body field %u has %d examples", f,
		    f < sizeof(seen) / sizeof(seen[0]) ? seen[f] : -1);
	}
	CU_ASSERT_EQUAL(bodies, n);
}

/* The example of body type c, to change one field of. */
static Wharf__Envelope *
example(Wharf__Envelope__BodyCase c)
{
	static Wharf__Envelope env;
	const struct tu_example *x;
	size_t n, i;

	n = tu_msg_examples(&x);
	for (i = 0; i < n; i++)
		if (x[i].env.body_case == c) {
			env = x[i].env;
			return &env;
		}
	CU_FAIL_FATAL("no example");
	return NULL;
}

#define EXPECT(env, want, what) \
	TU_CHECK(msg_validate(env) == (want), "%s: got %d, want %d", what, \
	    msg_validate(env), want)

/* Digest, token and stripe lengths: checked here once, for every type
 * that carries one, so that no handler has to. */
static void
test_validate_lengths(void)
{
	uint8_t big[WIRE_DIGEST_LEN + 1] = { 0 };
	Wharf__AuthOk ok;
	Wharf__Join join;
	Wharf__PutOpen po;
	Wharf__StripeCommit sc;
	Wharf__PutReady pr;
	Wharf__Chunk ch;
	Wharf__PutEnd pe;
	Wharf__GetReq gr;
	Wharf__GetEnd ge;
	Wharf__SumReply sr;
	Wharf__Envelope *e;
	size_t n;

	e = example(WHARF__ENVELOPE__BODY_AUTH_OK);
	ok = *e->auth_ok;
	e->auth_ok = &ok;
	ok.session_token.len = 0;
	EXPECT(e, 0, "AuthOk without a token");
	ok.session_token.len = WIRE_TOKEN_LEN - 1;
	EXPECT(e, WH_ERR_FORMAT, "AuthOk with a short token");

	e = example(WHARF__ENVELOPE__BODY_JOIN);
	join = *e->join;
	e->join = &join;
	for (n = 0; n <= WIRE_TOKEN_LEN + 1; n++) {
		join.token.len = n;
		join.token.data = big;
		EXPECT(e, n == WIRE_TOKEN_LEN ? 0 : WH_ERR_FORMAT,
		    "Join token length");
	}

	e = example(WHARF__ENVELOPE__BODY_PUT_OPEN);
	po = *e->put_open;
	e->put_open = &po;
	po.stripe.data = big;
	po.stripe.len = WIRE_STRIPE_ID_LEN;
	EXPECT(e, 0, "PutOpen with a stripe");
	po.stripe.len = WIRE_STRIPE_ID_LEN - 1;
	EXPECT(e, WH_ERR_FORMAT, "PutOpen with a short stripe");

	e = example(WHARF__ENVELOPE__BODY_STRIPE_COMMIT);
	sc = *e->stripe_commit;
	e->stripe_commit = &sc;
	sc.stripe.len = WIRE_STRIPE_ID_LEN + 1;
	sc.stripe.data = big;
	EXPECT(e, WH_ERR_FORMAT, "StripeCommit with a long stripe");
	sc = *example(WHARF__ENVELOPE__BODY_STRIPE_COMMIT)->stripe_commit;
	e = example(WHARF__ENVELOPE__BODY_STRIPE_COMMIT);
	e->stripe_commit = &sc;
	sc.file_hash.len = 0;
	EXPECT(e, WH_ERR_FORMAT, "StripeCommit without a digest");

	e = example(WHARF__ENVELOPE__BODY_PUT_READY);
	pr = *e->put_ready;
	e->put_ready = &pr;
	pr.prefix_hash.len = 0;
	EXPECT(e, 0, "PutReady at 0 without a digest");
	pr.offset = 4096;
	EXPECT(e, WH_ERR_FORMAT, "PutReady offering a prefix without digest");
	pr.prefix_hash.len = WIRE_DIGEST_LEN - 1;
	pr.prefix_hash.data = big;
	EXPECT(e, WH_ERR_FORMAT, "PutReady with a short digest");

	e = example(WHARF__ENVELOPE__BODY_CHUNK);
	ch = *e->chunk;
	e->chunk = &ch;
	ch.hash.len = 0;
	EXPECT(e, WH_ERR_FORMAT, "Chunk without a digest");
	ch.hash.len = WIRE_DIGEST_LEN + 1;
	ch.hash.data = big;
	EXPECT(e, WH_ERR_FORMAT, "Chunk with a long digest");
	ch.hash.len = WIRE_DIGEST_LEN;
	ch.ref = 1;
	EXPECT(e, WH_ERR_FORMAT, "a reference Chunk with data");
	ch.data.len = 0;
	EXPECT(e, 0, "a reference Chunk");
	CU_ASSERT_EQUAL(msg_chunk_validate(&ch), 0);

	e = example(WHARF__ENVELOPE__BODY_PUT_END);
	pe = *e->put_end;
	e->put_end = &pe;
	pe.file_hash.len = 0;
	EXPECT(e, WH_ERR_FORMAT, "PutEnd without a digest");
	pe.abort = 1;
	EXPECT(e, 0, "an aborting PutEnd without a digest");
	pe.file_hash.len = WIRE_DIGEST_LEN - 1;
	pe.file_hash.data = big;
	EXPECT(e, WH_ERR_FORMAT, "an aborting PutEnd with a short digest");

	e = example(WHARF__ENVELOPE__BODY_GET);
	gr = *e->get;
	e->get = &gr;
	gr.prefix_hash.len = 0;
	EXPECT(e, WH_ERR_FORMAT, "GetReq resuming without a digest");
	gr.offset = 0;
	EXPECT(e, 0, "GetReq from 0 without a digest");
	gr.prefix_hash.len = 1;
	gr.prefix_hash.data = big;
	EXPECT(e, WH_ERR_FORMAT, "GetReq with a 1-byte digest");

	e = example(WHARF__ENVELOPE__BODY_GET_END);
	ge = *e->get_end;
	e->get_end = &ge;
	ge.file_hash.len = WIRE_DIGEST_LEN - 1;
	EXPECT(e, WH_ERR_FORMAT, "GetEnd with a short digest");
	ge.file_hash.len = 0;
	EXPECT(e, WH_ERR_FORMAT, "GetEnd without a digest");

	e = example(WHARF__ENVELOPE__BODY_SUM_REPLY);
	sr = *e->sum_reply;
	e->sum_reply = &sr;
	sr.hash.len = WIRE_DIGEST_LEN - 1;
	EXPECT(e, WH_ERR_FORMAT, "SumReply with a short digest");
}

/* A packed Chunk envelope of n data bytes (pattern), in a fresh heap copy
 * of exactly its size; stream set: data is no longer its last field. */
static uint8_t *
chunk_frame(size_t n, int stream, size_t *len, uint8_t **data_out)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__Chunk ch = WHARF__CHUNK__INIT;
	static uint8_t hash[WIRE_DIGEST_LEN];
	struct buf *b = buf_new(WIRE_FRAME_MAX);
	uint8_t *data = malloc(n), *out = NULL;
	size_t i;

	if (b == NULL || data == NULL)
		goto out;
	for (i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	ch.index = 0;
	ch.raw_len = (uint32_t)n;
	ch.hash.data = hash;
	ch.hash.len = sizeof(hash);
	ch.data.data = data;
	ch.data.len = n;
	ch.stream = stream != 0;
	ch.compressed = 0;
	env.id = 7;
	env.body_case = WHARF__ENVELOPE__BODY_CHUNK;
	env.chunk = &ch;
	if (msg_pack(&env, b, 0, WIRE_FRAME_MAX) != 0 ||
	    (out = malloc(buf_len(b))) == NULL)
		goto out;
	memcpy(out, buf_ptr(b), buf_len(b));
	*len = buf_len(b);
out:
	buf_free(b);
	*data_out = data;
	return out;
}

/* msg_unpack_borrow with msg_unpack's budget. */
static int
borrow(uint8_t *p, size_t len, Wharf__Envelope **out)
{
	return msg_unpack_borrow(
	    p, len, msg_decode_limit(len, WIRE_FRAME_MAX), out);
}

/* Whether d lies in the frame f of len bytes (borrowed, not copied). */
static int
in_frame(const ProtobufCBinaryData *d, const uint8_t *f, size_t len)
{
	return d->data >= f && d->data < f + len;
}

/*
 * msg_unpack_borrow: a big chunk with its data last is decoded with the
 * data left in the frame (and the frame as it was); msg_own gives it a
 * copy that outlives the frame; other layouts, small data and bad frames
 * decode as msg_unpack does.
 */
static void
test_unpack_borrow(void)
{
	Wharf__Envelope *got = NULL, *ref = NULL;
	uint8_t *f, *before, *data;
	size_t len = 0, n = 64 * 1024;

	f = chunk_frame(n, 0, &len, &data);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	before = malloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(before);
	memcpy(before, f, len);
	CU_ASSERT_EQUAL_FATAL(borrow(f, len, &got), 0);
	CU_ASSERT_EQUAL(memcmp(f, before, len), 0);
	CU_ASSERT_EQUAL(got->id, 7);
	CU_ASSERT_EQUAL_FATAL(got->body_case, WHARF__ENVELOPE__BODY_CHUNK);
	/* In the frame, at its end: not a copy. */
	CU_ASSERT(got->chunk->data.data == f + len - n);
	CU_ASSERT(bytes_eq(&got->chunk->data, data, n));
	CU_ASSERT_EQUAL(got->chunk->raw_len, n);
	/* Owned, it no longer needs the frame. */
	CU_ASSERT_EQUAL(msg_own(got), 0);
	memset(f, 0xee, len);
	CU_ASSERT(bytes_eq(&got->chunk->data, data, n));
	CU_ASSERT(msg_decoded_size(got) > n);
	msg_free(got);
	got = NULL;
	free(f);
	free(data);
	free(before);

	/* stream set: data is not last; decoded as ever, into a copy. */
	f = chunk_frame(n, 1, &len, &data);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL_FATAL(borrow(f, len, &got), 0);
	CU_ASSERT(!in_frame(&got->chunk->data, f, len));
	CU_ASSERT(bytes_eq(&got->chunk->data, data, n));
	CU_ASSERT(got->chunk->stream);
	CU_ASSERT_EQUAL(msg_own(got), 0); /* nothing to do */
	msg_free(got);
	got = NULL;
	/* Truncated: the same verdict as msg_unpack. */
	CU_ASSERT_EQUAL(borrow(f, len - 1, &got), msg_unpack(f, len - 1, &ref));
	CU_ASSERT_PTR_NULL(got);
	CU_ASSERT_PTR_NULL(ref);
	free(f);
	free(data);

	/* Small data: not worth it, a copy. */
	f = chunk_frame(100, 0, &len, &data);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL_FATAL(borrow(f, len, &got), 0);
	CU_ASSERT(!in_frame(&got->chunk->data, f, len));
	CU_ASSERT(bytes_eq(&got->chunk->data, data, 100));
	msg_free(got);
	got = NULL;
	free(f);
	free(data);
}

/*
 * Two chunk fields in one envelope: protobuf merges them, and the first
 * one's data (the second has none of its own once cut) must not be taken
 * for it: the borrowing decoder gives what msg_unpack gives.
 */
static void
test_unpack_borrow_merged(void)
{
	Wharf__Envelope *got = NULL, *ref = NULL;
	uint8_t *a, *b, *both, *da, *db;
	size_t la = 0, lb = 0;

	a = chunk_frame(8192, 0, &la, &da);
	b = chunk_frame(16384, 0, &lb, &db);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	both = malloc(la + lb);
	CU_ASSERT_PTR_NOT_NULL_FATAL(both);
	memcpy(both, a, la);
	memcpy(both + la, b, lb);
	CU_ASSERT_EQUAL_FATAL(msg_unpack(both, la + lb, &ref), 0);
	CU_ASSERT_EQUAL_FATAL(borrow(both, la + lb, &got), 0);
	CU_ASSERT_EQUAL(got->chunk->data.len, ref->chunk->data.len);
	CU_ASSERT(bytes_eq(
	    &got->chunk->data, ref->chunk->data.data, ref->chunk->data.len));
	CU_ASSERT_EQUAL(got->chunk->raw_len, ref->chunk->raw_len);
	msg_free(got);
	msg_free(ref);
	free(both);
	free(a);
	free(b);
	free(da);
	free(db);
}

void
register_msg_tests(void)
{
	CU_pSuite s = CU_add_suite("msg", NULL, NULL);

	if (s == NULL)
		return;
	CU_add_test(s, "round trip: mkdir", test_round_trip_mkdir);
	CU_add_test(s, "round trip: list_part", test_round_trip_list_part);
	CU_add_test(s, "round trip: error", test_round_trip_error);
	CU_add_test(s, "round trip: auth", test_round_trip_auth);
	CU_add_test(s, "round trip: ping", test_round_trip_ping);
	CU_add_test(s, "round trip: rename", test_round_trip_rename);
	CU_add_test(s, "pack over the limit", test_pack_limit);
	CU_add_test(s, "unpack garbage", test_unpack_garbage);
	CU_add_test(s, "unpack truncated", test_unpack_truncated);
	CU_add_test(s, "ClientHello key length", test_client_hello_key_length);
	CU_add_test(s, "ServerHello field lengths", test_server_hello_lengths);
	CU_add_test(s, "ListPart names", test_list_part_names);
	CU_add_test(s, "DeltaIndex geometry", test_delta_index_shift);
	CU_add_test(s, "unknown fields and bodies", test_unknown_fields);
	CU_add_test(s, "msg_text", test_msg_text);
	CU_add_test(s, "wire error codes", test_error_codes);
	CU_add_test(
	    s, "decode amplification refused", test_decode_amplification);
	CU_add_test(s, "decode peak within the budget", test_decode_peak);
	CU_add_test(s, "largest real messages within the budget",
	    test_decode_largest_real);
	CU_add_test(s, "pre-login budget", test_decode_preauth);
	CU_add_test(s, "every body type validates", test_validate_examples);
	CU_add_test(
	    s, "digest, token and stripe lengths", test_validate_lengths);
	CU_add_test(
	    s, "chunk data borrowed from the frame", test_unpack_borrow);
	CU_add_test(s, "borrowing a merged chunk", test_unpack_borrow_merged);
}
