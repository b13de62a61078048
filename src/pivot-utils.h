/* pivot-utils: error reporting and small helpers for overlay-pivot. */
#ifndef PIVOT_UTILS_H
#define PIVOT_UTILS_H

#include <stddef.h>
#include <sys/types.h>

/* Name used in messages: "overlay-pivot" or "ovroot". */
extern const char *pv_prog;

/* Run by pv_die and pv_die_err before the message is written: it must
 * give up what a blocked write to stderr would keep (loop devices). */
extern void (*pv_die_hook)(void);

/* Print "PROG: WHAT\n" and exit 1. */
__attribute__((noreturn, format(printf, 1, 2)))
void pv_die(const char *fmt, ...);

/* Print "PROG: WHAT: strerror(err)\n" and exit 1. */
__attribute__((noreturn, format(printf, 2, 3)))
void pv_die_err(int err, const char *fmt, ...);

/* Print "PROG: WHAT\n" without exiting. */
__attribute__((format(printf, 1, 2)))
void pv_warn(const char *fmt, ...);

/* Exit status used by pv_die (1); exec failures use 126/127; a command
 * line that does not parse, 2. */
#define PV_EXIT_FAIL 1
#define PV_EXIT_USAGE 2

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

/* "/proc/self/fd/N" for FD, in a static-size caller buffer. */
#define PV_FDPATH_LEN 32
void pv_fdpath(int fd, char buf[PV_FDPATH_LEN]);

#endif
