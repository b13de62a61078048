/*
 * reaper — pid 1 of an overlay-boot subhost.
 *
 *     reaper [-t SECONDS] [-r FD] [-k]
 *
 * Why it is built this way:
 *
 * - It never ends the subhost by itself.  When its last child exits it
 *   keeps running: services that fail, exit, stop or restart leave the
 *   subhost up and enterable, until overlay-stop sends SIGTERM (upstream
 *   overlay-boot kept a dummy service running for the same purpose).
 *   "-k" asked for this when it was not the default; it is still accepted
 *   and changes nothing.
 *
 * - As pid 1 of a pid namespace it inherits every orphan of the subhost,
 *   so it must reap them all or zombies pile up.  It calls
 *   waitpid(-1, WNOHANG) until nothing is left to collect, at start
 *   (children of the init script may have died before it exec'ed us) and
 *   after every signal.
 *
 * - No signal handlers.  Every signal is blocked and fetched synchronously
 *   with sigtimedwait(), so there is nothing async-signal-unsafe and no
 *   race between "look at the state" and "go to sleep".  Blocking is also
 *   what lets a namespace's init hear SIGTERM at all: the kernel discards
 *   signals whose action is SIG_DFL for it, but keeps blocked ones pending.
 *   SIGCHLD gets SIG_DFL back: an inherited SIG_IGN would make the kernel
 *   reap our children itself and send no SIGCHLD.  Signals we do not act
 *   on (SIGHUP, SIGUSR1, SIGPIPE...) are fetched and ignored.
 *
 * - SIGTERM, SIGINT or SIGPWR stop the subhost: SIGTERM and SIGCONT to
 *   every process of the namespace (kill(-1) from a namespace's init
 *   never reaches outside it; that is why we refuse to run unless we are
 *   pid 1), a grace period on CLOCK_MONOTONIC, then SIGKILL.  We exit as
 *   soon as nothing is left instead of sleeping out the grace period.
 *   Processes that joined the namespace with setns() are not our children
 *   and send us no SIGCHLD, so while stopping we poll kill(-1, 0) for them.
 *   Once we exit, the kernel SIGKILLs whatever is left in the namespace.
 *
 * - "-r FD" writes "ready\n" to FD once the signals are set up, and closes
 *   it.  The supervisor takes a missing "ready" for a failed boot and
 *   cleans up, so if it cannot be written the reaper exits (status 1)
 *   rather than leave a subhost nobody knows about.
 *
 * - It lives as long as the subhost, so it is static, small (tests check
 *   <= 16 KiB) and allocation-free: no malloc, no stdio.  The budget is
 *   really 4 KiB of code: ld gives text, rodata and data a page each, and
 *   one more page of text makes 17 KiB.  musl's own start-up takes half
 *   of it, so libc wrappers that cost more than the call (clock_gettime's
 *   vDSO lookup, sigaction, close, waitpid, sigtimedwait) are replaced by
 *   syscall(2).  Check `size` when changing anything here.
 *
 * - Exit status: 0 when it was stopped and everything ended,
 *   1 when a system call failed, 2 on a usage error or when not pid 1.
 *   Messages go to stderr as "reaper: what: why".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define USAGE "usage: reaper [-t SECONDS] [-r FD] [-k]\n"
#define SEC 1000000000LL
#define POLL (SEC / 20) /* how often to look for non-children when stopping */

static char buf[256];
static unsigned blen;

static void put(const char *s)
{
	while (s && *s && blen < sizeof buf - 1)
		buf[blen++] = *s++;
}

/* "reaper: A[B][: strerror(E)]\n" on stderr, in one write. */
static void say(const char *a, const char *b, int e)
{
	blen = 0;
	put("reaper: ");
	put(a);
	put(b);
	if (e) {
		put(": ");
		put(strerror(e));
	}
	buf[blen++] = '\n';
	(void)!write(2, buf, blen); /* nowhere left to complain */
}

__attribute__((noinline)) static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* A decimal number in [0, 2^31); -1 when s is not one. */
static long parse(const char *s)
{
	long n = 0;

	if (!s || !*s)
		return -1;
	do {
		if (*s < '0' || *s > '9' || n > 99999999)
			return -1;
		n = n * 10 + (*s - '0');
	} while (*++s);
	return n;
}

/* 32-bit systems with a 64-bit time_t take the *_time64 calls. */
#ifdef SYS_clock_gettime64
#define SYS_CLOCK_GETTIME SYS_clock_gettime64
#define SYS_SIGTIMEDWAIT SYS_rt_sigtimedwait_time64
#else
#define SYS_CLOCK_GETTIME SYS_clock_gettime
#define SYS_SIGTIMEDWAIT SYS_rt_sigtimedwait
#endif

/* waitpid(-1, 0, WNOHANG) without the libc wrapper where we can */
#ifdef SYS_wait4
#define WAIT_ANY_NOHANG() ((pid_t)syscall(SYS_wait4, -1, 0, WNOHANG, 0))
#else
#define WAIT_ANY_NOHANG() waitpid(-1, 0, WNOHANG)
#endif

static int fail(const char *what)
{
	say(what, 0, errno);
	return 1;
}

static long long now(void)
{
	struct timespec t;

	if (syscall(SYS_CLOCK_GETTIME, CLOCK_MONOTONIC, &t) < 0)
		_exit(fail("clock_gettime(CLOCK_MONOTONIC)"));
	return t.tv_sec * SEC + t.tv_nsec;
}

static void kill_all(int sig, const char *name)
{
	/* ESRCH: nobody but us in the namespace. */
	if (kill(-1, sig) < 0 && errno != ESRCH)
		say("kill(-1, ", name, errno);
}

int main(int argc, char **argv)
{
	long timeout = 10, fd = -1;
	const char *fdarg = 0;
	int phase = 0, i; /* phase 1: SIGTERM sent, 2: SIGKILL */
	long long deadline = 0;
	sigset_t all;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (same(a, "--help")) {
			static const char h[] = USAGE
				"Pid 1 of a subhost: reaps every process, runs until it is stopped.\n"
				"On SIGTERM, SIGINT or SIGPWR: SIGTERM to all, wait, SIGKILL, exit.\n"
				"  -t SECONDS  grace period before SIGKILL (default 10)\n"
				"  -r FD       write \"ready\\n\" to FD once running, then close it\n"
				"  -k          accepted for compatibility (it always keeps running)\n";
			return write(1, h, sizeof h - 1) != sizeof h - 1;
		}
		if (same(a, "--version"))
			return write(1, "reaper 0.1\n", 11) != 11;
		if (a[0] == '-' && a[1] == 'k' && !a[2])
			continue; /* the default now: never exit unless stopped */
		if (a[0] == '-' && (a[1] == 't' || a[1] == 'r')) {
			const char *v = a[2] ? a + 2 : argv[++i];
			long n = parse(v);
			if (n >= 0) {
				if (a[1] == 'r')
					fd = n, fdarg = v;
				else
					timeout = n;
				continue;
			}
			a = "missing or bad number after -t or -r";
		}
		say("bad usage: ", a, 0);
		(void)!write(2, USAGE, sizeof USAGE - 1);
		return 2;
	}

	if (getpid() != 1) {
		say("not pid 1: refusing to run, as kill(-1) outside a pid "
		    "namespace would hit the whole host", 0, 0);
		return 2;
	}

	/*
	 * Block everything, then give SIGCHLD its default action: an
	 * inherited SIG_IGN would make the kernel reap our children and send
	 * no SIGCHLD.  (Other blocked signals stay pending even when ignored.)
	 * An all-zero kernel sigaction is SIG_DFL, no flags, empty mask, on
	 * every arch.
	 */
	static const unsigned long dfl[8];

	sigfillset(&all);
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, 0, _NSIG / 8) < 0)
		return fail("sigprocmask");
	if (syscall(SYS_rt_sigaction, SIGCHLD, dfl, 0, _NSIG / 8) < 0)
		return fail("sigaction(SIGCHLD, SIG_DFL)");

	if (fd >= 0) {
		/* No subhost without a supervisor that knows it is up. */
		if (write((int)fd, "ready\n", 6) != 6 ||
		    syscall(SYS_close, (int)fd) < 0) {
			say("-r ", fdarg, errno);
			return 1;
		}
	}

	for (;;) {
		struct timespec ts, *tp = 0;
		int sig, children;
		pid_t p;

		while ((p = WAIT_ANY_NOHANG()) > 0)
			;
		children = p == 0;
		if (p < 0 && errno != ECHILD)
			return fail("waitpid");

		if (phase) {
			long long t, left;

			/* After SIGKILL our exit takes down any stray. */
			if (!children &&
			    (phase > 1 || (kill(-1, 0) < 0 && errno == ESRCH)))
				return 0;
			t = now();
			left = deadline - t;
			if (left <= 0) {
				if (phase == 1)
					say("grace period over: SIGKILL", 0, 0);
				phase = 2;
				/* Again every second: a fork may have raced it. */
				kill_all(SIGKILL, "SIGKILL)");
				left = SEC;
				deadline = t + left;
			}
			if (!children && left > POLL)
				left = POLL;
			ts.tv_sec = (time_t)(left / SEC);
			ts.tv_nsec = (long)(left % SEC);
			tp = &ts;
		}

		sig = (int)syscall(SYS_SIGTIMEDWAIT, &all, 0, tp, _NSIG / 8);
		if (sig < 0 && errno != EAGAIN && errno != EINTR)
			return fail("sigtimedwait");
		if (!phase && (sig == SIGTERM || sig == SIGINT || sig == SIGPWR)) {
			phase = 1;
			say(sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGPWR",
			    ": stopping everything, SIGKILL after the grace period", 0);
			kill_all(SIGTERM, "SIGTERM)");
			kill_all(SIGCONT, "SIGCONT)");
			deadline = now() + timeout * SEC;
		}
		/* SIGCHLD: reaped at the top of the loop; others: ignored. */
	}
}
