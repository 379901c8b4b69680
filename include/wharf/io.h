/* SPDX-License-Identifier: MIT */
/*
 * Buffered, deadline-bounded frame I/O on a stream socket. Reads go into a
 * capped buffer; a stalled or silent peer times out instead of holding the
 * caller forever.
 */
#ifndef WHARF_IO_H
#define WHARF_IO_H

#include <stddef.h>
#include <stdint.h>

#include "wharf/err.h"

struct wire_io;

/* Takes ownership of fd (closed by wire_io_free). NULL on ENOMEM. */
struct wire_io *wire_io_new(int fd);
void wire_io_free(struct wire_io *io);
int wire_io_fd(const struct wire_io *io);

/* Largest frame payload accepted from now on. */
void wire_io_set_limit(struct wire_io *io, size_t limit);
/* Longest wait for the peer, in ms, for any read or write (<0: forever). */
void wire_io_set_timeout(struct wire_io *io, int timeout_ms);

/* An absolute limit for every read and write from now on: ms from now,
 * or <0 for none (a login deadline that trickling bytes cannot extend). */
void wire_io_set_deadline(struct wire_io *io, int64_t ms_from_now);

struct ratelimit;
/* Bandwidth limits a connection obeys (not owned; each may be shared).
 * Up to WIRE_IO_LIMITS per direction (a server's global and per-user
 * limits): every read and write then moves small slices, each charged to
 * all of them. WH_ERR_TOO_LARGE when the slots are full. */
#define WIRE_IO_LIMITS 2
int wire_io_add_ratelimit(
    struct wire_io *io, int inbound, struct ratelimit *rl) WH_MUST_CHECK;

/* Reads exactly n raw bytes (the preface). */
int wire_io_read_exact(struct wire_io *io, void *p, size_t n) WH_MUST_CHECK;

/*
 * Reads one frame. *payload points into the read buffer and stays valid,
 * and writable, until the next read. WH_ERR_EOF on a clean close between
 * frames, WH_ERR_TRUNCATED inside one, WH_ERR_TIMEOUT, WH_ERR_TOO_LARGE.
 */
int wire_io_read_frame(
    struct wire_io *io, uint8_t **payload, size_t *len) WH_MUST_CHECK;

/* 1 if a read would not block (bytes buffered or readable), else 0. */
int wire_io_readable(struct wire_io *io, int timeout_ms);

/*
 * 1 if a whole frame is buffered or arrives within timeout_ms, else 0
 * (also on an error or a bad header: the next read reports it). What it
 * reads stays buffered for wire_io_read_frame.
 */
int wire_io_frame_ready(struct wire_io *io, int timeout_ms);

/* Writes all n bytes. */
int wire_io_write(struct wire_io *io, const void *p, size_t n) WH_MUST_CHECK;
/* Writes a then b, in as few system calls as the socket allows. */
int wire_io_write2(struct wire_io *io, const void *a, size_t alen,
    const void *b, size_t blen) WH_MUST_CHECK;

/* Total bytes moved on the socket. */
uint64_t wire_io_bytes_in(const struct wire_io *io);
uint64_t wire_io_bytes_out(const struct wire_io *io);
/* Nanoseconds spent waiting for the socket to take more bytes: a sender
 * that waits a lot is limited by the link, not by its CPU. */
uint64_t wire_io_blocked_ns(const struct wire_io *io);
/*
 * Holds back partial TCP segments while on (TCP_CORK), so that a run of
 * small frames (delta references) fills whole packets instead of paying
 * a header and an acknowledgement each; off sends what is held at once.
 * Not a socket: no effect.
 */
void wire_io_cork(struct wire_io *io, int on);
/* Bytes written but not yet acknowledged by the peer (0 if unknown):
 * a queue that stays full means the link, not the sender, is slow. */
uint64_t wire_io_queued(const struct wire_io *io);

#endif
