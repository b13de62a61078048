/* pivot-sys: the new mount API (fsopen, fsconfig, fsmount, move_mount,
 * open_tree, mount_setattr) whatever the C library. glibc 2.36 and later
 * declares it in <sys/mount.h>; musl, which overlay-pivot is linked with
 * statically, does not: there the kernel's header gives the constants and
 * these wrappers make the system calls. */
#ifndef PIVOT_SYS_H
#define PIVOT_SYS_H

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#ifndef __GLIBC__
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

/* statx: musl declares it from 1.2.5 on (with STATX_TYPE in <sys/stat.h>) */
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
