/* pivot-squash: squashfs images on loop devices we attach ourselves. */
#ifndef PIVOT_SQUASH_H
#define PIVOT_SQUASH_H

#include "pivot-mount.h"
#include "pivot-parse.h"
#include "pivot-privs.h"

/* Loop devices per run, at most (a root caller's images). */
#define PV_SQUASH_MAX 16

/* Number of images CFG mounts. */
size_t pv_squash_count(const struct pv_config *cfg);

/* Open IMG (absolute, or relative to the caller's cwd) read-only as the
 * caller: a regular file or (a root caller's) a block device that begins
 * with the squashfs magic, checked from the descriptor, before anything
 * (a loop device, squashfuse) is given it. */
int pv_squash_open_image(struct pv_ctx *ctx, const char *what, const char *img);

/* Attach every image of CFG to a read-only, auto-clearing loop device and
 * mount it (read-only, nosuid, nodev) at /sq/N of the staging root. The
 * image is opened with the caller's permissions. Must run while we still
 * have the privilege to attach loops (root, or setuid before the drop). */
void pv_squash_mount(struct pv_ctx *ctx, const struct pv_config *cfg,
		     const struct pv_privs *p);

/* Open the mounted images' roots (after any namespace change). */
void pv_squash_open(struct pv_ctx *ctx, const struct pv_config *cfg);

#endif
