/* SPDX-License-Identifier: MIT */
/*
 * Secret input. Echo is restored even when the read fails, and SIGINT
 * during the prompt is left to its default so Ctrl-C still works.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "wharf/tty.h"

static int
read_line_fd(int fd, char *out, size_t outlen)
{
	size_t n = 0;
	ssize_t k;
	char c;

	for (;;) {
		k = read(fd, &c, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return WH_ERR_SYSTEM;
		if (k == 0) {
			if (n == 0)
				return WH_ERR_EOF;
			break;
		}
		if (c == '\n')
			break;
		if (n + 1 >= outlen)
			return WH_ERR_TOO_LARGE;
		out[n++] = c;
	}
	if (n > 0 && out[n - 1] == '\r')
		n--;
	out[n] = '\0';
	return 0;
}

int
tty_read_secret(const char *prompt, char *out, size_t outlen)
{
	struct termios old, quiet;
	int fd, r;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0)
		return WH_ERR_UNSUPPORTED;
	if (tcgetattr(fd, &old) != 0) {
		close(fd);
		return WH_ERR_UNSUPPORTED;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(fd, prompt, strlen(prompt)) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		close(fd);
		return WH_ERR_SYSTEM;
	}
	r = read_line_fd(fd, out, outlen);
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		r = r ? r : WH_ERR_SYSTEM;
	close(fd);
	return r;
}

int
tty_read_line_stdin(char *out, size_t outlen)
{
	return read_line_fd(STDIN_FILENO, out, outlen);
}

int
tty_stdin_is_tty(void)
{
	return isatty(STDIN_FILENO);
}

int
tty_read_new_secret(const char *what, char *out, size_t outlen)
{
	char prompt[64], *again;
	int r;

	/* The repeat has the same bound as the first: whatever fits out. */
	if ((again = malloc(outlen)) == NULL)
		return WH_ERR_NOMEM;
	snprintf(prompt, sizeof(prompt), "New %s: ", what);
	r = tty_read_secret(prompt, out, outlen);
	snprintf(prompt, sizeof(prompt), "Repeat %s: ", what);
	if (r == 0)
		r = tty_read_secret(prompt, again, outlen);
	if (r == 0 && strcmp(out, again) != 0) {
		fprintf(stderr, "wharf: %ss do not match\n", what);
		r = WH_ERR_INVALID_ARG;
	}
	sodium_memzero(again, outlen);
	free(again);
	if (r != 0)
		sodium_memzero(out, outlen);
	return r;
}
