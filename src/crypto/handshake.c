/* SPDX-License-Identifier: MIT */
/*
 * Handshake v1 (docs/protocol.md, "Handshake"). The transcript hash covers
 * both prefaces, the ClientHello exactly as sent and the ServerHelloCore
 * exactly as sent, so the server's signature pins the ephemeral keys, the
 * chosen version and the features: a downgrade or a swapped key breaks it.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "wharf/accel.h"
#include "wharf/handshake.h"
#include "wharf/log.h"
#include "wharf/msg.h"
#include "wharf/text.h"

#define HS_LABEL_TRANSCRIPT "wharf-v1 transcript"
#define HS_LABEL_SIGNATURE "wharf-v1 server signature"
#define HS_LABEL_KEYS "wharf-v1 session keys"
/* AES-256-GCM sessions derive their keys under a label of their own, so
 * that no key is ever used with two ciphers. */
#define HS_LABEL_KEYS_AES256GCM "wharf-v1 aes256gcm session keys"
#define HS_LABEL_CONFIRM "wharf-v1 key confirmation"

static void
absorb(crypto_generichash_state *st, const void *p, size_t len)
{
	uint8_t be[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16),
		(uint8_t)(len >> 8), (uint8_t)len };

	crypto_generichash_update(st, be, sizeof(be));
	crypto_generichash_update(st, p, len);
}

static void
transcript_hash(uint8_t th[HS_TRANSCRIPT_LEN], const uint8_t *cpreface,
    const uint8_t *hello, size_t hello_len, const uint8_t *spreface,
    const uint8_t *core, size_t core_len)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, HS_TRANSCRIPT_LEN);
	absorb(&st, HS_LABEL_TRANSCRIPT, strlen(HS_LABEL_TRANSCRIPT));
	absorb(&st, cpreface, WIRE_PREFACE_LEN);
	absorb(&st, hello, hello_len);
	absorb(&st, spreface, WIRE_PREFACE_LEN);
	absorb(&st, core, core_len);
	crypto_generichash_final(&st, th, HS_TRANSCRIPT_LEN);
}

static void
signed_message(uint8_t *out, const uint8_t th[HS_TRANSCRIPT_LEN])
{
	memcpy(out, HS_LABEL_SIGNATURE, strlen(HS_LABEL_SIGNATURE));
	memcpy(out + strlen(HS_LABEL_SIGNATURE), th, HS_TRANSCRIPT_LEN);
}

#define HS_SIGNED_LEN (sizeof(HS_LABEL_SIGNATURE) - 1 + HS_TRANSCRIPT_LEN)

/*
 * Session keys: BLAKE2b-512 keyed with the PSK (unkeyed without one) over
 * label || X25519 shared secret || transcript; the first half is the
 * client-to-server key, the second server-to-client.
 */
static int
derive_keys(uint8_t c2s[HS_SESSION_KEY_LEN], uint8_t s2c[HS_SESSION_KEY_LEN],
    uint8_t confirm[WIRE_CONFIRM_LEN], const uint8_t *my_sk,
    const uint8_t *peer_pk, const uint8_t *psk,
    const uint8_t th[HS_TRANSCRIPT_LEN], int cipher)
{
	const char *label =
	    cipher == SEAL_AES256GCM ? HS_LABEL_KEYS_AES256GCM : HS_LABEL_KEYS;
	uint8_t shared[crypto_scalarmult_BYTES], okm[64];
	crypto_generichash_state st;

	/* Fails for low-order points: a peer cannot force a known key. */
	if (crypto_scalarmult(shared, my_sk, peer_pk) != 0)
		return WH_ERR_AUTH;
	crypto_generichash_init(
	    &st, psk, psk != NULL ? KEYS_PSK_LEN : 0, sizeof(okm));
	absorb(&st, label, strlen(label));
	absorb(&st, shared, sizeof(shared));
	absorb(&st, th, HS_TRANSCRIPT_LEN);
	crypto_generichash_final(&st, okm, sizeof(okm));
	memcpy(c2s, okm, HS_SESSION_KEY_LEN);
	memcpy(s2c, okm + HS_SESSION_KEY_LEN, HS_SESSION_KEY_LEN);
	crypto_generichash_init(&st, s2c, HS_SESSION_KEY_LEN, WIRE_CONFIRM_LEN);
	absorb(&st, HS_LABEL_CONFIRM, strlen(HS_LABEL_CONFIRM));
	absorb(&st, th, HS_TRANSCRIPT_LEN);
	crypto_generichash_final(&st, confirm, WIRE_CONFIRM_LEN);
	sodium_memzero(shared, sizeof(shared));
	sodium_memzero(okm, sizeof(okm));
	return 0;
}

/* Appends a plaintext frame holding env. */
static int
put_frame(struct buf *out, const Wharf__Envelope *env)
{
	size_t start = buf_len(out);
	uint8_t *p;
	int r;

	if ((r = msg_pack(
	         env, out, WIRE_FRAME_HEADER, WIRE_FRAME_MAX_PREAUTH)) != 0)
		return r;
	p = buf_mutable_ptr(out) + start;
	size_t n = buf_len(out) - start - WIRE_FRAME_HEADER;
	p[0] = (uint8_t)(n >> 24);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	return 0;
}

int
hs_client_init(struct hs_client *c, const uint8_t *psk, int want_plaintext,
    uint64_t features)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__ClientHello hello;
	uint8_t preface[WIRE_PREFACE_LEN];
	int r;

	/* The INIT macro casts const away; the function does not. */
	wharf__client_hello__init(&hello);
	memset(c, 0, sizeof(*c));
	if ((c->sent = buf_new(WIRE_FRAME_MAX_PREAUTH)) == NULL)
		return WH_ERR_NOMEM;
	crypto_box_keypair(c->eph_pk, c->eph_sk);
	if (psk != NULL) {
		memcpy(c->psk, psk, KEYS_PSK_LEN);
		c->have_psk = 1;
	}
	c->want_plaintext = want_plaintext;
	c->features = features;
	wire_preface_encode(preface, WIRE_VERSION_MIN, WIRE_VERSION_MAX);
	hello.min_version = WIRE_VERSION_MIN;
	hello.max_version = WIRE_VERSION_MAX;
	hello.features = features;
	hello.ephemeral_key.data = c->eph_pk;
	hello.ephemeral_key.len = sizeof(c->eph_pk);
	hello.want_plaintext = want_plaintext != 0;
	hello.software = (char *)(uintptr_t)("wharf " WHARF_VERSION);
	env.body_case = WHARF__ENVELOPE__BODY_CLIENT_HELLO;
	env.client_hello = &hello;
	if ((r = buf_put(c->sent, preface, sizeof(preface))) != 0 ||
	    (r = put_frame(c->sent, &env)) != 0)
		return r;
	return 0;
}

void
hs_client_cleanup(struct hs_client *c)
{
	buf_free(c->sent);
	sodium_memzero(c, sizeof(*c));
}

void
hs_result_wipe(struct hs_result *res)
{
	sodium_memzero(res, sizeof(*res));
}

int
hs_client_finish(struct hs_client *c, const uint8_t *server_preface,
    const uint8_t *frame, size_t frame_len, struct hs_result *res, char *why,
    size_t whylen)
{
	Wharf__Envelope *env = NULL;
	Wharf__ServerHelloCore *core = NULL;
	Wharf__ServerHello *sh;
	struct wire_preface sp, cp;
	uint8_t th[HS_TRANSCRIPT_LEN], confirm[WIRE_CONFIRM_LEN];
	uint8_t sigmsg[HS_SIGNED_LEN];
	const uint8_t *hello;
	size_t hello_len;
	int r;

	memset(res, 0, sizeof(*res));
	snprintf(why, whylen, "handshake failed");
	if (wire_preface_decode(server_preface, WIRE_PREFACE_LEN, &sp) != 0) {
		snprintf(why, whylen, "not a wharf server");
		return WH_ERR_FORMAT;
	}
	if ((r = msg_unpack_budget(frame, frame_len,
	         msg_decode_limit(frame_len, WIRE_FRAME_MAX_PREAUTH), &env,
	         NULL)) != 0) {
		snprintf(why, whylen, "malformed handshake from server");
		return WH_ERR_PROTOCOL;
	}
	if (env->body_case == WHARF__ENVELOPE__BODY_ERROR) {
		char text[256];

		size_t k;

		text_clean(text, sizeof(text), env->error->message);
		/* Before login nothing has been agreed, not even UTF-8: a
		 * server's refusal reaches the terminal as printable ASCII
		 * (a stray byte >= 0x80 is a C1 control on some terminals). */
		for (k = 0; text[k] != '\0'; k++)
			if ((unsigned char)text[k] >= 0x7f)
				text[k] = '?';
		snprintf(why, whylen, "%s",
		    text[0] ? text : msg_code_text(env->error->code));
		r = env->error->code == WHARF__ERROR_CODE__BUSY ? WH_ERR_BUSY :
		                                                  WH_ERR_REMOTE;
		goto out;
	}
	r = WH_ERR_PROTOCOL;
	if (env->body_case != WHARF__ENVELOPE__BODY_SERVER_HELLO)
		goto out;
	sh = env->server_hello;
	core =
	    wharf__server_hello_core__unpack(NULL, sh->core.len, sh->core.data);
	if (core == NULL || core->ephemeral_key.len != WIRE_KEY_LEN ||
	    core->host_key.len != KEYS_HOST_PK_LEN) {
		snprintf(why, whylen, "malformed handshake from server");
		goto out;
	}
	if (wire_preface_decode(buf_ptr(c->sent), WIRE_PREFACE_LEN, &cp) != 0 ||
	    core->version < cp.min_version || core->version > cp.max_version ||
	    core->version < sp.min_version || core->version > sp.max_version ||
	    (core->features & ~c->features) != 0) {
		snprintf(why, whylen,
		    "server chose version %u or features "
		    "outside what was offered",
		    core->version);
		goto out;
	}
	hello = buf_ptr(c->sent) + WIRE_PREFACE_LEN + WIRE_FRAME_HEADER;
	hello_len = buf_len(c->sent) - WIRE_PREFACE_LEN - WIRE_FRAME_HEADER;
	transcript_hash(th, buf_ptr(c->sent), hello, hello_len, server_preface,
	    sh->core.data, sh->core.len);
	signed_message(sigmsg, th);
	if (crypto_sign_verify_detached(sh->signature.data, sigmsg,
	        sizeof(sigmsg), core->host_key.data) != 0) {
		snprintf(why, whylen,
		    "server signature does not verify "
		    "(handshake tampered with?)");
		r = WH_ERR_AUTH;
		goto out;
	}
	if (core->plaintext && !c->want_plaintext) {
		snprintf(why, whylen,
		    "server offered an unencrypted session "
		    "that was not asked for");
		goto out;
	}
	if (core->psk_required && !c->have_psk) {
		snprintf(why, whylen,
		    "server requires a pre-shared key "
		    "(--psk FILE)");
		r = WH_ERR_PSK;
		goto out;
	}
	if (!core->psk_required && c->have_psk) {
		snprintf(why, whylen,
		    "server does not use a pre-shared key; "
		    "drop --psk");
		r = WH_ERR_PSK;
		goto out;
	}
	/* The cipher is the server's answer to the offer: both are in TH,
	 * which the server signed, so neither can be stripped in transit. */
	res->cipher = (core->features & WIRE_FEAT_AES256GCM) ? SEAL_AES256GCM :
	                                                       SEAL_SECRETBOX;
	if (core->plaintext && res->cipher != SEAL_SECRETBOX) {
		snprintf(why, whylen,
		    "server chose a cipher for an unencrypted session");
		r = WH_ERR_PROTOCOL;
		goto out;
	}
	if ((r = derive_keys(res->tx_key, res->rx_key, confirm, c->eph_sk,
	         core->ephemeral_key.data, c->have_psk ? c->psk : NULL, th,
	         res->cipher)) != 0) {
		snprintf(why, whylen, "key exchange failed");
		goto out;
	}
	if (sodium_memcmp(confirm, sh->key_confirm.data, WIRE_CONFIRM_LEN) !=
	    0) {
		snprintf(why, whylen,
		    "pre-shared key does not match the "
		    "server's");
		r = core->psk_required ? WH_ERR_PSK : WH_ERR_AUTH;
		goto out;
	}
	res->version = (uint16_t)core->version;
	res->features = core->features;
	res->tx_dir = HS_DIR_C2S;
	res->send_hash = (int)core->send_hash;
	res->plaintext = core->plaintext;
	res->psk_required = core->psk_required;
	memcpy(res->host_pk, core->host_key.data, KEYS_HOST_PK_LEN);
	memcpy(res->transcript, th, HS_TRANSCRIPT_LEN);
	/* Kept as sent (cut to size); whoever shows it escapes it. */
	snprintf(res->peer_software, sizeof(res->peer_software), "%s",
	    core->software != NULL ? core->software : "");
	why[0] = '\0';
	r = 0;
out:
	if (r != 0)
		hs_result_wipe(res);
	sodium_memzero(confirm, sizeof(confirm));
	if (core != NULL)
		wharf__server_hello_core__free_unpacked(core, NULL);
	msg_free(env);
	return r;
}

int
hs_server_refuse(struct buf *out, int code, const char *message)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__Error err;
	uint8_t preface[WIRE_PREFACE_LEN];
	int r;

	/* The INIT macro casts const away; the function does not. */
	wharf__error__init(&err);
	wire_preface_encode(preface, WIRE_VERSION_MIN, WIRE_VERSION_MAX);
	err.code = (Wharf__ErrorCode)code;
	err.message = (char *)(uintptr_t)message;
	env.body_case = WHARF__ENVELOPE__BODY_ERROR;
	env.error = &err;
	if ((r = buf_put(out, preface, sizeof(preface))) != 0)
		return r;
	return put_frame(out, &env);
}

int
hs_server_respond(const struct hs_server_config *cfg,
    const uint8_t *client_preface, const uint8_t *hello, size_t hello_len,
    struct buf *out, struct hs_result *res)
{
	Wharf__Envelope *env = NULL;
	Wharf__Envelope reply = WHARF__ENVELOPE__INIT;
	Wharf__ServerHello sh = WHARF__SERVER_HELLO__INIT;
	Wharf__ServerHelloCore core;
	Wharf__ClientHello *ch;
	struct wire_preface cp, mine = { WIRE_VERSION_MIN, WIRE_VERSION_MAX };
	uint8_t spreface[WIRE_PREFACE_LEN], eph_pk[WIRE_KEY_LEN];
	uint8_t eph_sk[WIRE_KEY_LEN], th[HS_TRANSCRIPT_LEN];
	uint8_t sig[WIRE_SIG_LEN], confirm[WIRE_CONFIRM_LEN];
	uint8_t sigmsg[HS_SIGNED_LEN], core_bytes[1024];
	uint8_t c2s[HS_SESSION_KEY_LEN], s2c[HS_SESSION_KEY_LEN];
	char text[128];
	size_t core_len;
	uint64_t features;
	unsigned ciphers;
	uint16_t version;
	int r, cipher;

	/* The INIT macro casts const away; the function does not. */
	wharf__server_hello_core__init(&core);
	memset(res, 0, sizeof(*res));
	if ((r = wire_preface_decode(client_preface, WIRE_PREFACE_LEN, &cp)) !=
	    0)
		return r;
	if (msg_unpack_budget(hello, hello_len,
	        msg_decode_limit(hello_len, WIRE_FRAME_MAX_PREAUTH), &env,
	        NULL) != 0 ||
	    env->body_case != WHARF__ENVELOPE__BODY_CLIENT_HELLO) {
		r = hs_server_refuse(
		    out, WHARF__ERROR_CODE__PROTOCOL, "expected ClientHello");
		r = r ? r : WH_ERR_PROTOCOL;
		goto out;
	}
	ch = env->client_hello;
	/* The hello repeats the preface's range so that the transcript
	 * signs it; a client whose two copies disagree is broken, which is
	 * not the same as one that speaks other versions. */
	if (ch->min_version != cp.min_version ||
	    ch->max_version != cp.max_version) {
		r = hs_server_refuse(out, WHARF__ERROR_CODE__PROTOCOL,
		    "ClientHello version range differs from the preface");
		r = r ? r : WH_ERR_PROTOCOL;
		goto out;
	}
	if ((version = wire_version_choose(&cp, &mine)) == 0) {
		snprintf(text, sizeof(text),
		    "unsupported version: server speaks %u..%u",
		    WIRE_VERSION_MIN, WIRE_VERSION_MAX);
		r = hs_server_refuse(out, WHARF__ERROR_CODE__UNSUPPORTED, text);
		r = r ? r : WH_ERR_UNSUPPORTED;
		goto out;
	}
	if (ch->want_plaintext && !cfg->allow_plaintext) {
		r = hs_server_refuse(out, WHARF__ERROR_CODE__PERMISSION,
		    "server does not allow plaintext sessions");
		r = r ? r : WH_ERR_PERMISSION;
		goto out;
	}
	features = ch->features & cfg->features;
	ciphers = cfg->ciphers != 0 ? cfg->ciphers : HS_CIPHERS_DEFAULT;
	/* AES-256-GCM when the client offers it, this server allows it and
	 * its CPU has AES instructions (without them GCM is slow and its
	 * table lookups leak timing); secretbox otherwise. */
	cipher = (features & WIRE_FEAT_AES256GCM) && !ch->want_plaintext &&
	        (ciphers & HS_CIPHER_BIT(SEAL_AES256GCM)) && accel_have_aes() ?
	    SEAL_AES256GCM :
	    SEAL_SECRETBOX;
	if (cipher != SEAL_AES256GCM)
		features &= ~WIRE_FEAT_AES256GCM;
	/* XXH3 is no cryptographic digest: only where nothing is sealed. */
	if (!ch->want_plaintext)
		features &= ~WIRE_FEAT_XXH128;
	if (!ch->want_plaintext && !(ciphers & HS_CIPHER_BIT(cipher))) {
		r = hs_server_refuse(out, WHARF__ERROR_CODE__PERMISSION,
		    "server allows only the aes256gcm cipher "
		    "(client: --cipher aes256gcm, on a CPU with AES "
		    "instructions)");
		r = r ? r : WH_ERR_PERMISSION;
		goto out;
	}
	crypto_box_keypair(eph_pk, eph_sk);
	core.version = version;
	core.features = features;
	core.send_hash = (features & WIRE_FEAT_SHA256) ?
	    (Wharf__HashAlg)cfg->send_hash :
	    WHARF__HASH_ALG__HASH_BLAKE2B;
	core.ephemeral_key.data = eph_pk;
	core.ephemeral_key.len = sizeof(eph_pk);
	core.host_key.data = (uint8_t *)(uintptr_t)cfg->host_key->pk;
	core.host_key.len = KEYS_HOST_PK_LEN;
	core.psk_required = cfg->psk != NULL;
	core.plaintext = ch->want_plaintext != 0;
	core.software = (char *)(uintptr_t)("wharf " WHARF_VERSION);
	core_len = wharf__server_hello_core__get_packed_size(&core);
	if (core_len > sizeof(core_bytes)) {
		r = WH_ERR_TOO_LARGE;
		goto out;
	}
	wharf__server_hello_core__pack(&core, core_bytes);
	wire_preface_encode(spreface, WIRE_VERSION_MIN, WIRE_VERSION_MAX);
	transcript_hash(th, client_preface, hello, hello_len, spreface,
	    core_bytes, core_len);
	signed_message(sigmsg, th);
	crypto_sign_detached(
	    sig, NULL, sigmsg, sizeof(sigmsg), cfg->host_key->sk);
	if ((r = derive_keys(c2s, s2c, confirm, eph_sk, ch->ephemeral_key.data,
	         cfg->psk, th, cipher)) != 0) {
		if (hs_server_refuse(out, WHARF__ERROR_CODE__PROTOCOL,
		        "bad ephemeral key") != 0)
			r = WH_ERR_NOMEM;
		goto out;
	}
	sh.core.data = core_bytes;
	sh.core.len = core_len;
	sh.signature.data = sig;
	sh.signature.len = sizeof(sig);
	sh.key_confirm.data = confirm;
	sh.key_confirm.len = sizeof(confirm);
	reply.body_case = WHARF__ENVELOPE__BODY_SERVER_HELLO;
	reply.server_hello = &sh;
	if ((r = buf_put(out, spreface, sizeof(spreface))) != 0 ||
	    (r = put_frame(out, &reply)) != 0)
		goto out;
	res->version = version;
	res->features = core.features;
	res->cipher = cipher;
	res->tx_dir = HS_DIR_S2C;
	res->send_hash = (int)core.send_hash;
	res->plaintext = core.plaintext;
	res->psk_required = core.psk_required;
	memcpy(res->host_pk, cfg->host_key->pk, KEYS_HOST_PK_LEN);
	memcpy(res->transcript, th, HS_TRANSCRIPT_LEN);
	memcpy(res->tx_key, s2c, sizeof(s2c));
	memcpy(res->rx_key, c2s, sizeof(c2s));
	snprintf(res->peer_software, sizeof(res->peer_software), "%s",
	    ch->software != NULL ? ch->software : "");
	r = 0;
out:
	sodium_memzero(eph_sk, sizeof(eph_sk));
	sodium_memzero(c2s, sizeof(c2s));
	sodium_memzero(s2c, sizeof(s2c));
	msg_free(env);
	return r;
}

int
hs_client_run(struct wire_io *io, struct hs_client *c, struct hs_result *res,
    char *why, size_t whylen)
{
	uint8_t spreface[WIRE_PREFACE_LEN], *frame;
	size_t len;
	int r, wr;

	/* A refusing server may close before reading all of this; its answer
	 * is still worth reading, so a failed write is reported only if no
	 * answer follows. */
	wr = wire_io_write(io, buf_ptr(c->sent), buf_len(c->sent));
	if ((r = wire_io_read_exact(io, spreface, sizeof(spreface))) != 0) {
		snprintf(why, whylen, "%s",
		    r == WH_ERR_TIMEOUT ? "no answer from server (timed out)" :
		        r == WH_ERR_EOF || r == WH_ERR_TRUNCATED ?
		                          "server closed the connection "
		                          "during the handshake" :
		                          wh_strerror(wr ? wr : r));
		return r;
	}
	if (memcmp(spreface, WIRE_MAGIC, WIRE_MAGIC_LEN) != 0) {
		snprintf(why, whylen, "not a wharf server");
		return WH_ERR_FORMAT;
	}
	wire_io_set_limit(io, WIRE_FRAME_MAX_PREAUTH);
	if ((r = wire_io_read_frame(io, &frame, &len)) != 0) {
		snprintf(why, whylen, "handshake: %s", wh_strerror(r));
		return r;
	}
	return hs_client_finish(c, spreface, frame, len, res, why, whylen);
}

int
hs_server_run(struct wire_io *io, const struct hs_server_config *cfg,
    struct hs_result *res, char *why, size_t whylen)
{
	uint8_t cpreface[WIRE_PREFACE_LEN], *frame;
	struct wire_preface cp;
	struct buf *out;
	size_t len;
	int r, wr;

	if ((out = buf_new(WIRE_FRAME_MAX_PREAUTH)) == NULL)
		return WH_ERR_NOMEM;
	if ((r = wire_io_read_exact(io, cpreface, sizeof(cpreface))) != 0) {
		snprintf(why, whylen, "reading preface: %s", wh_strerror(r));
		goto out;
	}
	if ((r = wire_preface_decode(cpreface, sizeof(cpreface), &cp)) != 0) {
		snprintf(why, whylen, "not a wharf client (bad preface)");
		if (r == WH_ERR_PROTOCOL &&
		    hs_server_refuse(out, WHARF__ERROR_CODE__PROTOCOL,
		        "bad version range in preface") == 0 &&
		    wire_io_write(io, buf_ptr(out), buf_len(out)) != 0)
			r = WH_ERR_PROTOCOL; /* the peer is gone anyway */
		goto out;
	}
	wire_io_set_limit(io, WIRE_FRAME_MAX_PREAUTH);
	if ((r = wire_io_read_frame(io, &frame, &len)) != 0) {
		snprintf(
		    why, whylen, "reading ClientHello: %s", wh_strerror(r));
		goto out;
	}
	r = hs_server_respond(cfg, cpreface, frame, len, out, res);
	if (buf_len(out) > 0 &&
	    (wr = wire_io_write(io, buf_ptr(out), buf_len(out))) != 0 && r == 0)
		r = wr;
	if (r != 0)
		snprintf(why, whylen, "handshake: %s", wh_strerror(r));
out:
	buf_free(out);
	return r;
}
