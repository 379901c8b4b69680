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
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "fuzz.h"
#include "wharf/channel.h"
#include "wharf/io.h"
#include "wharf/msg.h"

/* §5: the nonce starts with the 8-byte little-endian frame counter. */
#define SEAL_COUNTER_BYTES 8

static struct hs_result keys;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	fuzz_seal_result(&keys);
	return 0;
}

/* 1 if payload opens as frame number ctr under the receive key. */
static int
spec_opens(const uint8_t *payload, size_t len, uint64_t ctr, uint8_t *plain)
{
	uint8_t nonce[crypto_secretbox_NONCEBYTES];
	int i;

	if (len < crypto_secretbox_MACBYTES)
		return 0;
	memset(nonce, 0, sizeof(nonce));
	for (i = 0; i < SEAL_COUNTER_BYTES; i++)
		nonce[i] = (uint8_t)(ctr >> (8 * i));
	return crypto_secretbox_open_detached(plain,
	           payload + crypto_secretbox_MACBYTES, payload,
	           len - crypto_secretbox_MACBYTES, nonce, keys.rx_key) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Wharf__Envelope *env, *ref;
	struct channel *ch;
	struct wire_io *io;
	uint8_t *payload, *plain;
	size_t off = 0, len;
	uint64_t ctr = 0;
	int fd, broken = 0, opens, r;

	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return 0;
	io = wire_io_new(fd);
	FUZZ_CHECK(io != NULL);
	ch = channel_new(io);
	FUZZ_CHECK(ch != NULL);
	channel_start(ch, &keys);
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

		opens = !broken && spec_opens(payload, len, ctr, plain);
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
	return 0;
}
