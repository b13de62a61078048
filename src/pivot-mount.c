/* pivot-mount: build the new root from the ordered mount options.
 *
 * Every path is resolved to a file descriptor once and used through it:
 * host paths with openat2(RESOLVE_IN_ROOT) from the host's root, paths
 * inside the new root with openat2(RESOLVE_IN_ROOT) from the new root.
 * Mounts are made with the fd-based mount API, so no string that the
 * caller controls ever reaches an overlay option. */
#include "pivot-mount.h"

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pivot-caller.h"
#include "pivot-copy.h"
#include "pivot-fuse.h"
#include "mount-api.h"
#include "pivot-userns.h"
#include "pivot-utils.h"

#define STAGE_OLD "/oldroot"
#define STAGE_NEW "/newroot"
#define STAGE_SCRATCH "/s"

/* Path through which the kernel can reach one of our fds while we live in
 * the staging root: the host's proc is at /oldroot/proc. */
static void fdpath(int fd, char buf[64])
{
	snprintf(buf, 64, STAGE_OLD "/proc/self/fd/%d", fd);
}

int pv_openat2(int dirfd, const char *path, int flags,
	       unsigned long long resolve)
{
	struct open_how how;
	long r;

	memset(&how, 0, sizeof how);
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	how.resolve = resolve;
	do
		r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
	while (r < 0 && errno == EAGAIN);
	return (int)r;
}

static int xdup(int fd)
{
	int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);

	if (r < 0)
		die_err(errno, "dup");
	return r;
}

static void xclose(int fd)
{
	if (fd >= 0)
		(void)close(fd);
}

/* Read the filesystem context's log to explain a failure. */
static void fs_die(int fsfd, int err, const char *what, const char *arg)
{
	if (fsfd >= 0) {
		char buf[512];
		ssize_t n;

		while ((n = read(fsfd, buf, sizeof buf - 1)) > 0) {
			buf[n] = '\0';
			if (buf[n - 1] == '\n')
				buf[n - 1] = '\0';
			if (buf[0] == 'e' && buf[1] == ' ')
				die("%s %s: %s", what, arg, buf + 2);
		}
	}
	die_err(err, "%s %s", what, arg);
}

/* ---- mounting primitives ------------------------------------------- */

/* KV: {key, value, ...} pairs; a NULL value sets a flag. NKV entries. */
static int new_fs(const char *type, const char *const *kv, size_t nkv,
		  unsigned attr, const char *what, const char *arg)
{
	int fsfd = fsopen(type, FSOPEN_CLOEXEC), m;

	if (fsfd < 0)
		die_err(errno, "%s %s: fsopen %s", what, arg, type);
	for (size_t i = 0; i + 1 < nkv; i += 2) {
		int r = kv[i + 1] ?
			fsconfig(fsfd, FSCONFIG_SET_STRING, kv[i], kv[i + 1], 0) :
			fsconfig(fsfd, FSCONFIG_SET_FLAG, kv[i], NULL, 0);

		if (r < 0)
			fs_die(fsfd, errno, what, arg);
	}
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		fs_die(fsfd, errno, what, arg);
	m = fsmount(fsfd, FSMOUNT_CLOEXEC, attr);
	if (m < 0)
		fs_die(fsfd, errno, what, arg);
	xclose(fsfd);
	return m;
}

static void attach(int mnt, int dst, const char *what, const char *arg)
{
	if (move_mount(mnt, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH |
		       MOVE_MOUNT_T_EMPTY_PATH) < 0)
		die_err(errno, "%s %s: attaching the mount", what, arg);
}

static void setattr(int mnt, unsigned set, bool rec, const char *what,
		    const char *arg)
{
	struct mount_attr a;

	if (!set)
		return;
	memset(&a, 0, sizeof a);
	a.attr_set = set;
	if (mount_setattr(mnt, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0),
			  &a, sizeof a) < 0)
		die_err(errno, "%s %s: setting mount flags", what, arg);
}

/* Attributes every mount of a non-root caller gets. */
static unsigned user_attr(const struct pv_ctx *ctx)
{
	return ctx->root ? 0 : PV_USER_ATTR;
}

static int clone_tree(int src, bool rec, const char *what, const char *arg)
{
	int m = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
			  AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0));

	if (m < 0)
		die_err(errno, "%s %s: cloning the mount", what, arg);
	return m;
}

/* ---- staging -------------------------------------------------------- */

void pv_stage(struct pv_ctx *ctx, uid_t owner_uid, gid_t owner_gid)
{
	static const char *const cands[] = { "/tmp", "/mnt", "/run", "/dev", NULL };
	static const char *const kv[] = { "mode", "0755" };
	static const char *const links[] = {
		"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc",
		"dev", "proc"
	};
	int target = -1, t;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die_err(errno, "making / private");
	for (size_t i = 0; cands[i] && target < 0; i++)
		target = open(cands[i], O_PATH | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC);
	if (target < 0)
		die_err(errno, "no directory to stage the new root on");
	t = new_fs("tmpfs", kv, 2, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
		   MOUNT_ATTR_NOEXEC, "staging", "tmpfs");
	if (mkdirat(t, "oldroot", 0755) < 0 || mkdirat(t, "newroot", 0755) < 0 ||
	    mkdirat(t, "s", 0700) < 0 || mkdirat(t, "sq", 0755) < 0)
		die_err(errno, "staging: mkdir");
	/* the system's programs, for a FUSE server that runs here
	 * (pivot-fuse): its loader and libraries are found in the host */
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		char to[32];

		snprintf(to, sizeof to, "oldroot/%s", links[i]);
		if (symlinkat(to, t, links[i]) < 0)
			die_err(errno, "staging: symlink %s", links[i]);
	}
	if (owner_uid != 0 &&
	    (fchownat(t, "s", owner_uid, owner_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	     fchownat(t, "newroot", owner_uid, owner_gid, AT_SYMLINK_NOFOLLOW) < 0))
		die_err(errno, "staging: chown");
	if (move_mount(t, "", target, "", MOVE_MOUNT_F_EMPTY_PATH |
		       MOVE_MOUNT_T_EMPTY_PATH) < 0)
		die_err(errno, "staging: attaching tmpfs");
	if (fchdir(t) < 0)
		die_err(errno, "staging: chdir");
	if (syscall(SYS_pivot_root, ".", "oldroot") < 0)
		die_err(errno, "staging: pivot_root");
	if (chdir("/") < 0)
		die_err(errno, "staging: chdir /");
	xclose(t);
	xclose(target);
	ctx->oldroot = open(STAGE_OLD, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->oldroot < 0)
		die_err(errno, "staging: open " STAGE_OLD);
	ctx->newroot = -1;
	ctx->scratch = -1;
}

/* Open our scratch directory (after we may have changed identity). */
static int scratch_fd(struct pv_ctx *ctx)
{
	if (ctx->scratch < 0) {
		ctx->scratch = open(STAGE_SCRATCH, O_PATH | O_DIRECTORY |
				    O_NOFOLLOW | O_CLOEXEC);
		if (ctx->scratch < 0)
			die_err(errno, "open " STAGE_SCRATCH);
	}
	return ctx->scratch;
}

/* ---- resolution ----------------------------------------------------- */

/* A host path, absolute or relative to the caller's cwd. */
char *pv_host_abs(struct pv_ctx *ctx, const char *what, const char *p)
{
	if (p[0] == '/')
		return pv_xstrdup(p);
	if (!ctx->cwd)
		die("%s %s: relative path but the working directory is unknown",
		    what, p);
	return pv_xasprintf("%s/%s", ctx->cwd, p);
}

int pv_open_host(struct pv_ctx *ctx, const char *what, const char *path,
		 int flags, bool need_read)
{
	char *abs;
	int fd = pv_userns_source(what, path, flags);

	if (fd >= 0)
		return fd;
	abs = pv_host_abs(ctx, what, path);
	fd = ctx->oldroot >= 0 ?
		 caller_openat(ctx->oldroot, abs, flags | O_PATH, 0,
			       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
			       need_read && !ctx->root ? CALLER_READABLE : 0) :
		 caller_openat(AT_FDCWD, abs, flags | O_PATH, 0,
			       RESOLVE_NO_MAGICLINKS,
			       need_read && !ctx->root ? CALLER_READABLE : 0);
	int err = errno;

	free(abs);
	if (fd < 0) {
		if (!ctx->root)
			die("%s %s: does not exist or is not readable by you",
			    what, path);
		die_err(err, "%s %s", what, path);
	}
	return fd;
}

static void mkpoint(int parent, const char *comp, bool dir, const char *what,
		    const char *dst)
{
	if (dir) {
		if (mkdirat(parent, comp, 0755) < 0 && errno != EEXIST)
			die_err(errno, "%s %s: creating mount point", what, dst);
	} else {
		int fd = openat(parent, comp, O_WRONLY | O_CREAT | O_EXCL |
				O_NOFOLLOW | O_CLOEXEC, 0644);

		if (fd < 0 && errno != EEXIST)
			die_err(errno, "%s %s: creating mount point", what, dst);
		xclose(fd);
	}
}

/* Resolve DST inside the new root; create it (and its parents) if missing
 * and MK allows. Returns an O_PATH fd. */
static int open_dst(struct pv_ctx *ctx, const char *what, const char *dst,
		    bool dir, enum pv_mkdir mk)
{
	const unsigned long long res = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	int fd = pv_openat2(ctx->newroot, dst, O_PATH, res);
	struct stat st;

	if (fd < 0 && errno != ENOENT)
		die_err(errno, "%s %s", what, dst);
	if (fd >= 0) {
		if (mk == PV_MKDIR_REQUIRE)
			die("%s %s: mount point exists (mkdir=require)", what, dst);
	} else {
		if (mk == PV_MKDIR_NEVER)
			die_err(ENOENT, "%s %s (mkdir=never)", what, dst);
		/* Walk the prefixes from the new root, creating what is missing. */
		size_t len = strlen(dst);
		char *prefix = pv_xmalloc(len + 2);
		int parent = xdup(ctx->newroot);
		const char *p = dst;

		prefix[0] = '\0';
		while (*p) {
			const char *e;
			size_t n, pl;
			char *comp;
			bool last;
			int f;

			while (*p == '/')
				p++;
			if (!*p)
				break;
			e = strchr(p, '/');
			n = e ? (size_t)(e - p) : strlen(p);
			last = true;
			for (const char *r = p + n; *r; r++)
				if (*r != '/') {
					last = false;
					break;
				}
			pl = strlen(prefix);
			prefix[pl] = '/';
			memcpy(prefix + pl + 1, p, n);
			prefix[pl + 1 + n] = '\0';
			comp = prefix + pl + 1;
			f = pv_openat2(ctx->newroot, prefix, O_PATH, res);
			if (f < 0 && errno == ENOENT) {
				mkpoint(parent, comp, !last || dir, what, dst);
				f = pv_openat2(ctx->newroot, prefix, O_PATH, res);
			}
			if (f < 0)
				die_err(errno, "%s %s: creating mount point", what, dst);
			xclose(parent);
			parent = f;
			p += n;
		}
		free(prefix);
		fd = parent;
	}
	if (fstat(fd, &st) < 0)
		die_err(errno, "%s %s", what, dst);
	if (dir && !S_ISDIR(st.st_mode))
		die_err(ENOTDIR, "%s %s", what, dst);
	if (!dir && S_ISDIR(st.st_mode))
		die_err(EISDIR, "%s %s", what, dst);
	return fd;
}

/* Re-open the top of the new root (after a mount may have covered it). */
static void refresh_newroot(struct pv_ctx *ctx)
{
	xclose(ctx->newroot);
	ctx->newroot = open(STAGE_NEW, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->newroot < 0)
		die_err(errno, "open " STAGE_NEW);
}

/* ---- the options ---------------------------------------------------- */

static void do_bind(struct pv_ctx *ctx, const char *what, const char *src,
		    const char *dst, unsigned attr, bool rec, enum pv_mkdir mk)
{
	int s = pv_open_host(ctx, what, src, 0, true);
	struct stat st;
	int m, d;

	if (fstat(s, &st) < 0)
		die_err(errno, "%s %s", what, src);
	m = clone_tree(s, rec, what, src);
	setattr(m, attr | user_attr(ctx), true, what, src);
	d = open_dst(ctx, what, dst, S_ISDIR(st.st_mode), mk);
	attach(m, d, what, dst);
	xclose(d);
	xclose(m);
	xclose(s);
}

static void mount_simple(struct pv_ctx *ctx, const char *what, const char *type,
			 const char *dst, const char *const *kv, size_t nkv,
			 unsigned attr)
{
	int m = new_fs(type, kv, nkv, attr | user_attr(ctx), what, dst);
	int d = open_dst(ctx, what, dst, true, PV_MKDIR_MAYBE);

	attach(m, d, what, dst);
	xclose(d);
	xclose(m);
}

/* A fresh tmpfs at /s/N with directories upper and work; returns the
 * mount's fd. */
static int scratch_tmpfs(struct pv_ctx *ctx, const char *what, const char *arg)
{
	static const char *const kv[] = { "mode", "0755" };
	int s = scratch_fd(ctx), m, d;
	char name[32];

	snprintf(name, sizeof name, "%u", ctx->counter++);
	if (mkdirat(s, name, 0700) < 0)
		die_err(errno, "%s %s: scratch directory", what, arg);
	d = openat(s, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d < 0)
		die_err(errno, "%s %s: scratch directory", what, arg);
	m = new_fs("tmpfs", kv, 2, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, what, arg);
	attach(m, d, what, arg);
	xclose(d);
	if (mkdirat(m, "upper", 0755) < 0 || mkdirat(m, "work", 0755) < 0)
		die_err(errno, "%s %s: scratch directory", what, arg);
	return m;
}

/* Record (pinning, with the host's ids) or verify (later, in the user
 * namespace, where ownership cannot be read reliably) the identity of a
 * layer directory. CREATED: we just made it. */
static void pin(struct pv_ctx *ctx, int fd, bool exists, bool created,
		const char *what, const char *arg)
{
	struct stat st;
	struct pv_pin *p;

	if (ctx->root)
		return;
	if (exists && fstat(fd, &st) < 0)
		die_err(errno, "%s %s", what, arg);
	if (ctx->pinning) {
		p = realloc(ctx->pins, (ctx->npins + 1) * sizeof *p);
		if (!p)
			die_err(ENOMEM, "pin");
		ctx->pins = p;
		p = &ctx->pins[ctx->npins++];
		memset(p, 0, sizeof *p);
		p->exists = exists;
		if (!exists)
			return;
		if (!S_ISDIR(st.st_mode))
			die("%s %s: not a plain directory", what, arg);
		if (st.st_uid != ctx->uid)
			die("%s %s: not owned by you", what, arg);
		p->dev = st.st_dev;
		p->ino = st.st_ino;
		return;
	}
	if (ctx->pin_used >= ctx->npins)
		die("%s %s: layer directory was not checked", what, arg);
	p = &ctx->pins[ctx->pin_used++];
	if (!p->exists) {
		if (!created)
			die("%s %s: appeared during the call", what, arg);
		return;
	}
	if (!exists || p->dev != st.st_dev || p->ino != st.st_ino)
		die("%s %s: changed during the call", what, arg);
}

/* Open DIRFD/NAME as an upper or work directory: created if CREATE and
 * missing, never a symlink, a directory, and (pinned) the caller's own.
 * SHOWN names it in messages. */
static int open_layer_dir(struct pv_ctx *ctx, int dirfd, const char *name,
			  bool create, const char *what, const char *shown)
{
	bool created = false;
	int fd;

	if (create && !ctx->pinning) {
		if (caller_mkdirat(dirfd, name, 0755) == 0)
			created = true;
		else if (errno != EEXIST)
			die_err(errno, "%s %s", what, shown);
	}
	fd = caller_openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0,
			   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV, 0);
	if (fd < 0) {
		if (errno == ENOENT && ctx->pinning && create) {
			pin(ctx, -1, false, false, what, shown);
			return -1;
		}
		if (errno == ELOOP || errno == ENOTDIR || errno == EXDEV)
			die("%s %s: not a plain directory", what, shown);
		if (!ctx->root)
			die("%s %s: does not exist or is not readable by you",
			    what, shown);
		die_err(errno, "%s %s", what, shown);
	}
	pin(ctx, fd, true, created, what, shown);
	return fd;
}

/* Open a caller-given upper or work directory: the last component must
 * not be a symlink, and it must belong to the caller. */
static int open_user_layer(struct pv_ctx *ctx, const char *what, const char *p)
{
	char *abs = pv_host_abs(ctx, what, p);
	char *slash;
	const char *base;
	int parent, fd;

	fd = pv_userns_layer(what, p);
	if (fd >= 0) {
		free(abs);
		return fd;
	}
	/* drop trailing slashes */
	for (size_t n = strlen(abs); n > 1 && abs[n - 1] == '/'; n--)
		abs[n - 1] = '\0';
	slash = strrchr(abs, '/');
	base = slash + 1;
	if (!*base || strcmp(base, "..") == 0 || strcmp(base, ".") == 0)
		die("%s %s: must end in a directory name", what, p);
	*slash = '\0';
	parent = ctx->oldroot >= 0 ?
		 caller_openat(ctx->oldroot, slash == abs ? "/" : abs,
			       O_PATH | O_DIRECTORY, 0,
			       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, 0) :
		 caller_openat(AT_FDCWD, slash == abs ? "/" : abs,
			       O_PATH | O_DIRECTORY, 0, RESOLVE_NO_MAGICLINKS, 0);
	if (parent < 0) {
		if (!ctx->root)
			die("%s %s: does not exist or is not readable by you",
			    what, p);
		die_err(errno, "%s %s", what, p);
	}
	fd = open_layer_dir(ctx, parent, base, false, what, p);
	xclose(parent);
	free(abs);
	return fd;
}

/* upper or work on our own scratch tmpfs */
static int open_scratch_dir(int dirfd, const char *name, const char *what,
			    const char *arg)
{
	int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		die_err(errno, "%s %s: scratch %s", what, arg, name);
	return fd;
}

/* --overlay / --squash-overlay DIR: a directory of the caller's. */
static int open_overlay_dir(struct pv_ctx *ctx, const char *what,
			    const char *dir)
{
	int fd = pv_open_host(ctx, what, dir, O_DIRECTORY, false);

	pin(ctx, fd, true, false, what, dir);
	return fd;
}

void pv_pin_layers(struct pv_ctx *ctx, const struct pv_config *cfg)
{
	if (ctx->root)
		return;
	ctx->pinning = true;
	for (size_t i = 0; i < cfg->nops; i++) {
		const struct pv_op *op = &cfg->ops[i];
		const char *what = op->type == PV_OP_OVERLAY ? "--overlay" :
				   op->type == PV_OP_SQUASH_OVERLAY ?
				   "--squash-overlay" : "-o";

		if (op->type == PV_OP_OVERLAY || op->type == PV_OP_SQUASH_OVERLAY) {
			int d, f;
			char *l = pv_xasprintf("%s/layer", op->dir);
			char *w = pv_xasprintf("%s/work", op->dir);

			d = open_overlay_dir(ctx, what, op->dir);
			f = open_layer_dir(ctx, d, "layer", true, what, l);
			xclose(f);
			f = open_layer_dir(ctx, d, "work", true, what, w);
			xclose(f);
			xclose(d);
			free(l);
			free(w);
		} else if (op->type == PV_OP_OVSPEC && !op->tmp && op->upper) {
			xclose(open_user_layer(ctx, "-o upperdir", op->upper));
			xclose(open_user_layer(ctx, "-o workdir", op->work));
		}
	}
	ctx->pinning = false;
	ctx->pin_used = 0;
}

#define MAX_LOWER 500

static unsigned op_attr(const struct pv_op *op);

struct ovl {
	int lower[MAX_LOWER + 1];
	size_t nlower;
	int upper, work;
	bool fuse;	/* served by fuse-overlayfs (pivot-fuse) */
};

/* A non-root caller's overlay whose lower layers have mounts below them:
 * fuse-overlayfs, run as the caller, reads them through the host's mount
 * tree (what a mount hides stays hidden) with the caller's permissions. */
static void mount_fuse_overlay(struct pv_ctx *ctx, const struct pv_op *op,
			       const char *what, const struct ovl *o,
			       const char *dst)
{
	/* every layer by descriptor: no path reaches the option string */
	char *opts = pv_xmalloc(32 * (o->nlower + 3));
	const char *argv[] = { PV_FUSE_OVERLAYFS, "-f", "-o", opts, "@DEV@", NULL };
	int *keep = pv_xcalloc(o->nlower + 2, sizeof *keep);
	size_t nkeep = 0;
	int m, d;

	strcpy(opts, "lowerdir=");
	for (size_t i = 0; i < o->nlower; i++) {
		sprintf(opts + strlen(opts), "%s/proc/self/fd/%d", i ? ":" : "",
			o->lower[i]);
		keep[nkeep++] = o->lower[i];
	}
	if (o->upper >= 0) {
		sprintf(opts + strlen(opts),
			",upperdir=/proc/self/fd/%d,workdir=/proc/self/fd/%d"
			",xattr_permissions=2",
			o->upper, o->work);
		keep[nkeep++] = o->upper;
		keep[nkeep++] = o->work;
	}
	/* the kernel's overlay options have no meaning here; a non-root
	 * caller's are checked as for the kernel's overlay */
	if (op->type == PV_OP_OVSPEC && op->data) {
		char *copy = pv_xstrdup(op->data), *save = NULL;

		for (char *x = strtok_r(copy, ",", &save); x;
		     x = strtok_r(NULL, ",", &save))
			if (pv_overlay_option(x) != PV_OVOPT_ANYONE)
				die("%s %s: %s: only root may use it (it changes "
				    "how the kernel trusts the layers)", what, dst, x);
		free(copy);
	}
	m = pv_fuse_serve(ctx, op, what, dst, argv, keep, nkeep);
	free(keep);
	free(opts);
	setattr(m, op_attr(op), true, what, dst);
	d = open_dst(ctx, what, dst, true, PV_MKDIR_MAYBE);
	attach(m, d, what, dst);
	xclose(d);
	xclose(m);
}

/* The mount flags of an -o spec as mount attributes. */
static unsigned op_attr(const struct pv_op *op)
{
	unsigned a = 0;

	if (op->type != PV_OP_OVSPEC)
		return 0;
	if (op->flags & MS_RDONLY)
		a |= MOUNT_ATTR_RDONLY;
	if (op->flags & MS_NOSUID)
		a |= MOUNT_ATTR_NOSUID;
	if (op->flags & MS_NODEV)
		a |= MOUNT_ATTR_NODEV;
	if (op->flags & MS_NOEXEC)
		a |= MOUNT_ATTR_NOEXEC;
	if (op->flags & MS_NOATIME)
		a |= MOUNT_ATTR_NOATIME;
	else if (op->flags & MS_STRICTATIME)
		a |= MOUNT_ATTR_STRICTATIME;
	if (op->flags & MS_NODIRATIME)
		a |= MOUNT_ATTR_NODIRATIME;
	return a;
}

/* The overlay file system's own options of an -o spec; a non-root
 * caller's are checked here, where the mount is made. */
static void set_overlay_options(struct pv_ctx *ctx, int fsfd,
				const struct pv_op *op, const char *what,
				const char *dst)
{
	char *copy, *save = NULL;

	if (op->type != PV_OP_OVSPEC || !op->data)
		return;
	copy = pv_xstrdup(op->data);
	for (char *o = strtok_r(copy, ",", &save); o;
	     o = strtok_r(NULL, ",", &save)) {
		enum pv_ovopt k = pv_overlay_option(o);
		char *eq = strchr(o, '=');
		int r;

		if (k == PV_OVOPT_UNKNOWN)
			die("%s %s: unknown overlay option '%s'", what, dst, o);
		if (k == PV_OVOPT_ROOT && !ctx->root)
			die("%s %s: %s: only root may use it (it changes how the "
			    "kernel trusts the layers)", what, dst, o);
		if (strcmp(o, "userxattr") == 0 && (!ctx->root ||
						    pv_userns_active()))
			continue;	/* set already */
		if (eq) {
			*eq = '\0';
			r = fsconfig(fsfd, FSCONFIG_SET_STRING, o, eq + 1, 0);
			*eq = '=';
		} else {
			r = fsconfig(fsfd, FSCONFIG_SET_FLAG, o, NULL, 0);
		}
		if (r < 0)
			fs_die(fsfd, errno, what, dst);
	}
	free(copy);
}

static void mount_overlay(struct pv_ctx *ctx, const struct pv_op *op,
			  const char *what, const struct ovl *o, const char *dst)
{
	char *lowers;
	int fsfd, m, d;

	if (o->fuse) {
		mount_fuse_overlay(ctx, op, what, o, dst);
		return;
	}
	lowers = pv_xmalloc(64 * (o->nlower + 1));
	lowers[0] = '\0';
	/* overlay lists the uppermost lower layer first */
	for (size_t i = 0; i < o->nlower; i++) {
		char p[64];

		fdpath(o->lower[i], p);
		if (i)
			strcat(lowers, ":");
		strcat(lowers, p);
	}
	fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		die_err(errno, "%s %s: fsopen overlay", what, dst);
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", "overlay", 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir", lowers, 0) < 0)
		fs_die(fsfd, errno, what, dst);
	if (o->upper >= 0) {
		char up[64], wk[64];

		fdpath(o->upper, up);
		fdpath(o->work, wk);
		if (fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", up, 0) < 0 ||
		    fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", wk, 0) < 0)
			fs_die(fsfd, errno, what, dst);
	}
	if ((!ctx->root || pv_userns_active()) &&
	    fsconfig(fsfd, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
		fs_die(fsfd, errno, what, dst);
	set_overlay_options(ctx, fsfd, op, what, dst);
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		if (errno == EINVAL && !ctx->root)
			die("%s %s: cannot overlay a directory with mounts below it "
			    "in a user namespace (needs root, or overlay-pivot "
			    "installed set-user-id root)", what, dst);
		fs_die(fsfd, errno, what, dst);
	}
	m = fsmount(fsfd, FSMOUNT_CLOEXEC, user_attr(ctx) | op_attr(op));
	if (m < 0)
		fs_die(fsfd, errno, what, dst);
	xclose(fsfd);
	free(lowers);
	d = open_dst(ctx, what, dst, true, PV_MKDIR_MAYBE);
	attach(m, d, what, dst);
	xclose(d);
	xclose(m);
}

static void close_ovl(struct ovl *o)
{
	for (size_t i = 0; i < o->nlower; i++)
		xclose(o->lower[i]);
	xclose(o->upper);
	xclose(o->work);
}

/* A lower layer, opened now as the caller. */
static int open_lower(struct pv_ctx *ctx, const char *what, const char *path)
{
	return pv_open_host(ctx, what, path, O_DIRECTORY, true);
}

static int next_squash(struct pv_ctx *ctx, const char *what, const char *img)
{
	if (ctx->squash_used >= ctx->nsquash)
		die("%s %s: image was not prepared", what, img);
	return ctx->squash_fds[ctx->squash_used++];
}

static void op_dev(struct pv_ctx *ctx, const char *dst)
{
	static const char *const kv[] = { "mode", "0755" };
	static const char *const nodes[] = {
		"null", "zero", "full", "random", "urandom", "tty", NULL
	};
	static const char *const links[][2] = {
		{ "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
		{ "ptmx", "pts/ptmx" }, { "core", "/proc/kcore" }, { NULL, NULL }
	};
	static const char *const ptskv[] = {
		"newinstance", NULL, "ptmxmode", "0666", "mode", "620"
	};
	int m = new_fs("tmpfs", kv, 2, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
		       MOUNT_ATTR_NOEXEC, "--dev", dst);
	int d, p, pts;

	for (size_t i = 0; nodes[i]; i++) {
		char *src = pv_xasprintf("/dev/%s", nodes[i]);
		int s = pv_open_host(ctx, "--dev", src, 0, false), t, c;

		t = openat(m, nodes[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (t < 0)
			die_err(errno, "--dev %s: creating %s", dst, nodes[i]);
		xclose(t);
		t = openat(m, nodes[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (t < 0)
			die_err(errno, "--dev %s: opening %s", dst, nodes[i]);
		c = clone_tree(s, false, "--dev", src);
		setattr(c, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, false,
			"--dev", src);
		attach(c, t, "--dev", src);
		xclose(c);
		xclose(t);
		xclose(s);
		free(src);
	}
	for (size_t i = 0; links[i][0]; i++)
		if (symlinkat(links[i][1], m, links[i][0]) < 0)
			die_err(errno, "--dev %s: symlink %s", dst, links[i][0]);
	if (mkdirat(m, "shm", 01777) < 0 || fchmodat(m, "shm", 01777, 0) < 0 ||
	    mkdirat(m, "pts", 0755) < 0)
		die_err(errno, "--dev %s: mkdir", dst);
	p = openat(m, "pts", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (p < 0)
		die_err(errno, "--dev %s: open pts", dst);
	pts = new_fs("devpts", ptskv, 6, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
		     "--dev", "devpts");
	attach(pts, p, "--dev", "devpts");
	xclose(pts);
	xclose(p);
	d = open_dst(ctx, "--dev", dst, true, PV_MKDIR_MAYBE);
	attach(m, d, "--dev", dst);
	xclose(d);
	xclose(m);
}

/* -m TYPE,DEV,MNTPOINT[,OPT...] for a real filesystem type. */
static void op_generic(struct pv_ctx *ctx, const struct pv_op *op)
{
	char dp[64], sp[64];
	const char *src = op->src;
	unsigned long flags = op->flags;
	int d, s = -1;

	/* The root-only check lives here, where the mount is made, not only
	 * in the parser. */
	if (!ctx->root && !pv_fstype_unprivileged(op->fstype))
		die("-m %s: only root may mount this filesystem type",
		    op->fstype);
	if (!ctx->root)
		flags |= MS_NOSUID | MS_NODEV;
	if (src[0] == '/') {
		s = caller_openat(ctx->oldroot, src, O_PATH, 0,
				  RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, 0);
		if (s >= 0) {
			fdpath(s, sp);
			src = sp;
		}
	}
	d = open_dst(ctx, "-m", op->dst, true, op->mkdir);
	fdpath(d, dp);
	if (mount(src, dp, op->fstype, flags, op->data) < 0)
		die_err(errno, "-m %s,%s,%s", op->fstype, op->src, op->dst);
	xclose(d);
	xclose(s);
}

static void op_ovspec(struct pv_ctx *ctx, const struct pv_op *op)
{
	struct ovl o;
	int tmpd = -1;

	memset(&o, 0, sizeof o);
	o.upper = o.work = -1;
	o.fuse = op->fuse;
	for (size_t i = 0; i < op->nlowers && o.nlower < MAX_LOWER; i++) {
		o.lower[o.nlower++] = open_lower(ctx, "-o lowerdir", op->lowers[i]);
	}
	if (op->shadow) {
		/* the current content of MNTPOINT is the lowest layer */
		o.lower[o.nlower++] = open_dst(ctx, "-o", op->dst, true,
					       PV_MKDIR_MAYBE);
	}
	if (op->tmp) {
		tmpd = scratch_tmpfs(ctx, "-o", op->dst);
		o.upper = open_scratch_dir(tmpd, "upper", "-o", op->dst);
		o.work = open_scratch_dir(tmpd, "work", "-o", op->dst);
	} else if (op->upper) {
		o.upper = open_user_layer(ctx, "-o upperdir", op->upper);
		o.work = open_user_layer(ctx, "-o workdir", op->work);
	}
	if (op->copyfrom) {
		int from = pv_open_host(ctx, "-o copyfrom", op->copyfrom,
					O_DIRECTORY, true);

		pv_copy_tree(ctx->root, from, o.upper, op->copyfrom);
		xclose(from);
	}
	mount_overlay(ctx, op, "-o", &o, op->dst);
	close_ovl(&o);
	xclose(tmpd);
}

static void op_overlay(struct pv_ctx *ctx, const struct pv_op *op)
{
	const char *what = op->type == PV_OP_OVERLAY ? "--overlay" :
			   "--squash-overlay";
	struct ovl o;
	int dir;

	memset(&o, 0, sizeof o);
	if (op->type == PV_OP_OVERLAY) {
		o.lower[0] = open_lower(ctx, what, op->src);
		o.fuse = op->fuse;
	} else {
		o.lower[0] = xdup(next_squash(ctx, what, op->src));
	}
	o.nlower = 1;
	dir = open_overlay_dir(ctx, what, op->dir);
	{
		char *l = pv_xasprintf("%s/layer", op->dir);
		char *w = pv_xasprintf("%s/work", op->dir);

		o.upper = open_layer_dir(ctx, dir, "layer", true, what, l);
		o.work = open_layer_dir(ctx, dir, "work", true, what, w);
		free(l);
		free(w);
	}
	mount_overlay(ctx, op, what, &o, op->dst);
	close_ovl(&o);
	xclose(dir);
}

static void op_tmp_overlay(struct pv_ctx *ctx, const struct pv_op *op)
{
	struct ovl o;
	int t;

	memset(&o, 0, sizeof o);
	o.lower[0] = open_lower(ctx, "--tmp-overlay", op->src);
	o.fuse = op->fuse;
	o.nlower = 1;
	t = scratch_tmpfs(ctx, "--tmp-overlay", op->dst);
	o.upper = open_scratch_dir(t, "upper", "--tmp-overlay", op->dst);
	o.work = open_scratch_dir(t, "work", "--tmp-overlay", op->dst);
	mount_overlay(ctx, op, "--tmp-overlay", &o, op->dst);
	close_ovl(&o);
	xclose(t);
}

/* --proc for a non-root caller without a pid namespace of its own: the
 * kernel mounts a proc only for the pid namespace's owner, so the host's
 * is bound (recursively, as every bind), and the entries that act on the
 * whole machine are made read-only, as bubblewrap does. */
static void host_proc(struct pv_ctx *ctx, const char *dst)
{
	static const char *const ro[] = { "sys", "sysrq-trigger", "irq", "bus" };
	int d;

	do_bind(ctx, "--proc", "/proc", dst, MOUNT_ATTR_NOEXEC, true,
		PV_MKDIR_MAYBE);
	refresh_newroot(ctx);
	d = open_dst(ctx, "--proc", dst, true, PV_MKDIR_NEVER);
	for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++) {
		int s = pv_openat2(d, ro[i], O_PATH | O_NOFOLLOW,
				   RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
		int m;

		if (s < 0)
			continue;	/* not on this kernel */
		m = clone_tree(s, true, "--proc", ro[i]);
		setattr(m, MOUNT_ATTR_RDONLY | PV_USER_ATTR | MOUNT_ATTR_NOEXEC,
			true, "--proc", ro[i]);
		attach(m, s, "--proc", ro[i]);
		xclose(m);
		xclose(s);
	}
	xclose(d);
}

static void apply(struct pv_ctx *ctx, const struct pv_op *op)
{
	static const char *const tmpkv[] = { "mode", "0755" };

	switch (op->type) {
	case PV_OP_BIND:
		do_bind(ctx, "--bind", op->src, op->dst, MOUNT_ATTR_NODEV, true,
			PV_MKDIR_MAYBE);
		break;
	case PV_OP_RO_BIND:
		do_bind(ctx, "--ro-bind", op->src, op->dst,
			MOUNT_ATTR_NODEV | MOUNT_ATTR_RDONLY, true, PV_MKDIR_MAYBE);
		break;
	case PV_OP_DEV_BIND:
		/* checked here, where the mount is made */
		if (!ctx->root)
			die("--dev-bind: only root may use it");
		do_bind(ctx, "--dev-bind", op->src, op->dst, 0, true,
			PV_MKDIR_MAYBE);
		break;
	case PV_OP_OVERLAY:
	case PV_OP_SQUASH_OVERLAY:
		op_overlay(ctx, op);
		break;
	case PV_OP_TMP_OVERLAY:
		op_tmp_overlay(ctx, op);
		break;
	case PV_OP_SQUASH: {
		int s = next_squash(ctx, "--squash", op->src);
		int m = clone_tree(s, true, "--squash", op->src);
		int d = open_dst(ctx, "--squash", op->dst, true, PV_MKDIR_MAYBE);

		setattr(m, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | user_attr(ctx),
			true, "--squash", op->src);
		attach(m, d, "--squash", op->dst);
		xclose(d);
		xclose(m);
		break;
	}
	case PV_OP_PROC:
		if (!ctx->root && !(ctx->unshare & CLONE_NEWPID))
			host_proc(ctx, op->dst);
		else
			mount_simple(ctx, "--proc", "proc", op->dst, NULL, 0,
				     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				     MOUNT_ATTR_NOEXEC);
		break;
	case PV_OP_DEV:
		op_dev(ctx, op->dst);
		break;
	case PV_OP_TMPFS:
		mount_simple(ctx, "--tmpfs", "tmpfs", op->dst, tmpkv, 2,
			     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
		break;
	case PV_OP_MQUEUE:
		mount_simple(ctx, "--mqueue", "mqueue", op->dst, NULL, 0,
			     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
		break;
	case PV_OP_REMOUNT_RO: {
		int d = open_dst(ctx, "--remount-ro", op->dst, true, PV_MKDIR_NEVER);
		struct statx sx;

		/* only a mount point: a path inside a mount would make the
		 * whole mount read-only */
		if (statx(d, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx) < 0)
			die_err(errno, "--remount-ro %s", op->dst);
		if ((sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
		    !(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
			die("--remount-ro %s: not a mount point", op->dst);
		setattr(d, MOUNT_ATTR_RDONLY, false, "--remount-ro", op->dst);
		xclose(d);
		break;
	}
	case PV_OP_MOUNT:
		if (strcmp(op->fstype, "bind") == 0 || strcmp(op->fstype, "rbind") == 0) {
			unsigned attr = 0;

			if (op->flags & MS_RDONLY)
				attr |= MOUNT_ATTR_RDONLY;
			if (op->flags & MS_NOSUID)
				attr |= MOUNT_ATTR_NOSUID;
			if (op->flags & MS_NODEV)
				attr |= MOUNT_ATTR_NODEV;
			if (op->flags & MS_NOEXEC)
				attr |= MOUNT_ATTR_NOEXEC;
			/* a non-root caller's binds are always recursive: a
			 * bind without the mounts below its source would show
			 * what they hide */
			do_bind(ctx, "-m", op->src, op->dst, attr,
				op->fstype[0] == 'r' || !ctx->root, op->mkdir);
		} else {
			op_generic(ctx, op);
		}
		break;
	case PV_OP_OVSPEC:
		op_ovspec(ctx, op);
		break;
	}
	refresh_newroot(ctx);
}

void pv_build(struct pv_ctx *ctx, const struct pv_config *cfg)
{
	int nr = open(STAGE_NEW, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (nr < 0)
		die_err(errno, "open " STAGE_NEW);
	if (cfg->root) {
		int s = pv_open_host(ctx, "--root", cfg->root, O_DIRECTORY, true);
		int m = clone_tree(s, true, "--root", cfg->root);

		setattr(m, user_attr(ctx), true, "--root", cfg->root);
		attach(m, nr, "--root", cfg->root);
		xclose(m);
		xclose(s);
	} else {
		static const char *const kv[] = { "mode", "0755" };
		int m = new_fs("tmpfs", kv, 2, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
			       "new root", "tmpfs");

		attach(m, nr, "new root", "tmpfs");
		xclose(m);
	}
	xclose(nr);
	ctx->newroot = -1;
	refresh_newroot(ctx);
	for (size_t i = 0; i < cfg->nops; i++)
		apply(ctx, &cfg->ops[i]);
	/* belt and braces: nothing below a non-root caller's new root
	 * honours set-id bits */
	if (!ctx->root)
		setattr(ctx->newroot, MOUNT_ATTR_NOSUID, true, "new root", "/");
}

void pv_enter(struct pv_ctx *ctx)
{
	int nr = open(STAGE_NEW, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (nr < 0)
		die_err(errno, "open " STAGE_NEW);
	if (fchdir(nr) < 0)
		die_err(errno, "chdir " STAGE_NEW);
	xclose(nr);
	xclose(ctx->newroot);
	xclose(ctx->oldroot);
	xclose(ctx->scratch);
	for (size_t i = 0; i < ctx->nsquash; i++)
		xclose(ctx->squash_fds[i]);
	ctx->newroot = ctx->oldroot = ctx->scratch = -1;
	ctx->nsquash = 0;
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die_err(errno, "pivot_root");
	/* the staging paths are gone: nothing for a hook to release */
	die_hook = NULL;
	/* the old root is now stacked on top of the new one: detach it, and
	 * the host with it */
	if (umount2(".", MNT_DETACH) < 0)
		die_err(errno, "detaching the old root");
	if (chdir("/") < 0)
		die_err(errno, "chdir /");
}
