/* SPDX-License-Identifier: MIT */
/*
 * Client side of a session. Trust on first use: the first connection to a
 * host:port pins its key in known_hosts; a different key later is refused
 * with instructions, never silently accepted.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wharf/accel.h"
#include "wharf/address.h"
#include "wharf/agent.h"
#include "wharf/client.h"
#include "wharf/file.h"
#include "wharf/keys.h"
#include "wharf/log.h"
#include "wharf/msg.h"
#include "wharf/sshkey.h"
#include "wharf/tty.h"
#include "wharf/text.h"

#define CLIENT_PASSWORD_TRIES 3
/* Keys offered before the password; the server allows as many
 * (SERVER_KEY_ATTEMPTS). */
#define CLIENT_KEY_TRIES 6
#define CLIENT_KEY_FILE "id_ed25519"

static volatile sig_atomic_t interrupted;
static struct sigaction saved_sigint;
static int armed;

static void
on_sigint(int sig)
{
	/* A second Ctrl-C means "now": the default action. */
	if (interrupted) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
	interrupted = 1;
}

void
client_interrupt_arm(void)
{
	struct sigaction sa;

	interrupted = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked read returns so the flag is seen. */
	if (sigaction(SIGINT, &sa, &saved_sigint) == 0)
		armed = 1;
}

void
client_interrupt_disarm(void)
{
	if (armed)
		sigaction(SIGINT, &saved_sigint, NULL);
	armed = 0;
}

int
client_interrupted(void)
{
	return interrupted != 0;
}

int
client_target_parse(const char *s, struct client_target *t)
{
	if (address_classify(s) == ADDRESS_REMOTE_PATH) {
		fprintf(stderr,
		    "wharf: '%s' names a file; give only the server here "
		    "([USER@]HOST[:PORT])\n",
		    s);
		return WH_ERR_INVALID_ARG;
	}
	return address_parse(s, t, NULL, 0);
}

int
client_config_file(const char *name, char *out, size_t outlen)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	const char *sep = name != NULL ? "/" : "", *leaf = name ? name : "";
	int n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(out, outlen, "%s/wharf%s%s", xdg, sep, leaf);
	else if (home != NULL && home[0] != '\0')
		n = snprintf(
		    out, outlen, "%s/.config/wharf%s%s", home, sep, leaf);
	else
		return WH_ERR_NOT_FOUND;
	return n > 0 && (size_t)n < outlen ? 0 : WH_ERR_TOO_LARGE;
}

int
client_known_hosts_path(char *out, size_t outlen)
{
	return client_config_file("known_hosts", out, outlen);
}

/* Connects to the first address of host that answers in time. */
static int
dial(const struct client_target *t, int *fdp)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[8];
	struct pollfd pfd;
	socklen_t sl;
	int fd = -1, r, err = 0, one = 1;

	*fdp = -1;
	snprintf(portstr, sizeof(portstr), "%u", t->port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(t->host, portstr, &hints, &res)) != 0) {
		fprintf(stderr, "wharf: %s: %s\n", t->host, gai_strerror(r));
		return WH_ERR_NOT_FOUND;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 &&
		    errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, CLIENT_CONNECT_TIMEOUT_MS) != 1) {
				err = ETIMEDOUT;
				close(fd);
				fd = -1;
				continue;
			}
			sl = sizeof(err);
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl);
			if (err == 0)
				break;
		} else if (errno == 0 || errno == EISCONN) {
			break;
		} else
			err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		fprintf(stderr, "wharf: connect to %s port %u: %s\n", t->host,
		    t->port, strerror(err ? err : ECONNREFUSED));
		return WH_ERR_SYSTEM;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fdp = fd;
	return 0;
}

/* Asks on the terminal whether to trust a new key; 1 for yes. */
static int
ask_host_key(const struct client *c, const char *fp)
{
	char answer[16];
	FILE *tty = fopen("/dev/tty", "r+");
	int yes = 0;

	if (tty == NULL)
		return 0;
	fprintf(tty,
	    "The authenticity of host '%s' can't be established.\n"
	    "Its key fingerprint is %s.\n"
	    "Are you sure you want to continue connecting (yes/no)? ",
	    c->hostport, fp);
	fflush(tty);
	while (fgets(answer, sizeof(answer), tty) != NULL) {
		answer[strcspn(answer, "\r\n")] = '\0';
		if (strcmp(answer, "yes") == 0) {
			yes = 1;
			break;
		}
		if (strcmp(answer, "no") == 0)
			break;
		fprintf(tty, "Please type 'yes' or 'no': ");
		fflush(tty);
	}
	fclose(tty);
	return yes;
}

/* The policy in force: "ask" needs a terminal to ask on. */
static int
effective_policy(int policy)
{
	int fd;

	if (policy != HOST_KEY_DEFAULT)
		return policy;
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0)
		return HOST_KEY_ACCEPT_NEW;
	close(fd);
	return isatty(STDIN_FILENO) ? HOST_KEY_ASK : HOST_KEY_ACCEPT_NEW;
}

static int
check_host_key(const struct client *c, const uint8_t *pk, int quiet)
{
	char path[PATH_MAX], fp[KEYS_FINGERPRINT_LEN];
	int r, line = 0;

	keys_fingerprint(pk, fp);
	if ((r = client_known_hosts_path(path, sizeof(path))) != 0) {
		fprintf(stderr,
		    "wharf: cannot place known_hosts: set HOME or "
		    "XDG_CONFIG_HOME\n");
		return r;
	}
	r = keys_known_host_check(path, c->hostport, pk, &line);
	if (r == 0)
		return 0;
	if (r == WH_ERR_HOSTKEY) {
		fprintf(stderr,
		    "wharf: @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
		    "wharf: @    WARNING: SERVER HOST KEY HAS CHANGED!       @\n"
		    "wharf: @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
		    "wharf: the key of %s is not the one pinned before.\n"
		    "wharf: someone may be intercepting this connection, or "
		    "the server's key was replaced.\n"
		    "wharf: the server now presents %s\n"
		    "wharf: if the change is expected, delete line %d of %s "
		    "and connect again.\n",
		    c->hostport, fp, line, path);
		return r;
	}
	if (r != WH_ERR_NOT_FOUND) {
		fprintf(stderr, "wharf: %s: %s\n", path, wh_strerror(r));
		return r;
	}
	switch (effective_policy(c->opts.host_key_policy)) {
	case HOST_KEY_STRICT:
		fprintf(stderr,
		    "wharf: no key for %s in %s, and the host key policy is "
		    "strict.\n"
		    "wharf: the server presents %s; add it with: wharf "
		    "keyscan %s >> %s\n",
		    c->hostport, path, fp, c->hostport, path);
		return WH_ERR_HOSTKEY;
	case HOST_KEY_ASK:
		if (!ask_host_key(c, fp)) {
			fprintf(stderr, "wharf: host key of %s not accepted\n",
			    c->hostport);
			return WH_ERR_HOSTKEY;
		}
		quiet = 0;
		break;
	default:
		break;
	}
	if ((r = keys_known_host_add(path, c->hostport, pk)) != 0) {
		fprintf(stderr, "wharf: cannot pin host key in %s: %s\n", path,
		    wh_strerror(r));
		return r;
	}
	if (!quiet)
		fprintf(stderr, "wharf: pinned host key of %s: %s (in %s)\n",
		    c->hostport, fp, path);
	return 0;
}

static int
get_password(char *out, size_t outlen, const struct client *c, int attempt)
{
	const char *env = getenv("WHARF_PASSWORD");
	char prompt[NETADDR_STR_MAX + WIRE_USER_MAX + 32];
	int r;

	if (env != NULL) {
		if (attempt > 0)
			return WH_ERR_AUTH; /* retrying cannot help */
		if (strlen(env) >= outlen)
			return WH_ERR_TOO_LARGE;
		snprintf(out, outlen, "%s", env);
		return 0;
	}
	snprintf(prompt, sizeof(prompt), "%s@%s's password: ", c->target.user,
	    c->hostport);
	r = tty_read_secret(prompt, out, outlen);
	if (r == WH_ERR_UNSUPPORTED)
		fprintf(stderr,
		    "wharf: no password: set WHARF_PASSWORD or "
		    "run on a terminal\n");
	return r;
}

/* Takes what AuthOk says about the session. */
static void
logged_in(struct client *c, const Wharf__AuthOk *ok)
{
	c->read_only = ok->read_only;
	c->idle_timeout = ok->idle_timeout;
	/* msg_validate: no token, or WIRE_TOKEN_LEN bytes. */
	if (ok->session_token.len > 0) {
		memcpy(c->token, ok->session_token.data, sizeof(c->token));
		c->have_token = 1;
	}
	if (msg_text(&ok->cwd, c->cwd, sizeof(c->cwd)) != 0)
		snprintf(c->cwd, sizeof(c->cwd), "/");
}

/* Where a key's signature comes from: the agent, or a secret key. */
struct signer {
	struct agent *agent; /* or NULL */
	const uint8_t *sk; /* SSHKEY_SK_LEN bytes, or NULL */
};

/*
 * One key login (protocol.md §7.1): the signature covers this session's
 * transcript hash, the user and the key. 0 logged in, WH_ERR_AUTH
 * refused (try the next key), anything else ends the attempt.
 */
static int
try_key(
    struct client *c, const uint8_t pk[SSHKEY_PK_LEN], const struct signer *s)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__Auth auth = WHARF__AUTH__INIT;
	uint8_t msg[SSHKEY_LOGIN_MSG_MAX], sig[SSHKEY_SIG_LEN];
	size_t len;
	int r;

	if ((r = sshkey_login_message(
	         c->transcript, c->target.user, pk, msg, &len)) != 0)
		return r;
	if (s->agent != NULL)
		r = agent_sign(s->agent, pk, msg, len, sig);
	else
		r = crypto_sign_detached(sig, NULL, msg, len, s->sk) == 0 ?
		    0 :
		    WH_ERR_AUTH;
	if (r != 0)
		return WH_ERR_AUTH; /* this key cannot sign: the next */
	auth.user = msg_bytes(c->target.user);
	auth.public_key.data = (uint8_t *)(uintptr_t)pk;
	auth.public_key.len = SSHKEY_PK_LEN;
	auth.signature.data = sig;
	auth.signature.len = sizeof(sig);
	req.body_case = WHARF__ENVELOPE__BODY_AUTH;
	req.auth = &auth;
	r = client_call(c, &req, &resp, NULL, NULL);
	if (r == 0 && resp->body_case == WHARF__ENVELOPE__BODY_AUTH_OK)
		logged_in(c, resp->auth_ok);
	else if (r == 0)
		r = WH_ERR_PROTOCOL;
	msg_free(resp);
	return r;
}

/* A key file, if it holds an unencrypted Ed25519 key; named says the
 * user asked for it (-i), so trouble with it is worth a line. */
static int
try_key_file(struct client *c, const char *path, int named, int *tries)
{
	uint8_t sk[SSHKEY_SK_LEN], pk[SSHKEY_PK_LEN];
	struct signer s = { NULL, sk };
	int r;

	if ((r = sshkey_load_private(path, sk, pk)) != 0) {
		if (named || (r != WH_ERR_NOT_FOUND && !c->opts.quiet))
			fprintf(stderr, "wharf: identity %s: %s\n", path,
			    r == WH_ERR_UNSUPPORTED ?
			        "encrypted or not ssh-ed25519 (load it "
			        "into ssh-agent)" :
			        r == WH_ERR_PERMISSION ? "readable by others; "
			                                 "chmod 600 it" :
			                                 wh_strerror(r));
		sodium_memzero(sk, sizeof(sk));
		return WH_ERR_AUTH;
	}
	(*tries)++;
	r = try_key(c, pk, &s);
	sodium_memzero(sk, sizeof(sk));
	return r;
}

/*
 * Key login, before any password: the agent's keys, then -i or the
 * configuration's IdentityFile, then ~/.config/wharf/id_ed25519 and
 * ~/.ssh/id_ed25519. 0 logged in, WH_ERR_AUTH if no key was accepted.
 */
static int
key_login(struct client *c)
{
	char path[PATH_MAX];
	const char *home = getenv("HOME");
	struct agent agent;
	struct signer s = { &agent, NULL };
	int i, r = WH_ERR_AUTH, tries = 0;

	if (!(c->features & WIRE_FEAT_KEYAUTH))
		return WH_ERR_AUTH;
	if (agent_open(&agent) == 0) {
		for (i = 0; i < agent.nkeys && tries < CLIENT_KEY_TRIES; i++) {
			tries++;
			if ((r = try_key(c, agent.pks[i], &s)) != WH_ERR_AUTH)
				break;
		}
		agent_close(&agent);
		if (r != WH_ERR_AUTH)
			return r;
	}
	if (c->opts.identity_file[0] != '\0')
		return try_key_file(c, c->opts.identity_file, 1, &tries);
	if (client_config_file(CLIENT_KEY_FILE, path, sizeof(path)) != 0)
		return WH_ERR_AUTH;
	if (tries < CLIENT_KEY_TRIES &&
	    (r = try_key_file(c, path, 0, &tries)) != WH_ERR_AUTH)
		return r;
	if (home != NULL && tries < CLIENT_KEY_TRIES) {
		snprintf(path, sizeof(path), "%s/.ssh/id_ed25519", home);
		r = try_key_file(c, path, 0, &tries);
	}
	return r;
}

static int
login(struct client *c)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__Auth auth = WHARF__AUTH__INIT;
	char password[WIRE_PASSWORD_MAX + 1];
	int attempt, r = WH_ERR_AUTH;

	if ((r = key_login(c)) != WH_ERR_AUTH)
		return r;
	for (attempt = 0; attempt < CLIENT_PASSWORD_TRIES; attempt++) {
		if ((r = get_password(
		         password, sizeof(password), c, attempt)) != 0)
			break;
		auth.user = msg_bytes(c->target.user);
		auth.password = msg_bytes(password);
		req.body_case = WHARF__ENVELOPE__BODY_AUTH;
		req.auth = &auth;
		r = client_call(c, &req, &resp, NULL, NULL);
		sodium_memzero(password, sizeof(password));
		if (r == 0 &&
		    resp->body_case == WHARF__ENVELOPE__BODY_AUTH_OK) {
			logged_in(c, resp->auth_ok);
			msg_free(resp);
			return 0;
		}
		msg_free(resp);
		resp = NULL;
		if (r == 0)
			r = WH_ERR_PROTOCOL;
		if (r != WH_ERR_AUTH || c->lost ||
		    getenv("WHARF_PASSWORD") != NULL ||
		    attempt + 1 == CLIENT_PASSWORD_TRIES)
			break;
		fprintf(stderr, "wharf: authentication failed, try again\n");
	}
	sodium_memzero(password, sizeof(password));
	if (r == WH_ERR_AUTH)
		snprintf(c->errmsg, sizeof(c->errmsg), "authentication failed");
	return r;
}

static int
join(struct client *c, const uint8_t *token)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__Join j = WHARF__JOIN__INIT;
	int r;

	j.token.data = (uint8_t *)(uintptr_t)token;
	j.token.len = sizeof(c->token);
	req.body_case = WHARF__ENVELOPE__BODY_JOIN;
	req.join = &j;
	r = client_call(c, &req, &resp, NULL, NULL);
	if (r == 0 && resp->body_case != WHARF__ENVELOPE__BODY_AUTH_OK)
		r = WH_ERR_PROTOCOL;
	msg_free(resp);
	return r;
}

static int open_as(const struct client_target *t, const struct client_opts *o,
    const uint8_t *token, struct client **out);

/* A PSK file named in o, loaded into psk; 0 and *have = 0 for none. */
static int
load_psk(const struct client_opts *o, uint8_t psk[KEYS_PSK_LEN], int *have)
{
	int r;

	*have = 0;
	if (o->psk_file[0] == '\0')
		return 0;
	if ((r = keys_psk_load(o->psk_file, psk)) != 0) {
		fprintf(stderr, "wharf: --psk %s: %s\n", o->psk_file,
		    r == WH_ERR_PERMISSION  ? "readable by others; "
		                              "chmod 600 it" :
		        r == WH_ERR_CORRUPT ? "not a wharf key file" :
		                              wh_strerror(r));
		return r;
	}
	*have = 1;
	return 0;
}

int
client_keyscan(const struct client_target *t, const struct client_opts *o,
    uint8_t pk[KEYS_HOST_PK_LEN])
{
	struct hs_client hc;
	struct hs_result res;
	struct wire_io *io = NULL;
	uint8_t psk[KEYS_PSK_LEN];
	char why[HS_WHY_MAX], hostport[NETADDR_STR_MAX];
	int fd, r, have_psk;

	memset(&hc, 0, sizeof(hc));
	memset(&res, 0, sizeof(res));
	netaddr_format_host(t->host, t->port, hostport, sizeof(hostport));
	if ((r = load_psk(o, psk, &have_psk)) != 0 || (r = dial(t, &fd)) != 0)
		return r;
	if ((io = wire_io_new(fd)) == NULL) {
		close(fd);
		return WH_ERR_NOMEM;
	}
	wire_io_set_timeout(io, CLIENT_CONNECT_TIMEOUT_MS);
	/* The signature over the transcript is checked before the key is
	 * shown: a key that does not sign is not the server's. */
	if ((r = hs_client_init(
	         &hc, have_psk ? psk : NULL, 0, WIRE_FEATURES_ALL)) != 0 ||
	    (r = hs_client_run(io, &hc, &res, why, sizeof(why))) != 0)
		fprintf(stderr, "wharf: %s: %s\n", hostport, why);
	else
		memcpy(pk, res.host_pk, KEYS_HOST_PK_LEN);
	hs_result_wipe(&res);
	hs_client_cleanup(&hc);
	sodium_memzero(psk, sizeof(psk));
	wire_io_free(io);
	return r;
}

int
client_open(const struct client_target *t, const struct client_opts *o,
    struct client **out)
{
	return open_as(t, o, NULL, out);
}

int
client_join(const struct client *main, struct client **out)
{
	struct client_opts o = main->opts;

	if (!main->have_token)
		return WH_ERR_UNSUPPORTED;
	o.quiet = 1;
	return open_as(&main->target, &o, main->token, out);
}

/* What the handshake offers: every feature, and AES-256-GCM when it was
 * asked for and this CPU can run it fast. */
static uint64_t
client_features(const struct client_opts *o)
{
	uint64_t f = WIRE_FEATURES_ALL;

	if (o->cipher == SEAL_AES256GCM && !o->plaintext && accel_have_aes())
		f |= WIRE_FEAT_AES256GCM;
	return f;
}

static int
open_as(const struct client_target *t, const struct client_opts *o,
    const uint8_t *token, struct client **out)
{
	struct client *c = NULL;
	struct hs_client hc;
	struct hs_result res;
	struct wire_io *io;
	uint8_t psk[KEYS_PSK_LEN];
	char why[HS_WHY_MAX];
	int fd = -1, r, have_psk = 0;

	*out = NULL;
	memset(&hc, 0, sizeof(hc));
	if ((r = load_psk(o, psk, &have_psk)) != 0)
		return r;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = WH_ERR_NOMEM;
		goto out;
	}
	c->target = *t;
	c->opts = *o;
	netaddr_format_host(t->host, t->port, c->hostport, sizeof(c->hostport));
	if ((r = dial(t, &fd)) != 0)
		goto out;
	if ((io = wire_io_new(fd)) == NULL) {
		close(fd);
		r = WH_ERR_NOMEM;
		goto out;
	}
	if ((c->ch = channel_new(io)) == NULL) {
		wire_io_free(io);
		r = WH_ERR_NOMEM;
		goto out;
	}
	wire_io_set_timeout(io, CLIENT_CONNECT_TIMEOUT_MS);
	if ((r = hs_client_init(&hc, have_psk ? psk : NULL, o->plaintext,
	         client_features(o))) != 0 ||
	    (r = hs_client_run(io, &hc, &res, why, sizeof(why))) != 0) {
		fprintf(stderr, "wharf: %s: %s\n", c->hostport, why);
		goto out;
	}
	if ((r = check_host_key(c, res.host_pk, o->quiet)) != 0) {
		hs_result_wipe(&res);
		goto out;
	}
	if ((r = channel_start(c->ch, &res)) != 0) {
		fprintf(stderr, "wharf: %s: cannot seal with %s: %s\n",
		    c->hostport, seal_cipher_name(res.cipher), wh_strerror(r));
		hs_result_wipe(&res);
		goto out;
	}
	c->plaintext = res.plaintext;
	c->features = res.features;
	c->cipher = res.plaintext ? SEAL_SECRETBOX : res.cipher;
	if (hash_alg_from_wire((Wharf__HashAlg)res.send_hash, res.features,
	        &c->server_hash) != 0)
		c->server_hash = HASH_BLAKE2B;
	if (!c->plaintext && o->cipher != c->cipher && !o->quiet &&
	    token == NULL)
		fprintf(stderr, "wharf: %s: sealed with %s (%s)\n", c->hostport,
		    seal_cipher_name(c->cipher),
		    accel_have_aes() ? "the server did not choose aes256gcm" :
		                       "this CPU has no AES instructions");
	memcpy(c->transcript, res.transcript, sizeof(c->transcript));
	hs_result_wipe(&res);
	if (c->plaintext && !o->quiet)
		fprintf(stderr,
		    "wharf: WARNING: unencrypted session: the "
		    "password and all data are visible on the network\n");
	wire_io_set_timeout(io, CLIENT_REPLY_TIMEOUT_MS);
	if (token != NULL) {
		memcpy(c->token, token, sizeof(c->token));
		c->have_token = 1;
	}
	if ((r = token != NULL ? join(c, token) : login(c)) != 0) {
		if (c->errmsg[0])
			fprintf(
			    stderr, "wharf: %s: %s\n", c->hostport, c->errmsg);
		goto out;
	}
	channel_set_limit(c->ch, WIRE_FRAME_MAX);
	if (getenv("WHARF_PASSCODE") != NULL)
		snprintf(c->passcode, sizeof(c->passcode), "%s",
		    getenv("WHARF_PASSCODE"));
	*out = c;
	c = NULL;
out:
	sodium_memzero(psk, sizeof(psk));
	hs_client_cleanup(&hc);
	client_close(c);
	return r;
}

void
client_close(struct client *c)
{
	if (c == NULL)
		return;
	channel_free(c->ch);
	sodium_memzero(c->passcode, sizeof(c->passcode));
	sodium_memzero(c->token, sizeof(c->token));
	free(c);
}

void
client_note_error(struct client *c, const Wharf__Error *e)
{
	char clean[CLIENT_ERRMSG_MAX];

	text_clean(clean, sizeof(clean), e->message);
	snprintf(c->errmsg, sizeof(c->errmsg), "%s",
	    clean[0] ? clean : msg_code_text(e->code));
	if (e->code == WHARF__ERROR_CODE__PERMISSION &&
	    strstr(e->message, "passcode") != NULL)
		c->need_passcode = 1;
}

ProtobufCBinaryData
client_passcode(const struct client *c)
{
	return msg_bytes(c->passcode);
}

int
client_call(struct client *c, Wharf__Envelope *req, Wharf__Envelope **resp,
    int (*on_part)(void *arg, const Wharf__Envelope *part), void *arg)
{
	Wharf__Envelope *env = NULL;
	uint32_t id;
	int r;

	*resp = NULL;
	c->errmsg[0] = '\0';
	if (c->lost) {
		snprintf(c->errmsg, sizeof(c->errmsg), "not connected");
		return WH_ERR_EOF;
	}
	id = ++c->next_id;
	if (id == 0)
		id = ++c->next_id;
	req->id = id;
	if ((r = channel_send(c->ch, req)) != 0)
		goto lost;
	for (;;) {
		if ((r = channel_recv(c->ch, &env)) != 0)
			goto lost;
		if (env->id == 0 &&
		    env->body_case == WHARF__ENVELOPE__BODY_ERROR) {
			/* The server speaks for the whole connection. */
			client_note_error(c, env->error);
			r = msg_err_from_code(env->error->code);
			msg_free(env);
			if (r == WH_ERR_TIMEOUT || r == WH_ERR_PROTOCOL) {
				c->lost = 1;
				return r;
			}
			continue;
		}
		if (env->id != id) {
			/* Stray answer to an abandoned request. */
			msg_free(env);
			continue;
		}
		if (env->body_case == WHARF__ENVELOPE__BODY_LIST_PART &&
		    !env->list_part->done) {
			r = on_part != NULL ? on_part(arg, env) : 0;
			msg_free(env);
			if (r != 0)
				return r;
			continue;
		}
		break;
	}
	if (env->body_case == WHARF__ENVELOPE__BODY_ERROR) {
		client_note_error(c, env->error);
		r = msg_err_from_code(env->error->code);
		msg_free(env);
		return r;
	}
	*resp = env;
	return 0;
lost:
	c->lost = 1;
	snprintf(c->errmsg, sizeof(c->errmsg), "connection lost: %s",
	    r == WH_ERR_AUTH ? "a frame failed authentication" :
	                       wh_strerror(r));
	return r;
}
