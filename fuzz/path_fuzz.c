/* SPDX-License-Identifier: MIT */
/*
 * The path jail (sandbox_join, sandbox_open_at, sandbox_open_parent)
 * against a real tree, in both resolution modes (openat2 and the
 * component walk). Input: "CWD\nPATH" or just PATH (a newline can never be
 * part of a valid path). The tree, made once, holds a folder, files, an
 * in-root symlink, symlinks leading out (absolute to /etc, "../..", to a
 * sentinel folder beside the root, from a subfolder), a symlink loop and
 * a FIFO.
 *
 * Checked: sandbox_join agrees with a reference normaliser written from
 * docs/protocol.md §6.1 (and its result starts with "/", has no ".", ".."
 * or empty components and is a fixed point); every fd the jail hands out
 * resolves (via /proc/self/fd) beneath the root's realpath; files created
 * through the jail land beneath the root and the sentinel stays untouched.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "wharf/sandbox.h"

#define PATH_SECRET "sentinel: must never change\n"
/* Room for the reference's intermediate results (cwd + path). */
#define PATH_REF_MAX (2 * WIRE_PATH_MAX + 2)

static char base[PATH_MAX], root_real[PATH_MAX], outside[PATH_MAX];
static struct sandbox sb_beneath, sb_walk;

static void
cleanup(void)
{
	sandbox_close(&sb_beneath);
	if (base[0] != '\0')
		fuzz_rmtree(base, 0);
}

static void
make_tree(void)
{
	char p[PATH_MAX], q[PATH_MAX];

	FUZZ_CHECK(fuzz_tempdir("path", base, sizeof(base)) == 0);
	fuzz_join(p, sizeof(p), base, "root");
	FUZZ_CHECK(mkdir(p, 0755) == 0);
	FUZZ_CHECK(realpath(p, root_real) != NULL);
	fuzz_join(outside, sizeof(outside), base, "outside");
	FUZZ_CHECK(mkdir(outside, 0755) == 0);
	fuzz_join(p, sizeof(p), outside, "secret");
	FUZZ_CHECK(fuzz_write_file(p, PATH_SECRET, strlen(PATH_SECRET)) == 0);

#define AT(name) (fuzz_join(p, sizeof(p), root_real, name), p)
	FUZZ_CHECK(mkdir(AT("sub"), 0755) == 0);
	FUZZ_CHECK(fuzz_write_file(AT("file"), "file\n", 5) == 0);
	FUZZ_CHECK(fuzz_write_file(AT("sub/inner"), "inner\n", 6) == 0);
	FUZZ_CHECK(symlink("sub", AT("in_link")) == 0);
	FUZZ_CHECK(symlink("file", AT("file_link")) == 0);
	FUZZ_CHECK(symlink("/etc", AT("etc_link")) == 0);
	FUZZ_CHECK(symlink("../..", AT("up2_link")) == 0);
	FUZZ_CHECK(symlink("../outside", AT("out_rel")) == 0);
	FUZZ_CHECK(symlink("../../outside", AT("sub/up_link")) == 0);
	FUZZ_CHECK(symlink("loop_link", AT("loop_link")) == 0);
	FUZZ_CHECK(mkfifo(AT("fifo"), 0644) == 0);
	fuzz_join(q, sizeof(q), outside, "secret");
	FUZZ_CHECK(symlink(q, AT("secret_link")) == 0);
	FUZZ_CHECK(symlink(outside, AT("out_abs")) == 0);
#undef AT
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	make_tree();
	FUZZ_CHECK(sandbox_open(&sb_beneath, root_real) == 0);
	sb_walk = sb_beneath;
	sandbox_set_walk_only(&sb_walk, 1);
	atexit(cleanup);
	return 0;
}

/* RFC 3629's table of well-formed UTF-8, without C0 controls and DEL. */
static size_t
ref_utf8(const uint8_t *p, size_t n)
{
	uint8_t lo = 0x80, hi = 0xbf;
	size_t k, i;

	if (p[0] < 0x20 || p[0] == 0x7f)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		k = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		k = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		k = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < k || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < k; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return k;
}

/* Applies the components of p[0..n) to out (length *used). */
static int
ref_apply(char *out, size_t *used, const char *p, size_t n)
{
	size_t i = 0, s, len;

	while (i < n) {
		s = i;
		while (i < n && p[i] != '/')
			i++;
		len = i - s;
		i++;
		if (len == 0 || (len == 1 && p[s] == '.'))
			continue;
		if (len == 2 && p[s] == '.' && p[s + 1] == '.') {
			if (*used == 1)
				return -1; /* above the root: refused */
			while (out[*used - 1] != '/')
				(*used)--;
			if (*used > 1)
				(*used)--;
			out[*used] = '\0';
			continue;
		}
		if (len > WIRE_NAME_MAX)
			return -1;
		/* A partial's name, ".X.wharf-part" with X not empty, is
		 * reserved, even where a later ".." would drop it. */
		if (len > strlen(".") + strlen(".wharf-part") && p[s] == '.' &&
		    memcmp(p + s + len - strlen(".wharf-part"), ".wharf-part",
		        strlen(".wharf-part")) == 0)
			return -1;
		if (*used > 1)
			out[(*used)++] = '/';
		memcpy(out + *used, p + s, len);
		*used += len;
		out[*used] = '\0';
		/* The limit holds at every step, not only at the end. */
		if (*used > WIRE_PATH_MAX)
			return -1;
	}
	return 0;
}

/* docs/protocol.md §6.1 from the text. */
static int
ref_join(const char *cwd, const uint8_t *p, size_t n, char *out)
{
	size_t i = 0, k, used = 1;

	if (n > WIRE_PATH_MAX)
		return -1;
	while (i < n) {
		if ((k = ref_utf8(p + i, n - i)) == 0)
			return -1;
		i += k;
	}
	out[0] = '/';
	out[1] = '\0';
	if ((n == 0 || p[0] != '/') &&
	    ref_apply(out, &used, cwd, strlen(cwd)) != 0)
		return -1;
	return ref_apply(out, &used, (const char *)p, n);
}

static void
check_vpath(const char *v)
{
	char again[SANDBOX_VPATH_MAX];
	const char *c = v + 1, *e;
	size_t len;

	FUZZ_CHECK(v[0] == '/');
	FUZZ_CHECK(strlen(v) <= WIRE_PATH_MAX);
	while (*c != '\0') {
		e = strchr(c, '/');
		len = e != NULL ? (size_t)(e - c) : strlen(c);
		FUZZ_CHECK(len > 0 && len <= WIRE_NAME_MAX);
		FUZZ_CHECK(!(len == 1 && c[0] == '.'));
		FUZZ_CHECK(!(len == 2 && c[0] == '.' && c[1] == '.'));
		if (e == NULL)
			break;
		c = e + 1;
		FUZZ_CHECK(*c != '\0'); /* no trailing slash */
	}
	/* Normalised paths are fixed points. */
	FUZZ_CHECK(sandbox_join("/", v, strlen(v), again, sizeof(again)) == 0);
	FUZZ_CHECK(strcmp(again, v) == 0);
}

static int
join(const char *cwd, const uint8_t *p, size_t n, char *out)
{
	char ref[PATH_REF_MAX];
	int r = sandbox_join(cwd, p, n, out, SANDBOX_VPATH_MAX);
	int rr = ref_join(cwd, p, n, ref);

	FUZZ_CHECK(r == 0 || r == WH_ERR_INVALID_PATH);
	FUZZ_CHECK((r == 0) == (rr == 0));
	if (r != 0)
		return r;
	FUZZ_CHECK(strcmp(out, ref) == 0);
	check_vpath(out);
	return 0;
}

static void
check_outside(void)
{
	char p[PATH_MAX], got[sizeof(PATH_SECRET)];
	ssize_t n;
	int fd;

	FUZZ_CHECK(fuzz_dir_count(outside) == 1);
	FUZZ_CHECK(fuzz_dir_count(base) == 2);
	fuzz_join(p, sizeof(p), outside, "secret");
	FUZZ_CHECK((fd = open(p, O_RDONLY | O_CLOEXEC)) >= 0);
	n = read(fd, got, sizeof(got));
	close(fd);
	FUZZ_CHECK(n == (ssize_t)strlen(PATH_SECRET) &&
	    memcmp(got, PATH_SECRET, strlen(PATH_SECRET)) == 0);
}

/* An fd from the jail: beneath the root, then closed. */
static void
check_fd(int r, int fd)
{
	if (r != 0) {
		FUZZ_CHECK(fd == -1);
		return;
	}
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(fuzz_fd_beneath(fd, root_real));
	close(fd);
}

/* O_NONBLOCK everywhere: opening the FIFO must not hang the harness. */
static const int open_flags[] = {
	O_RDONLY | O_NONBLOCK,
	O_PATH,
	O_PATH | O_NOFOLLOW,
	O_RDONLY | O_DIRECTORY | O_NONBLOCK,
};

/* Creating is safe only where a jail failure could not write to a
 * system folder: never through the links to /etc or to "../..". */
static int
may_create(const char *vpath)
{
	return strstr(vpath, "etc_link") == NULL &&
	    strstr(vpath, "up2_link") == NULL;
}

static void
try_create(const struct sandbox *sb, const char *vpath)
{
	char link[64], target[PATH_MAX];
	ssize_t n;
	int fd, r;

	r = sandbox_open_at(
	    sb, vpath, O_WRONLY | O_CREAT | O_EXCL | O_NONBLOCK, 0600, &fd);
	if (r != 0) {
		FUZZ_CHECK(fd == -1);
		return;
	}
	FUZZ_CHECK(fuzz_fd_beneath(fd, root_real));
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	FUZZ_CHECK(n > 0);
	target[n] = '\0';
	close(fd);
	/* Back to the initial tree. */
	FUZZ_CHECK(unlink(target) == 0);
}

static void
exercise(const struct sandbox *sb, const char *vpath)
{
	char name[SANDBOX_NAME_MAX];
	const char *bn;
	size_t i;
	int fd, r;

	for (i = 0; i < sizeof(open_flags) / sizeof(open_flags[0]); i++) {
		r = sandbox_open_at(sb, vpath, open_flags[i], 0, &fd);
		check_fd(r, fd);
	}
	if (may_create(vpath))
		try_create(sb, vpath);
	r = sandbox_open_parent(sb, vpath, &fd, name);
	check_fd(r, fd);
	if (vpath[1] == '\0') {
		FUZZ_CHECK(r == WH_ERR_INVALID_PATH);
	} else if (r == 0) {
		/* One component: the last one of vpath. */
		bn = sandbox_basename(vpath);
		FUZZ_CHECK(strcmp(name, bn) == 0);
		FUZZ_CHECK(name[0] != '\0' && strchr(name, '/') == NULL);
		FUZZ_CHECK(strcmp(name, ".") != 0 && strcmp(name, "..") != 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char cwd[SANDBOX_VPATH_MAX], vpath[SANDBOX_VPATH_MAX];
	const uint8_t *nl = memchr(data, '\n', size);
	const uint8_t *p = data;
	size_t n = size;

	snprintf(cwd, sizeof(cwd), "/");
	if (nl != NULL) {
		/* A cwd the server could be in: one it joined itself. */
		if (join("/", data, (size_t)(nl - data), cwd) != 0)
			snprintf(cwd, sizeof(cwd), "/");
		p = nl + 1;
		n = size - (size_t)(p - data);
	}
	if (join(cwd, p, n, vpath) == 0) {
		exercise(&sb_beneath, vpath);
		exercise(&sb_walk, vpath);
	}
	check_outside();
	return 0;
}
