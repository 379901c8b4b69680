/* SPDX-License-Identifier: MIT */
/*
 * Sealed frame transport. Frame layout after the handshake:
 * length(4) || tag(16) || ciphertext, where length counts tag and
 * ciphertext, sealed in place where the envelope was packed and opened in
 * place where it was read. secretbox: the nonce is the 64-bit frame
 * counter of that direction, little-endian in the first 8 of 24 bytes.
 * AES-256-GCM: the 96-bit nonce is u32(direction) || u64(counter),
 * big-endian, and the 4-byte length is the associated data. Keys differ
 * per direction either way, so the two counters never share a nonce
 * under one key.
 */
#include <stdlib.h>
#include <string.h>

#include "wharf/accel.h"
#include "wharf/channel.h"
#include "wharf/msg.h"
#include "wharf/wire.h"

struct channel {
	struct wire_io *io;
	struct buf *out;
	int sealed;
	int broken; /* a frame failed to open: nothing more is trusted */
	int gather; /* frames wait in out until channel_flush */
	size_t limit; /* largest envelope, before sealing */
	int cipher; /* enum seal_cipher, once sealed */
	struct seal tx;
	struct seal rx;
};

static void
nonce_from_counter(uint8_t nonce[crypto_secretbox_NONCEBYTES], uint64_t ctr)
{
	size_t i;

	memset(nonce, 0, crypto_secretbox_NONCEBYTES);
	for (i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(ctr >> (8 * i));
}

void
seal_init(struct seal *s, const uint8_t key[SEAL_KEY_LEN])
{
	memset(s, 0, sizeof(*s));
	s->cipher = SEAL_SECRETBOX;
	memcpy(s->key, key, sizeof(s->key));
}

int
seal_init_cipher(
    struct seal *s, int cipher, const uint8_t key[SEAL_KEY_LEN], unsigned dir)
{
	EVP_CIPHER *aes;

	seal_init(s, key);
	if (cipher == SEAL_SECRETBOX)
		return 0;
	if (cipher != SEAL_AES256GCM ||
	    (aes = accel_aes256gcm_cipher()) == NULL)
		return WH_ERR_UNSUPPORTED;
	s->cipher = cipher;
	s->dir = dir;
	/* The key schedule is made once; each frame only sets its nonce. */
	if ((s->gcm = EVP_CIPHER_CTX_new()) == NULL)
		return WH_ERR_NOMEM;
	if (EVP_CipherInit_ex2(s->gcm, aes, key, NULL, 1, NULL) != 1 ||
	    EVP_CIPHER_CTX_get_iv_length(s->gcm) != SEAL_GCM_NONCE_LEN) {
		seal_cleanup(s);
		return WH_ERR_UNSUPPORTED;
	}
	return 0;
}

void
seal_cleanup(struct seal *s)
{
	EVP_CIPHER_CTX_free(s->gcm);
	sodium_memzero(s, sizeof(*s));
}

const char *
seal_cipher_name(int cipher)
{
	return cipher == SEAL_AES256GCM ? "aes256gcm" : "secretbox";
}

int
seal_cipher_parse(const char *name, int *cipher)
{
	if (strcmp(name, "secretbox") == 0)
		*cipher = SEAL_SECRETBOX;
	else if (strcmp(name, "aes256gcm") == 0)
		*cipher = SEAL_AES256GCM;
	else
		return WH_ERR_INVALID_ARG;
	return 0;
}

int
seal_ciphers_parse(const char *list, unsigned *bits)
{
	char name[32];
	const char *p = list, *e;
	size_t n;
	int c;

	*bits = 0;
	for (;;) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0 || n >= sizeof(name))
			return WH_ERR_INVALID_ARG;
		memcpy(name, p, n);
		name[n] = '\0';
		if (seal_cipher_parse(name, &c) != 0)
			return WH_ERR_INVALID_ARG;
		*bits |= HS_CIPHER_BIT(c);
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

/* §5.1: u32(direction) || u64(counter), big-endian. */
static void
gcm_nonce(uint8_t nonce[SEAL_GCM_NONCE_LEN], unsigned dir, uint64_t ctr)
{
	int i;

	for (i = 0; i < 4; i++)
		nonce[i] = (uint8_t)(dir >> (8 * (3 - i)));
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(ctr >> (8 * (7 - i)));
}

/* The frame's length field, bound as associated data. */
static void
gcm_aad(uint8_t aad[WIRE_FRAME_HEADER], size_t len)
{
	size_t n = SEAL_MAC_LEN + len;

	aad[0] = (uint8_t)(n >> 24);
	aad[1] = (uint8_t)(n >> 16);
	aad[2] = (uint8_t)(n >> 8);
	aad[3] = (uint8_t)n;
}

static int
gcm_seal(struct seal *s, uint8_t mac[SEAL_MAC_LEN], uint8_t *data, size_t len)
{
	uint8_t nonce[SEAL_GCM_NONCE_LEN], aad[WIRE_FRAME_HEADER];
	int n = 0, fin = 0;

	if (len > WIRE_FRAME_MAX)
		return WH_ERR_TOO_LARGE;
	gcm_nonce(nonce, s->dir, s->counter);
	gcm_aad(aad, len);
	if (EVP_EncryptInit_ex(s->gcm, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_EncryptUpdate(s->gcm, NULL, &n, aad, sizeof(aad)) != 1 ||
	    EVP_EncryptUpdate(s->gcm, data, &n, data, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(s->gcm, data + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(
	        s->gcm, EVP_CTRL_GCM_GET_TAG, SEAL_MAC_LEN, mac) != 1)
		return WH_ERR_AUTH;
	return 0;
}

static int
gcm_open(
    struct seal *s, const uint8_t mac[SEAL_MAC_LEN], uint8_t *data, size_t len)
{
	uint8_t nonce[SEAL_GCM_NONCE_LEN], aad[WIRE_FRAME_HEADER];
	uint8_t tag[SEAL_MAC_LEN];
	int n = 0, fin = 0;

	if (len > WIRE_FRAME_MAX)
		return WH_ERR_AUTH;
	gcm_nonce(nonce, s->dir, s->counter);
	gcm_aad(aad, len);
	/* OpenSSL takes the expected tag through a non-const pointer. */
	memcpy(tag, mac, sizeof(tag));
	/* GCM decrypts before it checks the tag: on failure the plaintext
	 * is wiped, so nothing unauthenticated is left in the buffer. */
	if (EVP_DecryptInit_ex(s->gcm, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_CIPHER_CTX_ctrl(
	        s->gcm, EVP_CTRL_GCM_SET_TAG, SEAL_MAC_LEN, tag) != 1 ||
	    EVP_DecryptUpdate(s->gcm, NULL, &n, aad, sizeof(aad)) != 1 ||
	    EVP_DecryptUpdate(s->gcm, data, &n, data, (int)len) != 1 ||
	    EVP_DecryptFinal_ex(s->gcm, data + n, &fin) != 1) {
		sodium_memzero(data, len);
		return WH_ERR_AUTH;
	}
	return 0;
}

int
seal_close(struct seal *s, uint8_t mac[SEAL_MAC_LEN], uint8_t *data, size_t len)
{
	uint8_t nonce[crypto_secretbox_NONCEBYTES];
	int r;

	/* 2^64 frames will not happen; refuse rather than reuse a nonce. */
	if (s->counter == UINT64_MAX)
		return WH_ERR_PROTOCOL;
	if (s->cipher == SEAL_AES256GCM) {
		if ((r = gcm_seal(s, mac, data, len)) != 0)
			return r;
	} else {
		nonce_from_counter(nonce, s->counter);
		if (crypto_secretbox_detached(
		        data, mac, data, len, nonce, s->key) != 0)
			return WH_ERR_AUTH;
	}
	s->counter++;
	return 0;
}

int
seal_close_from(struct seal *s, uint8_t mac[SEAL_MAC_LEN], uint8_t *head,
    size_t head_len, uint8_t *dst, const uint8_t *src, size_t len)
{
	uint8_t nonce[SEAL_GCM_NONCE_LEN], aad[WIRE_FRAME_HEADER];
	int n = 0, fin = 0;

	if (s->cipher != SEAL_AES256GCM)
		return WH_ERR_UNSUPPORTED;
	if (s->counter == UINT64_MAX)
		return WH_ERR_PROTOCOL;
	if (head_len > WIRE_FRAME_MAX || len > WIRE_FRAME_MAX - head_len)
		return WH_ERR_TOO_LARGE;
	gcm_nonce(nonce, s->dir, s->counter);
	gcm_aad(aad, head_len + len);
	if (EVP_EncryptInit_ex(s->gcm, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_EncryptUpdate(s->gcm, NULL, &n, aad, sizeof(aad)) != 1 ||
	    EVP_EncryptUpdate(s->gcm, head, &n, head, (int)head_len) != 1 ||
	    EVP_EncryptUpdate(s->gcm, dst, &n, src, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(s->gcm, dst + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(
	        s->gcm, EVP_CTRL_GCM_GET_TAG, SEAL_MAC_LEN, mac) != 1)
		return WH_ERR_AUTH;
	s->counter++;
	return 0;
}

int
seal_open(
    struct seal *s, const uint8_t mac[SEAL_MAC_LEN], uint8_t *data, size_t len)
{
	uint8_t nonce[crypto_secretbox_NONCEBYTES];
	int r;

	if (s->counter == UINT64_MAX)
		return WH_ERR_PROTOCOL;
	if (s->cipher == SEAL_AES256GCM) {
		if ((r = gcm_open(s, mac, data, len)) != 0)
			return r;
	} else {
		nonce_from_counter(nonce, s->counter);
		if (crypto_secretbox_open_detached(
		        data, data, mac, len, nonce, s->key) != 0)
			return WH_ERR_AUTH;
	}
	s->counter++;
	return 0;
}

struct channel *
channel_new(struct wire_io *io)
{
	struct channel *ch = calloc(1, sizeof(*ch));

	if (ch == NULL)
		return NULL;
	/* One frame of the largest size after what a gather holds. */
	ch->out = buf_new(WIRE_FRAME_HEADER + SEAL_MAC_LEN + WIRE_FRAME_MAX +
	    CHANNEL_GATHER_MAX);
	if (ch->out == NULL) {
		free(ch);
		return NULL;
	}
	ch->io = io;
	ch->limit = WIRE_FRAME_MAX_PREAUTH - SEAL_MAC_LEN;
	return ch;
}

void
channel_free(struct channel *ch)
{
	if (ch == NULL)
		return;
	seal_cleanup(&ch->tx);
	seal_cleanup(&ch->rx);
	wire_io_free(ch->io);
	buf_free(ch->out);
	free(ch);
}

struct wire_io *
channel_io(struct channel *ch)
{
	return ch->io;
}

int
channel_start(struct channel *ch, const struct hs_result *res)
{
	unsigned rx_dir = res->tx_dir == HS_DIR_C2S ? HS_DIR_S2C : HS_DIR_C2S;
	int r;

	if (res->plaintext)
		return 0;
	if ((r = seal_init_cipher(
	         &ch->tx, res->cipher, res->tx_key, res->tx_dir)) != 0 ||
	    (r = seal_init_cipher(&ch->rx, res->cipher, res->rx_key, rx_dir)) !=
	        0) {
		/* A channel that cannot seal must not fall back to
		 * plaintext: every later send and receive fails. */
		ch->broken = 1;
		return r;
	}
	ch->cipher = res->cipher;
	ch->sealed = 1;
	return 0;
}

int
channel_is_sealed(const struct channel *ch)
{
	return ch->sealed;
}

int
channel_cipher(const struct channel *ch)
{
	return ch->cipher;
}

void
channel_set_limit(struct channel *ch, size_t limit)
{
	ch->limit = limit;
	/* The tag travels in the frame, on top of the envelope. */
	wire_io_set_limit(ch->io, limit + (ch->sealed ? SEAL_MAC_LEN : 0));
}

/* Writes and empties the send buffer. */
static int
channel_write_out(struct channel *ch)
{
	int r = 0;

	if (buf_len(ch->out) > 0)
		r = wire_io_write(ch->io, buf_ptr(ch->out), buf_len(ch->out));
	buf_reset(ch->out);
	return r;
}

/*
 * Bulk chunks, sent from where they lie. A Chunk's data is most of what
 * a transfer moves; packing it would copy every byte into the send
 * buffer once more before sealing. Instead the envelope is packed
 * without it and the data field appended to the Chunk by hand (protobuf
 * fields may come in any order, so every decoder reads the same
 * message), and then:
 * - plaintext: header and envelope prefix from the send buffer, the data
 *   from the caller's buffer, in one sendmsg;
 * - AES-256-GCM: the data is encrypted from the caller's buffer straight
 *   into the frame (GCM takes its input in pieces);
 * - secretbox takes one contiguous message: the data is copied in after
 *   the prefix (the one copy a pack makes too) and sealed there.
 * In every mode the data is the Chunk's last field and the Chunk the
 * envelope's, which lets the receiver decode it in place
 * (msg_unpack_borrow).
 */
#define CHANNEL_BULK_MIN (64u * 1024u)
#define VARINT_MAX 10

static size_t
varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	do {
		p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
	return n;
}

static size_t
varint_len(uint64_t v)
{
	uint8_t tmp[VARINT_MAX];

	return varint_put(tmp, v);
}

/* Field numbers from the generated descriptors, not written twice. */
static uint32_t
field_number(const ProtobufCMessageDescriptor *d, const char *name)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(d, name);

	return f != NULL ? f->id : 0;
}

static int
bulk_wanted(const Wharf__Envelope *env)
{
	return env->body_case == WHARF__ENVELOPE__BODY_CHUNK &&
	    env->chunk != NULL && env->chunk->data.len >= CHANNEL_BULK_MIN;
}

/*
 * Appends the frame header, room for the tag if sealed, and the envelope
 * without the chunk's data bytes; *n is the envelope's whole length.
 */
static int
bulk_prefix(struct channel *ch, const Wharf__Envelope *env, size_t *n)
{
	Wharf__Envelope outer = *env;
	Wharf__Chunk inner = *env->chunk;
	size_t dlen = env->chunk->data.len, olen, clen, body, k;
	uint32_t chunk_f = field_number(&wharf__envelope__descriptor, "chunk");
	uint32_t data_f = field_number(&wharf__chunk__descriptor, "data");
	size_t head = WIRE_FRAME_HEADER + (ch->sealed ? SEAL_MAC_LEN : 0);
	uint8_t *p;
	int r;

	if (chunk_f == 0 || data_f == 0)
		return WH_ERR_FORMAT;
	outer.body_case = WHARF__ENVELOPE__BODY__NOT_SET;
	inner.data.len = 0;
	inner.data.data = NULL;
	olen = wharf__envelope__get_packed_size(&outer);
	clen = wharf__chunk__get_packed_size(&inner);
	/* The Chunk as the peer reads it: its fields, then data. */
	body = clen + varint_len((uint64_t)data_f << 3 | 2) + varint_len(dlen) +
	    dlen;
	*n = olen + varint_len((uint64_t)chunk_f << 3 | 2) + varint_len(body) +
	    body;
	if (*n > ch->limit)
		return WH_ERR_TOO_LARGE;
	if ((r = buf_reserve(ch->out, head + (*n - dlen), &p)) != 0)
		return r;
	k = head;
	memset(p, 0, head);
	if (wharf__envelope__pack(&outer, p + k) != olen)
		return WH_ERR_FORMAT;
	k += olen;
	k += varint_put(p + k, (uint64_t)chunk_f << 3 | 2);
	k += varint_put(p + k, body);
	if (wharf__chunk__pack(&inner, p + k) != clen)
		return WH_ERR_FORMAT;
	k += clen;
	k += varint_put(p + k, (uint64_t)data_f << 3 | 2);
	k += varint_put(p + k, dlen);
	p[0] = (uint8_t)((*n + head - WIRE_FRAME_HEADER) >> 24);
	p[1] = (uint8_t)((*n + head - WIRE_FRAME_HEADER) >> 16);
	p[2] = (uint8_t)((*n + head - WIRE_FRAME_HEADER) >> 8);
	p[3] = (uint8_t)(*n + head - WIRE_FRAME_HEADER);
	buf_commit(ch->out, k);
	return 0;
}

static int
channel_send_bulk(struct channel *ch, const Wharf__Envelope *env)
{
	const ProtobufCBinaryData *data = &env->chunk->data;
	size_t start = buf_len(ch->out), n, plen;
	uint8_t *p, *dst;
	int r;

	if ((r = bulk_prefix(ch, env, &n)) != 0) {
		buf_truncate(ch->out, start);
		return r;
	}
	if (!ch->sealed) {
		/* What was gathered goes first, in the same system call. */
		r = wire_io_write2(ch->io, buf_ptr(ch->out), buf_len(ch->out),
		    data->data, data->len);
		buf_reset(ch->out);
		return r;
	}
	plen = buf_len(ch->out) - start - WIRE_FRAME_HEADER - SEAL_MAC_LEN;
	if ((r = buf_reserve(ch->out, data->len, &dst)) != 0) {
		buf_truncate(ch->out, start);
		return r;
	}
	p = buf_mutable_ptr(ch->out) + start;
	if (ch->tx.cipher == SEAL_AES256GCM)
		r = seal_close_from(&ch->tx, p + WIRE_FRAME_HEADER,
		    p + WIRE_FRAME_HEADER + SEAL_MAC_LEN, plen, dst, data->data,
		    data->len);
	else {
		/* secretbox seals one contiguous message: the data is
		 * copied after the prefix, the copy protobuf-c's pack
		 * would make, and sealed in place. */
		memcpy(dst, data->data, data->len);
		r = seal_close(&ch->tx, p + WIRE_FRAME_HEADER,
		    p + WIRE_FRAME_HEADER + SEAL_MAC_LEN, plen + data->len);
	}
	if (r != 0) {
		buf_truncate(ch->out, start);
		return r;
	}
	buf_commit(ch->out, data->len);
	(void)n;
	if (ch->gather && buf_len(ch->out) < CHANNEL_GATHER_MAX)
		return 0;
	return channel_write_out(ch);
}

int
channel_send(struct channel *ch, const Wharf__Envelope *env)
{
	size_t head = WIRE_FRAME_HEADER + (ch->sealed ? SEAL_MAC_LEN : 0);
	size_t start = buf_len(ch->out), n;
	uint8_t *p;
	int r;

	if (ch->broken)
		return WH_ERR_AUTH;
	if (bulk_wanted(env))
		return channel_send_bulk(ch, env);
	/* Appended after any gathered frames; msg_pack commits nothing
	 * when it fails. */
	if ((r = msg_pack(env, ch->out, head, ch->limit)) != 0)
		return r;
	p = buf_mutable_ptr(ch->out) + start;
	n = buf_len(ch->out) - start - WIRE_FRAME_HEADER;
	p[0] = (uint8_t)(n >> 24);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	if (ch->sealed &&
	    (r = seal_close(&ch->tx, p + WIRE_FRAME_HEADER, p + head,
	         n + WIRE_FRAME_HEADER - head)) != 0) {
		buf_truncate(ch->out, start);
		return r;
	}
	if (ch->gather && buf_len(ch->out) < CHANNEL_GATHER_MAX)
		return 0;
	return channel_write_out(ch);
}

void
channel_gather(struct channel *ch)
{
	ch->gather = 1;
}

int
channel_flush(struct channel *ch)
{
	ch->gather = 0;
	return channel_write_out(ch);
}

static int
decode(struct channel *ch, uint8_t *payload, size_t len, int borrow,
    Wharf__Envelope **out)
{
	int r;

	*out = NULL;
	if (ch->broken)
		return WH_ERR_AUTH;
	if (ch->sealed) {
		if (len < SEAL_MAC_LEN) {
			ch->broken = 1;
			return WH_ERR_AUTH;
		}
		if ((r = seal_open(&ch->rx, payload, payload + SEAL_MAC_LEN,
		         len - SEAL_MAC_LEN)) != 0) {
			ch->broken = 1;
			return r;
		}
		payload += SEAL_MAC_LEN;
		len -= SEAL_MAC_LEN;
	}
	/* Before login the heap a frame may cost is as small as the
	 * frames are. */
	if (borrow)
		return msg_unpack_borrow(
		    payload, len, msg_decode_limit(len, ch->limit), out);
	return msg_unpack_budget(
	    payload, len, msg_decode_limit(len, ch->limit), out, NULL);
}

int
channel_decode(
    struct channel *ch, uint8_t *payload, size_t len, Wharf__Envelope **out)
{
	return decode(ch, payload, len, 0, out);
}

static int
recv_frame(struct channel *ch, int borrow, Wharf__Envelope **out)
{
	uint8_t *payload;
	size_t len;
	int r;

	*out = NULL;
	if (ch->broken)
		return WH_ERR_AUTH;
	/* About to wait for the peer: what was gathered goes first. The
	 * gather goes on (a tree's upload gathers across its answers);
	 * channel_flush ends it. */
	if ((r = channel_write_out(ch)) != 0)
		return r;
	/* Do not let one large frame sent earlier pin memory on an idle
	 * session. */
	buf_shrink(ch->out, WIRE_FRAME_MAX_PREAUTH);
	if ((r = wire_io_read_frame(ch->io, &payload, &len)) != 0)
		return r;
	return decode(ch, payload, len, borrow, out);
}

int
channel_recv(struct channel *ch, Wharf__Envelope **out)
{
	return recv_frame(ch, 0, out);
}

int
channel_recv_borrow(struct channel *ch, Wharf__Envelope **out)
{
	return recv_frame(ch, 1, out);
}
