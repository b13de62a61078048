/* pivot-mask: the host-wide files of /proc and /sys out of a subhost's
 * reach, after the OCI runtime specification's default masked and
 * read-only paths. Run in the new root (after pivot_root), before the
 * command. A path this kernel does not have is skipped.
 *
 * This binds over paths of the mounted proc and sysfs: with USERNS=no,
 * root inside keeps CAP_SYS_ADMIN and may unmount them or mount a fresh
 * proc (the documented residue). With its own user namespace the kernel
 * itself refuses what these masks hide, and they stay as a second layer. */
#include "pivot-harden.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mount-api.h"
#include "pivot-utils.h"

#define MASK_ATTR (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | \
		   MOUNT_ATTR_NOEXEC)

/* Hidden behind an empty read-only file or directory. */
static const char *const proc_masked[] = {
	"/proc/kcore",		/* the host's physical memory as an ELF core */
	"/proc/kmsg",		/* the host's kernel log, consumed by a read */
	"/proc/sysrq-trigger",	/* reboot, crash or sync the host */
	"/proc/keys",		/* keyrings: not namespaced */
	"/proc/key-users",
	"/proc/timer_list",	/* every host timer, with pids and names */
	"/proc/timer_stats",
	"/proc/sched_debug",	/* every host task */
	"/proc/latency_stats",
	"/proc/kpagecount",	/* physical page data */
	"/proc/kpageflags",
	"/proc/kpagecgroup",
	"/proc/vmallocinfo",	/* kernel addresses */
	"/proc/mtrr",		/* writable: the CPUs' memory types */
	"/proc/acpi",		/* the host's ACPI, writable wakeup sources */
	"/proc/scsi",		/* writable: add and remove host SCSI devices */
	"/proc/asound",		/* the host's sound cards */
	NULL
};

/* Read-only binds of themselves. /proc/sys keeps /proc/sys/net writable:
 * those files belong to the subhost's own network namespace (ifupdown
 * and sysctl set them), as LXC's proc:mixed does. */
static const char *const proc_readonly[] = {
	"/proc/sys", "/proc/bus", "/proc/fs", "/proc/irq", NULL
};

static const char *const sys_masked[] = {
	"/sys/firmware",	/* ACPI tables, EFI, DMI of the host */
	NULL
};

/* All of sysfs is host-wide (uevent_helper runs a program as the host's
 * root, power/state suspends it, drivers unbind its disks) except the
 * subhost's own network devices. */
static const char *const sys_readonly[] = { "/sys", NULL };

static bool is_fs(const char *path, unsigned long magic)
{
	struct statfs s;

	if (statfs(path, &s) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return false;
		die_err(errno, "--harden: statfs %s", path);
	}
	return (unsigned long)s.f_type == magic;
}

static void set_attr(int m, unsigned attr, const char *path)
{
	struct mount_attr a;

	memset(&a, 0, sizeof a);
	a.attr_set = attr;
	if (mount_setattr(m, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0)
		die_err(errno, "--harden: making %s read-only", path);
}

static void put(int m, const char *path)
{
	if (move_mount(m, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		die_err(errno, "--harden: mounting over %s", path);
	close(m);
}

/* A clone of the tree at PATH (with what is mounted below it), or -1 when
 * PATH does not exist. */
static int clone_at(const char *path)
{
	int m = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
			  AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);

	if (m < 0 && errno != ENOENT)
		die_err(errno, "--harden: cloning %s", path);
	return m;
}

static int empty_tmpfs(const char *path)
{
	int fs = fsopen("tmpfs", FSOPEN_CLOEXEC), m;

	if (fs < 0)
		die_err(errno, "--harden: %s: fsopen tmpfs", path);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0555", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "size", "4k", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		die_err(errno, "--harden: %s: creating a tmpfs", path);
	m = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (m < 0)
		die_err(errno, "--harden: %s: fsmount", path);
	close(fs);
	return m;
}

/* The source of masked files: a detached tmpfs holding one empty file,
 * mode 0 (-1 until first needed). */
static int files_mnt = -1;

static int empty_file(const char *path)
{
	int m, f;

	if (files_mnt < 0) {
		files_mnt = empty_tmpfs(path);
		f = openat(files_mnt, "empty", O_CREAT | O_EXCL | O_WRONLY |
			   O_CLOEXEC, 0);
		if (f < 0)
			die_err(errno, "--harden: %s: creating the empty file", path);
		close(f);
	}
	m = open_tree(files_mnt, "empty", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (m < 0 && errno == EINVAL) {
		/* Kernels before 6.15 clone nothing from a detached mount:
		 * the new root's own /dev/null then, as OCI runtimes do. */
		struct stat st;

		if (stat("/dev/null", &st) < 0 || !S_ISCHR(st.st_mode) ||
		    st.st_rdev != makedev(1, 3))
			die("--harden: %s: no empty file to mask it with "
			    "(this kernel cannot clone a detached mount, and "
			    "/dev/null is not the null device)", path);
		m = open_tree(AT_FDCWD, "/dev/null", OPEN_TREE_CLONE |
			      OPEN_TREE_CLOEXEC);
	}
	if (m < 0)
		die_err(errno, "--harden: %s: cloning the empty file", path);
	return m;
}

static void mask(const char *path)
{
	struct stat st;
	int m;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return;
		die_err(errno, "--harden: %s", path);
	}
	m = S_ISDIR(st.st_mode) ? empty_tmpfs(path) : empty_file(path);
	set_attr(m, MASK_ATTR, path);
	put(m, path);
}

/* PATH read-only, but its KEEP subdirectory (NULL for none) as it was. */
static void readonly(const char *path, const char *keep)
{
	char sub[128];
	int m, k = -1;

	m = clone_at(path);
	if (m < 0)
		return;
	if (keep) {
		snprintf(sub, sizeof sub, "%s/%s", path, keep);
		k = clone_at(sub);
	}
	set_attr(m, MASK_ATTR, path);
	put(m, path);
	if (k >= 0)
		put(k, sub);
}

/* The mount on PATH (in a read-only clone) writable again. */
static void writable(const char *path)
{
	struct mount_attr a;

	memset(&a, 0, sizeof a);
	a.attr_clr = MOUNT_ATTR_RDONLY;
	if (mount_setattr(AT_FDCWD, path, 0, &a, sizeof a) < 0)
		die_err(errno, "--harden: making %s writable again", path);
}

void pv_harden_mask(void)
{
	if (is_fs("/proc", PROC_SUPER_MAGIC)) {
		for (size_t i = 0; proc_masked[i]; i++)
			mask(proc_masked[i]);
		for (size_t i = 0; proc_readonly[i]; i++)
			readonly(proc_readonly[i],
				 strcmp(proc_readonly[i], "/proc/sys") == 0 ?
				 "net" : NULL);
	}
	if (is_fs("/sys", SYSFS_MAGIC)) {
		/* A cgroup2 mount on /sys/fs/cgroup is the subhost's delegated
		 * group (USERNS=yes): it stays writable. */
		bool cg = is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC);

		for (size_t i = 0; sys_masked[i]; i++)
			mask(sys_masked[i]);
		for (size_t i = 0; sys_readonly[i]; i++)
			readonly(sys_readonly[i], "devices/virtual/net");
		if (cg)
			writable("/sys/fs/cgroup");
	}
	if (files_mnt >= 0)
		close(files_mnt);
	files_mnt = -1;
}
