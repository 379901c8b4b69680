/* SPDX-License-Identifier: MIT */
/*
 * Per-user bandwidth limits (the users file's ":bwlimit="): one bucket
 * pair per user, shared by all of that user's sessions and their joined
 * connections while any lives, so that opening more connections does not
 * multiply the user's rate.
 */
#ifndef WHARF_USERBW_H
#define WHARF_USERBW_H

#include <stdint.h>

#include "wharf/ratelimit.h"

struct user_bw {
	struct user_bw *next;
	int refs; /* under the table's lock */
	uint64_t rate;
	struct ratelimit in;
	struct ratelimit out;
	char user[64];
};

/*
 * The buckets of user at rate bytes/s, made on first use and shared
 * after; a changed rate (wharf user mod) starts a new pair for the logins
 * that follow. NULL on ENOMEM or a bad rate. Release with user_bw_put.
 */
struct user_bw *user_bw_get(const char *user, uint64_t rate);
void user_bw_put(struct user_bw *b);

#endif
