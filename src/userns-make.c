/*
 * userns-make — make a subhost's user namespace and the network namespace
 * it owns, and keep both by bind mounts.  Run by overlay-boot as root.
 *
 *     userns-make BASE COUNT USERNS_FILE [NETNS_FILE]
 *
 * Ids 0..COUNT-1 of the new user namespace are host ids BASE..BASE+COUNT-1
 * (users and groups alike).  USERNS_FILE (created, must not exist) becomes
 * a bind of the namespace; NETNS_FILE, when given, a bind of a new network
 * namespace created inside it, so that its root configures its interfaces
 * while `ip netns exec` and `ip link set ... netns` still work from the
 * host (NETNS_FILE's directory is made a shared mount point as ip-netns(8)
 * makes /run/netns).
 *
 * Why a helper of its own: only the host's root may write a map of other
 * ids than its own, and the namespaces must be made before the subhost's
 * mount stage (the cables go into the network namespace first).  It is not
 * set-user-id, and refuses any caller but root.
 *
 * A child process creates the namespaces (a process cannot write its own
 * map of ids it does not hold); we write its maps from outside, bind its
 * /proc/PID/ns files and let it go.  On failure nothing is left behind.
 */
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *msg_prog = "userns-make";

static const char *made[2];	/* bind mounts made, undone on failure */
static pid_t child = -1;

static void undo(void)
{
	for (int i = 1; i >= 0; i--) {
		if (!made[i])
			continue;
		(void)umount2(made[i], MNT_DETACH);
		(void)unlink(made[i]);
		made[i] = NULL;
	}
	if (child > 0) {
		(void)kill(child, SIGKILL);
		(void)waitpid(child, NULL, 0);
		child = -1;
	}
}

static unsigned long number(const char *what, const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > max || (s[0] == '0' && s[1]))
		die("%s '%s' is not a number up to %lu", what, s, max);
	return v;
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t n = strlen(s);

	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	if (write(fd, s, n) != (ssize_t)n) {
		int err = errno;

		close(fd);
		die("writing '%.*s' to %s: %s", (int)(n - 1), s, path,
		     strerror(err));
	}
	if (close(fd) < 0)
		die("closing %s: %s", path, strerror(errno));
}

/* The directory of FILE a shared mount point, as ip-netns(8) makes it. */
static void shared_dir(const char *file)
{
	char dir[PATH_MAX];
	char *slash;

	if (snprintf(dir, sizeof dir, "%s", file) >= (int)sizeof dir)
		die("%s: path too long", file);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		die("%s: must be an absolute path below a directory", file);
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		die("mkdir %s: %s", dir, strerror(errno));
	if (mount("", dir, "none", MS_SHARED | MS_REC, NULL) == 0)
		return;
	if (errno != EINVAL)
		die("making %s a shared mount: %s", dir, strerror(errno));
	/* not a mount point yet */
	if (mount(dir, dir, "none", MS_BIND | MS_REC, NULL) < 0 ||
	    mount("", dir, "none", MS_SHARED | MS_REC, NULL) < 0)
		die("making %s a shared mount: %s", dir, strerror(errno));
}

static void bind_ns(int slot, const char *what, const char *file)
{
	char src[64];
	int fd;

	snprintf(src, sizeof src, "/proc/%d/ns/%s", (int)child, what);
	fd = open(file, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		die("creating %s: %s", file, strerror(errno));
	close(fd);
	made[slot] = file;
	if (mount(src, file, NULL, MS_BIND, NULL) < 0)
		die("binding %s to %s: %s", src, file, strerror(errno));
}

/* One byte on FD, or fail with WHAT. */
static void expect(int fd, const char *what)
{
	char c;
	ssize_t n;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		die("%s", what);
}

int main(int argc, char **argv)
{
	unsigned long base, count;
	int to_child[2], to_parent[2], st;
	char map[64], path[64];
	const char *netns;

	if (argc != 4 && argc != 5)
		die_usage("usage: userns-make BASE COUNT USERNS_FILE [NETNS_FILE]");
	base = number("BASE", argv[1], 4294967294UL);
	count = number("COUNT", argv[2], 4294967295UL);
	if (count == 0 || base + count - 1 > 4294967294UL)
		die("range %lu:%lu is not within 0-4294967294", base, count);
	netns = argc == 5 ? argv[4] : NULL;
	if (geteuid() != 0)
		die("must be run as root");
	/* From here on a failure leaves nothing behind. */
	die_hook = undo;
	if (pipe2(to_child, O_CLOEXEC) < 0 || pipe2(to_parent, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	child = fork();
	if (child < 0)
		die("fork: %s", strerror(errno));
	if (child == 0) {
		char c = 'u';

		close(to_child[1]);
		close(to_parent[0]);
		if (unshare(CLONE_NEWUSER) < 0)
			die_err(errno, "creating a user namespace");
		if (write(to_parent[1], &c, 1) != 1)
			_exit(1);
		/* the maps are written: now the network namespace, owned
		 * by the new user namespace */
		if (read(to_child[0], &c, 1) != 1)
			_exit(1);
		if (c == 'n' && unshare(CLONE_NEWNET) < 0)
			die_err(errno, "creating a network namespace");
		if (write(to_parent[1], &c, 1) != 1)
			_exit(1);
		/* held until the parent has bound what it needs, or has died */
		if (read(to_child[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	expect(to_parent[0], "the child could not create the user namespace");
	snprintf(map, sizeof map, "0 %lu %lu\n", base, count);
	snprintf(path, sizeof path, "/proc/%d/uid_map", (int)child);
	write_file(path, map);
	snprintf(path, sizeof path, "/proc/%d/gid_map", (int)child);
	write_file(path, map);
	if (write(to_child[1], netns ? "n" : "-", 1) != 1)
		die("the child is gone");
	expect(to_parent[0], "the child could not create the network namespace");
	bind_ns(0, "user", argv[3]);
	if (netns) {
		shared_dir(netns);
		bind_ns(1, "net", netns);
	}
	close(to_child[1]);
	if (waitpid(child, &st, 0) < 0)
		die("waitpid: %s", strerror(errno));
	child = -1;
	return 0;
}
