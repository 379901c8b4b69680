/* SPDX-License-Identifier: MIT */
/*
 * Striping: a thread per connection, each moving its own range with
 * blocking calls on its own channel. Ranges share nothing but the file
 * (pread/pwrite at their own offsets) and an array of chunk digests, from
 * which the file digest is computed once all are in.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wharf/msg.h"
#include "wharf/striped.h"
#include "wharf/xfer.h"

struct stream {
	struct client *c;
	const struct transfer_opts *o;
	int put;
	int fd; /* the local file or partial */
	const char *remote;
	const struct stat *st; /* put: the local file */
	uint64_t size;
	uint64_t first, last; /* chunk range [first, last) */
	const uint8_t *stripe; /* put: the stripe id */
	uint8_t *hashes; /* shared: one digest per chunk */
	uint64_t wire;
	int err;
	char why[CLIENT_ERRMSG_MAX];
	Wharf__GetInfo info; /* get: what the server said */
};

static Wharf__HashAlg
wire_alg(const struct transfer_opts *o)
{
	return o->alg == HASH_SHA256 ? WHARF__HASH_ALG__HASH_SHA256 :
	                               WHARF__HASH_ALG__HASH_BLAKE2B;
}

static int
fail(struct stream *s, int r, const char *why)
{
	if (s->err == 0) {
		s->err = r;
		snprintf(s->why, sizeof(s->why), "%s", why);
	}
	return r;
}

/* Waits for the final answer to id: PutDone, or an Error. */
static int
await_final(struct stream *s, uint32_t id)
{
	Wharf__Envelope *env;
	int r;

	for (;;) {
		if ((r = channel_recv(s->c->ch, &env)) != 0)
			return fail(s, r, "connection lost");
		if (env->id != id) {
			msg_free(env);
			continue;
		}
		if (env->body_case == WHARF__ENVELOPE__BODY_ERROR) {
			client_note_error(s->c, env->error);
			r = msg_err_from_code(env->error->code);
			msg_free(env);
			return fail(s, r, s->c->errmsg);
		}
		msg_free(env);
		return 0;
	}
}

static void *
put_range(void *arg)
{
	struct stream *s = arg;
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__PutOpen po = WHARF__PUT_OPEN__INIT;
	Wharf__PutEnd pe = WHARF__PUT_END__INIT;
	Wharf__Chunk chunk;
	struct xfer_encoder enc;
	struct xfer_digest d;
	uint32_t cs = s->o->chunk_size, len;
	uint8_t *buf = malloc(cs), h[HASH_LEN];
	uint64_t i, off = s->first * cs;
	uint32_t id = ++s->c->next_id;
	int r;

	if (buf == NULL ||
	    xfer_encoder_init(&enc, s->o->compress, s->o->level) != 0) {
		free(buf);
		fail(s, WH_ERR_NOMEM, "out of memory");
		return NULL;
	}
	po.path = msg_bytes(s->remote);
	po.size = s->size;
	po.mtime_sec = s->st->st_mtim.tv_sec;
	po.mtime_nsec = (uint32_t)s->st->st_mtim.tv_nsec;
	po.mode = s->st->st_mode & 0777;
	po.chunk_size = cs;
	po.hash = wire_alg(s->o);
	po.passcode = client_passcode(s->c);
	po.range_offset = off;
	po.range_len = (s->last * cs < s->size ? s->last * cs : s->size) - off;
	po.stripe.data = (uint8_t *)(uintptr_t)s->stripe;
	po.stripe.len = WIRE_STRIPE_ID_LEN;
	env.id = id;
	env.body_case = WHARF__ENVELOPE__BODY_PUT_OPEN;
	env.put_open = &po;
	if ((r = channel_send(s->c->ch, &env)) != 0) {
		fail(s, r, "connection lost");
		goto out;
	}
	xfer_digest_init(&d, s->o->alg, cs);
	env.body_case = WHARF__ENVELOPE__BODY_CHUNK;
	for (i = s->first; i < s->last && !client_interrupted(); i++) {
		len = xfer_chunk_len(s->size, cs, i);
		if ((r = xfer_pread_all(s->fd, buf, len, i * cs)) != 0 ||
		    (r = xfer_encode_chunk(&enc, s->o->alg, (uint32_t)i, buf,
		         len, &chunk, h)) != 0) {
			fail(s, r, "reading the file");
			break;
		}
		memcpy(s->hashes + i * HASH_LEN, h, HASH_LEN);
		xfer_digest_add(&d, h, len);
		env.chunk = &chunk;
		if ((r = channel_send(s->c->ch, &env)) != 0) {
			fail(s, r, "connection lost");
			goto out;
		}
		s->wire += chunk.data.len;
	}
	if (client_interrupted())
		fail(s, WH_ERR_CANCELLED, "cancelled");
	xfer_digest_peek(&d, h);
	pe.file_hash.data = h;
	pe.file_hash.len = HASH_LEN;
	pe.abort = s->err != 0;
	env.body_case = WHARF__ENVELOPE__BODY_PUT_END;
	env.put_end = &pe;
	if ((r = channel_send(s->c->ch, &env)) != 0)
		fail(s, r, "connection lost");
	else
		(void)await_final(s, id);
out:
	xfer_encoder_cleanup(&enc);
	free(buf);
	return NULL;
}

static void *
get_range(void *arg)
{
	struct stream *s = arg;
	Wharf__Envelope env = WHARF__ENVELOPE__INIT, *in;
	Wharf__GetReq gr = WHARF__GET_REQ__INIT;
	struct xfer_decoder dec;
	struct xfer_digest d;
	uint32_t cs = s->o->chunk_size, len;
	uint8_t h[HASH_LEN];
	const uint8_t *raw;
	uint64_t next = s->first;
	uint32_t id = ++s->c->next_id;
	int r, got_info = 0;

	if (xfer_decoder_init(&dec, (s->c->features & WIRE_FEAT_ZSTD) != 0) !=
	    0) {
		fail(s, WH_ERR_NOMEM, "out of memory");
		return NULL;
	}
	gr.path = msg_bytes(s->remote);
	gr.chunk_size = cs;
	gr.hash = wire_alg(s->o);
	gr.passcode = client_passcode(s->c);
	gr.compress = s->o->compress;
	gr.compress_level = (uint32_t)s->o->level;
	gr.range_offset = s->first * cs;
	gr.range_len =
	    (s->last * cs < s->size ? s->last * cs : s->size) - gr.range_offset;
	env.id = id;
	env.body_case = WHARF__ENVELOPE__BODY_GET;
	env.get = &gr;
	xfer_digest_init(&d, s->o->alg, cs);
	if ((r = channel_send(s->c->ch, &env)) != 0) {
		fail(s, r, "connection lost");
		goto out;
	}
	for (;;) {
		if ((r = channel_recv(s->c->ch, &in)) != 0) {
			fail(s, r, "connection lost");
			break;
		}
		if (in->id != id) {
			msg_free(in);
			continue;
		}
		if (in->body_case == WHARF__ENVELOPE__BODY_ERROR) {
			client_note_error(s->c, in->error);
			fail(s, msg_err_from_code(in->error->code),
			    s->c->errmsg);
			msg_free(in);
			break;
		}
		if (in->body_case == WHARF__ENVELOPE__BODY_GET_INFO) {
			got_info = in->get_info->size == s->size &&
			    in->get_info->chunk_size == cs &&
			    in->get_info->offset == gr.range_offset;
			s->info.mtime_sec = in->get_info->mtime_sec;
			s->info.mtime_nsec = in->get_info->mtime_nsec;
			s->info.mode = in->get_info->mode;
			if (!got_info)
				fail(s, WH_ERR_PROTOCOL,
				    "the file changed "
				    "size; try again");
		} else if (in->body_case == WHARF__ENVELOPE__BODY_CHUNK &&
		    got_info && next < s->last && s->err == 0) {
			len = xfer_chunk_len(s->size, cs, next);
			if ((r = xfer_decode_chunk(&dec, s->o->alg, in->chunk,
			         (uint32_t)next, len, &raw, h)) != 0 ||
			    (r = xfer_pwrite_all(s->fd, raw, len, next * cs)) !=
			        0)
				fail(s, r,
				    r == WH_ERR_BAD_HASH ? "hash mismatch" :
				                           wh_strerror(r));
			else {
				xfer_digest_add(&d, h, len);
				s->wire += in->chunk->data.len;
				next++;
			}
		} else if (in->body_case == WHARF__ENVELOPE__BODY_GET_END) {
			xfer_digest_peek(&d, h);
			if (s->err == 0 &&
			    (next != s->last ||
			        sodium_memcmp(h, in->get_end->file_hash.data,
			            HASH_LEN) != 0))
				fail(s, WH_ERR_BAD_HASH,
				    "range digest does not "
				    "match");
			msg_free(in);
			break;
		} else if (s->err == 0)
			fail(s, WH_ERR_PROTOCOL, "unexpected answer");
		msg_free(in);
	}
out:
	xfer_decoder_cleanup(&dec);
	return NULL;
}

/* Runs n streams (stream 0 on c, the others on joined connections). */
static int
run_streams(struct client *c, struct stream *v, int n, void *(*fn)(void *),
    struct striped_result *res)
{
	pthread_t th[STRIPED_STREAMS_MAX];
	int i, started = 0, r = 0;

	for (i = 1; i < n; i++)
		if ((r = client_join(c, &v[i].c)) != 0) {
			snprintf(res->why, sizeof(res->why),
			    "cannot open "
			    "stream %d: %s",
			    i + 1, wh_strerror(r));
			goto out;
		}
	v[0].c = c;
	for (i = 0; i < n; i++) {
		if (pthread_create(&th[i], NULL, fn, &v[i]) != 0) {
			r = WH_ERR_NOMEM;
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < n && r == 0; i++)
		if (v[i].err != 0) {
			r = v[i].err;
			snprintf(res->why, sizeof(res->why), "%s", v[i].why);
		}
	for (i = 0; i < n; i++)
		res->wire += v[i].wire;
out:
	for (i = 1; i < n; i++)
		client_close(v[i].c);
	return r;
}

int
striped_streams(int wanted, uint64_t size)
{
	uint64_t fit = size / STRIPED_MIN_PER_STREAM;

	if (wanted > STRIPED_STREAMS_MAX)
		wanted = STRIPED_STREAMS_MAX;
	return fit < (uint64_t)wanted ? (int)fit : wanted;
}

/* Splits the file's chunks evenly over the streams. */
static int
plan(struct stream *v, int streams, uint64_t size, uint32_t cs)
{
	uint64_t n = xfer_chunk_count(size, cs);
	int i;

	streams = striped_streams(streams, size);
	if (streams < 1)
		streams = 1;
	if ((uint64_t)streams > n)
		streams = (int)n;
	for (i = 0; i < streams; i++) {
		v[i].first = n * (uint64_t)i / (uint64_t)streams;
		v[i].last = n * (uint64_t)(i + 1) / (uint64_t)streams;
	}
	return streams;
}

int
striped_put(struct client *c, const struct transfer_opts *o, int fd,
    const struct stat *st, const char *remote, struct striped_result *res)
{
	struct stream v[STRIPED_STREAMS_MAX];
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__StripeCommit sc = WHARF__STRIPE_COMMIT__INIT;
	uint8_t stripe[WIRE_STRIPE_ID_LEN], h[HASH_LEN], *hashes;
	uint64_t size = (uint64_t)st->st_size, i, count;
	struct xfer_digest d;
	int n, k, r;

	memset(res, 0, sizeof(*res));
	memset(v, 0, sizeof(v));
	res->size = size;
	count = xfer_chunk_count(size, o->chunk_size);
	if ((hashes = calloc(count ? count : 1, HASH_LEN)) == NULL)
		return WH_ERR_NOMEM;
	randombytes_buf(stripe, sizeof(stripe));
	n = plan(v, o->streams, size, o->chunk_size);
	for (k = 0; k < n; k++) {
		v[k].o = o;
		v[k].put = 1;
		v[k].fd = fd;
		v[k].remote = remote;
		v[k].st = st;
		v[k].size = size;
		v[k].stripe = stripe;
		v[k].hashes = hashes;
	}
	if ((r = run_streams(c, v, n, put_range, res)) == 0) {
		xfer_digest_init(&d, o->alg, o->chunk_size);
		for (i = 0; i < count; i++)
			xfer_digest_add(&d, hashes + i * HASH_LEN,
			    xfer_chunk_len(size, o->chunk_size, i));
		xfer_digest_peek(&d, h);
		sc.stripe.data = stripe;
		sc.stripe.len = sizeof(stripe);
		sc.file_hash.data = h;
		sc.file_hash.len = HASH_LEN;
		req.body_case = WHARF__ENVELOPE__BODY_STRIPE_COMMIT;
		req.stripe_commit = &sc;
		if ((r = client_call(c, &req, &resp, NULL, NULL)) != 0)
			snprintf(res->why, sizeof(res->why), "%s", c->errmsg);
		msg_free(resp);
	}
	free(hashes);
	res->err = r;
	return r;
}

int
striped_get(struct client *c, const struct transfer_opts *o, const char *remote,
    uint64_t size, const char *local, const char *part,
    struct striped_result *res)
{
	struct stream v[STRIPED_STREAMS_MAX];
	struct timespec times[2];
	int n, k, r, fd;

	memset(res, 0, sizeof(*res));
	memset(v, 0, sizeof(v));
	res->size = size;
	fd = open(
	    part, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(res->why, sizeof(res->why), "%s", strerror(errno));
		return res->err = wh_err_from_errno(errno);
	}
	n = plan(v, o->streams, size, o->chunk_size);
	for (k = 0; k < n; k++) {
		v[k].o = o;
		v[k].fd = fd;
		v[k].remote = remote;
		v[k].size = size;
	}
	r = run_streams(c, v, n, get_range, res);
	times[0].tv_sec = times[1].tv_sec = (time_t)v[0].info.mtime_sec;
	times[0].tv_nsec = times[1].tv_nsec =
	    (long)(v[0].info.mtime_nsec % 1000000000u);
	if (r == 0 &&
	    (ftruncate(fd, (off_t)size) != 0 ||
	        fchmod(fd, v[0].info.mode & 0777) != 0 ||
	        futimens(fd, times) != 0 || fsync(fd) != 0 ||
	        rename(part, local) != 0)) {
		r = wh_err_from_errno(errno);
		snprintf(res->why, sizeof(res->why), "%s", strerror(errno));
	}
	close(fd);
	/* Ranges have holes until all arrive: such a partial is no prefix
	 * to resume from. */
	if (r != 0)
		unlink(part);
	res->err = r;
	return r;
}
