/* SPDX-License-Identifier: MIT */
/*
 * Regression driver for builds without libFuzzer: runs a harness's
 * LLVMFuzzerTestOneInput once on every file of the folders (or on the
 * files) named on the command line, so that ctest replays each corpus in
 * the ordinary and in the sanitizer build. Each input runs in a child
 * process, so one finding does not hide the next and the summary names
 * every failing file (WHARF_REPLAY_NOFORK=1 runs them in process, for a
 * debugger). Every input is copied into an allocation of exactly its size,
 * so a sanitizer sees any overread.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

/* Harnesses without set-up do not define it; LeakSanitizer's check exists
 * only in sanitizer builds. */
#pragma weak LLVMFuzzerInitialize
void __lsan_do_leak_check(void);
#pragma weak __lsan_do_leak_check

static int nofork;

#define REPLAY_MAX_INPUT (64u << 20)

/* One input, in a child unless nofork. 0 if it passed. */
static int
run_one(const uint8_t *data, size_t n)
{
	pid_t pid;
	int status;

	if (nofork) {
		(void)LLVMFuzzerTestOneInput(data, n);
		return 0;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		perror("replay: fork");
		return -1;
	}
	if (pid == 0) {
		(void)LLVMFuzzerTestOneInput(data, n);
		if (__lsan_do_leak_check != NULL)
			__lsan_do_leak_check();
		/* Not exit(): the parent's atexit handlers own the
		 * harness's temporary folders. */
		fflush(NULL);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int
replay_file(const char *path)
{
	struct stat st;
	uint8_t *data;
	size_t n = 0;
	FILE *f;
	int r;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > REPLAY_MAX_INPUT) {
		fprintf(stderr, "replay: %s: too large\n", path);
		fclose(f);
		return -1;
	}
	/* Exactly the input's size (one byte for an empty input, which is
	 * passed with size 0), so that a sanitizer sees any overread. */
	if ((data = malloc(st.st_size > 0 ? (size_t)st.st_size : 1)) == NULL) {
		fclose(f);
		return -1;
	}
	if (st.st_size > 0)
		n = fread(data, 1, (size_t)st.st_size, f);
	fclose(f);
	if (n != (size_t)st.st_size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(data);
		return -1;
	}
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
	r = run_one(data, n);
	free(data);
	if (r != 0)
		fprintf(stderr, "replay: FAILED: %s\n", path);
	return r;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order (a stable replay order). */
static int
replay_dir(const char *dir, int *count, int *failed)
{
	char **names = NULL, **nn, path[4096];
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	struct stat st;
	int r = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			if ((nn = realloc(names, cap * sizeof(*names))) ==
			    NULL) {
				r = -1;
				break;
			}
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			r = -1;
			break;
		}
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) <
		        (int)sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			(*count)++;
			if (replay_file(path) != 0)
				(*failed)++;
		}
		free(names[i]);
	}
	free(names);
	return r;
}

int
main(int argc, char **argv)
{
	const char *nf = getenv("WHARF_REPLAY_NOFORK");
	struct stat st;
	int i, count = 0, failed = 0, r = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	nofork = nf != NULL && strcmp(nf, "1") == 0;
	if (LLVMFuzzerInitialize != NULL)
		(void)LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			r = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i], &count, &failed) != 0)
				r = 1;
		} else {
			count++;
			if (replay_file(argv[i]) != 0)
				failed++;
		}
	}
	fprintf(stderr, "replay: %d inputs, %d failed\n", count, failed);
	return r != 0 || failed != 0;
}
