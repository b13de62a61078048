/* pivot-ovroot: the ovroot personality, expressed as overlay-pivot options. */
#include "pivot-ovroot.h"

#include "pivot-utils.h"

void pv_ovroot_expand(struct pv_config *cfg, const struct pv_privs *pr,
		      const char *cwd)
{
	(void)cfg;
	(void)pr;
	(void)cwd;
	pv_die("ovroot: not implemented yet");
}
