/*
 * upper-xattrs — make an overlay UPPER directory serve the mode it is about
 * to be mounted in.  Run by overlay-boot as root, on an UPPER that is not
 * mounted.
 *
 *     upper-xattrs UPPER user|trusted
 *     upper-xattrs --mode UPPER    (prints user, trusted or partial)
 *
 * An overlay mounted by the host's root keeps its markers (opaque
 * directories, redirects, origins, ...) in trusted.overlay.* attributes;
 * one mounted inside a user namespace (USERNS=yes, option userxattr) keeps
 * them in user.overlay.* and ignores the trusted ones.  Whiteouts are
 * character devices 0/0 in both, owned by 0 on disk in both (the layers
 * of a user namespace are idmapped), so they need nothing.  The form an
 * UPPER is in is recorded on its top directory: trusted.overlay-boot.xattrs
 * is "user" for the user form, and absent for the trusted form, which is
 * what upstream overlay-boot and any root-mounted overlay leave.  A boot
 * in the mode the UPPER is in reads that one attribute and walks nothing.
 *
 * The record is safe where it lives: a subhost's root in a user namespace
 * can neither read nor write trusted.* attributes, and a root without one
 * (USERNS=no) who removes it only says what is true in that mode.
 *
 * While a walk runs the record says "to-user" or "to-trusted"; a walk
 * that was interrupted is resumed by the next boot, moving the markers
 * only (a user's own user.overlay.* attribute on a file the interrupted
 * walk did not reach may then be read as a marker: nobody sets those).
 *
 * A user's own attributes keep their meaning: the overlay escapes an
 * attribute that looks like one of its markers (a user setting
 * trusted.overlay.X on a file, root mode, is stored as
 * trusted.overlay.overlay.X; user.overlay.X in the user form as
 * user.overlay.overlay.X).  To the user form, plain user.overlay.X become
 * user.overlay.overlay.X and markers trusted.overlay.X become
 * user.overlay.X; escaped trusted.overlay.overlay.X stay (nobody in a user
 * namespace can see trusted.* anyway).  Back, the reverse.  user.*
 * attributes exist only on files and directories: a marker on a symbolic
 * link or a device (an origin, which only keeps inode numbers stable) is
 * dropped on the way to the user form.
 */
#include "msg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

const char *msg_prog = "upper-xattrs";

#define MARK "trusted.overlay-boot.xattrs"
#define T_PRE "trusted.overlay."
#define U_PRE "user.overlay."
#define ESC "overlay."

static bool to_user;
static bool resume;	/* an interrupted walk: markers only */
static dev_t top_dev;
static unsigned long changed;

static bool starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* Move attribute FROM of PATH to TO (same value); TO NULL drops it. */
static void move(const char *path, const char *shown, const char *from,
		 const char *to)
{
	char *v = NULL;
	ssize_t n = lgetxattr(path, from, NULL, 0);

	if (n < 0)
		die("%s: reading %s: %s", shown, from, strerror(errno));
	if (to) {
		v = malloc(n ? (size_t)n : 1);
		if (!v)
			die("out of memory");
		n = lgetxattr(path, from, v, (size_t)n);
		if (n < 0)
			die("%s: reading %s: %s", shown, from, strerror(errno));
		if (lsetxattr(path, to, v, (size_t)n, 0) < 0)
			die("%s: writing %s: %s", shown, to, strerror(errno));
		free(v);
	}
	if (lremovexattr(path, from) < 0)
		die("%s: removing %s: %s", shown, from, strerror(errno));
	changed++;
}

/* Convert the attributes of PATH (a /proc/self/fd path; SHOWN for
 * messages), whose type is MODE. */
static void convert(const char *path, const char *shown, mode_t mode)
{
	char *list, *p, *end, name[XATTR_NAME_MAX + 32];
	bool user_ok = S_ISREG(mode) || S_ISDIR(mode);
	ssize_t n = llistxattr(path, NULL, 0);

	if (n < 0) {
		if (errno == ENOTSUP)
			return;
		die("%s: listing attributes: %s", shown, strerror(errno));
	}
	if (n == 0)
		return;
	list = malloc((size_t)n + 1);
	if (!list)
		die("out of memory");
	n = llistxattr(path, list, (size_t)n);
	if (n < 0)
		die("%s: listing attributes: %s", shown, strerror(errno));
	list[n] = '\0';
	end = list + n;
	/* two passes over the list as it was: first what moves out of the
	 * way (escapes or markers leaving the namespace the other pass fills) */
	for (int pass = 0; pass < 2; pass++) {
		if (resume && pass == (to_user ? 0 : 1))
			continue;
		for (p = list; p < end; p += strlen(p) + 1) {
			if (to_user) {
				if (pass == 0 && starts(p, U_PRE)) {
					snprintf(name, sizeof name, U_PRE ESC "%s",
						 p + strlen(U_PRE));
					move(path, shown, p, name);
				} else if (pass == 1 && starts(p, T_PRE) &&
					   !starts(p, T_PRE ESC)) {
					snprintf(name, sizeof name, U_PRE "%s",
						 p + strlen(T_PRE));
					move(path, shown, p, user_ok ? name : NULL);
				}
			} else {
				if (pass == 0 && starts(p, U_PRE) &&
				    !starts(p, U_PRE ESC)) {
					snprintf(name, sizeof name, T_PRE "%s",
						 p + strlen(U_PRE));
					move(path, shown, p, name);
				} else if (pass == 1 && starts(p, U_PRE ESC)) {
					snprintf(name, sizeof name, U_PRE "%s",
						 p + strlen(U_PRE ESC));
					move(path, shown, p, name);
				}
			}
		}
	}
	free(list);
}

static void walk(int dir, const char *shown)
{
	DIR *d;
	struct dirent *de;
	int fd = dup(dir);

	if (fd < 0 || !(d = fdopendir(fd)))
		die("%s: %s", shown, strerror(errno));
	while ((errno = 0, de = readdir(d))) {
		char path[64 + 256], *sub;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			die("%s/%s: %s", shown, de->d_name, strerror(errno));
		if (st.st_dev != top_dev)
			die("%s/%s: a mount point in UPPER (is it mounted?)", shown,
			    de->d_name);
		snprintf(path, sizeof path, "/proc/self/fd/%d/%s", dir, de->d_name);
		if (asprintf(&sub, "%s/%s", shown, de->d_name) < 0)
			die("out of memory");
		convert(path, sub, st.st_mode);
		if (S_ISDIR(st.st_mode)) {
			int c = openat(dir, de->d_name, O_RDONLY | O_DIRECTORY |
				       O_NOFOLLOW | O_CLOEXEC);

			if (c < 0)
				die("%s: %s", sub, strerror(errno));
			walk(c, sub);
			close(c);
		}
		free(sub);
	}
	if (errno)
		die("%s: reading the directory: %s", shown, strerror(errno));
	closedir(d);
}

/* The form UPPER (open as TOP) is in: "user" or "trusted". */
static const char *form(int top, const char *upper)
{
	char v[16];
	ssize_t n = fgetxattr(top, MARK, v, sizeof v - 1);

	if (n < 0) {
		if (errno == ENODATA || errno == ENOTSUP)
			return "trusted";
		die("%s: reading %s: %s", upper, MARK, strerror(errno));
	}
	v[n] = '\0';
	if (strcmp(v, "user") == 0)
		return "user";
	if (strcmp(v, "to-user") == 0 || strcmp(v, "to-trusted") == 0)
		return "partial";
	die("%s: %s is '%s', not 'user'", upper, MARK, v);
}

int main(int argc, char **argv)
{
	const char *upper, *want, *now;
	char path[64];
	struct stat st;
	int top;

	if (argc == 3 && strcmp(argv[1], "--mode") == 0) {
		upper = argv[2];
		want = NULL;
	} else if (argc == 3 && (strcmp(argv[2], "user") == 0 ||
				 strcmp(argv[2], "trusted") == 0)) {
		upper = argv[1];
		want = argv[2];
	} else {
		die_usage("usage: upper-xattrs UPPER user|trusted, "
			  "or upper-xattrs --mode UPPER");
	}
	top = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top < 0)
		die("%s: %s", upper, strerror(errno));
	now = form(top, upper);
	if (!want) {
		puts(now);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (strcmp(now, want) == 0)
		return 0;
	if (geteuid() != 0)
		die("must be run as root");
	if (fstat(top, &st) < 0)
		die("%s: %s", upper, strerror(errno));
	top_dev = st.st_dev;
	to_user = strcmp(want, "user") == 0;
	resume = strcmp(now, "partial") == 0;
	if (fsetxattr(top, MARK, to_user ? "to-user" : "to-trusted",
		      to_user ? 7 : 10, 0) < 0)
		die("%s: recording the walk: %s", upper, strerror(errno));
	snprintf(path, sizeof path, "/proc/self/fd/%d", top);
	convert(path, upper, st.st_mode);
	walk(top, upper);
	/* recorded last: an interrupted walk is resumed */
	if (to_user ? fsetxattr(top, MARK, "user", 4, 0) < 0 :
	    fremovexattr(top, MARK) < 0)
		die("%s: recording the %s form: %s", upper, want, strerror(errno));
	if (changed)
		fprintf(stderr, "%s: %s: %lu overlay attributes moved to the %s form\n",
			msg_prog, upper, changed, want);
	return 0;
}
