/* pivot-harden: what a subhost's pid 1, and everything it starts, cannot
 * do (--harden). Three layers, applied in this order in the new root,
 * after /proc is mounted and before the command runs:
 *
 *   pv_harden_mask     host-wide /proc and /sys files masked or read-only
 *   pv_harden_caps     a bounding set without what acts on the whole host
 *   pv_harden_seccomp  a denylist of system calls no subhost needs
 *
 * Each dies with a message on failure: a subhost is never started half
 * hardened. The reasons for every choice are beside each list. */
#ifndef PIVOT_HARDEN_H
#define PIVOT_HARDEN_H

/* All three, in order: the one call for every path that starts a
 * subhost's pid 1 (root in the host's user namespace or in its own). */
void pv_harden_subhost(void);

/* /proc (when a proc file system is mounted there) and /sys (when sysfs
 * is): the masked paths get an empty read-only file or directory over
 * them, the read-only ones a read-only bind of themselves. */
void pv_harden_mask(void);

/* Remove the host-wide capabilities from the bounding, inheritable,
 * permitted, effective and ambient sets, and verify. */
void pv_harden_caps(void);

/* Install the seccomp filter (no no_new_privs: set-user-id programs
 * inside keep working; installing it needs CAP_SYS_ADMIN). */
void pv_harden_seccomp(void);

/* Attach the standard-devices-only program to the cgroup v2 group DIR
 * (--device-cgroup): it holds for every process in DIR and below it. */
void pv_harden_devices(const char *dir);

#endif
