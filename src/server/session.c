/* SPDX-License-Identifier: MIT */
/*
 * Connection lifecycle on the server: handshake under the auth deadline,
 * at most SERVER_AUTH_ATTEMPTS logins, then the request loop with the idle
 * timeout. Errors that concern one request are answered and the session
 * goes on; errors that make the stream untrustworthy end it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wharf/clock.h"
#include "wharf/authkeys.h"
#include "wharf/contain.h"
#include "wharf/guard.h"
#include "wharf/hash.h"
#include "wharf/log.h"
#include "wharf/msg.h"
#include "wharf/session.h"

int
session_send(struct session *s, uint32_t id, Wharf__Envelope *env)
{
	int r;

	env->id = id;
	if ((r = channel_send(s->ch, env)) != 0)
		s->closing = 1;
	return r;
}

int
session_send_ok(struct session *s, uint32_t id)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__Ok ok = WHARF__OK__INIT;

	env.body_case = WHARF__ENVELOPE__BODY_OK;
	env.ok = &ok;
	return session_send(s, id, &env);
}

int
session_send_error(struct session *s, uint32_t id, int err, const char *message)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__Error e;

	/* The INIT macro casts const away; the function does not. */
	wharf__error__init(&e);
	e.code = msg_code_from_err(err);
	e.message = (char *)(uintptr_t)(message != NULL && message[0] ?
	        message :
	        msg_code_text(e.code));
	env.body_case = WHARF__ENVELOPE__BODY_ERROR;
	env.error = &e;
	return session_send(s, id, &env);
}

/* The address part of "ip:port" or "[v6]:port". */
static const char *
peer_addr(const char *peer, char *out, size_t outlen)
{
	const char *end =
	    peer[0] == '[' ? strchr(peer, ']') : strrchr(peer, ':');
	size_t n = end != NULL ? (size_t)(end - peer) : strlen(peer);

	if (peer[0] == '[' && n > 0) {
		peer++;
		n--;
	}
	snprintf(out, outlen, "%.*s", (int)n, peer);
	return out;
}

/* A user with a home sees only that folder, as "/". Made at the first
 * login, beneath the root like any other path. A quota is over the folder
 * the user sees: its account is shared by every session there. */
static int
open_home(struct session *s)
{
	char shown[LOG_QUOTE_MAX];
	int r;

	if (s->home[0] == '\0')
		s->sb = &s->srv->sb;
	else if ((r = sandbox_mkdirs(&s->srv->sb, s->home)) != 0 ||
	    (r = sandbox_open_sub(&s->srv->sb, s->home, &s->home_sb)) != 0) {
		log_error("session=%llu user=%s home=%s: %s",
		    (unsigned long long)s->id, s->user,
		    log_quote(shown, sizeof(shown), s->home), wh_strerror(r));
		return r;
	} else {
		s->sb = &s->home_sb;
		/* The thread serves this login only: it never needs the
		 * rest of the root. */
		if ((r = contain_thread_home(s->home_sb.root_fd)) != 0) {
			log_error("session=%llu user=%s cannot confine to "
			          "home: %s",
			    (unsigned long long)s->id, s->user, wh_strerror(r));
			return r;
		}
	}
	if (s->quota > 0 &&
	    (r = quota_account_get(s->sb->root_fd, &s->account)) != 0) {
		log_error("session=%llu user=%s quota account: %s",
		    (unsigned long long)s->id, s->user, wh_strerror(r));
		return r;
	}
	return 0;
}

/*
 * Sessions that other connections may join (striping): the first
 * connection of a login owns a random token; a Join with it gets the same
 * user, rights and home, for as long as the owner lives.
 */
struct registered {
	struct registered *next;
	struct session *s;
};

static struct registered *registry;
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;

static void
login_put(struct login *l)
{
	if (l != NULL && atomic_fetch_sub(&l->refs, 1) == 1) {
		user_bw_put(l->bw);
		free(l);
	}
}

/* Puts this connection under a pair of limits (rate 0: none). */
static int
bw_attach(struct session *s, struct ratelimit *in, struct ratelimit *out)
{
	struct wire_io *io = channel_io(s->ch);
	int r;

	if (out->rate == 0)
		return 0;
	if ((r = wire_io_add_ratelimit(io, 1, in)) != 0 ||
	    (r = wire_io_add_ratelimit(io, 0, out)) != 0)
		return r;
	return 0;
}

/* The user's own limit, for all the user's sessions and whatever joins
 * them. */
static int
bw_start_login(struct session *s, uint64_t rate)
{
	if (rate == 0)
		return 0;
	/* No login record: registry_add could not make one. */
	if (s->login == NULL ||
	    (s->login->bw = user_bw_get(s->user, rate)) == NULL)
		return WH_ERR_NOMEM;
	return bw_attach(s, &s->login->bw->in, &s->login->bw->out);
}

static void
registry_add(struct session *s)
{
	struct registered *e = calloc(1, sizeof(*e));

	if (e == NULL || (s->login = calloc(1, sizeof(*s->login))) == NULL) {
		free(e);
		return; /* striping will not be offered: no harm */
	}
	atomic_store(&s->login->alive, 1);
	atomic_store(&s->login->refs, 1);
	e->s = s;
	pthread_mutex_lock(&registry_mu);
	e->next = registry;
	registry = e;
	s->owns_token = 1;
	pthread_mutex_unlock(&registry_mu);
}

static void
registry_remove(struct session *s)
{
	struct registered **p, *e;

	if (!s->owns_token)
		return;
	pthread_mutex_lock(&registry_mu);
	for (p = &registry; (e = *p) != NULL; p = &e->next)
		if (e->s == s) {
			*p = e->next;
			free(e);
			break;
		}
	pthread_mutex_unlock(&registry_mu);
	/* Joined connections stop at their next request. Said before the
	 * stripes go: a stripe made after stripe_abandon would leak. */
	atomic_store(&s->login->alive, 0);
	stripe_abandon(s->token);
	login_put(s->login);
	s->login = NULL;
}

static int
join_session(struct session *s, const Wharf__Envelope *req)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__AuthOk ok = WHARF__AUTH_OK__INIT;
	struct registered *e;
	int r = WH_ERR_AUTH;

	pthread_mutex_lock(&registry_mu);
	for (e = registry; e != NULL; e = e->next)
		if (sodium_memcmp(e->s->token, req->join->token.data,
		        WIRE_TOKEN_LEN) == 0) {
			/* Each joined connection counts against its login,
			 * so one password cannot hold every slot. */
			if (atomic_fetch_add(&e->s->login->joins, 1) >=
			    SESSION_JOINS_MAX) {
				atomic_fetch_sub(&e->s->login->joins, 1);
				r = WH_ERR_BUSY;
				break;
			}
			memcpy(s->token, e->s->token, sizeof(s->token));
			memcpy(s->user, e->s->user, sizeof(s->user));
			memcpy(s->home, e->s->home, sizeof(s->home));
			s->read_only = e->s->read_only;
			s->quota = e->s->quota;
			s->logout_gen = e->s->logout_gen;
			s->login = e->s->login;
			atomic_fetch_add(&s->login->refs, 1);
			/* A striped transfer shares the user's rate. */
			r = s->login->bw == NULL ?
			    0 :
			    bw_attach(s, &s->login->bw->in, &s->login->bw->out);
			break;
		}
	pthread_mutex_unlock(&registry_mu);
	if (r == WH_ERR_BUSY) {
		log_info("session=%llu peer=%s op=join result=BUSY "
		         "joins_max=%d",
		    (unsigned long long)s->id, s->peer, SESSION_JOINS_MAX);
		(void)session_send_error(s, req->id, WH_ERR_BUSY,
		    "too many connections joined this session");
		return r;
	}
	if (r != 0) {
		(void)session_send_error(
		    s, req->id, WH_ERR_AUTH, "authentication failed");
		return WH_ERR_PERMISSION;
	}
	if ((r = open_home(s)) != 0) {
		(void)session_send_error(
		    s, req->id, r, "cannot open your home folder");
		return r;
	}
	ok.user = msg_bytes(s->user);
	ok.read_only = s->read_only != 0;
	ok.cwd = msg_bytes(s->cwd);
	ok.max_frame = WIRE_FRAME_MAX;
	env.body_case = WHARF__ENVELOPE__BODY_AUTH_OK;
	env.auth_ok = &ok;
	watch_logged_in(s->watch, s->user, s->logout_gen);
	log_info("session=%llu peer=%s user=%s op=join result=ok",
	    (unsigned long long)s->id, s->peer, s->user);
	return session_send(s, req->id, &env);
}

/* A login that succeeded: the session takes the user's rights and home,
 * and the client gets AuthOk with the token that lets others join. */
static int
logged_in(struct session *s, uint32_t id, struct user *usr, const char *method)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT;
	Wharf__AuthOk ok = WHARF__AUTH_OK__INIT;
	uint64_t bwlimit = usr->bwlimit;
	int r;

	snprintf(s->user, sizeof(s->user), "%s", usr->name);
	s->read_only = usr->read_only;
	s->quota = usr->quota;
	s->logout_gen = usr->logout;
	memcpy(s->home, usr->home, sizeof(s->home));
	sodium_memzero(usr, sizeof(*usr));
	if ((r = open_home(s)) != 0) {
		(void)session_send_error(
		    s, id, r, "cannot open your home folder");
		return r;
	}
	randombytes_buf(s->token, sizeof(s->token));
	registry_add(s);
	if ((r = bw_start_login(s, bwlimit)) != 0) {
		(void)session_send_error(
		    s, id, r, "cannot set up your bandwidth limit");
		return r;
	}
	watch_count_login(1);
	watch_logged_in(s->watch, s->user, s->logout_gen);
	ok.user = msg_bytes(s->user);
	ok.read_only = s->read_only != 0;
	ok.cwd = msg_bytes(s->cwd);
	ok.max_frame = WIRE_FRAME_MAX;
	ok.idle_timeout = (uint32_t)(s->srv->idle_timeout_ms / 1000);
	ok.session_token.data = s->token;
	ok.session_token.len = sizeof(s->token);
	env.body_case = WHARF__ENVELOPE__BODY_AUTH_OK;
	env.auth_ok = &ok;
	log_info("session=%llu peer=%s user=%s op=login result=ok rights=%s "
	         "method=%s",
	    (unsigned long long)s->id, s->peer, s->user,
	    s->read_only ? "ro" : "rw", method);
	return session_send(s, id, &env);
}

/*
 * A key login (protocol.md §7.1): one Ed25519 check, no Argon2id and no
 * delay, since a signature cannot be guessed. 0 logged in, WH_ERR_AUTH
 * refused and answered (the client may offer its next key), else the
 * session ends.
 */
static int
key_login(struct session *s, const Wharf__Envelope *req, const char *name)
{
	char addr[SESSION_PEER_MAX], shown[LOG_QUOTE_MAX];
	const char *why = "";
	struct user usr;
	int r;

	if (!(s->features & WIRE_FEAT_KEYAUTH)) {
		(void)session_send_error(
		    s, req->id, WH_ERR_PROTOCOL, "key login not negotiated");
		return WH_ERR_PROTOCOL;
	}
	r = authkeys_verify_login(s->srv->users_path,
	    peer_addr(s->peer, addr, sizeof(addr)), s->transcript, name,
	    req->auth->public_key.data, req->auth->public_key.len,
	    req->auth->signature.data, req->auth->signature.len, &usr, &why);
	if (r == 0 && usr.disabled) {
		sodium_memzero(&usr, sizeof(usr));
		r = WH_ERR_AUTH;
		why = "user disabled";
	}
	if (r == 0)
		return logged_in(s, req->id, &usr, "key");
	if (r != WH_ERR_AUTH) {
		log_error("session=%llu peer=%s op=login result=INTERNAL "
		          "method=key: %s",
		    (unsigned long long)s->id, s->peer, wh_strerror(r));
		(void)session_send_error(s, req->id, r,
		    "the server cannot check logins now; try again later");
		return r;
	}
	watch_count_login(0);
	log_info("session=%llu peer=%s user=%s op=login result=AUTH_FAILED "
	         "method=key reason=\"%s\"",
	    (unsigned long long)s->id, s->peer,
	    log_quote(shown, sizeof(shown), name), why);
	if (session_send_error(
	        s, req->id, WH_ERR_AUTH, "authentication failed") != 0)
		return WH_ERR_PROTOCOL;
	return WH_ERR_AUTH;
}

static int
authenticate(struct session *s, int64_t deadline)
{
	char addr[SESSION_PEER_MAX];
	struct guard_ticket tk;
	int64_t answer_at;
	int delay, cut;
	Wharf__Envelope *req = NULL;
	char name[USERS_NAME_MAX + 1], shown[LOG_QUOTE_MAX];
	char password[USERS_PASSWORD_MAX + 1];
	struct user usr;
	int attempt, r = WH_ERR_AUTH, left, key_attempts = 0;

	for (attempt = 0; attempt < SERVER_AUTH_ATTEMPTS; attempt++) {
		if ((left = (int)(deadline - clock_mono_ms())) <= 0) {
			r = WH_ERR_TIMEOUT;
			break;
		}
		wire_io_set_timeout(channel_io(s->ch), left);
		if ((r = channel_recv(s->ch, &req)) != 0)
			break;
		if (req->body_case == WHARF__ENVELOPE__BODY_JOIN) {
			r = join_session(s, req);
			break;
		}
		if (req->body_case != WHARF__ENVELOPE__BODY_AUTH) {
			(void)session_send_error(
			    s, req->id, WH_ERR_PROTOCOL, "authenticate first");
			r = WH_ERR_PROTOCOL;
			break;
		}
		/* Names too long or with NUL simply fail to match. */
		if (msg_text(&req->auth->user, name, sizeof(name)) != 0)
			name[0] = '\0';
		if (req->auth->public_key.len > 0 ||
		    req->auth->signature.len > 0) {
			/* Keys have their own count: offering each of an
			 * agent's keys is not guessing. */
			r = key_login(s, req, name);
			if (r == WH_ERR_AUTH &&
			    ++key_attempts < SERVER_KEY_ATTEMPTS) {
				attempt--;
				msg_free(req);
				req = NULL;
				continue;
			}
			if (r == WH_ERR_AUTH)
				r = WH_ERR_PERMISSION;
			break;
		}
		if (msg_text(
		        &req->auth->password, password, sizeof(password)) != 0)
			password[0] = '\0';
		/* Its turn among this source's and this user's checks
		 * (docs/protocol.md §7); one that cannot come in time is
		 * refused without a check. */
		r = guard_login_begin(&tk,
		    peer_addr(s->peer, addr, sizeof(addr)), name, deadline);
		if (r != 0) {
			sodium_memzero(password, sizeof(password));
			log_info("session=%llu peer=%s user=%s op=login "
			         "result=%s attempt=%d",
			    (unsigned long long)s->id, s->peer,
			    log_quote(shown, sizeof(shown), name),
			    msg_code_name(msg_code_from_err(r)), attempt + 1);
			(void)session_send_error(s, req->id, r,
			    "too many failed logins; try again later");
			break;
		}
		sem_wait(&s->srv->pwhash_slots);
		r = users_verify(s->srv->users_path, name, password, &usr);
		sem_post(&s->srv->pwhash_slots);
		sodium_memzero(password, sizeof(password));
		/* Keys only, for this user or all: a right password is
		 * still a failed login, after the same work. */
		/* A disabled user too (wharf user mod --disable). */
		if (r == 0 &&
		    (usr.keys_only || s->srv->keys_only || usr.disabled)) {
			sodium_memzero(&usr, sizeof(usr));
			r = WH_ERR_AUTH;
		}
		answer_at = guard_end(&tk,
		    r == 0               ? GUARD_PASS :
		        r == WH_ERR_AUTH ? GUARD_FAIL :
		                           GUARD_VOID);
		if (r != 0 && r != WH_ERR_AUTH) {
			/* The server could not check (users file unreadable:
			 * out of descriptors or memory, damaged): its failure,
			 * not the client's. No penalty for the address, and
			 * an answer that says so. */
			log_error(
			    "session=%llu peer=%s op=login result=INTERNAL "
			    "users file %s: %s",
			    (unsigned long long)s->id, s->peer,
			    s->srv->users_path, wh_strerror(r));
			(void)session_send_error(s, req->id, r,
			    "the server cannot check logins now; try again "
			    "later");
			break;
		}
		if (r == 0) {
			r = logged_in(s, req->id, &usr, "password");
			break;
		}
		/* The same answer whatever was wrong, at the end of the
		 * penalty this failure earned (source, user), never after
		 * the login deadline: then it is the last answer. */
		cut = answer_at >= deadline;
		delay = (int)((cut ? deadline : answer_at) - clock_mono_ms());
		delay = delay > 0 ? delay : 0;
		watch_count_login(0);
		log_info("session=%llu peer=%s user=%s op=login "
		         "result=AUTH_FAILED attempt=%d delay_ms=%d",
		    (unsigned long long)s->id, s->peer,
		    log_quote(shown, sizeof(shown), name), attempt + 1, delay);
		clock_sleep_ms(delay);
		r = WH_ERR_PERMISSION;
		if (session_send_error(
		        s, req->id, WH_ERR_AUTH, "authentication failed") != 0)
			break;
		if (cut && attempt + 1 < SERVER_AUTH_ATTEMPTS) {
			r = WH_ERR_TIMEOUT;
			break;
		}
		msg_free(req);
		req = NULL;
	}
	msg_free(req);
	return r;
}

/* A Cancel for a request still queued: it ends before it starts. */
static void
cancel_pending(struct session *s, uint32_t target)
{
	int i;

	for (i = 0; i < s->npending; i++) {
		if (s->pending[i]->id != target ||
		    s->pending[i]->body_case != WHARF__ENVELOPE__BODY_GET)
			continue;
		s->pending_bytes -= msg_decoded_size(s->pending[i]);
		msg_free(s->pending[i]);
		memmove(&s->pending[i], &s->pending[i + 1],
		    (size_t)(s->npending - i - 1) * sizeof(s->pending[0]));
		s->npending--;
		(void)session_send_error(
		    s, target, WH_ERR_CANCELLED, "download cancelled");
		return;
	}
	/* Otherwise it already finished: nothing to do, no answer. */
}

int
session_check_cancel(struct session *s, uint32_t id)
{
	Wharf__Envelope *env;
	enum watch_end why;
	int r;

	/* Ended from outside (watch.h): a download stops between chunks. */
	if ((why = watch_must_end(s->watch, s->srv->users_path)) !=
	    WATCH_END_NONE) {
		s->closing = 1;
		return session_fail(
		    s, WH_ERR_PERMISSION, "%s", watch_end_text(why));
	}
	while (!s->peer_eof && wire_io_readable(channel_io(s->ch), 0)) {
		if ((r = channel_recv(s->ch, &env)) == WH_ERR_EOF) {
			/* A half-close: what was asked is still answered. */
			s->peer_eof = 1;
			break;
		}
		if (r != 0) {
			s->closing = 1;
			return r;
		}
		if (env->body_case == WHARF__ENVELOPE__BODY_CANCEL) {
			uint32_t target = env->cancel->target;

			msg_free(env);
			if (target == id)
				return WH_ERR_CANCELLED;
			cancel_pending(s, target);
			continue;
		}
		/* Bounded in count and in heap (decoded, not packed,
		 * bytes): a client may queue requests, not make the server
		 * hold its uploads in memory. */
		size_t n = msg_decoded_size(env);
		if (s->npending == SESSION_PENDING_MAX ||
		    s->pending_bytes + n > SESSION_PENDING_BYTES) {
			msg_free(env);
			s->closing = 1;
			return session_fail(s, WH_ERR_PROTOCOL,
			    "too many "
			    "requests queued during a download");
		}
		s->pending[s->npending++] = env;
		s->pending_bytes += n;
	}
	return 0;
}

int
session_next_message(struct session *s, Wharf__Envelope **req)
{
	if (s->npending == 0 && s->peer_eof)
		return WH_ERR_EOF;
	if (s->npending > 0) {
		*req = s->pending[0];
		s->pending_bytes -= msg_decoded_size(*req);
		memmove(&s->pending[0], &s->pending[1],
		    (size_t)(s->npending - 1) * sizeof(s->pending[0]));
		s->npending--;
		return 0;
	}
	/* The request loop is done with each request before it reads the
	 * next; what session_check_cancel queues is read with channel_recv,
	 * so nothing in pending[] borrows. */
	return channel_recv_borrow(s->ch, req);
}

static void
drop_pending(struct session *s)
{
	while (s->npending > 0)
		msg_free(s->pending[--s->npending]);
}

static int
is_transfer(Wharf__Envelope__BodyCase c)
{
	return c == WHARF__ENVELOPE__BODY_PUT_OPEN ||
	    c == WHARF__ENVELOPE__BODY_CHUNK ||
	    c == WHARF__ENVELOPE__BODY_PUT_END ||
	    c == WHARF__ENVELOPE__BODY_GET ||
	    c == WHARF__ENVELOPE__BODY_CANCEL ||
	    c == WHARF__ENVELOPE__BODY_PROBE;
}

/*
 * Whether the batched commits go out before the next request: when the
 * client waits for answers (nothing more to read now), or once the oldest
 * has waited SESSION_BATCH_AGE_MS. Input that keeps coming, or a frame
 * that never completes, must not hold received files (and their
 * descriptors) for longer.
 */
static int
batch_due(struct session *s)
{
	struct wire_io *io = channel_io(s->ch);
	int64_t left = s->batch_since + SESSION_BATCH_AGE_MS - clock_mono_ms();

	if (left <= 0)
		return 1;
	if (s->npending > 0)
		return 0;
	return !wire_io_readable(io, 0) || !wire_io_frame_ready(io, (int)left);
}

/* Ends the session if it was ended from outside (watch.h): answers the
 * request at hand (id; 0 for none) with why and logs it. */
static int
ended_from_outside(struct session *s, uint32_t id)
{
	enum watch_end why = watch_must_end(s->watch, s->srv->users_path);

	if (why == WATCH_END_NONE)
		return 0;
	log_info("session=%llu peer=%s user=%s %s", (unsigned long long)s->id,
	    s->peer, s->user, watch_end_text(why));
	(void)session_send_error(s, id, WH_ERR_PERMISSION, watch_end_text(why));
	s->closing = 1;
	return 1;
}

/* What `wharf status` shows the session doing: the request served now;
 * an upload's chunks and its end belong to the open upload. */
static void
watch_path_op(struct session *s, const char *op, const ProtobufCBinaryData *p)
{
	char vpath[SANDBOX_VPATH_MAX];

	/* As the log names it: from the user's "/"; a path the request
	 * will refuse is shown as sent. */
	if (sandbox_normalize(s->cwd, p->data, p->len, vpath, sizeof(vpath)) ==
	    0)
		watch_op(s->watch, op, vpath, strlen(vpath));
	else
		watch_op(s->watch, op, p->data, p->len);
}

static void
watch_request(struct session *s, const Wharf__Envelope *req)
{
	switch (req->body_case) {
	case WHARF__ENVELOPE__BODY_PUT_OPEN:
		watch_path_op(s, "put", &req->put_open->path);
		break;
	case WHARF__ENVELOPE__BODY_GET:
		watch_path_op(s, "get", &req->get->path);
		break;
	case WHARF__ENVELOPE__BODY_CHUNK:
	case WHARF__ENVELOPE__BODY_PUT_END:
	case WHARF__ENVELOPE__BODY_CANCEL:
	case WHARF__ENVELOPE__BODY_PROBE:
		break;
	default:
		/* A ping or a listing meanwhile: the upload is what it does. */
		if (s->up == NULL)
			watch_op(
			    s->watch, msg_body_name(req->body_case), NULL, 0);
	}
}

static void
request_loop(struct session *s)
{
	Wharf__Envelope *req;
	char shown[LOG_QUOTE_MAX];
	double t0;
	int r;

	wire_io_set_timeout(channel_io(s->ch), s->srv->idle_timeout_ms);
	while (!s->closing) {
		if (s->nbatch > 0 && batch_due(s))
			upload_flush_commits(s);
		if ((r = session_next_message(s, &req)) != 0) {
			/* A kick shuts the socket's read side: EOF. */
			if (ended_from_outside(s, 0))
				return;
			if (r == WH_ERR_FORMAT) {
				/* Authentic but undecodable: a client bug.
				 * Say so and carry on. */
				log_info("session=%llu peer=%s user=%s "
				         "malformed message",
				    (unsigned long long)s->id, s->peer,
				    s->user);
				(void)session_send_error(
				    s, 0, WH_ERR_PROTOCOL, "malformed message");
				continue;
			}
			if (r == WH_ERR_TIMEOUT) {
				log_info("session=%llu peer=%s user=%s "
				         "idle timeout",
				    (unsigned long long)s->id, s->peer,
				    s->user);
				(void)session_send_error(
				    s, 0, WH_ERR_TIMEOUT, "idle timeout");
			} else if (r != WH_ERR_EOF) {
				log_info("session=%llu peer=%s user=%s "
				         "closing: %s",
				    (unsigned long long)s->id, s->peer, s->user,
				    wh_strerror(r));
			}
			return;
		}
		if (s->login != NULL && !s->owns_token &&
		    !atomic_load(&s->login->alive)) {
			/* The connection that logged in is gone. */
			(void)session_send_error(s, req->id, WH_ERR_AUTH,
			    "the session this connection joined has ended");
			msg_free(req);
			return;
		}
		if (ended_from_outside(s, req->id)) {
			msg_free(req);
			return;
		}
		/* Anything but more uploading may look at those files. */
		if (s->nbatch > 0 &&
		    req->body_case != WHARF__ENVELOPE__BODY_PUT_OPEN &&
		    req->body_case != WHARF__ENVELOPE__BODY_CHUNK &&
		    req->body_case != WHARF__ENVELOPE__BODY_PUT_END)
			upload_flush_commits(s);
		t0 = clock_mono_sec();
		s->errmsg[0] = '\0';
		s->logpath[0] = '\0';
		watch_request(s, req);
		r = ops_dispatch(s, req);
		if (r != 0)
			(void)session_send_error(s, req->id, r, s->errmsg);
		if (s->up == NULL)
			watch_idle(s->watch);
		/* Transfers log one line of their own per file. */
		if (is_transfer(req->body_case)) {
			msg_free(req);
			continue;
		}
		log_info("session=%llu peer=%s user=%s op=%s path=%s "
		         "result=%s ms=%.2f",
		    (unsigned long long)s->id, s->peer, s->user,
		    msg_body_name(req->body_case),
		    log_quote(shown, sizeof(shown), s->logpath),
		    r == 0 ? "ok" : msg_code_name(msg_code_from_err(r)),
		    (clock_mono_sec() - t0) * 1000.0);
		msg_free(req);
	}
}

void
session_serve_authenticated(struct server *srv, struct channel *ch,
    const char *user, int read_only, uint64_t features)
{
	struct session s;

	memset(&s, 0, sizeof(s));
	s.srv = srv;
	s.ch = ch;
	s.id = atomic_fetch_add(&srv->next_session_id, 1) + 1;
	snprintf(s.peer, sizeof(s.peer), "in-process");
	snprintf(s.cwd, sizeof(s.cwd), "/");
	snprintf(s.user, sizeof(s.user), "%s", user);
	s.read_only = read_only;
	s.features = features;
	s.sb = &srv->sb;
	s.home_sb.root_fd = -1;
	channel_set_limit(ch, WIRE_FRAME_MAX);
	request_loop(&s);
	upload_session_end(&s);
	drop_pending(&s);
}

void
session_serve(struct server *srv, int fd, const char *peer,
    const struct startups_ticket *ticket)
{
	struct hs_server_config cfg = { 0 };
	struct hs_result res;
	struct session s;
	struct wire_io *io;
	char why[HS_WHY_MAX], shown[LOG_QUOTE_MAX];
	double t0 = clock_mono_sec();
	int64_t deadline = clock_mono_ms() + srv->auth_timeout_ms;
	int r;

	memset(&s, 0, sizeof(s));
	s.srv = srv;
	s.id = atomic_fetch_add(&srv->next_session_id, 1) + 1;
	snprintf(s.peer, sizeof(s.peer), "%s", peer);
	snprintf(s.cwd, sizeof(s.cwd), "/");
	snprintf(s.user, sizeof(s.user), "-");
	s.home_sb.root_fd = -1;
	if (ticket != NULL)
		s.ticket = *ticket;
	if ((io = wire_io_new(fd)) == NULL) {
		close(fd);
		startups_release(srv->startups, &s.ticket);
		return;
	}
	if ((s.ch = channel_new(io)) == NULL) {
		wire_io_free(io);
		startups_release(srv->startups, &s.ticket);
		return;
	}
	s.watch = watch_add(s.id, s.peer, io);
	log_info(
	    "session=%llu peer=%s connect", (unsigned long long)s.id, s.peer);
	cfg.host_key = &srv->host_key;
	cfg.psk = srv->have_psk ? srv->psk : NULL;
	cfg.allow_plaintext = srv->allow_plaintext;
	cfg.features = WIRE_FEATURES_ALL | WIRE_FEAT_AES256GCM;
	cfg.ciphers = srv->ciphers;
	cfg.send_hash = hash_alg_to_wire(hash_alg_preferred(cfg.features));
	wire_io_set_timeout(io, srv->auth_timeout_ms);
	/* One deadline for handshake and login together. */
	wire_io_set_deadline(io, srv->auth_timeout_ms);
	if ((r = hs_server_run(io, &cfg, &res, why, sizeof(why))) != 0) {
		log_info("session=%llu peer=%s %s", (unsigned long long)s.id,
		    s.peer, why);
		goto out;
	}
	if ((r = channel_start(s.ch, &res)) != 0) {
		log_error("session=%llu peer=%s cannot seal with %s: %s",
		    (unsigned long long)s.id, s.peer,
		    seal_cipher_name(res.cipher), wh_strerror(r));
		hs_result_wipe(&res);
		goto out;
	}
	s.features = res.features;
	memcpy(s.transcript, res.transcript, sizeof(s.transcript));
	log_info("session=%llu peer=%s handshake ok version=%u %s%s client=%s",
	    (unsigned long long)s.id, s.peer, res.version,
	    res.plaintext ? "PLAINTEXT" : "sealed cipher=",
	    res.plaintext ? "" : seal_cipher_name(res.cipher),
	    log_quote(shown, sizeof(shown), res.peer_software));
	hs_result_wipe(&res);
	if ((r = authenticate(&s, deadline)) != 0) {
		log_info("session=%llu peer=%s login aborted: %s",
		    (unsigned long long)s.id, s.peer,
		    r == WH_ERR_PERMISSION  ? "too many failed attempts" :
		        r == WH_ERR_AUTH    ? "a sealed frame did not open "
		                              "(wrong pre-shared key?)" :
		        r == WH_ERR_TIMEOUT ? "no login in time" :
		                              wh_strerror(r));
		goto out;
	}
	/* Logged in (or joined): no longer one of the startups. */
	startups_release(srv->startups, &s.ticket);
	if (bw_attach(&s, &srv->bw_in, &srv->bw_out) != 0)
		goto out;
	wire_io_set_deadline(io, -1);
	channel_set_limit(s.ch, WIRE_FRAME_MAX);
	request_loop(&s);
	upload_session_end(&s);
	drop_pending(&s);
out:
	/* Also when the AuthOk could not be sent: the registry must not
	 * keep a pointer to this frame. */
	registry_remove(&s);
	/* A joined connection, also one whose Join failed after the
	 * lookup: its place in the login goes back. */
	if (!s.owns_token && s.login != NULL) {
		atomic_fetch_sub(&s.login->joins, 1);
		login_put(s.login);
		s.login = NULL;
	}
	startups_release(srv->startups, &s.ticket);
	quota_account_put(s.account);
	if (s.sb == &s.home_sb)
		sandbox_close(&s.home_sb);
	log_info("session=%llu peer=%s user=%s disconnect secs=%.2f "
	         "bytes_in=%llu bytes_out=%llu",
	    (unsigned long long)s.id, s.peer, s.user, clock_mono_sec() - t0,
	    (unsigned long long)wire_io_bytes_in(io),
	    (unsigned long long)wire_io_bytes_out(io));
	watch_remove(s.watch);
	channel_free(s.ch);
}
