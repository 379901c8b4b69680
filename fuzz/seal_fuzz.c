/* SPDX-License-Identifier: MIT */
/*
 * Sealed frames (docs/protocol.md §5) through channel_decode on a channel
 * started with fixed keys. Input: frame payloads, each behind one length
 * byte. Each payload is also opened directly with crypto_secretbox under
 * the nonce §5 prescribes (the expected counter, little-endian, then
 * zeros): the channel must open exactly the frames that this independent
 * check opens, in order, and after the first one that does not open it
 * must refuse everything (the channel is poisoned). Random bytes never
 * open; the corpus holds real frames sealed by wharf_gen_corpus.
 *
 * Every input is run twice: on a secretbox channel, and on an
 * AES-256-GCM channel checked against OpenSSL's one-shot GCM with the
 * nonce and associated data of §5.1 (direction 1, the peer's, then the
 * big-endian counter; the frame length).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include <openssl/evp.h>

#include "fuzz.h"
#include "wharf/channel.h"
#include "wharf/io.h"
#include "wharf/msg.h"

/* §5: the nonce starts with the 8-byte little-endian frame counter. */
#define SEAL_COUNTER_BYTES 8

static struct hs_result keys, gcm_keys;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	fuzz_seal_result(&keys);
	gcm_keys = keys;
	gcm_keys.cipher = SEAL_AES256GCM;
	return 0;
}

/* §5.1 for a frame from the server (direction 1). */
static int
gcm_spec_opens(const uint8_t *payload, size_t len, uint64_t ctr, uint8_t *plain)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t nonce[12] = { 0, 0, 0, 1 }, aad[4], tag[16];
	int n = 0, ok, i;

	FUZZ_CHECK(x != NULL);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(ctr >> (56 - 8 * i));
	for (i = 0; i < 4; i++)
		aad[i] = (uint8_t)(len >> (24 - 8 * i));
	memcpy(tag, payload, sizeof(tag));
	ok = EVP_DecryptInit_ex(
	         x, EVP_aes_256_gcm(), NULL, keys.rx_key, nonce) == 1 &&
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1 &&
	    EVP_DecryptUpdate(x, NULL, &n, aad, 4) == 1 &&
	    EVP_DecryptUpdate(x, plain, &n, payload + 16, (int)(len - 16)) ==
	        1 &&
	    EVP_DecryptFinal_ex(x, plain + n, &n) == 1;
	EVP_CIPHER_CTX_free(x);
	return ok;
}

/* 1 if payload opens as frame number ctr under the receive key. */
static int
spec_opens(const uint8_t *payload, size_t len, uint64_t ctr, uint8_t *plain,
    int cipher)
{
	uint8_t nonce[crypto_secretbox_NONCEBYTES];
	int i;

	if (len < crypto_secretbox_MACBYTES)
		return 0;
	if (cipher == SEAL_AES256GCM)
		return gcm_spec_opens(payload, len, ctr, plain);
	memset(nonce, 0, sizeof(nonce));
	for (i = 0; i < SEAL_COUNTER_BYTES; i++)
		nonce[i] = (uint8_t)(ctr >> (8 * i));
	return crypto_secretbox_open_detached(plain,
	           payload + crypto_secretbox_MACBYTES, payload,
	           len - crypto_secretbox_MACBYTES, nonce, keys.rx_key) == 0;
}

static void
run(const uint8_t *data, size_t size, const struct hs_result *k)
{
	Wharf__Envelope *env, *ref;
	struct channel *ch;
	struct wire_io *io;
	uint8_t *payload, *plain;
	size_t off = 0, len;
	uint64_t ctr = 0;
	int fd, broken = 0, opens, r;

	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return;
	io = wire_io_new(fd);
	FUZZ_CHECK(io != NULL);
	ch = channel_new(io);
	FUZZ_CHECK(ch != NULL);
	FUZZ_CHECK(channel_start(ch, k) == 0);
	FUZZ_CHECK(channel_is_sealed(ch));

	while (off < size) {
		len = data[off++];
		if (len > size - off)
			len = size - off;
		/* Exact-size copies: decoding works in place. */
		payload = malloc(len > 0 ? len : 1);
		plain = malloc(len > 0 ? len : 1);
		FUZZ_CHECK(payload != NULL && plain != NULL);
		if (len > 0)
			memcpy(payload, data + off, len);
		off += len;

		opens =
		    !broken && spec_opens(payload, len, ctr, plain, k->cipher);
		r = channel_decode(ch, payload, len, &env);
		if (broken) {
			FUZZ_CHECK(r == WH_ERR_AUTH && env == NULL);
		} else if (!opens) {
			/* Random bytes never open; the failure is sticky. */
			FUZZ_CHECK(r == WH_ERR_AUTH && env == NULL);
			broken = 1;
		} else {
			ctr++;
			/* It opened: only the envelope inside may be bad. */
			FUZZ_CHECK(r == 0 || r == WH_ERR_FORMAT);
			if (r == 0) {
				FUZZ_CHECK(env != NULL);
				FUZZ_CHECK(msg_unpack(plain,
				               len - crypto_secretbox_MACBYTES,
				               &ref) == 0);
				FUZZ_CHECK(ref->body_case == env->body_case &&
				    ref->id == env->id);
				msg_free(ref);
			} else {
				FUZZ_CHECK(env == NULL);
			}
		}
		msg_free(env);
		free(payload);
		free(plain);
	}
	channel_free(ch);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(data, size, &keys);
	run(data, size, &gcm_keys);
	return 0;
}
