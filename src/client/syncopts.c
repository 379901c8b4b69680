/* SPDX-License-Identifier: MIT */
/*
 * sync's filter rules, itemized changes and backup names. The rules
 * follow rsync's simple forms: a pattern without '/' matches the name of
 * a file or folder anywhere, one with '/' the path from the top ("/x"
 * only at the top), a trailing '/' matches folders only; an excluded
 * folder is not descended into, so "--include '*.c' --exclude '*'" keeps
 * only the top's .c files, exactly as with rsync.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "wharf/cli.h"
#include "wharf/log.h"
#include "wharf/syncopts.h"
#include "wharf/text.h"

int
sync_filter_add(struct sync_filter *f, const char *pattern, int include)
{
	struct sync_rule *r;
	size_t n = strlen(pattern);

	if (f->n == SYNC_RULES_MAX) {
		fprintf(stderr, "wharf: sync: at most %d filter rules\n",
		    SYNC_RULES_MAX);
		return WH_ERR_INVALID_ARG;
	}
	r = &f->v[f->n];
	memset(r, 0, sizeof(*r));
	r->include = include;
	if (pattern[0] == '/') {
		r->anchored = 1;
		pattern++;
		n--;
	}
	if (n > 0 && pattern[n - 1] == '/') {
		r->dir_only = 1;
		n--;
	}
	if (n == 0) {
		fprintf(stderr, "wharf: sync: empty %s pattern\n",
		    include ? "--include" : "--exclude");
		return WH_ERR_INVALID_ARG;
	}
	if ((r->pattern = strndup(pattern, n)) == NULL)
		return WH_ERR_NOMEM;
	r->has_slash = r->anchored || strchr(r->pattern, '/') != NULL;
	f->n++;
	return 0;
}

int
sync_filter_load(struct sync_filter *f, const char *path, int include)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char line[4096];
	size_t n;
	int r = 0;

	if (fp == NULL) {
		fprintf(stderr, "wharf: sync: %s: %s\n", path, strerror(errno));
		return WH_ERR_INVALID_ARG;
	}
	while (r == 0 && fgets(line, sizeof(line), fp) != NULL) {
		n = strlen(line);
		if (n > 0 && line[n - 1] != '\n' && !feof(fp)) {
			fprintf(stderr, "wharf: sync: %s: a line is too long\n",
			    path);
			r = WH_ERR_INVALID_ARG;
			break;
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#' || line[0] == ';')
			continue;
		r = sync_filter_add(f, line, include);
	}
	if (r == 0 && ferror(fp)) {
		fprintf(stderr, "wharf: sync: %s: %s\n", path, strerror(errno));
		r = WH_ERR_INVALID_ARG;
	}
	if (fp != stdin)
		fclose(fp);
	return r;
}

void
sync_filter_cleanup(struct sync_filter *f)
{
	int i;

	for (i = 0; i < f->n; i++)
		free(f->v[i].pattern);
	f->n = 0;
}

static int
rule_matches(
    const struct sync_rule *r, const char *rel, const char *name, int is_dir)
{
	const char *tail;

	if (r->dir_only && !is_dir)
		return 0;
	if (!r->has_slash)
		return fnmatch(r->pattern, name, 0) == 0;
	if (r->anchored)
		return fnmatch(r->pattern, rel, FNM_PATHNAME) == 0;
	/* "a/b" matches at any depth, on whole components. */
	for (tail = rel; tail != NULL;
	     tail = (tail = strchr(tail, '/')) != NULL ? tail + 1 : NULL)
		if (fnmatch(r->pattern, tail, FNM_PATHNAME) == 0)
			return 1;
	return 0;
}

int
sync_filter_excluded(
    const struct sync_filter *f, const char *rel, const char *name, int is_dir)
{
	int i;

	for (i = 0; i < f->n; i++)
		if (rule_matches(&f->v[i], rel, name, is_dir))
			return !f->v[i].include;
	return 0;
}

void
sync_itemize(
    FILE *f, int json, int download, char type, unsigned why, const char *rel)
{
	char flags[12], clean[LOG_PEER_STR_MAX + 1];
	static const char *const names[] = { "new", "size", "time", "content",
		"deleted", "link" };
	int i, first = 1;

	if (json) {
		fprintf(f,
		    "{\"op\":\"sync\",\"change\":\"%s\",\"type\":\"%s\","
		    "\"direction\":\"%s\",\"path\":",
		    (why & SYNC_WHY_DELETED) ? "delete" :
		        (why & SYNC_WHY_NEW) ? "new" :
		                               "update",
		    type == 'd'     ? "dir" :
		        type == 'L' ? "link" :
		                      "file",
		    download ? "get" : "put");
		cli_json_str(f, rel);
		fputs(",\"reasons\":[", f);
		for (i = 0; i < 6; i++)
			if (why & (1u << i)) {
				fprintf(
				    f, "%s\"%s\"", first ? "" : ",", names[i]);
				first = 0;
			}
		fputs("]}\n", f);
		return;
	}
	text_clean(clean, sizeof(clean), rel);
	if (why & SYNC_WHY_DELETED) {
		fprintf(f, "*deleting   %s%s\n", clean, type == 'd' ? "/" : "");
		return;
	}
	memset(flags, '.', sizeof(flags) - 1);
	flags[sizeof(flags) - 1] = '\0';
	flags[0] = type == 'f' ? (download ? '>' : '<') : 'c';
	flags[1] = type;
	if (why & SYNC_WHY_NEW)
		memset(flags + 2, '+', sizeof(flags) - 3);
	else {
		if (why & SYNC_WHY_CONTENT)
			flags[2] = 'c';
		if (why & SYNC_WHY_SIZE)
			flags[3] = 's';
		if (why & SYNC_WHY_TIME)
			flags[4] = 't';
		if (why & SYNC_WHY_TYPE)
			flags[2] = 'c'; /* a link's new target */
	}
	fprintf(f, "%s %s%s\n", flags, clean, type == 'd' ? "/" : "");
}

char *
sync_backup_path(const char *top, const char *dir, const char *rel)
{
	size_t n;
	char *p;

	if (dir == NULL) {
		n = strlen(top) + strlen(rel) + sizeof(SYNC_BACKUP_SUFFIX) + 2;
		if ((p = malloc(n)) != NULL)
			snprintf(p, n, "%s/%s%s", top, rel, SYNC_BACKUP_SUFFIX);
		return p;
	}
	n = strlen(top) + strlen(dir) + strlen(rel) + 3;
	if ((p = malloc(n)) == NULL)
		return NULL;
	if (dir[0] == '/')
		snprintf(p, n, "%s/%s", dir, rel);
	else
		snprintf(p, n, "%s/%s/%s", top, dir, rel);
	return p;
}
