/* SPDX-License-Identifier: MIT */
/*
 * `ping`: round trips through the real, sealed channel (min, avg, max,
 * standard deviation, loss), then a short throughput probe each way
 * (payloads the peer discards). Summary as a table, or JSON, and one CSV
 * row per run for plotting over time.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wharf/clock.h"
#include "wharf/cli.h"
#include "wharf/client_config.h"
#include "wharf/msg.h"
#include "wharf/strnum.h"

#define PING_TIMEOUT_MS 2000
#define PING_INTERVAL_MS 100
#define PING_PAYLOAD 56
#define PROBE_FRAMES 4
#define PROBE_FRAME_BYTES (1u << 20)
#define PING_CSV_HEADER \
	"timestamp,host,samples,min_ms,avg_ms,max_ms,stddev_ms,loss_pct," \
	"up_mb_s,down_mb_s\n"

struct ping_result {
	int sent;
	int received;
	double min_ms, avg_ms, max_ms, stddev_ms;
	double up_mbs, down_mbs;
};

/* Waits for the answer to id; others (late answers) are dropped. A
 * timeout is a lost reply, not a lost connection. */
static int
await(struct client *c, uint32_t id, int timeout_ms, Wharf__Envelope **out)
{
	struct wire_io *io = channel_io(c->ch);
	double deadline = clock_mono_sec() + timeout_ms / 1000.0;
	Wharf__Envelope *env;
	int r, left;

	*out = NULL;
	for (;;) {
		left = (int)((deadline - clock_mono_sec()) * 1000.0);
		if (left <= 0)
			return WH_ERR_TIMEOUT;
		wire_io_set_timeout(io, left);
		r = channel_recv(c->ch, &env);
		wire_io_set_timeout(io, CLIENT_REPLY_TIMEOUT_MS);
		if (r == WH_ERR_TIMEOUT)
			return r;
		if (r != 0) {
			c->lost = 1;
			return r;
		}
		if (env->id == id) {
			*out = env;
			return env->body_case == WHARF__ENVELOPE__BODY_ERROR ?
			    WH_ERR_REMOTE :
			    0;
		}
		msg_free(env);
	}
}

static int
send_env(struct client *c, Wharf__Envelope *env)
{
	int r;

	env->id = ++c->next_id;
	if ((r = channel_send(c->ch, env)) != 0)
		c->lost = 1;
	return r;
}

static int
latency(struct client *c, int count, struct ping_result *res)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT, *reply;
	Wharf__Ping ping = WHARF__PING__INIT;
	uint8_t payload[PING_PAYLOAD];
	double t0, ms, sum = 0, sumsq = 0;
	int i, r;

	memset(payload, 0xa5, sizeof(payload));
	res->min_ms = INFINITY;
	res->max_ms = 0;
	for (i = 0; i < count && !client_interrupted(); i++) {
		if (i > 0)
			clock_sleep_ms(PING_INTERVAL_MS);
		memcpy(payload, &i, sizeof(i));
		ping.payload.data = payload;
		ping.payload.len = sizeof(payload);
		env.body_case = WHARF__ENVELOPE__BODY_PING;
		env.ping = &ping;
		t0 = clock_mono_sec();
		if ((r = send_env(c, &env)) != 0)
			return r;
		res->sent++;
		r = await(c, env.id, PING_TIMEOUT_MS, &reply);
		ms = (clock_mono_sec() - t0) * 1000.0;
		if (r == 0 && reply->body_case == WHARF__ENVELOPE__BODY_PONG &&
		    reply->pong->payload.len == sizeof(payload) &&
		    memcmp(reply->pong->payload.data, payload,
		        sizeof(payload)) == 0) {
			res->received++;
			sum += ms;
			sumsq += ms * ms;
			res->min_ms = ms < res->min_ms ? ms : res->min_ms;
			res->max_ms = ms > res->max_ms ? ms : res->max_ms;
		}
		msg_free(reply);
		if (c->lost)
			return r;
	}
	if (res->received > 0) {
		res->avg_ms = sum / res->received;
		res->stddev_ms = sqrt(fmax(
		    0.0, sumsq / res->received - res->avg_ms * res->avg_ms));
	} else
		res->min_ms = 0;
	return 0;
}

/* Sends PROBE_FRAMES probes at once and waits for all: MB/s of the
 * direction that carries the payload. */
static int
throughput(struct client *c, int up, double *mbs)
{
	Wharf__Envelope env = WHARF__ENVELOPE__INIT, *reply;
	Wharf__Probe probe = WHARF__PROBE__INIT;
	uint32_t ids[PROBE_FRAMES];
	uint8_t *payload = NULL;
	double t0;
	int i, r = 0;

	*mbs = 0;
	if (up && (payload = calloc(1, PROBE_FRAME_BYTES)) == NULL)
		return WH_ERR_NOMEM;
	if (up)
		randombytes_buf(payload, PROBE_FRAME_BYTES);
	probe.reply_size = up ? 0 : PROBE_FRAME_BYTES;
	probe.payload.data = payload;
	probe.payload.len = up ? PROBE_FRAME_BYTES : 0;
	env.body_case = WHARF__ENVELOPE__BODY_PROBE;
	env.probe = &probe;
	t0 = clock_mono_sec();
	for (i = 0; i < PROBE_FRAMES && r == 0; i++) {
		r = send_env(c, &env);
		ids[i] = env.id;
	}
	for (i = 0; i < PROBE_FRAMES && r == 0; i++) {
		r = await(c, ids[i], CLIENT_REPLY_TIMEOUT_MS, &reply);
		msg_free(reply);
	}
	free(payload);
	if (r == 0)
		*mbs = (double)PROBE_FRAMES * PROBE_FRAME_BYTES / 1e6 /
		    (clock_mono_sec() - t0);
	return r;
}

static int
append_csv(const char *path, const char *host, const struct ping_result *p)
{
	char stamp[32], row[512];
	struct timespec ts;
	struct stat sb;
	struct tm tm;
	int fd, n, r = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(row, sizeof(row),
	    "%s,%s,%d,%.3f,%.3f,%.3f,%.3f,%.1f,"
	    "%.2f,%.2f\n",
	    stamp, host, p->sent, p->min_ms, p->avg_ms, p->max_ms, p->stddev_ms,
	    p->sent ? 100.0 * (p->sent - p->received) / p->sent : 0.0,
	    p->up_mbs, p->down_mbs);
	if (n < 0 || (size_t)n >= sizeof(row))
		return WH_ERR_TOO_LARGE;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return WH_ERR_SYSTEM;
	if (fstat(fd, &sb) == 0 && sb.st_size == 0 &&
	    write(fd, PING_CSV_HEADER, strlen(PING_CSV_HEADER)) < 0)
		r = WH_ERR_SYSTEM;
	if (r == 0 && write(fd, row, (size_t)n) != n)
		r = WH_ERR_SYSTEM;
	close(fd);
	return r;
}

int
ping_run(struct cli *cli, int count, const char *csv_path)
{
	struct client *c = cli->c;
	struct ping_result res;
	double loss;
	int r;

	memset(&res, 0, sizeof(res));
	client_interrupt_arm();
	r = latency(c, count, &res);
	if (r == 0 && !client_interrupted())
		r = throughput(c, 1, &res.up_mbs);
	if (r == 0 && !client_interrupted())
		r = throughput(c, 0, &res.down_mbs);
	client_interrupt_disarm();
	if (r != 0 && c->lost) {
		fprintf(stderr, "wharf: ping: connection lost: %s\n",
		    wh_strerror(r));
		return EXIT_CONNECT;
	}
	loss = res.sent ? 100.0 * (res.sent - res.received) / res.sent : 0;
	if (cli->json) {
		printf("{\"host\":");
		cli_json_str(stdout, c->hostport);
		printf(
		    ",\"samples\":%d,\"received\":%d,\"min_ms\":%.3f,"
		    "\"avg_ms\":%.3f,\"max_ms\":%.3f,\"stddev_ms\":%.3f,"
		    "\"loss_pct\":%.1f,\"up_mb_s\":%.2f,\"down_mb_s\":%.2f}\n",
		    res.sent, res.received, res.min_ms, res.avg_ms, res.max_ms,
		    res.stddev_ms, loss, res.up_mbs, res.down_mbs);
	} else {
		printf("ping %s: %d samples\n", c->hostport, res.sent);
		printf("  latency   min %.3f ms  avg %.3f ms  max %.3f ms  "
		       "stddev %.3f ms\n",
		    res.min_ms, res.avg_ms, res.max_ms, res.stddev_ms);
		printf("  loss      %d/%d (%.1f%%)\n", res.sent - res.received,
		    res.sent, loss);
		printf("  up        %.1f MB/s\n  down      %.1f MB/s\n",
		    res.up_mbs, res.down_mbs);
	}
	fflush(stdout);
	if (csv_path != NULL && append_csv(csv_path, c->hostport, &res) != 0)
		fprintf(
		    stderr, "wharf: --csv %s: %s\n", csv_path, strerror(errno));
	return r == 0 && res.received == res.sent ? EXIT_OK : EXIT_REMOTE;
}

int
ping_main(int argc, char **argv)
{
	struct client_target target;
	const char *csv = NULL, *target_arg = NULL;
	struct cli cli;
	long count = 10;
	int i, r, status;

	memset(&cli, 0, sizeof(cli));
	for (i = 1; i < argc; i++) {
		if ((r = client_parse_conn_opt(&cli.opts, argc, argv, &i)) < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			if (strnum_long(argv[++i], 1, 100000, &count) != 0) {
				fprintf(stderr,
				    "wharf: ping: -n expects a "
				    "count from 1 to 100000\n");
				return EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc)
			csv = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			cli.json = 1;
		else if (strcmp(argv[i], "-q") == 0)
			cli.opts.quiet = 1;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			printf(
			    "usage: wharf ping [USER@]HOST[:PORT] [-n COUNT] "
			    "[--csv FILE] [--json]\n"
			    "                  [-P PORT] [-F FILE] [-o "
			    "KEY=VALUE] [--psk FILE] [--plaintext]\n\n"
			    "COUNT round trips (default 10) through the "
			    "encrypted channel, then a\n%u MiB throughput "
			    "probe each way. --csv appends one row per run:\n"
			    "%s\n%s",
			    PROBE_FRAMES, PING_CSV_HEADER,
			    CLIENT_CONN_OPTS_HELP);
			return EXIT_OK;
		} else if (argv[i][0] != '-' && target_arg == NULL)
			target_arg = argv[i];
		else {
			fprintf(stderr,
			    "wharf: ping: unexpected argument "
			    "'%s'\n",
			    argv[i]);
			return EXIT_USAGE;
		}
	}
	if (target_arg == NULL) {
		fprintf(stderr,
		    "usage: wharf ping [USER@]HOST[:PORT] "
		    "[-n COUNT] [--csv FILE] [--json]\n");
		return EXIT_USAGE;
	}
	if (client_target_parse(target_arg, &target) != 0)
		return EXIT_USAGE;
	if (sodium_init() < 0 || cli_open(&cli, &target) != EXIT_OK)
		return EXIT_CONNECT;
	status = ping_run(&cli, (int)count, csv);
	client_close(cli.c);
	return status;
}
