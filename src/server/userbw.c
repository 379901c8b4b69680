/* SPDX-License-Identifier: MIT */
/*
 * The table of per-user buckets: a short list (one entry per user with a
 * limit and a session now), under one lock taken only at login and at the
 * end of a session, never per write.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wharf/userbw.h"

static struct user_bw *table;
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;

struct user_bw *
user_bw_get(const char *user, uint64_t rate)
{
	struct user_bw *b;

	if (strlen(user) >= sizeof(b->user))
		return NULL;
	pthread_mutex_lock(&table_mu);
	for (b = table; b != NULL; b = b->next)
		if (b->rate == rate && strcmp(b->user, user) == 0) {
			b->refs++;
			pthread_mutex_unlock(&table_mu);
			return b;
		}
	if ((b = calloc(1, sizeof(*b))) != NULL) {
		if (ratelimit_init(&b->in, rate) != 0 ||
		    ratelimit_init(&b->out, rate) != 0) {
			ratelimit_cleanup(&b->in);
			free(b);
			b = NULL;
		} else {
			memcpy(b->user, user, strlen(user) + 1);
			b->rate = rate;
			b->refs = 1;
			b->next = table;
			table = b;
		}
	}
	pthread_mutex_unlock(&table_mu);
	return b;
}

void
user_bw_put(struct user_bw *b)
{
	struct user_bw **p;

	if (b == NULL)
		return;
	pthread_mutex_lock(&table_mu);
	if (--b->refs > 0) {
		pthread_mutex_unlock(&table_mu);
		return;
	}
	for (p = &table; *p != NULL; p = &(*p)->next)
		if (*p == b) {
			*p = b->next;
			break;
		}
	pthread_mutex_unlock(&table_mu);
	ratelimit_cleanup(&b->in);
	ratelimit_cleanup(&b->out);
	free(b);
}
