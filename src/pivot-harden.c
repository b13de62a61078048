/* pivot-harden: the one call that hardens a subhost's pid 1. */
#include "pivot-harden.h"

void pv_harden_subhost(void)
{
	/* masks need mount rights, the bounding set CAP_SETPCAP, and the
	 * filter denies mount_setattr: in this order */
	pv_harden_mask();
	pv_harden_caps();
	pv_harden_seccomp();
}
