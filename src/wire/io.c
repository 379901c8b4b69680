/* SPDX-License-Identifier: MIT */
/*
 * Socket side of framing. Each read asks the kernel for as much as fits
 * (read-ahead), so a stream of small frames costs few syscalls; the buffer
 * shrinks back when the connection goes quiet so that idle sessions hold
 * little memory.
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "wharf/clock.h"
#include "wharf/buf.h"
#include "wharf/io.h"
#include "wharf/ratelimit.h"
#include "wharf/wire.h"

#define IO_READ_AHEAD (64u * 1024u)
#define IO_IDLE_KEEP (64u * 1024u)
#define IO_IDLE_MS 200 /* quiet this long: the read buffer shrinks */

struct wire_io {
	int fd;
	struct buf *in;
	size_t limit;
	int timeout_ms;
	/* Written by the connection's thread only, read by others (the
	 * server's status and metrics): relaxed atomics, no lock. */
	_Atomic uint64_t bytes_in;
	_Atomic uint64_t bytes_out;
	uint64_t blocked_ns; /* time spent waiting to write */
	int64_t deadline; /* absolute, monotonic ms; <0: none */
	struct ratelimit *limit_in[WIRE_IO_LIMITS]; /* NULL: free slot */
	struct ratelimit *limit_out[WIRE_IO_LIMITS];
};

/* One writer: a load and a store, not a locked read-modify-write. */
static void
counter_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c,
	    atomic_load_explicit(c, memory_order_relaxed) + n,
	    memory_order_relaxed);
}

struct wire_io *
wire_io_new(int fd)
{
	struct wire_io *io = calloc(1, sizeof(*io));

	if (io == NULL)
		return NULL;
	io->in = buf_new(WIRE_FRAME_MAX + WIRE_FRAME_HEADER + IO_READ_AHEAD);
	if (io->in == NULL) {
		free(io);
		return NULL;
	}
	io->fd = fd;
	io->limit = WIRE_FRAME_MAX_PREAUTH;
	io->timeout_ms = -1;
	io->deadline = -1;
	return io;
}

void
wire_io_free(struct wire_io *io)
{
	if (io == NULL)
		return;
	if (io->fd >= 0)
		close(io->fd);
	buf_free(io->in);
	free(io);
}

int
wire_io_fd(const struct wire_io *io)
{
	return io->fd;
}

void
wire_io_set_limit(struct wire_io *io, size_t limit)
{
	io->limit = limit;
}

void
wire_io_set_timeout(struct wire_io *io, int timeout_ms)
{
	io->timeout_ms = timeout_ms;
}

uint64_t
wire_io_bytes_in(const struct wire_io *io)
{
	return atomic_load_explicit(&io->bytes_in, memory_order_relaxed);
}

uint64_t
wire_io_bytes_out(const struct wire_io *io)
{
	return atomic_load_explicit(&io->bytes_out, memory_order_relaxed);
}

uint64_t
wire_io_blocked_ns(const struct wire_io *io)
{
	return io->blocked_ns;
}

int
wire_io_add_ratelimit(struct wire_io *io, int inbound, struct ratelimit *rl)
{
	struct ratelimit **v = inbound ? io->limit_in : io->limit_out;
	int i;

	for (i = 0; i < WIRE_IO_LIMITS; i++)
		if (v[i] == NULL) {
			v[i] = rl;
			return 0;
		}
	return WH_ERR_TOO_LARGE;
}

/* The largest slice the limits allow at once; (size_t)-1 without any. */
static size_t
limit_slice(struct ratelimit *const *v)
{
	size_t s = (size_t)-1, k;
	int i;

	for (i = 0; i < WIRE_IO_LIMITS && v[i] != NULL; i++)
		if ((k = ratelimit_slice(v[i])) < s)
			s = k;
	return s;
}

/* Charges n bytes to every limit and sleeps off the longest wait;
 * returns the ms slept, which no peer deadline should count. */
static int64_t
limit_charge(struct ratelimit *const *v, size_t n)
{
	uint64_t wait = 0, w;
	int i;

	for (i = 0; i < WIRE_IO_LIMITS && v[i] != NULL; i++)
		if ((w = ratelimit_reserve(v[i], n)) > wait)
			wait = w;
	ratelimit_sleep(wait);
	return (int64_t)(wait / 1000000u);
}

/* Waits for events until deadline (<0: none). */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		/* A deadline already reached still polls once: a zero
		 * timeout asks "is it ready now?". */
		left = deadline < 0 ? -1 : deadline - clock_mono_ms();
		if (deadline >= 0 && left < 0)
			left = 0;
		n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return WH_ERR_SYSTEM;
		if (n == 0)
			return WH_ERR_TIMEOUT;
		return 0;
	}
}

/* The earlier of two deadlines (<0: none). */
static int64_t
sooner(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* Reads what the socket has (at least one byte) into the buffer. */
static int
fill(struct wire_io *io, size_t want, int64_t *deadlinep)
{
	size_t cap = limit_slice(io->limit_in);
	int64_t deadline = *deadlinep, slept;
	uint8_t *dst;
	ssize_t n;
	int r;

	if (want < IO_READ_AHEAD)
		want = IO_READ_AHEAD;
	if ((r = buf_reserve(io->in, want, &dst)) != 0)
		return r;
	for (;;) {
		/* Limited: read a slice at a time, so that the sender is
		 * held back evenly by the socket's flow control. */
		n = recv(io->fd, dst, want < cap ? want : cap, MSG_DONTWAIT);
		if (n > 0)
			break;
		if (n == 0)
			return buf_len(io->in) == 0 ? WH_ERR_EOF :
			                              WH_ERR_TRUNCATED;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return WH_ERR_SYSTEM;
		if (buf_len(io->in) == 0 &&
		    buf_allocated(io->in) > IO_IDLE_KEEP) {
			/* A peer in full flow is back within moments, and a
			 * buffer given back now would be reallocated and
			 * faulted in for the next chunk. Only a connection
			 * that stays quiet returns its memory. */
			r = wait_fd(io->fd, POLLIN,
			    sooner(deadline, clock_mono_ms() + IO_IDLE_MS));
			if (r == 0)
				continue;
			if (r != WH_ERR_TIMEOUT ||
			    (deadline >= 0 && clock_mono_ms() >= deadline))
				return r;
			buf_shrink(io->in, IO_IDLE_KEEP);
		}
		if ((r = buf_reserve(io->in, want, &dst)) != 0 ||
		    (r = wait_fd(io->fd, POLLIN, deadline)) != 0)
			return r;
	}
	buf_commit(io->in, (size_t)n);
	counter_add(&io->bytes_in, (uint64_t)n);
	if (io->limit_in[0] != NULL) {
		/* Our own pause: the caller's deadline moves with it. */
		slept = limit_charge(io->limit_in, (size_t)n);
		if (*deadlinep >= 0)
			*deadlinep += slept;
	}
	return 0;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int64_t
deadline_from(const struct wire_io *io)
{
	/* The earlier of the per-call timeout and the absolute deadline. */
	return sooner(
	    io->timeout_ms < 0 ? -1 : clock_mono_ms() + io->timeout_ms,
	    io->deadline);
}

void
wire_io_set_deadline(struct wire_io *io, int64_t ms_from_now)
{
	io->deadline = ms_from_now < 0 ? -1 : clock_mono_ms() + ms_from_now;
}

int
wire_io_read_exact(struct wire_io *io, void *p, size_t n)
{
	int64_t deadline = deadline_from(io);
	int r;

	while (buf_len(io->in) < n) {
		if ((r = fill(io, n - buf_len(io->in), &deadline)) != 0)
			return r == WH_ERR_EOF && buf_len(io->in) > 0 ?
			    WH_ERR_TRUNCATED :
			    r;
	}
	return buf_get(io->in, p, n);
}

int
wire_io_read_frame(struct wire_io *io, uint8_t **payload, size_t *len)
{
	/* One deadline for the whole frame: trickling bytes buys no time. */
	int64_t deadline = deadline_from(io);
	uint32_t declared;
	size_t want;
	int r;

	for (;;) {
		if ((r = wire_frame_parse(io->in, io->limit, payload, len)) !=
		    0)
			return r > 0 ? 0 : r;
		want = IO_READ_AHEAD;
		if (buf_peek_u32(io->in, &declared) == 0)
			want = WIRE_FRAME_HEADER + (size_t)declared -
			    buf_len(io->in);
		if ((r = fill(io, want, &deadline)) != 0)
			return r;
	}
}

int
wire_io_readable(struct wire_io *io, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : clock_mono_ms() + timeout_ms;

	if (buf_len(io->in) > 0)
		return 1;
	return wait_fd(io->fd, POLLIN, deadline) == 0;
}

int
wire_io_frame_ready(struct wire_io *io, int timeout_ms)
{
	int64_t deadline = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	uint32_t declared;
	size_t want;

	for (;;) {
		want = IO_READ_AHEAD;
		if (buf_peek_u32(io->in, &declared) == 0) {
			/* A header the read will refuse: nothing to wait for. */
			if (declared == 0 || declared > io->limit ||
			    buf_len(io->in) - WIRE_FRAME_HEADER >= declared)
				return 1;
			want = WIRE_FRAME_HEADER + (size_t)declared -
			    buf_len(io->in);
		}
		if (fill(io, want, &deadline) != 0)
			return 0;
	}
}

void
wire_io_cork(struct wire_io *io, int on)
{
	(void)setsockopt(io->fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
}

uint64_t
wire_io_queued(const struct wire_io *io)
{
	int n = 0;

	/* SIOCOUTQ is TIOCOUTQ on Linux sockets; not a socket: 0. */
	if (ioctl(io->fd, TIOCOUTQ, &n) != 0 || n < 0)
		return 0;
	return (uint64_t)n;
}

int
wire_io_write(struct wire_io *io, const void *p, size_t n)
{
	int64_t deadline = deadline_from(io);
	size_t cap = limit_slice(io->limit_out), piece = 0;
	const uint8_t *src = p;
	uint64_t t0;
	ssize_t k;
	int r;

	while (n > 0) {
		if (piece == 0 && io->limit_out[0] != NULL) {
			/* Paced a slice at a time; the sleep is ours, not
			 * the peer's, so it moves the deadline with it. */
			piece = n < cap ? n : cap;
			if (deadline >= 0)
				deadline += limit_charge(io->limit_out, piece);
			else
				(void)limit_charge(io->limit_out, piece);
		} else if (piece == 0)
			piece = n;
		k = send(io->fd, src, piece, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k > 0) {
			src += k;
			n -= (size_t)k;
			piece -= (size_t)k;
			counter_add(&io->bytes_out, (uint64_t)k);
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return WH_ERR_SYSTEM;
		t0 = now_ns();
		r = wait_fd(io->fd, POLLOUT, deadline);
		io->blocked_ns += now_ns() - t0;
		if (r != 0)
			return r;
	}
	return 0;
}

int
wire_io_write2(
    struct wire_io *io, const void *a, size_t alen, const void *b, size_t blen)
{
	int64_t deadline = deadline_from(io);
	struct iovec iov[2] = { { (void *)(uintptr_t)a, alen },
		{ (void *)(uintptr_t)b, blen } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	uint64_t t0;
	ssize_t k;
	size_t done;
	int r;

	if (io->limit_out[0] != NULL) {
		/* Paced: the slices of wire_io_write matter more than one
		 * system call saved. */
		if ((r = wire_io_write(io, a, alen)) != 0)
			return r;
		return wire_io_write(io, b, blen);
	}
	while (iov[0].iov_len + iov[1].iov_len > 0) {
		k = sendmsg(io->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k > 0) {
			counter_add(&io->bytes_out, (uint64_t)k);
			done = (size_t)k;
			if (done >= iov[0].iov_len) {
				done -= iov[0].iov_len;
				iov[0].iov_len = 0;
				iov[1].iov_base =
				    (uint8_t *)iov[1].iov_base + done;
				iov[1].iov_len -= done;
			} else {
				iov[0].iov_base =
				    (uint8_t *)iov[0].iov_base + done;
				iov[0].iov_len -= done;
			}
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == ENOTSOCK) {
			/* A pipe or file (the fuzzers' /dev/null). */
			if ((r = wire_io_write(
			         io, iov[0].iov_base, iov[0].iov_len)) != 0)
				return r;
			return wire_io_write(
			    io, iov[1].iov_base, iov[1].iov_len);
		}
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return WH_ERR_SYSTEM;
		t0 = now_ns();
		r = wait_fd(io->fd, POLLOUT, deadline);
		io->blocked_ns += now_ns() - t0;
		if (r != 0)
			return r;
	}
	return 0;
}
