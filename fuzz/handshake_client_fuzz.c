/* SPDX-License-Identifier: MIT */
/*
 * The client's handshake step (hs_client_finish) on a hostile server
 * answer. Input: a flags byte (FUZZ_HS_*: PSK, plaintext, features), the
 * server's 12-byte preface, then its frame payload. The client is made by
 * hs_client_init on the deterministic random stream, so the seed corpus
 * can hold real ServerHellos for it (made by wharf_gen_corpus with
 * hs_server_respond and the fixed host key).
 *
 * The oracle is docs/protocol.md §4.2 redone independently: success is
 * allowed only if the ServerHello is signed by the fixed host key over the
 * transcript of this very exchange (nothing random can be), the choices lie
 * within what was offered, and the keys and key confirmation are the ones
 * the specification derives. Failure must wipe the result and leave a
 * printable one-line reason.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz.h"
#include "wharf/handshake.h"
#include "wharf/msg.h"

#define HSC_CTL_LEN (1 + WIRE_PREFACE_LEN)

static struct host_key host;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	fuzz_host_key(&host);
	return 0;
}

static void
check_why(const char *why, size_t whylen, int r)
{
	size_t i, n = strnlen(why, whylen);

	FUZZ_CHECK(n < whylen);
	/* A server's text reaches the user's terminal: printable only. */
	for (i = 0; i < n; i++)
		FUZZ_CHECK(why[i] >= 0x20 && why[i] < 0x7f);
	FUZZ_CHECK(r == 0 ? n == 0 : n > 0);
}

static void
check_success(const struct hs_client *c, const uint8_t *sp,
    const uint8_t *frame, size_t len, const struct hs_result *res)
{
	Wharf__Envelope *env = NULL;
	Wharf__ServerHelloCore *core;
	Wharf__ServerHello *sh;
	struct wire_preface spf;
	uint8_t th[FUZZ_TH_LEN], c2s[HS_SESSION_KEY_LEN];
	uint8_t s2c[HS_SESSION_KEY_LEN], confirm[WIRE_CONFIRM_LEN];
	const uint8_t *cp = buf_ptr(c->sent);
	size_t sent = buf_len(c->sent);

	FUZZ_CHECK(wire_preface_decode(sp, WIRE_PREFACE_LEN, &spf) == 0);
	FUZZ_CHECK(msg_unpack(frame, len, &env) == 0);
	FUZZ_CHECK(env->body_case == WHARF__ENVELOPE__BODY_SERVER_HELLO);
	sh = env->server_hello;
	core =
	    wharf__server_hello_core__unpack(NULL, sh->core.len, sh->core.data);
	FUZZ_CHECK(core != NULL);
	FUZZ_CHECK(core->host_key.len == KEYS_HOST_PK_LEN);
	FUZZ_CHECK(core->ephemeral_key.len == WIRE_KEY_LEN);

	/* Nothing but the fixed host key signed anything the fuzzer has. */
	FUZZ_CHECK(memcmp(core->host_key.data, host.pk, KEYS_HOST_PK_LEN) == 0);
	FUZZ_CHECK(sent > WIRE_PREFACE_LEN + WIRE_FRAME_HEADER);
	fuzz_transcript(th, cp, cp + WIRE_PREFACE_LEN + WIRE_FRAME_HEADER,
	    sent - WIRE_PREFACE_LEN - WIRE_FRAME_HEADER, sp, sh->core.data,
	    sh->core.len);
	FUZZ_CHECK(fuzz_signature_ok(sh->signature.data, th, host.pk));

	/* Within what was offered. */
	FUZZ_CHECK(core->version >= WIRE_VERSION_MIN &&
	    core->version <= WIRE_VERSION_MAX);
	FUZZ_CHECK(core->version >= spf.min_version &&
	    core->version <= spf.max_version);
	FUZZ_CHECK((core->features & ~c->features) == 0);
	FUZZ_CHECK(!core->plaintext || c->want_plaintext);
	FUZZ_CHECK(core->psk_required == (c->have_psk != 0));

	/* The keys of §4.2 and the confirmation the server sent. */
	FUZZ_CHECK(fuzz_session_keys(c2s, s2c, confirm, c->eph_sk,
	               core->ephemeral_key.data, c->have_psk ? c->psk : NULL,
	               th) == 0);
	FUZZ_CHECK(sodium_memcmp(
	               confirm, sh->key_confirm.data, WIRE_CONFIRM_LEN) == 0);
	FUZZ_CHECK(memcmp(res->tx_key, c2s, sizeof(c2s)) == 0);
	FUZZ_CHECK(memcmp(res->rx_key, s2c, sizeof(s2c)) == 0);
	FUZZ_CHECK(memcmp(res->host_pk, host.pk, KEYS_HOST_PK_LEN) == 0);
	FUZZ_CHECK(res->version == core->version);
	FUZZ_CHECK(res->features == core->features);
	FUZZ_CHECK(res->plaintext == core->plaintext);
	FUZZ_CHECK(res->psk_required == core->psk_required);
	FUZZ_CHECK(strnlen(res->peer_software, sizeof(res->peer_software)) <
	    sizeof(res->peer_software));

	wharf__server_hello_core__free_unpacked(core, NULL);
	msg_free(env);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hs_client c;
	struct hs_result res;
	const uint8_t *psk;
	uint8_t *sp, *frame;
	uint64_t features;
	size_t len;
	char why[HS_WHY_MAX];
	int plain, r;

	if (size < HSC_CTL_LEN)
		return 0;
	fuzz_hs_client_opts(data[0], &psk, &plain, &features);
	fuzz_rng_reset(FUZZ_RNG_CLIENT);
	FUZZ_CHECK(hs_client_init(&c, psk, plain, features) == 0);

	/* Exact-size copies: an overread is an ASan report. */
	len = size - HSC_CTL_LEN;
	sp = malloc(WIRE_PREFACE_LEN);
	frame = malloc(len > 0 ? len : 1);
	FUZZ_CHECK(sp != NULL && frame != NULL);
	memcpy(sp, data + 1, WIRE_PREFACE_LEN);
	if (len > 0)
		memcpy(frame, data + HSC_CTL_LEN, len);

	r = hs_client_finish(&c, sp, frame, len, &res, why, sizeof(why));
	check_why(why, sizeof(why), r);
	if (r == 0) {
		check_success(&c, sp, frame, len, &res);
	} else {
		FUZZ_CHECK(r == WH_ERR_FORMAT || r == WH_ERR_REMOTE ||
		    r == WH_ERR_BUSY || r == WH_ERR_AUTH || r == WH_ERR_PSK ||
		    r == WH_ERR_PROTOCOL);
		FUZZ_CHECK(
		    sodium_is_zero((const unsigned char *)&res, sizeof(res)));
	}

	hs_result_wipe(&res);
	hs_client_cleanup(&c);
	free(sp);
	free(frame);
	return 0;
}
