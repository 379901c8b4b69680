/* SPDX-License-Identifier: MIT */
/*
 * Reading secrets: a no-echo prompt on the controlling terminal, or one
 * line from standard input for scripts. Never waits when there is neither.
 */
#ifndef WHARF_TTY_H
#define WHARF_TTY_H

#include <stddef.h>

#include "wharf/err.h"

/*
 * Prompts on /dev/tty with echo off and reads one line into out (NUL
 * terminated, newline stripped). WH_ERR_UNSUPPORTED when there is no
 * terminal, WH_ERR_TOO_LARGE when the line does not fit.
 */
int tty_read_secret(const char *prompt, char *out, size_t outlen) WH_MUST_CHECK;

/*
 * A new secret, typed twice on the terminal ("New WHAT: ", "Repeat
 * WHAT: "). WH_ERR_INVALID_ARG, said on stderr, when the two differ;
 * otherwise as tty_read_secret.
 */
int
tty_read_new_secret(const char *what, char *out, size_t outlen) WH_MUST_CHECK;

/* Reads one line from stdin (newline stripped). WH_ERR_EOF on no input. */
int tty_read_line_stdin(char *out, size_t outlen) WH_MUST_CHECK;

/* 1 if stdin is a terminal. */
int tty_stdin_is_tty(void);

#endif
