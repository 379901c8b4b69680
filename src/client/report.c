/* SPDX-License-Identifier: MIT */
/*
 * Reporting for get, put and sync (report.h): the progress line, summary
 * lines, JSON objects and CSV rows, in one place so that every command
 * shows the same numbers the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wharf/cli.h"
#include "wharf/clock.h"
#include "wharf/log.h"
#include "wharf/msg.h"
#include "wharf/report.h"
#include "wharf/stats.h"
#include "wharf/text.h"

/* Room for a size as stats_format_size writes it. */
#define REPORT_SIZE_MAX 32

void
progress_init(struct progress *p, int enabled)
{
	memset(p, 0, sizeof(*p));
	p->enabled = enabled;
	p->t0 = clock_mono_sec();
}

void
progress_clear(struct progress *p)
{
	if (p->enabled)
		fputs("\r\033[K", stderr);
}

void
progress_draw(struct progress *p, int force)
{
	char done[REPORT_SIZE_MAX], total[REPORT_SIZE_MAX], eta[32] = "";
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
		    text_clean(clean, sizeof(clean), p->current),
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

static const char *
result_name(int r)
{
	return r == 0 ? "ok" : msg_code_name(msg_code_from_err(r));
}

static void
report_json(const struct transfer_opts *o, const struct report_file *f)
{
	uint64_t sent = f->size - f->resumed;

	printf("{\"op\":\"%s\",\"path\":", f->op);
	cli_json_str(stdout, f->shown);
	printf(",\"bytes\":%llu,\"wire_bytes\":%llu,"
	       "\"resumed_bytes\":%llu,\"seconds\":%.3f,"
	       "\"mb_per_s\":%.2f,\"hash\":\"%s\",\"result\":\"%s\"}\n",
	    (unsigned long long)f->size, (unsigned long long)f->wire,
	    (unsigned long long)f->resumed, f->seconds,
	    stats_rate(sent, f->seconds), hash_alg_name(o->alg),
	    result_name(f->result));
	fflush(stdout);
}

static void
report_line(const struct report_file *f)
{
	char size[REPORT_SIZE_MAX], wire[REPORT_SIZE_MAX], rs[REPORT_SIZE_MAX];
	char res[48] = "", clean[LOG_PEER_STR_MAX + 1];
	uint64_t sent = f->size - f->resumed;

	stats_format_size(f->size, size, sizeof(size));
	stats_format_size(f->wire, wire, sizeof(wire));
	if (f->resumed > 0) {
		stats_format_size(f->resumed, rs, sizeof(rs));
		/* Reused blocks (delta) versus a resumed prefix. */
		snprintf(res, sizeof(res), ", %s %s",
		    f->reused > 0 ? "reused" : "resumed", rs);
	}
	printf("%s %s  %s in %.2f s, %.1f MB/s, wire %s (%.2fx)%s\n", f->op,
	    text_clean(clean, sizeof(clean), f->shown), size, f->seconds,
	    stats_rate(f->reused > 0 ? f->size : sent, f->seconds), wire,
	    f->wire > 0 ? (double)sent / (double)f->wire : 1.0, res);
	fflush(stdout);
}

static void
report_csv(const struct transfer_opts *o, const struct client *c,
    const struct report_file *f)
{
	struct xfer_stats st;
	char comp[16];

	st.peer = c->hostport;
	st.user = c->target.user;
	st.direction = f->op;
	st.path = f->remote;
	st.hash = hash_alg_name(o->alg);
	st.compression = compression_name(o, comp, sizeof(comp));
	st.result = result_name(f->result);
	st.bytes = f->size;
	st.wire_bytes = f->wire;
	st.resumed = f->resumed;
	st.seconds = f->seconds;
	if (stats_append_csv(o->stats_path, &st) != 0)
		fprintf(stderr, "wharf: --stats %s: %s\n", o->stats_path,
		    strerror(errno));
}

void
report_file(const struct transfer_opts *o, const struct client *c,
    struct progress *p, const struct report_file *f)
{
	progress_clear(p);
	if (o->json)
		report_json(o, f);
	else if (f->result == 0 && !o->quiet)
		report_line(f);
	if (o->stats_path != NULL)
		report_csv(o, c, f);
	p->done_files++;
	p->done_bytes += f->size;
	p->cur_done = 0;
}

void
report_failure(const char *op, const char *path, const char *why)
{
	char clean[LOG_PEER_STR_MAX + 1];

	fprintf(stderr, "wharf: %s %s: %s\n", op,
	    text_clean(clean, sizeof(clean), path), why);
}

void
report_sync(const struct transfer_opts *o, int dry_run, size_t files,
    uint64_t bytes, size_t unchanged, size_t deleted, int complete)
{
	char size[REPORT_SIZE_MAX];

	stats_format_size(bytes, size, sizeof(size));
	if (dry_run)
		printf("sync: would transfer %zu files (%s), %zu unchanged, "
		       "delete %zu\n",
		    files, size, unchanged, deleted);
	else if (!o->quiet)
		printf("sync: %zu transferred (%s), %zu unchanged, %zu "
		       "deleted%s\n",
		    files, size, unchanged, complete ? deleted : 0,
		    complete ? "" : " (incomplete)");
}
