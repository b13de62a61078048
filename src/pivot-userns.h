/* pivot-userns: --userns FILE, a root whose root user is not the host's.
 *
 * As the host's root, in the staging mount namespace: every host source
 * that the options name (--root, binds, overlay lower layers, the upper
 * and work directories) is cloned and idmapped through the user namespace
 * FILE (open_tree + mount_setattr(MOUNT_ATTR_IDMAP)) and attached under
 * /u. Then we join that user namespace as its root and make a mount
 * namespace of our own, owned by it (the clones are locked in it as any
 * mount that a less privileged namespace inherits), and the build mounts
 * the overlay, /dev, proc and sysfs there. Files on disk keep the owners
 * they have on the host: root inside writes them as 0, uid 5 as 5. */
#ifndef PIVOT_USERNS_H
#define PIVOT_USERNS_H

#include <stdbool.h>

#include "pivot-mount.h"
#include "pivot-parse.h"

/* Root caller, after pv_stage: open the user namespace and make the
 * idmapped clone of every host source of CFG under /u. A source whose file
 * system cannot be idmapped ends the call with a message that names it. */
void pv_userns_prepare(struct pv_ctx *ctx, const struct pv_config *cfg);

/* Join the user namespace as uid and gid 0 (no supplementary groups) and
 * make a mount namespace owned by it. */
void pv_userns_enter(void);

/* true between pv_userns_prepare and the end of the build. */
bool pv_userns_active(void);

/* The prepared idmapped clone of the host path PATH (as the options give
 * it), as an O_PATH fd with FLAGS, or -1 when PATH was not prepared. */
int pv_userns_source(const char *what, const char *path, int flags);

/* The upper or work directory PATH of an overlay, opened through the
 * idmapped clone of the directory that holds both, or -1. */
int pv_userns_layer(const char *what, const char *path);

#endif
