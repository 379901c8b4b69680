/* SPDX-License-Identifier: MIT */
/*
 * Client side of get and put. Uploads stream PutOpen, chunks and PutEnd
 * for one file after another and collect the answers as they come (up to
 * TRANSFER_WINDOW files unanswered), so a tree of small files costs no
 * round trip per file. Downloads keep TRANSFER_WINDOW requests queued at
 * the server, which answers them in order. Every file lands through a
 * partial beside its target and a rename after the digest matches.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
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
#include "wharf/stats.h"
#include "wharf/strnum.h"
#include "wharf/striped.h"
#include "wharf/transfer.h"
#include "wharf/treemeta.h"
#include "wharf/cdc.h"
#include "wharf/commit.h"
#include "wharf/delta.h"
#include "wharf/recv.h"
#include "wharf/resume.h"
#include "wharf/send.h"
#include "wharf/xfer.h"

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

struct progress {
	int enabled;
	int tree;
	uint64_t total_files;
	uint64_t total_bytes;
	uint64_t done_files;
	uint64_t done_bytes;
	double t0;
	double last;
	const char *current;
	uint64_t cur_done;
	uint64_t cur_size;
};

struct tctx {
	struct client *c;
	const struct transfer_opts *o;
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
		if (hash_alg_parse(v, &o->alg) != 0) {
			fprintf(stderr,
			    "wharf: --hash: expected blake2b or "
			    "sha256\n");
			return WH_ERR_INVALID_ARG;
		}
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

/* ---- progress and summaries ---- */

static void
progress_clear(struct progress *p)
{
	if (p->enabled)
		fputs("\r\033[K", stderr);
}

static void
progress_draw(struct progress *p, int force)
{
	char done[32], total[32], eta[32] = "";
	double now = clock_mono_sec(), rate, left;
	uint64_t d, t;
	char clean[64];

	if (!p->enabled || (!force && now - p->last < 1.0 / TRANSFER_REDRAW_HZ))
		return;
	p->last = now;
	d = p->tree ? p->done_bytes + p->cur_done : p->cur_done;
	t = p->tree ? p->total_bytes : p->cur_size;
	rate = stats_rate(d, now - p->t0);
	stats_format_size(d, done, sizeof(done));
	stats_format_size(t, total, sizeof(total));
	if (rate > 0 && t > d) {
		left = (double)(t - d) / (rate * 1e6);
		snprintf(eta, sizeof(eta), " ETA %d:%02d", (int)left / 60,
		    (int)left % 60);
	}
	if (p->tree)
		fprintf(stderr,
		    "\r\033[Kfiles %llu/%llu  %s / %s  %3d%%  "
		    "%.1f MB/s%s",
		    (unsigned long long)p->done_files,
		    (unsigned long long)p->total_files, done, total,
		    t ? (int)(d * 100 / t) : 100, rate, eta);
	else
		fprintf(stderr, "\r\033[K%-24.24s %3d%%  %s / %s  %.1f MB/s%s",
		    cli_clean(clean, sizeof(clean), p->current),
		    t ? (int)(d * 100 / t) : 100, done, total, rate, eta);
	fflush(stderr);
}

static const char *
compression_name(const struct transfer_opts *o, char *buf, size_t len)
{
	if (o->compress == WHARF__COMPRESS_MODE__COMPRESS_AUTO)
		return "auto";
	if (o->compress == WHARF__COMPRESS_MODE__COMPRESS_OFF)
		return "off";
	snprintf(buf, len, "zstd-%d", o->level);
	return buf;
}

/* One summary line and one CSV row for a finished file. */
static void
job_report(struct tctx *t, struct job *j, int r)
{
	char size[32], wire[32], res[48] = "", clean[LOG_PEER_STR_MAX + 1];
	char comp[16];
	double secs = clock_mono_sec() - j->t0;
	uint64_t sent = j->size - j->resumed;
	struct xfer_stats st;

	progress_clear(&t->pr);
	if (t->o->json) {
		printf("{\"op\":\"%s\",\"path\":", t->dir);
		cli_json_str(
		    stdout, strcmp(t->dir, "put") == 0 ? j->local : j->remote);
		printf(",\"bytes\":%llu,\"wire_bytes\":%llu,"
		       "\"resumed_bytes\":%llu,\"seconds\":%.3f,"
		       "\"mb_per_s\":%.2f,\"hash\":\"%s\",\"result\":\"%s\"}\n",
		    (unsigned long long)j->size, (unsigned long long)j->wire,
		    (unsigned long long)j->resumed, secs,
		    stats_rate(sent, secs), hash_alg_name(t->o->alg),
		    r == 0 ? "ok" : msg_code_name(msg_code_from_err(r)));
		fflush(stdout);
	} else if (r == 0 && !t->o->quiet) {
		stats_format_size(j->size, size, sizeof(size));
		stats_format_size(j->wire, wire, sizeof(wire));
		if (j->resumed > 0) {
			char rs[32];

			stats_format_size(j->resumed, rs, sizeof(rs));
			/* Reused blocks (delta) versus a resumed prefix. */
			snprintf(res, sizeof(res), ", %s %s",
			    j->reused > 0 ? "reused" : "resumed", rs);
		}
		printf("%s %s  %s in %.2f s, %.1f MB/s, wire %s (%.2fx)%s\n",
		    t->dir,
		    cli_clean(clean, sizeof(clean),
		        strcmp(t->dir, "put") == 0 ? j->local : j->remote),
		    size, secs,
		    stats_rate(j->reused > 0 ? j->size : sent, secs), wire,
		    j->wire > 0 ? (double)sent / (double)j->wire : 1.0, res);
		fflush(stdout);
	}
	if (t->o->stats_path != NULL) {
		st.peer = t->c->hostport;
		st.user = t->c->target.user;
		st.direction = t->dir;
		st.path = j->remote;
		st.hash = hash_alg_name(t->o->alg);
		st.compression = compression_name(t->o, comp, sizeof(comp));
		st.result = r == 0 ? "ok" : msg_code_name(msg_code_from_err(r));
		st.bytes = j->size;
		st.wire_bytes = j->wire;
		st.resumed = j->resumed;
		st.seconds = secs;
		if (stats_append_csv(t->o->stats_path, &st) != 0)
			fprintf(stderr, "wharf: --stats %s: %s\n",
			    t->o->stats_path, strerror(errno));
	}
	t->pr.done_files++;
	t->pr.done_bytes += j->size;
	t->pr.cur_done = 0;
}

static void
job_fail(struct tctx *t, struct job *j, int r, const char *why)
{
	char clean[LOG_PEER_STR_MAX + 1];

	if (j->failed)
		return;
	j->failed = 1;
	t->failures++;
	job_report(t, j, r);
	fprintf(stderr, "wharf: %s %s: %s\n", t->dir,
	    cli_clean(clean, sizeof(clean),
	        strcmp(t->dir, "put") == 0 ? j->local : j->remote),
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

/* "dir" + "name", without doubling the slash. */
static char *
path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	char *p;

	if ((p = malloc(n + strlen(name) + 2)) == NULL)
		return NULL;
	snprintf(p, n + strlen(name) + 2, "%s%s%s", dir,
	    n > 0 && dir[n - 1] == '/' ? "" : "/", name);
	return p;
}

static const char *
base_name(const char *path)
{
	const char *end = path + strlen(path), *s;

	while (end > path + 1 && end[-1] == '/')
		end--;
	for (s = end; s > path && s[-1] != '/'; s--)
		;
	return s;
}

/* base_name() copied without trailing slashes. */
static int
base_copy(const char *path, char *out, size_t outlen)
{
	const char *b = base_name(path);
	size_t n = strcspn(b, "/");

	if (n == 0 || n >= outlen)
		return WH_ERR_INVALID_ARG;
	memcpy(out, b, n);
	out[n] = '\0';
	return 0;
}

/* A name that came from the server, checked like any hostile path:
 * one component, not "." or "..", printable UTF-8 with no slash. */
static int
safe_name(const ProtobufCBinaryData *b, char *out, size_t outlen)
{
	size_t i;

	if (msg_text(b, out, outlen) != 0 || out[0] == '\0' ||
	    strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		return 0;
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f ||
		    out[i] == '/')
			return 0;
	return 1;
}

static int
excluded(const struct transfer_opts *o, const char *rel)
{
	int i;

	for (i = 0; i < o->nexcludes; i++) {
		if (fnmatch(o->excludes[i], rel, 0) == 0)
			return 1;
		/* A pattern without '/' also matches any base name, as
		 * rsync's do. */
		if (strchr(o->excludes[i], '/') == NULL &&
		    fnmatch(o->excludes[i], base_name(rel), 0) == 0)
			return 1;
	}
	return 0;
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

	if ((r = channel_recv(t->c->ch, env)) != 0)
		return connection_lost(t, r);
	if ((*env)->id == 0 &&
	    (*env)->body_case == WHARF__ENVELOPE__BODY_ERROR) {
		fprintf(stderr, "wharf: server: %s\n",
		    cli_clean(clean, sizeof(clean), (*env)->error->message));
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
		cli_clean(why, sizeof(why), env->error->message);
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

/*
 * A symbolic link met in a local tree: 1 if handled (recorded to make on
 * the server with -l, or skipped and counted), 0 with *st now what it
 * points to (-L), or an error.
 */
static int
put_link(struct tctx *t, const char *lp, const char *rp, const char *rel,
    struct stat *st)
{
	char target[PATH_MAX];
	const char *s;
	int depth = 0;
	ssize_t n;

	if (t->o->links == TREE_LINKS_FOLLOW) {
		for (s = rel; *s != '\0'; s++)
			depth += *s == '/';
		if (stat(lp, st) != 0) {
			tree_meta_skip(&t->tm, "put", lp,
			    "it points to nothing (a broken link)");
			return 1;
		}
		if (S_ISDIR(st->st_mode) && depth >= TREE_DEPTH_MAX) {
			tree_meta_skip(&t->tm, "put", lp,
			    "folders nest too deep (a link loop?)");
			return 1;
		}
		return 0;
	}
	if (t->o->links == TREE_LINKS_KEEP) {
		n = readlink(lp, target, sizeof(target) - 1);
		if (n <= 0) {
			tree_meta_skip(&t->tm, "put", lp, strerror(errno));
			return 1;
		}
		target[n] = '\0';
		return tree_meta_add_link(&t->tm, rp, target) == 0 ?
		    1 :
		    WH_ERR_NOMEM;
	}
	tree_meta_skip(&t->tm, "put", lp, "not followed without -L or -l");
	return 1;
}

/* Walks a local tree into jobs (files) and remote folders to make. */
static int
put_walk(struct tctx *t, const char *local, const char *remote, const char *rel,
    char ***dirs, size_t *ndirs, size_t *capdirs)
{
	struct dirent *de;
	struct stat st;
	char *lp = NULL, *rp = NULL, *relp = NULL, **nd;
	DIR *d;
	int r = 0;

	if (*ndirs == *capdirs) {
		*capdirs = *capdirs ? *capdirs * 2 : 16;
		if ((nd = realloc(*dirs, *capdirs * sizeof(*nd))) == NULL)
			return WH_ERR_NOMEM;
		*dirs = nd;
	}
	if (((*dirs)[*ndirs] = strdup(remote)) == NULL)
		return WH_ERR_NOMEM;
	(*ndirs)++;
	/* Its mode and mtime, set once its files are in. */
	if (stat(local, &st) == 0 &&
	    (r = tree_meta_add_dir_st(&t->tm, remote, &st)) != 0)
		return r;
	if ((d = opendir(local)) == NULL) {
		fprintf(stderr, "wharf: put %s: %s\n", local, strerror(errno));
		t->failures++;
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		free(lp);
		free(rp);
		free(relp);
		lp = path_join(local, de->d_name);
		rp = path_join(remote, de->d_name);
		relp = rel[0] ? path_join(rel, de->d_name) : strdup(de->d_name);
		if (lp == NULL || rp == NULL || relp == NULL) {
			r = WH_ERR_NOMEM;
			break;
		}
		/* Partials are transfer state, and reserved on the server. */
		if (excluded(t->o, relp) ||
		    xfer_partial_is(de->d_name, strlen(de->d_name)))
			continue;
		if (lstat(lp, &st) != 0) {
			fprintf(
			    stderr, "wharf: put %s: %s\n", lp, strerror(errno));
			t->failures++;
			continue;
		}
		if (S_ISLNK(st.st_mode) &&
		    (r = put_link(t, lp, rp, relp, &st)) != 0) {
			if (r < 0)
				break;
			r = 0;
			continue; /* kept as a link, or skipped */
		}
		if (S_ISDIR(st.st_mode)) {
			if ((r = put_walk(
			         t, lp, rp, relp, dirs, ndirs, capdirs)) != 0)
				break;
		} else if (S_ISREG(st.st_mode)) {
			struct job *j = job_add(t, lp, rp);

			if (j == NULL) {
				r = WH_ERR_NOMEM;
				break;
			}
			j->size = (uint64_t)st.st_size;
			t->pr.total_files++;
			t->pr.total_bytes += j->size;
		} else
			tree_meta_skip_special(&t->tm, "put", lp);
	}
	free(lp);
	free(rp);
	free(relp);
	closedir(d);
	return r;
}

static int
status_of(struct tctx *t)
{
	if (t->lost)
		return EXIT_CONNECT;
	return tree_meta_status(
	    &t->tm, t->failures > 0 ? EXIT_REMOTE : EXIT_OK);
}

static int
tctx_init(struct tctx *t, struct client *c, const struct transfer_opts *o,
    const char *dir)
{
	memset(t, 0, sizeof(*t));
	t->c = c;
	t->o = o;
	t->dir = dir;
	t->pr.enabled = o->progress;
	t->pr.t0 = clock_mono_sec();
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

	client_interrupt_arm();
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
			put_striped(t, &t->jobs[k]);
			continue;
		}
		if (t->lost || put_one(t, &t->jobs[k]) != 0)
			break;
		progress_draw(&t->pr, 0);
	}
	while (t->ninflight > 0 && !t->lost)
		if (put_pump(t, 1) != 0)
			break;
	client_interrupt_disarm();
}

int
transfer_put(struct client *c, const struct transfer_opts *o, char **locals,
    int nlocal, const char *remote)
{
	struct tctx t;
	Wharf__FileType type;
	char name[NAME_MAX + 1], **dirs = NULL, *rp;
	size_t ndirs = 0, capdirs = 0, k;
	const char *dest = remote != NULL ? remote : ".";
	int i, r, dest_is_dir;
	struct stat st;

	if ((r = tctx_init(&t, c, o, "put")) != 0)
		return EXIT_REMOTE;
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
		if (base_copy(locals[i], name, sizeof(name)) != 0 ||
		    stat(locals[i], &st) != 0) {
			fprintf(stderr, "wharf: put %s: %s\n", locals[i],
			    strerror(errno ? errno : EINVAL));
			t.failures++;
			continue;
		}
		rp = dest_is_dir ? path_join(dest, name) : strdup(dest);
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
			} else
				r = put_walk(&t, locals[i], rp, "", &dirs,
				    &ndirs, &capdirs);
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
	for (k = 0; k < ndirs && !t.lost; k++) {
		if ((r = remote_mkdir(c, dirs[k])) != 0) {
			fprintf(stderr, "wharf: put: mkdir %s: %s\n", dirs[k],
			    c->errmsg);
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
	for (k = 0; k < ndirs; k++)
		free(dirs[k]);
	free(dirs);
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
	const char *b = base_name(local);
	size_t dlen = (size_t)(b - local);

	if (xfer_partial_name(b, part, sizeof(part)) != 0)
		return NULL;
	if ((dir = strndup(local, dlen)) == NULL)
		return NULL;
	p = dlen > 0 ? path_join(dir, part) : strdup(part);
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
	         j->dirfd, base_name(j->part), 0, &j->fd, &fresh)) != 0) {
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

	xfer_commit_init(&c, j->dirfd, base_name(j->part), base_name(j->local),
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
		cli_clean(why, sizeof(why), env->error->message);
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

struct listing {
	struct tctx *t;
	size_t toplen; /* the tree's top, without trailing slashes */
	const char *remote;
	const char *local;
	char ***dirs; /* pairs: remote, local */
	size_t *ndirs;
	size_t *capdirs;
	int err;
	char **follow; /* -L: pairs remote, local of links to stat after */
	size_t nfollow;
};

static int
push_dir(struct listing *l, const char *remote, const char *local)
{
	char **nd;

	if (*l->ndirs + 2 > *l->capdirs) {
		*l->capdirs = *l->capdirs ? *l->capdirs * 2 : 16;
		if ((nd = realloc(*l->dirs, *l->capdirs * sizeof(*nd))) == NULL)
			return WH_ERR_NOMEM;
		*l->dirs = nd;
	}
	if (((*l->dirs)[*l->ndirs] = strdup(remote)) == NULL)
		return WH_ERR_NOMEM;
	if (((*l->dirs)[*l->ndirs + 1] = strdup(local)) == NULL) {
		free((*l->dirs)[*l->ndirs]);
		return WH_ERR_NOMEM;
	}
	*l->ndirs += 2;
	return 0;
}

/* A link in a remote listing: made here (-l, where its target is safe
 * inside the tree), followed once the listing is read (-L), or skipped. */
static int
get_link(struct listing *l, const Wharf__FileInfo *fi, const char *rp,
    const char *lp)
{
	char target[WIRE_PATH_MAX + 1], **nf;
	const char *rel = rp + l->toplen + (rp[l->toplen] == '/');

	if (l->t->o->links == TREE_LINKS_FOLLOW) {
		if ((nf = realloc(l->follow, (l->nfollow + 2) * sizeof(*nf))) ==
		    NULL)
			return WH_ERR_NOMEM;
		l->follow = nf;
		if ((nf[l->nfollow] = strdup(rp)) == NULL)
			return WH_ERR_NOMEM;
		if ((nf[l->nfollow + 1] = strdup(lp)) == NULL) {
			free(nf[l->nfollow]);
			return WH_ERR_NOMEM;
		}
		l->nfollow += 2;
		return 0;
	}
	if (l->t->o->links != TREE_LINKS_KEEP) {
		tree_meta_skip(
		    &l->t->tm, "get", rp, "not followed without -L or -l");
		return 0;
	}
	if (fi->link_target.len == 0 ||
	    msg_text(&fi->link_target, target, sizeof(target)) != 0) {
		tree_meta_skip(&l->t->tm, "get", rp,
		    "unsafe: its target leads out of the server's tree");
		return 0;
	}
	if (!tree_link_safe(rel, target)) {
		tree_meta_skip(&l->t->tm, "get", rp,
		    "unsafe: its target leads out of the tree");
		return 0;
	}
	return tree_meta_add_link(&l->t->tm, lp, target);
}

/* -L: what the links of one listing point to, as files or folders. */
static int
get_follow(struct listing *l, int depth)
{
	Wharf__FileType type;
	uint64_t size;
	struct job *j;
	size_t k;
	int r = 0;

	for (k = 0; k < l->nfollow && r == 0; k += 2) {
		if ((r = remote_type(l->t->c, l->follow[k], &type, &size)) !=
		    0) {
			if (l->t->c->lost)
				break;
			tree_meta_skip(
			    &l->t->tm, "get", l->follow[k], l->t->c->errmsg);
			r = 0;
		} else if (type == WHARF__FILE_TYPE__TYPE_DIR &&
		    depth >= TREE_DEPTH_MAX) {
			tree_meta_skip(&l->t->tm, "get", l->follow[k],
			    "folders nest too deep (a link loop?)");
		} else if (type == WHARF__FILE_TYPE__TYPE_DIR) {
			r = push_dir(l, l->follow[k], l->follow[k + 1]);
		} else if (type == WHARF__FILE_TYPE__TYPE_FILE) {
			if ((j = job_add(
			         l->t, l->follow[k + 1], l->follow[k])) == NULL)
				r = WH_ERR_NOMEM;
			else {
				j->size = size;
				l->t->pr.total_files++;
				l->t->pr.total_bytes += size;
			}
		} else
			tree_meta_skip(&l->t->tm, "get", l->follow[k],
			    "not a file or folder");
	}
	for (k = 0; k < l->nfollow; k++)
		free(l->follow[k]);
	free(l->follow);
	l->follow = NULL;
	l->nfollow = 0;
	return r;
}

static int
collect_entries(void *arg, const Wharf__Envelope *part)
{
	struct listing *l = arg;
	char name[WIRE_NAME_MAX + 1], *rp, *lp, clean[LOG_PEER_STR_MAX + 1];
	const Wharf__FileInfo *fi;
	struct job *j;
	size_t i;
	int r = 0;

	for (i = 0; i < part->list_part->n_entries && r == 0; i++) {
		fi = part->list_part->entries[i];
		if (!safe_name(&fi->name, name, sizeof(name))) {
			/* Never let the server pick a path of ours. */
			fprintf(stderr,
			    "wharf: get: refusing unsafe name from "
			    "server in %s\n",
			    cli_clean(clean, sizeof(clean), l->remote));
			l->t->failures++;
			continue;
		}
		rp = path_join(l->remote, name);
		lp = path_join(l->local, name);
		if (rp == NULL || lp == NULL) {
			r = WH_ERR_NOMEM;
		} else if (excluded(l->t->o,
		               rp + l->toplen + (rp[l->toplen] == '/'))) {
			;
		} else if (fi->type == WHARF__FILE_TYPE__TYPE_DIR) {
			if ((r = push_dir(l, rp, lp)) == 0)
				r = tree_meta_add_dir(&l->t->tm, lp, fi->mode,
				    fi->mtime_sec, fi->mtime_nsec);
		} else if (fi->type == WHARF__FILE_TYPE__TYPE_SYMLINK) {
			r = get_link(l, fi, rp, lp);
		} else if (fi->type == WHARF__FILE_TYPE__TYPE_FILE) {
			if ((j = job_add(l->t, lp, rp)) == NULL)
				r = WH_ERR_NOMEM;
			else {
				j->size = fi->size;
				l->t->pr.total_files++;
				l->t->pr.total_bytes += fi->size;
			}
		} else
			tree_meta_skip_special(&l->t->tm, "get", rp);
		free(rp);
		free(lp);
	}
	return r;
}

/* Lists a remote tree breadth first into jobs and local folders. */
static int
get_walk(struct tctx *t, const char *remote, const char *local, char ***dirs,
    size_t *ndirs, size_t *capdirs)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__ListReq lr = WHARF__LIST_REQ__INIT;
	struct listing l = { t, 0, NULL, NULL, dirs, ndirs, capdirs, 0, NULL,
		0 };
	Wharf__Envelope sreq = WHARF__ENVELOPE__INIT, *sresp = NULL;
	Wharf__StatReq st = WHARF__STAT_REQ__INIT;
	const Wharf__FileInfo *fi;
	size_t k, first = *ndirs;
	const char *s;
	int r, depth;

	l.toplen = strlen(remote);
	while (l.toplen > 0 && remote[l.toplen - 1] == '/')
		l.toplen--;
	if ((r = push_dir(&l, remote, local)) != 0)
		return r;
	/* The top's own mode and mtime, set last of all. */
	st.path = msg_bytes(remote);
	sreq.body_case = WHARF__ENVELOPE__BODY_STAT;
	sreq.stat = &st;
	if (client_call(t->c, &sreq, &sresp, NULL, NULL) == 0 &&
	    sresp->body_case == WHARF__ENVELOPE__BODY_STAT_REPLY) {
		fi = sresp->stat_reply->info;
		r = tree_meta_add_dir(
		    &t->tm, local, fi->mode, fi->mtime_sec, fi->mtime_nsec);
	}
	msg_free(sresp);
	if (r != 0 || t->c->lost)
		return r != 0 ? r : WH_ERR_IO;
	/* Only this tree's folders: earlier trees are listed already. */
	for (k = first; k < *ndirs; k += 2) {
		l.remote = (*dirs)[k];
		l.local = (*dirs)[k + 1];
		lr.path = msg_bytes(l.remote);
		lr.all = 1;
		req.body_case = WHARF__ENVELOPE__BODY_LIST;
		req.list = &lr;
		r = client_call(t->c, &req, &resp, collect_entries, &l);
		if (r == 0 &&
		    resp->body_case == WHARF__ENVELOPE__BODY_LIST_PART)
			r = collect_entries(&l, resp);
		msg_free(resp);
		resp = NULL;
		/* Links to follow, now that the listing is read. */
		for (depth = 0, s = l.remote + l.toplen; *s != '\0'; s++)
			depth += *s == '/';
		if (l.nfollow > 0) {
			int fr = get_follow(&l, depth);

			r = r != 0 ? r : fr;
		}
		if (r != 0) {
			if (t->c->lost)
				return r;
			fprintf(stderr, "wharf: get: %s: %s\n", l.remote,
			    t->c->errmsg[0] ? t->c->errmsg : wh_strerror(r));
			t->failures++;
		}
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
		return EXIT_REMOTE;
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
	char name[WIRE_NAME_MAX + 1], **dirs = NULL, *lp;
	size_t ndirs = 0, capdirs = 0, k;
	const char *dest = local != NULL ? local : ".";
	struct stat st;
	int i, r, dest_is_dir;

	if ((r = tctx_init(&t, c, o, "get")) != 0)
		return EXIT_REMOTE;
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
		if (base_copy(remotes[i], name, sizeof(name)) != 0 ||
		    strcmp(name, "..") == 0 || strcmp(name, ".") == 0)
			snprintf(name, sizeof(name), "%s",
			    type == WHARF__FILE_TYPE__TYPE_DIR ?
			        "download" :
			        "download.bin");
		lp = dest_is_dir ? path_join(dest, name) : strdup(dest);
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
			} else
				r = get_walk(&t, remotes[i], lp, &dirs, &ndirs,
				    &capdirs);
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
	for (k = 1; k < ndirs; k += 2) {
		if (mkdir(dirs[k], 0755) != 0 && errno != EEXIST) {
			fprintf(stderr, "wharf: get: mkdir %s: %s\n", dirs[k],
			    strerror(errno));
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
	for (k = 0; k < ndirs; k++)
		free(dirs[k]);
	free(dirs);
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
		    cli_clean(clean, sizeof(clean), remote), c->errmsg);
		return c->lost ? EXIT_CONNECT : EXIT_REMOTE;
	}
	if (resp->body_case != WHARF__ENVELOPE__BODY_SUM_REPLY ||
	    resp->sum_reply->hash.len != HASH_LEN) {
		msg_free(resp);
		fprintf(stderr, "wharf: sum: unexpected answer\n");
		return EXIT_REMOTE;
	}
	hash_hex(resp->sum_reply->hash.data, hex);
	/* The format of sha256sum and b2sum, so the outputs compare. */
	printf("%s  %s\n", hex, cli_clean(clean, sizeof(clean), remote));
	msg_free(resp);
	return EXIT_OK;
}
