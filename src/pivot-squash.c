/* pivot-squash: squashfs images on loop devices we attach ourselves. */
#include "pivot-squash.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pivot-caller.h"
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

/* Open a host path as the caller (CHECK: see caller_openat). */
static int open_as_caller(struct pv_ctx *ctx, const char *what,
			  const char *img, int flags, unsigned check)
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
	fd = caller_openat(ctx->oldroot, abs,
			   flags | O_RDONLY | O_NOCTTY | O_NONBLOCK, 0,
			   RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, check);
	err = errno;
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
static int open_image(struct pv_ctx *ctx, const char *img)
{
	struct stat st;
	int fd = open_as_caller(ctx, "--squash", img, 0, 0);

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

	(void)p;	/* the image is opened through pivot-caller */

	for (size_t i = 0; i < cfg->nops; i++) {
		const struct pv_op *op = &cfg->ops[i];
		char src[64], dir[32];
		int img, lfd, fsfd, m, d;

		if (!is_squash(op))
			continue;
		img = open_image(ctx, op->src);
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
