/* pivot-caller: the one door through which overlay-pivot acts as its
 * caller.
 *
 * Every path the caller names is resolved, opened, created or checked
 * through these calls, never with the helper's own credentials. When the
 * helper holds more than the caller (set-user-id root, or the capabilities
 * of the caller's user namespace), each call forks a child that becomes
 * the caller entirely (real, effective, saved and file-system uid and gid,
 * the caller's supplementary groups, no capability in any set), verifies
 * that it did, does the one act, and hands the result back (a file
 * descriptor over a socket, SCM_RIGHTS). A root caller, or a caller whose
 * rights the helper does not exceed, acts directly.
 *
 * Failures return -1 (NULL) with errno set as the caller's own attempt
 * would have set it. The child dies before the act if it could not become
 * the caller; then the helper dies too. */
#ifndef PIVOT_CALLER_H
#define PIVOT_CALLER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Once, first thing: who the caller is (their real ids; their groups are
 * read now). ACT: the helper holds more than the caller. */
void caller_init(uid_t uid, gid_t gid, bool act);

/* The helper has entered a user namespace where it holds capabilities the
 * caller's command will not: from now on every act goes through a child
 * that drops them (its ids are the caller's already). */
void caller_entered_userns(void);

/* The one switch to the caller's identity, for this process (the acts
 * below run it in their child; pivot-privs before the user namespace and
 * for good before the command): real, effective, saved and file-system
 * uid and gid; no capability but KEEP (a mask of capabilities below 32,
 * effective and permitted) in any set, none ambient; then every id,
 * capability set and the groups are read back. Returns 0, or
 * CALLER_SWITCH_FAILED (errno set) or CALLER_NOT_VERIFIED, with *WHAT
 * naming the step or what is not the caller's. */
enum { CALLER_SWITCH_FAILED = 1, CALLER_NOT_VERIFIED };
int caller_become(uint32_t keep, const char **what);

/* caller_openat: also require that the caller may read the object (and
 * search it, if it is a directory), even when FLAGS has O_PATH. */
#define CALLER_READABLE 1u

/* open(2) as the caller. */
int caller_open(const char *path, int flags, mode_t mode);

/* openat2(2) as the caller: DIRFD (or AT_FDCWD), RESOLVE flags
 * (RESOLVE_IN_ROOT...), O_CLOEXEC always added. CHECK: 0 or
 * CALLER_READABLE. */
int caller_openat(int dirfd, const char *path, int flags, mode_t mode,
		  unsigned long long resolve, unsigned check);

/* mkdir(2) / mkdirat(2) as the caller. */
int caller_mkdir(const char *path, mode_t mode);
int caller_mkdirat(int dirfd, const char *path, mode_t mode);

/* realpath(3) as the caller; a malloc'd string, or NULL. */
char *caller_realpath(const char *path);

#endif
