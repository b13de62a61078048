/* pivot-exec: running the command: exec, the waiting parent that
 * forwards signals, and pid 1 of a new pid namespace. */
#ifndef PIVOT_EXEC_H
#define PIVOT_EXEC_H

#include <stdbool.h>
#include <sys/types.h>

/* Block the forwarded signals (before fork), and restore them. */
void pv_block_signals(void);
void pv_restore_signals(void);

/* The parent after fork: forward SIGTERM, SIGINT, SIGHUP (and friends)
 * to CHILD, wait for it, and return the exit status to pass on (128+N
 * for a signal N). */
int pv_wait_child(pid_t child);

/* Exec COMMAND; on failure print why and exit 127 (not found) or 126. */
__attribute__((noreturn))
void pv_exec(char *const argv[]);

/* As pid 1 of a new pid namespace: start COMMAND (clone, CLONE_VM and
 * CLONE_VFORK: no copy of our memory), reap every child, exit
 * with COMMAND's status when it ends. */
__attribute__((noreturn))
void pv_run_as_init(char *const argv[]);

#endif
