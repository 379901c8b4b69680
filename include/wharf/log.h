/* SPDX-License-Identifier: MIT */
/*
 * Timestamped, thread-safe logging to stderr or a file. Every line starts
 * with an ISO-8601 UTC timestamp and a level, then key=value fields.
 * Strings that came from a peer go through log_quote() first, never
 * straight into a format: a peer can neither end a field nor start one.
 */
#ifndef WHARF_LOG_H
#define WHARF_LOG_H

#include <stddef.h>

#include "wharf/err.h"

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_INFO = 2,
	LOG_LVL_DEBUG = 3,
};

/* Longest peer-supplied string a log line shows (the %.200s rule). */
#define LOG_PEER_STR_MAX 200
/* Room for log_quote of any string: each byte as \xNN, the quotes, the
 * "..." of a cut string and the NUL. */
#define LOG_QUOTE_MAX (LOG_PEER_STR_MAX * 4 + 6)

/* Opens path for appending (NULL: stderr, with sd-daemon "<N>" priorities
 * instead of timestamps when stderr is $JOURNAL_STREAM). Returns 0 or
 * WH_ERR_SYSTEM. */
int log_open(const char *path, enum log_level level) WH_MUST_CHECK;
/* Opens log_open's file again by name (after logrotate moved it) in place
 * of the old one; 0 for stderr. On failure the old one stays in use. */
int log_reopen(void) WH_MUST_CHECK;
void log_set_level(enum log_level level);
int log_enabled(enum log_level level);
void log_close(void);

void log_msg(enum log_level level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * A log field value for peer text s (NULL: empty): at most
 * LOG_PEER_STR_MAX bytes of it in double quotes, '"' and '\' as \" and
 * \\, every byte outside printable ASCII (controls, DEL, UTF-8) as \xNN,
 * and "..." after the closing quote if it was cut. dstlen of
 * LOG_QUOTE_MAX always holds it all; a smaller dst cuts it sooner, never
 * inside an escape, and still closes the quotes. Returns dst.
 */
const char *log_quote(char *dst, size_t dstlen, const char *s);

#define log_error(...) log_msg(LOG_LVL_ERROR, NULL, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, NULL, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, NULL, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, NULL, __VA_ARGS__)
#define log_error_f(...) log_msg(LOG_LVL_ERROR, __func__, __VA_ARGS__)
#define log_warn_f(...) log_msg(LOG_LVL_WARN, __func__, __VA_ARGS__)
#define log_debug_f(...) log_msg(LOG_LVL_DEBUG, __func__, __VA_ARGS__)

#endif
