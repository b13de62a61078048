/* pivot-exec: running the command: exec, the waiting parent that
 * forwards signals, and pid 1 of a new pid namespace. */
#include "pivot-exec.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pivot-utils.h"

static const int fwd_signals[] = {
	SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPWR, SIGCONT,
	SIGWINCH
};
#define NFWD (sizeof fwd_signals / sizeof fwd_signals[0])

static volatile sig_atomic_t fwd_target;
static sigset_t saved_mask;

static void forward(int sig)
{
	int e = errno;

	if (fwd_target > 0)
		(void)kill((pid_t)fwd_target, sig);
	errno = e;
}

void pv_block_signals(void)
{
	sigset_t s;

	sigemptyset(&s);
	for (size_t i = 0; i < NFWD; i++)
		sigaddset(&s, fwd_signals[i]);
	if (sigprocmask(SIG_BLOCK, &s, &saved_mask) < 0)
		die_err(errno, "sigprocmask");
}

void pv_restore_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < NFWD; i++)
		(void)sigaction(fwd_signals[i], &sa, NULL);
	if (sigprocmask(SIG_SETMASK, &saved_mask, NULL) < 0)
		die_err(errno, "sigprocmask");
}

static void install_forwarders(pid_t target)
{
	struct sigaction sa;

	fwd_target = target;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = forward;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < NFWD; i++)
		if (sigaction(fwd_signals[i], &sa, NULL) < 0)
			die_err(errno, "sigaction");
	if (sigprocmask(SIG_SETMASK, &saved_mask, NULL) < 0)
		die_err(errno, "sigprocmask");
}

static int status_of(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return EXIT_FAIL;
}

int pv_wait_child(pid_t child)
{
	int st;

	install_forwarders(child);
	for (;;) {
		pid_t w = waitpid(child, &st, 0);

		if (w == child)
			break;
		if (w < 0 && errno != EINTR)
			die_err(errno, "waitpid");
	}
	return status_of(st);
}

/* A file that is not a binary and has no #! line runs under /bin/sh, as
 * POSIX execvp does (musl's does not). Only for a command line of
 * SH_FALLBACK_ARGS words at most: the new one is built on the stack,
 * which in the spawned child is small. */
#define SH_FALLBACK_ARGS 256

static void exec_script(const char *path, char *const argv[])
{
	char *sh_argv[SH_FALLBACK_ARGS + 2];
	size_t n = 0;

	while (argv[n] && n < SH_FALLBACK_ARGS)
		n++;
	if (argv[n])
		return;
	sh_argv[0] = (char *)"sh";
	sh_argv[1] = (char *)path;
	for (size_t i = 1; i <= n; i++)
		sh_argv[i + 1] = argv[i];
	execv("/bin/sh", sh_argv);
	errno = ENOEXEC;
}

/* execvp without allocation (it runs in a CLONE_VM child): each PATH
 * directory in turn; EACCES is kept when nothing else is found. Returns
 * only on failure, with errno set. */
static void exec_search(char *const argv[])
{
	const char *file = argv[0], *path = getenv("PATH");
	size_t flen = strlen(file);
	bool denied = false;
	char buf[PATH_MAX];

	if (strchr(file, '/')) {
		execv(file, argv);
		if (errno == ENOEXEC)
			exec_script(file, argv);
		return;
	}
	if (!path)
		path = "/usr/local/bin:/bin:/usr/bin";
	while (*path) {
		const char *end = strchrnul(path, ':');
		size_t dlen = (size_t)(end - path);

		if (dlen + 1 + flen < sizeof buf) {
			memcpy(buf, path, dlen);
			if (dlen == 0)
				buf[dlen++] = '.';
			buf[dlen] = '/';
			memcpy(buf + dlen + 1, file, flen + 1);
			execv(buf, argv);
			if (errno == ENOEXEC) {
				exec_script(buf, argv);
				return;
			}
			if (errno == EACCES)
				denied = true;
			else if (errno != ENOENT && errno != ENOTDIR)
				return;
		}
		path = *end ? end + 1 : end;
	}
	errno = denied ? EACCES : ENOENT;
}

void pv_exec(char *const argv[])
{
	exec_search(argv);
	int e = errno;

	fprintf(stderr, "%s: exec %s: %s\n", msg_prog, argv[0], strerror(e));
	_exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
}

/* The command's start, without copying pid 1's address space: clone with
 * CLONE_VM | CLONE_VFORK on a stack of its own (pid 1 waits, suspended,
 * until the command has exec'd or failed). Between clone and exec the
 * child touches nothing the parent relies on: it resets the forwarded
 * signals (its own handler table) and its own mask, then execs; only on
 * failure does it write the error into spawn_arg, which the parent reads
 * after it resumes, and leave with _exit. Every signal it could catch is
 * blocked or at its default action, so no handler runs on shared memory. */
struct spawn_arg {
	char *const *argv;
	volatile int err;
};

static int spawn_child(void *p)
{
	struct spawn_arg *a = p;
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < NFWD; i++)
		(void)sigaction(fwd_signals[i], &sa, NULL);
	(void)sigprocmask(SIG_SETMASK, &saved_mask, NULL);
	exec_search(a->argv);
	a->err = errno ? errno : ENOEXEC;
	_exit(127);
}

void pv_run_as_init(char *const argv[])
{
	/* execvp needs a path buffer (PATH_MAX) and the script fallback */
	static char stack[64 * 1024] __attribute__((aligned(16)));
	struct spawn_arg a = { argv, 0 };
	pid_t cmd;
	int st, status = EXIT_FAIL;

	pv_block_signals();
	cmd = clone(spawn_child, stack + sizeof stack,
		    CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	if (cmd < 0)
		die_err(errno, "fork");
	if (a.err) {
		int e = a.err;

		(void)waitpid(cmd, &st, 0);
		fprintf(stderr, "%s: exec %s: %s\n", msg_prog, argv[0], strerror(e));
		_exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
	}
	install_forwarders(cmd);
	/* Reap every child (orphans re-parent to us); leave with COMMAND.
	 * When pid 1 exits the kernel kills the rest of the namespace. */
	for (;;) {
		pid_t w = wait(&st);

		if (w == cmd) {
			status = status_of(st);
			break;
		}
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD)
				break;
			die_err(errno, "wait");
		}
	}
	_exit(status);
}
