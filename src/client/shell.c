/* SPDX-License-Identifier: MIT */
/*
 * The interactive shell: libedit for line editing, history
 * ($XDG_STATE_HOME/wharf/history, bounded) and Tab completion of command
 * names, local paths and remote paths (listed on the server and cached
 * for a few seconds). What Tab inserts is quoted by cmdline.c, the
 * module the parser uses, so a name with a space arrives as one word.
 * While the prompt waits, a thread pings the server well inside its idle
 * timeout. Works without a connection for local commands; offers to
 * reconnect when the connection is lost, back in the same folder.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include <editline/readline.h>

#include "wharf/cli.h"
#include "wharf/clock.h"
#include "wharf/cmdline.h"
#include "wharf/file.h"
#include "wharf/log.h"
#include "wharf/msg.h"
#include "wharf/text.h"

#define SHELL_HISTORY_MAX 1000
#define SHELL_CACHE_SECS 5
#define SHELL_PROMPT_MAX 1024
/* Without an announced idle timeout, the reference server's default. */
#define SHELL_IDLE_DEFAULT_SEC 300
#define SHELL_KEEPALIVE_MIN_MS 500

static struct cli *shell_cli;

/*
 * The connection belongs to whoever holds client_mu: the main thread
 * while it runs a command or completes a path, the keepalive thread while
 * it pings. The main thread lets go only while readline() waits.
 */
static pthread_mutex_t client_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t keepalive_cv;
static int keepalive_stop;
static int64_t last_used_ms; /* the connection's last request */
/* Completion is asking the server: a jump now would cut a request in
 * half, so Ctrl-C waits for the answer. */
static volatile sig_atomic_t in_request;

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
	struct client *c;

	if (strcmp(cache.dir, dir) == 0 &&
	    time(NULL) - cache.when < SHELL_CACHE_SECS)
		return;
	cache_clear();
	in_request = 1;
	pthread_mutex_lock(&client_mu);
	c = shell_cli->c;
	if (c == NULL || c->lost) {
		pthread_mutex_unlock(&client_mu);
		in_request = 0;
		return;
	}
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
	last_used_ms = clock_mono_ms();
	pthread_mutex_unlock(&client_mu);
	in_request = 0;
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

/* Bytes in the first n characters of s (libedit counts characters). */
static size_t
char_offset(const char *s, int n)
{
	mbstate_t ps;
	size_t off = 0, k, len = strlen(s);

	memset(&ps, 0, sizeof(ps));
	while (n-- > 0 && off < len) {
		k = mbrlen(s + off, len - off, &ps);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			k = 1;
			memset(&ps, 0, sizeof(ps));
		}
		off += k;
	}
	return off;
}

static int
local_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Turns the literal names in m into what goes on the line: quoted by
 * cmdline_quote in the style the word was begun with (bare, '...' or
 * "..."), a quote closed after a single match that is not a folder, and
 * without the first skip bytes, which libedit keeps (it starts the word
 * at the last blank, we at the start of the quoted word). A match that
 * would not begin with what was typed is dropped.
 */
static char **
quote_matches(char **m, const char *typed, size_t skip, char style, int remote)
{
	char q[CLIENT_PATH_MAX * 4 + 8], *name;
	size_t i, o;
	/* libedit's list: the common part, then each match; one match
	 * comes as itself twice. */
	int single = m[1] == NULL || m[2] == NULL, dir;

	rl_completion_append_character = ' ';
	for (i = 0, o = 0; m[i] != NULL; i++) {
		name = m[i];
		dir = remote ?
		    (name[0] != '\0' && name[strlen(name) - 1] == '/') :
		    (single && local_is_dir(name));
		q[0] = style;
		q[1] = '\0';
		if (cmdline_quote(
		        name, style, q + (style != '\0'), sizeof(q) - 3) != 0) {
			free(name);
			continue;
		}
		if (single && dir && !remote)
			memcpy(q + strlen(q), "/", 2);
		if (single && !dir && style != '\0') {
			size_t len = strlen(q);

			q[len] = style;
			q[len + 1] = '\0';
		}
		free(name);
		if (strlen(q) < skip || strncmp(q, typed, skip) != 0)
			continue;
		if ((m[o] = strdup(q + skip)) != NULL)
			o++;
		if (single && dir)
			/* A folder completes without a space, so that the
			 * next Tab goes on into it. */
			rl_completion_append_character = '\0';
	}
	m[o] = NULL;
	if (o == 0) {
		free(m);
		return NULL;
	}
	return m;
}

static char *
local_generator(const char *text, int state)
{
	return rl_filename_completion_function(text, state);
}

/*
 * Which word is being completed decides what completes it. The word and
 * its quoting come from cmdline_tail, the parser's own lexer, not from
 * libedit's idea of a word.
 */
static char **
complete(const char *text, int start, int end)
{
	char lit[CLIENT_PATH_MAX], cmd[32], typed[CLIENT_PATH_MAX * 4];
	struct cmdline_tail t;
	size_t bstart, bend, n;
	char **m;
	int remote;

	rl_attempted_completion_over = 1;
	rl_completion_append_character = ' ';
	bstart = char_offset(rl_line_buffer, start);
	bend = char_offset(rl_line_buffer, end);
	if (cmdline_tail(rl_line_buffer, bend, &t, lit, sizeof(lit)) != 0 ||
	    t.start > bstart || bend - t.start >= sizeof(typed))
		return NULL;
	if (t.index == 0)
		return rl_completion_matches(text, command_generator);
	n = strspn(rl_line_buffer, " \t");
	snprintf(cmd, sizeof(cmd), "%.*s",
	    (int)strcspn(rl_line_buffer + n, " \t"), rl_line_buffer + n);
	memcpy(typed, rl_line_buffer + t.start, bend - t.start);
	typed[bend - t.start] = '\0';
	remote = cli_command_is_remote_path(cmd) && shell_cli->c != NULL;
	m = rl_completion_matches(
	    lit, remote ? remote_generator : local_generator);
	if (m == NULL)
		return NULL;
	return quote_matches(m, typed, bstart - t.start,
	    typed[0] == '\'' || typed[0] == '"' ? typed[0] : '\0', remote);
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

/* After a lost connection: offer `open` with the last target, and go
 * back to the folder the user was in. */
static void
offer_reconnect(struct cli *cli)
{
	char *answer, q[NETADDR_STR_MAX + 64], cwd[CLIENT_PATH_MAX];

	if (cli->c == NULL || !cli->c->lost || !cli->have_target)
		return;
	fprintf(stderr, "wharf: connection to %s lost\n", cli->c->hostport);
	snprintf(q, sizeof(q), "reconnect to %s? [Y/n] ", cli->c->hostport);
	snprintf(cwd, sizeof(cwd), "%s", cli->c->cwd);
	client_close(cli->c);
	cli->c = NULL;
	cache_clear();
	answer = readline(q);
	if (answer != NULL &&
	    (answer[0] == '\0' || answer[0] == 'y' || answer[0] == 'Y')) {
		if (cli_open(cli, &cli->target) == EXIT_OK &&
		    strcmp(cwd, "/") != 0 && cli_cd(cli, cwd) != EXIT_OK)
			fprintf(stderr, "wharf: staying in %s\n", cli->c->cwd);
	} else
		fprintf(stderr, "wharf: not connected; 'open' reconnects\n");
	free(answer);
}

/* A third of the server's idle timeout, so that one lost ping still
 * leaves time for the next. */
static int64_t
keepalive_interval_ms(const struct client *c)
{
	int64_t idle =
	    c->idle_timeout > 0 ? c->idle_timeout : SHELL_IDLE_DEFAULT_SEC;
	int64_t ms = idle * 1000 / 3;

	return ms < SHELL_KEEPALIVE_MIN_MS ? SHELL_KEEPALIVE_MIN_MS : ms;
}

static void
keepalive_ping(struct client *c)
{
	Wharf__Envelope req = WHARF__ENVELOPE__INIT, *resp = NULL;
	Wharf__Ping ping = WHARF__PING__INIT;

	req.body_case = WHARF__ENVELOPE__BODY_PING;
	req.ping = &ping;
	/* A failure marks the connection lost; the prompt's next command
	 * finds out and offers to reconnect. */
	if (client_call(c, &req, &resp, NULL, NULL) == 0)
		msg_free(resp);
}

/* Pings whenever the connection has been quiet for the interval: it can
 * take the connection only while the main thread waits at the prompt. */
static void *
keepalive_main(void *arg)
{
	struct timespec until;
	int64_t due, now;
	struct client *c;

	(void)arg;
	pthread_mutex_lock(&client_mu);
	while (!keepalive_stop) {
		c = shell_cli->c;
		now = clock_mono_ms();
		due = c != NULL && !c->lost ?
		    last_used_ms + keepalive_interval_ms(c) :
		    now + 1000;
		if (now >= due) {
			keepalive_ping(c);
			last_used_ms = clock_mono_ms();
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)((due - now) / 1000);
		until.tv_nsec += (long)((due - now) % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&keepalive_cv, &client_mu, &until);
	}
	pthread_mutex_unlock(&client_mu);
	return NULL;
}

/* The thread takes no signals: Ctrl-C belongs to the prompt. */
static int
keepalive_start(pthread_t *tid)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	int r;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&keepalive_cv, &ca);
	pthread_condattr_destroy(&ca);
	keepalive_stop = 0;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(tid, NULL, keepalive_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static void
keepalive_end(pthread_t tid)
{
	keepalive_stop = 1;
	pthread_cond_signal(&keepalive_cv);
	pthread_mutex_unlock(&client_mu);
	pthread_join(tid, NULL);
	pthread_mutex_lock(&client_mu);
	pthread_cond_destroy(&keepalive_cv);
}

/* A local command ("!") does not use the connection: the keepalive may. */
static void
shell_idle(int begin)
{
	if (begin) {
		last_used_ms = clock_mono_ms();
		pthread_mutex_unlock(&client_mu);
	} else
		pthread_mutex_lock(&client_mu);
}

static sigjmp_buf prompt_jmp;
static volatile sig_atomic_t at_prompt;

/* Ctrl-C at the prompt abandons the line being typed: back to a fresh
 * prompt, as in a shell. Only while readline() waits for input. */
static void
on_prompt_sigint(int sig)
{
	(void)sig;
	if (at_prompt && !in_request)
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
		/* Never from inside a request (in_request), so the lock
		 * is not ours here: take it back, as after readline(). */
		pthread_mutex_lock(&client_mu);
		at_prompt = 0;
		fputs("^C\n", stdout);
		/* The text typed so far goes with the interrupted line. */
		rl_replace_line("", 0);
	}
	sigaction(SIGINT, &sa, &old);
	at_prompt = 1;
	/* While the user thinks, the keepalive thread may use the
	 * connection; it is ours again once a line is in. */
	last_used_ms = clock_mono_ms();
	pthread_mutex_unlock(&client_mu);
	line = readline(prompt);
	pthread_mutex_lock(&client_mu);
	at_prompt = 0;
	sigaction(SIGINT, &old, NULL);
	return line;
}

int
shell_run(struct cli *cli)
{
	char prompt[SHELL_PROMPT_MAX], hist[PATH_MAX];
	int have_hist, have_thread, status = EXIT_OK;
	pthread_t tid;
	char *line;

	shell_cli = cli;
	rl_readline_name = "wharf";
	/* Words end at blanks only; quotes and backslashes are cmdline.c's
	 * business (see complete()). */
	rl_basic_word_break_characters = " \t\n";
	rl_completer_word_break_characters = (char *)(uintptr_t) " \t\n";
	/* Signals are ours: libedit would re-send them to the group. */
	rl_catch_signals = 0;
	rl_attempted_completion_function = complete;
	have_hist = history_path(hist, sizeof(hist)) == 0;
	using_history();
	stifle_history(SHELL_HISTORY_MAX);
	if (have_hist)
		read_history(hist);
	pthread_mutex_lock(&client_mu);
	have_thread = keepalive_start(&tid) == 0;
	cli->idle_hook = have_thread ? shell_idle : NULL;
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
	cli->idle_hook = NULL;
	if (have_thread)
		keepalive_end(tid);
	pthread_mutex_unlock(&client_mu);
	if (have_hist) {
		write_history(hist);
		history_truncate_file(hist, SHELL_HISTORY_MAX);
	}
	cache_clear();
	return status == EXIT_CONNECT ? EXIT_CONNECT : EXIT_OK;
}
