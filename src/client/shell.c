/* SPDX-License-Identifier: MIT */
/*
 * The interactive shell: libedit for line editing, history
 * ($XDG_STATE_HOME/wharf/history, bounded) and Tab completion of command
 * names, local paths and remote paths (listed on the server and cached
 * for a few seconds). Works without a connection for local commands;
 * offers to reconnect when the connection is lost.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <editline/readline.h>

#include "wharf/cli.h"
#include "wharf/file.h"
#include "wharf/log.h"
#include "wharf/msg.h"
#include "wharf/text.h"

#define SHELL_HISTORY_MAX 1000
#define SHELL_CACHE_SECS 5
#define SHELL_PROMPT_MAX 1024

static struct cli *shell_cli;

/* One remote folder's listing, kept briefly for completion. */
static struct {
	char dir[CLIENT_PATH_MAX];
	char **names; /* directories end with '/' */
	int n;
	time_t when;
} cache;

static void
cache_clear(void)
{
	cli_free_list(cache.names, cache.n);
	cache.names = NULL;
	cache.n = 0;
	cache.dir[0] = '\0';
}

static int
cache_add(void *arg, const Wharf__Envelope *part)
{
	char name[WIRE_NAME_MAX + 2], **nv;
	size_t i, len;

	(void)arg;
	for (i = 0; i < part->list_part->n_entries; i++) {
		const Wharf__FileInfo *fi = part->list_part->entries[i];

		if (msg_text(&fi->name, name, sizeof(name) - 1) != 0)
			continue;
		if (fi->type == WHARF__FILE_TYPE__TYPE_DIR) {
			len = strlen(name);
			name[len] = '/';
			name[len + 1] = '\0';
		}
		if ((nv = realloc(cache.names,
		         (size_t)(cache.n + 1) * sizeof(*nv))) == NULL)
			return 0;
		cache.names = nv;
		if ((cache.names[cache.n] = strdup(name)) != NULL)
			cache.n++;
	}
	return 0;
}

/* Lists dir on the server unless the cache holds it. */
static void
cache_fill(const char *dir)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__ListReq lr = WHARF__LIST_REQ__INIT;
	struct client *c = shell_cli->c;

	if (strcmp(cache.dir, dir) == 0 &&
	    time(NULL) - cache.when < SHELL_CACHE_SECS)
		return;
	cache_clear();
	if (c == NULL || c->lost)
		return;
	snprintf(cache.dir, sizeof(cache.dir), "%s", dir);
	cache.when = time(NULL);
	lr.path = msg_bytes(dir);
	lr.all = 1;
	req.body_case = WHARF__ENVELOPE__BODY_LIST;
	req.list = &lr;
	if (client_call(c, &req, &resp, cache_add, NULL) == 0 &&
	    resp->body_case == WHARF__ENVELOPE__BODY_LIST_PART)
		cache_add(NULL, resp);
	msg_free(resp);
}

static char *
command_generator(const char *text, int state)
{
	static const char *const *names;
	static int i;
	const char *n;

	if (state == 0) {
		names = cli_command_names();
		i = 0;
	}
	while ((n = names[i++]) != NULL)
		if (strncmp(n, text, strlen(text)) == 0 && strlen(n) > 1)
			return strdup(n);
	return NULL;
}

static char *
remote_generator(const char *text, int state)
{
	static int i;
	static char dir[CLIENT_PATH_MAX];
	static const char *base;
	static size_t dirlen;
	const char *slash;
	char *out;
	size_t need;

	if (state == 0) {
		slash = strrchr(text, '/');
		if (slash == NULL) {
			snprintf(dir, sizeof(dir), ".");
			dirlen = 0;
			base = text;
		} else {
			dirlen = (size_t)(slash - text) + 1;
			snprintf(dir, sizeof(dir), "%.*s",
			    (int)(slash == text ? 1 : dirlen - 1), text);
			base = slash + 1;
		}
		cache_fill(dir);
		i = 0;
	}
	while (i < cache.n) {
		const char *name = cache.names[i++];

		if (strncmp(name, base, strlen(base)) != 0 ||
		    (name[0] == '.' && base[0] != '.'))
			continue;
		need = dirlen + strlen(name) + 1;
		if ((out = malloc(need)) == NULL)
			return NULL;
		snprintf(out, need, "%.*s%s", (int)dirlen, text, name);
		return out;
	}
	return NULL;
}

/* Which word is being completed decides what completes it. */
static char **
complete(const char *text, int start, int end)
{
	char cmd[32];
	size_t n;
	char **m;

	(void)end;
	rl_attempted_completion_over = 1;
	n = strspn(rl_line_buffer, " \t");
	if ((int)n >= start)
		return rl_completion_matches(text, command_generator);
	snprintf(cmd, sizeof(cmd), "%.*s",
	    (int)strcspn(rl_line_buffer + n, " \t"), rl_line_buffer + n);
	if (cli_command_is_remote_path(cmd) && shell_cli->c != NULL) {
		m = rl_completion_matches(text, remote_generator);
		/* A folder completes without a trailing space, so the
		 * next Tab can go on into it. */
		if (m != NULL && m[0][0] != '\0' &&
		    m[0][strlen(m[0]) - 1] == '/' &&
		    (m[1] == NULL || m[2] == NULL))
			rl_completion_append_character = '\0';
		else
			rl_completion_append_character = ' ';
		return m;
	}
	rl_completion_append_character = ' ';
	return rl_completion_matches(text, rl_filename_completion_function);
}

static int
history_path(char *out, size_t outlen)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char dir[PATH_MAX];

	if (xdg != NULL && xdg[0] == '/')
		snprintf(dir, sizeof(dir), "%s/wharf", xdg);
	else if (home != NULL && home[0] != '\0')
		snprintf(dir, sizeof(dir), "%s/.local/state/wharf", home);
	else
		return WH_ERR_NOT_FOUND;
	if (file_mkdirs(dir, 0700) != 0)
		return WH_ERR_SYSTEM;
	if (snprintf(out, outlen, "%s/history", dir) >= (int)outlen)
		return WH_ERR_TOO_LARGE;
	return 0;
}

static void
make_prompt(struct cli *cli, char *out, size_t outlen)
{
	char cwd[CLIENT_PATH_MAX];

	if (cli->c == NULL || cli->c->lost) {
		snprintf(out, outlen, "wharf (not connected)> ");
		return;
	}
	text_clean(cwd, sizeof(cwd), cli->c->cwd);
	/* No colour here: libedit counts escape bytes as columns. */
	snprintf(out, outlen, "%s@%.256s:%.300s> ", cli->c->target.user,
	    cli->c->target.host, cwd);
}

/* After a lost connection: offer `open` with the last target. */
static void
offer_reconnect(struct cli *cli)
{
	char *answer, q[NETADDR_STR_MAX + 64];

	if (cli->c == NULL || !cli->c->lost || !cli->have_target)
		return;
	fprintf(stderr, "wharf: connection to %s lost\n", cli->c->hostport);
	snprintf(q, sizeof(q), "reconnect to %s? [Y/n] ", cli->c->hostport);
	client_close(cli->c);
	cli->c = NULL;
	cache_clear();
	answer = readline(q);
	if (answer != NULL &&
	    (answer[0] == '\0' || answer[0] == 'y' || answer[0] == 'Y'))
		(void)cli_open(cli, &cli->target);
	else
		fprintf(stderr, "wharf: not connected; 'open' reconnects\n");
	free(answer);
}

static sigjmp_buf prompt_jmp;
static volatile sig_atomic_t at_prompt;

/* Ctrl-C at the prompt abandons the line being typed: back to a fresh
 * prompt, as in a shell. Only while readline() waits for input. */
static void
on_prompt_sigint(int sig)
{
	(void)sig;
	if (at_prompt)
		siglongjmp(prompt_jmp, 1);
}

static char *
read_line(const char *prompt)
{
	struct sigaction sa, old;
	char *line;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_prompt_sigint;
	sigemptyset(&sa.sa_mask);
	if (sigsetjmp(prompt_jmp, 1) != 0) {
		at_prompt = 0;
		fputs("^C\n", stdout);
		/* The text typed so far goes with the interrupted line. */
		rl_replace_line("", 0);
	}
	sigaction(SIGINT, &sa, &old);
	at_prompt = 1;
	line = readline(prompt);
	at_prompt = 0;
	sigaction(SIGINT, &old, NULL);
	return line;
}

int
shell_run(struct cli *cli)
{
	char prompt[SHELL_PROMPT_MAX], hist[PATH_MAX];
	int have_hist, status = EXIT_OK;
	char *line;

	shell_cli = cli;
	rl_readline_name = "wharf";
	/* Signals are ours: libedit would re-send them to the group. */
	rl_catch_signals = 0;
	rl_attempted_completion_function = complete;
	have_hist = history_path(hist, sizeof(hist)) == 0;
	using_history();
	stifle_history(SHELL_HISTORY_MAX);
	if (have_hist)
		read_history(hist);
	while (!cli->quit) {
		make_prompt(cli, prompt, sizeof(prompt));
		if ((line = read_line(prompt)) == NULL) {
			/* Ctrl-D */
			fputc('\n', stdout);
			break;
		}
		if (line[strspn(line, " \t")] != '\0') {
			add_history(line);
			status = cli_run_line(cli, line);
			/* The tree may have changed under completion. */
			cache_clear();
		}
		free(line);
		offer_reconnect(cli);
	}
	if (have_hist) {
		write_history(hist);
		history_truncate_file(hist, SHELL_HISTORY_MAX);
	}
	cache_clear();
	return status == EXIT_CONNECT ? EXIT_CONNECT : EXIT_OK;
}
