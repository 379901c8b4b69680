/* SPDX-License-Identifier: MIT */
/*
 * `wharf user add|del|passwd|list`: edits the users file in the state
 * folder under a lock, so that two edits at once cannot lose each other.
 * A running server re-reads the file at each login.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "wharf/file.h"
#include "wharf/server.h"
#include "wharf/strnum.h"
#include "wharf/tty.h"
#include "wharf/users.h"

static void
user_usage(FILE *f)
{
	fprintf(f,
	    "usage: wharf user add NAME [--state DIR] [--read-only] "
	    "[--home SUBDIR] [--quota SIZE]\n"
	    "       wharf user mod NAME [--state DIR] [--read-only | "
	    "--read-write]\n"
	    "                      [--home SUBDIR | --no-home] "
	    "[--quota SIZE | --quota none]\n"
	    "       wharf user del NAME [--state DIR]\n"
	    "       wharf user passwd NAME [--state DIR]\n"
	    "       wharf user list [--state DIR]\n"
	    "\n"
	    "The password is typed twice on a terminal, or read as one line "
	    "from\nstandard input otherwise. A home confines the user to "
	    "that folder of\nthe root (created at the first login); a quota "
	    "(e.g. 10G) caps the bytes\nstored in it. State defaults to "
	    "%s.\n",
	    SERVER_STATE_DEFAULT);
}

/* Reads a new password: twice on a terminal, else one stdin line. */
static int
read_new_password(char *out, size_t outlen)
{
	int r;

	if (tty_stdin_is_tty()) {
		if ((r = tty_read_new_secret("password", out, outlen)) != 0)
			return r;
	} else if ((r = tty_read_line_stdin(out, outlen)) != 0) {
		fprintf(stderr,
		    "wharf: expected the password as one line on "
		    "standard input\n");
		return r;
	}
	if (out[0] == '\0') {
		fprintf(stderr, "wharf: empty password refused\n");
		return WH_ERR_INVALID_ARG;
	}
	return 0;
}

struct user_change {
	int read_only; /* -1: unchanged */
	const char *home; /* NULL: unchanged; "": none */
	int set_quota;
	uint64_t quota;
};

static int
apply_change(struct user *usr, const struct user_change *ch)
{
	if (ch->read_only >= 0)
		usr->read_only = ch->read_only;
	if (ch->home != NULL && users_set_home(usr, ch->home) != 0) {
		fprintf(stderr,
		    "wharf: --home %s: expected a folder below "
		    "the root, without '..' or ':'\n",
		    ch->home);
		return WH_ERR_INVALID_ARG;
	}
	if (ch->set_quota)
		usr->quota = ch->quota;
	return 0;
}

static void
print_user(const struct user *usr)
{
	char q[32] = "-";

	if (usr->quota > 0)
		snprintf(q, sizeof(q), "%llu", (unsigned long long)usr->quota);
	printf("%s\t%s\thome=%s\tquota=%s%s%s\n", usr->name,
	    usr->read_only ? "ro" : "rw", usr->home[0] ? usr->home : "/", q,
	    usr->extra[0] ? "\t" : "", usr->extra);
}

int
user_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "read-write", no_argument, NULL, 'w' },
		{ "home", required_argument, NULL, 'H' },
		{ "no-home", no_argument, NULL, 'N' },
		{ "quota", required_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state = SERVER_STATE_DEFAULT, *verb, *name = NULL;
	char path[PATH_MAX], lockpath[PATH_MAX];
	char password[USERS_PASSWORD_MAX + 2];
	struct user_change ch = { -1, NULL, 0, 0 };
	struct users u = { 0 };
	struct user *usr;
	int c, r, bad, lockfd = -1, status = 1, changed = 0;
	size_t i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			state = optarg;
			break;
		case 'r':
			ch.read_only = 1;
			break;
		case 'w':
			ch.read_only = 0;
			break;
		case 'H':
			ch.home = optarg;
			break;
		case 'N':
			ch.home = "";
			break;
		case 'Q':
			ch.set_quota = 1;
			if (strcmp(optarg, "none") == 0)
				ch.quota = 0;
			else if (strnum_size(optarg, &ch.quota) != 0 ||
			    ch.quota == 0) {
				fprintf(stderr,
				    "wharf: --quota: expected a size "
				    "such as 10G, or none\n");
				return 2;
			}
			break;
		case 'h':
			user_usage(stdout);
			return 0;
		default:
			user_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		user_usage(stderr);
		return 2;
	}
	verb = argv[optind++];
	if (strcmp(verb, "list") != 0) {
		if (optind >= argc) {
			fprintf(stderr, "wharf: user %s: missing NAME\n", verb);
			return 2;
		}
		name = argv[optind++];
	}
	if (optind != argc) {
		fprintf(stderr, "wharf: user: unexpected argument '%s'\n",
		    argv[optind]);
		return 2;
	}
	if (strcmp(verb, "add") != 0 && strcmp(verb, "del") != 0 &&
	    strcmp(verb, "passwd") != 0 && strcmp(verb, "list") != 0 &&
	    strcmp(verb, "mod") != 0) {
		fprintf(stderr, "wharf: user: unknown command '%s'\n", verb);
		user_usage(stderr);
		return 2;
	}
	if ((ch.read_only >= 0 || ch.home != NULL || ch.set_quota) &&
	    strcmp(verb, "add") != 0 && strcmp(verb, "mod") != 0) {
		fprintf(stderr,
		    "wharf: user %s: --read-only, --home and "
		    "--quota go with add or mod\n",
		    verb);
		return 2;
	}
	if (name != NULL && !users_name_valid(name)) {
		fprintf(stderr,
		    "wharf: invalid user name '%s': use 1-%d of "
		    "letters, digits, '.', '_' and '-'\n",
		    name, USERS_NAME_MAX);
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	if ((r = file_mkdirs(state, 0700)) != 0) {
		fprintf(stderr, "wharf: state %s: %s\n", state, wh_strerror(r));
		return 1;
	}
	snprintf(path, sizeof(path), "%.*s/%s", PATH_MAX - 32, state,
	    USERS_FILE_NAME);
	snprintf(lockpath, sizeof(lockpath), "%.*s/%s.lock", PATH_MAX - 32,
	    state, USERS_FILE_NAME);
	if ((lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(lockfd, LOCK_EX) != 0) {
		fprintf(stderr, "wharf: %s: %s\n", lockpath, strerror(errno));
		goto out;
	}
	if ((r = users_load(path, &u, &bad)) != 0) {
		fprintf(stderr, "wharf: %s: %s%s\n", path, wh_strerror(r),
		    r == WH_ERR_CORRUPT ? " (a malformed line)" : "");
		goto out;
	}
	if (strcmp(verb, "list") == 0) {
		for (i = 0; i < u.n; i++)
			print_user(&u.v[i]);
		status = 0;
		goto out;
	}
	usr = users_find(&u, name);
	if (strcmp(verb, "add") == 0 && usr != NULL) {
		fprintf(stderr, "wharf: user %s already exists\n", name);
		goto out;
	}
	if (strcmp(verb, "add") != 0 && usr == NULL) {
		fprintf(stderr, "wharf: no user %s\n", name);
		goto out;
	}
	if (strcmp(verb, "del") == 0) {
		r = users_remove(&u, name);
	} else if (strcmp(verb, "mod") == 0) {
		if ((r = apply_change(usr, &ch)) != 0) {
			status = 2;
			goto out;
		}
	} else {
		if (read_new_password(password, sizeof(password)) != 0)
			goto out;
		if (strlen(password) > USERS_PASSWORD_MAX) {
			fprintf(stderr,
			    "wharf: password longer than %d bytes\n",
			    USERS_PASSWORD_MAX);
			goto out;
		}
		if (usr != NULL)
			r = users_set_password(usr, password);
		else if ((r = users_add(&u, name, password, 0)) == 0 &&
		    (r = apply_change(&u.v[u.n - 1], &ch)) != 0) {
			sodium_memzero(password, sizeof(password));
			status = 2;
			goto out;
		}
		sodium_memzero(password, sizeof(password));
	}
	changed = r == 0;
	if (r == 0 && changed)
		r = users_save(path, &u);
	if (r != 0) {
		fprintf(stderr, "wharf: user %s %s: %s\n", verb, name,
		    wh_strerror(r));
		goto out;
	}
	fprintf(stderr, "wharf: user %s %s\n", name,
	    strcmp(verb, "add") == 0     ? "added" :
	        strcmp(verb, "del") == 0 ? "deleted" :
	        strcmp(verb, "mod") == 0 ? "changed" :
	                                   "password changed");
	status = 0;
out:
	if (lockfd >= 0)
		close(lockfd);
	users_cleanup(&u);
	return status;
}
