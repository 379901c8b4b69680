/* SPDX-License-Identifier: MIT */
/*
 * What get, put and sync tell the user: the progress line on a terminal,
 * one summary line (or one JSON object with --json) per finished file, a
 * CSV row per file with --stats, and sync's closing totals. The transfer
 * code counts; this module only shows.
 */
#ifndef WHARF_REPORT_H
#define WHARF_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "wharf/client.h"
#include "wharf/transfer.h"

/* The progress line's state, counted by the transfer code as it goes. */
struct progress {
	int enabled; /* stderr is a terminal and --no-progress not given */
	int tree; /* totals over many files, not the current file alone */
	uint64_t total_files;
	uint64_t total_bytes;
	uint64_t done_files;
	uint64_t done_bytes;
	double t0;
	double last; /* last drawn (clock_mono_sec) */
	const char *current; /* the file in flight: its shown name */
	uint64_t cur_done;
	uint64_t cur_size;
};

/* Starts the clock; draws only if enabled. */
void progress_init(struct progress *p, int enabled);
/* Erases the line, so that other output starts on a clean one. */
void progress_clear(struct progress *p);
/* Redraws, at most TRANSFER_REDRAW_HZ times a second unless force. */
void progress_draw(struct progress *p, int force);

/* A file that finished, well or not. */
struct report_file {
	const char *op; /* "put" or "get" */
	const char *shown; /* put: the local path; get: the remote one */
	const char *remote; /* the remote path (CSV) */
	uint64_t size;
	uint64_t wire; /* chunk bytes on the wire */
	uint64_t
	    resumed; /* not sent again: a resumed prefix or reused blocks */
	uint64_t reused; /* of which reused blocks (delta) */
	double seconds;
	int result; /* 0 or the error */
};

/*
 * Reports one file: a JSON object (--json), else a summary line if it
 * succeeded and not -q; a CSV row with --stats (a row that cannot be
 * written is said on stderr). Counts it as done in p.
 */
void report_file(const struct transfer_opts *o, const struct client *c,
    struct progress *p, const struct report_file *f);

/* "wharf: OP PATH: WHY" on stderr, PATH sanitised. */
void report_failure(const char *op, const char *path, const char *why);

/* sync's closing line: what was (or with dry_run, would be) done. */
void report_sync(const struct transfer_opts *o, int dry_run, size_t files,
    uint64_t bytes, size_t unchanged, size_t deleted, int complete);

#endif
