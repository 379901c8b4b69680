/* SPDX-License-Identifier: MIT */
/*
 * Client side of get and put. Uploads stream PutOpen, chunks and PutEnd
 * for one file after another and collect the answers as they come (up to
 * TRANSFER_WINDOW files unanswered), so a tree of small files costs no
 * round trip per file. Downloads keep TRANSFER_WINDOW requests queued at
 * the server, which answers them in order. Every file lands through a
 * partial beside its target and a rename after the digest matches.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wharf/clock.h"
#include "wharf/cli.h"
#include "wharf/log.h"
#include "wharf/msg.h"
#include "wharf/report.h"
#include "wharf/strnum.h"
#include "wharf/striped.h"
#include "wharf/transfer.h"
#include "wharf/tree.h"
#include "wharf/treemeta.h"
#include "wharf/cdc.h"
#include "wharf/commit.h"
#include "wharf/delta.h"
#include "wharf/recv.h"
#include "wharf/resume.h"
#include "wharf/send.h"
#include "wharf/xfer.h"
#include "wharf/text.h"

struct job {
	char *local;
	char *remote;
	char *part; /* get: local partial path */
	uint64_t size;
	uint32_t id;
	int fd;
	int dirfd; /* get: the target's folder, for the partial and commit */
	int ready; /* put: PutReady seen */
	int stream_wlog; /* the zstd stream window of this transfer; 0: none */
	int failed;
	int done;
	uint64_t offered; /* resume offset offered/asked */
	uint64_t resumed;
	uint64_t wire;
	uint64_t count;
	int got_info;
	uint8_t theirs[HASH_LEN]; /* put: the server's prefix digest */
	struct xfer_digest digest; /* get: of the prefix offered */
	struct xfer_meta meta; /* get: what the server said */
	struct xfer_send tx; /* put: the engine's sender */
	struct xfer_recv rx; /* get: the engine's receiver */
	double t0;
	/* Delta: content-defined chunks against the peer's old blocks. */
	int delta;
	struct delta_index idx; /* put: the server's; get: ours */
	int src[DELTA_SOURCES]; /* get: old target, old partial */
	uint64_t reused;
};

struct tctx {
	struct client *c;
	const struct transfer_opts *o; /* ro */
	struct transfer_opts ro; /* the caller's, with the hash resolved */
	const char *dir; /* "put" or "get" */
	struct job *jobs;
	size_t njobs;
	size_t cap;
	struct job *inflight[TRANSFER_WINDOW];
	int ninflight;
	int failures;
	int cancelled; /* files ended by a cancel */
	int lost;
	struct xfer_encoder enc;
	struct xfer_decoder dec;
	uint8_t *buf;
	struct progress pr;
	struct tree_meta tm; /* links and folder attributes, after files */
};

/* Modes of new files under --no-perms: what the destination would give
 * a file it made (the server's 0644, or our umask here). */
#define TRANSFER_NO_PERMS_MODE 0644

void
transfer_opts_init(struct transfer_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->compress = WHARF__COMPRESS_MODE__COMPRESS_AUTO;
	o->level = XFER_LEVEL_DEFAULT;
	o->alg = HASH_BLAKE2B;
	o->chunk_size = XFER_CHUNK_DEFAULT;
	o->streams = 1;
	o->progress = isatty(STDERR_FILENO);
}

int
transfer_parse_compress(struct transfer_opts *o, const char *v)
{
	long level;

	o->compress_set = 1;
	if (strcmp(v, "auto") == 0)
		o->compress = WHARF__COMPRESS_MODE__COMPRESS_AUTO;
	else if (strcmp(v, "off") == 0)
		o->compress = WHARF__COMPRESS_MODE__COMPRESS_OFF;
	else if (strnum_long(v, 1, XFER_LEVEL_MAX, &level) == 0) {
		o->compress = WHARF__COMPRESS_MODE__COMPRESS_LEVEL;
		o->level = (int)level;
	} else {
		fprintf(stderr,
		    "wharf: --compress: expected auto, off or a "
		    "level from 1 to %d\n",
		    XFER_LEVEL_MAX);
		return WH_ERR_INVALID_ARG;
	}
	return 0;
}

/* The value of an option given as "--opt=V" or "--opt V". */
static const char *
opt_value(const char *name, int argc, char **argv, int *i)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] == '\0' && *i + 1 < argc) {
		(*i)++;
		return argv[*i];
	}
	return NULL;
}

int
transfer_parse_opt(struct transfer_opts *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v;
	long n;

	if (strcmp(a, "-r") == 0 || strcmp(a, "--recursive") == 0) {
		o->recursive = 1;
		return 1;
	}
	if (strncmp(a, "-z", 2) == 0) {
		if (a[2] == '\0') {
			o->compress = WHARF__COMPRESS_MODE__COMPRESS_LEVEL;
			o->compress_set = 1;
			return 1;
		}
		return transfer_parse_compress(o, a + 2) == 0 ?
		    1 :
		    WH_ERR_INVALID_ARG;
	}
	if (strncmp(a, "--compress", 10) == 0 &&
	    (a[10] == '=' || a[10] == '\0')) {
		if ((v = opt_value("--compress", argc, argv, i)) == NULL)
			goto missing;
		return transfer_parse_compress(o, v) == 0 ? 1 :
		                                            WH_ERR_INVALID_ARG;
	}
	if (strncmp(a, "--hash", 6) == 0 && (a[6] == '=' || a[6] == '\0')) {
		if ((v = opt_value("--hash", argc, argv, i)) == NULL)
			goto missing;
		if (strcmp(v, "auto") == 0) {
			o->hash_set = 0;
			o->alg = HASH_BLAKE2B;
			return 1;
		}
		if (hash_alg_parse(v, &o->alg) != 0) {
			fprintf(stderr,
			    "wharf: --hash: expected auto, blake2b, sha256 "
			    "or xxh128\n");
			return WH_ERR_INVALID_ARG;
		}
		o->hash_set = 1;
		return 1;
	}
	if (strncmp(a, "--exclude", 9) == 0 && (a[9] == '=' || a[9] == '\0')) {
		if ((v = opt_value("--exclude", argc, argv, i)) == NULL)
			goto missing;
		if (o->nexcludes == TRANSFER_EXCLUDES_MAX) {
			fprintf(stderr,
			    "wharf: at most %d --exclude patterns\n",
			    TRANSFER_EXCLUDES_MAX);
			return WH_ERR_INVALID_ARG;
		}
		o->excludes[o->nexcludes++] = v;
		return 1;
	}
	if (strncmp(a, "--stats", 7) == 0 && (a[7] == '=' || a[7] == '\0')) {
		if ((v = opt_value("--stats", argc, argv, i)) == NULL)
			goto missing;
		o->stats_path = v;
		return 1;
	}
	if (strncmp(a, "--chunk-size", 12) == 0 &&
	    (a[12] == '=' || a[12] == '\0')) {
		if ((v = opt_value("--chunk-size", argc, argv, i)) == NULL)
			goto missing;
		if (strnum_long(v, XFER_CHUNK_MIN, XFER_CHUNK_MAX, &n) != 0) {
			fprintf(stderr,
			    "wharf: --chunk-size: from %u to %u "
			    "bytes\n",
			    XFER_CHUNK_MIN, XFER_CHUNK_MAX);
			return WH_ERR_INVALID_ARG;
		}
		o->chunk_size = (uint32_t)n;
		return 1;
	}
	if (strcmp(a, "-l") == 0 || strcmp(a, "--links") == 0) {
		o->links = TREE_LINKS_KEEP;
		return 1;
	}
	if (strcmp(a, "-L") == 0 || strcmp(a, "--copy-links") == 0) {
		o->links = TREE_LINKS_FOLLOW;
		return 1;
	}
	if (strcmp(a, "-p") == 0 || strcmp(a, "--perms") == 0) {
		o->no_perms = 0;
		return 1;
	}
	if (strcmp(a, "--no-perms") == 0) {
		o->no_perms = 1;
		return 1;
	}
	if (strcmp(a, "--no-progress") == 0) {
		o->progress = 0;
		return 1;
	}
	if (strcmp(a, "--no-delta") == 0) {
		o->no_delta = 1;
		return 1;
	}
	if (strncmp(a, "--streams", 9) == 0 && (a[9] == '=' || a[9] == '\0')) {
		if ((v = opt_value("--streams", argc, argv, i)) == NULL)
			goto missing;
		if (strnum_long(v, 1, STRIPED_STREAMS_MAX, &n) != 0) {
			fprintf(stderr, "wharf: --streams: from 1 to %d\n",
			    STRIPED_STREAMS_MAX);
			return WH_ERR_INVALID_ARG;
		}
		o->streams = (int)n;
		o->streams_set = 1;
		return 1;
	}
	return 0;
missing:
	fprintf(stderr, "wharf: %s needs a value\n", a);
	return WH_ERR_INVALID_ARG;
}

/* ---- summaries ---- */

/* One summary line, JSON object and CSV row for a finished file. */
static void
job_report(struct tctx *t, struct job *j, int r)
{
	struct report_file f;

	memset(&f, 0, sizeof(f));
	f.op = t->dir;
	f.shown = strcmp(t->dir, "put") == 0 ? j->local : j->remote;
	f.remote = j->remote;
	f.size = j->size;
	f.wire = j->wire;
	f.resumed = j->resumed;
	f.reused = j->reused;
	f.seconds = clock_mono_sec() - j->t0;
	f.result = r;
	report_file(t->o, t->c, &t->pr, &f);
}

static void
job_fail(struct tctx *t, struct job *j, int r, const char *why)
{
	if (j->failed)
		return;
	j->failed = 1;
	t->failures++;
	job_report(t, j, r);
	report_failure(t->dir,
	    strcmp(t->dir, "put") == 0 ? j->local : j->remote,
	    why != NULL && why[0] ? why : wh_strerror(r));
}

/* ---- job list ---- */

static struct job *
job_add(struct tctx *t, const char *local, const char *remote)
{
	struct job *nj, *j;

	if (t->njobs == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		if ((nj = realloc(t->jobs, t->cap * sizeof(*nj))) == NULL)
			return NULL;
		t->jobs = nj;
	}
	j = &t->jobs[t->njobs];
	memset(j, 0, sizeof(*j));
	j->fd = j->dirfd = -1;
	j->src[0] = j->src[1] = -1;
	delta_index_init(&j->idx);
	if ((j->local = strdup(local)) == NULL ||
	    (j->remote = strdup(remote)) == NULL) {
		free(j->local);
		return NULL;
	}
	t->njobs++;
	return j;
}

/* Frees what a finished job no longer needs (delta sources, index). */
static void
job_release(struct job *j)
{
	int i;

	for (i = 0; i < DELTA_SOURCES; i++)
		if (j->src[i] >= 0) {
			close(j->src[i]);
			j->src[i] = -1;
		}
	delta_index_cleanup(&j->idx);
}

static void
jobs_free(struct tctx *t)
{
	size_t i;

	for (i = 0; i < t->njobs; i++) {
		job_release(&t->jobs[i]);
		if (t->jobs[i].fd >= 0)
			close(t->jobs[i].fd);
		if (t->jobs[i].dirfd >= 0)
			close(t->jobs[i].dirfd);
		free(t->jobs[i].local);
		free(t->jobs[i].remote);
		free(t->jobs[i].part);
	}
	free(t->jobs);
	t->jobs = NULL;
	t->njobs = t->cap = 0;
}

/* ---- remote helpers ---- */

/* 1 if remote is a directory, 0 if it does not exist or is not one. */
static int
remote_type(
    struct client *c, const char *path, Wharf__FileType *type, uint64_t *size)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__StatReq st = WHARF__STAT_REQ__INIT;
	int r;

	*type = WHARF__FILE_TYPE__TYPE_UNKNOWN;
	st.path = msg_bytes(path);
	req.body_case = WHARF__ENVELOPE__BODY_STAT;
	req.stat = &st;
	if ((r = client_call(c, &req, &resp, NULL, NULL)) != 0)
		return r;
	if (resp->body_case == WHARF__ENVELOPE__BODY_STAT_REPLY) {
		*type = resp->stat_reply->info->type;
		if (size != NULL)
			*size = resp->stat_reply->info->size;
	}
	msg_free(resp);
	return 0;
}

static int
remote_mkdir(struct client *c, const char *path)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__MkdirReq mk = WHARF__MKDIR_REQ__INIT;
	int r;

	mk.path = msg_bytes(path);
	mk.parents = 1;
	req.body_case = WHARF__ENVELOPE__BODY_MKDIR;
	req.mkdir = &mk;
	if ((r = client_call(c, &req, &resp, NULL, NULL)) != 0)
		return r;
	msg_free(resp);
	return 0;
}

/* ---- responses ---- */

static struct job *
inflight_find(struct tctx *t, uint32_t id, int *slot)
{
	int i;

	for (i = 0; i < t->ninflight; i++)
		if (t->inflight[i]->id == id) {
			*slot = i;
			return t->inflight[i];
		}
	return NULL;
}

static void
inflight_remove(struct tctx *t, int slot)
{
	memmove(&t->inflight[slot], &t->inflight[slot + 1],
	    (size_t)(t->ninflight - slot - 1) * sizeof(t->inflight[0]));
	t->ninflight--;
}

static int
connection_lost(struct tctx *t, int r)
{
	t->lost = 1;
	t->c->lost = 1;
	progress_clear(&t->pr);
	fprintf(stderr, "wharf: %s: connection lost: %s\n", t->dir,
	    r == WH_ERR_AUTH ? "a frame failed authentication" :
	                       wh_strerror(r));
	return r;
}

/* Reads one message from the server; connection-level errors end all. */
static int
recv_one(struct tctx *t, Wharf__Envelope **env)
{
	char clean[256];
	int r;

	/* Each answer is handled before the next is read: a chunk's data
	 * can stay where it was opened. */
	if ((r = channel_recv_borrow(t->c->ch, env)) != 0)
		return connection_lost(t, r);
	if ((*env)->id == 0 &&
	    (*env)->body_case == WHARF__ENVELOPE__BODY_ERROR) {
		fprintf(stderr, "wharf: server: %s\n",
		    text_clean(clean, sizeof(clean), (*env)->error->message));
		msg_free(*env);
		*env = NULL;
		return connection_lost(t, WH_ERR_REMOTE);
	}
	return 0;
}

/* Whether the peer's stream window (0: none) is one we allow: within
 * XFER_STREAM_WLOG_MIN and what we offered or granted (protocol.md §9.3). */
static int
stream_window_ok(uint32_t wlog, int offered)
{
	return wlog == 0 ||
	    (wlog >= XFER_STREAM_WLOG_MIN && wlog <= (uint32_t)offered);
}

/* Handles one answer for an upload in flight. */
static int
put_response(struct tctx *t, Wharf__Envelope *env)
{
	char why[CLIENT_ERRMSG_MAX];
	struct job *j;
	int slot;

	if ((j = inflight_find(t, env->id, &slot)) == NULL)
		return 0; /* late answer to a job already failed */
	switch (env->body_case) {
	case WHARF__ENVELOPE__BODY_PUT_READY:
		j->ready = 1;
		j->offered = env->put_ready->offset;
		if (!stream_window_ok(
		        env->put_ready->stream_window_log, j->stream_wlog)) {
			j->stream_wlog = 0;
			job_fail(t, j, WH_ERR_PROTOCOL, "bad stream grant");
		} else
			j->stream_wlog = (int)env->put_ready->stream_window_log;
		if (env->put_ready->prefix_hash.len == HASH_LEN)
			memcpy(j->theirs, env->put_ready->prefix_hash.data,
			    HASH_LEN);
		else
			j->offered = 0;
		return 0;
	case WHARF__ENVELOPE__BODY_DELTA_INDEX: {
		if (delta_index_take_part(&j->idx, env->delta_index)) {
			j->delta = 1;
			j->ready = 1;
		}
		return 0;
	}
	case WHARF__ENVELOPE__BODY_PUT_DONE:
		j->done = 1;
		j->resumed = env->put_done->resumed;
		j->reused = env->put_done->reused;
		job_report(t, j, 0);
		inflight_remove(t, slot);
		return 0;
	case WHARF__ENVELOPE__BODY_ERROR:
		text_clean(why, sizeof(why), env->error->message);
		client_note_error(t->c, env->error);
		/* The final answer: put_one, if still streaming, stops and
		 * ends the upload with an abort that gets no reply. */
		job_fail(t, j, msg_err_from_code(env->error->code), why);
		j->ready = 1;
		inflight_remove(t, slot);
		return 0;
	default:
		job_fail(t, j, WH_ERR_PROTOCOL, "unexpected answer");
		j->done = 1;
		inflight_remove(t, slot);
		return 0;
	}
}

/* Handles what has arrived; with block, waits for at least one. */
static int
put_pump(struct tctx *t, int block)
{
	Wharf__Envelope *env;
	int r;

	while (block || wire_io_readable(channel_io(t->c->ch), 0)) {
		if ((r = recv_one(t, &env)) != 0)
			return r;
		r = put_response(t, env);
		msg_free(env);
		if (r != 0)
			return r;
		block = 0;
	}
	return 0;
}

/* ---- put ---- */

/*
 * Streams the chunks of j's file (the engine's sender: fixed chunks from
 * where the resume left off, or content-defined ones against the
 * server's index), collecting answers as they come. An early Error (no
 * space, bad hash) stops the stream.
 */
static int
put_chunks(struct tctx *t, struct job *j)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__Chunk *chunk;
	struct wire_io *io = channel_io(t->c->ch);
	uint64_t b0, queued;
	double c0;
	int r = 0;

	env.id = j->id;
	env.body_case = WHARF__ENVELOPE__BODY_CHUNK;
	if (j->delta && (r = xfer_send_delta(&j->tx, &j->idx)) != 0) {
		job_fail(t, j, r, wh_strerror(r));
		return 0;
	}
	/* References are small frames: whole packets of them. */
	if (j->delta)
		wire_io_cork(io, 1);
	while (!j->failed) {
		if (client_interrupted()) {
			job_fail(t, j, WH_ERR_CANCELLED,
			    j->delta ? "cancelled" :
			               "cancelled; the partial is kept, "
			               "repeat the put to resume");
			break;
		}
		c0 = clock_mono_sec();
		b0 = wire_io_blocked_ns(io);
		if ((r = xfer_send_next(&j->tx, t->buf, &chunk)) != 0) {
			job_fail(t, j, r,
			    r == WH_ERR_IO ? "file changed size while being "
			                     "sent" :
			                     wh_strerror(r));
			r = 0;
			break;
		}
		if (chunk == NULL)
			break;
		queued = wire_io_queued(io);
		env.chunk = chunk;
		if ((r = channel_send(t->c->ch, &env)) != 0) {
			r = connection_lost(t, r);
			break;
		}
		t->pr.cur_done += chunk->raw_len;
		if (!j->delta)
			xfer_send_feedback(&j->tx, queued,
			    (double)(wire_io_blocked_ns(io) - b0) / 1e9 /
			        (clock_mono_sec() - c0 + 1e-9));
		progress_draw(&t->pr, 0);
		if ((r = put_pump(t, 0)) != 0)
			break;
	}
	if (j->delta)
		wire_io_cork(io, 0);
	j->wire = j->tx.wire;
	if (j->delta)
		j->reused = j->tx.reused;
	xfer_send_cleanup(&j->tx);
	if (j->delta)
		job_release(j);
	return r;
}

static int
put_one(struct tctx *t, struct job *j)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__PutOpen po = WHARF__PUT_OPEN__INIT;
	Wharf__PutEnd pe = WHARF__PUT_END__INIT;
	struct xfer_digest d;
	uint32_t cs = t->o->chunk_size;
	uint8_t h[HASH_LEN];
	uint64_t have;
	struct stat st;
	int r;

	j->t0 = clock_mono_sec();
	if ((j->fd = open(j->local, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(j->fd, &st) != 0) {
		job_fail(t, j, wh_err_from_errno(errno), strerror(errno));
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		job_fail(t, j, WH_ERR_IS_DIR,
		    S_ISDIR(st.st_mode) ? "is a directory (use -r)" :
		                          "not a regular file");
		return 0;
	}
	j->size = (uint64_t)st.st_size;
	j->count = xfer_chunk_count(j->size, cs);
	j->id = ++t->c->next_id;
	po.path = msg_bytes(j->remote);
	po.size = j->size;
	po.mtime_sec = st.st_mtim.tv_sec;
	po.mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
	po.mode = transfer_file_mode(t->o, st.st_mode, 0);
	po.chunk_size = cs;
	po.hash = xfer_hash_to_wire(t->o->alg);
	/* Only a file of a chunk or more can have a useful partial. */
	po.resume = j->size >= cs;
	/* Old data on the server can only help a file bigger than a block;
	 * the answer (an index, or PutReady) is awaited either way. */
	po.delta = (t->c->features & WIRE_FEAT_DELTA) && !t->o->no_delta &&
	    j->size > DELTA_MIN_SIZE;
	if (po.delta)
		po.resume = 1;
	/* The window is granted in PutReady; one chunk gains nothing. */
	if ((t->c->features & WIRE_FEAT_ZSTREAM) && t->enc.cctx != NULL &&
	    po.resume && j->count >= 2)
		j->stream_wlog = XFER_STREAM_WLOG_MAX;
	po.stream_window_log = (uint32_t)j->stream_wlog;
	po.passcode = client_passcode(t->c);
	env.id = j->id;
	env.body_case = WHARF__ENVELOPE__BODY_PUT_OPEN;
	env.put_open = &po;
	if ((r = channel_send(t->c->ch, &env)) != 0)
		return connection_lost(t, r);
	t->inflight[t->ninflight++] = j;
	xfer_send_init(&j->tx, j->fd, j->size, cs, t->o->alg, &t->enc);
	if (po.resume) {
		while (!j->ready)
			if ((r = put_pump(t, 1)) != 0)
				return r;
		/* Trust the server's partial only if our own first bytes
		 * have the same digest. */
		if (!j->failed && !j->delta && j->offered > 0 &&
		    xfer_resume_accept(j->fd, j->offered, j->theirs, HASH_LEN,
		        cs, t->o->alg, t->buf, &d, &have) == 0 &&
		    have > 0) {
			xfer_send_resume(&j->tx, have, &d);
			j->resumed = have;
		}
	}
	t->pr.current = j->local;
	t->pr.cur_size = j->size;
	t->pr.cur_done = j->resumed;
	/* A delta answer (an index) grants no stream. */
	if ((r = xfer_encoder_begin(&t->enc, j->delta ? 0 : j->stream_wlog)) !=
	    0)
		return r;
	if ((r = put_chunks(t, j)) != 0)
		return r;
	xfer_send_digest(&j->tx, h);
	pe.file_hash.data = h;
	pe.file_hash.len = HASH_LEN;
	pe.abort = j->failed != 0;
	env.body_case = WHARF__ENVELOPE__BODY_PUT_END;
	env.put_end = &pe;
	if ((r = channel_send(t->c->ch, &env)) != 0)
		return connection_lost(t, r);
	close(j->fd);
	j->fd = -1;
	return 0;
}

/* A tree to move: its files become jobs and its folders are made first,
 * at the server for a put, here for a get. */
struct tree_plan {
	struct tctx *t;
	int put;
	const char *dest; /* where the tree's top goes */
	char **dirs; /* the folders to make, parents first */
	size_t ndirs;
	size_t capdirs;
};

static int
plan_visit(void *arg, const struct tree_entry *e)
{
	struct tree_plan *tp = arg;
	struct job *j;
	char *dp, **nd;
	int r;

	/* The top itself goes to dest. */
	dp = e->rel[0] ? tree_join(tp->dest, e->rel) : strdup(tp->dest);
	if (dp == NULL)
		return WH_ERR_NOMEM;
	if (e->target != NULL) {
		/* -l: made once the files are in (the server judges its
		 * target on a put, tree_walk_remote on a get). */
		r = tree_meta_add_link(&tp->t->tm, dp, e->target);
		free(dp);
		return r;
	}
	/* A folder's mode and mtime, set once its files are in. */
	if (e->dir && e->attrs &&
	    (r = tree_meta_add_dir(
	         &tp->t->tm, dp, e->mode, e->mtime_sec, e->mtime_nsec)) != 0) {
		free(dp);
		return r;
	}
	if (e->dir) {
		if (tp->ndirs == tp->capdirs) {
			tp->capdirs = tp->capdirs ? tp->capdirs * 2 : 16;
			if ((nd = realloc(tp->dirs,
			         tp->capdirs * sizeof(*nd))) == NULL) {
				free(dp);
				return WH_ERR_NOMEM;
			}
			tp->dirs = nd;
		}
		tp->dirs[tp->ndirs++] = dp;
		return 0;
	}
	j = tp->put ? job_add(tp->t, e->path, dp) : job_add(tp->t, dp, e->path);
	free(dp);
	if (j == NULL)
		return WH_ERR_NOMEM;
	j->size = e->size;
	tp->t->pr.total_files++;
	tp->t->pr.total_bytes += e->size;
	return 0;
}

static void
plan_cleanup(struct tree_plan *tp)
{
	size_t k;

	for (k = 0; k < tp->ndirs; k++)
		free(tp->dirs[k]);
	free(tp->dirs);
}

static int
status_of(struct tctx *t)
{
	if (t->lost)
		return EXIT_CONNECT;
	return tree_meta_status(
	    &t->tm, t->failures > 0 ? EXIT_REMOTE : EXIT_OK);
}

/*
 * The hash of this session's transfers: the one --hash forced, if the
 * session allows it; else the sender's choice (protocol.md §9.1): this
 * CPU's for uploads, the one the server named in its hello for downloads.
 */
static int
transfer_hash(struct client *c, const struct transfer_opts *o, int put,
    enum hash_alg *alg)
{
	if (!o->hash_set) {
		*alg = put ? hash_alg_preferred(c->features) : c->server_hash;
		return 0;
	}
	*alg = o->alg;
	if (hash_alg_allowed(o->alg, c->features))
		return 0;
	if (o->alg == HASH_XXH128 && !c->plaintext)
		fprintf(stderr,
		    "wharf: --hash xxh128 is for plaintext sessions only "
		    "(--plaintext): it is no cryptographic digest\n");
	else
		fprintf(stderr,
		    "wharf: %s: the server does not offer --hash %s\n",
		    c->hostport, hash_alg_name(o->alg));
	return WH_ERR_UNSUPPORTED;
}

static int
tctx_init(struct tctx *t, struct client *c, const struct transfer_opts *o,
    const char *dir)
{
	int r;

	memset(t, 0, sizeof(*t));
	t->c = c;
	t->ro = *o;
	if ((r = transfer_hash(c, o, strcmp(dir, "put") == 0, &t->ro.alg)) != 0)
		return r;
	t->o = &t->ro;
	t->dir = dir;
	progress_init(&t->pr, o->progress);
	tree_meta_init(&t->tm);
	t->tm.json = o->json;
	if ((t->buf = malloc(XFER_CHUNK_MAX)) == NULL)
		return WH_ERR_NOMEM;
	return 0;
}

static void
tctx_cleanup(struct tctx *t)
{
	progress_clear(&t->pr);
	xfer_encoder_cleanup(&t->enc);
	xfer_decoder_cleanup(&t->dec);
	free(t->buf);
	jobs_free(t);
	tree_meta_cleanup(&t->tm);
}

static char *local_partial(const char *local);

static int
striping(const struct tctx *t, const struct job *j)
{
	return t->c->have_token && striped_streams(t->o->streams, j->size) > 1;
}

static void
put_striped(struct tctx *t, struct job *j)
{
	struct striped_result res;
	struct stat st;
	int fd, r;

	j->t0 = clock_mono_sec();
	if ((fd = open(j->local, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) != 0) {
		job_fail(t, j, wh_err_from_errno(errno), strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	j->size = (uint64_t)st.st_size;
	r = striped_put(t->c, t->o, fd, &st, j->remote, &res);
	close(fd);
	j->wire = res.wire;
	if (r != 0) {
		if (t->c->lost)
			t->lost = 1;
		job_fail(t, j, r, res.why);
		return;
	}
	job_report(t, j, 0);
}

static void
get_striped(struct tctx *t, struct job *j)
{
	struct striped_result res;
	int r;

	j->t0 = clock_mono_sec();
	if ((j->part = local_partial(j->local)) == NULL) {
		job_fail(t, j, WH_ERR_INVALID_PATH, "name too long");
		return;
	}
	r = striped_get(
	    t->c, t->o, j->remote, j->size, j->local, j->part, &res);
	j->wire = res.wire;
	if (r != 0) {
		if (t->c->lost)
			t->lost = 1;
		job_fail(t, j, r, res.why);
		return;
	}
	job_report(t, j, 0);
}

/* Sends every job, pipelined, until done, lost or interrupted. */
static void
run_puts(struct tctx *t)
{
	size_t k;
	int r;

	client_interrupt_arm();
	/* A small file is three small frames (PutOpen, Chunk, PutEnd):
	 * gathered, a tree of them goes out a few files to a write, not
	 * three writes a file. channel_recv sends what is gathered before
	 * it waits for an answer, so the window never stalls on it. */
	channel_gather(t->c->ch);
	for (k = 0; k < t->njobs && !t->lost && !client_interrupted(); k++) {
		while (t->ninflight >= TRANSFER_WINDOW && !t->lost)
			if (put_pump(t, 1) != 0)
				break;
		if (striping(t, &t->jobs[k])) {
			/* A big file goes alone, over several streams. */
			while (t->ninflight > 0 && !t->lost)
				if (put_pump(t, 1) != 0)
					break;
			if (t->lost)
				break;
			/* Its streams are waited on, not this channel:
			 * nothing may stay gathered here meanwhile. */
			if ((r = channel_flush(t->c->ch)) != 0) {
				(void)connection_lost(t, r);
				break;
			}
			put_striped(t, &t->jobs[k]);
			channel_gather(t->c->ch);
			continue;
		}
		if (t->lost || put_one(t, &t->jobs[k]) != 0)
			break;
		progress_draw(&t->pr, 0);
	}
	while (t->ninflight > 0 && !t->lost)
		if (put_pump(t, 1) != 0)
			break;
	if ((r = channel_flush(t->c->ch)) != 0 && !t->lost)
		(void)connection_lost(t, r);
	client_interrupt_disarm();
}

int
transfer_put(struct client *c, const struct transfer_opts *o, char **locals,
    int nlocal, const char *remote)
{
	struct tctx t;
	Wharf__FileType type;
	char name[NAME_MAX + 1], *rp;
	struct tree_plan pt = { &t, 1, NULL, NULL, 0, 0 };
	struct tree_walk w = { .o = o,
		.what = "put",
		.visit = plan_visit,
		.arg = &pt,
		.links = o->links,
		.tm = &t.tm };
	const char *dest = remote != NULL ? remote : ".";
	int i, r, dest_is_dir;
	struct stat st;
	size_t k;

	if ((r = tctx_init(&t, c, o, "put")) != 0)
		return r == WH_ERR_UNSUPPORTED ? EXIT_USAGE : EXIT_REMOTE;
	if ((r = xfer_encoder_init(&t.enc, o->compress, o->level)) != 0)
		goto out;
	r = remote_type(c, dest, &type, NULL);
	if (r != 0 && r != WH_ERR_NOT_FOUND) {
		fprintf(stderr, "wharf: put: %s: %s\n", dest, c->errmsg);
		t.failures++;
		t.lost = c->lost;
		r = 0; /* reported */
		goto out;
	}
	dest_is_dir = r == 0 && type == WHARF__FILE_TYPE__TYPE_DIR;
	r = 0;
	/* "DIR/" promises a folder, as with cp and scp: never a file of
	 * that name. */
	if (!dest_is_dir && dest[0] != '\0' && dest[strlen(dest) - 1] == '/') {
		fprintf(
		    stderr, "wharf: put: %s: no such remote directory\n", dest);
		t.failures++;
		goto out;
	}
	if (nlocal > 1 && !dest_is_dir) {
		fprintf(
		    stderr, "wharf: put: %s is not a remote directory\n", dest);
		t.failures++;
		goto out;
	}
	/* Build the manifest first: totals for the progress line, and
	 * nothing sent for a tree we cannot read. */
	for (i = 0; i < nlocal; i++) {
		if (tree_base_copy(locals[i], name, sizeof(name)) != 0 ||
		    stat(locals[i], &st) != 0) {
			fprintf(stderr, "wharf: put %s: %s\n", locals[i],
			    strerror(errno ? errno : EINVAL));
			t.failures++;
			continue;
		}
		rp = dest_is_dir ? tree_join(dest, name) : strdup(dest);
		if (rp == NULL) {
			r = WH_ERR_NOMEM;
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			if (!o->recursive) {
				fprintf(stderr,
				    "wharf: put %s: is a directory "
				    "(use -r)\n",
				    locals[i]);
				t.failures++;
			} else {
				pt.dest = rp;
				r = tree_walk_local(&w, locals[i]);
			}
		} else {
			struct job *j = job_add(&t, locals[i], rp);

			if (j == NULL)
				r = WH_ERR_NOMEM;
			else {
				j->size = (uint64_t)st.st_size;
				t.pr.total_files++;
				t.pr.total_bytes += j->size;
			}
		}
		free(rp);
		if (r != 0)
			goto out;
	}
	t.pr.tree = o->recursive;
	t.failures += w.failures;
	for (k = 0; k < pt.ndirs && !t.lost; k++) {
		if ((r = remote_mkdir(c, pt.dirs[k])) != 0) {
			fprintf(stderr, "wharf: put: mkdir %s: %s\n",
			    pt.dirs[k], c->errmsg);
			t.failures++;
			t.lost = c->lost;
			r = 0;
		}
	}
	run_puts(&t);
	/* Links and folder attributes once every file is in. */
	if (!t.lost && t.ninflight == 0 &&
	    tree_meta_apply_remote(c, &t.tm, "put", !o->no_perms) != 0)
		t.lost = 1;
	tree_meta_summary(&t.tm, "put");
	r = 0;
out:
	client_interrupt_disarm();
	plan_cleanup(&pt);
	if (r != 0) {
		fprintf(stderr, "wharf: put: %s\n", wh_strerror(r));
		t.failures++;
	}
	r = status_of(&t);
	tctx_cleanup(&t);
	return r;
}

/* ---- get ---- */

/* Local partial of a target: ".NAME.wharf-part" beside it. */
static char *
local_partial(const char *local)
{
	char part[NAME_MAX + 1], *dir, *p;
	const char *b = tree_base(local);
	size_t dlen = (size_t)(b - local);

	if (xfer_partial_name(b, part, sizeof(part)) != 0)
		return NULL;
	if ((dir = strndup(local, dlen)) == NULL)
		return NULL;
	p = dlen > 0 ? tree_join(dir, part) : strdup(part);
	free(dir);
	return p;
}

/*
 * Delta download: what this side holds of the file (the old target, the
 * old partial) is indexed and offered. The old partial leaves its name
 * to the new one but stays open as a source.
 */
static int
get_delta_prepare(struct tctx *t, struct job *j)
{
	char *old;
	struct stat st;
	int fd, r;

	fd = open(j->local, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > 0) {
		j->src[0] = fd;
		j->idx.shift = cdc_shift_for((uint64_t)st.st_size);
		if ((r = delta_index_file(&j->idx, fd, 0, t->o->alg)) != 0 &&
		    r != WH_ERR_TOO_LARGE) {
			job_release(j);
			return 0; /* no delta; a plain download still works */
		}
	} else {
		/* No old file: a partial alone resumes the plain way. */
		if (fd >= 0)
			close(fd);
		return 0;
	}
	fd = open(j->part, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > 0) {
		j->src[1] = fd;
		if ((r = delta_index_file(&j->idx, fd, 1, t->o->alg)) != 0 &&
		    r != WH_ERR_TOO_LARGE) {
			job_release(j);
			return 0;
		}
		if ((old = malloc(strlen(j->part) + 5)) == NULL)
			return WH_ERR_NOMEM;
		snprintf(old, strlen(j->part) + 5, "%s.old", j->part);
		if (rename(j->part, old) == 0)
			unlink(old);
		free(old);
	} else if (fd >= 0)
		close(fd);
	j->delta = j->idx.n > 0;
	if (!j->delta)
		job_release(j);
	return 0;
}

/* The index of what we hold, as DeltaIndex parts after the GetReq. */
static int
send_index(struct tctx *t, struct job *j)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__DeltaIndex di = WHARF__DELTA_INDEX__INIT;
	Wharf__BlockRef *refs, **ptrs;
	size_t i = 0;
	int r = 0;

	refs = calloc(DELTA_INDEX_PART, sizeof(*refs));
	ptrs = calloc(DELTA_INDEX_PART, sizeof(*ptrs));
	if (refs == NULL || ptrs == NULL) {
		free(refs);
		free(ptrs);
		return WH_ERR_NOMEM;
	}
	env.id = j->id;
	env.body_case = WHARF__ENVELOPE__BODY_DELTA_INDEX;
	env.delta_index = &di;
	do {
		delta_index_part(&j->idx, &i, refs, ptrs, &di);
		r = channel_send(t->c->ch, &env);
	} while (r == 0 && !di.done);
	free(refs);
	free(ptrs);
	return r;
}

static int
get_request(struct tctx *t, struct job *j)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__GetReq gr = WHARF__GET_REQ__INIT;
	uint32_t cs = t->o->chunk_size;
	uint8_t h[HASH_LEN];
	uint64_t have = 0;
	int fd, r;

	j->t0 = clock_mono_sec();
	if ((j->part = local_partial(j->local)) == NULL) {
		job_fail(t, j, WH_ERR_INVALID_PATH, "name too long");
		return 0;
	}
	xfer_digest_init(&j->digest, t->o->alg, cs);
	if ((t->c->features & WIRE_FEAT_DELTA) && !t->o->no_delta &&
	    (r = get_delta_prepare(t, j)) != 0)
		return r;
	/* A partial from an earlier attempt: offer its whole chunks. */
	if (!j->delta &&
	    (fd = open(j->part, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		if (xfer_resume_offer(fd, UINT64_MAX, cs, t->o->alg, t->buf,
		        &j->digest, &have, h) != 0)
			have = 0;
		close(fd);
	}
	j->offered = have;
	j->id = ++t->c->next_id;
	gr.path = msg_bytes(j->remote);
	gr.chunk_size = cs;
	gr.hash = xfer_hash_to_wire(t->o->alg);
	gr.offset = have;
	if (have > 0) {
		gr.prefix_hash.data = h;
		gr.prefix_hash.len = HASH_LEN;
	}
	gr.passcode = client_passcode(t->c);
	gr.compress = t->o->compress;
	gr.compress_level = (uint32_t)t->o->level;
	gr.delta = j->delta != 0;
	/* The window we grant; GetInfo says whether the server uses it. */
	if ((t->c->features & WIRE_FEAT_ZSTREAM) &&
	    t->o->compress != WHARF__COMPRESS_MODE__COMPRESS_OFF && !j->delta)
		j->stream_wlog = XFER_STREAM_WLOG_MAX;
	gr.stream_window_log = (uint32_t)j->stream_wlog;
	env.id = j->id;
	env.body_case = WHARF__ENVELOPE__BODY_GET;
	env.get = &gr;
	if ((r = channel_send(t->c->ch, &env)) != 0 ||
	    (j->delta && (r = send_index(t, j)) != 0))
		return connection_lost(t, r);
	t->inflight[t->ninflight++] = j;
	return 0;
}

static int
get_info(struct tctx *t, struct job *j, const Wharf__GetInfo *gi)
{
	uint32_t cs = t->o->chunk_size;
	const char *name;
	int fresh, r;

	if (j->got_info || (gi->delta && !j->delta) ||
	    (!gi->delta && gi->chunk_size != cs) ||
	    (gi->offset != 0 && gi->offset != j->offered) ||
	    gi->offset > gi->size ||
	    (gi->delta && gi->stream_window_log != 0) ||
	    !stream_window_ok(gi->stream_window_log, j->stream_wlog) ||
	    xfer_meta_from_wire(
	        &j->meta, gi->mtime_sec, gi->mtime_nsec, gi->mode) != 0) {
		job_fail(t, j, WH_ERR_PROTOCOL, "server sent a bad GetInfo");
		return 0;
	}
	/* One file's chunks at a time: the decoder starts over for each. */
	j->stream_wlog = (int)gi->stream_window_log;
	if (xfer_decoder_begin(&t->dec, j->stream_wlog) != 0) {
		job_fail(t, j, WH_ERR_PROTOCOL, "server sent a bad GetInfo");
		return 0;
	}
	j->got_info = 1;
	j->size = gi->size;
	j->count = xfer_chunk_count(j->size, cs);
	/* The partial, locked: two downloads of one file cannot mix. */
	if ((r = xfer_commit_dir(j->local, &j->dirfd, &name)) != 0 ||
	    (r = xfer_partial_open(
	         j->dirfd, tree_base(j->part), 0, &j->fd, &fresh, NULL)) != 0) {
		job_fail(t, j, r,
		    r == WH_ERR_BUSY ? "another download of this file is in "
		                       "progress" :
		                       wh_strerror(r));
		return 0;
	}
	xfer_recv_init(&j->rx, j->fd, j->size, cs, t->o->alg, &t->dec);
	if (gi->delta) {
		xfer_recv_delta(&j->rx, &j->idx, j->src, t->buf);
	} else if (j->delta) {
		/* The server answered without using our index (an old
		 * server): a plain download. */
		job_release(j);
		j->delta = 0;
	}
	if (gi->offset == 0) {
		if (ftruncate(j->fd, 0) != 0) {
			job_fail(
			    t, j, wh_err_from_errno(errno), strerror(errno));
			return 0;
		}
	} else
		xfer_recv_resume(&j->rx, gi->offset, &j->digest, 0);
	j->resumed = gi->offset;
	t->pr.current = j->remote;
	t->pr.cur_size = j->size;
	t->pr.cur_done = j->resumed;
	return 0;
}

/* A chunk of a download: the engine's receiver checks, decodes and
 * writes it (or copies a block we hold already, in a delta). */
static int
get_chunk(struct tctx *t, struct job *j, const Wharf__Chunk *c)
{
	char why[96];
	int r;

	if (j->failed)
		return 0; /* drain the rest of this file */
	if (!j->got_info) {
		job_fail(t, j, WH_ERR_PROTOCOL, "chunk outside the file");
		return 0;
	}
	if ((r = xfer_recv_chunk(&j->rx, c)) != 0) {
		if (j->rx.write_failed)
			snprintf(why, sizeof(why), "%s", wh_strerror(r));
		else if (j->delta)
			snprintf(why, sizeof(why), "%s",
			    r == WH_ERR_PROTOCOL ? "server sent a bad chunk" :
			        c->ref ? "local old data changed during the "
			                 "download; try again" :
			                 "hash mismatch");
		else
			snprintf(why, sizeof(why), "chunk %llu: %s",
			    (unsigned long long)j->rx.next_index,
			    r == WH_ERR_BAD_HASH       ? "hash mismatch" :
			        r == WH_ERR_DECOMPRESS ? "bad compressed data" :
			                                 "malformed");
		job_fail(t, j, r, why);
		return 0;
	}
	j->wire = j->rx.wire;
	j->reused = j->rx.reused;
	t->pr.cur_done += c->raw_len;
	progress_draw(&t->pr, 0);
	return 0;
}

/* Installs a verified download: the engine's commit (mode, mtime, fsync,
 * rename, fsync of the folder). */
static int
get_commit(struct job *j)
{
	struct xfer_commit c;

	xfer_commit_init(&c, j->dirfd, tree_base(j->part), tree_base(j->local),
	    j->fd, j->size, &j->meta, XFER_COMMIT_CUT);
	return xfer_commit(&c);
}

uint32_t
transfer_file_mode(const struct transfer_opts *o, uint32_t mode, int local)
{
	mode_t mask;

	if (!o->no_perms)
		return mode & 0777;
	if (!local)
		return TRANSFER_NO_PERMS_MODE;
	/* What open(2) would give a new file here. */
	mask = umask(022);
	umask(mask);
	return 0666 & ~(uint32_t)mask;
}

static int
get_end(struct tctx *t, struct job *j, const Wharf__GetEnd *ge)
{
	int r;

	if (j->failed)
		return 0;
	r = j->got_info ?
	    xfer_recv_finish(&j->rx, ge->file_hash.data, ge->file_hash.len) :
	    WH_ERR_PROTOCOL;
	if (r == WH_ERR_BAD_HASH) {
		unlink(j->part);
		job_fail(t, j, r, "file hash mismatch; partial discarded");
		return 0;
	}
	if (r != 0) {
		job_fail(t, j, WH_ERR_PROTOCOL, "file ended early");
		return 0;
	}
	/* --no-perms: the mode a new file gets here, not the server's. */
	j->meta.mode = transfer_file_mode(t->o, j->meta.mode, 1);
	if ((r = get_commit(j)) != 0) {
		job_fail(t, j, r, wh_strerror(r));
		return 0;
	}
	close(j->fd);
	j->fd = -1;
	if (j->delta)
		j->resumed = j->reused;
	job_release(j);
	job_report(t, j, 0);
	return 0;
}

/* Handles the next message of the downloads in flight. */
static int
get_pump(struct tctx *t)
{
	Wharf__Envelope *env;
	char why[CLIENT_ERRMSG_MAX];
	struct job *j;
	int r, slot;

	if ((r = recv_one(t, &env)) != 0)
		return r;
	if ((j = inflight_find(t, env->id, &slot)) == NULL) {
		msg_free(env);
		return 0;
	}
	switch (env->body_case) {
	case WHARF__ENVELOPE__BODY_GET_INFO:
		r = get_info(t, j, env->get_info);
		break;
	case WHARF__ENVELOPE__BODY_CHUNK:
		r = get_chunk(t, j, env->chunk);
		break;
	case WHARF__ENVELOPE__BODY_GET_END:
		r = get_end(t, j, env->get_end);
		j->done = 1;
		break;
	case WHARF__ENVELOPE__BODY_ERROR:
		text_clean(why, sizeof(why), env->error->message);
		client_note_error(t->c, env->error);
		if (env->error->code == WHARF__ERROR_CODE__CANCELLED)
			t->cancelled++;
		job_fail(t, j, msg_err_from_code(env->error->code), why);
		j->done = 1;
		break;
	default:
		job_fail(t, j, WH_ERR_PROTOCOL, "unexpected answer");
		j->done = 1;
		break;
	}
	if (j->done) {
		if (j->fd >= 0) {
			close(j->fd); /* a failed partial stays for resume */
			j->fd = -1;
		}
		if (j->dirfd >= 0) {
			close(j->dirfd);
			j->dirfd = -1;
		}
		job_release(j);
		inflight_remove(t, slot);
	}
	msg_free(env);
	return r;
}

static int
cancel_inflight(struct tctx *t)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__Cancel cancel = WHARF__CANCEL__INIT;
	int i, r;

	env.body_case = WHARF__ENVELOPE__BODY_CANCEL;
	env.cancel = &cancel;
	for (i = 0; i < t->ninflight; i++) {
		cancel.target = t->inflight[i]->id;
		if ((r = channel_send(t->c->ch, &env)) != 0)
			return connection_lost(t, r);
	}
	return 0;
}

/* Fetches every job with TRANSFER_WINDOW requests queued at the server. */
static void
run_gets(struct tctx *t)
{
	size_t next = 0;
	int cancelled = 0;

	client_interrupt_arm();
	while (!t->lost && (next < t->njobs || t->ninflight > 0)) {
		if (client_interrupted() && !cancelled) {
			/* Stop cleanly: no new requests, and every one in
			 * flight ends (CANCELLED) with its partial kept. */
			cancelled = 1;
			next = t->njobs;
			if (cancel_inflight(t) != 0)
				break;
		}
		while (!t->lost && !cancelled && next < t->njobs &&
		    t->ninflight < TRANSFER_WINDOW) {
			if (striping(t, &t->jobs[next])) {
				if (t->ninflight > 0)
					break; /* drain first */
				get_striped(t, &t->jobs[next++]);
				continue;
			}
			if (get_request(t, &t->jobs[next++]) != 0)
				break;
		}
		if (t->ninflight > 0 && get_pump(t) != 0)
			break;
	}
	if (t->cancelled > 0 && !t->lost)
		fprintf(stderr,
		    "wharf: get: cancelled; partials are kept, "
		    "repeat the get to resume\n");
	client_interrupt_disarm();
}

int
transfer_pairs(struct client *c, const struct transfer_opts *o, int put,
    char **locals, char **remotes, size_t n)
{
	struct tctx t;
	struct job *j;
	size_t i;
	int r;

	if ((r = tctx_init(&t, c, o, put ? "put" : "get")) != 0)
		return r == WH_ERR_UNSUPPORTED ? EXIT_USAGE : EXIT_REMOTE;
	r = put ?
	    xfer_encoder_init(&t.enc, o->compress, o->level) :
	    xfer_decoder_init(&t.dec, (c->features & WIRE_FEAT_ZSTD) != 0);
	for (i = 0; i < n && r == 0; i++) {
		if ((j = job_add(&t, locals[i], remotes[i])) == NULL)
			r = WH_ERR_NOMEM;
		else
			t.pr.total_files++;
	}
	t.pr.tree = 1;
	if (r == 0) {
		if (put)
			run_puts(&t);
		else
			run_gets(&t);
	} else {
		fprintf(stderr, "wharf: %s: %s\n", t.dir, wh_strerror(r));
		t.failures++;
	}
	r = status_of(&t);
	tctx_cleanup(&t);
	return r;
}

int
transfer_get(struct client *c, const struct transfer_opts *o, char **remotes,
    int nremote, const char *local)
{
	uint64_t rsize = 0;
	struct job *j;
	struct tctx t;
	Wharf__FileType type;
	char name[WIRE_NAME_MAX + 1], *lp;
	struct tree_plan gt = { &t, 0, NULL, NULL, 0, 0 };
	struct tree_walk w = { .o = o,
		.what = "get",
		.visit = plan_visit,
		.arg = &gt,
		.links = o->links,
		.tm = &t.tm };
	size_t k;
	const char *dest = local != NULL ? local : ".";
	struct stat st;
	int i, r, dest_is_dir;

	if ((r = tctx_init(&t, c, o, "get")) != 0)
		return r == WH_ERR_UNSUPPORTED ? EXIT_USAGE : EXIT_REMOTE;
	if ((r = xfer_decoder_init(
	         &t.dec, (c->features & WIRE_FEAT_ZSTD) != 0)) != 0)
		goto out;
	dest_is_dir = stat(dest, &st) == 0 && S_ISDIR(st.st_mode);
	if (!dest_is_dir && dest[0] != '\0' && dest[strlen(dest) - 1] == '/') {
		fprintf(stderr, "wharf: get: %s: no such directory\n", dest);
		t.failures++;
		goto out;
	}
	if (nremote > 1 && !dest_is_dir) {
		fprintf(
		    stderr, "wharf: get: %s is not a local directory\n", dest);
		t.failures++;
		goto out;
	}
	for (i = 0; i < nremote && !t.lost; i++) {
		if ((r = remote_type(c, remotes[i], &type, &rsize)) != 0) {
			fprintf(stderr, "wharf: get %s: %s\n", remotes[i],
			    c->errmsg);
			t.failures++;
			t.lost = c->lost;
			r = 0;
			continue;
		}
		if (tree_base_copy(remotes[i], name, sizeof(name)) != 0 ||
		    strcmp(name, "..") == 0 || strcmp(name, ".") == 0)
			snprintf(name, sizeof(name), "%s",
			    type == WHARF__FILE_TYPE__TYPE_DIR ?
			        "download" :
			        "download.bin");
		lp = dest_is_dir ? tree_join(dest, name) : strdup(dest);
		if (lp == NULL) {
			r = WH_ERR_NOMEM;
			goto out;
		}
		if (type == WHARF__FILE_TYPE__TYPE_DIR) {
			if (!o->recursive) {
				fprintf(stderr,
				    "wharf: get %s: is a directory "
				    "(use -r)\n",
				    remotes[i]);
				t.failures++;
			} else {
				gt.dest = lp;
				r = tree_walk_remote(&w, c, remotes[i]);
				if (r != 0 && !c->lost && r != WH_ERR_NOMEM) {
					fprintf(stderr, "wharf: get: %s: %s\n",
					    remotes[i],
					    c->errmsg[0] ? c->errmsg :
					                   wh_strerror(r));
					t.failures++;
					r = 0;
				}
			}
		} else if ((j = job_add(&t, lp, remotes[i])) == NULL)
			r = WH_ERR_NOMEM;
		else {
			j->size = rsize;
			t.pr.total_files++;
		}
		free(lp);
		if (r != 0)
			goto out;
	}
	t.pr.tree = o->recursive;
	t.failures += w.failures;
	for (k = 0; k < gt.ndirs; k++) {
		if (mkdir(gt.dirs[k], 0755) != 0 && errno != EEXIST) {
			fprintf(stderr, "wharf: get: mkdir %s: %s\n",
			    gt.dirs[k], strerror(errno));
			t.failures++;
		}
	}
	run_gets(&t);
	/* Links and folder attributes once every file is in. */
	if (!t.lost && t.ninflight == 0)
		tree_meta_apply_local(&t.tm, "get", !o->no_perms);
	tree_meta_summary(&t.tm, "get");
	r = 0;
out:
	client_interrupt_disarm();
	plan_cleanup(&gt);
	if (r != 0) {
		fprintf(stderr, "wharf: get: %s\n", wh_strerror(r));
		t.failures++;
	}
	r = status_of(&t);
	tctx_cleanup(&t);
	return r;
}

int
transfer_sum(struct client *c, enum hash_alg alg, const char *remote)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__SumReq sr = WHARF__SUM_REQ__INIT;
	char hex[HASH_HEX_LEN], clean[LOG_PEER_STR_MAX + 1];
	int r;

	sr.path = msg_bytes(remote);
	sr.passcode = client_passcode(c);
	sr.hash = xfer_hash_to_wire(alg);
	req.body_case = WHARF__ENVELOPE__BODY_SUM;
	req.sum = &sr;
	if ((r = client_call(c, &req, &resp, NULL, NULL)) != 0) {
		fprintf(stderr, "wharf: sum %s: %s\n",
		    text_clean(clean, sizeof(clean), remote), c->errmsg);
		return c->lost ? EXIT_CONNECT : EXIT_REMOTE;
	}
	if (resp->body_case != WHARF__ENVELOPE__BODY_SUM_REPLY) {
		msg_free(resp);
		fprintf(stderr, "wharf: sum: unexpected answer\n");
		return EXIT_REMOTE;
	}
	hash_hex(resp->sum_reply->hash.data, hex);
	/* The format of sha256sum and b2sum, so the outputs compare. */
	printf("%s  %s\n", hex, text_clean(clean, sizeof(clean), remote));
	msg_free(resp);
	return EXIT_OK;
}
