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

#include "wharf/commit.h"
#include "wharf/msg.h"
#include "wharf/recv.h"
#include "wharf/send.h"
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
	struct xfer_meta meta; /* get: what the server said */
};

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
	Wharf__Chunk *chunk;
	struct xfer_encoder enc;
	struct xfer_send tx;
	uint32_t cs = s->o->chunk_size;
	uint8_t *buf = malloc(cs), h[HASH_LEN];
	uint64_t off = s->first * cs;
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
	po.mode = transfer_file_mode(s->o, s->st->st_mode, 0);
	po.chunk_size = cs;
	po.hash = xfer_hash_to_wire(s->o->alg);
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
	xfer_send_init(&tx, s->fd, s->size, cs, s->o->alg, &enc);
	xfer_send_range(&tx, s->first, s->last);
	env.body_case = WHARF__ENVELOPE__BODY_CHUNK;
	while (!client_interrupted()) {
		if ((r = xfer_send_next(&tx, buf, &chunk)) != 0) {
			fail(s, r, "reading the file");
			break;
		}
		if (chunk == NULL)
			break;
		/* The whole file's digest is made of every range's. */
		memcpy(s->hashes + (uint64_t)chunk->index * HASH_LEN,
		    chunk->hash.data, HASH_LEN);
		env.chunk = chunk;
		if ((r = channel_send(s->c->ch, &env)) != 0) {
			fail(s, r, "connection lost");
			goto out;
		}
		s->wire = tx.wire;
	}
	if (client_interrupted())
		fail(s, WH_ERR_CANCELLED, "cancelled");
	xfer_send_digest(&tx, h);
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
	struct xfer_recv rx;
	uint32_t cs = s->o->chunk_size;
	uint32_t id = ++s->c->next_id;
	int r, got_info = 0;

	if (xfer_decoder_init(&dec, (s->c->features & WIRE_FEAT_ZSTD) != 0) !=
	    0) {
		fail(s, WH_ERR_NOMEM, "out of memory");
		return NULL;
	}
	gr.path = msg_bytes(s->remote);
	gr.chunk_size = cs;
	gr.hash = xfer_hash_to_wire(s->o->alg);
	gr.passcode = client_passcode(s->c);
	gr.compress = s->o->compress;
	gr.compress_level = (uint32_t)s->o->level;
	gr.range_offset = s->first * cs;
	gr.range_len =
	    (s->last * cs < s->size ? s->last * cs : s->size) - gr.range_offset;
	env.id = id;
	env.body_case = WHARF__ENVELOPE__BODY_GET;
	env.get = &gr;
	xfer_recv_init(&rx, s->fd, s->size, cs, s->o->alg, &dec);
	xfer_recv_range(&rx, s->first, s->last);
	if ((r = channel_send(s->c->ch, &env)) != 0) {
		fail(s, r, "connection lost");
		goto out;
	}
	for (;;) {
		if ((r = channel_recv_borrow(s->c->ch, &in)) != 0) {
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
			if (!got_info)
				fail(s, WH_ERR_PROTOCOL,
				    "the file changed "
				    "size; try again");
			else if (xfer_meta_from_wire(&s->meta,
			             in->get_info->mtime_sec,
			             in->get_info->mtime_nsec,
			             in->get_info->mode) != 0)
				fail(s, WH_ERR_PROTOCOL,
				    "server sent a bad GetInfo");
		} else if (in->body_case == WHARF__ENVELOPE__BODY_CHUNK &&
		    got_info && s->err == 0) {
			if ((r = xfer_recv_chunk(&rx, in->chunk)) != 0)
				fail(s, r,
				    r == WH_ERR_BAD_HASH ? "hash mismatch" :
				                           wh_strerror(r));
			s->wire = rx.wire;
		} else if (in->body_case == WHARF__ENVELOPE__BODY_GET_END) {
			if (s->err == 0 &&
			    xfer_recv_finish(&rx, in->get_end->file_hash.data,
			        in->get_end->file_hash.len) != 0)
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

/* The last name of a path. */
static const char *
base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/* Installs the whole file once every range is in: the engine's commit. */
static int
commit(int dirfd, int fd, const char *part, const char *name, uint64_t size,
    const struct xfer_meta *meta)
{
	struct xfer_commit c;

	xfer_commit_init(
	    &c, dirfd, part, name, fd, size, meta, XFER_COMMIT_CUT);
	return xfer_commit(&c);
}

int
striped_get(struct client *c, const struct transfer_opts *o, const char *remote,
    uint64_t size, const char *local, const char *part,
    struct striped_result *res)
{
	struct stream v[STRIPED_STREAMS_MAX];
	const char *name;
	int n, k, r, fd = -1, dirfd = -1, fresh;

	memset(res, 0, sizeof(*res));
	memset(v, 0, sizeof(v));
	res->size = size;
	/* The partial, locked (a plain download of the file may hold it),
	 * and emptied: ranges fill it in any order. */
	if ((r = xfer_commit_dir(local, &dirfd, &name)) != 0 ||
	    (r = xfer_partial_open(
	         dirfd, base_of(part), 0, &fd, &fresh, NULL)) != 0 ||
	    (ftruncate(fd, 0) != 0 && (r = wh_err_from_errno(errno)) != 0)) {
		snprintf(res->why, sizeof(res->why), "%s",
		    r == WH_ERR_BUSY ? "another download of this file is in "
		                       "progress" :
		                       wh_strerror(r));
		if (fd >= 0)
			close(fd);
		if (dirfd >= 0)
			close(dirfd);
		return res->err = r;
	}
	n = plan(v, o->streams, size, o->chunk_size);
	for (k = 0; k < n; k++) {
		v[k].o = o;
		v[k].fd = fd;
		v[k].remote = remote;
		v[k].size = size;
	}
	r = run_streams(c, v, n, get_range, res);
	v[0].meta.mode = transfer_file_mode(o, v[0].meta.mode, 1);
	if (r == 0 &&
	    (r = commit(dirfd, fd, base_of(part), name, size, &v[0].meta)) != 0)
		snprintf(res->why, sizeof(res->why), "%s", wh_strerror(r));
	/* Ranges have holes until all arrive: such a partial is no prefix
	 * to resume from. Removed while still ours (locked). */
	if (r != 0)
		(void)unlinkat(dirfd, base_of(part), 0);
	close(fd);
	close(dirfd);
	res->err = r;
	return r;
}
