/*
 * share-into — bind a host directory into a running subhost, or remove
 * such a bind.  Run by overlay-share; not meant to be called by hand.
 *
 *     share-into [--ro] PID HOSTDIR SUBHOSTDIR
 *     share-into --unshare PID SUBHOSTDIR
 *
 * PID is the subhost's pid 1 as seen from the host.  On success the number
 * of mount namespaces that were changed is printed on stdout.
 *
 * Why it is built this way:
 *
 * - After pivot_root the subhost's mount namespace no longer contains any
 *   host path, so a classic bind mount cannot name both ends.  The new
 *   mount API can: open_tree(OPEN_TREE_CLONE) makes a detached copy of
 *   HOSTDIR while we are still in the host's namespace, and move_mount()
 *   attaches that copy after setns() has moved us into the subhost's.
 *
 * - All paths inside the subhost are resolved after setns(), which sets
 *   our root to the namespace's root: a symlink or ".." planted by the
 *   subhost resolves inside the subhost and can never make us mount over
 *   something of the host.
 *
 * - The subhost's mounts are private (the mount stage asks for that), and
 *   a service that runs in its own mount namespace (unshare -m, systemd's
 *   PrivateTmp and friends) holds a copy made before the share existed;
 *   util-linux unshare even makes that copy private by default, so no
 *   amount of propagation set up on our side would ever reach it.  So the
 *   copy is made explicitly: every process of the subhost's pid namespace
 *   (and of the pid namespaces nested in it) is looked at, and each
 *   distinct mount namespace gets its own clone.  A namespace where the
 *   share already arrived (by propagation from a shared parent) is
 *   recognised by the device and inode of the target and left alone, so
 *   nothing is mounted twice.  The scan is repeated until it finds no new
 *   namespace, to catch one created while we worked.
 *
 * - The clones are made private before they are attached: a clone of a
 *   shared host mount would otherwise join its peer group, and a mount the
 *   subhost made under the share would then appear on the host.
 *
 * - Kernels without open_tree/move_mount (before 5.2) get a clear message
 *   that points to SHARE= in the config instead.  mount_setattr (5.12) is
 *   optional: without it, the same is done with mount(2) after the move.
 */
#include "mount-api.h"
#include "msg.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/fsuid.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef NS_GET_PARENT
#define NS_GET_PARENT _IO(0xb7, 0x2)
#endif

const char *msg_prog = "overlay-share";

__attribute__((noreturn))
static void usage(void)
{
	die_usage("usage: share-into [--ro] PID HOSTDIR SUBHOSTDIR, "
		  "or share-into --unshare PID SUBHOSTDIR");
}

static void no_mount_api(void)
{
	struct utsname u;

	if (uname(&u) != 0)
		strcpy(u.release, "unknown");
	die("this kernel (%s) lacks the new mount API (open_tree and "
	    "move_mount, Linux 5.2 or later), which a share into a running "
	    "subhost needs; add SHARE=HOSTDIR:SUBHOSTDIR to its config and "
	    "restart it instead", u.release);
}

/* ------------------------------------------------------------ namespaces */

struct ns {
	dev_t dev;
	ino_t ino;
	int fd;
	int done;
};

static struct ns *nss;
static size_t nns, cap_ns;

static int ns_known(const struct stat *st)
{
	for (size_t i = 0; i < nns; i++)
		if (nss[i].dev == st->st_dev && nss[i].ino == st->st_ino)
			return 1;
	return 0;
}

static void ns_add(int fd, const struct stat *st)
{
	if (nns == cap_ns) {
		size_t n = cap_ns ? cap_ns * 2 : 16;
		struct ns *p = realloc(nss, n * sizeof(*p));

		if (!p)
			die("out of memory");
		nss = p;
		cap_ns = n;
	}
	nss[nns].dev = st->st_dev;
	nss[nns].ino = st->st_ino;
	nss[nns].fd = fd;
	nss[nns].done = 0;
	nns++;
}

/* in_pidns: is the pid namespace open on FD (consumed) PIDNS itself or
 * nested in it? */
static int in_pidns(int fd, const struct stat *pidns)
{
	for (int depth = 0; depth < 40; depth++) {
		struct stat st;
		int parent;

		if (fstat(fd, &st) != 0)
			break;
		if (st.st_dev == pidns->st_dev && st.st_ino == pidns->st_ino) {
			close(fd);
			return 1;
		}
		parent = ioctl(fd, NS_GET_PARENT);
		close(fd);
		if (parent < 0)
			return 0;
		fd = parent;
	}
	close(fd);
	return 0;
}

/* The root directory of the subhost's pid 1: a mount namespace is the
 * subhost's (its own, or a service's copy) only when a process in it has
 * this root.  A process of the subhost's pid namespace may live in the
 * host's mount namespace (nsenter -t PID1 -p): its namespace is not ours
 * to change. */
static struct stat root_st;

static int same_root(long pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%ld/root", pid);
	return stat(path, &st) == 0 && st.st_dev == root_st.st_dev &&
	       st.st_ino == root_st.st_ino;
}

/* scan: add the mount namespace of every process of the subhost that is
 * not known yet, whose root is the subhost's.  Runs in the host's mount
 * namespace (its /proc).  Returns how many were added. */
static size_t scan(const struct stat *pidns)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t before = nns;

	if (!d)
		die("cannot read /proc: %s", strerror(errno));
	while ((e = readdir(d))) {
		char path[64], *end;
		struct stat st;
		long pid;
		int fd;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		pid = strtol(e->d_name, &end, 10);
		if (*end)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/pid", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* gone, or a kernel thread */
		if (!in_pidns(fd, pidns) || !same_root(pid))
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/mnt", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) != 0 || ns_known(&st)) {
			close(fd);
			continue;
		}
		ns_add(fd, &st);
	}
	closedir(d);
	return nns - before;
}

static void enter(int fd, const char *what)
{
	if (setns(fd, CLONE_NEWNS) != 0)
		die("cannot enter the mount namespace of %s: %s", what,
		    strerror(errno));
	if (chdir("/") != 0)
		die("cannot change to / in %s: %s", what, strerror(errno));
}

/* ----------------------------------------------------------------- paths */

/* check_target: an absolute path other than /, without "." or ".."
 * components. */
static void check_target(const char *p)
{
	const char *c = p;

	if (p[0] != '/')
		die("%s: the subhost path must be absolute", p);
	if (strlen(p) >= PATH_MAX)
		die("subhost path too long");
	while (*c) {
		size_t n;

		while (*c == '/')
			c++;
		n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			die("%s: the subhost path must not contain . or ..", p);
		c += n;
	}
	for (c = p; *c == '/'; c++)
		;
	if (!*c)
		die("cannot share onto / of the subhost");
}

/* mkdirs: create PATH and its missing parents (mode 0755), inside the
 * current root. */
static void mkdirs(const char *path)
{
	char buf[PATH_MAX];
	struct stat st;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *s = buf + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			die("cannot create %s in the subhost: %s", buf,
			    strerror(errno));
		*s = c;
		if (!c)
			break;
	}
	if (stat(path, &st) != 0)
		die("%s in the subhost: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		die("%s in the subhost is not a directory", path);
}

/* ----------------------------------------------------------------- share */

static int host_ns = -1;
static struct stat pidns_st;
/* A subhost with a user namespace of its own (USERNS): that namespace,
 * and the host uid and gid of its root. */
static int sub_userns = -1;
static unsigned long sub_root_uid, sub_root_gid;

/* Switch the file-system ids, and check: setfsuid reports no failure but
 * by what it returns next time, and a mkdir made as the wrong owner
 * would give the subhost's root a directory it cannot write. */
static void fs_ids(unsigned long uid, unsigned long gid)
{
	(void)setfsgid((gid_t)gid);
	(void)setfsuid((uid_t)uid);
	if ((uid_t)setfsuid((uid_t)-1) != (uid_t)uid ||
	    (gid_t)setfsgid((gid_t)-1) != (gid_t)gid)
		die("cannot act as uid %lu, gid %lu", uid, gid);
}

/* the host id that id 0 of the user namespace of PID maps to, from FILE */
static unsigned long root_of(int pid, const char *file)
{
	char path[64];
	unsigned long in, out, count;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	f = fopen(path, "re");
	if (!f)
		die("%s: %s", path, strerror(errno));
	while (fscanf(f, "%lu %lu %lu", &in, &out, &count) == 3)
		if (in == 0) {
			fclose(f);
			return out;
		}
	fclose(f);
	die("%s: id 0 of the subhost is not mapped", path);
}

/* sub_userns_open: note the subhost's user namespace when it is not ours. */
static void sub_userns_open(int pid)
{
	char path[64];
	struct stat ours, theirs;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &theirs) != 0 || stat("/proc/self/ns/user", &ours) != 0)
		die("process %d is gone: %s", pid, strerror(errno));
	if (theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev) {
		close(fd);
		return;
	}
	sub_userns = fd;
	sub_root_uid = root_of(pid, "uid_map");
	sub_root_gid = root_of(pid, "gid_map");
}

static void back_home(void)
{
	enter(host_ns, "the host");
}

/* attach: move the detached tree CLONE onto TARGET in the current mount
 * namespace.  Returns 0, or an errno value. */
static int attach(int clone, const char *target, int ro, int have_setattr)
{
	if (move_mount(clone, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0)
		return errno;
	if (have_setattr)
		return 0;
	/* No mount_setattr: the same, after the fact. */
	if (mount(NULL, target, NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return errno;
	if (ro && mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) != 0)
		return errno;
	return 0;
}

static int do_share(const char *hostdir, const char *target, int ro)
{
	struct stat hst;
	int changed = 0, failed = 0, have_setattr = 1;

	if (stat(hostdir, &hst) != 0)
		die("%s: %s", hostdir, strerror(errno));
	if (!S_ISDIR(hst.st_mode))
		die("%s is not a directory", hostdir);

	for (int round = 0; round < 5; round++) {
		size_t first = 0;

		if (round > 0) {
			back_home();
			first = nns;
			if (scan(&pidns_st) == 0)
				break;
		}
		for (size_t i = first; i < nns; i++) {
			struct mount_attr attr = { 0 };
			struct stat cst, tst;
			int clone, err;

			/* In the host's namespace: clone HOSTDIR. */
			if (i > first)
				back_home();
			clone = open_tree(AT_FDCWD, hostdir,
					  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
			if (clone < 0) {
				if (errno == ENOSYS)
					no_mount_api();
				die("cannot clone %s: %s", hostdir, strerror(errno));
			}
			attr.propagation = MS_PRIVATE;
			attr.attr_set = ro ? MOUNT_ATTR_RDONLY : 0;
			/* A subhost's own user namespace: a writable share is
			 * idmapped through it (its root writes as the host's
			 * root, as asked); a read-only one is not, since the
			 * subhost's root may remount a mount we attach
			 * read-write, and would then write through the idmap. */
			if (sub_userns >= 0 && !ro) {
				attr.attr_set |= MOUNT_ATTR_IDMAP;
				attr.userns_fd = (uint64_t)sub_userns;
			}
			if (have_setattr &&
			    mount_setattr(clone, "", AT_EMPTY_PATH | AT_RECURSIVE,
					  &attr, sizeof attr) != 0) {
				if (errno != ENOSYS)
					die("cannot set up the clone of %s: %s",
					    hostdir, strerror(errno));
				have_setattr = 0;
			}
			if (fstat(clone, &cst) != 0)
				die("cannot stat the clone of %s: %s", hostdir,
				    strerror(errno));

			enter(nss[i].fd, i == 0 ? "the subhost" : "a service of the subhost");
			if (i == 0) {
				/* as the subhost's root: the host's root is
				 * nobody in its overlay */
				if (sub_userns >= 0)
					fs_ids(sub_root_uid, sub_root_gid);
				mkdirs(target);
				if (sub_userns >= 0)
					fs_ids(0, 0);
			} else if (stat(target, &tst) != 0 || !S_ISDIR(tst.st_mode)) {
				/* This service sees another tree there. */
				close(clone);
				continue;
			}
			if (stat(target, &tst) == 0 && tst.st_dev == cst.st_dev &&
			    tst.st_ino == cst.st_ino) {
				/* Already there: propagated, or shared before. */
				close(clone);
				if (i == 0)
					die("%s is already shared at %s", hostdir, target);
				continue;
			}
			err = attach(clone, target, ro, have_setattr);
			close(clone);
			if (err) {
				if (err == ENOSYS)
					no_mount_api();
				if (i == 0)
					die("cannot mount %s on %s in the subhost: %s",
					    hostdir, target, strerror(err));
				warn("warning: cannot mount %s on %s in a service's mount namespace: %s",
				     hostdir, target, strerror(err));
				failed++;
				continue;
			}
			changed++;
		}
	}
	printf("%d\n", changed);
	return failed ? 1 : 0;
}

static int do_unshare(const char *target)
{
	struct stat mst, tst;
	int changed = 0, failed = 0;

	for (int round = 0; round < 5; round++) {
		size_t first = 0;

		if (round > 0) {
			back_home();
			first = nns;
			if (scan(&pidns_st) == 0)
				break;
		}
		for (size_t i = first; i < nns; i++) {
			enter(nss[i].fd, i == 0 ? "the subhost" : "a service of the subhost");
			if (i == 0) {
				if (stat(target, &mst) != 0)
					die("%s in the subhost: %s", target, strerror(errno));
			} else if (stat(target, &tst) != 0 || tst.st_dev != mst.st_dev ||
				   tst.st_ino != mst.st_ino) {
				/* Not the share (or gone with it by propagation). */
				continue;
			}
			if (umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) != 0) {
				if (i == 0 && errno == EINVAL)
					die("%s is not a mount point in the subhost", target);
				if (i == 0)
					die("cannot unmount %s in the subhost: %s", target,
					    strerror(errno));
				warn("warning: cannot unmount %s in a service's mount namespace: %s",
				     target, strerror(errno));
				failed++;
				continue;
			}
			changed++;
		}
	}
	printf("%d\n", changed);
	return failed ? 1 : 0;
}

static int parse_pid(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 2 || v > INT_MAX)
		die("'%s' is not a process id", s);
	return (int)v;
}

int main(int argc, char **argv)
{
	int ro = 0, unshare = 0, pid, fd;
	char path[64];
	struct stat st;

	while (argc > 1 && argv[1][0] == '-') {
		if (strcmp(argv[1], "--ro") == 0)
			ro = 1;
		else if (strcmp(argv[1], "--unshare") == 0)
			unshare = 1;
		else
			usage();
		argc--;
		argv++;
	}
	if (argc != (unshare ? 3 : 4) || (unshare && ro))
		usage();
	pid = parse_pid(argv[1]);
	check_target(argv[unshare ? 2 : 3]);

	host_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (host_ns < 0)
		die("cannot open our own mount namespace: %s", strerror(errno));
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &pidns_st) != 0)
		die("process %d is gone: %s", pid, strerror(errno));
	close(fd);
	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	if (stat(path, &root_st) != 0)
		die("process %d is gone: %s", pid, strerror(errno));
	/* The subhost's own mount namespace comes first. */
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
		die("process %d is gone: %s", pid, strerror(errno));
	ns_add(fd, &st);
	scan(&pidns_st);
	sub_userns_open(pid);

	if (unshare)
		return do_unshare(argv[2]);
	return do_share(argv[2], argv[3], ro);
}
