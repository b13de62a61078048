/* msg: one-line messages, "PROG: what: why" on stderr, and one exit-code
 * convention, for every C program but the reaper (pid 1 of a subhost: it
 * stays static and standalone). As the shell commands: 1 for a failure,
 * 2 for a command line that does not parse. */
#ifndef OB_MSG_H
#define OB_MSG_H

#include <stdio.h>

#define EXIT_FAIL 1
#define EXIT_USAGE 2

/* The name messages begin with; each program defines it. */
extern const char *msg_prog;

/* Run once by die, die_err and die_usage before the message is written:
 * it must give up what a blocked write to stderr would keep (loop
 * devices, half-made bind mounts). */
extern void (*die_hook)(void);

/* How many warnings were printed: a program that goes on after one can
 * still end with EXIT_FAIL. */
extern unsigned warnings;

/* "PROG: WHAT", exit EXIT_FAIL. */
__attribute__((noreturn, format(printf, 1, 2)))
void die(const char *fmt, ...);

/* "PROG: WHAT: strerror(ERR)", exit EXIT_FAIL. */
__attribute__((noreturn, format(printf, 2, 3)))
void die_err(int err, const char *fmt, ...);

/* "PROG: WHAT", exit EXIT_USAGE. */
__attribute__((noreturn, format(printf, 1, 2)))
void die_usage(const char *fmt, ...);

/* "PROG: WHAT", and go on. */
__attribute__((format(printf, 1, 2)))
void warn(const char *fmt, ...);

#endif
