/* mount-api: the new mount API (fsopen, fsconfig, fsmount, move_mount,
 * open_tree, mount_setattr, their constants and struct mount_attr) for
 * every C program but the reaper, whatever the C library.
 *
 * glibc 2.36 and later declares it all in <sys/mount.h>. musl, which
 * overlay-pivot is linked with statically, does not: there the kernel's
 * <linux/mount.h> gives the constants and these wrappers make the system
 * calls. An older glibc cannot take <linux/mount.h> beside its own
 * <sys/mount.h> (both define MS_*), so it is refused here, with a reason,
 * rather than given a second set of hand-copied constants. Running on a
 * kernel without the calls is the callers' business: they get ENOSYS. */
#ifndef MOUNT_API_H
#define MOUNT_API_H

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#if defined(__GLIBC__)
#if !__GLIBC_PREREQ(2, 36)
#error "glibc 2.36 or later (or musl) is needed: it declares the new mount API"
#endif
#else
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int fsopen(const char *fs, unsigned int flags)
{
	return (int)syscall(SYS_fsopen, fs, flags);
}

static inline int fsconfig(int fd, unsigned int cmd, const char *key,
			   const void *value, int aux)
{
	return (int)syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}

static inline int fsmount(int fd, unsigned int flags, unsigned int attr)
{
	return (int)syscall(SYS_fsmount, fd, flags, attr);
}

static inline int move_mount(int from_dirfd, const char *from_path,
			     int to_dirfd, const char *to_path,
			     unsigned int flags)
{
	return (int)syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd,
			    to_path, flags);
}

static inline int open_tree(int dirfd, const char *path, unsigned int flags)
{
	return (int)syscall(SYS_open_tree, dirfd, path, flags);
}

static inline int mount_setattr(int dirfd, const char *path,
				unsigned int flags, struct mount_attr *attr,
				size_t size)
{
	return (int)syscall(SYS_mount_setattr, dirfd, path, flags, attr, size);
}

/* statx, for STATX_ATTR_MOUNT_ROOT: musl declares it from 1.2.5 on (with
 * STATX_TYPE in <sys/stat.h>). */
#ifndef STATX_TYPE
#include <linux/stat.h>

static inline int statx(int dirfd, const char *path, int flags,
			unsigned int mask, struct statx *sx)
{
	return (int)syscall(SYS_statx, dirfd, path, flags, mask, sx);
}
#endif
#endif

#endif
