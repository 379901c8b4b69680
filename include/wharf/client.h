/* SPDX-License-Identifier: MIT */
/*
 * Client connection: connect, handshake, pin the host key, log in, and
 * request/response calls with ids. Errors leave one line for the user in
 * client->errmsg.
 */
#ifndef WHARF_CLIENT_H
#define WHARF_CLIENT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "wharf.pb-c.h"
#include "wharf/channel.h"
#include "wharf/err.h"
#include "wharf/hash.h"
#include "wharf/netaddr.h"
#include "wharf/wire.h"

#define CLIENT_CONNECT_TIMEOUT_MS 10000
#define CLIENT_REPLY_TIMEOUT_MS 120000
#define CLIENT_ERRMSG_MAX 512
#define CLIENT_PASSCODE_MAX 1024
/* Room for a remote path and its NUL. */
#define CLIENT_PATH_MAX (WIRE_PATH_MAX + 1)

/* Exit statuses of the client commands. */
#define EXIT_OK 0
#define EXIT_REMOTE 1
#define EXIT_USAGE 2
#define EXIT_CONNECT 3

struct client_target {
	char user[WIRE_USER_MAX + 1];
	char host[NETADDR_HOST_MAX]; /* to connect to: after HostName */
	uint16_t port;
	char alias[NETADDR_HOST_MAX]; /* as typed: what Host blocks match */
	int user_given; /* "USER@" was given */
	int port_given; /* ":PORT" was given */
};

/* -o KEY=VALUE options one command may give. */
#define CLIENT_OVERRIDES_MAX 32

/* What to do with a server whose key is not in known_hosts. */
enum host_key_policy {
	HOST_KEY_DEFAULT = 0, /* ask on a terminal, else accept-new */
	HOST_KEY_ASK, /* show the fingerprint, ask yes/no */
	HOST_KEY_ACCEPT_NEW, /* pin it and say so */
	HOST_KEY_STRICT, /* refuse: keys are pinned ahead of time */
};

/* Copied by value into each connection (joins reuse it): no pointers
 * into itself, only into argv. */
struct client_opts {
	char psk_file[PATH_MAX]; /* "" for none */
	char identity_file[PATH_MAX]; /* -i / IdentityFile, "" for none */
	int plaintext;
	int cipher; /* enum seal_cipher asked for (--cipher) */
	int quiet; /* no notices (pinning, plaintext warning) */
	uint16_t port; /* -P, 0: none */
	int host_key_policy; /* enum host_key_policy */
	const char *config_file; /* -F: instead of the user's and system's */
	const char *overrides[CLIENT_OVERRIDES_MAX]; /* -o */
	int noverrides;
};

struct client {
	struct channel *ch;
	uint32_t next_id;
	struct client_target target;
	char hostport[NETADDR_STR_MAX];
	int read_only;
	int plaintext;
	uint32_t idle_timeout; /* seconds, from AuthOk; 0: not announced */
	uint64_t features; /* negotiated feature bits */
	int cipher; /* enum seal_cipher of a sealed session */
	enum hash_alg server_hash; /* what the server prefers to send */
	char cwd[CLIENT_PATH_MAX];
	char errmsg[CLIENT_ERRMSG_MAX];
	int lost; /* the connection is gone */
	char passcode[CLIENT_PASSCODE_MAX + 1]; /* for protected files */
	struct client_opts opts; /* as opened: for joining */
	uint8_t token[WIRE_TOKEN_LEN]; /* the session's, from AuthOk */
	int have_token;
	int need_passcode; /* the last refusal asked for one */
	uint8_t transcript[32]; /* the handshake's TH: key logins sign it */
};

/*
 * Parses a server: "[USER@]HOST[:PORT]" or "wharf://[USER@]HOST[:PORT]";
 * USER defaults to the login name (address.h has the rules, and the parser
 * of remote paths). WH_ERR_INVALID_ARG with a message on stderr for bad
 * input, or for an argument that names a file rather than a server.
 */
int client_target_parse(const char *s, struct client_target *t) WH_MUST_CHECK;

/*
 * Connects, verifies or pins the server's key, and logs in with the
 * password from WHARF_PASSWORD or a no-echo prompt. Returns 0 and a new
 * client in *out, or an error with the reason printed on stderr.
 */
int client_open(const struct client_target *t, const struct client_opts *o,
    struct client **out) WH_MUST_CHECK;
void client_close(struct client *c);

/* The host key of t, from a handshake (signature checked) without a
 * login: what `wharf keyscan` prints. */
int client_keyscan(const struct client_target *t, const struct client_opts *o,
    uint8_t pk[32]) WH_MUST_CHECK;

/*
 * Opens one more connection to the same server in the same session (a
 * Join with the session token instead of a password), for striping.
 */
int client_join(const struct client *main, struct client **out) WH_MUST_CHECK;

/* Notes what an Error from the server means for the client (a passcode
 * needed, say) and keeps its text in c->errmsg. */
void client_note_error(struct client *c, const Wharf__Error *e);

/* The passcode field for a request: empty when none is set. */
ProtobufCBinaryData client_passcode(const struct client *c);

/*
 * Ctrl-C during a command: armed, SIGINT only raises a flag that long
 * operations poll (a transfer then stops cleanly, partial kept).
 */
void client_interrupt_arm(void);
void client_interrupt_disarm(void);
int client_interrupted(void);

/* $XDG_CONFIG_HOME/wharf/NAME (or ~/.config/wharf/NAME; the folder
 * itself for NULL): where the client keeps its files. WH_ERR_NOT_FOUND
 * with neither variable set. */
int
client_config_file(const char *name, char *out, size_t outlen) WH_MUST_CHECK;
/* The known_hosts path: $XDG_CONFIG_HOME/wharf/known_hosts. */
int client_known_hosts_path(char *out, size_t outlen) WH_MUST_CHECK;

/*
 * Sends req with a fresh id and waits for its final response (*resp,
 * free with msg_free). An Error response gives WH_ERR_REMOTE-family codes
 * (msg_err_from_code) with the server's text in c->errmsg. Non-final
 * ListPart frames are passed to on_part when given.
 */
int client_call(struct client *c, Wharf__Envelope *req, Wharf__Envelope **resp,
    int (*on_part)(void *arg, const Wharf__Envelope *part),
    void *arg) WH_MUST_CHECK;

#endif
