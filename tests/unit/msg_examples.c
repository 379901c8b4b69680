/* SPDX-License-Identifier: MIT */
/*
 * One fixed, valid example of every message body, for the msg_validate
 * tests (test_msg.c) and the golden encodings in tests/vectors/msgs.txt
 * (test_vectors.c). Every byte is fixed, so the encodings never change
 * unless the protocol does. Keys, digests, tokens and stripe ids are
 * filled with one repeated byte each, so a reader can spot them.
 */
#include <string.h>

#include "wharf/msg.h"
#include "wharf/wire.h"

#include "suites.h"

#define FILL_KEY 0x11
#define FILL_SIG 0x22
#define FILL_CONFIRM 0x33
#define FILL_DIGEST 0x44
#define FILL_TOKEN 0x55
#define FILL_STRIPE 0x66

static uint8_t key[WIRE_KEY_LEN], sig[WIRE_SIG_LEN], confirm[WIRE_CONFIRM_LEN];
static uint8_t digest[WIRE_DIGEST_LEN], token[WIRE_TOKEN_LEN];
static uint8_t stripe[WIRE_STRIPE_ID_LEN];
static uint8_t core[] = { 0x08, 0x01 }; /* ServerHelloCore{version: 1} */
static char software[] = "wharf 0.1.0";
static char message[] = "no such file";

static Wharf__ClientHello client_hello = WHARF__CLIENT_HELLO__INIT;
static Wharf__ServerHello server_hello = WHARF__SERVER_HELLO__INIT;
static Wharf__Auth auth = WHARF__AUTH__INIT;
static Wharf__AuthOk auth_ok = WHARF__AUTH_OK__INIT;
static Wharf__Error error = WHARF__ERROR__INIT;
static Wharf__Ok ok = WHARF__OK__INIT;
static Wharf__ListReq list = WHARF__LIST_REQ__INIT;
static Wharf__FileInfo infos[2] = { WHARF__FILE_INFO__INIT,
	WHARF__FILE_INFO__INIT };
static Wharf__FileInfo *info_ptrs[2] = { &infos[0], &infos[1] };
static Wharf__ListPart list_part = WHARF__LIST_PART__INIT;
static Wharf__StatReq stat_req = WHARF__STAT_REQ__INIT;
static Wharf__FileInfo stat_info = WHARF__FILE_INFO__INIT;
static Wharf__StatReply stat_reply = WHARF__STAT_REPLY__INIT;
static Wharf__CdReq cd = WHARF__CD_REQ__INIT;
static Wharf__PwdReq pwd = WHARF__PWD_REQ__INIT;
static Wharf__CwdReply cwd = WHARF__CWD_REPLY__INIT;
static Wharf__MkdirReq mkdir_req = WHARF__MKDIR_REQ__INIT;
static Wharf__RmdirReq rmdir_req = WHARF__RMDIR_REQ__INIT;
static Wharf__RemoveReq remove_req = WHARF__REMOVE_REQ__INIT;
static Wharf__RenameReq rename_req = WHARF__RENAME_REQ__INIT;
static Wharf__StatFsReq statfs_req = WHARF__STAT_FS_REQ__INIT;
static Wharf__StatFsReply statfs_reply = WHARF__STAT_FS_REPLY__INIT;
static Wharf__ChmodReq chmod_req = WHARF__CHMOD_REQ__INIT;
static Wharf__Ping ping = WHARF__PING__INIT;
static Wharf__Pong pong = WHARF__PONG__INIT;
static Wharf__PutOpen put_open = WHARF__PUT_OPEN__INIT;
static Wharf__PutReady put_ready = WHARF__PUT_READY__INIT;
static Wharf__Chunk chunk = WHARF__CHUNK__INIT;
static Wharf__PutEnd put_end = WHARF__PUT_END__INIT;
static Wharf__PutDone put_done = WHARF__PUT_DONE__INIT;
static Wharf__GetReq get = WHARF__GET_REQ__INIT;
static Wharf__GetInfo get_info = WHARF__GET_INFO__INIT;
static Wharf__GetEnd get_end = WHARF__GET_END__INIT;
static Wharf__SumReq sum = WHARF__SUM_REQ__INIT;
static Wharf__SumReply sum_reply = WHARF__SUM_REPLY__INIT;
static Wharf__Cancel cancel = WHARF__CANCEL__INIT;
static Wharf__Probe probe = WHARF__PROBE__INIT;
static Wharf__ProbeReply probe_reply = WHARF__PROBE_REPLY__INIT;
static Wharf__ProtectReq protect = WHARF__PROTECT_REQ__INIT;
static Wharf__UnprotectReq unprotect = WHARF__UNPROTECT_REQ__INIT;
static Wharf__BlockRef blocks[2] = { WHARF__BLOCK_REF__INIT,
	WHARF__BLOCK_REF__INIT };
static Wharf__BlockRef *block_ptrs[2] = { &blocks[0], &blocks[1] };
static Wharf__DeltaIndex delta_index = WHARF__DELTA_INDEX__INIT;
static Wharf__Join join = WHARF__JOIN__INIT;
static Wharf__StripeCommit stripe_commit = WHARF__STRIPE_COMMIT__INIT;

static struct tu_example examples[TU_EXAMPLES_MAX];
static size_t nexamples;

static ProtobufCBinaryData
bin(uint8_t *p, size_t n)
{
	ProtobufCBinaryData b = { n, p };

	return b;
}

static void
add(const char *name, Wharf__Envelope__BodyCase body, void *msg)
{
	struct tu_example *x = &examples[nexamples++];
	Wharf__Envelope init = WHARF__ENVELOPE__INIT;

	x->name = name;
	x->env = init;
	/* Requests and their answers carry an id; the handshake uses 0. */
	x->env.id = body == WHARF__ENVELOPE__BODY_CLIENT_HELLO ||
	        body == WHARF__ENVELOPE__BODY_SERVER_HELLO ?
	    0 :
	    7;
	x->env.body_case = body;
	/* Every body member is a pointer in the same union. */
	x->env.ok = msg;
}

static void
fill(void)
{
	memset(key, FILL_KEY, sizeof(key));
	memset(sig, FILL_SIG, sizeof(sig));
	memset(confirm, FILL_CONFIRM, sizeof(confirm));
	memset(digest, FILL_DIGEST, sizeof(digest));
	memset(token, FILL_TOKEN, sizeof(token));
	memset(stripe, FILL_STRIPE, sizeof(stripe));

	client_hello.min_version = 1;
	client_hello.max_version = 1;
	client_hello.features = WIRE_FEATURES_ALL;
	client_hello.ephemeral_key = bin(key, sizeof(key));
	client_hello.software = software;
	add("ClientHello", WHARF__ENVELOPE__BODY_CLIENT_HELLO, &client_hello);

	server_hello.core = bin(core, sizeof(core));
	server_hello.signature = bin(sig, sizeof(sig));
	server_hello.key_confirm = bin(confirm, sizeof(confirm));
	add("ServerHello", WHARF__ENVELOPE__BODY_SERVER_HELLO, &server_hello);

	auth.user = msg_bytes("alice");
	auth.password = msg_bytes("pw");
	add("Auth", WHARF__ENVELOPE__BODY_AUTH, &auth);

	auth_ok.user = msg_bytes("alice");
	auth_ok.cwd = msg_bytes("/");
	auth_ok.max_frame = WIRE_FRAME_MAX;
	auth_ok.session_token = bin(token, sizeof(token));
	add("AuthOk", WHARF__ENVELOPE__BODY_AUTH_OK, &auth_ok);

	error.code = WHARF__ERROR_CODE__NOT_FOUND;
	error.message = message;
	add("Error", WHARF__ENVELOPE__BODY_ERROR, &error);

	add("Ok", WHARF__ENVELOPE__BODY_OK, &ok);

	list.path = msg_bytes("docs");
	list.all = 1;
	add("ListReq", WHARF__ENVELOPE__BODY_LIST, &list);

	infos[0].name = msg_bytes("a.txt");
	infos[0].type = WHARF__FILE_TYPE__TYPE_FILE;
	infos[0].size = 5;
	infos[0].mtime_sec = 1700000000;
	infos[0].mtime_nsec = 500;
	infos[0].mode = 0644;
	infos[1].name = msg_bytes("sub");
	infos[1].type = WHARF__FILE_TYPE__TYPE_DIR;
	infos[1].mode = 0755;
	list_part.n_entries = 2;
	list_part.entries = info_ptrs;
	list_part.done = 1;
	add("ListPart", WHARF__ENVELOPE__BODY_LIST_PART, &list_part);

	stat_req.path = msg_bytes("a.txt");
	add("StatReq", WHARF__ENVELOPE__BODY_STAT, &stat_req);

	stat_info = infos[0];
	stat_reply.info = &stat_info;
	stat_reply.path = msg_bytes("/a.txt");
	add("StatReply", WHARF__ENVELOPE__BODY_STAT_REPLY, &stat_reply);

	cd.path = msg_bytes("docs");
	add("CdReq", WHARF__ENVELOPE__BODY_CD, &cd);
	add("PwdReq", WHARF__ENVELOPE__BODY_PWD, &pwd);
	cwd.cwd = msg_bytes("/docs");
	add("CwdReply", WHARF__ENVELOPE__BODY_CWD, &cwd);

	mkdir_req.path = msg_bytes("new/dir");
	mkdir_req.parents = 1;
	add("MkdirReq", WHARF__ENVELOPE__BODY_MKDIR, &mkdir_req);
	rmdir_req.path = msg_bytes("old");
	add("RmdirReq", WHARF__ENVELOPE__BODY_RMDIR, &rmdir_req);
	remove_req.path = msg_bytes("a.txt");
	remove_req.passcode = msg_bytes("secret");
	add("RemoveReq", WHARF__ENVELOPE__BODY_REMOVE, &remove_req);
	rename_req.from = msg_bytes("a.txt");
	rename_req.to = msg_bytes("b.txt");
	add("RenameReq", WHARF__ENVELOPE__BODY_RENAME, &rename_req);
	statfs_req.path = msg_bytes(".");
	add("StatFsReq", WHARF__ENVELOPE__BODY_STATFS, &statfs_req);
	statfs_reply.total = 1000000000;
	statfs_reply.free = 600000000;
	statfs_reply.avail = 500000000;
	statfs_reply.files = 65536;
	statfs_reply.files_free = 60000;
	statfs_reply.quota = 104857600;
	statfs_reply.used = 1048576;
	add("StatFsReply", WHARF__ENVELOPE__BODY_STATFS_REPLY, &statfs_reply);
	chmod_req.path = msg_bytes("a.txt");
	chmod_req.mode = 0640;
	add("ChmodReq", WHARF__ENVELOPE__BODY_CHMOD, &chmod_req);

	ping.payload = msg_bytes("ping");
	add("Ping", WHARF__ENVELOPE__BODY_PING, &ping);
	pong.payload = msg_bytes("ping");
	add("Pong", WHARF__ENVELOPE__BODY_PONG, &pong);

	put_open.path = msg_bytes("a.txt");
	put_open.size = 5;
	put_open.mtime_sec = 1700000000;
	put_open.mtime_nsec = 500;
	put_open.mode = 0644;
	put_open.chunk_size = 1048576;
	put_open.resume = 1;
	add("PutOpen", WHARF__ENVELOPE__BODY_PUT_OPEN, &put_open);

	put_ready.prefix_hash = bin(digest, sizeof(digest));
	add("PutReady", WHARF__ENVELOPE__BODY_PUT_READY, &put_ready);

	chunk.raw_len = 5;
	chunk.hash = bin(digest, sizeof(digest));
	chunk.data = msg_bytes("hello");
	add("Chunk", WHARF__ENVELOPE__BODY_CHUNK, &chunk);

	put_end.file_hash = bin(digest, sizeof(digest));
	add("PutEnd", WHARF__ENVELOPE__BODY_PUT_END, &put_end);

	put_done.size = 5;
	add("PutDone", WHARF__ENVELOPE__BODY_PUT_DONE, &put_done);

	get.path = msg_bytes("a.txt");
	get.chunk_size = 1048576;
	get.offset = 1048576;
	get.prefix_hash = bin(digest, sizeof(digest));
	add("GetReq", WHARF__ENVELOPE__BODY_GET, &get);

	get_info.size = 5;
	get_info.mtime_sec = 1700000000;
	get_info.mtime_nsec = 500;
	get_info.mode = 0644;
	get_info.chunk_size = 1048576;
	add("GetInfo", WHARF__ENVELOPE__BODY_GET_INFO, &get_info);

	get_end.file_hash = bin(digest, sizeof(digest));
	add("GetEnd", WHARF__ENVELOPE__BODY_GET_END, &get_end);

	sum.path = msg_bytes("a.txt");
	sum.hash = WHARF__HASH_ALG__HASH_SHA256;
	add("SumReq", WHARF__ENVELOPE__BODY_SUM, &sum);
	sum_reply.hash = bin(digest, sizeof(digest));
	sum_reply.size = 5;
	add("SumReply", WHARF__ENVELOPE__BODY_SUM_REPLY, &sum_reply);

	cancel.target = 6;
	add("Cancel", WHARF__ENVELOPE__BODY_CANCEL, &cancel);
	probe.reply_size = 16;
	probe.payload = msg_bytes("probe");
	add("Probe", WHARF__ENVELOPE__BODY_PROBE, &probe);
	probe_reply.payload = msg_bytes("probe");
	add("ProbeReply", WHARF__ENVELOPE__BODY_PROBE_REPLY, &probe_reply);

	protect.path = msg_bytes("a.txt");
	protect.passcode = msg_bytes("new secret");
	add("ProtectReq", WHARF__ENVELOPE__BODY_PROTECT, &protect);
	unprotect.path = msg_bytes("a.txt");
	unprotect.passcode = msg_bytes("new secret");
	add("UnprotectReq", WHARF__ENVELOPE__BODY_UNPROTECT, &unprotect);

	blocks[0].len = 8192;
	blocks[0].hash = bin(digest, sizeof(digest));
	blocks[1].len = 100;
	blocks[1].hash = bin(digest, sizeof(digest));
	delta_index.n_blocks = 2;
	delta_index.blocks = block_ptrs;
	delta_index.done = 1;
	delta_index.cdc_shift = 13;
	add("DeltaIndex", WHARF__ENVELOPE__BODY_DELTA_INDEX, &delta_index);

	join.token = bin(token, sizeof(token));
	add("Join", WHARF__ENVELOPE__BODY_JOIN, &join);

	stripe_commit.stripe = bin(stripe, sizeof(stripe));
	stripe_commit.file_hash = bin(digest, sizeof(digest));
	add("StripeCommit", WHARF__ENVELOPE__BODY_STRIPE_COMMIT,
	    &stripe_commit);
}

size_t
tu_msg_examples(const struct tu_example **out)
{
	if (nexamples == 0)
		fill();
	*out = examples;
	return nexamples;
}
