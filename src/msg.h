/* One-line error messages for the small helpers (share-into, clean-root):
 * "PROG: what: why" on stderr. Each program defines prog. */
#ifndef OB_MSG_H
#define OB_MSG_H

extern const char *prog;

__attribute__((noreturn, format(printf, 1, 2)))
void die(const char *fmt, ...);

#endif
