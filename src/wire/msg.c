/* SPDX-License-Identifier: MIT */
/*
 * Envelope encode/decode glue over protobuf-c, and the per-message checks
 * that make a decoded message safe for the rest of the program.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "wharf/msg.h"
#include "wharf/wire.h"

#define MSG_SOFTWARE_MAX 256
#define MSG_ERROR_TEXT_MAX 1024
#define MSG_SERVER_CORE_MAX 1024

int
msg_pack(
    const Wharf__Envelope *env, struct buf *out, size_t headroom, size_t limit)
{
	size_t n = wharf__envelope__get_packed_size(env);
	uint8_t *dst;
	int r;

	if (n > limit)
		return WH_ERR_TOO_LARGE;
	if ((r = buf_reserve(out, headroom + n, &dst)) != 0)
		return r;
	memset(dst, 0, headroom);
	if (wharf__envelope__pack(env, dst + headroom) != n)
		return WH_ERR_FORMAT;
	buf_commit(out, headroom + n);
	return 0;
}

static int
validate_file_info(const Wharf__FileInfo *fi)
{
	if (fi == NULL || fi->name.len > WIRE_NAME_MAX ||
	    (fi->name.len > 0 &&
	        memchr(fi->name.data, '\0', fi->name.len) != NULL) ||
	    fi->link_target.len > WIRE_PATH_MAX ||
	    (fi->link_target.len > 0 &&
	        memchr(fi->link_target.data, '\0', fi->link_target.len) !=
	            NULL))
		return WH_ERR_FORMAT;
	return 0;
}

static int
text_ok(const ProtobufCBinaryData *b, size_t max)
{
	return b->len <= max &&
	    (b->len == 0 || memchr(b->data, '\0', b->len) == NULL);
}

/* A digest field: exactly WIRE_DIGEST_LEN bytes, or (optional) none. */
static int
digest_ok(const ProtobufCBinaryData *b, int optional)
{
	return b->len == WIRE_DIGEST_LEN || (optional && b->len == 0);
}

int
msg_chunk_validate(const Wharf__Chunk *c)
{
	/* A reference names an old block by its digest and carries no
	 * data; a chunk with data always has its digest. */
	if (!digest_ok(&c->hash, 0) || (c->ref && c->data.len != 0))
		return WH_ERR_FORMAT;
	return 0;
}

int
msg_validate(const Wharf__Envelope *env)
{
	size_t i;

	switch (env->body_case) {
	case WHARF__ENVELOPE__BODY_CLIENT_HELLO:
		if (env->client_hello->ephemeral_key.len != WIRE_KEY_LEN ||
		    strlen(env->client_hello->software) > MSG_SOFTWARE_MAX)
			return WH_ERR_FORMAT;
		break;
	case WHARF__ENVELOPE__BODY_SERVER_HELLO:
		if (env->server_hello->core.len > MSG_SERVER_CORE_MAX ||
		    env->server_hello->signature.len != WIRE_SIG_LEN ||
		    env->server_hello->key_confirm.len != WIRE_CONFIRM_LEN)
			return WH_ERR_FORMAT;
		break;
	case WHARF__ENVELOPE__BODY_AUTH:
		/* Over-long names fail authentication later, not here:
		 * the answer must not depend on which field was wrong. */
		if (env->auth->user.len > WIRE_PATH_MAX ||
		    env->auth->password.len > WIRE_PASSWORD_MAX)
			return WH_ERR_FORMAT;
		break;
	case WHARF__ENVELOPE__BODY_AUTH_OK:
		/* No token: a server that cannot be joined (no striping). */
		if (!text_ok(&env->auth_ok->user, WIRE_PATH_MAX) ||
		    !text_ok(&env->auth_ok->cwd, WIRE_PATH_MAX) ||
		    (env->auth_ok->session_token.len != 0 &&
		        env->auth_ok->session_token.len != WIRE_TOKEN_LEN))
			return WH_ERR_FORMAT;
		break;
	case WHARF__ENVELOPE__BODY_JOIN:
		if (env->join->token.len != WIRE_TOKEN_LEN)
			return WH_ERR_FORMAT;
		break;
	case WHARF__ENVELOPE__BODY_ERROR:
		if (strlen(env->error->message) > MSG_ERROR_TEXT_MAX)
			return WH_ERR_FORMAT;
		break;
	case WHARF__ENVELOPE__BODY_LIST_PART:
		for (i = 0; i < env->list_part->n_entries; i++)
			if (validate_file_info(env->list_part->entries[i]) != 0)
				return WH_ERR_FORMAT;
		break;
	case WHARF__ENVELOPE__BODY_STAT_REPLY:
		if (validate_file_info(env->stat_reply->info) != 0 ||
		    !text_ok(&env->stat_reply->path, WIRE_PATH_MAX))
			return WH_ERR_FORMAT;
		break;
	case WHARF__ENVELOPE__BODY_DELTA_INDEX:
		if (env->delta_index->cdc_shift != 0 &&
		    (env->delta_index->cdc_shift < WIRE_CDC_SHIFT_MIN ||
		        env->delta_index->cdc_shift > WIRE_CDC_SHIFT_MAX))
			return WH_ERR_FORMAT;
		/* Bounded by the frame; each entry must be a real digest. */
		for (i = 0; i < env->delta_index->n_blocks; i++)
			if (env->delta_index->blocks[i]->hash.len !=
			        WIRE_DIGEST_LEN ||
			    env->delta_index->blocks[i]->len == 0)
				return WH_ERR_FORMAT;
		break;
	case WHARF__ENVELOPE__BODY_CWD:
		if (!text_ok(&env->cwd->cwd, WIRE_PATH_MAX))
			return WH_ERR_FORMAT;
		break;
	case WHARF__ENVELOPE__BODY_PUT_OPEN:
		/* A stripe names a range upload; whether the range fits
		 * the file is the session's to judge. */
		if (env->put_open->stripe.len != 0 &&
		    env->put_open->stripe.len != WIRE_STRIPE_ID_LEN)
			return WH_ERR_FORMAT;
		break;
	case WHARF__ENVELOPE__BODY_STRIPE_COMMIT:
		if (env->stripe_commit->stripe.len != WIRE_STRIPE_ID_LEN ||
		    !digest_ok(&env->stripe_commit->file_hash, 0))
			return WH_ERR_FORMAT;
		break;
	case WHARF__ENVELOPE__BODY_PUT_READY:
		/* A resume offer comes with the digest that proves it. */
		if (!digest_ok(&env->put_ready->prefix_hash,
		        env->put_ready->offset == 0))
			return WH_ERR_FORMAT;
		break;
	case WHARF__ENVELOPE__BODY_CHUNK:
		return msg_chunk_validate(env->chunk);
	case WHARF__ENVELOPE__BODY_PUT_END:
		/* Only an abort may come without the file digest. */
		if (!digest_ok(&env->put_end->file_hash, env->put_end->abort))
			return WH_ERR_FORMAT;
		break;
	case WHARF__ENVELOPE__BODY_GET:
		if (!digest_ok(&env->get->prefix_hash, env->get->offset == 0))
			return WH_ERR_FORMAT;
		break;
	case WHARF__ENVELOPE__BODY_GET_END:
		if (!digest_ok(&env->get_end->file_hash, 0))
			return WH_ERR_FORMAT;
		break;
	case WHARF__ENVELOPE__BODY_SUM_REPLY:
		if (!digest_ok(&env->sum_reply->hash, 0))
			return WH_ERR_FORMAT;
		break;
	case WHARF__ENVELOPE__BODY_OK:
	case WHARF__ENVELOPE__BODY_LIST:
	case WHARF__ENVELOPE__BODY_STAT:
	case WHARF__ENVELOPE__BODY_CD:
	case WHARF__ENVELOPE__BODY_PWD:
	case WHARF__ENVELOPE__BODY_MKDIR:
	case WHARF__ENVELOPE__BODY_RMDIR:
	case WHARF__ENVELOPE__BODY_REMOVE:
	case WHARF__ENVELOPE__BODY_RENAME:
	case WHARF__ENVELOPE__BODY_PROTECT:
	case WHARF__ENVELOPE__BODY_UNPROTECT:
	case WHARF__ENVELOPE__BODY_SUM:
	case WHARF__ENVELOPE__BODY_STATFS:
	case WHARF__ENVELOPE__BODY_SET_ATTR:
	case WHARF__ENVELOPE__BODY_SYMLINK:
		/* Paths, link targets, passcodes and attributes: the
		 * sandbox, the link rule (§8.2), the protection store and
		 * SetAttr check them, so that the answer is INVALID_PATH,
		 * PERMISSION or PROTOCOL rather than a framing error. */
		break;
	case WHARF__ENVELOPE__BODY_PING:
	case WHARF__ENVELOPE__BODY_PONG:
	case WHARF__ENVELOPE__BODY_PUT_DONE:
	case WHARF__ENVELOPE__BODY_GET_INFO:
	case WHARF__ENVELOPE__BODY_CANCEL:
	case WHARF__ENVELOPE__BODY_PROBE:
	case WHARF__ENVELOPE__BODY_PROBE_REPLY:
	case WHARF__ENVELOPE__BODY_STATFS_REPLY:
		/* Numbers and payloads, bounded by the frame; their meaning
		 * depends on the transfer's state (session, xfer). */
		break;
	default:
		/* NOT_SET: a body this version does not know. */
		break;
	}
	return 0;
}

/*
 * protobuf-c allocates everything a message holds before any check can
 * run, so the decoder gets an allocator that keeps count. Each block
 * starts with a header: its size, so that frees are counted too, and in
 * the envelope's block the heap the whole message holds. MSG_HDR_LEN
 * keeps what follows aligned as malloc's own result is.
 */
struct msg_hdr {
	size_t size;
	size_t total;
	int borrowed; /* the envelope's chunk data points into the frame */
};

#define MSG_ALIGN _Alignof(max_align_t)
#define MSG_HDR_LEN \
	((sizeof(struct msg_hdr) + MSG_ALIGN - 1) / MSG_ALIGN * MSG_ALIGN)
/* malloc's own header and rounding: counted so the budget is the heap. */
#define MSG_BLOCK_OVERHEAD (2 * sizeof(size_t))

/* One decode's account; NULL allocator data: not counted (frees). */
struct msg_budget {
	size_t used;
	size_t peak;
	size_t limit;
	int nomem; /* malloc failed within the budget */
};

static struct msg_hdr *
msg_hdr_of(const void *p)
{
	return (struct msg_hdr *)(uintptr_t)((const unsigned char *)p -
	    MSG_HDR_LEN);
}

static void *
msg_heap_alloc(void *data, size_t size)
{
	struct msg_budget *b = data;
	unsigned char *blk;
	size_t need;

	if (size > SIZE_MAX - MSG_HDR_LEN - MSG_BLOCK_OVERHEAD)
		return NULL;
	need = MSG_HDR_LEN + size + MSG_BLOCK_OVERHEAD;
	if (b != NULL && need > b->limit - b->used)
		return NULL;
	if ((blk = malloc(MSG_HDR_LEN + size)) == NULL) {
		if (b != NULL)
			b->nomem = 1;
		return NULL;
	}
	((struct msg_hdr *)(void *)blk)->size = need;
	((struct msg_hdr *)(void *)blk)->total = 0;
	((struct msg_hdr *)(void *)blk)->borrowed = 0;
	if (b != NULL) {
		b->used += need;
		if (b->used > b->peak)
			b->peak = b->used;
	}
	return blk + MSG_HDR_LEN;
}

static void
msg_heap_free(void *data, void *p)
{
	struct msg_budget *b = data;
	struct msg_hdr *h;

	if (p == NULL)
		return;
	h = msg_hdr_of(p);
	if (b != NULL)
		b->used -= h->size;
	free(h);
}

/* For msg_free: every block of an unpacked envelope has the header. */
static ProtobufCAllocator msg_heap = { msg_heap_alloc, msg_heap_free, NULL };

size_t
msg_decode_limit(size_t len, size_t frame_max)
{
	size_t base = frame_max <= WIRE_FRAME_MAX_PREAUTH ?
	    WIRE_DECODE_FLOOR_PREAUTH :
	    WIRE_DECODE_FLOOR;

	if (len > (SIZE_MAX - base) / WIRE_DECODE_FACTOR)
		return SIZE_MAX;
	return len * WIRE_DECODE_FACTOR + base;
}

/* protobuf-c's decode under a budget; no checks yet. */
static int
unpack_counted(const uint8_t *p, size_t len, size_t budget,
    Wharf__Envelope **out, size_t *peakp)
{
	struct msg_budget b = { 0, 0, budget, 0 };
	ProtobufCAllocator a = { msg_heap_alloc, msg_heap_free, &b };
	Wharf__Envelope *env;

	*out = NULL;
	env = wharf__envelope__unpack(&a, len, p);
	if (peakp != NULL)
		*peakp = b.peak;
	if (env == NULL)
		return b.nomem ? WH_ERR_NOMEM : WH_ERR_FORMAT;
	/* The decoder's scratch is freed by now: what is left is the
	 * message. */
	msg_hdr_of(env)->total = b.used;
	*out = env;
	return 0;
}

int
msg_unpack_budget(const uint8_t *p, size_t len, size_t budget,
    Wharf__Envelope **out, size_t *peakp)
{
	int r;

	if ((r = unpack_counted(p, len, budget, out, peakp)) != 0)
		return r;
	if ((r = msg_validate(*out)) != 0) {
		msg_free(*out);
		*out = NULL;
	}
	return r;
}

/*
 * The last field of the protobuf message in r (all of what r holds): its
 * number, its wire type and, for a length-delimited one, where its length
 * varint starts (off, from base, the region's offset in the frame), its
 * width, and the value's length. Every field is walked, so that a frame
 * this cannot read is left to protobuf-c, which tells what is wrong.
 */
struct pb_field {
	uint64_t number;
	unsigned wire_type;
	size_t len_off, len_width, value_len;
};

static int
pb_varint(struct buf *r, uint64_t *v, size_t *width)
{
	uint8_t c;
	size_t i;

	*v = 0;
	for (i = 0; i < 10; i++) {
		if (buf_get_u8(r, &c) != 0)
			return WH_ERR_FORMAT;
		*v |= (uint64_t)(c & 0x7f) << (7 * i);
		if ((c & 0x80) == 0) {
			*width = i + 1;
			return 0;
		}
	}
	return WH_ERR_FORMAT;
}

static int
pb_last_field(const uint8_t *p, size_t len, size_t base, struct pb_field *f)
{
	struct buf *r = buf_view_new(p, len);
	uint64_t tag, v;
	size_t w;
	int ok = 0;

	if (r == NULL)
		return WH_ERR_NOMEM;
	while (buf_len(r) > 0) {
		if (pb_varint(r, &tag, &w) != 0)
			goto out;
		f->number = tag >> 3;
		f->wire_type = (unsigned)(tag & 7);
		f->len_off = base + (len - buf_len(r));
		f->len_width = 0;
		f->value_len = 0;
		switch (f->wire_type) {
		case 0:
			if (pb_varint(r, &v, &w) != 0)
				goto out;
			break;
		case 1:
			if (buf_consume(r, 8) != 0)
				goto out;
			break;
		case 2:
			if (pb_varint(r, &v, &f->len_width) != 0 ||
			    v > buf_len(r) || buf_consume(r, (size_t)v) != 0)
				goto out;
			f->value_len = (size_t)v;
			break;
		case 5:
			if (buf_consume(r, 4) != 0)
				goto out;
			break;
		default: /* groups: not in wharf's messages */
			goto out;
		}
	}
	ok = len > 0;
out:
	buf_free(r);
	return ok ? 0 : WH_ERR_FORMAT;
}

/* v written as a varint of exactly width bytes (padded with continuation
 * bytes, which every protobuf decoder reads as the same number). */
static void
pb_varint_padded(uint8_t *p, uint64_t v, size_t width)
{
	size_t i;

	for (i = 0; i + 1 < width; i++) {
		p[i] = (uint8_t)((v & 0x7f) | 0x80);
		v >>= 7;
	}
	p[i] = (uint8_t)v;
}

#define MSG_BORROW_MIN 4096u /* smaller data is not worth the scan */
#define MSG_FIELD_CHUNK 32u /* Envelope.chunk */
#define MSG_FIELD_DATA 5u /* Chunk.data */

int
msg_unpack_borrow(uint8_t *p, size_t len, size_t budget, Wharf__Envelope **out)
{
	struct pb_field env_f, chunk_f;
	uint8_t saved_env[10], saved_chunk[10];
	size_t chunk_at, data_at, inner;
	Wharf__Envelope *env;
	int r;

	*out = NULL;
	/* Only the layout wharf's senders use (protocol.md §9): the chunk
	 * last in the envelope, its data last in the chunk. */
	if (len < MSG_BORROW_MIN || pb_last_field(p, len, 0, &env_f) != 0 ||
	    env_f.number != MSG_FIELD_CHUNK || env_f.wire_type != 2)
		return msg_unpack_budget(p, len, budget, out, NULL);
	chunk_at = env_f.len_off + env_f.len_width;
	if (pb_last_field(p + chunk_at, env_f.value_len, chunk_at, &chunk_f) !=
	        0 ||
	    chunk_f.number != MSG_FIELD_DATA || chunk_f.wire_type != 2 ||
	    chunk_f.value_len < MSG_BORROW_MIN)
		return msg_unpack_budget(p, len, budget, out, NULL);
	data_at = chunk_f.len_off + chunk_f.len_width;
	if (data_at + chunk_f.value_len != len) /* cannot be: both last */
		return msg_unpack_budget(p, len, budget, out, NULL);
	inner = env_f.value_len - chunk_f.value_len;
	/* The frame without the data bytes, in place: both lengths shrink
	 * and keep their widths, and the data (last) is cut off the end. */
	memcpy(saved_env, p + env_f.len_off, env_f.len_width);
	memcpy(saved_chunk, p + chunk_f.len_off, chunk_f.len_width);
	pb_varint_padded(p + env_f.len_off, inner, env_f.len_width);
	pb_varint_padded(p + chunk_f.len_off, 0, chunk_f.len_width);
	r = unpack_counted(p, data_at, budget, &env, NULL);
	memcpy(p + env_f.len_off, saved_env, env_f.len_width);
	memcpy(p + chunk_f.len_off, saved_chunk, chunk_f.len_width);
	if (r == WH_ERR_NOMEM)
		return r;
	/* Anything unexpected (a second chunk field merged into this one,
	 * which gave data of its own): protobuf-c on the whole frame. */
	if (r != 0 || env->body_case != WHARF__ENVELOPE__BODY_CHUNK ||
	    env->chunk == NULL || env->chunk->data.data != NULL) {
		msg_free(env);
		return msg_unpack_budget(p, len, budget, out, NULL);
	}
	env->chunk->data.data = p + data_at;
	env->chunk->data.len = chunk_f.value_len;
	msg_hdr_of(env)->borrowed = 1;
	if ((r = msg_validate(env)) != 0) {
		msg_free(env);
		return r;
	}
	*out = env;
	return 0;
}

int
msg_own(Wharf__Envelope *env)
{
	ProtobufCBinaryData *d;
	uint8_t *copy;

	if (env == NULL || !msg_hdr_of(env)->borrowed)
		return 0;
	d = &env->chunk->data;
	if ((copy = msg_heap_alloc(NULL, d->len)) == NULL)
		return WH_ERR_NOMEM;
	memcpy(copy, d->data, d->len);
	d->data = copy;
	msg_hdr_of(env)->total += msg_hdr_of(copy)->size;
	msg_hdr_of(env)->borrowed = 0;
	return 0;
}

int
msg_unpack(const uint8_t *p, size_t len, Wharf__Envelope **out)
{
	return msg_unpack_budget(
	    p, len, msg_decode_limit(len, WIRE_FRAME_MAX), out, NULL);
}

size_t
msg_decoded_size(const Wharf__Envelope *env)
{
	if (env == NULL)
		return 0;
	return msg_hdr_of(env)->total;
}

void
msg_free(Wharf__Envelope *env)
{
	if (env == NULL)
		return;
	/* Borrowed data is the frame's, not a block of ours. */
	if (msg_hdr_of(env)->borrowed)
		env->chunk->data = (ProtobufCBinaryData){ 0, NULL };
	wharf__envelope__free_unpacked(env, &msg_heap);
}

int
msg_text(const ProtobufCBinaryData *b, char *out, size_t outlen)
{
	if (b->len > 0 && memchr(b->data, '\0', b->len) != NULL)
		return WH_ERR_FORMAT;
	if (b->len >= outlen)
		return WH_ERR_TOO_LARGE;
	if (b->len > 0)
		memcpy(out, b->data, b->len);
	out[b->len] = '\0';
	return 0;
}

ProtobufCBinaryData
msg_bytes(const char *s)
{
	ProtobufCBinaryData b;

	/* protobuf-c never writes through data when packing. */
	b.data = (uint8_t *)(uintptr_t)s;
	b.len = s != NULL ? strlen(s) : 0;
	return b;
}

const char *
msg_body_name(Wharf__Envelope__BodyCase c)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field(
	        &wharf__envelope__descriptor, (unsigned)c);

	return f != NULL && c != WHARF__ENVELOPE__BODY__NOT_SET ? f->name :
	                                                          "unknown";
}

static const struct code_row {
	Wharf__ErrorCode code;
	int err;
	const char *name;
	const char *text;
} code_table[] = {
	{ WHARF__ERROR_CODE__NOT_FOUND, WH_ERR_NOT_FOUND, "NOT_FOUND",
	    "no such file or directory" },
	{ WHARF__ERROR_CODE__EXISTS, WH_ERR_EXISTS, "EXISTS",
	    "already exists" },
	{ WHARF__ERROR_CODE__NOT_EMPTY, WH_ERR_NOT_EMPTY, "NOT_EMPTY",
	    "directory not empty" },
	{ WHARF__ERROR_CODE__NOT_A_DIRECTORY, WH_ERR_NOT_DIR, "NOT_A_DIRECTORY",
	    "not a directory" },
	{ WHARF__ERROR_CODE__IS_A_DIRECTORY, WH_ERR_IS_DIR, "IS_A_DIRECTORY",
	    "is a directory" },
	{ WHARF__ERROR_CODE__PERMISSION, WH_ERR_PERMISSION, "PERMISSION",
	    "permission denied" },
	{ WHARF__ERROR_CODE__INVALID_PATH, WH_ERR_INVALID_PATH, "INVALID_PATH",
	    "invalid path" },
	{ WHARF__ERROR_CODE__TOO_LARGE, WH_ERR_TOO_LARGE, "TOO_LARGE",
	    "too large" },
	{ WHARF__ERROR_CODE__AUTH_FAILED, WH_ERR_AUTH, "AUTH_FAILED",
	    "authentication failed" },
	{ WHARF__ERROR_CODE__UNSUPPORTED, WH_ERR_UNSUPPORTED, "UNSUPPORTED",
	    "not supported" },
	{ WHARF__ERROR_CODE__PROTOCOL, WH_ERR_PROTOCOL, "PROTOCOL",
	    "protocol error" },
	{ WHARF__ERROR_CODE__INTERNAL, WH_ERR_SYSTEM, "INTERNAL",
	    "internal server error" },
	{ WHARF__ERROR_CODE__BUSY, WH_ERR_BUSY, "BUSY", "server busy" },
	{ WHARF__ERROR_CODE__NO_SPACE, WH_ERR_NO_SPACE, "NO_SPACE",
	    "no space left on server" },
	{ WHARF__ERROR_CODE__BAD_HASH, WH_ERR_BAD_HASH, "BAD_HASH",
	    "hash mismatch" },
	{ WHARF__ERROR_CODE__IO, WH_ERR_IO, "IO", "input/output error" },
	{ WHARF__ERROR_CODE__TIMEOUT, WH_ERR_TIMEOUT, "TIMEOUT", "timed out" },
	{ WHARF__ERROR_CODE__CANCELLED, WH_ERR_CANCELLED, "CANCELLED",
	    "cancelled" },
};

#define CODE_TABLE_LEN (sizeof(code_table) / sizeof(code_table[0]))

Wharf__ErrorCode
msg_code_from_err(int r)
{
	size_t i;

	/* Internal failures that a peer should not see in detail. */
	switch (r) {
	case WH_ERR_FORMAT:
	case WH_ERR_TRUNCATED:
		return WHARF__ERROR_CODE__PROTOCOL;
	case WH_ERR_DECOMPRESS:
		return WHARF__ERROR_CODE__PROTOCOL;
	case WH_ERR_INVALID_ARG:
		return WHARF__ERROR_CODE__PROTOCOL;
	case WH_ERR_CORRUPT:
	case WH_ERR_NOMEM:
		return WHARF__ERROR_CODE__INTERNAL;
	}
	for (i = 0; i < CODE_TABLE_LEN; i++)
		if (code_table[i].err == r)
			return code_table[i].code;
	return WHARF__ERROR_CODE__INTERNAL;
}

/* The table's row for a wire code, or NULL for a code it lacks. */
static const struct code_row *
code_row_of(Wharf__ErrorCode code)
{
	size_t i;

	for (i = 0; i < CODE_TABLE_LEN; i++)
		if (code_table[i].code == code)
			return &code_table[i];
	return NULL;
}

int
msg_err_from_code(Wharf__ErrorCode code)
{
	const struct code_row *row = code_row_of(code);

	return row != NULL ? row->err : WH_ERR_REMOTE;
}

const char *
msg_code_text(Wharf__ErrorCode code)
{
	const struct code_row *row = code_row_of(code);

	return row != NULL ? row->text : "unknown error";
}

const char *
msg_code_name(Wharf__ErrorCode code)
{
	const struct code_row *row = code_row_of(code);

	return row != NULL ? row->name : "UNKNOWN";
}
