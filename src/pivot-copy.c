/* pivot-copy: copy a directory tree (the -o copyfrom= option). */
#include "pivot-copy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pivot-utils.h"

#define MAX_DEPTH 128

static void copy_file(int sfd, int dfd, const char *what, const char *name)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(sfd, buf, sizeof buf);
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die_err(errno, "%s: reading %s", what, name);
		}
		if (n == 0)
			break;
		r = pv_write_all(dfd, buf, (size_t)n);
		if (r < 0)
			die_err(-r, "%s: writing %s", what, name);
	}
}

static void copy_dir(bool root, int from, int to, const char *what, int depth)
{
	int rfd, nfd;
	DIR *d;
	struct dirent *e;

	if (depth > MAX_DEPTH)
		die("%s: directory tree deeper than %d", what, MAX_DEPTH);
	rfd = openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		die_err(errno, "%s: opening a directory", what);
	nfd = fcntl(rfd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		die_err(errno, "%s: dup", what);
	d = fdopendir(nfd);
	if (!d)
		die_err(errno, "%s: fdopendir", what);
	while ((errno = 0, e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		struct stat st;
		mode_t mode;

		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (fstatat(rfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			die_err(errno, "%s: %s", what, n);
		mode = st.st_mode & (root ? 07777 : 01777);
		if (S_ISDIR(st.st_mode)) {
			int s, t;

			if (mkdirat(to, n, 0700) < 0 && errno != EEXIST)
				die_err(errno, "%s: mkdir %s", what, n);
			s = openat(rfd, n, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			t = openat(to, n, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s < 0 || t < 0)
				die_err(errno, "%s: %s", what, n);
			copy_dir(root, s, t, what, depth + 1);
			if (fchmodat(to, n, mode, 0) < 0)
				die_err(errno, "%s: chmod %s", what, n);
			close(s);
			close(t);
		} else if (S_ISREG(st.st_mode)) {
			int s = openat(rfd, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			int t;

			if (s < 0)
				die_err(errno, "%s: %s", what, n);
			/* never over a file the upper layer has: it is the
			 * newer content (copyfrom fills, it does not reset) */
			t = openat(to, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				   O_CLOEXEC, 0600);
			if (t < 0 && errno == EEXIST) {
				close(s);
				continue;
			}
			if (t < 0)
				die_err(errno, "%s: creating %s", what, n);
			copy_file(s, t, what, n);
			if (fchmod(t, mode) < 0)
				die_err(errno, "%s: chmod %s", what, n);
			if (close(t) < 0)
				die_err(errno, "%s: writing %s", what, n);
			close(s);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4097];
			ssize_t l = readlinkat(rfd, n, target, sizeof target - 1);

			if (l < 0)
				die_err(errno, "%s: readlink %s", what, n);
			target[l] = '\0';
			if (symlinkat(target, to, n) < 0 && errno != EEXIST)
				die_err(errno, "%s: symlink %s", what, n);
		}
		/* devices, fifos and sockets are not copied */
	}
	if (errno)
		die_err(errno, "%s: readdir", what);
	closedir(d);
	close(rfd);
}

void pv_copy_tree(bool root, int from, int to, const char *what)
{
	copy_dir(root, from, to, what, 0);
}
