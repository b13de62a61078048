/* pivot-lower: overlay lower layers prepared in the privileged phase. */
#ifndef PIVOT_LOWER_H
#define PIVOT_LOWER_H

#include "pivot-mount.h"
#include "pivot-parse.h"

/* setuid mode, privileged phase: open every overlay lower layer of CFG
 * with the caller's permissions and attach a clone of it, without the
 * mounts below it, read-only, nosuid, nodev, at /sq/lN (the user
 * namespace would refuse an overlay over a mount with locked mounts below
 * it). */
void pv_lower_prepare(struct pv_ctx *ctx, const struct pv_config *cfg);

/* Open the prepared lower layers (after any namespace change). */
void pv_lower_open(struct pv_ctx *ctx, const struct pv_config *cfg);

#endif
