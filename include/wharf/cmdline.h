/* SPDX-License-Identifier: MIT */
/*
 * The one quoting module of the client's command language: splitting a
 * line into words (quotes, backslashes, comments), telling which words are
 * remote patterns (sftp's rules: a glob character counts only unquoted and
 * unescaped), and quoting a name back so that the splitter gives it back
 * unchanged. The shell's completion and its parser both use it, so what
 * Tab inserts is what the command receives.
 */
#ifndef WHARF_CMDLINE_H
#define WHARF_CMDLINE_H

#include <stddef.h>

#include "wharf/err.h"

#define CMDLINE_ARGS_MAX 64
/* Storage cmdline_split needs for a line of len bytes, with patterns. */
#define CMDLINE_STORAGE(len) (3 * (len) + 2)

/*
 * Splits line into at most CMDLINE_ARGS_MAX words: argv[i] is the word's
 * text with quotes and escapes removed; argv[argc] is NULL. When pat is
 * not NULL, pat[i] is an fnmatch(3) pattern for a word holding an active
 * glob character ('*', '?', '[' neither quoted nor escaped), with every
 * literal special character escaped, else NULL. storage must hold
 * strlen(line) + 1 bytes, or CMDLINE_STORAGE(strlen(line)) with pat.
 * Returns the count, or WH_ERR_INVALID_ARG (unbalanced quote, too many
 * words).
 */
int cmdline_split(
    const char *line, char *storage, char **argv, char **pat) WH_MUST_CHECK;

/* The word being typed at the end of line[0..len): where it starts, its
 * text so far (unquoted, in lit), the quote still open ('\0', '\'' or
 * '"') and how many words come before it. */
struct cmdline_tail {
	size_t start;
	char quote;
	int index;
};
int cmdline_tail(const char *line, size_t len, struct cmdline_tail *t,
    char *lit, size_t litlen) WH_MUST_CHECK;

/*
 * Writes word so that cmdline_split reads it back as one literal word
 * (no pattern): with quote '\0' special characters get a backslash; with
 * an open '"' or '\'' the text continues that quote (which stays open).
 * WH_ERR_TOO_LARGE if out is too small.
 */
int cmdline_quote(
    const char *word, char quote, char *out, size_t outlen) WH_MUST_CHECK;

/* 1 if a pattern (as cmdline_split makes them) holds an active glob
 * character. */
int cmdline_is_pattern(const char *pat, size_t len);
/* Copies len bytes of pattern to out without its escapes. */
void cmdline_unescape(const char *pat, size_t len, char *out, size_t outlen);
/* A pattern for a word typed on a command line (one-shot commands): the
 * caller's shell removed its quotes; glob characters are active unless
 * escaped with a backslash. Returns word if it is a pattern, else NULL. */
const char *cmdline_arg_pattern(const char *word);

#endif
