/* SPDX-License-Identifier: MIT */
/*
 * The one sanitiser for text shown on a terminal: names and messages that
 * came from a peer or the file system. (Log lines have their own quoting,
 * log_quote in log.h, which must be reversible; this one must be
 * readable.)
 */
#ifndef WHARF_TEXT_H
#define WHARF_TEXT_H

#include <stddef.h>

/*
 * Copies s (NULL: "") to dst for display: every control character, C0
 * (below 0x20), DEL and C1 (U+0080..U+009F, as UTF-8) becomes one '?', so
 * that text cannot move the cursor, clear the screen or retitle the
 * terminal; other bytes, UTF-8 included, are kept. Truncated to dstlen - 1
 * bytes, never inside a character it replaced. Returns dst.
 */
const char *text_clean(char *dst, size_t dstlen, const char *s);

#endif
