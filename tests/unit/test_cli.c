/* SPDX-License-Identifier: MIT */
/*
 * cli_split: the client's shell-like word splitting. Quotes, backslashes,
 * comments, and refusal of an unbalanced quote or too many words. The
 * storage is allocated at exactly strlen + 1 so that an overrun shows
 * under the sanitizers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "wharf/cli.h"
#include "wharf/cmdline.h"

#include "suites.h"

#define MAX_WANT 8

struct split_case {
	const char *line;
	int argc;
	const char *argv[MAX_WANT];
};

/* Splits line and compares with want; returns argc or the error. */
static int
split_check(const struct split_case *c)
{
	char *argv[CLI_ARGS_MAX + 1], *storage, esc[128];
	int n, i, ok;

	storage = malloc(strlen(c->line) + 1);
	if (storage == NULL) {
		CU_FAIL("malloc");
		return -1;
	}
	n = cli_split(c->line, storage, argv);
	ok = n == c->argc;
	for (i = 0; ok && i < n && i < MAX_WANT && c->argv[i] != NULL; i++)
		ok = strcmp(argv[i], c->argv[i]) == 0;
	if (ok && n >= 0)
		ok = argv[n] == NULL;
	TU_CHECK(ok, "\"%s\": got %d word(s)%s%s",
	    tu_escape(c->line, strlen(c->line), esc, sizeof(esc)), n,
	    n > 0 ? ", first: " : "", n > 0 ? argv[0] : "");
	free(storage);
	return n;
}

static void
run_cases(const struct split_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		(void)split_check(&cases[i]);
}

static void
test_words(void)
{
	static const struct split_case cases[] = {
		{ "ls", 1, { "ls" } },
		{ "ls  -l\t/tmp", 3, { "ls", "-l", "/tmp" } },
		{ "  get a  b  ", 3, { "get", "a", "b" } },
		{ "put x\r\n", 2, { "put", "x" } },
		{ "", 0, { NULL } },
		{ "   \t ", 0, { NULL } },
		{ "-rm file", 2, { "-rm", "file" } },
	};

	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_quotes(void)
{
	static const struct split_case cases[] = {
		{ "get 'a b' \"c d\"", 3, { "get", "a b", "c d" } },
		{ "a'b c'\"d\"e", 1, { "ab cde" } },
		{ "''", 1, { "" } },
		{ "\"\" x", 2, { "", "x" } },
		{ "'a\\b'", 1, { "a\\b" } },
		{ "'say \"hi\"'", 1, { "say \"hi\"" } },
		{ "\"it's\"", 1, { "it's" } },
		{ "\"a\\\"b\"", 1, { "a\"b" } },
		{ "\"a\\\\b\"", 1, { "a\\b" } },
		{ "'# not a comment'", 1, { "# not a comment" } },
	};

	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_backslashes(void)
{
	static const struct split_case cases[] = {
		{ "a\\ b", 1, { "a b" } },
		{ "\\#x", 1, { "#x" } },
		{ "\\'", 1, { "'" } },
		{ "\\\"q", 1, { "\"q" } },
		{ "a\\\\b", 1, { "a\\b" } },
		{ "end\\", 1, { "end\\" } },
	};

	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_comments(void)
{
	static const struct split_case cases[] = {
		{ "# only a comment", 0, { NULL } },
		{ "ls # list", 1, { "ls" } },
		{ "ls #", 1, { "ls" } },
		{ "a#b", 1, { "a#b" } },
		{ "  #x 'unbalanced", 0, { NULL } },
	};

	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_unbalanced(void)
{
	static const struct split_case cases[] = {
		{ "'abc", WH_ERR_INVALID_ARG, { NULL } },
		{ "\"abc", WH_ERR_INVALID_ARG, { NULL } },
		{ "a \"b", WH_ERR_INVALID_ARG, { NULL } },
		{ "get 'x\" y", WH_ERR_INVALID_ARG, { NULL } },
		{ "\"a\\\"", WH_ERR_INVALID_ARG, { NULL } },
	};

	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_too_many_words(void)
{
	char line[CLI_ARGS_MAX * 4 + 8];
	struct split_case c = { line, CLI_ARGS_MAX, { "w0", "w1" } };
	size_t used = 0;
	int i, k;

	for (i = 0; i < CLI_ARGS_MAX; i++) {
		k = snprintf(line + used, sizeof(line) - used, "w%d ", i);
		CU_ASSERT_FATAL(k > 0 && (size_t)k < sizeof(line) - used);
		used += (size_t)k;
	}
	/* Exactly the maximum is fine. */
	CU_ASSERT_EQUAL(split_check(&c), CLI_ARGS_MAX);
	/* One more is refused. */
	CU_ASSERT_FATAL(used + 2 < sizeof(line));
	memcpy(line + used, "x", 2);
	c.argc = WH_ERR_INVALID_ARG;
	CU_ASSERT_EQUAL(split_check(&c), WH_ERR_INVALID_ARG);
}

/* sftp's rule: a glob character is a pattern only unquoted and
 * unescaped; literal specials are escaped in the pattern. */
static void
test_patterns(void)
{
	static const struct {
		const char *line, *word, *pat; /* pat NULL: literal */
	} cases[] = {
		{ "*.log", "*.log", "*.log" },
		{ "'*.log'", "*.log", NULL },
		{ "\"*.log\"", "*.log", NULL },
		{ "\\*.log", "*.log", NULL },
		{ "a'*'*", "a**", "a\\**" },
		{ "x[ab].c", "x[ab].c", "x[ab].c" },
		{ "'x['[ab]", "x[[ab]", "x\\[[ab]" },
		{ "a\\\\b*", "a\\b*", "a\\\\b*" },
		{ "plain", "plain", NULL },
	};
	char *argv[CMDLINE_ARGS_MAX + 1], *pat[CMDLINE_ARGS_MAX + 1], *st;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		st = malloc(CMDLINE_STORAGE(strlen(cases[i].line)));
		CU_ASSERT_FATAL(st != NULL);
		CU_ASSERT_EQUAL(cmdline_split(cases[i].line, st, argv, pat), 1);
		TU_CHECK(strcmp(argv[0], cases[i].word) == 0, "%s: word %s",
		    cases[i].line, argv[0]);
		TU_CHECK(cases[i].pat == NULL ?
		        pat[0] == NULL :
		        pat[0] != NULL && strcmp(pat[0], cases[i].pat) == 0,
		    "%s: pattern %s", cases[i].line,
		    pat[0] ? pat[0] : "(none)");
		free(st);
	}
}

/* What completion inserts (cmdline_quote) splits back to the same single
 * literal word, in every quoting style. */
static void
test_quote_round_trip(void)
{
	static const char *const names[] = { "my file.txt", "it's", "a\"b",
		"x*?[y]", "back\\slash", "#hash", "semi;colon", "!bang",
		"tab\tx", "" };
	static const char styles[] = { '\0', '\'', '"' };
	char q[256], line[260], *argv[CMDLINE_ARGS_MAX + 1];
	char *pat[CMDLINE_ARGS_MAX + 1], st[CMDLINE_STORAGE(260)];
	size_t i, k;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		for (k = 0; k < sizeof(styles); k++) {
			if (names[i][0] == '\0' && styles[k] == '\0')
				continue;
			CU_ASSERT_FATAL(cmdline_quote(names[i], styles[k], q,
			                    sizeof(q)) == 0);
			snprintf(line, sizeof(line), "%s%s%s",
			    styles[k] ? (char[]){ styles[k], 0 } : "", q,
			    styles[k] ? (char[]){ styles[k], 0 } : "");
			TU_CHECK(cmdline_split(line, st, argv, pat) == 1 &&
			        strcmp(argv[0], names[i]) == 0 &&
			        pat[0] == NULL,
			    "%s (style %c) quoted as %s", names[i],
			    styles[k] ? styles[k] : '0', line);
		}
	CU_ASSERT_EQUAL(cmdline_quote("abc", '\0', q, 3), WH_ERR_TOO_LARGE);
}

/* The word being typed, as completion sees it. */
static void
test_tail(void)
{
	struct cmdline_tail t;
	char lit[64];
	const char *l1 = "ls \"my fi", *l2 = "get a\\ b", *l3 = "ls x ";

	CU_ASSERT_EQUAL(cmdline_tail(l1, strlen(l1), &t, lit, sizeof(lit)), 0);
	CU_ASSERT(t.start == 3 && t.quote == '"' && t.index == 1 &&
	    strcmp(lit, "my fi") == 0);
	CU_ASSERT_EQUAL(cmdline_tail(l2, strlen(l2), &t, lit, sizeof(lit)), 0);
	CU_ASSERT(t.start == 4 && t.quote == '\0' && strcmp(lit, "a b") == 0);
	CU_ASSERT_EQUAL(cmdline_tail(l3, strlen(l3), &t, lit, sizeof(lit)), 0);
	CU_ASSERT(t.start == 5 && t.index == 2 && lit[0] == '\0');
}

void
register_cli_tests(void)
{
	CU_pSuite s = CU_add_suite("cli_split", NULL, NULL);

	if (s == NULL)
		return;
	CU_add_test(s, "words", test_words);
	CU_add_test(s, "quotes", test_quotes);
	CU_add_test(s, "backslash escapes", test_backslashes);
	CU_add_test(s, "comments", test_comments);
	CU_add_test(s, "unbalanced quotes", test_unbalanced);
	CU_add_test(s, "word limit", test_too_many_words);
	CU_add_test(s, "patterns (sftp's quoting rule)", test_patterns);
	CU_add_test(s, "completion quoting round trip", test_quote_round_trip);
	CU_add_test(s, "word being typed", test_tail);
}
