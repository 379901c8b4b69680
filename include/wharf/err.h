/* SPDX-License-Identifier: MIT */
/*
 * The one error type of the program: 0 is success, negative values are
 * failures. Codes are never renumbered. WH_ERR_SYSTEM means errno holds
 * the cause and must be read before any other call.
 */
#ifndef WHARF_ERR_H
#define WHARF_ERR_H

#define WH_MUST_CHECK __attribute__((warn_unused_result))

enum wh_err {
	WH_OK = 0,
	WH_ERR_SYSTEM = -1, /* errno holds the cause */
	WH_ERR_NOMEM = -2,
	WH_ERR_FORMAT = -3, /* malformed bytes from a peer or a file */
	WH_ERR_TOO_LARGE = -4, /* a length over its limit */
	WH_ERR_EOF = -5, /* peer closed at a frame boundary */
	WH_ERR_TRUNCATED = -6, /* peer closed inside a frame */
	WH_ERR_TIMEOUT = -7,
	WH_ERR_AUTH = -8, /* a MAC, signature or key check failed */
	WH_ERR_PROTOCOL = -9, /* well-formed, but not allowed here */
	WH_ERR_INVALID_ARG = -10, /* bad input from the local user */
	WH_ERR_INVALID_PATH = -11,
	WH_ERR_NOT_FOUND = -12,
	WH_ERR_EXISTS = -13,
	WH_ERR_PERMISSION = -14,
	WH_ERR_UNSUPPORTED = -15,
	WH_ERR_HOSTKEY = -16, /* pinned host key does not match */
	WH_ERR_REMOTE = -17, /* the peer answered with an Error */
	WH_ERR_BAD_HASH = -18,
	WH_ERR_DECOMPRESS = -19,
	WH_ERR_NO_SPACE = -20,
	WH_ERR_BUSY = -21,
	WH_ERR_CANCELLED = -22,
	WH_ERR_PSK = -23, /* pre-shared key missing or different */
	WH_ERR_CORRUPT = -24, /* a local state file is damaged */
	WH_ERR_NOT_EMPTY = -25,
	WH_ERR_NOT_DIR = -26,
	WH_ERR_IS_DIR = -27,
	WH_ERR_IO = -28, /* a read or write of file data failed */
};

/* Text for an error code; for WH_ERR_SYSTEM it includes strerror(errno). */
const char *wh_strerror(int r);

/*
 * Maps an errno value from a file operation to the closest code; values
 * with no closer meaning give WH_ERR_SYSTEM (errno is set to e).
 */
int wh_err_from_errno(int e);

#endif
