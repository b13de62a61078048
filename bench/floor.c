/*
 * floor: the least any overlay-root runner can do, as a yardstick for the
 * benchmarks. unshare a mount namespace, mount an overlay of LOWER with a
 * tmpfs upper on MNT, pivot_root into it, detach the old root and exec
 * the command. No option parsing, no checks beyond failing loudly.
 *
 * With -a, the work of overlay-pivot --unshare-pid --unshare-ipc
 * --unshare-uts -N --tmp-overlay LOWER / --proc /proc --dev /dev: also
 * pid, ipc, uts and net namespaces (lo up), one fork for the pid
 * namespace (the command is its pid 1; the parent waits), /proc, and a
 * /dev like overlay-pivot's (tmpfs, six host nodes bound, the links,
 * shm, a new devpts instance).
 *
 *   floor [-a] LOWER SCRATCH COMMAND [ARG...]   (SCRATCH: an empty directory)
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void fail(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* -a: lo up, then fork; the parent waits and passes the status on. */
static void all_ns(void)
{
	struct ifreq ifr;
	int s, st;
	pid_t pid;

	if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
		    CLONE_NEWNET) < 0)
		fail("unshare");
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		fail("lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		fail("lo up");
	close(s);
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid > 0) {
		if (waitpid(pid, &st, 0) < 0)
			fail("waitpid");
		exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
}

/* -a: /proc and /dev in the new root MNT (cwd). */
static void proc_dev(void)
{
	static const char *const nodes[] = {
		"null", "zero", "full", "random", "urandom", "tty"
	};
	static const char *const links[][2] = {
		{ "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
		{ "ptmx", "pts/ptmx" }, { "core", "/proc/kcore" }
	};
	char p[64];

	if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		fail("mount proc");
	if (mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") < 0)
		fail("mount dev");
	for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
		char h[64];

		snprintf(p, sizeof p, "dev/%s", nodes[i]);
		snprintf(h, sizeof h, "/dev/%s", nodes[i]);
		close(open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
		if (mount(h, p, NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NOEXEC, NULL) < 0)
			fail(h);
	}
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		snprintf(p, sizeof p, "dev/%s", links[i][0]);
		if (symlink(links[i][1], p) < 0)
			fail("symlink");
	}
	if (mkdir("dev/shm", 01777) < 0 || chmod("dev/shm", 01777) < 0 ||
	    mkdir("dev/pts", 0755) < 0)
		fail("mkdir");
	if (mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=620") < 0)
		fail("mount devpts");
}

int main(int argc, char **argv)
{
	char opts[4096], up[1024], work[1024], mnt[1024];
	int all = argc > 1 && strcmp(argv[1], "-a") == 0;

	argc -= all;
	argv += all;
	if (argc < 4) {
		fprintf(stderr, "usage: floor [-a] LOWER SCRATCH COMMAND [ARG...]\n");
		return 2;
	}
	if (all)
		all_ns();
	else if (unshare(CLONE_NEWNS) < 0)
		fail("unshare");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		fail("make / private");
	if (mount("tmpfs", argv[2], "tmpfs", 0, "mode=0755") < 0)
		fail("mount tmpfs");
	snprintf(up, sizeof up, "%s/up", argv[2]);
	snprintf(work, sizeof work, "%s/work", argv[2]);
	snprintf(mnt, sizeof mnt, "%s/mnt", argv[2]);
	if (mkdir(up, 0755) < 0 || mkdir(work, 0755) < 0 || mkdir(mnt, 0755) < 0)
		fail("mkdir");
	snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s", argv[1], up, work);
	if (mount("overlay", mnt, "overlay", 0, opts) < 0)
		fail("mount overlay");
	if (chdir(mnt) < 0)
		fail("chdir");
	if (all)
		proc_dev();
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		fail("pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		fail("detach old root");
	if (chdir("/") < 0)
		fail("chdir /");
	execvp(argv[3], argv + 3);
	fail("exec");
	return 1;
}
