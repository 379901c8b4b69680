/* SPDX-License-Identifier: MIT */
/*
 * Slowing down password guessing per source address: every failed login
 * from an address doubles the pause before its next answer (1 s, 2 s,
 * 4 s, ... up to GUARD_DELAY_MAX_MS); a success or GUARD_FORGET_SECS of
 * quiet resets it. Other addresses are not affected, so nobody is locked
 * out by someone else's guessing.
 */
#ifndef WHARF_GUARD_H
#define WHARF_GUARD_H

#define GUARD_DELAY_BASE_MS 1000
#define GUARD_DELAY_MAX_MS 30000
#define GUARD_FORGET_SECS 600
#define GUARD_TABLE_MAX 4096

/* Records a failed login from addr; returns the pause to apply, in ms. */
int guard_failed(const char *addr);
/* A successful login from addr clears its record. */
void guard_succeeded(const char *addr);

#endif
