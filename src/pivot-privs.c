/* pivot-privs: who the caller is, the user namespace of a non-root caller,
 * and dropping privileges for good before the caller's command runs.
 *
 * Model: a non-root caller gets what the kernel's unprivileged user
 * namespaces give, nothing more. In setuid mode the only privileged acts
 * are: making the staging mount namespace, mounting squashfs images
 * (read-only, nosuid, nodev, locked by the user namespace that follows),
 * creating the user namespace itself, and writing its one-line id maps
 * from a helper that stays outside. */
#include "pivot-privs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pivot-caller.h"
#include "pivot-utils.h"

/* What glibc's loader removes from the environment of a set-id program
 * (UNSECURE_ENVVARS, GLIBC_TUNABLES and MALLOC_CHECK_). overlay-pivot is
 * linked statically, so no loader does it: we do, and the caller's command
 * does not get them either. */
static void drop_unsecure_env(void)
{
	static const char *const vars[] = {
		"GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES",
		"LD_AUDIT", "LD_DEBUG", "LD_DEBUG_OUTPUT", "LD_DYNAMIC_WEAK",
		"LD_HWCAP_MASK", "LD_LIBRARY_PATH", "LD_ORIGIN_PATH",
		"LD_PRELOAD", "LD_PROFILE", "LD_SHOW_AUXV", "LD_USE_LOAD_BIAS",
		"LOCALDOMAIN", "LOCPATH", "MALLOC_CHECK_", "MALLOC_TRACE",
		"NIS_PATH", "NLSPATH", "RESOLV_HOST_CONF", "RES_OPTIONS",
		"TMPDIR", "TZDIR"
	};

	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		if (unsetenv(vars[i]) < 0)
			_exit(EXIT_FAIL);
}

void pv_privs_init(struct pv_privs *p)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	memset(p, 0, sizeof *p);
	p->mapper = -1;
	p->mapper_fd = -1;
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		die_err(errno, "getresuid");
	p->uid = ru;
	p->gid = rg;
	p->root = (ru == 0 && eu == 0);
	p->setuid = !p->root && (eu != ru || su != ru || eg != rg || sg != rg);
	if (p->setuid || getauxval(AT_SECURE))
		drop_unsecure_env();
	if (!p->setuid) {
		caller_init(ru, rg, false);
		return;
	}
	/* Nobody may ptrace or core-dump us while we hold privilege. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die_err(errno, "prctl(PR_SET_DUMPABLE)");
	/* fds 0-2 must be open, or a file we open could become stderr. */
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = open("/dev/null", O_RDWR);

		if (n < 0)
			_exit(EXIT_FAIL);
		if (n != fd)
			_exit(EXIT_FAIL);
	}
	if (eu != 0)
		die("installed set-user-id but not owned by root");
	caller_init(ru, rg, true);
}

/* Become the caller (see caller_become), or die saying what is not. */
static void become(uint32_t keep)
{
	const char *what;

	switch (caller_become(keep, &what)) {
	case CALLER_SWITCH_FAILED:
		die_err(errno, "becoming the caller: %s", what);
	case CALLER_NOT_VERIFIED:
		die("privileges not dropped: %s are not the caller's after the "
		    "switch", what);
	}
}

static int write_at(const char *path, const char *s)
{
	return pv_write_file_at(AT_FDCWD, path, s);
}

void pv_privs_fork_mapper(struct pv_privs *p)
{
	int fds[2];
	pid_t parent = getpid(), h;

	if (pipe2(fds, O_CLOEXEC) < 0)
		die_err(errno, "pipe");
	h = fork();
	if (h < 0)
		die_err(errno, "fork");
	if (h == 0) {
		char c, path[64], map[64];
		ssize_t n;

		close(fds[1]);
		do
			n = read(fds[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1 || getppid() != parent)
			_exit(1);	/* the parent gave up */
		/* One line each: the caller's own uid and gid, nothing else. */
		snprintf(path, sizeof path, "/proc/%d/setgroups", (int)parent);
		if (write_at(path, "deny") < 0)
			_exit(2);
		snprintf(path, sizeof path, "/proc/%d/uid_map", (int)parent);
		snprintf(map, sizeof map, "%u %u 1\n", (unsigned)p->uid,
			 (unsigned)p->uid);
		if (write_at(path, map) < 0)
			_exit(3);
		snprintf(path, sizeof path, "/proc/%d/gid_map", (int)parent);
		snprintf(map, sizeof map, "%u %u 1\n", (unsigned)p->gid,
			 (unsigned)p->gid);
		if (write_at(path, map) < 0)
			_exit(4);
		_exit(0);
	}
	close(fds[0]);
	p->mapper = h;
	p->mapper_fd = fds[1];
}

static void write_own_maps(const struct pv_privs *p)
{
	char map[64];
	int r;

	r = write_at("/proc/self/setgroups", "deny");
	if (r < 0)
		die_err(-r, "writing /proc/self/setgroups");
	snprintf(map, sizeof map, "%u %u 1\n", (unsigned)p->uid, (unsigned)p->uid);
	r = write_at("/proc/self/uid_map", map);
	if (r < 0)
		die_err(-r, "writing /proc/self/uid_map");
	snprintf(map, sizeof map, "%u %u 1\n", (unsigned)p->gid, (unsigned)p->gid);
	r = write_at("/proc/self/gid_map", map);
	if (r < 0)
		die_err(-r, "writing /proc/self/gid_map");
}

void pv_privs_enter_userns(struct pv_privs *p, bool with_mntns)
{
	int flags = CLONE_NEWUSER | (with_mntns ? CLONE_NEWNS : 0);

	if (p->root)
		return;
	if (p->setuid) {
		/* Become the caller; keep CAP_SYS_ADMIN alone, for the one
		 * unshare below (needed where unprivileged user namespaces
		 * are forbidden). */
		become(1u << CAP_SYS_ADMIN);
	}
	if (unshare(flags) < 0)
		die_err(errno, "creating a user namespace");
	if (p->setuid) {
		char c = 'x';
		int st;
		pid_t w;

		if (pv_write_all(p->mapper_fd, &c, 1) < 0)
			die("the id-map helper is gone");
		close(p->mapper_fd);
		p->mapper_fd = -1;
		do
			w = waitpid(p->mapper, &st, 0);
		while (w < 0 && errno == EINTR);
		if (w < 0)
			die_err(errno, "waiting for the id-map helper");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			die("writing the user namespace's id maps failed (step %d)",
			    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		p->mapper = -1;
	} else {
		write_own_maps(p);
	}
	caller_entered_userns();
}

void pv_privs_drop(const struct pv_privs *p)
{
	int last = pv_last_cap();

	if (p->root)
		return;
	if (prctl(PR_SET_SECUREBITS,
		  SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
		  SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
		  SECBIT_KEEP_CAPS_LOCKED |
		  SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
		  0, 0, 0) < 0)
		die_err(errno, "prctl(PR_SET_SECUREBITS)");
	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			die_err(errno, "dropping capability %d from the bounding set", c);
	become(0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die_err(errno, "prctl(PR_SET_NO_NEW_PRIVS)");

	/* Verify, do not trust: caller_become read back the ids, the
	 * capability sets and the groups; what it does not switch, here. */
	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 0)
			die("privileges not dropped: bounding set");
	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) > 0)
			die("privileges not dropped: ambient set");
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		die("privileges not dropped: no_new_privs");
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
		die("privileges not dropped: could become root again");
}
