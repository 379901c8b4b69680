/* SPDX-License-Identifier: MIT */
/*
 * The server's handshake step (hs_server_respond) on a hostile ClientHello.
 * Input: a flags byte, then either 12 bytes of client preface and the
 * ClientHello payload, or (flag bit 0) only the payload behind a valid
 * preface. On success the reply must be a valid server preface and one
 * ServerHello frame that a client written from docs/protocol.md §4.2 would
 * accept: signature by the fixed host key over the transcript, version and
 * features within the offered ranges, and, when the ClientHello carries
 * the ephemeral key of the deterministic client, session keys and key
 * confirmation equal to those the client derives. On failure the reply is
 * empty or a preface and one Error frame.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz.h"
#include "wharf/buf.h"
#include "wharf/handshake.h"
#include "wharf/msg.h"

#define HSS_VALID_PREFACE 0x01u
#define HSS_ALLOW_PLAIN 0x02u
#define HSS_PSK 0x04u
#define HSS_NO_FEATURES 0x08u

static struct host_key host;
/* The ephemeral key pair hs_client_init makes on stream FUZZ_RNG_CLIENT. */
static uint8_t client_pk[WIRE_KEY_LEN], client_sk[WIRE_KEY_LEN];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	fuzz_host_key(&host);
	fuzz_rng_reset(FUZZ_RNG_CLIENT);
	crypto_box_keypair(client_pk, client_sk);
	return 0;
}

/* The reply minus the preface: exactly one frame. Returns its payload. */
static const uint8_t *
reply_frame(const struct buf *out, size_t *len)
{
	const uint8_t *p = buf_ptr(out);
	size_t n = buf_len(out);

	FUZZ_CHECK(n > WIRE_PREFACE_LEN + WIRE_FRAME_HEADER);
	*len = fuzz_be32(p + WIRE_PREFACE_LEN);
	FUZZ_CHECK(*len > 0 && *len <= WIRE_FRAME_MAX_PREAUTH);
	FUZZ_CHECK(*len == n - WIRE_PREFACE_LEN - WIRE_FRAME_HEADER);
	return p + WIRE_PREFACE_LEN + WIRE_FRAME_HEADER;
}

static void
check_success(const struct hs_server_config *cfg, const uint8_t *cp,
    const uint8_t *hello, size_t hello_len, const struct buf *out,
    const struct hs_result *res)
{
	Wharf__Envelope *reply = NULL, *ch_env = NULL;
	Wharf__ServerHelloCore *core;
	Wharf__ClientHello *ch;
	struct wire_preface sp, cpf;
	uint8_t th[FUZZ_TH_LEN], c2s[HS_SESSION_KEY_LEN];
	uint8_t s2c[HS_SESSION_KEY_LEN], confirm[WIRE_CONFIRM_LEN];
	const uint8_t *frame;
	size_t len;

	/* A valid server preface, then one ServerHello frame. */
	FUZZ_CHECK(
	    wire_preface_decode(buf_ptr(out), WIRE_PREFACE_LEN, &sp) == 0);
	frame = reply_frame(out, &len);
	FUZZ_CHECK(msg_unpack(frame, len, &reply) == 0);
	FUZZ_CHECK(reply->id == 0);
	FUZZ_CHECK(reply->body_case == WHARF__ENVELOPE__BODY_SERVER_HELLO);
	core = wharf__server_hello_core__unpack(NULL,
	    reply->server_hello->core.len, reply->server_hello->core.data);
	FUZZ_CHECK(core != NULL);
	FUZZ_CHECK(core->host_key.len == KEYS_HOST_PK_LEN &&
	    memcmp(core->host_key.data, host.pk, KEYS_HOST_PK_LEN) == 0);
	FUZZ_CHECK(core->ephemeral_key.len == WIRE_KEY_LEN);

	/* What the client offered. */
	FUZZ_CHECK(wire_preface_decode(cp, WIRE_PREFACE_LEN, &cpf) == 0);
	FUZZ_CHECK(msg_unpack(hello, hello_len, &ch_env) == 0 &&
	    ch_env->body_case == WHARF__ENVELOPE__BODY_CLIENT_HELLO);
	ch = ch_env->client_hello;
	FUZZ_CHECK(core->version >= cpf.min_version &&
	    core->version <= cpf.max_version);
	FUZZ_CHECK(
	    core->version >= sp.min_version && core->version <= sp.max_version);
	FUZZ_CHECK(ch->min_version == cpf.min_version &&
	    ch->max_version == cpf.max_version);
	FUZZ_CHECK((core->features & ~(ch->features & cfg->features)) == 0);
	FUZZ_CHECK(
	    !core->plaintext || (ch->want_plaintext && cfg->allow_plaintext));
	FUZZ_CHECK(core->plaintext == ch->want_plaintext);
	FUZZ_CHECK(core->psk_required == (cfg->psk != NULL));

	/* The signature covers exactly the bytes exchanged. */
	fuzz_transcript(th, cp, hello, hello_len, buf_ptr(out),
	    reply->server_hello->core.data, reply->server_hello->core.len);
	FUZZ_CHECK(fuzz_signature_ok(
	    reply->server_hello->signature.data, th, host.pk));

	/* The result says what the reply says. */
	FUZZ_CHECK(res->version == core->version);
	FUZZ_CHECK(res->features == core->features);
	FUZZ_CHECK(res->plaintext == core->plaintext);
	FUZZ_CHECK(res->psk_required == core->psk_required);
	FUZZ_CHECK(memcmp(res->host_pk, host.pk, KEYS_HOST_PK_LEN) == 0);
	FUZZ_CHECK(!sodium_is_zero(res->tx_key, HS_SESSION_KEY_LEN));
	FUZZ_CHECK(memcmp(res->tx_key, res->rx_key, HS_SESSION_KEY_LEN) != 0);

	/* With the deterministic client's key we can be that client. */
	if (ch->ephemeral_key.len == WIRE_KEY_LEN &&
	    memcmp(ch->ephemeral_key.data, client_pk, WIRE_KEY_LEN) == 0) {
		FUZZ_CHECK(fuzz_session_keys(c2s, s2c, confirm, client_sk,
		               core->ephemeral_key.data, cfg->psk, th) == 0);
		FUZZ_CHECK(memcmp(res->rx_key, c2s, sizeof(c2s)) == 0);
		FUZZ_CHECK(memcmp(res->tx_key, s2c, sizeof(s2c)) == 0);
		FUZZ_CHECK(memcmp(reply->server_hello->key_confirm.data,
		               confirm, sizeof(confirm)) == 0);
	}
	wharf__server_hello_core__free_unpacked(core, NULL);
	msg_free(reply);
	msg_free(ch_env);
}

static void
check_failure(const struct buf *out, const struct hs_result *res)
{
	Wharf__Envelope *reply = NULL;
	struct wire_preface sp;
	const uint8_t *frame;
	size_t len;

	FUZZ_CHECK(sodium_is_zero(res->tx_key, HS_SESSION_KEY_LEN) &&
	    sodium_is_zero(res->rx_key, HS_SESSION_KEY_LEN));
	if (buf_len(out) == 0)
		return;
	/* A refusal tells the client why, in a frame it can read. */
	FUZZ_CHECK(
	    wire_preface_decode(buf_ptr(out), WIRE_PREFACE_LEN, &sp) == 0);
	frame = reply_frame(out, &len);
	FUZZ_CHECK(msg_unpack(frame, len, &reply) == 0);
	FUZZ_CHECK(reply->body_case == WHARF__ENVELOPE__BODY_ERROR);
	msg_free(reply);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hs_server_config cfg;
	struct hs_result res;
	uint8_t cp[WIRE_PREFACE_LEN], *hello;
	size_t off, hello_len;
	struct buf *out;
	int r;

	if (size < 1)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	cfg.host_key = &host;
	cfg.psk = (data[0] & HSS_PSK) ? fuzz_psk : NULL;
	cfg.allow_plaintext = (data[0] & HSS_ALLOW_PLAIN) != 0;
	cfg.features = (data[0] & HSS_NO_FEATURES) ? 0 : WIRE_FEATURES_ALL;
	if (data[0] & HSS_VALID_PREFACE) {
		wire_preface_encode(cp, WIRE_VERSION_MIN, WIRE_VERSION_MAX);
		off = 1;
	} else {
		if (size < 1 + WIRE_PREFACE_LEN)
			return 0;
		memcpy(cp, data + 1, WIRE_PREFACE_LEN);
		off = 1 + WIRE_PREFACE_LEN;
	}
	hello_len = size - off;
	/* An exact-size copy: an overread of the hello is an ASan report. */
	if ((hello = malloc(hello_len > 0 ? hello_len : 1)) == NULL)
		return 0;
	if (hello_len > 0)
		memcpy(hello, data + off, hello_len);
	out = buf_new(
	    WIRE_FRAME_MAX_PREAUTH + WIRE_PREFACE_LEN + WIRE_FRAME_HEADER);
	FUZZ_CHECK(out != NULL);

	fuzz_rng_reset(FUZZ_RNG_SERVER);
	r = hs_server_respond(&cfg, cp, hello, hello_len, out, &res);
	if (r == 0)
		check_success(&cfg, cp, hello, hello_len, out, &res);
	else
		check_failure(out, &res);

	hs_result_wipe(&res);
	buf_free(out);
	free(hello);
	return 0;
}
