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

static int capset_none(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof d);
	return (int)syscall(SYS_capset, &h, d);
}

static bool caps_none(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return false;
	return true;
}

/* In the child: become the caller, entirely, or exit. */
static void become_caller(void)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	gid_t *g;
	int n;

	/* The ids: from root, setresuid to a non-zero uid also clears every
	 * capability set; in the caller's user namespace the ids are the
	 * caller's already and the capabilities are dropped by hand. */
	if (setresgid(who.gid, who.gid, who.gid) < 0 ||
	    setresuid(who.uid, who.uid, who.uid) < 0)
		_exit(CHILD_SWITCH);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		_exit(CHILD_SWITCH);
	if (capset_none() < 0)
		_exit(CHILD_SWITCH);
	/* a caller's process, but no one may attach to it */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		_exit(CHILD_SWITCH);

	/* Verify, do not trust. */
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 ||
	    ru != who.uid || eu != who.uid || su != who.uid ||
	    rg != who.gid || eg != who.gid || sg != who.gid)
		_exit(CHILD_VERIFY);
	if ((uid_t)setfsuid((uid_t)-1) != who.uid ||
	    (gid_t)setfsgid((gid_t)-1) != who.gid)
		_exit(CHILD_VERIFY);
	if (!caps_none())
		_exit(CHILD_VERIFY);
	/* The groups are the caller's: the helper never changes them (a user
	 * namespace shows those it does not map as the overflow gid, so
	 * there only their number is compared). */
	n = getgroups(0, NULL);
	if (n != who.ngroups)
		_exit(CHILD_VERIFY);
	g = calloc((size_t)n + 1, sizeof *g);
	if (!g || getgroups(n, g) != n)
		_exit(CHILD_VERIFY);
	if (!who.userns)
		for (int i = 0; i < n; i++)
			if (g[i] != who.groups[i])
				_exit(CHILD_VERIFY);
	free(g);
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
