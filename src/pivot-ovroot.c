/* pivot-ovroot: the ovroot personality, expressed as overlay-pivot options.
 *
 *   ovroot [-r ROOT] OVERLAYDIR [COMMAND...]
 *
 * becomes, for a root caller, for ROOT and every filesystem mounted below
 * it (from the caller's /proc/self/mountinfo), an --overlay with its own
 * upper layer:
 *
 *   ROOT itself       OVERLAYDIR/layer, OVERLAYDIR/work
 *   ROOT/P (a mount)  OVERLAYDIR/mounts/ENC(P)/layer, .../work
 *
 * and for any other caller one --overlay of ROOT, with everything mounted
 * below it, on OVERLAYDIR/layer and OVERLAYDIR/work (fuse-overlayfs);
 * then /dev, /proc, /sys and /run of the host (a root caller gets the
 * host's /dev; any other caller a minimal one, as --dev gives). */
#include "pivot-ovroot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pivot-caller.h"
#include "pivot-utils.h"

struct mnt {
	char *path;	/* absolute mount point */
	char *fstype;
};

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape_octal(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' &&
		    r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) |
				      (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* Is PATH equal to or below DIR? */
static bool below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool special_fs(const char *t)
{
	static const char *const skip[] = {
		"proc", "sysfs", "devtmpfs", "devpts", "mqueue", "nsfs", "autofs",
		"binfmt_misc", "bpf", "tracefs", "debugfs", "securityfs",
		"configfs", "pstore", "efivarfs", "cgroup", "cgroup2", "fusectl",
		"hugetlbfs", "rpc_pipefs", "nfsd", NULL
	};

	for (size_t i = 0; skip[i]; i++)
		if (strcmp(t, skip[i]) == 0)
			return true;
	return false;
}

static struct mnt *read_mounts(size_t *count)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	struct mnt *v = NULL;
	size_t n = 0;
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		die_err(errno, "reading /proc/self/mountinfo");
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL, *field[5], *sep, *fstype;
		int k = 0;

		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - TYPE ..."
		 * (spaces inside fields are escaped, so " - " is the separator) */
		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		fstype = sep + 3;
		fstype[strcspn(fstype, " \n")] = '\0';
		for (char *t = strtok_r(line, " ", &save); t;
		     t = strtok_r(NULL, " ", &save)) {
			field[k++] = t;
			if (k == 5)
				break;
		}
		if (k < 5)
			continue;
		unescape_octal(field[4]);
		/* a later mount on the same path covers the earlier one */
		size_t i;

		for (i = 0; i < n; i++)
			if (strcmp(v[i].path, field[4]) == 0)
				break;
		if (i == n) {
			struct mnt *nv = realloc(v, (n + 1) * sizeof *v);

			if (!nv)
				die_err(ENOMEM, "mountinfo");
			v = nv;
			n++;
			v[i].path = pv_xstrdup(field[4]);
		} else {
			free(v[i].fstype);
		}
		v[i].fstype = pv_xstrdup(fstype);
	}
	if (ferror(f))
		die_err(errno, "reading /proc/self/mountinfo");
	fclose(f);
	free(line);
	*count = n;
	return v;
}

static int cmp_mnt(const void *a, const void *b)
{
	return strcmp(((const struct mnt *)a)->path, ((const struct mnt *)b)->path);
}

/* Encode a relative mount path as one directory name. */
static char *encode(const char *rel)
{
	char *out = pv_xmalloc(strlen(rel) * 3 + 1), *w = out;

	for (const unsigned char *p = (const unsigned char *)rel; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-')
			*w++ = (char)*p;
		else
			w += sprintf(w, "%%%02X", *p);
	}
	*w = '\0';
	return out;
}

static void add_op(struct pv_config *cfg, enum pv_op_type type, const char *src,
		   const char *dst, const char *dir)
{
	struct pv_op *ops = realloc(cfg->ops, (cfg->nops + 1) * sizeof *ops);

	if (!ops)
		die_err(ENOMEM, "ovroot");
	cfg->ops = ops;
	memset(&ops[cfg->nops], 0, sizeof *ops);
	ops[cfg->nops].type = type;
	ops[cfg->nops].src = src;
	ops[cfg->nops].dst = dst;
	ops[cfg->nops].dir = dir;
	cfg->nops++;
}

/* mkdir as the caller, ignoring EEXIST. */
static void mkdir_caller(const char *path)
{
	if (caller_mkdir(path, 0755) < 0 && errno != EEXIST)
		die_err(errno, "mkdir %s", path);
}

/* Absolute, symlink-free form of P, resolved as the caller. */
static char *real_as_caller(const struct pv_privs *pr, const char *what,
			    const char *p)
{
	char *r = caller_realpath(p);

	if (!r) {
		if (!pr->root)
			die("%s %s: does not exist or is not readable by you", what, p);
		die_err(errno, "%s %s", what, p);
	}
	return r;
}

/* OVERLAYDIR, checked before anything is made in it: an existing one must
 * be a directory of the caller's (a non-root caller); a missing one is
 * made, as the caller. Returns its absolute, symlink-free path. */
static char *overlaydir(const struct pv_privs *pr, const char *p)
{
	struct stat st;
	int fd;

	fd = caller_open(p, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0 && errno == ENOENT) {
		mkdir_caller(p);
		fd = caller_open(p, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	}
	if (fd < 0) {
		if (errno == ENOTDIR)
			die("OVERLAYDIR %s: not a directory", p);
		if (!pr->root)
			die("OVERLAYDIR %s: does not exist or is not readable by you",
			    p);
		die_err(errno, "OVERLAYDIR %s", p);
	}
	if (fstat(fd, &st) < 0)
		die_err(errno, "OVERLAYDIR %s", p);
	close(fd);
	if (!pr->root && st.st_uid != pr->uid)
		die("OVERLAYDIR %s: not owned by you", p);
	return real_as_caller(pr, "OVERLAYDIR", p);
}

void pv_ovroot_expand(struct pv_config *cfg, const struct pv_privs *pr,
		      const char *cwd)
{
	static const char *const hostdirs[] = { "/dev", "/proc", "/sys", "/run" };
	static char *const default_cmd[] = { "/bin/sh", NULL };
	size_t n;
	struct mnt *m;
	char *root, *dir, *mounts;

	(void)cwd;
	root = real_as_caller(pr, "-r", cfg->ovroot_root);
	dir = overlaydir(pr, cfg->ovroot_dir);
	mounts = pv_xasprintf("%s/mounts", dir);

	/* ROOT itself */
	add_op(cfg, PV_OP_OVERLAY, root, "/", dir);

	/* A non-root caller's overlay of ROOT is served by fuse-overlayfs
	 * (pivot-fuse), which crosses the mounts below ROOT as the caller
	 * does: one upper layer for all. The kernel's overlay in the
	 * caller's user namespace could not copy up a directory whose owner
	 * is not mapped there (EOVERFLOW: / and /home themselves). */
	n = 0;
	m = pr->root ? read_mounts(&n) : NULL;
	qsort(m, n, sizeof *m, cmp_mnt);
	for (size_t i = 0; i < n; i++) {
		const char *p = m[i].path;
		const char *rel;
		bool skip = false;
		struct stat st;

		if (!below(p, root) || strcmp(p, root) == 0)
			continue;
		rel = p + (strcmp(root, "/") == 0 ? 0 : strlen(root));
		for (size_t k = 0; k < 4; k++)
			if (below(rel, hostdirs[k]))
				skip = true;
		/* below the overlay directory itself: not part of the view */
		if (below(p, dir))
			skip = true;
		if (skip)
			continue;
		/* what the caller cannot reach stays as the mount point */
		if (access(p, R_OK | X_OK) < 0 || stat(p, &st) < 0)
			continue;
		if (!S_ISDIR(st.st_mode) || special_fs(m[i].fstype)) {
			add_op(cfg, PV_OP_BIND, pv_xstrdup(p), pv_xstrdup(rel), NULL);
			continue;
		}
		mkdir_caller(mounts);
		char *enc = encode(rel + 1);
		char *sub = pv_xasprintf("%s/%s", mounts, enc);

		free(enc);
		mkdir_caller(sub);
		add_op(cfg, PV_OP_OVERLAY, pv_xstrdup(p), pv_xstrdup(rel), sub);
	}
	for (size_t i = 0; i < n; i++) {
		free(m[i].path);
		free(m[i].fstype);
	}
	free(m);

	/* the host's /dev, /proc, /sys and /run */
	if (pr->root)
		add_op(cfg, PV_OP_DEV_BIND, "/dev", "/dev", NULL);
	else
		add_op(cfg, PV_OP_DEV, NULL, "/dev", NULL);
	add_op(cfg, PV_OP_BIND, "/proc", "/proc", NULL);
	add_op(cfg, PV_OP_BIND, "/sys", "/sys", NULL);
	add_op(cfg, PV_OP_BIND, "/run", "/run", NULL);

	if (cfg->argc == 0) {
		cfg->argv = default_cmd;
		cfg->argc = 1;
	}
}
