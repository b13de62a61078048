/*
 * floor: the least any overlay-root runner can do, as a yardstick for the
 * benchmarks. unshare a mount namespace, mount an overlay of LOWER with a
 * tmpfs upper on MNT, pivot_root into it, detach the old root and exec
 * the command. No option parsing, no checks beyond failing loudly.
 *
 *   floor LOWER SCRATCH COMMAND [ARG...]   (SCRATCH: an empty directory)
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void fail(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	char opts[4096], up[1024], work[1024], mnt[1024];

	if (argc < 4) {
		fprintf(stderr, "usage: floor LOWER SCRATCH COMMAND [ARG...]\n");
		return 2;
	}
	if (unshare(CLONE_NEWNS) < 0)
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
