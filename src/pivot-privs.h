/* pivot-privs: who the caller is, the user namespace of a non-root caller,
 * and dropping privileges for good before the caller's command runs. */
#ifndef PIVOT_PRIVS_H
#define PIVOT_PRIVS_H

#include <stdbool.h>
#include <sys/types.h>

struct pv_privs {
	uid_t uid;		/* the caller's real ids */
	gid_t gid;
	bool root;		/* the caller is root: no user namespace */
	bool setuid;		/* we run with more privilege than the caller */
	pid_t mapper;		/* setuid mode: the helper writing our id maps */
	int mapper_fd;		/* write end of its go-ahead pipe */
};

/* First thing in main: record the ids; in setuid mode make the process
 * non-dumpable and make sure fds 0-2 are open. */
void pv_privs_init(struct pv_privs *p);

/* setuid mode only, before the privileged mount namespace is made: fork
 * the helper that will write our uid/gid maps (it must stay in the host's
 * namespaces, with privilege, while we give ours up). */
void pv_privs_fork_mapper(struct pv_privs *p);

/* Non-root caller: become the caller (setuid mode: keeping only
 * CAP_SYS_ADMIN for the next call), create a user namespace owned by the
 * caller (with a new mount namespace if WITH_MNTNS) and map the caller's
 * uid and gid, nothing else. */
void pv_privs_enter_userns(struct pv_privs *p, bool with_mntns);

/* Non-root caller, right before the command: drop every capability set,
 * lock the securebits, set no_new_privs, and verify. Dies on failure. */
void pv_privs_drop(const struct pv_privs *p);

#endif
