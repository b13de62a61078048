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

/* Attach every image of CFG to a read-only, auto-clearing loop device and
 * mount it (read-only, nosuid, nodev) at /sq/N of the staging root. The
 * image is opened with the caller's permissions. Must run while we still
 * have the privilege to attach loops (root, or setuid before the drop). */
void pv_squash_mount(struct pv_ctx *ctx, const struct pv_config *cfg,
		     const struct pv_privs *p);

/* Open the mounted images' roots (after any namespace change). */
void pv_squash_open(struct pv_ctx *ctx, const struct pv_config *cfg);

#endif
