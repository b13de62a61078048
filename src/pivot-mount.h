/* pivot-mount: build the new root from the ordered mount options. */
#ifndef PIVOT_MOUNT_H
#define PIVOT_MOUNT_H

#include <stdbool.h>
#include <sys/types.h>

#include <sys/mount.h>

#include "pivot-parse.h"

/* The identity of an upper or work directory, checked with the host's ids
 * before the user namespace, verified again when it is used. */
struct pv_pin {
	dev_t dev;
	ino_t ino;
	bool exists;
};

struct pv_privs;

/* FUSE file systems per run, at most (see pivot-fuse.h). */
#define PV_FUSE_MAX 16

struct pv_ctx {
	bool root;		/* real root caller: every option allowed */
	uid_t uid;		/* the caller's ids */
	gid_t gid;
	int oldroot;		/* O_PATH fd of the host's root (/oldroot) */
	int newroot;		/* O_PATH fd of the new root (/newroot) */
	int scratch;		/* O_PATH fd of /s, our scratch directory */
	char *cwd;		/* the caller's cwd on the host, or NULL */
	int unshare;		/* the CLONE_NEW* flags of the run */
	unsigned counter;	/* names scratch entries */
	/* squash mounts prepared by the privileged phase, in op order */
	int *squash_fds;	/* O_PATH fds of the mounted images' roots */
	size_t nsquash, squash_used;
	/* upper/work directories pinned before the user namespace */
	const struct pv_privs *privs;
	bool pinning;
	struct pv_pin *pins;
	size_t npins, pin_used;
	/* FUSE connections prepared for a non-root caller, in op order:
	 * /dev/fuse and the detached mount */
	int fuse_dev[PV_FUSE_MAX], fuse_mnt[PV_FUSE_MAX];
	size_t nfuse;
};

/* Non-root caller, before the user namespace (where every owner that is
 * not the caller would read as the overflow uid): check that every upper
 * and work directory (and --overlay DIR) is a plain directory owned by the
 * caller, and pin its identity for pv_build to verify. */
void pv_pin_layers(struct pv_ctx *ctx, const struct pv_config *cfg);

/* Make / private, mount the staging tmpfs over /tmp and pivot into it:
 * the host is then at /oldroot, the new root is built at /newroot.
 * OWNER_UID/GID own the scratch directory (the caller, in setuid mode). */
void pv_stage(struct pv_ctx *ctx, uid_t owner_uid, gid_t owner_gid);

/* openat2(2) with O_CLOEXEC added, retried on EAGAIN. */
int pv_openat2(int dirfd, const char *path, int flags,
	       unsigned long long resolve);

/* PATH made absolute against the caller's cwd (malloc'd); dies when it
 * is relative and the cwd is unknown. */
char *pv_host_abs(struct pv_ctx *ctx, const char *what, const char *path);

/* Open a host path (absolute, or relative to the caller's cwd) with
 * O_PATH|FLAGS, as the caller. For a non-root caller every failure, and a
 * source the caller may not read (NEED_READ), gives the same message. */
int pv_open_host(struct pv_ctx *ctx, const char *what, const char *path,
		 int flags, bool need_read);

/* Mount the new root (--root DIR or a tmpfs) and apply every option. */
void pv_build(struct pv_ctx *ctx, const struct pv_config *cfg);

/* pivot_root into the new root and detach the old one. */
void pv_enter(struct pv_ctx *ctx);

/* Flags that every mount of a non-root caller carries. */
#define PV_USER_ATTR (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

#endif
