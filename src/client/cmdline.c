/* SPDX-License-Identifier: MIT */
/*
 * Word splitting, remote patterns and quoting for the command language
 * (cmdline.h): one lexer, used by the parser and by completion.
 */
#include <string.h>

#include "wharf/cmdline.h"

#define GLOB_CHARS "*?["
/* What cmdline_quote escapes outside quotes: separators, quotes, the
 * comment and command separators, and the glob characters. */
#define QUOTE_CHARS " \t\r\n\\'\"#;*?[]!"

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One lexer state walks the line; the callers differ only in what they
 * keep. */
struct lexer {
	const char *p, *end;
	char quote;
};

/*
 * Reads the next character of the current word into *c; *literal says it
 * was quoted or escaped. Returns 0 at the end of the word (or input),
 * 1 with a character, WH_ERR_INVALID_ARG for an unbalanced quote at the
 * end of input when strict.
 */
static int
lex_char(struct lexer *lx, char *c, int *literal, int strict)
{
	for (;;) {
		if (lx->p == lx->end || *lx->p == '\0') {
			if (lx->quote != '\0' && strict)
				return WH_ERR_INVALID_ARG;
			return 0;
		}
		if (lx->quote != '\0') {
			if (*lx->p == lx->quote) {
				lx->quote = '\0';
				lx->p++;
				continue;
			}
			if (lx->quote == '"' && *lx->p == '\\' &&
			    lx->p + 1 < lx->end && lx->p[1] != '\0')
				lx->p++;
			*c = *lx->p++;
			*literal = 1;
			return 1;
		}
		if (is_space(*lx->p))
			return 0;
		if (*lx->p == '\'' || *lx->p == '"') {
			lx->quote = *lx->p++;
			continue;
		}
		if (*lx->p == '\\' && lx->p + 1 < lx->end && lx->p[1] != '\0') {
			lx->p++;
			*c = *lx->p++;
			*literal = 1;
			return 1;
		}
		*c = *lx->p++;
		*literal = 0;
		return 1;
	}
}

/* Skips blanks; 0 at the end of the line or a comment. */
static int
lex_next_word(struct lexer *lx)
{
	while (lx->p < lx->end && is_space(*lx->p))
		lx->p++;
	return lx->p < lx->end && *lx->p != '\0' && *lx->p != '#';
}

int
cmdline_split(const char *line, char *storage, char **argv, char **pat)
{
	struct lexer lx = { line, line + strlen(line), '\0' };
	char *o = storage, *po = storage + strlen(line) + 1, *pstart, c;
	int argc = 0, literal, active, r;

	while (lex_next_word(&lx)) {
		if (argc == CMDLINE_ARGS_MAX)
			return WH_ERR_INVALID_ARG;
		argv[argc] = o;
		pstart = po;
		active = 0;
		while ((r = lex_char(&lx, &c, &literal, 1)) == 1) {
			*o++ = c;
			if (pat == NULL)
				continue;
			if (!literal && strchr(GLOB_CHARS, c) != NULL)
				active = 1;
			else if (strchr(GLOB_CHARS "\\", c) != NULL)
				*po++ = '\\';
			*po++ = c;
		}
		if (r < 0)
			return r;
		*o++ = '\0';
		if (pat != NULL) {
			*po++ = '\0';
			pat[argc] = active ? pstart : NULL;
			if (!active)
				po = pstart;
		}
		argc++;
	}
	argv[argc] = NULL;
	if (pat != NULL)
		pat[argc] = NULL;
	return argc;
}

int
cmdline_tail(const char *line, size_t len, struct cmdline_tail *t, char *lit,
    size_t litlen)
{
	struct lexer lx = { line, line + len, '\0' };
	size_t n;
	char c;
	int literal;

	if (litlen == 0)
		return WH_ERR_TOO_LARGE;
	t->index = 0;
	for (;;) {
		while (lx.p < lx.end && is_space(*lx.p))
			lx.p++;
		t->start = (size_t)(lx.p - line);
		t->quote = '\0';
		n = 0;
		if (lx.p == lx.end)
			break;
		while (lex_char(&lx, &c, &literal, 0) == 1) {
			if (n + 1 >= litlen)
				return WH_ERR_TOO_LARGE;
			lit[n++] = c;
		}
		if (lx.p == lx.end) {
			/* The word runs to the cursor: it is the one being
			 * typed (a quote may still be open). */
			t->quote = lx.quote;
			break;
		}
		t->index++;
	}
	lit[n] = '\0';
	return 0;
}

int
cmdline_quote(const char *word, char quote, char *out, size_t outlen)
{
	size_t o = 0;
	const char *s;
	const char *esc;

	for (s = word; *s != '\0'; s++) {
		if (quote == '\'')
			esc = *s == '\'' ? "'\\''" : NULL;
		else if (quote == '"')
			esc = (*s == '"' || *s == '\\') ? "\\" : NULL;
		else
			esc = strchr(QUOTE_CHARS, *s) != NULL ? "\\" : NULL;
		if (esc != NULL && quote == '\'') {
			/* Close, an escaped quote, reopen. */
			if (o + 4 >= outlen)
				return WH_ERR_TOO_LARGE;
			memcpy(out + o, esc, 4);
			o += 4;
			continue;
		}
		if (o + 2 >= outlen)
			return WH_ERR_TOO_LARGE;
		if (esc != NULL)
			out[o++] = '\\';
		out[o++] = *s;
	}
	if (o >= outlen)
		return WH_ERR_TOO_LARGE;
	out[o] = '\0';
	return 0;
}

int
cmdline_is_pattern(const char *pat, size_t len)
{
	size_t i;

	for (i = 0; i < len && pat[i] != '\0'; i++) {
		if (pat[i] == '\\' && i + 1 < len && pat[i + 1] != '\0')
			i++;
		else if (strchr(GLOB_CHARS, pat[i]) != NULL)
			return 1;
	}
	return 0;
}

void
cmdline_unescape(const char *pat, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;

	if (outlen == 0)
		return;
	for (i = 0; i < len && pat[i] != '\0' && o + 1 < outlen; i++) {
		if (pat[i] == '\\' && i + 1 < len && pat[i + 1] != '\0')
			i++;
		out[o++] = pat[i];
	}
	out[o] = '\0';
}

const char *
cmdline_arg_pattern(const char *word)
{
	return cmdline_is_pattern(word, strlen(word)) ? word : NULL;
}
