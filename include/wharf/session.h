/* SPDX-License-Identifier: MIT */
/*
 * One client connection on the server: handshake, login, then requests
 * until the client leaves, idles out or misbehaves. A session only ever
 * touches its own state and the files beneath the served root.
 */
#ifndef WHARF_SESSION_H
#define WHARF_SESSION_H

#include <limits.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>

#include "wharf.pb-c.h"
#include "wharf/cidr.h"
#include "wharf/channel.h"
#include "wharf/keys.h"
#include "wharf/protect.h"
#include "wharf/quota.h"
#include "wharf/ratelimit.h"
#include "wharf/userbw.h"
#include "wharf/stripe.h"
#include "wharf/sandbox.h"
#include "wharf/startups.h"
#include "wharf/users.h"
#include "wharf/watch.h"

#define SERVER_AUTH_TIMEOUT_MS 10000
#define SERVER_AUTH_ATTEMPTS 3
/* Key logins refused before the connection closes (protocol.md §7.1),
 * apart from the password attempts. */
#define SERVER_KEY_ATTEMPTS 6
#define SERVER_IDLE_TIMEOUT_DEFAULT 300
#define SERVER_MAX_CLIENTS_DEFAULT 64
#define SESSION_PEER_MAX 64
#define SESSION_ERRMSG_MAX 256
/* Requests read ahead while a download streams (to see a Cancel). */
#define SESSION_PENDING_MAX 256
#define SESSION_PENDING_BYTES (8u << 20)
#define SESSION_PROBE_MAX (1u << 20)
/*
 * Descriptors one session may hold at once, whatever its client does, so
 * that --max-clients bounds what the server needs (serve.c sizes it
 * against RLIMIT_NOFILE). SESSION_FD_RESERVE is the fixed part: the
 * socket, the home, the open upload (partial, folder, two delta sources)
 * and two for the request at hand (a download's file, a rename's two
 * folders). The rest, SESSION_BATCH_FDS, is the batch's.
 */
#define SESSION_FD_BUDGET 96
#define SESSION_FD_RESERVE 8
#define SESSION_BATCH_FDS (SESSION_FD_BUDGET - SESSION_FD_RESERVE)
/*
 * Uploads of up to SESSION_BATCH_FILE bytes are committed in groups: one
 * filesystem sync for many files. A waiting upload keeps its partial open
 * (its lock must last until the rename) and its folder, which the uploads
 * into one folder share: at most SESSION_BATCH_MAX uploads holding at most
 * SESSION_BATCH_FDS descriptors. A group goes out when it has no room for
 * one more upload, when the client waits for answers, or
 * SESSION_BATCH_AGE_MS after its first upload. SESSION_BATCH_MAX is the
 * reference client's window of unanswered uploads (TRANSFER_WINDOW): a
 * smaller group would cost two syncs per window.
 */
#define SESSION_BATCH_MAX 64
#define SESSION_BATCH_FILE (1u << 20)
#define SESSION_BATCH_AGE_MS 100
/* Connections that may Join one login at a time (docs/protocol.md 9.9):
 * the client stripes over at most 16 (STRIPED_STREAMS_MAX, the login's
 * own included); one more gets Error{BUSY}. */
#define SESSION_JOINS_MAX 16

/* Shared, read-only after start-up (but for the counters). */
struct server {
	struct sandbox sb;
	char users_path[PATH_MAX];
	struct host_key host_key;
	uint8_t psk[KEYS_PSK_LEN];
	int have_psk;
	/* The atomic ones change on SIGHUP (serve.c) while sessions read. */
	atomic_int allow_plaintext;
	atomic_uint ciphers; /* --ciphers: HS_CIPHER_BIT()s allowed */
	atomic_int keys_only; /* keys-only: no password logins at all */
	atomic_int idle_timeout_ms;
	/* --bwlimit: every session's traffic together, each way; rate 0
	 * (never initialised) when there is no limit. Set at start only. */
	struct ratelimit bw_in;
	struct ratelimit bw_out;
	int auth_timeout_ms;
	atomic_int max_clients;
	atomic_int nclients;
	atomic_uint_fast64_t next_session_id;
	/* Transfers holding a zstd stream window (ZSTREAM), at most
	 * SERVER_STREAMS_MAX; the others use independent frames. */
	atomic_int streams_held;
	sem_t pwhash_slots; /* Argon2id runs at once: bounds memory */
	sem_t passcode_slots; /* the same for passcodes, apart */
	_Atomic uint64_t max_file_size; /* 0: unlimited */
	char root_real[PATH_MAX]; /* canonical path of the root */
	struct protect_store *protect; /* passcode-protected files */
	const char *stats_path; /* CSV of transfers, or NULL */
	/* Connections not logged in yet (server/startups.c); set before
	 * the first accept, freed after the last session. */
	struct startups *startups;
	struct startups_limits startup_limits; /* what it was made with */
	/* Load balancers whose connections start with a PROXY header
	 * (proxy-from); empty: none, every peer is its own address. Read,
	 * and set again on SIGHUP, by the accept loop's thread alone. */
	struct cidr_list proxy_from;
};

/* Argon2id verifications that may run at the same time: for logins, and
 * apart from those for passcodes (checked and set), so that passcode
 * guessing cannot delay a login. */
#define SERVER_PWHASH_SLOTS 2
#define SERVER_PASSCODE_SLOTS 1
/* Blocks of this size or more are mmapped, and unmapped when freed. */
#define SERVER_MMAP_THRESHOLD (2 << 20)
/* Free memory an arena keeps at its top instead of giving it back. */
#define SERVER_TRIM_THRESHOLD \
	(3 << 19) /* 1.5 MiB: a 1 MiB chunk and its envelope */

/* One login, shared by the connections that joined it: they may act only
 * while the connection that logged in lives. */
struct login {
	atomic_int alive;
	atomic_int refs;
	atomic_int joins; /* joined connections now, <= SESSION_JOINS_MAX */
	/* The user's bandwidth limit (":bwlimit="), shared with the user's
	 * other sessions and with the connections joined to this one;
	 * NULL when none. */
	struct user_bw *bw;
};

struct session {
	struct server *srv;
	struct channel *ch;
	uint64_t id;
	char peer[SESSION_PEER_MAX];
	char user[USERS_NAME_MAX + 1];
	int read_only;
	int closing; /* stop after this request */
	char cwd[SANDBOX_VPATH_MAX];
	char errmsg[SESSION_ERRMSG_MAX]; /* detail for the next Error */
	char logpath[SANDBOX_VPATH_MAX]; /* the path the log line names */
	uint64_t features; /* negotiated feature bits */
	uint8_t transcript[32]; /* the handshake's TH: key logins sign it */
	struct upload *up; /* the open upload, if any */
	struct sandbox *sb; /* the user's view: root or home */
	struct sandbox home_sb; /* opened at the home, if any */
	char home[USERS_HOME_MAX]; /* "" or "/sub" below the root */
	uint64_t quota; /* bytes, 0: none */
	/* The account of the folder the quota is over (the home, else the
	 * root), shared with every session there; one reference, dropped
	 * when the session ends. NULL without a quota. */
	struct quota_account *account;
	Wharf__Envelope *pending[SESSION_PENDING_MAX];
	int npending; /* requests read ahead, in order */
	uint8_t token[WIRE_TOKEN_LEN]; /* lets more connections Join */
	int owns_token; /* this is the session's first */
	struct login *login; /* shared by joined connections */
	int peer_eof; /* the client half-closed */
	/* Small uploads received and verified, waiting for one group
	 * commit (see upload_flush_commits). */
	struct upload *batch[SESSION_BATCH_MAX];
	int nbatch;
	int batch_fds; /* descriptors the batch holds */
	int64_t batch_since; /* its first upload came (monotonic ms) */
	size_t pending_bytes; /* heap the pending[] hold (msg_decoded_size) */
	/* Its place among the connections before login, given back at
	 * login or at the end (whichever comes first). */
	struct startups_ticket ticket;
	/* Its entry in the table `wharf status` shows (NULL: unwatched),
	 * and the user's logout generation at login (users.h). */
	struct watch_entry *watch;
	uint64_t logout_gen;
};

/* Runs one connection to its end and closes fd. ticket (or NULL) is the
 * connection's place in srv->startups: the session releases it. */
void session_serve(struct server *srv, int fd, const char *peer,
    const struct startups_ticket *ticket);

/*
 * Runs the request loop of an already authenticated session on ch (which
 * the caller keeps and frees). For the fuzzers and tests, which must reach
 * every handler without paying for a handshake and Argon2id per input.
 */
void session_serve_authenticated(struct server *srv, struct channel *ch,
    const char *user, int read_only, uint64_t features);

/* Sends env as the response to request id. Failures mark the session
 * closing: a peer we cannot write to is gone. */
int session_send(struct session *s, uint32_t id, Wharf__Envelope *env);
/* An Ok answer to request id. */
int session_send_ok(struct session *s, uint32_t id);
int session_send_error(
    struct session *s, uint32_t id, int err, const char *message);

/*
 * Handles one authenticated request: sends its response(s) itself and
 * returns 0, or returns an error for the caller to send as an Error
 * (with s->errmsg as its text when set).
 */
int ops_dispatch(struct session *s, const Wharf__Envelope *req);

/* Transfer requests (server/xfer_ops.c: the adapters between the
 * requests and the engine of src/xfer), same contract as ops_dispatch. */
int upload_open(struct session *s, uint32_t id, const Wharf__PutOpen *m);
int upload_chunk(struct session *s, uint32_t id, const Wharf__Chunk *m);
int upload_end(struct session *s, uint32_t id, const Wharf__PutEnd *m);
int download_get(struct session *s, uint32_t id, const Wharf__GetReq *m);
int download_sum(struct session *s, uint32_t id, const Wharf__SumReq *m);
int download_probe(struct session *s, uint32_t id, const Wharf__Probe *m);
int upload_stripe_commit(
    struct session *s, uint32_t id, const Wharf__StripeCommit *m);
/*
 * Between chunks of a download: reads what the client has sent meanwhile
 * without blocking. Returns WH_ERR_CANCELLED if it asked to cancel
 * download id; other requests are kept, in order, for the request loop.
 */
int session_check_cancel(struct session *s, uint32_t id);

/* The next message from the client: one read ahead earlier, or the
 * next from the channel. */
int
session_next_message(struct session *s, Wharf__Envelope **req) WH_MUST_CHECK;

/*
 * Commits the uploads waiting in the batch: one syncfs for their data,
 * the renames, one syncfs for the folders, then a PutDone for each. Done
 * before the session waits for input, when the batch is old or full
 * (SESSION_BATCH_AGE_MS, SESSION_BATCH_FDS), and before any request that
 * could see those files.
 */
void upload_flush_commits(struct session *s);

/* Closes an upload left open when the session ends (partial kept). */
void upload_session_end(struct session *s);

/* Sets the text of the next Error (printf-like) and returns r. */
int session_fail(struct session *s, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Joins a peer path with the cwd (WH_ERR_INVALID_PATH on refusal) and
 * records it for the log line. */
int session_resolve(struct session *s, const ProtobufCBinaryData *path,
    char out[SANDBOX_VPATH_MAX]);
int session_require_rw(struct session *s);

/* Access rules (server/access.c). */

/* Canonical path below the server root of an open fd ("/a/b"), which is
 * what the protection store is keyed by: symlinks cannot alias it. */
int session_rpath_fd(
    struct session *s, int fd, char out[SANDBOX_VPATH_MAX]) WH_MUST_CHECK;
/* The same for a name inside an open folder. */
int session_rpath_at(struct session *s, int dirfd, const char *name,
    char out[SANDBOX_VPATH_MAX]) WH_MUST_CHECK;
/*
 * 0 if rpath is not protected or passcode opens it. Otherwise waits out
 * the failure's penalty (guard.h; 1 s for a missing passcode, no guess)
 * and returns WH_ERR_PERMISSION with the same text for a missing and a
 * wrong passcode; WH_ERR_BUSY, unchecked, if a penalty or a bucket puts
 * its turn more than GUARD_PASSCODE_WAIT_MS away.
 */
int session_check_passcode(struct session *s, const char *rpath,
    const ProtobufCBinaryData *passcode) WH_MUST_CHECK;
int ops_protect(struct session *s, uint32_t id, const Wharf__ProtectReq *m);

/* Trees (server/tree_ops.c, docs/protocol.md §8.2-8.3). */

/* The target of the link name in dirfd (the folder dir_vpath), malloc'd,
 * if it is safe to report: relative and inside the root; else NULL. */
char *tree_link_target(int dirfd, const char *dir_vpath, const char *name);
int tree_op_symlink(struct session *s, uint32_t id, const Wharf__SymlinkReq *m);
int ops_unprotect(struct session *s, uint32_t id, const Wharf__UnprotectReq *m);

#endif
