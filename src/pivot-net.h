/* pivot-net: the network namespace the command runs in. */
#ifndef PIVOT_NET_H
#define PIVOT_NET_H

#include <stdbool.h>

/* Bring the loopback interface of the current network namespace up. */
void pv_loopback_up(void);

/* --netns PATH: join that network namespace and bring its loopback up.
 * ROOT: the caller is root (checked again here, where it is done). */
void pv_enter_netns(const char *path, bool root);

#endif
