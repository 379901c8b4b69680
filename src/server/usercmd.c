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

#include "wharf/authkeys.h"
#include "wharf/conf.h"
#include "wharf/file.h"
#include "wharf/server.h"
#include "wharf/strnum.h"
#include "wharf/tty.h"
#include "wharf/users.h"

static void
user_usage(FILE *f)
{
	fprintf(f,
	    "usage: wharf user add NAME [--read-only] [--home SUBDIR] "
	    "[--quota SIZE]\n"
	    "       wharf user mod NAME [--read-only | --read-write]\n"
	    "                      [--home SUBDIR | --no-home] "
	    "[--quota SIZE | --quota none]\n"
	    "                      [--keys-only | --password-ok] "
	    "[--disable | --enable]\n"
	    "       wharf user del NAME\n"
	    "       wharf user passwd NAME [--logout]\n"
	    "       wharf user list\n"
	    "       wharf user key add NAME FILE|- | key list NAME | key del "
	    "NAME ID\n"
	    "       each with [--config FILE | --state DIR] [--init]\n"
	    "\n"
	    "The password is typed twice on a terminal, or read as one line "
	    "from\nstandard input otherwise. A home confines the user to "
	    "that folder of\nthe root (created at the first login); a quota "
	    "(e.g. 10G) caps the bytes\nstored in it. A running server ends "
	    "the sessions of a user deleted or\ndisabled at once, and with "
	    "passwd --logout those the user had open.\nThe state folder is "
	    "the one 'wharf serve' uses: --state,\nelse the state key of "
	    "--config FILE or of the default configuration file,\nelse the "
	    "default (as root %s, otherwise $XDG_STATE_HOME/wharf).\n"
	    "--init starts a new state folder where there is none.\n",
	    CONF_STATE_SYSTEM);
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
	int keys_only; /* -1: unchanged */
	int disabled; /* -1: unchanged */
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
	if (ch->keys_only >= 0)
		usr->keys_only = ch->keys_only;
	if (ch->disabled >= 0)
		usr->disabled = ch->disabled;
	return 0;
}

static void
print_user(const struct user *usr)
{
	char q[32] = "-";

	if (usr->quota > 0)
		snprintf(q, sizeof(q), "%llu", (unsigned long long)usr->quota);
	printf("%s\t%s\thome=%s\tquota=%s%s%s%s%s\n", usr->name,
	    usr->read_only ? "ro" : "rw", usr->home[0] ? usr->home : "/", q,
	    usr->keys_only ? "\tkeys-only" : "",
	    usr->disabled ? "\tdisabled" : "", usr->extra[0] ? "\t" : "",
	    usr->extra);
}

/* 1 if dir holds a server's state: its users file or host key. */
static int
state_present(const char *dir)
{
	char path[PATH_MAX];

	snprintf(
	    path, sizeof(path), "%.*s/%s", PATH_MAX - 32, dir, USERS_FILE_NAME);
	if (access(path, F_OK) == 0)
		return 1;
	snprintf(path, sizeof(path), "%.*s/%s", PATH_MAX - 32, dir,
	    SERVER_HOST_KEY_FILE);
	return access(path, F_OK) == 0;
}

/* Takes the users file's lock: key edits and user edits exclude each
 * other, so a key is never added for a user being deleted. */
static int
lock_state(const char *state)
{
	char lockpath[PATH_MAX];
	int fd;

	snprintf(lockpath, sizeof(lockpath), "%.*s/%s.lock", PATH_MAX - 32,
	    state, USERS_FILE_NAME);
	if ((fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(fd, LOCK_EX) != 0) {
		fprintf(stderr, "wharf: %s: %s\n", lockpath, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The first line of FILE, or of standard input for "-". */
static int
read_key_line(const char *file, char *line, size_t n)
{
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	int r = -1;

	if (f == NULL) {
		fprintf(stderr, "wharf: %s: %s\n", file, strerror(errno));
		return -1;
	}
	while (fgets(line, (int)n, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[strspn(line, " \t")] != '\0' &&
		    line[strspn(line, " \t")] != '#') {
			r = 0;
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (r != 0)
		fprintf(stderr, "wharf: %s: no key in it\n", file);
	return r;
}

/* `wharf user key add NAME FILE|-`, `key list NAME`, `key del NAME ID`. */
static int
key_command(const char *state, int argc, char **argv)
{
	char path[PATH_MAX], line[SSHKEY_LINE_MAX];
	struct users u = { 0 };
	const char *verb = argc > 0 ? argv[0] : "", *name;
	int lockfd, bad, r, status = 1;

	if (argc < 2 ||
	    !((strcmp(verb, "add") == 0 && argc == 3) ||
	        (strcmp(verb, "del") == 0 && argc == 3) ||
	        (strcmp(verb, "list") == 0 && argc == 2))) {
		fprintf(stderr,
		    "usage: wharf user key add NAME FILE|- [--state DIR]\n"
		    "       wharf user key list NAME [--state DIR]\n"
		    "       wharf user key del NAME FINGERPRINT|COMMENT "
		    "[--state DIR]\n");
		return 2;
	}
	name = argv[1];
	snprintf(path, sizeof(path), "%.*s/%s", PATH_MAX - 32, state,
	    USERS_FILE_NAME);
	if ((lockfd = lock_state(state)) < 0)
		return 1;
	if ((r = users_load(path, &u, &bad)) != 0 ||
	    users_find(&u, name) == NULL) {
		fprintf(stderr, "wharf: no user %s in %s\n", name, path);
		goto out;
	}
	if (strcmp(verb, "list") == 0) {
		if ((r = authkeys_list(state, name, stdout)) != 0)
			fprintf(stderr, "wharf: keys of %s: %s\n", name,
			    wh_strerror(r));
		status = r == 0 ? 0 : 1;
		goto out;
	}
	if (strcmp(verb, "del") == 0) {
		if ((r = authkeys_del(state, name, argv[2])) != 0)
			fprintf(stderr, "wharf: user key del %s %s: %s\n", name,
			    argv[2],
			    r == WH_ERR_NOT_FOUND ? "no such key" :
			                            wh_strerror(r));
		else
			fprintf(stderr, "wharf: key %s of %s removed\n",
			    argv[2], name);
		status = r == 0 ? 0 : 1;
		goto out;
	}
	if (read_key_line(argv[2], line, sizeof(line)) != 0)
		goto out;
	if ((r = authkeys_add(state, name, line)) != 0) {
		fprintf(stderr, "wharf: user key add %s: %s\n", name,
		    r == WH_ERR_UNSUPPORTED ?
		        "only ssh-ed25519 keys, with the options from= and "
		        "read-only" :
		        r == WH_ERR_EXISTS ? "that key is there already" :
		        r == WH_ERR_FORMAT ? "not an authorized_keys line "
		                             "(ssh-ed25519 AAAA... comment)" :
		                             wh_strerror(r));
		status = r == WH_ERR_EXISTS ? 1 : 2;
		goto out;
	}
	{
		struct sshkey_authorized k;
		char fp[SSHKEY_FP_LEN];

		if (sshkey_parse_authorized(line, &k) == 0) {
			sshkey_fingerprint(k.pk, fp);
			fprintf(
			    stderr, "wharf: key %s added for %s\n", fp, name);
		}
	}
	status = 0;
out:
	sodium_memzero(line, sizeof(line));
	users_cleanup(&u);
	close(lockfd);
	return status;
}

int
user_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'C' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "read-write", no_argument, NULL, 'w' },
		{ "home", required_argument, NULL, 'H' },
		{ "no-home", no_argument, NULL, 'N' },
		{ "quota", required_argument, NULL, 'Q' },
		{ "keys-only", no_argument, NULL, 'K' },
		{ "password-ok", no_argument, NULL, 'W' },
		{ "init", no_argument, NULL, 'I' },
		{ "disable", no_argument, NULL, 'D' },
		{ "enable", no_argument, NULL, 'E' },
		{ "logout", no_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state = NULL, *config = NULL, *verb, *name = NULL;
	char path[PATH_MAX], lockpath[PATH_MAX], state_buf[PATH_MAX];
	char password[USERS_PASSWORD_MAX + 2];
	struct user_change ch = { -1, NULL, 0, 0, -1, -1 };
	struct users u = { 0 };
	struct user *usr;
	int init = 0, logout = 0;
	int c, r, bad, lockfd = -1, status = 1, changed = 0;
	size_t i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			state = optarg;
			break;
		case 'C':
			config = optarg;
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
		case 'I':
			init = 1;
			break;
		case 'K':
			ch.keys_only = 1;
			break;
		case 'W':
			ch.keys_only = 0;
			break;
		case 'D':
			ch.disabled = 1;
			break;
		case 'E':
			ch.disabled = 0;
			break;
		case 'O':
			logout = 1;
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
	if (state != NULL && config != NULL) {
		fprintf(stderr,
		    "wharf: user: --state and --config exclude "
		    "each other\n");
		return 2;
	}
	if (state == NULL) {
		if (conf_state_folder(config, state_buf, sizeof(state_buf)) !=
		    0)
			return 1;
		state = state_buf;
	}
	if (strcmp(verb, "key") == 0)
		return key_command(state, argc - optind, argv + optind);
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
	if ((ch.read_only >= 0 || ch.home != NULL || ch.set_quota ||
	        ch.keys_only >= 0 || ch.disabled >= 0) &&
	    strcmp(verb, "add") != 0 && strcmp(verb, "mod") != 0) {
		fprintf(stderr,
		    "wharf: user %s: --read-only, --home and "
		    "--quota go with add or mod\n",
		    verb);
		return 2;
	}
	if (logout && strcmp(verb, "passwd") != 0) {
		fprintf(stderr, "wharf: user %s: --logout goes with passwd\n",
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
	/* A mistyped or missing --state must not quietly start a second
	 * users database that no server reads. */
	if (!init && !state_present(state)) {
		fprintf(stderr,
		    "wharf: %s is not a server's state folder (no users file "
		    "or host key in it).\n"
		    "wharf: give the folder 'wharf serve' uses (--state DIR "
		    "or --config FILE), or --init to start a new one there\n",
		    state);
		return 1;
	}
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
		if (usr != NULL) {
			r = users_set_password(usr, password);
			/* Sessions that logged in before end (watch.c). */
			if (r == 0 && logout)
				usr->logout++;
		} else if ((r = users_add(&u, name, password, 0)) == 0 &&
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
