/* pivot-squash: squashfs images. Every image is opened and checked here,
 * as the caller; a root caller's are then mounted from loop devices we
 * attach ourselves (read-only, autoclear, at most PV_SQUASH_MAX per run)
 * or as the block device given. A non-root caller's go through
 * squashfuse (pivot-fuse). */
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
#include <sys/syscall.h>
#include <sys/mount.h>
#include <unistd.h>

#include "pivot-caller.h"
#include "mount-api.h"
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

int pv_squash_open_image(struct pv_ctx *ctx, const char *what, const char *img)
{
	static const unsigned char magic[4] = { 'h', 's', 'q', 's' };
	unsigned char buf[4];
	struct stat st;
	char *abs = pv_host_abs(ctx, what, img);
	int fd, err;

	fd = caller_openat(ctx->oldroot, abs, O_RDONLY | O_NOCTTY | O_NONBLOCK,
			   0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
			   ctx->root ? 0 : CALLER_READABLE);
	err = errno;
	free(abs);
	if (fd < 0) {
		if (!ctx->root)
			die("%s %s: does not exist or is not readable by you",
			    what, img);
		die_err(err, "%s %s", what, img);
	}
	if (fstat(fd, &st) < 0)
		die_err(errno, "%s %s", what, img);
	if (!S_ISREG(st.st_mode) && !(ctx->root && S_ISBLK(st.st_mode)))
		die("%s %s: not a regular file%s", what, img,
		    ctx->root ? " or a block device" : "");
	if (pread(fd, buf, sizeof buf, 0) != (ssize_t)sizeof buf ||
	    memcmp(buf, magic, sizeof magic) != 0)
		die("%s %s: not a squashfs image", what, img);
	return fd;
}

/* Attach IMG to a free loop device, read-only, cleared on last close.
 * Nothing is printed while we hold one: a caller's full stderr would keep
 * it attached. */
static int attach_loop(int img, const char *what, const char *name)
{
	int ctl = open("/oldroot/dev/loop-control", O_RDWR | O_CLOEXEC);

	if (ctl < 0)
		die_err(errno, "%s %s: /dev/loop-control", what, name);
	for (int tries = 0; tries < 64; tries++) {
		struct loop_config cfg;
		char dev[64];
		int n = ioctl(ctl, LOOP_CTL_GET_FREE), lfd;

		if (n < 0)
			die_err(errno, "%s %s: no free loop device", what, name);
		snprintf(dev, sizeof dev, "/oldroot/dev/loop%d", n);
		lfd = open(dev, O_RDONLY | O_CLOEXEC);
		if (lfd < 0) {
			if (errno == ENOENT || errno == ENXIO)
				continue;
			die_err(errno, "%s %s: %s", what, name, dev + 8);
		}
		memset(&cfg, 0, sizeof cfg);
		cfg.fd = (unsigned)img;
		cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0) {
			close(ctl);
			return lfd;
		}
		if (errno != EBUSY) {
			int e = errno;

			close(lfd);
			die_err(e, "%s %s: attaching %s", what, name, dev + 8);
		}
		close(lfd);	/* raced with another user: try the next one */
	}
	die("%s %s: no free loop device after 64 tries", what, name);
}

static unsigned mounted;

/* Before a message: let go of every image, so that a stderr that blocks
 * (a full pipe) keeps no loop device attached. Our descriptors and the
 * trees that hold the images' mounts go; the devices clear themselves. */
static void release_images(void)
{
	char dir[32];

	(void)syscall(SYS_close_range, 3U, ~0U, 0);
	(void)umount2("/newroot", MNT_DETACH);
	for (unsigned i = 0; i < mounted; i++) {
		snprintf(dir, sizeof dir, "/sq/%u", i);
		(void)umount2(dir, MNT_DETACH);
	}
}

void pv_squash_mount(struct pv_ctx *ctx, const struct pv_config *cfg,
		     const struct pv_privs *p)
{
	unsigned n = 0;

	(void)p;	/* the image is opened through pivot-caller */

	for (size_t i = 0; i < cfg->nops; i++) {
		const struct pv_op *op = &cfg->ops[i];
		const char *what = op->type == PV_OP_SQUASH ? "--squash" :
				   "--squash-overlay";
		char src[64], dir[32];
		struct stat st;
		int img, lfd, fsfd, m, d, err;

		if (!is_squash(op))
			continue;
		img = pv_squash_open_image(ctx, what, op->src);
		if (fstat(img, &st) < 0)
			die_err(errno, "%s %s", what, op->src);
		/* a block device is mounted as it is (machroot's form) */
		if (S_ISBLK(st.st_mode)) {
			lfd = img;
		} else {
			lfd = attach_loop(img, what, op->src);
			close(img);
		}
		snprintf(src, sizeof src, "/oldroot/proc/self/fd/%d", lfd);
		fsfd = fsopen("squashfs", FSOPEN_CLOEXEC);
		err = fsfd < 0 ? errno : 0;
		if (!err &&
		    (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", src, 0) < 0 ||
		     fsconfig(fsfd, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0 ||
		     fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0))
			err = errno;
		m = err ? -1 : fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY |
				       MOUNT_ATTR_NODEV |
				       (ctx->root ? 0 : MOUNT_ATTR_NOSUID));
		if (!err && m < 0)
			err = errno;
		if (fsfd >= 0)
			close(fsfd);
		/* the mount holds the loop device now; on failure, closing
		 * it detaches it (autoclear) before any message */
		close(lfd);
		if (err)
			die_err(err, "%s %s: mounting the image", what, op->src);
		snprintf(dir, sizeof dir, "/sq/%u", n++);
		die_hook = release_images;
		if (mkdir(dir, 0755) < 0)
			die_err(errno, "%s %s: mkdir %s", what, op->src, dir);
		d = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (d < 0)
			die_err(errno, "%s %s: open %s", what, op->src, dir);
		if (move_mount(m, "", d, "", MOVE_MOUNT_F_EMPTY_PATH |
			       MOVE_MOUNT_T_EMPTY_PATH) < 0)
			die_err(errno, "%s %s: attaching", what, op->src);
		mounted = n;
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
			die_err(errno, "open %s", dir);
		ctx->squash_fds[ctx->nsquash++] = fd;
	}
}
