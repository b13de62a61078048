/* pivot-caller: the one door through which overlay-pivot acts as its
 * caller. See pivot-caller.h for the contract.
 *
 *   helper                            child (fork)
 *   socketpair ---------------------> keep the socket and DIRFD only
 *                                     become the caller: gid, uid, no caps
 *                                     verify ids, groups, capabilities
 *                                     the act (open, mkdir, realpath)
 *   recvmsg <------------------------ errno, data, fd (SCM_RIGHTS)
 *   waitpid: exit 0, or die
 *
 * Why a child and not setfsuid: with only the file-system ids switched,
 * the effective uid 0 and capabilities such as CAP_SYS_PTRACE remain, and
 * the kernel still grants on them (/proc/PID/maps of a root process, 0600
 * files under /proc/sys): "exists but unreadable" would differ from
 * "missing". The child has nothing the caller lacks. */
#include "pivot-caller.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stddef.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pivot-utils.h"

static struct {
	bool act;		/* acts go through a child */
	bool userns;		/* ... which is in the caller's user namespace */
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups;
} who;

void caller_init(uid_t uid, gid_t gid, bool act)
{
	int n;

	who.uid = uid;
	who.gid = gid;
	who.act = act;
	n = getgroups(0, NULL);
	if (n < 0)
		die_err(errno, "getgroups");
	who.groups = pv_xcalloc((size_t)n + 1, sizeof *who.groups);
	n = getgroups(n, who.groups);
	if (n < 0)
		die_err(errno, "getgroups");
	who.ngroups = n;
}

void caller_entered_userns(void)
{
	who.act = true;
	who.userns = true;
}

enum act { ACT_OPEN, ACT_MKDIR, ACT_REALPATH };

struct req {
	enum act act;
	int dirfd;
	const char *path;
	int flags;
	mode_t mode;
	unsigned long long resolve;
	unsigned check;
};

/* What the child answers: errno (0 on success), then data. */
struct reply {
	int err;
	char data[PATH_MAX];
};

/* Exit codes of the child that mean it could not become the caller. */
enum { CHILD_OK = 0, CHILD_SWITCH = 10, CHILD_VERIFY, CHILD_SEND };

static int openat2_raw(int dirfd, const char *path, int flags, mode_t mode,
		       unsigned long long resolve)
{
	struct open_how how;
	long r;

	memset(&how, 0, sizeof how);
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
	how.resolve = resolve;
	do
		r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
	while (r < 0 && errno == EAGAIN);
	return (int)r;
}

/* The act itself, with whatever credentials we have. */
static int do_act(const struct req *q, struct reply *rep, int *fd)
{
	*fd = -1;
	switch (q->act) {
	case ACT_OPEN: {
		struct stat st;
		int f = openat2_raw(q->dirfd, q->path, q->flags, q->mode,
				    q->resolve);

		if (f < 0)
			return errno;
		if (q->check & CALLER_READABLE) {
			int mode = R_OK;

			if (fstat(f, &st) < 0) {
				int e = errno;

				close(f);
				return e;
			}
			if (S_ISDIR(st.st_mode))
				mode |= X_OK;
			if (faccessat(f, "", mode, AT_EMPTY_PATH | AT_EACCESS) < 0) {
				int e = errno;

				close(f);
				return e;
			}
		}
		*fd = f;
		return 0;
	}
	case ACT_MKDIR:
		return mkdirat(q->dirfd, q->path, q->mode) < 0 ? errno : 0;
	case ACT_REALPATH: {
		char *r = realpath(q->path, NULL);

		if (!r)
			return errno;
		if (strlen(r) >= sizeof rep->data) {
			free(r);
			return ENAMETOOLONG;
		}
		strcpy(rep->data, r);
		free(r);
		return 0;
	}
	}
	return EINVAL;
}

int caller_become(uint32_t keep, const char **what)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	gid_t *g;
	int n;

	/* From root, setresuid to a non-zero uid clears every capability
	 * set unless asked to keep the permitted one; in the caller's user
	 * namespace the ids are the caller's already and only the capset
	 * drops anything. */
	*what = "keeping capabilities";
	if (keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return CALLER_SWITCH_FAILED;
	*what = "setresgid";
	if (setresgid(who.gid, who.gid, who.gid) < 0)
		return CALLER_SWITCH_FAILED;
	*what = "setresuid";
	if (setresuid(who.uid, who.uid, who.uid) < 0)
		return CALLER_SWITCH_FAILED;
	*what = "keeping capabilities";
	if (keep && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return CALLER_SWITCH_FAILED;
	/* EINVAL: a kernel without ambient capabilities (before 4.3) */
	*what = "clearing the ambient capabilities";
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return CALLER_SWITCH_FAILED;
	*what = "capset";
	memset(d, 0, sizeof d);
	d[0].effective = d[0].permitted = keep;
	if (syscall(SYS_capset, &h, d) < 0)
		return CALLER_SWITCH_FAILED;

	/* Verify, do not trust. */
	*what = "the ids";
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 ||
	    ru != who.uid || eu != who.uid || su != who.uid ||
	    rg != who.gid || eg != who.gid || sg != who.gid)
		return CALLER_NOT_VERIFIED;
	*what = "the file-system ids";
	if ((uid_t)setfsuid((uid_t)-1) != who.uid ||
	    (gid_t)setfsgid((gid_t)-1) != who.gid)
		return CALLER_NOT_VERIFIED;
	/* No inheritable capability means no ambient one either: the
	 * kernel keeps ambient within permitted and inheritable. */
	*what = "the capabilities";
	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) < 0 ||
	    d[0].effective != keep || d[0].permitted != keep ||
	    d[0].inheritable || d[1].effective || d[1].permitted ||
	    d[1].inheritable)
		return CALLER_NOT_VERIFIED;
	/* The groups are the caller's: the helper never changes them (a user
	 * namespace shows those it does not map as the overflow gid, so
	 * there only their number is compared). */
	*what = "the groups";
	n = getgroups(0, NULL);
	if (n != who.ngroups)
		return CALLER_NOT_VERIFIED;
	g = calloc((size_t)n + 1, sizeof *g);
	if (!g || getgroups(n, g) != n) {
		free(g);
		return CALLER_NOT_VERIFIED;
	}
	for (int i = 0; !who.userns && i < n; i++)
		if (g[i] != who.groups[i]) {
			free(g);
			return CALLER_NOT_VERIFIED;
		}
	free(g);
	*what = NULL;
	return 0;
}

/* In the child: become the caller, entirely, or exit. */
static void become_caller(void)
{
	const char *what;

	switch (caller_become(0, &what)) {
	case CALLER_SWITCH_FAILED:
		_exit(CHILD_SWITCH);
	case CALLER_NOT_VERIFIED:
		_exit(CHILD_VERIFY);
	}
	/* a caller's process, but no one may attach to it */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		_exit(CHILD_SWITCH);
}

/* Send REP (and FD, if any) on SOCK. */
static int send_reply(int sock, const struct reply *rep, size_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)rep, len };
	struct msghdr m;
	ssize_t n;

	memset(&m, 0, sizeof m);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof u);
		m.msg_control = u.buf;
		m.msg_controllen = sizeof u.buf;
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	do
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

/* Receive a reply; *FD gets the passed descriptor or -1. */
static ssize_t recv_reply(int sock, struct reply *rep, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { rep, sizeof *rep };
	struct msghdr m;
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	memset(&m, 0, sizeof m);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof u.buf;
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(c), sizeof *fd);
	if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		errno = EPROTO;
		return -1;
	}
	return n;
}

__attribute__((noreturn))
static void child(int sock, struct req q)
{
	struct reply rep;
	int s, d = -1, fd, keep;

	/* Keep the socket (as 3) and the directory (as 4), nothing else. */
	s = fcntl(sock, F_DUPFD, 10);
	if (s < 0)
		_exit(CHILD_SWITCH);
	if (q.dirfd >= 0) {
		d = fcntl(q.dirfd, F_DUPFD, 10);
		if (d < 0 || dup2(d, 4) < 0)
			_exit(CHILD_SWITCH);
		q.dirfd = 4;
	}
	if (dup2(s, 3) < 0)
		_exit(CHILD_SWITCH);
	keep = q.dirfd >= 0 ? 4 : 3;
	pv_close_fds_from(keep + 1, -1);

	become_caller();

	memset(&rep, 0, sizeof rep);
	rep.err = do_act(&q, &rep, &fd);
	if (send_reply(3, &rep, offsetof(struct reply, data) +
		       (q.act == ACT_REALPATH && !rep.err ? strlen(rep.data) + 1 : 0),
		       fd) < 0)
		_exit(CHILD_SEND);
	_exit(CHILD_OK);
}

/* Run Q: directly, or in a child that is the caller. */
static int run(struct req q, struct reply *rep, int *fd)
{
	int sv[2], st, err;
	pid_t pid, w;
	ssize_t n;

	*fd = -1;
	if (!who.act) {
		memset(rep, 0, sizeof *rep);
		err = do_act(&q, rep, fd);
		if (err) {
			errno = err;
			return -1;
		}
		return 0;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die_err(errno, "acting as the caller: socketpair");
	pid = fork();
	if (pid < 0)
		die_err(errno, "acting as the caller: fork");
	if (pid == 0) {
		close(sv[0]);
		child(sv[1], q);
	}
	close(sv[1]);
	memset(rep, 0, sizeof *rep);
	n = recv_reply(sv[0], rep, fd);
	err = errno;
	close(sv[0]);
	do
		w = waitpid(pid, &st, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		die_err(errno, "acting as the caller: waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != CHILD_OK) {
		if (*fd >= 0)
			close(*fd);
		if (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_SWITCH)
			die("acting as the caller: could not take the caller's ids");
		if (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_VERIFY)
			die("acting as the caller: the ids, groups or capabilities "
			    "are not the caller's after the switch");
		die("acting as the caller: the child failed (status %d)", st);
	}
	if (n < (ssize_t)offsetof(struct reply, data)) {
		if (*fd >= 0)
			close(*fd);
		die_err(n < 0 ? err : EPROTO, "acting as the caller: no answer");
	}
	if (rep->err) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		errno = rep->err;
		return -1;
	}
	return 0;
}

int caller_openat(int dirfd, const char *path, int flags, mode_t mode,
		  unsigned long long resolve, unsigned check)
{
	struct req q = { ACT_OPEN, dirfd, path, flags, mode, resolve, check };
	struct reply rep;
	int fd;

	if (run(q, &rep, &fd) < 0)
		return -1;
	if (fd < 0)
		die("acting as the caller: opened %s but got no descriptor", path);
	return fd;
}

int caller_open(const char *path, int flags, mode_t mode)
{
	return caller_openat(AT_FDCWD, path, flags, mode, 0, 0);
}

int caller_mkdirat(int dirfd, const char *path, mode_t mode)
{
	struct req q = { ACT_MKDIR, dirfd, path, 0, mode, 0, 0 };
	struct reply rep;
	int fd;

	return run(q, &rep, &fd);
}

int caller_mkdir(const char *path, mode_t mode)
{
	return caller_mkdirat(AT_FDCWD, path, mode);
}

char *caller_realpath(const char *path)
{
	struct req q = { ACT_REALPATH, AT_FDCWD, path, 0, 0, 0, 0 };
	struct reply rep;
	int fd;

	if (run(q, &rep, &fd) < 0)
		return NULL;
	rep.data[sizeof rep.data - 1] = '\0';
	return pv_xstrdup(rep.data);
}
