#include "msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void (*die_hook)(void);
unsigned warnings;

static void run_die_hook(void)
{
	void (*h)(void) = die_hook;

	die_hook = NULL;	/* a hook that dies does not loop */
	if (h)
		h();
}

static void vmsg(int err, const char *fmt, va_list ap)
{
	char buf[8192];
	int n = vsnprintf(buf, sizeof buf, fmt, ap);

	if (n < 0)
		buf[0] = '\0';
	/* One line, always: the message may quote a name someone else chose
	 * (a path, a subhost's file). */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = '?';
	if (err)
		fprintf(stderr, "%s: %s: %s\n", msg_prog, buf, strerror(err));
	else
		fprintf(stderr, "%s: %s\n", msg_prog, buf);
	fflush(stderr);
}

/* _exit, not exit: die may run in a forked child, which must not run
 * exit handlers meant for the parent. Standard output is flushed so that
 * what was printed before a failure is kept (clean-root -n); none of
 * these programs forks with output pending there. */
__attribute__((noreturn))
static void leave(int status)
{
	fflush(stdout);
	_exit(status);
}

void die(const char *fmt, ...)
{
	va_list ap;

	run_die_hook();
	va_start(ap, fmt);
	vmsg(0, fmt, ap);
	va_end(ap);
	leave(EXIT_FAIL);
}

void die_err(int err, const char *fmt, ...)
{
	va_list ap;

	run_die_hook();
	va_start(ap, fmt);
	vmsg(err, fmt, ap);
	va_end(ap);
	leave(EXIT_FAIL);
}

void die_usage(const char *fmt, ...)
{
	va_list ap;

	run_die_hook();
	va_start(ap, fmt);
	vmsg(0, fmt, ap);
	va_end(ap);
	leave(EXIT_USAGE);
}

void warn(const char *fmt, ...)
{
	va_list ap;

	warnings++;
	va_start(ap, fmt);
	vmsg(0, fmt, ap);
	va_end(ap);
}
