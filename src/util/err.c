/* SPDX-License-Identifier: MIT */
/*
 * Texts for the program-wide error codes.
 */
#include <errno.h>
#include <string.h>

#include "wharf/err.h"

const char *
wh_strerror(int r)
{
	switch (r) {
	case WH_OK:
		return "success";
	case WH_ERR_SYSTEM:
		return strerror(errno);
	case WH_ERR_NOMEM:
		return "out of memory";
	case WH_ERR_FORMAT:
		return "malformed data";
	case WH_ERR_TOO_LARGE:
		return "too large";
	case WH_ERR_EOF:
		return "connection closed";
	case WH_ERR_TRUNCATED:
		return "connection closed in the middle of a message";
	case WH_ERR_TIMEOUT:
		return "timed out";
	case WH_ERR_AUTH:
		return "authentication of data failed";
	case WH_ERR_PROTOCOL:
		return "protocol violation";
	case WH_ERR_INVALID_ARG:
		return "invalid argument";
	case WH_ERR_INVALID_PATH:
		return "invalid path";
	case WH_ERR_NOT_FOUND:
		return "not found";
	case WH_ERR_EXISTS:
		return "already exists";
	case WH_ERR_PERMISSION:
		return "permission denied";
	case WH_ERR_UNSUPPORTED:
		return "not supported";
	case WH_ERR_HOSTKEY:
		return "server host key changed";
	case WH_ERR_REMOTE:
		return "remote error";
	case WH_ERR_BAD_HASH:
		return "hash mismatch";
	case WH_ERR_DECOMPRESS:
		return "decompression failed";
	case WH_ERR_NO_SPACE:
		return "no space left";
	case WH_ERR_BUSY:
		return "busy";
	case WH_ERR_CANCELLED:
		return "cancelled";
	case WH_ERR_PSK:
		return "pre-shared key mismatch";
	case WH_ERR_CORRUPT:
		return "corrupt state file";
	case WH_ERR_NOT_EMPTY:
		return "directory not empty";
	case WH_ERR_NOT_DIR:
		return "not a directory";
	case WH_ERR_IS_DIR:
		return "is a directory";
	case WH_ERR_IO:
		return "input/output error";
	}
	return "unknown error";
}

int
wh_err_from_errno(int e)
{
	switch (e) {
	case ENOENT:
		return WH_ERR_NOT_FOUND;
	case EEXIST:
		return WH_ERR_EXISTS;
	case ENOTEMPTY:
		return WH_ERR_NOT_EMPTY;
	case ENOTDIR:
		return WH_ERR_NOT_DIR;
	case EISDIR:
		return WH_ERR_IS_DIR;
	case EACCES:
	case EPERM:
	case EROFS:
		return WH_ERR_PERMISSION;
	case ENOSPC:
	case EDQUOT:
		return WH_ERR_NO_SPACE;
	case EFBIG:
		return WH_ERR_TOO_LARGE;
	case ENAMETOOLONG:
	case ELOOP:
	case EXDEV:
		/* Escapes and over-long names both mean the path is refused. */
		return WH_ERR_INVALID_PATH;
	case ENOMEM:
		return WH_ERR_NOMEM;
	case EIO:
		return WH_ERR_IO;
	}
	errno = e;
	return WH_ERR_SYSTEM;
}
