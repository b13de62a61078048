/* pivot-ovroot: the ovroot personality, expressed as overlay-pivot options. */
#ifndef PIVOT_OVROOT_H
#define PIVOT_OVROOT_H

#include "pivot-parse.h"
#include "pivot-privs.h"

/* Turn `ovroot [-r ROOT] OVERLAYDIR [COMMAND...]` into mount options: an
 * overlay of ROOT and of every filesystem mounted below it, /dev, /proc,
 * /sys and /run reachable. CWD is the caller's working directory. */
void pv_ovroot_expand(struct pv_config *cfg, const struct pv_privs *pr,
		      const char *cwd);

#endif
