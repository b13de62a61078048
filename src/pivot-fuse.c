/* pivot-fuse: FUSE file systems for a non-root caller, served by a
 * process of the caller's own. See pivot-fuse.h for the sequence. */
#include "pivot-fuse.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mount-api.h"
#include "pivot-caller.h"
#include "pivot-privs.h"
#include "pivot-squash.h"
#include "pivot-utils.h"

/* ---- plan ------------------------------------------------------------ */

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape_octal(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' &&
		    r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) |
				      (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* Is some mount point of our mount namespace strictly below DIR? */
static bool mounts_below(const char *dir)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	size_t n = strlen(dir), cap = 0;
	char *line = NULL;
	bool found = false;

	if (!f)
		die_err(errno, "reading /proc/self/mountinfo");
	if (n == 1)	/* "/" */
		n = 0;
	while (!found && getline(&line, &cap, f) > 0) {
		char *save = NULL, *t, *mp = NULL;
		int k = 0;

		for (t = strtok_r(line, " ", &save); t && k < 5;
		     t = strtok_r(NULL, " ", &save))
			if (++k == 5)
				mp = t;
		if (!mp)
			continue;
		unescape_octal(mp);
		if (strncmp(mp, dir, n) == 0 && mp[n] == '/' && mp[n + 1])
			found = true;
	}
	free(line);
	fclose(f);
	return found;
}

/* Does the host directory PATH (as the caller names it) have mounts
 * below it? Resolved as the caller; a path the caller cannot resolve is
 * left to the build, which gives the usual message. */
static bool lower_needs_fuse(const char *path)
{
	char *r = caller_realpath(path);
	bool b;

	if (!r)
		return false;
	b = mounts_below(r);
	free(r);
	return b;
}

static void need_program(const char *what, const char *arg, const char *prog,
			 const char *pkg)
{
	if (access(prog, X_OK) < 0)
		die("%s %s: a non-root caller needs %s for it (Debian package %s)",
		    what, arg, prog, pkg);
}

void pv_fuse_plan(struct pv_ctx *ctx, struct pv_config *cfg)
{
	size_t n = 0;

	if (ctx->root)
		return;
	for (size_t i = 0; i < cfg->nops; i++) {
		struct pv_op *op = &cfg->ops[i];
		const char *what = NULL;

		switch (op->type) {
		case PV_OP_SQUASH:
		case PV_OP_SQUASH_OVERLAY:
			need_program(op->type == PV_OP_SQUASH ? "--squash" :
				     "--squash-overlay", op->src, PV_SQUASHFUSE,
				     "squashfuse");
			op->fuse = true;
			break;
		case PV_OP_OVERLAY:
		case PV_OP_TMP_OVERLAY:
			what = op->type == PV_OP_OVERLAY ? "--overlay" :
			       "--tmp-overlay";
			op->fuse = lower_needs_fuse(op->src);
			break;
		case PV_OP_OVSPEC:
			what = "-o";
			for (size_t j = 0; j < op->nlowers && !op->fuse; j++)
				op->fuse = lower_needs_fuse(op->lowers[j]);
			break;
		default:
			break;
		}
		if (op->fuse && what)
			need_program(what, op->src ? op->src : op->dst,
				     PV_FUSE_OVERLAYFS, "fuse-overlayfs");
		if (op->fuse)
			op->fuse_slot = (unsigned)n;
		if (op->fuse && ++n > PV_FUSE_MAX)
			die("at most %d squashfs images and overlays of directories "
			    "with mounts below them in one run", PV_FUSE_MAX);
	}
}

/* ---- prepare --------------------------------------------------------- */

static int fuse_connection(struct pv_ctx *ctx, bool ro, int *devp,
			   const char *what, const char *arg)
{
	char num[16], uid[16], gid[16];
	int dev, fs, m;

	dev = ctx->oldroot >= 0 ?
	      openat(ctx->oldroot, "dev/fuse", O_RDWR | O_CLOEXEC | O_NOCTTY) :
	      open("/dev/fuse", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (dev < 0)
		die("%s %s: a non-root caller's is served by FUSE, and /dev/fuse: "
		    "%s (overlay-pivot installed set-user-id root opens it)",
		    what, arg, strerror(errno));
	snprintf(num, sizeof num, "%d", dev);
	snprintf(uid, sizeof uid, "%u", (unsigned)ctx->uid);
	snprintf(gid, sizeof gid, "%u", (unsigned)ctx->gid);
	fs = fsopen("fuse", FSOPEN_CLOEXEC);
	if (fs < 0)
		die_err(errno, "fsopen fuse");
	if (fsconfig(fs, FSCONFIG_SET_STRING, "source", "overlay-pivot", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "fd", num, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "rootmode", "40000", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "user_id", uid, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "group_id", gid, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_FLAG, "default_permissions", NULL, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		die_err(errno, "making a FUSE file system");
	m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
		    (ro ? MOUNT_ATTR_RDONLY : 0));
	if (m < 0)
		die_err(errno, "mounting a FUSE file system");
	close(fs);
	*devp = dev;
	return m;
}

static const char *op_name(const struct pv_op *op)
{
	switch (op->type) {
	case PV_OP_SQUASH:
		return "--squash";
	case PV_OP_SQUASH_OVERLAY:
		return "--squash-overlay";
	case PV_OP_OVERLAY:
		return "--overlay";
	case PV_OP_TMP_OVERLAY:
		return "--tmp-overlay";
	default:
		return "-o";
	}
}

void pv_fuse_prepare(struct pv_ctx *ctx, const struct pv_config *cfg)
{
	ctx->nfuse = 0;
	for (size_t i = 0; i < cfg->nops; i++) {
		const struct pv_op *op = &cfg->ops[i];
		bool ro = op->type == PV_OP_SQUASH ||
			  op->type == PV_OP_SQUASH_OVERLAY;

		if (!op->fuse)
			continue;
		if (ctx->nfuse >= PV_FUSE_MAX)
			die("more than %d FUSE file systems", PV_FUSE_MAX);
		ctx->fuse_mnt[ctx->nfuse] =
			fuse_connection(ctx, ro, &ctx->fuse_dev[ctx->nfuse],
					op_name(op), op->src ? op->src : op->dst);
		ctx->nfuse++;
	}
}

/* ---- serve ----------------------------------------------------------- */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Close every descriptor from 3 on but the N in KEEP. */
static void close_except(int *keep, size_t n)
{
	int from = 3;

	qsort(keep, n, sizeof *keep, cmp_int);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < from)
			continue;
		if (keep[i] > from)
			(void)syscall(SYS_close_range, (unsigned)from,
				      (unsigned)keep[i] - 1, 0);
		from = keep[i] + 1;
	}
	(void)syscall(SYS_close_range, (unsigned)from, ~0U, 0);
}

/* The daemon, in the grandchild: a mount namespace of its own (made before
 * the mount it serves is attached anywhere, so it never holds it), the
 * caller's ids and nothing more. Its stderr is ERRFD, a pipe that we read
 * only when it fails to start: it outlives this command, and what it says
 * afterwards (libfuse's "reading device" when the kernel drops the
 * connection at the end) would reach the caller's terminal late. With
 * SIGPIPE ignored, those writes fail quietly. Exec or report. */
__attribute__((noreturn))
static void daemon_exec(struct pv_ctx *ctx, char *const *argv, int *keep,
			size_t nkeep, int report, int errfd)
{
	int err, nul;

	/* the staging root: the host at /oldroot, the system's programs
	 * reachable through its links (see pv_stage) */
	if (setsid() < 0 || chdir("/") < 0)
		goto fail;
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 ||
	    dup2(errfd, 2) < 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		goto fail;
	close_except(keep, nkeep);
	/* what the server needs survives the exec */
	for (size_t i = 0; i < nkeep; i++)
		if (fcntl(keep[i], F_SETFD, 0) < 0)
			goto fail;
	pv_privs_drop(ctx->privs);
	execv(argv[0], argv);
fail:
	err = errno;
	(void)!write(report, &err, sizeof err);
	_exit(127);
}

int pv_fuse_serve(struct pv_ctx *ctx, const struct pv_op *op, const char *what,
		  const char *arg, const char *const *tmpl, const int *keep,
		  size_t nkeep)
{
	char devpath[PV_FDPATH_LEN + 8];
	char *argv[16];
	int *kept;
	int dev, m, pipefd[2], errpipe[2], st, err = 0;
	size_t n = 0;
	pid_t pid;
	ssize_t r;

	if (!op->fuse || op->fuse_slot >= ctx->nfuse ||
	    ctx->fuse_dev[op->fuse_slot] < 0)
		die("%s %s: no FUSE file system was prepared", what, arg);
	dev = ctx->fuse_dev[op->fuse_slot];
	m = ctx->fuse_mnt[op->fuse_slot];
	ctx->fuse_dev[op->fuse_slot] = -1;
	snprintf(devpath, sizeof devpath, "/dev/fd/%d", dev);
	for (; tmpl[n] && n < 15; n++)
		argv[n] = strcmp(tmpl[n], "@DEV@") == 0 ? devpath :
			  (char *)tmpl[n];
	argv[n] = NULL;
	kept = pv_xcalloc(nkeep + 1, sizeof *kept);
	memcpy(kept, keep, nkeep * sizeof *keep);
	kept[nkeep++] = dev;

	if (pipe2(pipefd, O_CLOEXEC) < 0 || pipe2(errpipe, O_CLOEXEC) < 0)
		die_err(errno, "%s %s: pipe", what, arg);
	pid = fork();
	if (pid < 0)
		die_err(errno, "%s %s: fork", what, arg);
	if (pid == 0) {
		pid_t d;

		close(pipefd[0]);
		/* the namespace is made here, before our parent attaches the
		 * mount, which its copy therefore lacks */
		if (unshare(CLONE_NEWNS) < 0) {
			err = errno;
			(void)!write(pipefd[1], &err, sizeof err);
			_exit(1);
		}
		/* the grandchild is reparented: it outlives this process
		 * and ends with the file system it serves */
		d = fork();
		if (d < 0) {
			err = errno;
			(void)!write(pipefd[1], &err, sizeof err);
			_exit(1);
		}
		if (d == 0)
			daemon_exec(ctx, argv, kept, nkeep, pipefd[1],
				    errpipe[1]);
		_exit(0);
	}
	close(pipefd[1]);
	close(errpipe[1]);
	free(kept);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die_err(errno, "%s %s: waitpid", what, arg);
	/* EOF: the server was executed */
	do
		r = read(pipefd[0], &err, sizeof err);
	while (r < 0 && errno == EINTR);
	close(pipefd[0]);
	if (r > 0)
		die_err(err, "%s %s: starting %s", what, arg, argv[0]);
	/* the server holds the connection now: when it goes, the file
	 * system answers ENOTCONN instead of waiting */
	close(dev);
	/* wait until it answers: its start is over before we go on (or
	 * fail, and it ends with us) */
	{
		struct stat st;

		if (fstat(m, &st) < 0) {
			char said[512];
			ssize_t k;

			err = errno;
			/* a server still alive must not block us */
			(void)fcntl(errpipe[0], F_SETFL, O_NONBLOCK);
			k = read(errpipe[0], said, sizeof said - 1);
			said[k > 0 ? k : 0] = '\0';
			said[strcspn(said, "\n")] = '\0';
			die_err(err, "%s %s: %s did not start%s%s", what,
				arg, argv[0], *said ? ": " : "", said);
		}
	}
	close(errpipe[0]);
	return m;
}

/* ---- squashfuse ------------------------------------------------------ */

void pv_fuse_squash(struct pv_ctx *ctx, const struct pv_config *cfg)
{
	size_t n = 0;
	int s;

	for (size_t i = 0; i < cfg->nops; i++)
		if (cfg->ops[i].type == PV_OP_SQUASH ||
		    cfg->ops[i].type == PV_OP_SQUASH_OVERLAY)
			n++;
	ctx->nsquash = ctx->squash_used = 0;
	if (!n)
		return;
	ctx->squash_fds = pv_xcalloc(n, sizeof *ctx->squash_fds);
	s = open("/s", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s < 0)
		die_err(errno, "open /s");
	for (size_t i = 0; i < cfg->nops; i++) {
		const struct pv_op *op = &cfg->ops[i];
		const char *what = op->type == PV_OP_SQUASH ? "--squash" :
				   "--squash-overlay";
		char imgpath[PV_FDPATH_LEN], name[32];
		const char *argv[] = { PV_SQUASHFUSE, "-f", imgpath, "@DEV@", NULL };
		int img, m, d;

		if (op->type != PV_OP_SQUASH && op->type != PV_OP_SQUASH_OVERLAY)
			continue;
		img = pv_squash_open_image(ctx, what, op->src);
		snprintf(imgpath, sizeof imgpath, "/dev/fd/%d", img);
		m = pv_fuse_serve(ctx, op, what, op->src, argv, &img, 1);
		close(img);
		snprintf(name, sizeof name, "f%zu", ctx->nsquash);
		if (mkdirat(s, name, 0700) < 0)
			die_err(errno, "%s %s: mkdir /s/%s", what, op->src, name);
		d = openat(s, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (d < 0)
			die_err(errno, "%s %s: open /s/%s", what, op->src, name);
		if (move_mount(m, "", d, "", MOVE_MOUNT_F_EMPTY_PATH |
			       MOVE_MOUNT_T_EMPTY_PATH) < 0)
			die_err(errno, "%s %s: attaching", what, op->src);
		close(m);
		close(d);
		d = openat(s, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (d < 0)
			die_err(errno, "%s %s: %s", what, op->src, name);
		ctx->squash_fds[ctx->nsquash++] = d;
	}
	close(s);
}
