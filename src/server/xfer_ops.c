/* SPDX-License-Identifier: MIT */
/*
 * Server side of transfers. An upload is written to ".NAME.wharf-part"
 * beside its target, locked so that two uploads of one file cannot mix,
 * and renamed onto the target only after the file digest matches and the
 * data is on disk. A failed upload keeps its verified prefix for resume and
 * never touches the target. Downloads stream chunks back to back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "wharf/clock.h"
#include "wharf/file.h"
#include "wharf/log.h"
#include "wharf/msg.h"
#include "wharf/session.h"
#include "wharf/stats.h"
#include "wharf/cdc.h"
#include "wharf/commit.h"
#include "wharf/delta.h"
#include "wharf/recv.h"
#include "wharf/resume.h"
#include "wharf/send.h"
#include "wharf/xfer.h"

/*
 * Stream windows the server holds at once. Each costs up to 8.5 MiB to
 * receive (an upload's window) and 21 MiB to send at level 9 (a
 * download's compressor), so a busy server bounds their sum and gives
 * the transfers past it independent frames, which need no window.
 */
#define SERVER_STREAMS_MAX 8

struct upload {
	uint32_t id;
	int stream_wlog; /* the stream window granted; 0: none */
	int streamed; /* a window was granted (the log says so) */
	int failed; /* an Error was sent: drop chunks until PutEnd */
	int dirfd; /* the target's folder */
	int dir_shared; /* in the batch: dirfd is an earlier upload's */
	dev_t dir_dev; /* dirfd's folder, for sharing it in the batch */
	ino_t dir_ino;
	int fd; /* the partial, locked: the one inode the commit installs */
	int pass_ok; /* the target was protected and its passcode given */
	char name[SANDBOX_NAME_MAX];
	char part[SANDBOX_NAME_MAX];
	char vpath[SANDBOX_VPATH_MAX];
	struct session *s; /* the session it belongs to (for the commit) */
	uint64_t size;
	int emptied; /* the partial was new or emptied: no cut at the end */
	uint32_t chunk_size;
	enum hash_alg alg;
	struct xfer_meta meta;
	struct xfer_decoder dec;
	struct xfer_recv rx; /* the engine's receiver: chunks, digest */
	struct xfer_commit commit; /* filled at PutEnd */
	double t0;
	/* What the quota reserved for it (NULL: no quota, or striped: the
	 * stripe holds the reservation of the whole file). */
	struct quota_hold *hold;
	/* Striping: this upload is one range of a shared partial. */
	struct stripe *stripe;
	/* Delta mode: content-defined chunks, refs to old data. */
	int delta;
	struct delta_index idx;
	int src[DELTA_SOURCES]; /* old target, old partial (unlinked) */
	uint8_t *refbuf;
};

static int
alg_from_wire(struct session *s, Wharf__HashAlg h, enum hash_alg *alg)
{
	if (hash_alg_from_wire(h, s->features, alg) == 0)
		return 0;
	/* Granted only without a seal (protocol.md §9.1): in a sealed
	 * session a non-cryptographic digest would be the weak link. */
	if (h == WHARF__HASH_ALG__HASH_XXH128)
		return session_fail(s, WH_ERR_UNSUPPORTED,
		    "hash xxh128 is accepted in plaintext sessions only");
	return session_fail(s, WH_ERR_UNSUPPORTED,
	    "hash algorithm %d not "
	    "negotiated",
	    (int)h);
}

/* Bytes of an upload's content that came over the wire this time: what
 * it holds, less the resumed prefix and the blocks reused (delta). */
static uint64_t
upload_moved(const struct upload *up)
{
	uint64_t skip = up->rx.resumed + up->rx.reused;

	return up->rx.digest.size > skip ? up->rx.digest.size - skip : 0;
}

/*
 * One line per file, and the --stats row. bytes= and the rate are what
 * moved (not the file's size, which is size=): a cancelled or failed
 * transfer says how far it got.
 */
static void
log_transfer(struct session *s, const char *dir, const char *vpath,
    uint64_t size, uint64_t moved, uint64_t wire, uint64_t resumed, double secs,
    enum hash_alg alg, const char *comp, int r)
{
	struct xfer_stats st;
	char shown[LOG_QUOTE_MAX];
	/* A peer that vanished is not a server failure. */
	const char *result = r == 0                  ? "ok" :
	    r == WH_ERR_EOF || r == WH_ERR_TRUNCATED ? "DISCONNECTED" :
	    r == WH_ERR_AUTH                         ? "BROKEN_FRAME" :
	                       msg_code_name(msg_code_from_err(r));

	if (strcmp(dir, "put") == 0 || strcmp(dir, "get") == 0)
		watch_count_transfer(dir, r);
	log_info("session=%llu peer=%s user=%s op=%s path=%s result=%s "
	         "bytes=%llu wire=%llu resumed=%llu secs=%.3f rate=%.2fMB/s "
	         "hash=%s compress=%s size=%llu",
	    (unsigned long long)s->id, s->peer, s->user, dir,
	    log_quote(shown, sizeof(shown), vpath), result,
	    (unsigned long long)moved, (unsigned long long)wire,
	    (unsigned long long)resumed, secs, stats_rate(moved, secs),
	    hash_alg_name(alg), comp, (unsigned long long)size);
	if (s->srv->stats_path == NULL)
		return;
	st.peer = s->peer;
	st.user = s->user;
	st.direction = dir;
	st.path = vpath;
	st.hash = hash_alg_name(alg);
	st.compression = comp;
	st.result = result;
	st.bytes = size;
	st.wire_bytes = wire;
	st.resumed = resumed;
	st.seconds = secs;
	if (stats_append_csv(s->srv->stats_path, &st) != 0)
		log_warn("cannot append to %s: %s", s->srv->stats_path,
		    strerror(errno));
}

/* A stream window for a transfer whose peer offered wlog: what the
 * server grants (0 for none), to hand back with stream_release. */
static int
stream_take(struct session *s, uint32_t wlog)
{
	if (!(s->features & WIRE_FEAT_ZSTREAM) || wlog < XFER_STREAM_WLOG_MIN)
		return 0;
	if (atomic_fetch_add(&s->srv->streams_held, 1) >= SERVER_STREAMS_MAX) {
		atomic_fetch_sub(&s->srv->streams_held, 1);
		return 0;
	}
	return wlog > XFER_STREAM_WLOG_MAX ? XFER_STREAM_WLOG_MAX : (int)wlog;
}

static void
stream_release(struct session *s, int wlog)
{
	if (wlog > 0)
		atomic_fetch_sub(&s->srv->streams_held, 1);
}

/* The log's word for how an upload came: compressed or not, and
 * whether its compressed chunks were one stream. */
static const char *
put_compression(const struct upload *up)
{
	if (up->rx.wire >= up->size - up->rx.resumed)
		return "raw";
	return up->streamed ? "zstd-stream" : "zstd";
}

static void
upload_free(struct session *s, struct upload *up)
{
	int i;

	if (up == NULL)
		return;
	stream_release(s, up->stream_wlog);
	for (i = 0; i < DELTA_SOURCES; i++)
		if (up->src[i] >= 0)
			close(up->src[i]);
	delta_index_cleanup(&up->idx);
	free(up->refbuf);
	stripe_put(up->stripe);
	/* While the partial is ours: what it keeps for resume counts. */
	quota_hold_free(up->hold, up->fd);
	if (up->fd >= 0)
		close(up->fd); /* also drops the lock */
	if (up->dirfd >= 0 && !up->dir_shared)
		close(up->dirfd);
	xfer_decoder_cleanup(&up->dec);
	free(up);
}

/* Ends the open upload with error r: logged, partial kept for resume. */
static int
upload_fail(struct session *s, int r)
{
	struct upload *up = s->up;
	char shown[LOG_QUOTE_MAX];

	up->failed = 1;
	log_transfer(s, "put", up->vpath, up->size, upload_moved(up),
	    up->rx.wire, up->rx.resumed, clock_mono_sec() - up->t0, up->alg,
	    "-", r);
	/* Only whole, verified chunks stay in the partial. */
	if (up->fd >= 0 &&
	    ftruncate(up->fd, (off_t)xfer_recv_prefix(&up->rx)) != 0)
		log_warn("session=%llu truncating partial of path=%s: %s",
		    (unsigned long long)s->id,
		    log_quote(shown, sizeof(shown), up->vpath),
		    strerror(errno));
	return r;
}

/* Fails if the folder cannot take need more bytes. */
static int
check_space(struct session *s, int fd, uint64_t need)
{
	struct statvfs vfs;
	uint64_t avail;

	if (need == 0 || fstatvfs(fd, &vfs) != 0)
		return 0;
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (avail >= need)
		return 0;
	return session_fail(s, WH_ERR_TOO_LARGE,
	    "not enough free space on "
	    "the server: %llu bytes needed, %llu available",
	    (unsigned long long)need, (unsigned long long)avail);
}

/*
 * Streams idx to the peer as DeltaIndex parts (non-final responses).
 */
static int
send_index(struct session *s, uint32_t id, const struct delta_index *idx)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__DeltaIndex di = WHARF__DELTA_INDEX__INIT;
	Wharf__BlockRef *refs = NULL, **ptrs = NULL;
	size_t i = 0;
	int r = 0;

	refs = calloc(DELTA_INDEX_PART, sizeof(*refs));
	ptrs = calloc(DELTA_INDEX_PART, sizeof(*ptrs));
	if (refs == NULL || ptrs == NULL) {
		r = WH_ERR_NOMEM;
		goto out;
	}
	env.body_case = WHARF__ENVELOPE__BODY_DELTA_INDEX;
	env.delta_index = &di;
	do {
		delta_index_part(idx, &i, refs, ptrs, &di);
		r = session_send(s, id, &env);
	} while (r == 0 && !di.done);
out:
	free(refs);
	free(ptrs);
	return r;
}

/*
 * Delta upload: indexes the old target and the old partial, which keeps
 * living (unlinked) as a source while a fresh partial takes its name.
 * With nothing to index, up->delta stays 0 and the upload goes on as a
 * plain one.
 */
static int
delta_prepare(struct session *s, struct upload *up)
{
	struct stat st;
	int fd, fresh, r;

	delta_index_init(&up->idx);
	/* O_NONBLOCK: a FIFO in the target's place must not block us. */
	fd = openat(up->dirfd, up->name,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > 0) {
		up->src[0] = fd;
		up->idx.shift = cdc_shift_for((uint64_t)st.st_size);
		if ((r = delta_index_file(&up->idx, fd, 0, up->alg)) != 0)
			return r == WH_ERR_TOO_LARGE ? 0 : r;
	} else {
		/* No old file: a partial alone resumes the plain way. */
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (fstat(up->fd, &st) == 0 && st.st_size > 0) {
		if ((r = delta_index_file(&up->idx, up->fd, 1, up->alg)) != 0 &&
		    r != WH_ERR_TOO_LARGE)
			return r;
		/* The old partial's fd stays a source; its name goes to a
		 * fresh partial. */
		if (unlinkat(up->dirfd, up->part, 0) != 0)
			return wh_err_from_errno(errno);
		up->src[1] = up->fd;
		r = xfer_partial_open(up->dirfd, up->part, XFER_PARTIAL_NEW,
		    &up->fd, &fresh, NULL);
		if (r == WH_ERR_BUSY)
			return session_fail(s, WH_ERR_BUSY,
			    "another upload of "
			    "this file is in progress");
		if (r != 0)
			return r;
	}
	if (up->idx.n == 0)
		return 0;
	if ((up->refbuf = malloc(CDC_MAX)) == NULL)
		return WH_ERR_NOMEM;
	if (ftruncate(up->fd, 0) != 0)
		return wh_err_from_errno(errno);
	up->delta = 1;
	return 0;
}

/* The message for a refusal by the quota (TOO_LARGE). */
static int
quota_fail(struct session *s, uint64_t in_use, uint64_t need)
{
	return session_fail(s, WH_ERR_TOO_LARGE,
	    "quota exceeded: %llu of "
	    "%llu bytes used, this file needs %llu more",
	    (unsigned long long)in_use, (unsigned long long)s->quota,
	    (unsigned long long)need);
}

/* Reserves in the user's quota what the upload may add to the home. */
static int
upload_reserve(struct session *s, struct upload *up)
{
	uint64_t in_use, need;
	int r;

	if ((r = quota_hold_new(s->account, s->quota, up->size, &up->hold)) !=
	        0 ||
	    (r = quota_hold_reserve(
	         up->hold, up->dirfd, up->name, up->fd, &in_use, &need)) == 0)
		return r;
	if (r == WH_ERR_TOO_LARGE)
		return quota_fail(s, in_use, need);
	return session_fail(s, r, "counting the quota: %s", wh_strerror(r));
}

/* A commit that did not happen: why, for the Error. */
static void
commit_fail(struct session *s, const struct upload *up, int r)
{
	if (r == WH_ERR_TOO_LARGE)
		session_fail(s, r,
		    "committing %.200s: quota exceeded (the file it "
		    "was to replace is gone)",
		    up->vpath);
	else
		session_fail(
		    s, r, "committing %.200s: %s", up->vpath, wh_strerror(r));
}

/* The receiver's write for a range: into the stripe's shared partial. */
static int
range_write(void *arg, uint64_t index, const uint8_t *raw, uint32_t len,
    const uint8_t hash[HASH_LEN])
{
	return stripe_write(arg, index, raw, len, hash);
}

/* One range of a striped upload: chunk-aligned, inside the file. */
static int
open_range(struct session *s, struct upload *up, const Wharf__PutOpen *m)
{
	struct stripe_file f;
	uint64_t cs = up->chunk_size;
	int r;

	/* Stripes belong to a login, which ends them if it ends first. */
	if (s->login == NULL)
		return session_fail(s, WH_ERR_UNSUPPORTED,
		    "striping needs a "
		    "logged-in session");
	if (m->range_len == 0 || m->range_offset % cs != 0 ||
	    m->range_offset > up->size ||
	    m->range_len > up->size - m->range_offset ||
	    ((m->range_offset + m->range_len) % cs != 0 &&
	        m->range_offset + m->range_len != up->size) ||
	    m->delta)
		return session_fail(s, WH_ERR_PROTOCOL, "bad stripe range");
	f.owner_alive = &s->login->alive;
	f.dirfd = up->dirfd;
	f.name = up->name;
	f.part = up->part;
	f.size = up->size;
	f.chunk_size = up->chunk_size;
	f.alg = up->alg;
	f.mtime_sec = up->meta.mtime_sec;
	f.mtime_nsec = up->meta.mtime_nsec;
	f.mode = up->meta.mode;
	f.quota = s->account;
	f.quota_limit = s->quota;
	if ((r = stripe_get(m->stripe.data, s->token, &f, &up->stripe)) != 0) {
		uint64_t used, reserved;

		if (r == WH_ERR_TOO_LARGE) {
			quota_account_peek(s->account, &used, &reserved);
			return quota_fail(s, used + reserved, up->size);
		}
		return session_fail(s, r, "%s",
		    r == WH_ERR_BUSY     ? "another "
		                           "upload of this file is in progress" :
		        r == WH_ERR_AUTH ? "the session this connection "
		                           "joined has ended" :
		                           "stripe does not "
		                           "match or has ended");
	}
	if ((r = xfer_decoder_init(
	         &up->dec, (s->features & WIRE_FEAT_ZSTD) != 0)) != 0)
		return r;
	/* The range's own digest, checked at its PutEnd; each chunk goes
	 * into the stripe's map. */
	xfer_recv_init(
	    &up->rx, -1, up->size, up->chunk_size, up->alg, &up->dec);
	xfer_recv_range(&up->rx, m->range_offset / cs,
	    (m->range_offset + m->range_len + cs - 1) / cs);
	up->rx.write = range_write;
	up->rx.write_arg = up->stripe;
	return 0;
}

int
upload_stripe_commit(
    struct session *s, uint32_t id, const Wharf__StripeCommit *m)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__PutDone done = WHARF__PUT_DONE__INIT;
	int r;

	/* Found, checked and ended in one step: the stripe module decides
	 * which of racing commits wins (stripe.h). */
	r = stripe_commit(
	    m->stripe.data, s->token, m->file_hash.data, &done.size);
	if (r != 0)
		return session_fail(s, r, "striped upload: %s",
		    r == WH_ERR_NOT_FOUND    ? "no such striped upload" :
		        r == WH_ERR_BUSY     ? "a range is still open or "
		                               "being committed; try again" :
		        r == WH_ERR_BAD_HASH ? "file hash mismatch" :
		        r == WH_ERR_PROTOCOL ? "ranges missing" :
		                               wh_strerror(r));
	env.body_case = WHARF__ENVELOPE__BODY_PUT_DONE;
	env.put_done = &done;
	return session_send(s, id, &env);
}

int
upload_open(struct session *s, uint32_t id, const Wharf__PutOpen *m)
{
	int i;
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__PutReady ready = WHARF__PUT_READY__INIT;
	uint8_t prefix[HASH_LEN], *buf = NULL;
	struct xfer_digest prefix_digest;
	char rpath[SANDBOX_VPATH_MAX];
	struct upload *up = NULL;
	struct stat st;
	uint64_t have = 0, part_size;
	int fresh, r;

	if (s->up != NULL) {
		s->closing = 1;
		return session_fail(s, WH_ERR_PROTOCOL,
		    "an upload is already "
		    "open (id %u)",
		    s->up->id);
	}
	if ((up = calloc(1, sizeof(*up))) == NULL)
		return WH_ERR_NOMEM;
	up->fd = up->dirfd = -1;
	up->src[0] = up->src[1] = -1;
	up->id = id;
	up->s = s;
	up->t0 = clock_mono_sec();
	if ((r = session_resolve(s, &m->path, up->vpath)) != 0 ||
	    (r = session_require_rw(s)) != 0 ||
	    (r = alg_from_wire(s, m->hash, &up->alg)) != 0)
		goto fail;
	/* The same file again: its waiting commit goes first. */
	for (i = 0; i < s->nbatch; i++)
		if (strcmp(s->batch[i]->vpath, up->vpath) == 0) {
			upload_flush_commits(s);
			break;
		}
	if (!xfer_chunk_size_ok(m->chunk_size)) {
		r = session_fail(s, WH_ERR_PROTOCOL,
		    "chunk size %u outside "
		    "%u..%u",
		    m->chunk_size, XFER_CHUNK_MIN, XFER_CHUNK_MAX);
		goto fail;
	}
	if (s->srv->max_file_size > 0 && m->size > s->srv->max_file_size) {
		r = session_fail(s, WH_ERR_TOO_LARGE,
		    "file is %llu bytes; "
		    "this server accepts at most %llu",
		    (unsigned long long)m->size,
		    (unsigned long long)s->srv->max_file_size);
		goto fail;
	}
	up->size = m->size;
	up->chunk_size = m->chunk_size;
	/* One rule for both sides (protocol.md §9.4): refused, not mended. */
	if (xfer_meta_from_wire(
	        &up->meta, m->mtime_sec, m->mtime_nsec, m->mode) != 0) {
		r = session_fail(s, WH_ERR_PROTOCOL,
		    "mtime_nsec %u is not below %u", m->mtime_nsec,
		    XFER_NSEC_LIMIT);
		goto fail;
	}
	/* A real fd of the folder: it is fsynced after the rename. */
	if ((r = sandbox_open_parent_dir(
	         s->sb, up->vpath, &up->dirfd, up->name)) != 0) {
		if (r == WH_ERR_NOT_FOUND)
			session_fail(s, r, "no such directory");
		goto fail;
	}
	if (fstatat(up->dirfd, up->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode)) {
		r = session_fail(s, WH_ERR_IS_DIR, "is a directory");
		goto fail;
	}
	if ((r = xfer_partial_name(up->name, up->part, sizeof(up->part))) !=
	    0) {
		r = session_fail(s, WH_ERR_INVALID_PATH, "name too long");
		goto fail;
	}
	/* Replacing a protected file needs its passcode. Finding the real
	 * path costs a readlink, so only when something is protected. */
	if (!protect_none(s->srv->protect)) {
		if ((r = session_rpath_at(s, up->dirfd, up->name, rpath)) !=
		        0 ||
		    (r = session_check_passcode(s, rpath, &m->passcode)) != 0)
			goto fail;
		up->pass_ok = protect_is(s->srv->protect, rpath);
		/* A protected file under the partial's name (protected
		 * before such names were reserved) is not ours to resume
		 * from, to cut or to install. */
		if ((r = session_rpath_at(s, up->dirfd, up->part, rpath)) != 0)
			goto fail;
		if (protect_is(s->srv->protect, rpath)) {
			r = session_fail(s, WH_ERR_PERMISSION,
			    "a protected file holds the name of this upload's "
			    "partial; the server's administrator must remove "
			    "it");
			goto fail;
		}
	}
	part_size = 0;
	if (fstatat(up->dirfd, up->part, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode))
		part_size = (uint64_t)st.st_size;
	/* Refused for space before anything, partial included, is made. */
	if (part_size < up->size &&
	    (r = check_space(s, up->dirfd, up->size - part_size)) != 0)
		goto fail;
	if (m->stripe.len > 0) {
		if ((r = open_range(s, up, m)) != 0)
			goto fail;
		s->up = up;
		return 0; /* the client streams its range at once */
	}
	if ((r = xfer_partial_open(up->dirfd, up->part, 0, &up->fd, &fresh,
	         &st)) == WH_ERR_BUSY) {
		r = session_fail(s, WH_ERR_BUSY,
		    "another upload of this file "
		    "is in progress");
		goto fail;
	}
	if (r != 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		r = session_fail(s, WH_ERR_PERMISSION,
		    "the partial of this upload is not a regular file");
		goto fail;
	}
	/* Reserved once the partial is ours: no other upload can count it
	 * as its own. A partial made just now for nothing goes again. */
	if ((r = upload_reserve(s, up)) != 0) {
		if (fresh)
			unlinkat(up->dirfd, up->part, 0);
		goto fail;
	}
	if ((r = xfer_decoder_init(
	         &up->dec, (s->features & WIRE_FEAT_ZSTD) != 0)) != 0)
		goto fail;
	if (m->delta && (s->features & WIRE_FEAT_DELTA)) {
		if ((r = delta_prepare(s, up)) != 0)
			goto fail;
		quota_hold_track(up->hold, up->fd);
		if (up->delta) {
			if ((r = check_space(s, up->fd, up->size)) != 0)
				goto fail;
			xfer_recv_init(
			    &up->rx, up->fd, up->size, 0, up->alg, &up->dec);
			xfer_recv_delta(&up->rx, &up->idx, up->src, up->refbuf);
			s->up = up;
			return send_index(s, id, &up->idx);
		}
	}
	xfer_recv_init(
	    &up->rx, up->fd, up->size, up->chunk_size, up->alg, &up->dec);
	if (m->resume) {
		if ((buf = malloc(up->chunk_size)) == NULL) {
			r = WH_ERR_NOMEM;
			goto fail;
		}
		r = xfer_resume_offer(up->fd, up->size, up->chunk_size, up->alg,
		    buf, &prefix_digest, &have, prefix);
		free(buf);
		if (r != 0)
			goto fail;
		/* Offered: the sender may still start over at chunk 0. */
		xfer_recv_resume(&up->rx, have, &prefix_digest, 1);
	}
	/* No second space check: whether the partial is kept or rewritten,
	 * its blocks are reused, so the one above (size less the partial)
	 * was the whole need. */
	/* A new partial is empty already. One kept for resuming may hold
	 * more than the file: PutEnd cuts it to size. */
	if (!m->resume && !fresh && ftruncate(up->fd, 0) != 0) {
		r = wh_err_from_errno(errno);
		goto fail;
	}
	up->emptied = !m->resume || fresh;
	s->up = up;
	if (!m->resume)
		return 0;
	/* A stream over chunks needs the chunks of a whole file, in order,
	 * from one sender: not a delta or a range, which went above. */
	if ((up->stream_wlog = stream_take(s, m->stream_window_log)) > 0 &&
	    (r = xfer_decoder_begin(&up->dec, up->stream_wlog)) != 0)
		goto fail;
	up->streamed = up->stream_wlog > 0;
	ready.offset = have;
	ready.prefix_hash.data = prefix;
	ready.prefix_hash.len = sizeof(prefix);
	ready.stream_window_log = (uint32_t)up->stream_wlog;
	env.body_case = WHARF__ENVELOPE__BODY_PUT_READY;
	env.put_ready = &ready;
	return session_send(s, id, &env);
fail:
	/* Keep the id as a failed upload: the sender may already have sent
	 * its chunks and PutEnd, which are dropped quietly; PutEnd ends it. */
	up->failed = 1;
	if (up->fd >= 0) {
		quota_hold_free(up->hold, up->fd);
		up->hold = NULL;
		close(up->fd);
		up->fd = -1;
	}
	s->up = up;
	log_transfer(s, "put", up->vpath, m->size, 0, 0, 0,
	    clock_mono_sec() - up->t0, up->alg, "-", r);
	return r;
}

/*
 * Puts a verified upload in the batch. Uploads into one folder share its
 * fd (the first one's, freed last), so a tree costs about one descriptor
 * a file. A batch with no room for one more upload goes out at once: the
 * session never holds more than SESSION_BATCH_FDS for it.
 */
_Static_assert(SESSION_BATCH_MAX + 1 <= SESSION_BATCH_FDS,
    "a window of uploads into one folder fits the batch's descriptors");

static void
batch_add(struct session *s, struct upload *up)
{
	struct stat st;
	int i;

	/* The batch's folders were each stat'ed once, when added. */
	if (fstat(up->dirfd, &st) == 0) {
		up->dir_dev = st.st_dev;
		up->dir_ino = st.st_ino;
		for (i = 0; i < s->nbatch; i++)
			if (s->batch[i]->dir_dev == st.st_dev &&
			    s->batch[i]->dir_ino == st.st_ino) {
				close(up->dirfd);
				up->dirfd = s->batch[i]->dirfd;
				up->commit.dirfd = up->dirfd;
				up->dir_shared = 1;
				break;
			}
	}
	if (s->nbatch == 0)
		s->batch_since = clock_mono_ms();
	s->batch[s->nbatch++] = up;
	s->batch_fds += up->dir_shared ? 1 : 2;
	if (s->nbatch == SESSION_BATCH_MAX ||
	    s->batch_fds + 2 > SESSION_BATCH_FDS)
		upload_flush_commits(s);
}

/* Why a chunk was refused, for the Error. */
static int
chunk_fail(struct session *s, struct upload *up, const Wharf__Chunk *m, int r)
{
	const struct xfer_recv *rx = &up->rx;

	if (rx->write_failed)
		session_fail(s, r, "writing %.200s: %s", up->vpath,
		    r == WH_ERR_NO_SPACE ? "no space left on the server" :
		                           wh_strerror(r));
	else if (up->delta)
		session_fail(s, r, "chunk %u of %.200s: %s", m->index,
		    up->vpath,
		    r == WH_ERR_PROTOCOL ? "bad index, length or "
		                           "block" :
		        m->ref ? "old data changed during the upload; "
		                 "try again" :
		                 "hash mismatch");
	else if (r == WH_ERR_PROTOCOL && rx->next_index >= rx->end_index)
		session_fail(s, r, "chunk %u past the end of the %s", m->index,
		    up->stripe != NULL ? "range" : "file");
	else
		session_fail(s, r, "chunk %llu of %.200s: %s",
		    (unsigned long long)rx->next_index, up->vpath,
		    r == WH_ERR_BAD_HASH ? "hash mismatch" :
		        r == WH_ERR_DECOMPRESS ?
		                           "does not decompress to its "
		                           "declared length" :
		                           "malformed (index, length or hash)");
	return upload_fail(s, r);
}

int
upload_chunk(struct session *s, uint32_t id, const Wharf__Chunk *m)
{
	struct upload *up = s->up;
	int r;

	if (up == NULL || up->id != id) {
		s->closing = 1;
		return session_fail(s, WH_ERR_PROTOCOL,
		    "chunk outside an "
		    "open upload");
	}
	if (up->failed)
		return 0; /* already answered; drop until PutEnd */
	snprintf(s->logpath, sizeof(s->logpath), "%s", up->vpath);
	if ((r = xfer_recv_chunk(&up->rx, m)) != 0)
		return chunk_fail(s, up, m, r);
	return 0;
}

/* protect_unless's step: the rename itself. */
static int
install_step(void *arg)
{
	struct upload *up = arg;

	return quota_hold_commit(
	    up->hold, up->dirfd, up->part, up->fd, up->name);
}

static int upload_install(struct session *s, struct upload *up);

/* The commit routine's rename: upload_install, for the session. */
static int
commit_install(void *arg)
{
	struct upload *up = arg;

	return upload_install(up->s, up);
}

/* The engine's commit of a verified upload (flags XFER_COMMIT_*). */
static void
commit_init(struct upload *up, unsigned flags)
{
	struct xfer_commit *c = &up->commit;

	xfer_commit_init(c, up->dirfd, up->part, up->name, up->fd, up->size,
	    &up->meta, flags);
	c->install = commit_install;
	c->install_arg = up;
}

/*
 * The partial is no longer the file its name gives: another upload of
 * the same file committed first (through this server, or another on a
 * shared filesystem, where the inode we hold may be gone: ESTALE).
 */
static int
replaced_fail(struct session *s, const struct upload *up)
{
	return session_fail(s, WH_ERR_IO,
	    "the partial of %.200s was replaced during the upload; "
	    "nothing committed",
	    up->vpath);
}

/*
 * Installs a verified upload: exactly its partial's inode (never what
 * else may have taken the partial's name), and not onto a target that
 * was protected during the upload unless its passcode came with PutOpen.
 * Nothing moves on failure; the Error text is set.
 */
static int
upload_install(struct session *s, struct upload *up)
{
	char rpath[SANDBOX_VPATH_MAX];
	int r;

	if (up->pass_ok || protect_none(s->srv->protect))
		r = install_step(up);
	else if ((r = session_rpath_at(s, up->dirfd, up->name, rpath)) == 0)
		r = protect_unless(s->srv->protect, rpath, install_step, up);
	if (r == WH_ERR_PERMISSION)
		return session_fail(s, r,
		    "%.200s was protected during the upload; "
		    "send it again with its passcode",
		    up->vpath);
	if (r == WH_ERR_IO || (r == WH_ERR_SYSTEM && errno == ESTALE))
		return replaced_fail(s, up);
	if (r != 0)
		commit_fail(s, up, r);
	return r;
}

/* The end of one range: its digest checked, nothing committed yet. */
static int
range_end(
    struct session *s, uint32_t id, struct upload *up, const Wharf__PutEnd *m)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__PutDone done = WHARF__PUT_DONE__INIT;
	int r;

	r = xfer_recv_finish(&up->rx, m->file_hash.data, m->file_hash.len);
	if (r == WH_ERR_PROTOCOL)
		r = session_fail(s, WH_ERR_PROTOCOL, "range ended early");
	else if (r != 0)
		r = session_fail(s, WH_ERR_BAD_HASH,
		    "range digest of %.200s "
		    "does not match",
		    up->vpath);
	else {
		/* Closed before the answer: a client that has PutDone for
		 * every range may commit at once, on another connection. */
		stripe_put(up->stripe);
		up->stripe = NULL;
		done.size = up->rx.digest.size;
		env.body_case = WHARF__ENVELOPE__BODY_PUT_DONE;
		env.put_done = &done;
		r = session_send(s, id, &env);
	}
	log_transfer(s, "put-range", up->vpath, up->rx.digest.size,
	    upload_moved(up), up->rx.wire, 0, clock_mono_sec() - up->t0,
	    up->alg, "-", r);
	upload_free(s, up);
	return r;
}

int
upload_end(struct session *s, uint32_t id, const Wharf__PutEnd *m)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__PutDone done = WHARF__PUT_DONE__INIT;
	struct upload *up = s->up;
	char shown[LOG_QUOTE_MAX];
	double c0;
	int r = 0;

	if (up == NULL || up->id != id) {
		s->closing = 1;
		return session_fail(s, WH_ERR_PROTOCOL,
		    "PutEnd outside an "
		    "open upload");
	}
	s->up = NULL;
	snprintf(s->logpath, sizeof(s->logpath), "%s", up->vpath);
	/* The data is in: its window goes back before a batch holds on to
	 * the upload for its commit. */
	stream_release(s, up->stream_wlog);
	up->stream_wlog = 0;
	xfer_decoder_cleanup(&up->dec);
	if (up->failed) {
		/* The Error already answered this request. */
		upload_free(s, up);
		return 0;
	}
	if (up->stripe != NULL && !m->abort)
		return range_end(s, id, up, m);
	if (m->abort) {
		s->up = up;
		r = upload_fail(s,
		    session_fail(s, WH_ERR_CANCELLED,
		        "upload cancelled; partial kept for resume"));
		s->up = NULL;
		upload_free(s, up);
		return r;
	}
	r = xfer_recv_finish(&up->rx, m->file_hash.data, m->file_hash.len);
	if (r == WH_ERR_PROTOCOL) {
		s->up = up;
		r = upload_fail(s,
		    session_fail(s, WH_ERR_PROTOCOL,
		        "upload "
		        "ended after %llu of %llu chunks",
		        (unsigned long long)up->rx.next_index,
		        (unsigned long long)up->rx.end_index));
		s->up = NULL;
		upload_free(s, up);
		return r;
	}
	if (r != 0) {
		/* Every chunk verified but the whole does not: nothing of
		 * this partial can be trusted. */
		r = session_fail(s, WH_ERR_BAD_HASH,
		    "file hash of %.200s does "
		    "not match",
		    up->vpath);
		unlinkat(up->dirfd, up->part, 0);
		goto out;
	}
	/* Small files wait for a group commit: fsync per file would make
	 * a tree of them disk-latency bound. */
	commit_init(
	    up, XFER_COMMIT_GROUP | (up->emptied ? 0 : XFER_COMMIT_CUT));
	if (!up->delta && up->size <= SESSION_BATCH_FILE &&
	    xfer_commit_prepare(&up->commit) == 0) {
		batch_add(s, up);
		return 0;
	}
	c0 = clock_mono_sec();
	commit_init(up, XFER_COMMIT_CUT);
	if ((r = xfer_commit_prepare(&up->commit)) != 0) {
		if (r == WH_ERR_SYSTEM && errno == ESTALE)
			r = replaced_fail(s, up);
		else
			session_fail(s, r, "committing %.200s: %s", up->vpath,
			    wh_strerror(r));
		goto out;
	}
	/* upload_install sets the Error text of a failed rename. */
	if ((r = xfer_commit_install(&up->commit)) != 0) {
		if (!up->commit.installed)
			goto out;
		/* In place, but the folder's fsync failed: said in the log,
		 * as a commit the client may count on mostly. */
		log_warn("session=%llu fsync of folder of path=%s: %s",
		    (unsigned long long)s->id,
		    log_quote(shown, sizeof(shown), up->vpath), wh_strerror(r));
	}
	watch_count_commit(clock_mono_sec() - c0);
	done.size = up->size;
	done.resumed = up->delta ? up->rx.reused : up->rx.resumed;
	done.reused = up->rx.reused;
	env.body_case = WHARF__ENVELOPE__BODY_PUT_DONE;
	env.put_done = &done;
	r = session_send(s, id, &env);
out:
	log_transfer(s, "put", up->vpath, up->size, upload_moved(up),
	    up->rx.wire, up->delta ? up->rx.reused : up->rx.resumed,
	    clock_mono_sec() - up->t0, up->alg, put_compression(up), r);
	upload_free(s, up);
	return r;
}

/* One file of each filesystem among the batch's: a syncfs covers all. */
static int
batch_filesystems(struct session *s, int pick[SESSION_BATCH_MAX])
{
	dev_t seen[SESSION_BATCH_MAX];
	struct stat st;
	int i, k, n = 0;

	for (i = 0; i < s->nbatch; i++) {
		if (fstat(s->batch[i]->fd, &st) != 0)
			return -1;
		for (k = 0; k < n && seen[k] != st.st_dev; k++)
			;
		if (k == n) {
			seen[n] = st.st_dev;
			pick[n++] = i;
		}
	}
	return n;
}

/*
 * Makes the batch durable on each of its filesystems: one syncfs where
 * that covers every file (file_syncfs_is_enough), else an fsync of each
 * of the batch's files there (folders 0) or of each of their folders
 * (folders 1, after the renames): a FUSE or network filesystem's syncfs
 * never reaches its servers.
 */
static int
sync_filesystems(struct session *s, const int *pick, int n, int folders)
{
	struct stat st, fs;
	int i, k, j, fd, r = 0;

	for (k = 0; k < n; k++) {
		fd = s->batch[pick[k]]->fd;
		if (file_syncfs_is_enough(fd)) {
			if (syncfs(fd) != 0)
				r = wh_err_from_errno(errno);
			continue;
		}
		if (fstat(fd, &fs) != 0)
			return wh_err_from_errno(errno);
		for (i = 0; i < s->nbatch; i++) {
			fd = folders ? s->batch[i]->dirfd : s->batch[i]->fd;
			if (fstat(s->batch[i]->fd, &st) != 0 ||
			    st.st_dev != fs.st_dev)
				continue;
			/* A folder shared by several files: synced once. */
			for (j = 0; folders && j < i; j++)
				if (s->batch[j]->dirfd == fd)
					break;
			if (folders && j < i)
				continue;
			if (fsync(fd) != 0)
				r = wh_err_from_errno(errno);
		}
	}
	return r;
}

void
upload_flush_commits(struct session *s)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__PutDone done = WHARF__PUT_DONE__INIT;
	struct upload *up;
	int pick[SESSION_BATCH_MAX];
	int i, r, sr, nfs;
	double c0 = clock_mono_sec();

	if (s->nbatch == 0)
		return;
	/* The data first: a renamed file must never be an unsynced one. */
	if ((nfs = batch_filesystems(s, pick)) < 0)
		sr = wh_err_from_errno(errno);
	else
		sr = sync_filesystems(s, pick, nfs, 0);
	for (i = 0; i < s->nbatch; i++) {
		up = s->batch[i];
		r = sr;
		if (r != 0)
			session_fail(s, r, "committing %.200s: %s", up->vpath,
			    wh_strerror(r));
		else
			r = xfer_commit_install(&up->commit);
		up->failed = r; /* remembered for the answer below */
	}
	/* Then the folders, so that the renames are durable too. */
	if (sr == 0 && sync_filesystems(s, pick, nfs, 1) != 0)
		log_warn("session=%llu syncing folders: %s",
		    (unsigned long long)s->id, strerror(errno));
	if (sr == 0)
		watch_count_commit(clock_mono_sec() - c0);
	/* The answers go out together: one write, not one per file. */
	channel_gather(s->ch);
	for (i = 0; i < s->nbatch; i++) {
		up = s->batch[i];
		r = up->failed;
		if (r == 0) {
			done.size = up->size;
			done.resumed = up->rx.resumed;
			env.body_case = WHARF__ENVELOPE__BODY_PUT_DONE;
			env.put_done = &done;
			r = session_send(s, up->id, &env);
		} else
			(void)session_send_error(s, up->id, r, s->errmsg);
		log_transfer(s, "put", up->vpath, up->size, upload_moved(up),
		    up->rx.wire, up->rx.resumed, clock_mono_sec() - up->t0,
		    up->alg, put_compression(up), r);
	}
	/* Last first: a shared folder fd is closed by the first upload
	 * that used it, after the others. */
	for (i = s->nbatch; i-- > 0;)
		upload_free(s, s->batch[i]);
	if (channel_flush(s->ch) != 0)
		s->closing = 1;
	s->nbatch = 0;
	s->batch_fds = 0;
}

void
upload_session_end(struct session *s)
{
	/* Received and verified: committed even if the client is gone. */
	upload_flush_commits(s);
	if (s->up == NULL)
		return;
	if (!s->up->failed)
		upload_fail(s, WH_ERR_EOF);
	upload_free(s, s->up);
	s->up = NULL;
}

static int
send_get_info(struct session *s, uint32_t id, const struct stat *st,
    uint64_t offset, uint32_t chunk_size, int stream_wlog)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__GetInfo info = WHARF__GET_INFO__INIT;

	info.size = (uint64_t)st->st_size;
	info.mtime_sec = st->st_mtim.tv_sec;
	info.mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	info.mode = st->st_mode & 0777;
	info.offset = offset;
	info.chunk_size = chunk_size;
	info.delta = chunk_size == 0;
	info.stream_window_log = (uint32_t)stream_wlog;
	env.body_case = WHARF__ENVELOPE__BODY_GET_INFO;
	env.get_info = &info;
	return session_send(s, id, &env);
}

/*
 * Opens a file to read its content. O_NONBLOCK first: opening a FIFO for
 * reading would otherwise wait for a writer forever, holding a worker.
 */
static int
open_regular(struct session *s, const char *vpath, int *fdp)
{
	struct stat st;
	int fd, r;

	if ((r = sandbox_open_at(
	         s->sb, vpath, O_RDONLY | O_NONBLOCK, 0, &fd)) != 0)
		return r;
	if (fstat(fd, &st) != 0) {
		r = wh_err_from_errno(errno);
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ?
		    WH_ERR_IS_DIR :
		    session_fail(s, WH_ERR_PERMISSION, "not a regular file");
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		r = wh_err_from_errno(errno);
		close(fd);
		return r;
	}
	*fdp = fd;
	return 0;
}

/* The DeltaIndex parts that follow a delta GetReq, read before anything
 * else so that they are never taken for requests. */
static int
read_index(struct session *s, uint32_t id, struct delta_index *idx)
{
	Wharf__Envelope *env;
	int r, done = 0;

	while (!done) {
		if ((r = session_next_message(s, &env)) != 0) {
			s->closing = 1;
			return r;
		}
		if (env->id != id ||
		    env->body_case != WHARF__ENVELOPE__BODY_DELTA_INDEX) {
			msg_free(env);
			s->closing = 1;
			return session_fail(s, WH_ERR_PROTOCOL,
			    "expected the "
			    "DeltaIndex of request %u",
			    id);
		}
		done = delta_index_take_part(idx, env->delta_index);
		msg_free(env);
	}
	return 0;
}

/*
 * Streams the chunks of a download (the engine's sender: fixed chunks of
 * the file or range, or content-defined ones against the client's
 * index), steering the auto level by how the socket keeps up.
 */
static int
send_chunks(struct session *s, uint32_t id, struct xfer_send *tx, uint8_t *buf)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__Chunk *chunk;
	struct wire_io *io = channel_io(s->ch);
	uint64_t b0, queued;
	double t0;
	int r;

	env.body_case = WHARF__ENVELOPE__BODY_CHUNK;
	/* References are small frames: whole packets of them. */
	if (tx->idx != NULL)
		wire_io_cork(io, 1);
	for (;;) {
		t0 = clock_mono_sec();
		b0 = wire_io_blocked_ns(io);
		if ((r = xfer_send_next(tx, buf, &chunk)) != 0) {
			r = session_fail(s, r, "reading: %s",
			    r == WH_ERR_IO ? "file changed size while being "
			                     "read" :
			                     wh_strerror(r));
			break;
		}
		if (chunk == NULL)
			break;
		queued = wire_io_queued(io);
		env.chunk = chunk;
		if ((r = session_send(s, id, &env)) != 0)
			break;
		if (tx->idx == NULL)
			xfer_send_feedback(tx, queued,
			    (double)(wire_io_blocked_ns(io) - b0) / 1e9 /
			        (clock_mono_sec() - t0 + 1e-9));
		if ((r = session_check_cancel(s, id)) != 0) {
			if (r == WH_ERR_CANCELLED)
				r = session_fail(s, r, "download cancelled");
			break;
		}
	}
	if (tx->idx != NULL)
		wire_io_cork(io, 0);
	return r;
}

int
download_get(struct session *s, uint32_t id, const Wharf__GetReq *m)
{
	uint64_t last;
	struct delta_index idx;
	struct xfer_send tx;
	char rpath[SANDBOX_VPATH_MAX];
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__GetEnd end = WHARF__GET_END__INIT;
	char vpath[SANDBOX_VPATH_MAX], comp[16];
	struct xfer_encoder enc;
	struct xfer_digest d;
	struct stat st, after;
	uint8_t *buf = NULL, h[HASH_LEN];
	uint64_t offset = 0;
	enum hash_alg alg = HASH_BLAKE2B;
	double t0 = clock_mono_sec();
	int fd = -1, stream_wlog = 0, r;

	memset(&enc, 0, sizeof(enc));
	memset(&tx, 0, sizeof(tx));
	delta_index_init(&idx);
	if (m->delta && (r = read_index(s, id, &idx)) != 0) {
		delta_index_cleanup(&idx);
		return r;
	}
	if ((r = session_resolve(s, &m->path, vpath)) != 0 ||
	    (r = alg_from_wire(s, m->hash, &alg)) != 0)
		goto out;
	if (!xfer_chunk_size_ok(m->chunk_size)) {
		r = session_fail(s, WH_ERR_PROTOCOL,
		    "chunk size %u outside "
		    "%u..%u",
		    m->chunk_size, XFER_CHUNK_MIN, XFER_CHUNK_MAX);
		goto out;
	}
	if ((r = open_regular(s, vpath, &fd)) != 0)
		goto out;
	if (fstat(fd, &st) != 0) {
		r = wh_err_from_errno(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ?
		    WH_ERR_IS_DIR :
		    session_fail(s, WH_ERR_PERMISSION, "not a regular file");
		goto out;
	}
	if ((r = session_rpath_fd(s, fd, rpath)) != 0 ||
	    (r = session_check_passcode(s, rpath, &m->passcode)) != 0)
		goto out;
	if ((buf = malloc(m->chunk_size)) == NULL) {
		r = WH_ERR_NOMEM;
		goto out;
	}
	xfer_send_init(&tx, fd, (uint64_t)st.st_size, m->chunk_size, alg, &enc);
	last = xfer_chunk_count((uint64_t)st.st_size, m->chunk_size);
	if (m->range_offset > 0 || m->range_len > 0) {
		/* One range of a striped download: its own digest ends it. */
		uint64_t rend = m->range_len == 0 ||
		        m->range_len > (uint64_t)st.st_size - m->range_offset ?
		    (uint64_t)st.st_size :
		    m->range_offset + m->range_len;

		if (m->range_offset % m->chunk_size != 0 ||
		    m->range_offset > (uint64_t)st.st_size || m->delta ||
		    m->offset > 0 ||
		    (rend % m->chunk_size != 0 &&
		        rend != (uint64_t)st.st_size)) {
			r = session_fail(s, WH_ERR_PROTOCOL, "bad range");
			goto out;
		}
		offset = m->range_offset;
		last = (rend + m->chunk_size - 1) / m->chunk_size;
		xfer_send_range(&tx, offset / m->chunk_size, last);
	} else if (m->offset > 0) {
		/* Resume only from a prefix proven to be ours. */
		r = xfer_resume_accept(fd, m->offset, m->prefix_hash.data,
		    m->prefix_hash.len, m->chunk_size, alg, buf, &d, &offset);
		if (r == WH_ERR_PROTOCOL) {
			r = session_fail(
			    s, WH_ERR_PROTOCOL, "bad resume offset");
			goto out;
		}
		if (r != 0)
			goto out;
		if (offset > 0)
			xfer_send_resume(&tx, offset, &d);
	}
	if ((r = xfer_encoder_init(&enc, m->compress,
	         m->compress_level > XFER_PEER_LEVEL_MAX ?
	             XFER_PEER_LEVEL_MAX :
	             (int)m->compress_level)) != 0)
		goto out;
	if (!(s->features & WIRE_FEAT_ZSTD))
		enc.level = 0;
	if (m->delta && (s->features & WIRE_FEAT_DELTA)) {
		offset = 0;
		if ((r = xfer_send_delta(&tx, &idx)) != 0 ||
		    (r = send_get_info(s, id, &st, 0, 0, 0)) != 0 ||
		    (r = send_chunks(s, id, &tx, buf)) != 0)
			goto out;
	} else {
		/* A stream pays from the second chunk on; a range is one
		 * part of a file, decoded apart from the others. */
		if (enc.cctx != NULL && enc.level > 0 && m->range_offset == 0 &&
		    m->range_len == 0 && last - offset / m->chunk_size >= 2 &&
		    (stream_wlog = stream_take(s, m->stream_window_log)) > 0 &&
		    (r = xfer_encoder_begin(&enc, stream_wlog)) != 0)
			goto out;
		if ((r = send_get_info(s, id, &st, offset, m->chunk_size,
		         stream_wlog)) != 0 ||
		    (r = send_chunks(s, id, &tx, buf)) != 0)
			goto out;
	}
	if (fstat(fd, &after) != 0 || after.st_size != st.st_size ||
	    after.st_mtim.tv_sec != st.st_mtim.tv_sec ||
	    after.st_mtim.tv_nsec != st.st_mtim.tv_nsec) {
		r = session_fail(s, WH_ERR_IO,
		    "file changed while being read; "
		    "try again");
		goto out;
	}
	xfer_send_digest(&tx, h);
	end.file_hash.data = h;
	end.file_hash.len = sizeof(h);
	env.body_case = WHARF__ENVELOPE__BODY_GET_END;
	env.get_end = &end;
	r = session_send(s, id, &env);
out:
	snprintf(comp, sizeof(comp), "%s%s",
	    m->compress == WHARF__COMPRESS_MODE__COMPRESS_OFF      ? "off" :
	        m->compress == WHARF__COMPRESS_MODE__COMPRESS_AUTO ? "auto" :
	                                                             "zstd",
	    stream_wlog > 0 ? "-stream" : "");
	if (fd >= 0 && S_ISREG(st.st_mode))
		log_transfer(s, "get", vpath, (uint64_t)st.st_size,
		    tx.sent > tx.reused ? tx.sent - tx.reused : 0,
		    enc.wire_bytes, offset + tx.reused, clock_mono_sec() - t0,
		    alg, comp, r);
	xfer_send_cleanup(&tx);
	xfer_encoder_cleanup(&enc);
	stream_release(s, stream_wlog);
	delta_index_cleanup(&idx);
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}

int
download_sum(struct session *s, uint32_t id, const Wharf__SumReq *m)
{
	char rpath[SANDBOX_VPATH_MAX];
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__SumReply reply = WHARF__SUM_REPLY__INIT;
	char vpath[SANDBOX_VPATH_MAX];
	enum hash_alg alg = HASH_BLAKE2B;
	uint8_t h[HASH_LEN];
	uint64_t size;
	struct stat st;
	int fd, r;

	if ((r = session_resolve(s, &m->path, vpath)) != 0 ||
	    (r = alg_from_wire(s, m->hash, &alg)) != 0 ||
	    (r = open_regular(s, vpath, &fd)) != 0)
		return r;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? WH_ERR_IS_DIR : WH_ERR_PERMISSION;
	}
	if ((r = session_rpath_fd(s, fd, rpath)) != 0 ||
	    (r = session_check_passcode(s, rpath, &m->passcode)) != 0) {
		close(fd);
		return r;
	}
	r = xfer_file_sum(fd, alg, h, &size);
	close(fd);
	if (r != 0)
		return r;
	reply.hash.data = h;
	reply.hash.len = sizeof(h);
	reply.size = size;
	env.body_case = WHARF__ENVELOPE__BODY_SUM_REPLY;
	env.sum_reply = &reply;
	return session_send(s, id, &env);
}

int
download_probe(struct session *s, uint32_t id, const Wharf__Probe *m)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__ProbeReply reply = WHARF__PROBE_REPLY__INIT;
	uint8_t *payload;
	int r;

	if (m->reply_size > SESSION_PROBE_MAX)
		return session_fail(s, WH_ERR_PROTOCOL,
		    "probe reply over %u "
		    "bytes",
		    SESSION_PROBE_MAX);
	/* Zeros: sealing makes them look random on the wire anyway, and
	 * probes are never compressed. */
	if ((payload = calloc(1, m->reply_size ? m->reply_size : 1)) == NULL)
		return WH_ERR_NOMEM;
	reply.payload.data = payload;
	reply.payload.len = m->reply_size;
	env.body_case = WHARF__ENVELOPE__BODY_PROBE_REPLY;
	env.probe_reply = &reply;
	r = session_send(s, id, &env);
	free(payload);
	return r;
}
