/* SPDX-License-Identifier: MIT */
/*
 * df, quota and chmod: the shell's questions about space, and the one
 * metadata change it makes by hand. Each is one request (StatFsReq,
 * ChmodReq); a server too old for them answers UNSUPPORTED, which is said
 * in those words.
 */
#include <stdio.h>
#include <string.h>

#include "wharf/cli.h"
#include "wharf/text.h"
#include "wharf/msg.h"

void
cli_human_size(uint64_t n, char *out, size_t outlen)
{
	static const char units[] = "KMGTPE";
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(out, outlen, "%llu", (unsigned long long)n);
		return;
	}
	while (v >= 1024 && u < (int)sizeof(units) - 2) {
		v /= 1024;
		u++;
	}
	/* One decimal below 10, as ls -h prints "1.5K" but "12K". */
	if (v < 10)
		snprintf(out, outlen, "%.1f%c", v, units[u]);
	else
		snprintf(out, outlen, "%.0f%c", v, units[u]);
}

static int
unsupported(struct cli *cli, const char *cmd, int r)
{
	if (r == WH_ERR_UNSUPPORTED)
		snprintf(cli->c->errmsg, sizeof(cli->c->errmsg),
		    "the server does not support %s", cmd);
	return r;
}

static int
statfs_call(
    struct cli *cli, const char *cmd, const char *path, Wharf__StatFsReply *out)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__StatFsReq sr = WHARF__STAT_FS_REQ__INIT;
	int r;

	sr.path = msg_bytes(path);
	req.body_case = WHARF__ENVELOPE__BODY_STATFS;
	req.statfs = &sr;
	if ((r = client_call(cli->c, &req, &resp, NULL, NULL)) != 0)
		return unsupported(cli, cmd, r);
	if (resp->body_case != WHARF__ENVELOPE__BODY_STATFS_REPLY) {
		msg_free(resp);
		return WH_ERR_PROTOCOL;
	}
	*out = *resp->statfs_reply;
	msg_free(resp);
	return 0;
}

static void
size_cell(uint64_t n, int human, char *out, size_t outlen)
{
	if (human)
		cli_human_size(n, out, outlen);
	else
		/* KiB, as sftp's df and df(1) count. */
		snprintf(out, outlen, "%llu", (unsigned long long)(n / 1024));
}

static unsigned
percent(uint64_t part, uint64_t whole)
{
	return whole == 0 ? 0 : (unsigned)((part * 100 + whole - 1) / whole);
}

int
cli_df(struct cli *cli, int argc, char **argv)
{
	Wharf__StatFsReply sf;
	char size[32], used[32], avail[32], clean[CLIENT_PATH_MAX];
	const char *path;
	uint64_t fs_used, room;
	int first, flags, r, human;

	if ((first = cli_parse_flags(argc, argv, "h", &flags)) < 0 ||
	    argc - first > 1)
		return cli_usage_fail("df", "[-h] [PATH]");
	human = flags & 1;
	path = first < argc ? argv[first] : ".";
	if ((r = statfs_call(cli, "df", path, &sf)) != 0)
		return cli_remote_fail(cli, "df", path, r);
	fs_used = sf.total > sf.free ? sf.total - sf.free : 0;
	/* What the user may still store: the filesystem's room, or less
	 * where a quota ends first. */
	room = sf.avail;
	if (sf.quota > 0)
		room = sf.used >= sf.quota    ? 0 :
		    sf.quota - sf.used < room ? sf.quota - sf.used :
		                                room;
	if (cli->json) {
		printf("{\"path\":");
		cli_json_str(stdout, path);
		printf(",\"size\":%llu,\"used\":%llu,\"avail\":%llu,"
		       "\"free\":%llu,\"files\":%llu,\"files_free\":%llu,"
		       "\"quota\":",
		    (unsigned long long)sf.total, (unsigned long long)fs_used,
		    (unsigned long long)sf.avail, (unsigned long long)sf.free,
		    (unsigned long long)sf.files,
		    (unsigned long long)sf.files_free);
		if (sf.quota > 0)
			printf("%llu", (unsigned long long)sf.quota);
		else
			printf("null");
		printf(",\"room\":%llu}\n", (unsigned long long)room);
		return EXIT_OK;
	}
	size_cell(sf.total, human, size, sizeof(size));
	size_cell(fs_used, human, used, sizeof(used));
	size_cell(sf.avail, human, avail, sizeof(avail));
	printf("%12s %12s %12s %9s  %s\n", human ? "Size" : "1K-blocks", "Used",
	    "Avail", "%Capacity", "Path");
	printf("%12s %12s %12s %8u%%  %s\n", size, used, avail,
	    percent(fs_used, fs_used + sf.avail),
	    text_clean(clean, sizeof(clean), path));
	if (sf.quota > 0) {
		size_cell(sf.quota, human, size, sizeof(size));
		size_cell(sf.used, human, used, sizeof(used));
		size_cell(room, human, avail, sizeof(avail));
		printf("%12s %12s %12s %8u%%  (your quota)\n", size, used,
		    avail, percent(sf.used, sf.quota));
	}
	return EXIT_OK;
}

int
cli_quota(struct cli *cli, int argc, char **argv)
{
	Wharf__StatFsReply sf;
	char used[32], limit[32];
	int first, flags, r;

	if ((first = cli_parse_flags(argc, argv, "h", &flags)) < 0 ||
	    first != argc)
		return cli_usage_fail("quota", "[-h]");
	if ((r = statfs_call(cli, "quota", "/", &sf)) != 0)
		return cli_remote_fail(cli, "quota", NULL, r);
	if (cli->json) {
		if (sf.quota > 0)
			printf(
			    "{\"used\":%llu,\"quota\":%llu,\"avail\":%llu}\n",
			    (unsigned long long)sf.used,
			    (unsigned long long)sf.quota,
			    (unsigned long long)(sf.used < sf.quota ?
			            sf.quota - sf.used :
			            0));
		else
			printf("{\"used\":null,\"quota\":null}\n");
		return EXIT_OK;
	}
	if (sf.quota == 0) {
		printf("no quota\n");
		return EXIT_OK;
	}
	if (flags & 1) {
		cli_human_size(sf.used, used, sizeof(used));
		cli_human_size(sf.quota, limit, sizeof(limit));
	} else {
		snprintf(
		    used, sizeof(used), "%llu", (unsigned long long)sf.used);
		snprintf(
		    limit, sizeof(limit), "%llu", (unsigned long long)sf.quota);
	}
	printf(
	    "%s of %s used (%u%%)\n", used, limit, percent(sf.used, sf.quota));
	return EXIT_OK;
}

/* Octal only, as sftp's chmod: 0 to 0777. */
static int
parse_mode(const char *s, uint32_t *out)
{
	uint32_t m = 0;

	if (*s == '\0' || strlen(s) > 4)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '7')
			return -1;
		m = m * 8 + (uint32_t)(*s - '0');
	}
	*out = m;
	return 0;
}

int
cli_chmod(struct cli *cli, int argc, char **argv)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__ChmodReq cr = WHARF__CHMOD_REQ__INIT;
	char **v;
	uint32_t mode;
	int k, n, r, bad, status = EXIT_OK;

	if (argc < 3 || parse_mode(argv[1], &mode) != 0)
		return cli_usage_fail("chmod",
		    "MODE PATH... (MODE octal, "
		    "at most 0777)");
	if (mode > 0777) {
		fprintf(stderr,
		    "wharf: chmod %s: only permission bits (0777) can be "
		    "set\n",
		    argv[1]);
		return EXIT_USAGE;
	}
	if ((r = cli_expand_args(cli, argv + 2,
	         cli->pat != NULL ? cli->pat + 2 : NULL, argc - 2, &v, &n,
	         &bad)) != 0)
		return cli_remote_fail(
		    cli, "chmod", bad >= 0 ? argv[2 + bad] : NULL, r);
	for (k = 0; k < n; k++) {
		cr.path = msg_bytes(v[k]);
		cr.mode = mode;
		req.body_case = WHARF__ENVELOPE__BODY_CHMOD;
		req.chmod = &cr;
		if ((r = client_call(cli->c, &req, &resp, NULL, NULL)) != 0) {
			status = cli_remote_fail(
			    cli, "chmod", v[k], unsupported(cli, "chmod", r));
			if (status == EXIT_CONNECT)
				break;
			continue;
		}
		msg_free(resp);
	}
	cli_free_list(v, n);
	return status;
}
