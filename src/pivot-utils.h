/* pivot-utils: small helpers for overlay-pivot (memory, writes, fds).
 * Messages and exit codes: msg.h, included from here. */
#ifndef PIVOT_UTILS_H
#define PIVOT_UTILS_H

#include <stddef.h>
#include <sys/types.h>

#include "msg.h"

void *pv_xmalloc(size_t n);
void *pv_xcalloc(size_t n, size_t size);
char *pv_xstrdup(const char *s);
/* snprintf into a fresh buffer; dies on overflow of int or memory. */
__attribute__((format(printf, 1, 2)))
char *pv_xasprintf(const char *fmt, ...);

/* Write all of BUF to FD, retrying on EINTR. Returns 0 or -errno. */
int pv_write_all(int fd, const void *buf, size_t len);
/* Open PATH (relative to DIRFD) for writing and write S to it. 0 or -errno. */
int pv_write_file_at(int dirfd, const char *path, const char *s);

/* Close every fd >= LOWEST except KEEP (-1 for none). */
void pv_close_fds_from(int lowest, int keep);

/* The highest capability number the running kernel knows. */
int pv_last_cap(void);

/* "/proc/self/fd/N" for FD, in a static-size caller buffer. */
#define PV_FDPATH_LEN 32
void pv_fdpath(int fd, char buf[PV_FDPATH_LEN]);

#endif
