/*
 * clean-root — remove from an overlay's upper layer every entry that does
 * not change the merged view.  The core of overlay-clean-root, which
 * checks that the subhost is stopped and mounts disk-image layers first.
 *
 *     clean-root [-n] [-v] UPPER LOWER[:LOWER...]
 *
 * An entry of UPPER goes when the merged view shows the same thing without
 * it, that is when the lower layers have, at the same path:
 *
 * - for a regular file: a regular file with the same mode, owner, size,
 *   extended attributes and content (time stamps do not count);
 * - for a symbolic link: a link with the same target, owner and xattrs;
 * - for a fifo, socket or device: the same type, device number, mode,
 *   owner and xattrs;
 * - for a directory: a directory with the same mode, owner and xattrs, and
 *   the upper one is empty once its own entries have been dealt with.
 *
 * overlayfs' own attributes (trusted.overlay.*, and user.overlay.* that a
 * subhost with its own user namespace writes) are not compared, but an
 * entry that carries one that changes what the merged view shows
 * (opaque, redirect, metacopy, whiteout) is never touched, nor is anything
 * below an opaque or redirected directory (the lower layers do not show
 * through there).  Whiteouts (0/0 character devices) are never touched.
 *
 * Why it is built this way:
 *
 * - Speed on a large UPPER: one pass over UPPER with *at() calls relative
 *   to open directories, no process per file, and the cheap checks first
 *   (type, mode, owner, size) so that only files that may be equal are
 *   opened and read.
 *
 * - The lower view must be the one overlayfs sees, which does not cross
 *   mount points (a LOWER of / does not contain /boot's own file system).
 *   A single layer is looked at through a non-recursive detached clone
 *   (open_tree(OPEN_TREE_CLONE)), several layers through a detached
 *   read-only overlay of them (fsopen/fsmount), so that whiteouts and
 *   opaque directories in the lower layers count as the kernel counts
 *   them.  UPPER is walked through a non-recursive clone too.  Detached
 *   mounts need no mount point and vanish with the process.  Without the
 *   new mount API (before Linux 5.2) plain directories are used, and any
 *   entry on another file system is left alone.
 *
 * - -n walks exactly the same way and only reports: a directory that
 *   would become empty is reported too.
 */
#include "mount-api.h"
#include "msg.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define XBUF (64 * 1024)	/* XATTR_LIST_MAX and XATTR_SIZE_MAX */
#define CBUF (128 * 1024)

const char *msg_prog = "overlay-clean-root";
static int dry_run, verbose;

/* Without the new mount API: stay on the file system of each root. */
static int check_dev;
static dev_t upper_dev, lower_dev;

static struct {
	uint64_t files, links, dirs, other, bytes;
} removed;

/* ------------------------------------------------------------------ path */

/* The path of the entry being looked at, relative to UPPER, for messages
 * and for -n; grown as needed. */
static char *path;
static size_t path_len, path_cap;

static size_t path_push(const char *name)
{
	size_t old = path_len, n = strlen(name);

	if (path_len + n + 2 > path_cap) {
		size_t cap = path_cap ? path_cap * 2 : 4096;
		char *p;

		while (cap < path_len + n + 2)
			cap *= 2;
		p = realloc(path, cap);
		if (!p)
			die("out of memory");
		path = p;
		path_cap = cap;
	}
	path[path_len++] = '/';
	memcpy(path + path_len, name, n + 1);
	path_len += n;
	return old;
}

static void path_pop(size_t old)
{
	path_len = old;
	path[path_len] = '\0';
}

/* ---------------------------------------------------------------- xattrs */

/* A /proc/self/fd path naming NAME in the directory DIRFD, for the l*xattr
 * calls on entries that cannot be opened (symlinks, devices). */
static char *fd_path(char *buf, size_t size, int dirfd, const char *name)
{
	if ((size_t)snprintf(buf, size, "/proc/self/fd/%d/%s", dirfd, name) >= size)
		return NULL;
	return buf;
}

/* overlay_special: is this one of overlayfs' attributes that changes what
 * the merged view shows? */
static int overlay_special(const char *n)
{
	static const char *const special[] = {
		"opaque", "redirect", "metacopy", "whiteout", "whiteouts",
	};
	const char *rest;

	if (strncmp(n, "trusted.overlay.", 16) == 0)
		rest = n + 16;
	else if (strncmp(n, "user.overlay.", 13) == 0)
		rest = n + 13;
	else
		return 0;
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (strcmp(rest, special[i]) == 0)
			return 1;
	return 0;
}

static int is_overlay_private(const char *n)
{
	return strncmp(n, "trusted.overlay.", 16) == 0 ||
	       strncmp(n, "user.overlay.", 13) == 0;
}

/* list_xattrs: the attribute names of FD (or of the entry at LPATH when FD
 * is -1), NUL separated in BUF.  Returns the length, or -1. */
static ssize_t list_xattrs(int fd, const char *lpath, char *buf)
{
	ssize_t n = fd >= 0 ? flistxattr(fd, buf, XBUF) : llistxattr(lpath, buf, XBUF);

	if (n < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
		return 0;
	return n;
}

static ssize_t get_xattr(int fd, const char *lpath, const char *name, char *buf)
{
	return fd >= 0 ? fgetxattr(fd, name, buf, XBUF) : lgetxattr(lpath, name, buf, XBUF);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* names: the compared attribute names of a list, sorted.  Sets *special
 * when the list holds an overlay attribute that forbids removal. */
static size_t names(char *list, ssize_t len, char **out, int *special)
{
	size_t n = 0;

	for (char *p = list; p < list + len; p += strlen(p) + 1) {
		if (overlay_special(p))
			*special = 1;
		if (is_overlay_private(p))
			continue;
		out[n++] = p;
	}
	qsort(out, n, sizeof(*out), cmp_str);
	return n;
}

/* xattrs_equal: 1 when the upper and lower entries have the same
 * attributes (overlay's own aside) and the upper one carries none that
 * changes the merged view; 0 when not; -1 on error (reported). */
static int xattrs_equal(int ufd, const char *upath, int lfd, const char *lpath)
{
	static char ulist[XBUF], llist[XBUF], uval[XBUF], lval[XBUF];
	static char *un[XBUF / 2], *ln[XBUF / 2];
	ssize_t ulen, llen;
	size_t nu, nl;
	int special = 0;

	ulen = list_xattrs(ufd, upath, ulist);
	if (ulen < 0) {
		warn("%s: cannot list extended attributes: %s", path, strerror(errno));
		return -1;
	}
	llen = list_xattrs(lfd, lpath, llist);
	if (llen < 0) {
		warn("%s: cannot list extended attributes in LOWER: %s", path, strerror(errno));
		return -1;
	}
	if (ulen == 0 && llen == 0)
		return 1;
	nu = names(ulist, ulen, un, &special);
	if (special)
		return 0;
	nl = names(llist, llen, ln, &special);
	if (nu != nl)
		return 0;
	for (size_t i = 0; i < nu; i++) {
		ssize_t a, b;

		if (strcmp(un[i], ln[i]) != 0)
			return 0;
		a = get_xattr(ufd, upath, un[i], uval);
		b = get_xattr(lfd, lpath, ln[i], lval);
		if (a < 0 || b < 0) {
			warn("%s: cannot read extended attribute %s: %s", path, un[i],
			     strerror(errno));
			return -1;
		}
		if (a != b || memcmp(uval, lval, (size_t)a) != 0)
			return 0;
	}
	return 1;
}

/* special_dir: does the upper directory FD carry opaque or redirect? */
static int special_dir(int fd)
{
	static char list[XBUF];
	ssize_t len = list_xattrs(fd, NULL, list);

	if (len < 0) {
		warn("%s: cannot list extended attributes: %s", path, strerror(errno));
		return 1;
	}
	for (char *p = list; p < list + len; p += strlen(p) + 1)
		if (overlay_special(p))
			return 1;
	return 0;
}

/* --------------------------------------------------------------- content */

static int open_file(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);

	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	return fd;
}

static ssize_t read_full(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* same_content: 1 equal, 0 different, -1 error (reported). */
static int same_content(int a, int b)
{
	static char ba[CBUF], bb[CBUF];

	for (;;) {
		ssize_t na = read_full(a, ba, CBUF), nb = read_full(b, bb, CBUF);

		if (na < 0 || nb < 0) {
			warn("%s: cannot read: %s", path, strerror(errno));
			return -1;
		}
		if (na != nb || memcmp(ba, bb, (size_t)na) != 0)
			return 0;
		if (na == 0)
			return 1;
	}
}

/* ------------------------------------------------------------------ walk */

static int same_meta(const struct stat *u, const struct stat *l)
{
	return u->st_mode == l->st_mode && u->st_uid == l->st_uid &&
	       u->st_gid == l->st_gid;
}

/* drop: remove NAME from the upper directory DIRFD (or report it). */
static int drop(int dirfd, const char *name, const struct stat *st)
{
	if (dry_run) {
		printf("%s\n", path);
	} else {
		if (unlinkat(dirfd, name, S_ISDIR(st->st_mode) ? AT_REMOVEDIR : 0) != 0) {
			warn("%s: cannot remove: %s", path, strerror(errno));
			return 0;
		}
		if (verbose)
			printf("removed %s\n", path);
	}
	if (S_ISDIR(st->st_mode) || st->st_nlink == 1)
		removed.bytes += (uint64_t)st->st_blocks * 512;
	if (S_ISREG(st->st_mode))
		removed.files++;
	else if (S_ISLNK(st->st_mode))
		removed.links++;
	else if (S_ISDIR(st->st_mode))
		removed.dirs++;
	else
		removed.other++;
	return 1;
}

static int regular_equal(int ufd, int lfd, const char *name)
{
	int uf, lf, r;

	uf = open_file(ufd, name);
	if (uf < 0) {
		warn("%s: cannot open: %s", path, strerror(errno));
		return 0;
	}
	lf = open_file(lfd, name);
	if (lf < 0) {
		warn("%s: cannot open in LOWER: %s", path, strerror(errno));
		close(uf);
		return 0;
	}
	r = xattrs_equal(uf, NULL, lf, NULL);
	if (r == 1)
		r = same_content(uf, lf);
	close(uf);
	close(lf);
	return r == 1;
}

static int symlink_equal(int ufd, int lfd, const char *name, const struct stat *us)
{
	char *a, *b, up[64 + 4096], lp[64 + 4096];
	size_t n = (size_t)us->st_size + 1;
	ssize_t na, nb;
	int r = 0;

	a = malloc(n + 1);
	b = malloc(n + 1);
	if (!a || !b)
		die("out of memory");
	na = readlinkat(ufd, name, a, n + 1);
	nb = readlinkat(lfd, name, b, n + 1);
	if (na < 0 || nb < 0)
		warn("%s: cannot read link: %s", path, strerror(errno));
	else if (na == nb && (size_t)na <= n && memcmp(a, b, (size_t)na) == 0) {
		if (!fd_path(up, sizeof(up), ufd, name) || !fd_path(lp, sizeof(lp), lfd, name))
			r = 0;
		else
			r = xattrs_equal(-1, up, -1, lp) == 1;
	}
	free(a);
	free(b);
	return r;
}

static int other_equal(int ufd, int lfd, const char *name)
{
	char up[64 + 4096], lp[64 + 4096];

	if (!fd_path(up, sizeof(up), ufd, name) || !fd_path(lp, sizeof(lp), lfd, name))
		return 0;
	return xattrs_equal(-1, up, -1, lp) == 1;
}

/* walk: deal with the entries of the upper directory UFD, whose lower
 * counterpart is the directory LFD.  Returns how many entries stay. */
static uint64_t walk(int ufd, int lfd)
{
	uint64_t left = 0;
	struct dirent *e;
	DIR *d;
	int rfd;

	rfd = openat(ufd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0 || !(d = fdopendir(rfd))) {
		warn("%s: cannot read directory: %s", path[0] ? path : "/", strerror(errno));
		if (rfd >= 0)
			close(rfd);
		return 1;
	}
	while ((errno = 0, e = readdir(d))) {
		const char *name = e->d_name;
		struct stat us, ls;
		size_t mark;
		int gone = 0;

		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		mark = path_push(name);
		if (fstatat(ufd, name, &us, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT) {
				warn("%s: %s", path, strerror(errno));
				left++;
			}
			path_pop(mark);
			continue;
		}
		if ((check_dev && us.st_dev != upper_dev) ||
		    (S_ISCHR(us.st_mode) && us.st_rdev == 0) ||
		    fstatat(lfd, name, &ls, AT_SYMLINK_NOFOLLOW) != 0 ||
		    (check_dev && ls.st_dev != lower_dev) ||
		    (us.st_mode & S_IFMT) != (ls.st_mode & S_IFMT)) {
			/* another file system, a whiteout, new, or another type */
			left++;
			path_pop(mark);
			continue;
		}
		switch (us.st_mode & S_IFMT) {
		case S_IFDIR: {
			int cu, cl;

			cu = openat(ufd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cu < 0) {
				warn("%s: cannot open: %s", path, strerror(errno));
				break;
			}
			if (special_dir(cu)) {
				close(cu);
				break;
			}
			cl = openat(lfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cl < 0) {
				warn("%s: cannot open in LOWER: %s", path, strerror(errno));
				close(cu);
				break;
			}
			if (walk(cu, cl) == 0 && same_meta(&us, &ls) &&
			    xattrs_equal(cu, NULL, cl, NULL) == 1)
				gone = drop(ufd, name, &us);
			close(cu);
			close(cl);
			break;
		}
		case S_IFREG:
			if (same_meta(&us, &ls) && us.st_size == ls.st_size &&
			    regular_equal(ufd, lfd, name))
				gone = drop(ufd, name, &us);
			break;
		case S_IFLNK:
			if (us.st_uid == ls.st_uid && us.st_gid == ls.st_gid &&
			    us.st_size == ls.st_size && symlink_equal(ufd, lfd, name, &us))
				gone = drop(ufd, name, &us);
			break;
		default:
			if (same_meta(&us, &ls) && us.st_rdev == ls.st_rdev &&
			    other_equal(ufd, lfd, name))
				gone = drop(ufd, name, &us);
			break;
		}
		if (!gone)
			left++;
		path_pop(mark);
	}
	if (errno) {
		warn("%s: cannot read directory: %s", path[0] ? path : "/", strerror(errno));
		left++;
	}
	closedir(d);
	return left;
}

/* ----------------------------------------------------------------- setup */

/* clone_tree: a detached, non-recursive clone of DIR, or a plain
 * directory fd (and check_dev) without the new mount API. */
static int clone_tree(const char *dir, const char *what)
{
	int fd = open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno != ENOSYS)
		die("%s %s: %s", what, dir, strerror(errno));
	check_dev = 1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die("%s %s: %s", what, dir, strerror(errno));
	return fd;
}

/* lower_overlay: a detached read-only overlay of the LAYERS. */
static int lower_overlay(const char *layers)
{
	int fs, mnt;

	fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0) {
		if (errno == ENOSYS)
			die("several LOWER layers need the new mount API (Linux 5.2 or later)");
		die("cannot open an overlay file system: %s", strerror(errno));
	}
	if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", layers, 0) != 0)
		die("LOWER %s: %s", layers, strerror(errno));
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0)
		die("cannot make an overlay of LOWER %s: %s", layers, strerror(errno));
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
	if (mnt < 0)
		die("cannot mount an overlay of LOWER %s: %s", layers, strerror(errno));
	close(fs);
	return mnt;
}

static int open_root(int fd, const char *dir, dev_t *dev)
{
	struct stat st;
	int d = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (d < 0 || fstat(d, &st) != 0)
		die("%s: %s", dir, strerror(errno));
	*dev = st.st_dev;
	close(fd);
	return d;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	int opt, ufd, lfd;

	opterr = 0;	/* one line, ours */
	while ((opt = getopt(argc, argv, "nv")) != -1) {
		switch (opt) {
		case 'n':
			dry_run = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			die_usage("unknown option -%c; usage: clean-root [-n] [-v] "
				  "UPPER LOWER[:LOWER...]", optopt);
		}
	}
	if (argc - optind != 2)
		die_usage("usage: clean-root [-n] [-v] UPPER LOWER[:LOWER...]");
	/* Two directories per level of the tree stay open. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	path_push("");
	path_pop(0);

	ufd = open_root(clone_tree(argv[optind], "UPPER"), argv[optind], &upper_dev);
	if (strchr(argv[optind + 1], ':'))
		lfd = lower_overlay(argv[optind + 1]);
	else
		lfd = clone_tree(argv[optind + 1], "LOWER");
	lfd = open_root(lfd, argv[optind + 1], &lower_dev);

	/* An opaque UPPER hides every lower layer: nothing can go. */
	if (special_dir(ufd))
		die("UPPER %s carries an overlayfs attribute (opaque or redirect): "
		    "nothing in it can be removed", argv[optind]);
	walk(ufd, lfd);

	printf("%s %" PRIu64 " entries (%" PRIu64 " files, %" PRIu64 " symlinks, %"
	       PRIu64 " directories, %" PRIu64 " other), %" PRIu64 " bytes %s\n",
	       dry_run ? "would remove" : "removed",
	       removed.files + removed.links + removed.dirs + removed.other,
	       removed.files, removed.links, removed.dirs, removed.other,
	       removed.bytes, dry_run ? "to free" : "freed");
	if (warnings) {
		warn("%u entries could not be checked or removed (kept)",
		     warnings);
		return EXIT_FAIL;
	}
	return 0;
}
