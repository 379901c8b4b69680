/* SPDX-License-Identifier: MIT */
/*
 * Client side of get and put: destination rules in the manner of scp and
 * sftp, recursive trees from a manifest made up front (walked by tree.h),
 * pipelining (many files in flight, chunks streamed without waiting) and
 * resume from a verified partial. What the user sees is report.h's.
 */
#ifndef WHARF_TRANSFER_H
#define WHARF_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#include "wharf/client.h"
#include "wharf/hash.h"

/* Files in flight at once in a tree transfer. */
#define TRANSFER_WINDOW 64
#define TRANSFER_EXCLUDES_MAX 64
/* Progress redraws per second, at most. */
#define TRANSFER_REDRAW_HZ 4

struct transfer_opts {
	int recursive;
	Wharf__CompressMode compress;
	int level;
	enum hash_alg alg; /* as resolved for the session when hash_set is 0 */
	int hash_set; /* --hash given: forced; else the sender's choice */
	uint32_t chunk_size;
	const char *excludes[TRANSFER_EXCLUDES_MAX];
	int nexcludes;
	const char *stats_path; /* CSV, or NULL */
	int quiet; /* no summary lines */
	int progress; /* draw a progress line (a terminal) */
	int json; /* summaries as JSON objects */
	int no_delta; /* never offer or use old data */
	int streams; /* connections for one large file (striping) */
	int compress_set; /* given on the command line: beats the config */
	int streams_set;
	int links; /* enum tree_links: -l keeps links, -L follows them */
	int no_perms; /* --no-perms: new files get default modes, folders
	                 keep theirs; mtimes are kept either way */
};

void transfer_opts_init(struct transfer_opts *o);
/* "auto", "off" or a level into o (WH_ERR_INVALID_ARG with a message). */
int
transfer_parse_compress(struct transfer_opts *o, const char *v) WH_MUST_CHECK;

/*
 * Parses one transfer option at argv[*i] (-r, -z[LEVEL], --compress=X,
 * --hash X, --exclude P, --stats F, --chunk-size N, -l, -L, -p,
 * --no-perms). Returns 1 if it was
 * one (advancing *i past its value), 0 if not, WH_ERR_INVALID_ARG with a
 * message on stderr if it was malformed.
 */
int transfer_parse_opt(
    struct transfer_opts *o, int argc, char **argv, int *i) WH_MUST_CHECK;

/*
 * Uploads locals to remote (NULL: the remote working directory). Returns
 * an exit status (EXIT_OK, EXIT_REMOTE, EXIT_USAGE, EXIT_CONNECT); every
 * failure has been reported on stderr.
 */
int transfer_put(struct client *c, const struct transfer_opts *o, char **locals,
    int nlocal, const char *remote);
/* Downloads remotes into local (NULL: the current directory). */
int transfer_get(struct client *c, const struct transfer_opts *o,
    char **remotes, int nremote, const char *local);
/*
 * Moves n files given as explicit pairs (put: locals[i] to remotes[i];
 * get: remotes[i] to locals[i]), pipelined like a tree. For sync.
 */
int transfer_pairs(struct client *c, const struct transfer_opts *o, int put,
    char **locals, char **remotes, size_t n);

/*
 * The permission bits a file gets at its destination: its own (mode &
 * 0777), or under --no-perms the destination's default: 0644 on the
 * server (local = 0), 0666 less the umask here (local = 1).
 */
uint32_t
transfer_file_mode(const struct transfer_opts *o, uint32_t mode, int local);

/* Prints the plain digest of a remote file, as sha256sum/b2sum do. */
int transfer_sum(struct client *c, enum hash_alg alg, const char *remote);

#endif
