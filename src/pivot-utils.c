/* pivot-utils: small helpers for overlay-pivot (memory, writes, fds). */
#include "pivot-utils.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

void *pv_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die_err(ENOMEM, "malloc");
	return p;
}

void *pv_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		die_err(ENOMEM, "calloc");
	return p;
}

char *pv_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		die_err(ENOMEM, "strdup");
	return p;
}

char *pv_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0 || !p)
		die_err(ENOMEM, "asprintf");
	return p;
}

int pv_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pv_write_file_at(int dirfd, const char *path, const char *s)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	int r;

	if (fd < 0)
		return -errno;
	r = pv_write_all(fd, s, strlen(s));
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

void pv_close_fds_from(int lowest, int keep)
{
#ifdef SYS_close_range
	if (keep < lowest) {
		if (syscall(SYS_close_range, (unsigned)lowest, ~0U, 0) == 0)
			return;
	} else {
		int ok = 1;

		if (keep > lowest &&
		    syscall(SYS_close_range, (unsigned)lowest,
			    (unsigned)keep - 1, 0) != 0)
			ok = 0;
		if (ok && syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0) == 0)
			return;
	}
#endif
	/* Fallback: walk /proc/self/fd. */
	DIR *d = opendir("/proc/self/fd");

	if (!d) {
		for (int fd = lowest; fd < 1024; fd++)
			if (fd != keep)
				(void)close(fd);
		return;
	}
	int dfd = dirfd(d);
	struct dirent *e;

	while ((e = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);

		if (*end || end == e->d_name)
			continue;
		if (fd >= lowest && fd != keep && fd != dfd)
			(void)close((int)fd);
	}
	closedir(d);
}

void pv_fdpath(int fd, char buf[PV_FDPATH_LEN])
{
	snprintf(buf, PV_FDPATH_LEN, "/proc/self/fd/%d", fd);
}

int pv_last_cap(void)
{
	int last = CAP_LAST_CAP;

	/* The running kernel may know more capabilities than our headers,
	 * or fewer; asked with prctl, not /proc, which may not be there. */
	while (last > 0 && prctl(PR_CAPBSET_READ, last, 0, 0, 0) < 0)
		last--;
	while (prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
		last++;
	return last;
}
