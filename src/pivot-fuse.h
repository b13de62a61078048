/* pivot-fuse: FUSE file systems for a non-root caller, served by a
 * process of the caller's own.
 *
 * A non-root caller's overlay whose lower layer has mounts below it is
 * served by fuse-overlayfs, and every squashfs image by squashfuse: both
 * read the host with the caller's own credentials, through the caller's
 * view of the mount tree, so nothing a mount hides and nothing the caller
 * could not read becomes visible, and no block device or kernel file
 * system driver ever parses an image the caller controls.
 *
 *   plan (no side effect): which ops need FUSE, at most PV_FUSE_MAX
 *   prepare: one connection each: /dev/fuse opened, the FUSE superblock
 *            made (nosuid, nodev, default_permissions, only the caller
 *            may use it) and kept as a detached mount; set-user-id mode
 *            does this as root, since /dev/fuse may be 0600 (as
 *            fusermount3 does)
 *   serve:   a daemon in a mount namespace of its own (a copy of the
 *            staging root's: the host at /oldroot), with the caller's
 *            ids and no capability, runs the server on the connection
 *            (libfuse takes /dev/fd/N; every layer is /proc/self/fd/N)
 *   attach:  the mount joins the new root; it ends with the last process
 *            that uses it, and the daemon with it */
#ifndef PIVOT_FUSE_H
#define PIVOT_FUSE_H

#include <stdbool.h>
#include <stddef.h>

#include "pivot-mount.h"
#include "pivot-parse.h"

/* Non-root caller, before any namespace change: mark the ops of CFG that
 * FUSE serves (op->fuse): every --squash and --squash-overlay image, and
 * every overlay with a host lower layer that has mounts below it. Dies,
 * before any side effect, when there are more than PV_FUSE_MAX or the
 * server program is missing. */
void pv_fuse_plan(struct pv_ctx *ctx, struct pv_config *cfg);

/* Make the connections of the marked ops (as root in set-user-id mode,
 * before the user namespace; else in it). */
void pv_fuse_prepare(struct pv_ctx *ctx, const struct pv_config *cfg);

/* Serve OP's prepared connection with ARGV (the server's path and its
 * arguments; the string "@DEV@" is replaced by /dev/fd/N of the
 * connection). KEEP: NKEEP more descriptors the server needs. Returns the
 * detached mount, for the caller to attach. */
int pv_fuse_serve(struct pv_ctx *ctx, const struct pv_op *op, const char *what,
		  const char *arg, const char *const *argv, const int *keep,
		  size_t nkeep);

/* Non-root caller: mount every image of CFG with squashfuse at /s/fN and
 * keep their roots for --squash and --squash-overlay, in op order. */
void pv_fuse_squash(struct pv_ctx *ctx, const struct pv_config *cfg);

/* The servers, in the host's tree. */
#define PV_FUSE_OVERLAYFS "/usr/bin/fuse-overlayfs"
#define PV_SQUASHFUSE "/usr/bin/squashfuse"

#endif
