/* pivot-squash: squashfs images on loop devices we attach ourselves. */
#include "pivot-squash.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pivot-sys.h"
#include "pivot-utils.h"

static bool is_squash(const struct pv_op *op)
{
	return op->type == PV_OP_SQUASH || op->type == PV_OP_SQUASH_OVERLAY;
}

size_t pv_squash_count(const struct pv_config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->nops; i++)
		if (is_squash(&cfg->ops[i]))
			n++;
	return n;
}

/* Open a host path with the caller's file-system ids. */
static int open_as_caller(struct pv_ctx *ctx, const struct pv_privs *p,
			  const char *what, const char *img, int flags)
{
	char *abs;
	int fd, err;

	if (img[0] == '/')
		abs = pv_xstrdup(img);
	else if (ctx->cwd)
		abs = pv_xasprintf("%s/%s", ctx->cwd, img);
	else
		pv_die("%s %s: relative path but the working directory is unknown",
		       what, img);
	if (p->setuid) {
		(void)setfsgid(p->gid);
		(void)setfsuid(p->uid);
		if ((uid_t)setfsuid((uid_t)-1) != p->uid ||
		    (gid_t)setfsgid((gid_t)-1) != p->gid)
			pv_die("cannot take the caller's file-system ids");
	}
	fd = pv_openat2(ctx->oldroot, abs, flags | O_RDONLY | O_NOCTTY | O_NONBLOCK,
			RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	err = errno;
	if (p->setuid) {
		(void)setfsuid(0);
		(void)setfsgid(0);
	}
	free(abs);
	if (fd < 0) {
		if (!ctx->root)
			pv_die("%s %s: does not exist or is not readable by you",
			       what, img);
		pv_die_err(err, "%s %s", what, img);
	}
	return fd;
}

/* Open the image read-only with the caller's file-system ids. */
static int open_image(struct pv_ctx *ctx, const struct pv_privs *p,
		      const char *img)
{
	struct stat st;
	int fd = open_as_caller(ctx, p, "--squash", img, 0);

	if (fstat(fd, &st) < 0)
		pv_die_err(errno, "--squash %s", img);
	if (!S_ISREG(st.st_mode))
		pv_die("--squash %s: not a regular file", img);
	return fd;
}

/* Attach IMG to a free loop device, read-only, cleared on last close. */
static int attach_loop(int img, const char *name)
{
	int ctl = open("/oldroot/dev/loop-control", O_RDWR | O_CLOEXEC);

	if (ctl < 0)
		pv_die_err(errno, "--squash %s: /dev/loop-control", name);
	for (int tries = 0; tries < 64; tries++) {
		struct loop_config cfg;
		char dev[64];
		int n = ioctl(ctl, LOOP_CTL_GET_FREE), lfd;

		if (n < 0)
			pv_die_err(errno, "--squash %s: no free loop device", name);
		snprintf(dev, sizeof dev, "/oldroot/dev/loop%d", n);
		lfd = open(dev, O_RDONLY | O_CLOEXEC);
		if (lfd < 0) {
			if (errno == ENOENT || errno == ENXIO)
				continue;
			pv_die_err(errno, "--squash %s: %s", name, dev + 8);
		}
		memset(&cfg, 0, sizeof cfg);
		cfg.fd = (unsigned)img;
		cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0) {
			close(ctl);
			return lfd;
		}
		if (errno != EBUSY)
			pv_die_err(errno, "--squash %s: attaching %s", name, dev + 8);
		close(lfd);	/* raced with another user: try the next one */
	}
	pv_die("--squash %s: no free loop device after 64 tries", name);
}

void pv_squash_mount(struct pv_ctx *ctx, const struct pv_config *cfg,
		     const struct pv_privs *p)
{
	unsigned n = 0;

	for (size_t i = 0; i < cfg->nops; i++) {
		const struct pv_op *op = &cfg->ops[i];
		char src[64], dir[32];
		int img, lfd, fsfd, m, d;

		if (!is_squash(op))
			continue;
		img = open_image(ctx, p, op->src);
		lfd = attach_loop(img, op->src);
		close(img);
		snprintf(src, sizeof src, "/oldroot/proc/self/fd/%d", lfd);
		fsfd = fsopen("squashfs", FSOPEN_CLOEXEC);
		if (fsfd < 0)
			pv_die_err(errno, "--squash %s: fsopen squashfs", op->src);
		if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", src, 0) < 0 ||
		    fsconfig(fsfd, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0 ||
		    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
			pv_die_err(errno, "--squash %s: not a squashfs image", op->src);
		m = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY |
			    MOUNT_ATTR_NODEV | (ctx->root ? 0 : MOUNT_ATTR_NOSUID));
		if (m < 0)
			pv_die_err(errno, "--squash %s: mounting", op->src);
		close(fsfd);
		close(lfd);	/* the mount holds the loop device now */
		snprintf(dir, sizeof dir, "/sq/%u", n++);
		if (mkdir(dir, 0755) < 0)
			pv_die_err(errno, "--squash %s: mkdir %s", op->src, dir);
		d = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (d < 0)
			pv_die_err(errno, "--squash %s: open %s", op->src, dir);
		if (move_mount(m, "", d, "", MOVE_MOUNT_F_EMPTY_PATH |
			       MOVE_MOUNT_T_EMPTY_PATH) < 0)
			pv_die_err(errno, "--squash %s: attaching", op->src);
		close(d);
		close(m);
	}
}

void pv_squash_open(struct pv_ctx *ctx, const struct pv_config *cfg)
{
	size_t n = pv_squash_count(cfg);

	ctx->nsquash = 0;
	ctx->squash_used = 0;
	if (!n)
		return;
	ctx->squash_fds = pv_xcalloc(n, sizeof *ctx->squash_fds);
	for (size_t i = 0; i < n; i++) {
		char dir[32];
		int fd;

		snprintf(dir, sizeof dir, "/sq/%zu", i);
		fd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			pv_die_err(errno, "open %s", dir);
		ctx->squash_fds[ctx->nsquash++] = fd;
	}
}

static void prepare_one(struct pv_ctx *ctx, const struct pv_privs *p,
			const char *what, const char *path, unsigned n)
{
	struct mount_attr a;
	char dir[32];
	int fd, m, d;

	/* a readable, searchable directory, checked by opening it */
	fd = open_as_caller(ctx, p, what, path, O_DIRECTORY);
	if (!ctx->root && faccessat(fd, "", X_OK, AT_EMPTY_PATH) < 0) {
		(void)setfsgid(p->gid);
		(void)setfsuid(p->uid);
		pv_die("%s %s: does not exist or is not readable by you", what, path);
	}
	m = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (m < 0)
		pv_die_err(errno, "%s %s: cloning the mount", what, path);
	memset(&a, 0, sizeof a);
	a.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	if (mount_setattr(m, "", AT_EMPTY_PATH, &a, sizeof a) < 0)
		pv_die_err(errno, "%s %s: setting mount flags", what, path);
	snprintf(dir, sizeof dir, "/sq/l%u", n);
	if (mkdir(dir, 0755) < 0)
		pv_die_err(errno, "%s %s: mkdir %s", what, path, dir);
	d = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d < 0)
		pv_die_err(errno, "%s %s: open %s", what, path, dir);
	if (move_mount(m, "", d, "", MOVE_MOUNT_F_EMPTY_PATH |
		       MOVE_MOUNT_T_EMPTY_PATH) < 0)
		pv_die_err(errno, "%s %s: attaching", what, path);
	close(d);
	close(m);
	close(fd);
}

static size_t for_each_lower(struct pv_ctx *ctx, const struct pv_config *cfg,
			     const struct pv_privs *p)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->nops; i++) {
		const struct pv_op *op = &cfg->ops[i];

		if (op->type == PV_OP_OVERLAY || op->type == PV_OP_TMP_OVERLAY) {
			if (p)
				prepare_one(ctx, p, op->type == PV_OP_OVERLAY ?
					    "--overlay" : "--tmp-overlay", op->src,
					    (unsigned)n);
			n++;
		} else if (op->type == PV_OP_OVSPEC) {
			for (size_t j = 0; j < op->nlowers; j++) {
				if (p)
					prepare_one(ctx, p, "-o lowerdir",
						    op->lowers[j], (unsigned)n);
				n++;
			}
		}
	}
	return n;
}

void pv_lower_prepare(struct pv_ctx *ctx, const struct pv_config *cfg,
		      const struct pv_privs *p)
{
	(void)for_each_lower(ctx, cfg, p);
}

void pv_lower_open(struct pv_ctx *ctx, const struct pv_config *cfg)
{
	size_t n = for_each_lower(ctx, cfg, NULL);

	ctx->lowers_prepared = true;
	ctx->nlower_fds = 0;
	ctx->lower_used = 0;
	ctx->lower_fds = pv_xcalloc(n, sizeof *ctx->lower_fds);
	for (size_t i = 0; i < n; i++) {
		char dir[32];
		int fd;

		snprintf(dir, sizeof dir, "/sq/l%zu", i);
		fd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			pv_die_err(errno, "open %s", dir);
		ctx->lower_fds[ctx->nlower_fds++] = fd;
	}
}
