/*
 * orphans: make N short-lived orphans for the pid 1 under test to reap.
 * Each round forks a child that forks a grandchild and exits at once; the
 * grandchild exits too and, being an orphan, is reparented to pid 1 of
 * the namespace, which must reap it.  The namespace (and the timing in
 * bench/pid1.sh) ends only when every one of them is gone.
 *
 *   orphans N
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;

	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			fprintf(stderr, "orphans: fork: %s\n", strerror(errno));
			return 1;
		}
		if (pid == 0) {
			if (fork() < 0)
				_exit(1);
			_exit(0);
		}
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	return 0;
}
