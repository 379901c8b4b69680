/* SPDX-License-Identifier: MIT */
/*
 * Log sink. One line is formatted completely before it is written with a
 * single write(2), so lines from concurrent sessions never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wharf/log.h"

#define LOG_LINE_MAX 2048
/* The longest escape, \xNN. */
#define LOG_ESC_MAX 4
/* Marks a peer string cut at LOG_PEER_STR_MAX (or at the buffer's end). */
#define LOG_CUT_MARK "..."
/* What log_quote adds around the text: two quotes, the mark and a NUL. */
#define LOG_QUOTE_FRAME (2 + sizeof(LOG_CUT_MARK) - 1 + 1)

static int log_fd = STDERR_FILENO;
/* Atomic: SIGHUP may change it while sessions log. */
static atomic_int log_level = LOG_LVL_INFO;
/* The file log_open opened, for log_reopen; "" for stderr. */
static char log_path[4096];
/* stderr is the journal's stream: "<N>" priorities, no timestamps. */
static int log_journal;

/* sd-daemon(3)'s prefixes, by level: SD_ERR, SD_WARNING, SD_INFO,
 * SD_DEBUG. */
static const char *const journal_prefix[] = { "<3>", "<4>", "<6>", "<7>" };

static const char *const level_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

/*
 * 1 if stderr is the stream systemd gave the service: $JOURNAL_STREAM
 * names its device and inode (systemd.exec(5)), which a redirection of
 * stderr (to a file, a pipe) no longer matches.
 */
static int
stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (v == NULL || fstat(STDERR_FILENO, &st) != 0)
		return 0;
	dev = strtoull(v, &end, 10);
	if (end == v || *end != ':')
		return 0;
	v = end + 1;
	ino = strtoull(v, &end, 10);
	if (end == v || *end != '\0')
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

int
log_open(const char *path, enum log_level level)
{
	int fd;

	atomic_store(&log_level, (int)level);
	if (path == NULL) {
		log_journal = stderr_is_journal();
		return 0;
	}
	if (strlen(path) >= sizeof(log_path)) {
		errno = ENAMETOOLONG;
		return WH_ERR_SYSTEM;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return WH_ERR_SYSTEM;
	log_close();
	log_fd = fd;
	log_journal = 0;
	memcpy(log_path, path, strlen(path) + 1);
	return 0;
}

int
log_reopen(void)
{
	int fd;

	if (log_path[0] == '\0')
		return 0;
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return WH_ERR_SYSTEM;
	/* In place: a session writing a line at this moment writes it to
	 * the old file or the new one, never to a closed descriptor. */
	if (dup3(fd, log_fd, O_CLOEXEC) < 0) {
		close(fd);
		return WH_ERR_SYSTEM;
	}
	close(fd);
	return 0;
}

void
log_set_level(enum log_level level)
{
	atomic_store(&log_level, (int)level);
}

int
log_enabled(enum log_level level)
{
	return (int)level <= atomic_load(&log_level);
}

void
log_close(void)
{
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
	log_path[0] = '\0';
}

void
log_msg(enum log_level level, const char *func, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	size_t len;
	va_list ap;
	int n, saved = errno;

	if ((int)level > atomic_load(&log_level))
		return;
	if (log_journal) {
		/* The journal stamps each line itself. */
		n = snprintf(line, sizeof(line), "%s%s ", journal_prefix[level],
		    level_names[level]);
		len = n > 0 ? (size_t)n : 0;
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		len = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line + len, sizeof(line) - len, ".%03ldZ %s ",
		    ts.tv_nsec / 1000000, level_names[level]);
		len += n > 0 ? (size_t)n : 0;
	}
	if (func != NULL && len < sizeof(line)) {
		n = snprintf(line + len, sizeof(line) - len, "%s: ", func);
		len += n > 0 ? (size_t)n : 0;
	}
	if (len < sizeof(line)) {
		va_start(ap, fmt);
		n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
		va_end(ap);
		len += n > 0 ? (size_t)n : 0;
	}
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* A log that cannot be written is not worth failing a request. */
	if (write(log_fd, line, len) < 0)
		errno = saved;
	errno = saved;
}

/*
 * The one sanitiser of peer text: copies at most LOG_PEER_STR_MAX bytes of
 * s into dst (room bytes, no NUL), bytes outside printable ASCII as \xNN,
 * and with quoted set '"' and '\' as \" and \\, so that the value can
 * neither end its quotes nor fake an escape. Never splits an escape; sets
 * *cut when it had to stop early. Returns the bytes written.
 */
static size_t
escape_into(char *dst, size_t room, const char *s, int quoted, int *cut)
{
	char esc[LOG_ESC_MAX + 1];
	size_t i, n = 0, k;

	*cut = 0;
	for (i = 0; s != NULL && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == LOG_PEER_STR_MAX) {
			*cut = 1;
			break;
		}
		if (quoted && (c == '"' || c == '\\')) {
			esc[0] = '\\';
			esc[1] = (char)c;
			k = 2;
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			k = LOG_ESC_MAX;
		} else {
			esc[0] = (char)c;
			k = 1;
		}
		if (room - n < k) {
			*cut = 1;
			break;
		}
		memcpy(dst + n, esc, k);
		n += k;
	}
	return n;
}

const char *
log_quote(char *dst, size_t dstlen, const char *s)
{
	size_t n;
	int cut;

	if (dstlen < LOG_QUOTE_FRAME) {
		if (dstlen > 0)
			dst[0] = '\0';
		return dst;
	}
	dst[0] = '"';
	n = 1 + escape_into(dst + 1, dstlen - LOG_QUOTE_FRAME, s, 1, &cut);
	dst[n++] = '"';
	if (cut) {
		memcpy(dst + n, LOG_CUT_MARK, sizeof(LOG_CUT_MARK) - 1);
		n += sizeof(LOG_CUT_MARK) - 1;
	}
	dst[n] = '\0';
	return dst;
}
