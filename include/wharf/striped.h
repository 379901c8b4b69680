/* SPDX-License-Identifier: MIT */
/*
 * Striped transfers on the client: one large file split into chunk-aligned
 * ranges moved over several connections of the same session at once, for
 * links where one TCP stream cannot fill the pipe. Each range is verified
 * (chunks and a range digest); the whole file is verified and committed
 * only once every range arrived.
 */
#ifndef WHARF_STRIPED_H
#define WHARF_STRIPED_H

#include <stdint.h>
#include <sys/stat.h>

#include "wharf/client.h"
#include "wharf/transfer.h"

#define STRIPED_STREAMS_MAX 16
/* Below this per stream, one connection is as good. */
#define STRIPED_MIN_PER_STREAM (8u << 20)

struct striped_result {
	uint64_t size;
	uint64_t wire;
	int err; /* 0 or the first failure */
	char why[CLIENT_ERRMSG_MAX];
};

/*
 * How many streams a file of size bytes gets when the user asked for
 * wanted: fewer where a stream would carry under STRIPED_MIN_PER_STREAM.
 * Below 2 the file goes the plain way, over one connection.
 */
int striped_streams(int wanted, uint64_t size);

/* Uploads the open file fd (its stat in st) to remote. */
int striped_put(struct client *c, const struct transfer_opts *o, int fd,
    const struct stat *st, const char *remote,
    struct striped_result *res) WH_MUST_CHECK;

/* Downloads remote (of size bytes) to local through the partial part. */
int striped_get(struct client *c, const struct transfer_opts *o,
    const char *remote, uint64_t size, const char *local, const char *part,
    struct striped_result *res) WH_MUST_CHECK;

#endif
