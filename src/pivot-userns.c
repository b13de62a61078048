/* pivot-userns: --userns FILE, a root whose root user is not the host's.
 * See pivot-userns.h for the sequence. */
#include "pivot-userns.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mount-api.h"
#include "pivot-utils.h"

/* Where the clones wait, in the staging root: /u/0, /u/1, ... */
#define USERNS_DIR "/u"

struct ent {
	const char *what;	/* the option, for messages */
	const char *path;	/* the host path as the options give it */
	bool layer;		/* an upper or work directory */
	bool rec;		/* some option binds it recursively */
	bool optional;		/* a device node: a plain clone will do */
	bool ro;		/* every use is read-only: made so before the
				 * user namespace, where it is then locked */
	unsigned slot;		/* /u/SLOT */
	char *rel;		/* layer: its path below /u/SLOT ("" for it) */
};

static struct {
	bool active;
	int fd;			/* the user namespace */
	struct ent *e;
	size_t n;
	unsigned slots;
} U = { false, -1, NULL, 0, 0 };

bool pv_userns_active(void)
{
	return U.active;
}

static struct ent *find(const char *path, bool layer)
{
	for (size_t i = 0; i < U.n; i++)
		if (U.e[i].layer == layer && strcmp(U.e[i].path, path) == 0)
			return &U.e[i];
	return NULL;
}

static struct ent *add(const char *what, const char *path, bool layer,
		       bool rec, bool optional, bool ro)
{
	struct ent *e = find(path, layer);

	if (e) {
		e->rec = e->rec || rec;
		e->optional = e->optional && optional;
		e->ro = e->ro && ro;
		return e;
	}
	e = realloc(U.e, (U.n + 1) * sizeof *e);
	if (!e)
		die_err(ENOMEM, "--userns");
	U.e = e;
	e = &U.e[U.n++];
	memset(e, 0, sizeof *e);
	e->what = what;
	e->path = path;
	e->layer = layer;
	e->rec = rec;
	e->optional = optional;
	e->ro = ro;
	return e;
}

/* PATH made absolute (relative to the caller's cwd) with no trailing /. */
static char *absolute(const struct pv_ctx *ctx, const char *what,
		      const char *path)
{
	char *a;
	size_t n;

	if (path[0] == '/')
		a = pv_xstrdup(path);
	else if (ctx->cwd)
		a = pv_xasprintf("%s/%s", ctx->cwd, path);
	else
		die("%s %s: relative path but the working directory is unknown",
		    what, path);
	for (n = strlen(a); n > 1 && a[n - 1] == '/'; n--)
		a[n - 1] = '\0';
	return a;
}

/* Make /u/SLOT a mount point for a file of mode MODE. */
static int slot_point(unsigned slot, mode_t mode, const char *what,
		      const char *path)
{
	char p[32];
	int fd;

	snprintf(p, sizeof p, USERNS_DIR "/%u", slot);
	if (S_ISDIR(mode)) {
		if (mkdir(p, 0755) < 0)
			die_err(errno, "%s %s: mkdir %s", what, path, p);
	} else {
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		if (fd < 0)
			die_err(errno, "%s %s: creating %s", what, path, p);
		close(fd);
	}
	fd = open(p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die_err(errno, "%s %s: open %s", what, path, p);
	return fd;
}

/* Clone the host path PATH (recursively if REC), idmap the clone through
 * the user namespace and attach it at /u/SLOT. Returns the slot. */
static unsigned clone_idmapped(struct pv_ctx *ctx, const char *what,
			       const char *path, bool rec, bool optional, bool ro)
{
	struct mount_attr a;
	struct stat st;
	unsigned slot = U.slots++;
	int src, m, d;

	src = pv_open_host(ctx, what, path, 0, false);
	if (fstat(src, &st) < 0)
		die_err(errno, "%s %s", what, path);
	m = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
		      AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0));
	if (m < 0)
		die_err(errno, "%s %s: cloning the mount", what, path);
	memset(&a, 0, sizeof a);
	a.attr_set = MOUNT_ATTR_IDMAP;
	a.userns_fd = (unsigned)U.fd;
	if (mount_setattr(m, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0),
			  &a, sizeof a) < 0) {
		int err = errno;

		if (!optional) {
			if (err == EINVAL || err == EPERM || err == EOPNOTSUPP)
				die("%s %s: its file system (or one mounted "
				    "below it) cannot be idmapped into the user "
				    "namespace (%s); USERNS=no runs it",
				    what, path, strerror(err));
			die_err(err, "%s %s: idmapping the mount", what, path);
		}
		/* a device node: the host's owners show as nobody, and its
		 * mode decides who opens it */
	}
	if (ro) {
		memset(&a, 0, sizeof a);
		a.attr_set = MOUNT_ATTR_RDONLY;
		if (mount_setattr(m, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0),
				  &a, sizeof a) < 0)
			die_err(errno, "%s %s: making the clone read-only",
				what, path);
	}
	d = slot_point(slot, st.st_mode, what, path);
	if (move_mount(m, "", d, "", MOVE_MOUNT_F_EMPTY_PATH |
		       MOVE_MOUNT_T_EMPTY_PATH) < 0)
		die_err(errno, "%s %s: attaching the idmapped clone", what, path);
	close(d);
	close(m);
	close(src);
	return slot;
}

static int open_slot(unsigned slot, const char *rel, int flags,
		     const char *what, const char *path)
{
	char p[32];
	int s, fd;

	snprintf(p, sizeof p, USERNS_DIR "/%u", slot);
	s = open(p, O_PATH | O_NOFOLLOW | O_CLOEXEC | (rel ? O_DIRECTORY : flags));
	if (s < 0)
		die_err(errno, "%s %s: open %s", what, path, p);
	if (!rel || !*rel)
		return s;
	fd = pv_openat2(s, rel, O_PATH | O_DIRECTORY | O_NOFOLLOW,
			RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV);
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR || errno == EXDEV)
			die("%s %s: not a plain directory", what, path);
		die_err(errno, "%s %s", what, path);
	}
	close(s);
	return fd;
}

/* An overlay's upper and work directories must be on one mount: clone the
 * directory that holds both, once, and find each below it. */
static void prepare_layers(struct pv_ctx *ctx, const char *upper,
			   const char *work)
{
	char *u = absolute(ctx, "-o upperdir", upper);
	char *w = absolute(ctx, "-o workdir", work);
	size_t i = 0, cut = 0;
	struct ent *eu, *ew;
	char *anc;
	unsigned slot;

	/* the longest common prefix that ends at a component */
	while (u[i] && u[i] == w[i]) {
		if (u[i] == '/')
			cut = i;
		i++;
	}
	if ((!u[i] && w[i] == '/') || (!w[i] && u[i] == '/') || (!u[i] && !w[i]))
		cut = i;
	anc = pv_xstrdup(cut ? u : "/");
	if (cut)
		anc[cut] = '\0';
	eu = find(upper, true);
	ew = find(work, true);
	if (eu && ew)
		goto out;
	slot = clone_idmapped(ctx, "-o upperdir", anc, false, false, false);
	(void)add("-o upperdir", upper, true, false, false, false);
	ew = add("-o workdir", work, true, false, false, false);
	eu = find(upper, true);	/* add may have moved the table */
	eu->slot = ew->slot = slot;
	eu->rel = pv_xstrdup(u + cut + (u[cut] == '/'));
	ew->rel = pv_xstrdup(w + cut + (w[cut] == '/'));
	/* below the clone, each must be the directory the host path names
	 * (not a directory that a mount hides on the host) */
	for (int k = 0; k < 2; k++) {
		struct ent *e = k ? ew : eu;
		int h = pv_open_host(ctx, e->what, e->path, O_DIRECTORY, false);
		int c, s;
		struct stat hs, cs;
		char p[32];

		if (fstat(h, &hs) < 0)
			die_err(errno, "%s %s", e->what, e->path);
		snprintf(p, sizeof p, USERNS_DIR "/%u", slot);
		s = open(p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0)
			die_err(errno, "%s %s: open %s", e->what, e->path, p);
		c = pv_openat2(s, *e->rel ? e->rel : ".",
			       O_PATH | O_DIRECTORY | O_NOFOLLOW,
			       RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			       RESOLVE_NO_XDEV);
		close(s);
		if (c < 0 || fstat(c, &cs) < 0 ||
		    hs.st_dev != cs.st_dev || hs.st_ino != cs.st_ino)
			die("%s %s: upper and work directories must be on one "
			    "mount, below %s", e->what, e->path, anc);
		close(h);
		close(c);
	}
out:
	free(anc);
	free(u);
	free(w);
}

void pv_userns_prepare(struct pv_ctx *ctx, const struct pv_config *cfg)
{
	if (mkdir(USERNS_DIR, 0711) < 0)
		die_err(errno, "--userns: mkdir " USERNS_DIR);
	U.fd = pv_open_host(ctx, "--userns", cfg->userns, 0, false);
	{
		/* an O_PATH fd cannot be given to setns: reopen it */
		char p[PV_FDPATH_LEN];
		int fd;

		snprintf(p, sizeof p, "/oldroot/proc/self/fd/%d", U.fd);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die_err(errno, "--userns %s", cfg->userns);
		close(U.fd);
		U.fd = fd;
	}
	if (cfg->root)
		add("--root", cfg->root, false, true, false, false);
	for (size_t i = 0; i < cfg->nops; i++) {
		const struct pv_op *op = &cfg->ops[i];

		switch (op->type) {
		case PV_OP_BIND:
			add("--bind", op->src, false, true, false, false);
			break;
		case PV_OP_RO_BIND:
			add("--ro-bind", op->src, false, true, false, true);
			break;
		case PV_OP_DEV_BIND:
			add("--dev-bind", op->src, false, true, true, false);
			break;
		case PV_OP_OVERLAY:
			add("--overlay", op->src, false, false, false, true);
			add("--overlay", op->dir, false, false, false, false);
			break;
		case PV_OP_TMP_OVERLAY:
			add("--tmp-overlay", op->src, false, false, false, true);
			break;
		case PV_OP_SQUASH:
		case PV_OP_SQUASH_OVERLAY:
			die("%s %s: not with --userns (mount the image and give "
			    "its directory)", op->type == PV_OP_SQUASH ?
			    "--squash" : "--squash-overlay", op->src);
		case PV_OP_MOUNT:
			if (strcmp(op->fstype, "bind") == 0 ||
			    strcmp(op->fstype, "rbind") == 0)
				add("-m", op->src, false, op->fstype[0] == 'r', false,
				    (op->flags & MS_RDONLY) != 0);
			break;
		case PV_OP_OVSPEC:
			for (size_t j = 0; j < op->nlowers; j++)
				add("-o lowerdir", op->lowers[j], false, false, false,
				    true);
			if (op->copyfrom)
				add("-o copyfrom", op->copyfrom, false, false, false,
				    true);
			break;
		default:
			break;
		}
	}
	/* the sources, then the layer pairs (which add entries) */
	for (size_t i = 0, n = U.n; i < n; i++) {
		struct ent *e = &U.e[i];

		e->slot = clone_idmapped(ctx, e->what, e->path, e->rec,
					 e->optional, e->ro);
	}
	for (size_t i = 0; i < cfg->nops; i++) {
		const struct pv_op *op = &cfg->ops[i];

		if (op->type == PV_OP_OVSPEC && !op->tmp && op->upper)
			prepare_layers(ctx, op->upper, op->work);
	}
	U.active = true;
}

void pv_userns_enter(void)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (setns(U.fd, CLONE_NEWUSER) < 0)
		die_err(errno, "--userns: joining the user namespace");
	close(U.fd);
	U.fd = -1;
	if (setgroups(0, NULL) < 0)
		die_err(errno, "--userns: setgroups");
	if (setresgid(0, 0, 0) < 0)
		die_err(errno, "--userns: setresgid 0 (is gid 0 mapped?)");
	if (setresuid(0, 0, 0) < 0)
		die_err(errno, "--userns: setresuid 0 (is uid 0 mapped?)");
	if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0)
		die_err(errno, "--userns: getresuid");
	if (r || e || s || rg || eg || sg)
		die("--userns: not root of the user namespace");
	if (unshare(CLONE_NEWNS) < 0)
		die_err(errno, "--userns: creating a mount namespace");
}

int pv_userns_source(const char *what, const char *path, int flags)
{
	const struct ent *e;

	if (!U.active)
		return -1;
	e = find(path, false);
	if (!e)
		return -1;
	return open_slot(e->slot, NULL, flags, what, path);
}

int pv_userns_layer(const char *what, const char *path)
{
	const struct ent *e;

	if (!U.active)
		return -1;
	e = find(path, true);
	if (!e)
		die("%s %s: layer directory was not prepared", what, path);
	return open_slot(e->slot, e->rel, 0, what, path);
}
