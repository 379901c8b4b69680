/* SPDX-License-Identifier: MIT */
/*
 * Containment of `wharf serve` (docs/security.md): the root-started server
 * gives its state folder to a service user and becomes it, sets
 * no-new-privs, asks Landlock to keep it to the root, the state folder and
 * the stats file, and installs a seccomp allowlist. Each layer the kernel
 * lacks is named once in the log; the others still apply.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "wharf/contain.h"
#include "wharf/log.h"
#include "wharf/quota.h"
#include "wharf/stats.h"

/* Rights newer than the kernel headers of the build machine. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define CONTAIN_LL_NET_BIND_TCP (1ULL << 0)
#define CONTAIN_LL_NET_CONNECT_TCP (1ULL << 1)
#define CONTAIN_LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define CONTAIN_LL_SCOPE_SIGNAL (1ULL << 1)

/* Landlock ABI versions that added what the server asks for. */
#define CONTAIN_LL_ABI_REFER 2
#define CONTAIN_LL_ABI_TRUNCATE 3
#define CONTAIN_LL_ABI_NET 4
#define CONTAIN_LL_ABI_IOCTL 5
#define CONTAIN_LL_ABI_SCOPE 6

#define CONTAIN_LL_FS_V1 \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | \
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | \
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | \
	    LANDLOCK_ACCESS_FS_MAKE_SYM)

/* Beneath the root and the state folder: everything a file server does,
 * but never execute a file or make a device node. */
#define CONTAIN_LL_FS_TREE \
	(LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
	    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | \
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR | \
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM | \
	    LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE)

/* The sanitizers' runtimes read /proc/self (maps, task) to report and to
 * check for leaks at exit, and LeakSanitizer stops the threads with
 * ptrace from a clone of the process. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CONTAIN_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CONTAIN_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CONTAIN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CONTAIN_TSAN 1
#endif
#endif

/* umask bits a server never gives away: group and other write. */
#define CONTAIN_UMASK_MIN 022

/* A version of struct landlock_ruleset_attr with the fields of later
 * ABIs; the kernel is told how many of them it gets. */
struct contain_ll_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

int
contain_resolve_user(const char *name, struct contain_user *out)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (name == NULL)
		name = CONTAIN_USER_DEFAULT;
	memset(out, 0, sizeof(*out));
	if (strlen(name) >= sizeof(out->name))
		return WH_ERR_INVALID_ARG;
	errno = 0;
	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return WH_ERR_NOT_FOUND;
	if (pw.pw_uid == 0)
		return WH_ERR_PERMISSION;
	memcpy(out->name, name, strlen(name) + 1);
	out->uid = pw.pw_uid;
	out->gid = pw.pw_gid;
	return 0;
}

/* 1 if no capability is left in the effective, permitted or inheritable
 * set of this thread. */
static int
caps_empty(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	int i;

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) != 0)
		return 0;
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective != 0 || data[i].permitted != 0 ||
		    data[i].inheritable != 0)
			return 0;
	return 1;
}

static int
caps_clear(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	return syscall(SYS_capset, &hdr, data) == 0 ? 0 : WH_ERR_SYSTEM;
}

int
contain_drop_privileges(const struct contain_user *u)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int cap;

	if (u->uid == 0)
		return WH_ERR_PERMISSION;
	/* The bounding set can only shrink while CAP_SETPCAP is held, that
	 * is before the uid changes. */
	for (cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 &&
		    errno != EINVAL)
			return WH_ERR_PERMISSION;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	/* The service user's own groups (read before any confinement), so
	 * that an administrator may share a folder with it through one. */
	if (initgroups(u->name, u->gid) != 0 ||
	    setresgid(u->gid, u->gid, u->gid) != 0 ||
	    setresuid(u->uid, u->uid, u->uid) != 0)
		return WH_ERR_PERMISSION;
	if (getresuid(&ru, &eu, &su) != 0 || ru != u->uid || eu != u->uid ||
	    su != u->uid || getresgid(&rg, &eg, &sg) != 0 || rg != u->gid ||
	    eg != u->gid || sg != u->gid)
		return WH_ERR_PERMISSION;
	/* Leaving uid 0 for good clears every capability; prove both. */
	if (setuid(0) == 0 || seteuid(0) == 0 || !caps_empty())
		return WH_ERR_PERMISSION;
	return 0;
}

static int
ll_create_ruleset(const struct contain_ll_attr *a, size_t size)
{
	return (int)syscall(SYS_landlock_create_ruleset, a, size, 0);
}

/* One rule: rights beneath (or on) path, limited to what is handled. */
static int
ll_add_path(int rfd, const char *path, uint64_t rights, uint64_t handled)
{
	struct landlock_path_beneath_attr pb;
	int fd, r = 0;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) < 0)
		return WH_ERR_SYSTEM;
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = rights & handled;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb,
	        0) != 0)
		r = WH_ERR_SYSTEM;
	close(fd);
	return r;
}

/* A rule for the folder that holds file (not the file: it is replaced
 * when an editor saves it or logrotate moves it). */
static int
ll_add_parent(int rfd, const char *file, uint64_t rights, uint64_t handled)
{
	char dir[PATH_MAX], *slash;

	if (snprintf(dir, sizeof(dir), "%s", file) >= (int)sizeof(dir))
		return WH_ERR_TOO_LARGE;
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		*(slash == dir ? slash + 1 : slash) = '\0';
	return ll_add_path(rfd, dir, rights, handled);
}

/*
 * What the process ruleset was built from, kept for the narrower ruleset
 * of each session with a home. Written once by contain_server before any
 * session thread exists, read-only after.
 */
static struct {
	int on; /* the process is under Landlock */
	uint64_t fs; /* the rights it handles */
	char state[PATH_MAX];
	char stats[PATH_MAX]; /* "" for none */
} ll_applied;

int
contain_landlock(const struct contain_paths *p, const char **why)
{
	struct contain_ll_attr attr;
	size_t size = sizeof(attr.handled_access_fs);
	uint64_t fs = CONTAIN_LL_FS_V1;
	int abi, rfd = -1, r;

	*why = NULL;
	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0) {
		*why = errno == EOPNOTSUPP ?
		    "Landlock is disabled in this kernel (boot with lsm=...,"
		    "landlock)" :
		    "the kernel has no Landlock (Linux 5.13 or later)";
		return WH_ERR_UNSUPPORTED;
	}
	/* Without REFER (ABI 1) Landlock refuses every rename between
	 * folders, which clients may ask for: serve unconfined rather than
	 * break it. */
	if (abi < CONTAIN_LL_ABI_REFER) {
		*why = "Landlock ABI 1 cannot allow renames between folders "
		       "(Linux 5.19 or later)";
		return WH_ERR_UNSUPPORTED;
	}
	fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= CONTAIN_LL_ABI_TRUNCATE)
		fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= CONTAIN_LL_ABI_IOCTL)
		fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = fs;
	/* Handled with no rule: no TCP bind or connect at all. */
	if (abi >= CONTAIN_LL_ABI_NET) {
		attr.handled_access_net =
		    CONTAIN_LL_NET_BIND_TCP | CONTAIN_LL_NET_CONNECT_TCP;
		size = offsetof(struct contain_ll_attr, scoped);
	}
	if (abi >= CONTAIN_LL_ABI_SCOPE) {
		attr.scoped =
		    CONTAIN_LL_SCOPE_ABSTRACT_UNIX | CONTAIN_LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	if ((rfd = ll_create_ruleset(&attr, size)) < 0)
		return WH_ERR_SYSTEM;
	if ((r = ll_add_path(rfd, p->root, CONTAIN_LL_FS_TREE, fs)) != 0 ||
	    (r = ll_add_path(rfd, p->state, CONTAIN_LL_FS_TREE, fs)) != 0)
		goto out;
	if (p->stats != NULL &&
	    (r = ll_add_path(
	         rfd, p->stats, LANDLOCK_ACCESS_FS_WRITE_FILE, fs)) != 0)
		goto out;
	if (p->config != NULL &&
	    (r = ll_add_parent(
	         rfd, p->config, LANDLOCK_ACCESS_FS_READ_FILE, fs)) != 0)
		goto out;
	if (p->log != NULL &&
	    (r = ll_add_parent(rfd, p->log,
	         LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG,
	         fs)) != 0)
		goto out;
#ifdef CONTAIN_SANITIZER
	if ((r = ll_add_path(rfd, "/proc",
	         LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR,
	         fs)) != 0)
		goto out;
#endif
	if (syscall(SYS_landlock_restrict_self, rfd, 0) != 0) {
		r = WH_ERR_SYSTEM;
		goto out;
	}
	ll_applied.on = 1;
	ll_applied.fs = fs;
	snprintf(ll_applied.state, sizeof(ll_applied.state), "%s", p->state);
	snprintf(ll_applied.stats, sizeof(ll_applied.stats), "%s",
	    p->stats != NULL ? p->stats : "");
	r = 0;
out:
	if (rfd >= 0)
		close(rfd);
	return r;
}

int
contain_thread_home(int home_fd)
{
	struct landlock_path_beneath_attr pb;
	struct contain_ll_attr attr;
	int rfd, r;

	if (!ll_applied.on)
		return 0;
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = ll_applied.fs;
	if ((rfd = ll_create_ruleset(&attr, sizeof(attr.handled_access_fs))) <
	    0)
		return WH_ERR_SYSTEM;
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = CONTAIN_LL_FS_TREE & ll_applied.fs;
	pb.parent_fd = home_fd;
	/* The state folder stays: the protection store and a changed
	 * password are written there. */
	if (syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb,
	        0) != 0 ||
	    (r = ll_add_path(rfd, ll_applied.state, CONTAIN_LL_FS_TREE,
	         ll_applied.fs)) != 0 ||
	    (ll_applied.stats[0] != '\0' &&
	        (r = ll_add_path(rfd, ll_applied.stats,
	             LANDLOCK_ACCESS_FS_WRITE_FILE, ll_applied.fs)) != 0))
		r = WH_ERR_SYSTEM;
#ifdef CONTAIN_SANITIZER
	else if ((r = ll_add_path(rfd, "/proc",
	              LANDLOCK_ACCESS_FS_READ_FILE |
	                  LANDLOCK_ACCESS_FS_READ_DIR,
	              ll_applied.fs)) != 0)
		r = WH_ERR_SYSTEM;
#endif
	else if (syscall(SYS_landlock_restrict_self, rfd, 0) != 0)
		r = WH_ERR_SYSTEM;
	else
		r = 0;
	close(rfd);
	return r;
}

/* Allowed without conditions: I/O on open fds, files beneath the
 * (Landlock-held) root, memory, threads, time, signals, exit. */
static const char *const seccomp_allow[] = {
	"read",
	"write",
	"readv",
	"writev",
	"pread64",
	"pwrite64",
	"preadv",
	"pwritev",
	"preadv2",
	"pwritev2",
	"close",
	"close_range",
	"lseek",
	"fstat",
	"newfstatat",
	"stat",
	"lstat",
	"statx",
	"fstatfs",
	"statfs",
	"open",
	"openat",
	"openat2",
	"getdents64",
	"getdents",
	"readlink",
	"readlinkat",
	"mkdirat",
	"symlinkat", /* -l: links made where they stay inside (tree_ops.c) */
	"unlinkat",
	"renameat",
	"renameat2",
	/* mv where RENAME_NOREPLACE is refused: link, then unlink. */
	"linkat",
	"fchmod",
	/* chmod of a file its owner made unreadable (ops.c op_set_attr): by
	 * name in a folder fd, never through a link. */
	"fchmodat",
	"utimensat",
	"fsync",
	"fdatasync",
	"syncfs",
	"sync_file_range",
	"rename",
	"ftruncate",
	"fallocate",
	"fadvise64",
	"fcntl",
	"dup",
	"dup3",
	"flock",
	"faccessat",
	"faccessat2",
	"poll",
	"ppoll",
	"select",
	"pselect6",
	"accept4",
	"recvfrom",
	"recvmsg",
	"sendto",
	"sendmsg",
	"shutdown",
	"setsockopt",
	"getsockopt",
	"getsockname",
	"getpeername",
	"brk",
	"mmap",
	"munmap",
	"mremap",
	"mprotect",
	"madvise",
	"futex",
	"futex_waitv",
	"set_robust_list",
	"get_robust_list",
	"rseq",
	"set_tid_address",
	"sched_yield",
	"sched_getaffinity",
	"getrandom",
	"clock_gettime",
	"clock_getres",
	"gettimeofday",
	"time",
	"clock_nanosleep",
	"nanosleep",
	"getpid",
	"gettid",
	"getppid",
	"getuid",
	"geteuid",
	"getgid",
	"getegid",
	"getresuid",
	"getresgid",
	"getrlimit",
	"prlimit64",
	"getrusage",
	"rt_sigaction",
	"rt_sigprocmask",
	"rt_sigreturn",
	"sigaltstack",
	"restart_syscall",
	"exit",
	"exit_group",
	"uname",
	"membarrier",
	/* Only ever narrows: a home session confines its thread. */
	"landlock_create_ruleset",
	"landlock_add_rule",
	"landlock_restrict_self",
	"sysinfo",
#ifdef CONTAIN_SANITIZER
	/* The runtimes: shadow memory, /proc/self and the leak check. */
	"ptrace",
	"wait4",
	"waitid",
	"prctl",
	"sched_setaffinity",
	"kill",
	"sigprocmask",
	"pipe2",
	"setrlimit",
	"mincore",
	"msync",
	"process_vm_readv",
	"arch_prctl",
#endif
	/* abort() and pthread_kill() of this process. */
	"tgkill",
	"tkill",
};

/* Only an attacker's code would make these: the process ends at once. */
static const char *const seccomp_kill[] = {
	"execve",
	"execveat",
	"connect",
	"bind",
	"listen",
#ifndef CONTAIN_SANITIZER
	"ptrace",
	"process_vm_readv",
#endif
	"process_vm_writev",
};

static int
scmp_add(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
    const struct scmp_arg_cmp *arg)
{
	int nr = seccomp_syscall_resolve_name(name);

	/* Not a system call on this architecture (e.g. open on arm64). */
	if (nr == __NR_SCMP_ERROR)
		return 0;
	return seccomp_rule_add_array(ctx, action, nr, n, arg) == 0 ?
	    0 :
	    WH_ERR_SYSTEM;
}

int
contain_seccomp(const char **why)
{
	scmp_filter_ctx ctx = NULL;
	struct scmp_arg_cmp a;
	size_t i;
	int r = WH_ERR_SYSTEM;

	*why = NULL;
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL) {
		*why = "the kernel has no seccomp filters";
		return WH_ERR_UNSUPPORTED;
	}
	/* Valgrind runs the server's calls through its own, which no list
	 * of the server's could name; its core is always preloaded. */
	if (getenv("LD_PRELOAD") != NULL &&
	    strstr(getenv("LD_PRELOAD"), "vgpreload") != NULL) {
		*why = "running under valgrind";
		return WH_ERR_UNSUPPORTED;
	}
#ifdef CONTAIN_TSAN
	/* ThreadSanitizer's runtime makes system calls of its own from a
	 * thread the server never sees. */
	*why = "the ThreadSanitizer build does not install it";
	return WH_ERR_UNSUPPORTED;
#endif
	/*
	 * An unlisted call fails with EPERM rather than ending the process:
	 * one request of one session fails where a libc or kernel update
	 * brings a call nobody listed, instead of every session at once.
	 * The calls only an intruder would make are listed to kill.
	 */
#ifdef CONTAIN_SECCOMP_AUDIT
	/* Development: log unlisted calls (dmesg, audit type 1326) and let
	 * them run, to find what a new libc or runtime needs. */
	ctx = seccomp_init(SCMP_ACT_LOG);
#else
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
#endif
	if (ctx == NULL) {
		*why = "libseccomp could not start a filter";
		return WH_ERR_UNSUPPORTED;
	}
	/* Every thread, should a runtime have started one; a kernel too old
	 * for that has only this thread here, which gets the filter. */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	for (i = 0; i < sizeof(seccomp_allow) / sizeof(seccomp_allow[0]); i++)
		if ((r = scmp_add(
		         ctx, SCMP_ACT_ALLOW, seccomp_allow[i], 0, NULL)) != 0)
			goto out;
	for (i = 0; i < sizeof(seccomp_kill) / sizeof(seccomp_kill[0]); i++)
		if ((r = scmp_add(ctx, SCMP_ACT_KILL_PROCESS, seccomp_kill[i],
		         0, NULL)) != 0)
			goto out;
			/* Threads, not processes: fork-like clones get EPERM. clone3 hides
	 * its flags in memory a filter cannot read, so it says ENOSYS and
	 * glibc falls back to clone. */
#ifdef CONTAIN_SANITIZER
	if ((r = scmp_add(ctx, SCMP_ACT_ALLOW, "clone", 0, NULL)) != 0)
		goto out;
#else
	a = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
	if ((r = scmp_add(ctx, SCMP_ACT_ALLOW, "clone", 1, &a)) != 0)
		goto out;
#endif
	if ((r = scmp_add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL)) != 0)
		goto out;
	/* New sockets: none for the network (the listeners are open);
	 * other families fail softly. */
	a = SCMP_A0(SCMP_CMP_EQ, AF_INET);
	if ((r = scmp_add(ctx, SCMP_ACT_KILL_PROCESS, "socket", 1, &a)) != 0)
		goto out;
	a = SCMP_A0(SCMP_CMP_EQ, AF_INET6);
	if ((r = scmp_add(ctx, SCMP_ACT_KILL_PROCESS, "socket", 1, &a)) != 0)
		goto out;
	/* The one ioctl the server makes: bytes unsent on a socket. */
	a = SCMP_A1(SCMP_CMP_EQ, TIOCOUTQ);
	if ((r = scmp_add(ctx, SCMP_ACT_ALLOW, "ioctl", 1, &a)) != 0)
		goto out;
	if ((r = seccomp_load(ctx)) != 0) {
		/* E.g. a container's own filter forbids seccomp(2). */
		*why = "the kernel refused the filter";
		errno = -r;
		r = WH_ERR_UNSUPPORTED;
		goto out;
	}
	r = 0;
out:
	seccomp_release(ctx);
	return r;
}

/* Gives path (not followed if a link) to u. */
static int
give_path(int dfd, const char *name, const struct contain_user *u)
{
	if (fchownat(dfd, name, u->uid, u->gid, AT_SYMLINK_NOFOLLOW) != 0)
		return WH_ERR_SYSTEM;
	return 0;
}

/* Gives the entries of folder name in dfd (one level, links not
 * followed) to u. */
static int
give_folder(int dfd, const char *name, const struct contain_user *u)
{
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	if ((fd = openat(dfd, name,
	         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return WH_ERR_SYSTEM;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return WH_ERR_SYSTEM;
	}
	while (r == 0 && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			r = give_path(dirfd(d), de->d_name, u);
	closedir(d);
	return r;
}

/*
 * The state folder is the server's own: it and the files in it (users,
 * host key, protection store, written by root a moment ago) go to the
 * service user, which re-reads and rewrites them while it serves.
 */
static int
give_state(const char *state, const struct contain_user *u)
{
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	if ((fd = open(
	         state, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return WH_ERR_SYSTEM;
	if (fchown(fd, u->uid, u->gid) != 0 || (d = fdopendir(fd)) == NULL) {
		close(fd);
		return WH_ERR_SYSTEM;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, CONTAIN_ROOT_ONLY_FILE) == 0)
			continue;
		if ((r = give_path(dirfd(d), de->d_name, u)) != 0)
			break;
		/* The quota ledgers (quota.h), made by an earlier server that
		 * ran as another user, are rewritten at every upload. */
		if (strcmp(de->d_name, QUOTA_DIR_NAME) == 0 &&
		    (r = give_folder(dirfd(d), de->d_name, u)) != 0)
			break;
	}
	closedir(d);
	return r;
}

/* 1 if the folder holds nothing but "." and "..". */
static int
dir_is_empty(const char *path)
{
	struct dirent *de;
	DIR *d;
	int empty = 1;

	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

/*
 * What must belong to the service user before the drop: the state
 * folder; a served root that is root's and empty (made by this start, or
 * just now by the administrator: it holds nothing to protect).
 */
static int
give_files(const struct contain_paths *p, const struct contain_user *u)
{
	struct stat st;

	if (give_state(p->state, u) != 0) {
		fprintf(stderr,
		    "wharf: cannot give the state folder %s to "
		    "user %s: %s\n",
		    p->state, u->name, strerror(errno));
		return WH_ERR_SYSTEM;
	}
	if (stat(p->root, &st) == 0 && st.st_uid == 0 &&
	    dir_is_empty(p->root) && give_path(AT_FDCWD, p->root, u) != 0) {
		fprintf(stderr,
		    "wharf: cannot give the root %s to user %s: %s\n", p->root,
		    u->name, strerror(errno));
		return WH_ERR_SYSTEM;
	}
	return 0;
}

/* After the drop: the root and state must work for the service user. */
static int
check_access(const struct contain_paths *p, const char *who)
{
	if (access(p->state, R_OK | W_OK | X_OK) != 0) {
		fprintf(stderr,
		    "wharf: the state folder %s is not writable by %s: %s\n",
		    p->state, who, strerror(errno));
		return WH_ERR_PERMISSION;
	}
	if (access(p->root, R_OK | X_OK) != 0) {
		fprintf(stderr,
		    "wharf: the root %s is not readable by %s: %s; "
		    "give it to that user (chown -R) or choose --user\n",
		    p->root, who, strerror(errno));
		return WH_ERR_PERMISSION;
	}
	if (access(p->root, W_OK) != 0)
		log_warn("the root %s is not writable by %s: uploads will "
		         "be refused",
		    p->root, who);
	if (p->stats != NULL && access(p->stats, W_OK) != 0)
		log_warn("--stats %s is not writable by %s", p->stats, who);
	return 0;
}

/*
 * The stats file must exist for its Landlock rule. Made now, it gets its
 * header (as stats_append_csv would have) and, under root, the service
 * user. On failure the transfers' appends fail and say so, as before.
 */
static int
stats_prepare(const char *path, const struct contain_user *u)
{
	struct stat st;
	int fd, r = 0;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) <
	    0)
		return WH_ERR_SYSTEM;
	if (fstat(fd, &st) != 0)
		r = WH_ERR_SYSTEM;
	else if (st.st_size == 0 &&
	    (write(fd, STATS_CSV_HEADER, strlen(STATS_CSV_HEADER)) < 0 ||
	        (u != NULL && st.st_uid == 0 &&
	            fchown(fd, u->uid, u->gid) != 0)))
		r = WH_ERR_SYSTEM;
	close(fd);
	return r;
}

int
contain_server(const char *user, const struct contain_paths *p)
{
	struct contain_user u;
	struct contain_paths lp = *p;
	const char *shown = "self";
	struct passwd *pw;
	const char *why, *who;
	struct rlimit no_core = { 0, 0 };
	mode_t old;
	int r, ll, sc;

	memset(&u, 0, sizeof(u));
	/* A core file would hold the host key and the password hashes. */
	setrlimit(RLIMIT_CORE, &no_core);
	old = umask(0);
	umask(old | CONTAIN_UMASK_MIN);

	if (geteuid() == 0) {
		if ((r = contain_resolve_user(user, &u)) != 0) {
			if (r == WH_ERR_PERMISSION)
				fprintf(stderr,
				    "wharf: --user %s: the server never "
				    "serves as root; name an unprivileged "
				    "user\n",
				    user != NULL ? user : "root");
			else if (user == NULL)
				fprintf(stderr,
				    "wharf: started as root, the server drops "
				    "to the user '%s', which does not exist: "
				    "create it (useradd --system "
				    "--no-create-home --shell "
				    "/usr/sbin/nologin %s) or name one with "
				    "--user NAME\n",
				    CONTAIN_USER_DEFAULT, CONTAIN_USER_DEFAULT);
			else
				fprintf(stderr,
				    "wharf: --user %s: no such user\n", user);
			return r;
		}
		if ((r = give_files(p, &u)) != 0)
			return r;
		if (p->stats != NULL && stats_prepare(p->stats, &u) != 0)
			lp.stats = NULL;
		if ((r = contain_drop_privileges(&u)) != 0) {
			fprintf(stderr,
			    "wharf: cannot drop root for user %s: %s\n", u.name,
			    strerror(errno));
			return r;
		}
		who = shown = u.name;
	} else {
		/* Nothing to drop; a --user other than ourselves cannot
		 * be honoured. */
		pw = user != NULL ? getpwnam(user) : NULL;
		if (user != NULL && (pw == NULL || pw->pw_uid != geteuid())) {
			fprintf(stderr,
			    "wharf: --user %s: only a server started as root "
			    "can change its user\n",
			    user);
			return WH_ERR_PERMISSION;
		}
		if (!caps_empty() && caps_clear() != 0) {
			fprintf(stderr, "wharf: cannot drop capabilities: %s\n",
			    strerror(errno));
			return WH_ERR_PERMISSION;
		}
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
		who = "this user";
		if (p->stats != NULL && stats_prepare(p->stats, NULL) != 0)
			lp.stats = NULL;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		fprintf(stderr, "wharf: cannot set no-new-privs: %s\n",
		    strerror(errno));
		return WH_ERR_PERMISSION;
	}
#ifndef CONTAIN_SANITIZER
	/* No other process of the user may read this one's memory. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#else
	/* The uid change made the process undumpable, its /proc/self root's:
	 * LeakSanitizer's tracer could no longer list the threads. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	if ((r = check_access(p, who)) != 0)
		return r;
	ll = contain_landlock(&lp, &why);
	if (ll == WH_ERR_UNSUPPORTED)
		log_warn("Landlock not applied: %s; the server's own path "
		         "checks are the only limit on its files",
		    why);
	else if (ll != 0) {
		fprintf(stderr, "wharf: Landlock: %s\n", wh_strerror(ll));
		return ll;
	}
	sc = contain_seccomp(&why);
	if (sc == WH_ERR_UNSUPPORTED)
		log_warn("seccomp filter not installed: %s", why);
	else if (sc != 0) {
		fprintf(stderr, "wharf: seccomp: %s\n", wh_strerror(sc));
		return sc;
	}
	log_info("contained: user=%s uid=%u no_new_privs=on landlock=%s "
	         "seccomp=%s",
	    shown, (unsigned)geteuid(), ll == 0 ? "on" : "off",
	    sc == 0 ? "on" : "off");
	return 0;
}
