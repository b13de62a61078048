/* pivot-parse: the command-line language of overlay-pivot and ovroot.
 * Pure code: no system call, no exit, so that it can be fuzzed. */
#include "pivot-parse.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Longest path we accept anywhere (the kernel's PATH_MAX). */
#define PV_PATH_MAX 4096

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static const char usage_pivot[] =
"Usage: overlay-pivot [OPTION...] [--] COMMAND [ARG...]\n"
"Build a root in a new mount namespace and run COMMAND in it.\n"
"Options are applied in order; DST paths are inside the new root and\n"
"missing mount points are created.\n"
"\n"
"  --root DIR               pivot into DIR with everything mounted below it\n"
"                           (default: a fresh tmpfs)\n"
"  --bind SRC DST           recursive bind mount\n"
"  --ro-bind SRC DST        recursive read-only bind mount\n"
"  --dev-bind SRC DST       bind mount allowing devices (root only)\n"
"  --overlay SRC DST DIR    overlay: lower SRC, upper DIR/layer, work DIR/work\n"
"  --tmp-overlay SRC DST    overlay with upper and work on a fresh tmpfs\n"
"  --squash IMAGE DST       mount a squashfs image read-only (root: a loop\n"
"                           device or a block device; others: squashfuse)\n"
"  --squash-overlay IMAGE DST DIR\n"
"                           overlay with the squashfs image as lower layer\n"
"  --proc DST               mount a proc filesystem (non-root without\n"
"                           --unshare-pid: the host's /proc, bound)\n"
"  --dev DST                mount a minimal /dev (null zero full random\n"
"                           urandom tty, pts, shm)\n"
"  --tmpfs DST              mount a tmpfs\n"
"  --mqueue DST             mount a POSIX message queue filesystem (non-root:\n"
"                           with --unshare-ipc)\n"
"  --remount-ro DST         make DST read-only\n"
"  -m TYPE,DEV,MNTPOINT[,OPT...]\n"
"                           generic mount; TYPE bind or rbind (or empty,\n"
"                           with OPT bind[,rec]) binds DEV, nodev;\n"
"                           OPT mount flags, mkdir=never|maybe|require;\n"
"                           non-root: bind rbind tmpfs ramfs proc mqueue\n"
"                           devpts sysfs\n"
"  -o MNTPOINT,OPT...       overlay on MNTPOINT; OPT lowerdir=DIR[:DIR...],\n"
"                           upperdir=DIR, workdir=DIR, shadow, tmp,\n"
"                           copyfrom=PATH (never overwrites), mount flags,\n"
"                           overlay options (index=off...); without upper\n"
"                           layer, two lower layers\n"
"  --chdir DIR              working directory inside (default: the caller's\n"
"                           if it exists inside, else /)\n"
"  -N, --unshare-net        new network namespace (only lo)\n"
"  --unshare-pid            new pid namespace; COMMAND's parent is pid 1\n"
"  --unshare-ipc            new IPC namespace\n"
"  --unshare-uts            new UTS namespace\n"
"  --unshare-time           new time namespace\n"
"  --unshare-cgroup         new cgroup namespace\n"
"  --netns PATH             enter the network namespace PATH and bring its lo\n"
"                           up (root only)\n"
"  --hostname NAME          set the host name (needs --unshare-uts)\n"
"  --userns FILE            build the root and run COMMAND as root of the user\n"
"                           namespace FILE, every host source idmapped into\n"
"                           it (root only)\n"
"  --pid-file FILE          write the pid of the namespace's first process\n"
"  --exec-pid1              COMMAND itself is pid 1 (with --unshare-pid)\n"
"  --harden                 a subhost's hardening: host-wide /proc and /sys\n"
"                           masked or read-only, host-wide capabilities out\n"
"                           of the bounding set, a seccomp denylist (root only)\n"
"  --harden-only            only the bounding set and seccomp filter of\n"
"                           --harden, then exec COMMAND: no namespace, no\n"
"                           new root (to enter a subhost; root only)\n"
"  --device-cgroup DIR      only the standard device nodes usable by every\n"
"                           process in the cgroup v2 group DIR (root only)\n"
"  -h, --help               show this help and exit\n"
"  -V, --version            show the version and exit\n"
"Exit status: COMMAND's; 2 for a usage error, 1 for another failure.\n";

static const char usage_ovroot[] =
"Usage: ovroot [-r ROOT] OVERLAYDIR [COMMAND [ARG...]]\n"
"Run COMMAND (default /bin/sh) in an overlay of ROOT (default /) and of\n"
"every filesystem mounted below it; changes go to OVERLAYDIR.\n"
"/dev, /proc, /sys and /run stay reachable; the working directory is kept.\n"
"\n"
"  -r ROOT                  the tree to overlay (default /)\n"
"  -h, --help               show this help and exit\n"
"  -V, --version            show the version and exit\n";

const char *pv_usage(enum pv_personality who)
{
	return who == PV_OVROOT ? usage_ovroot : usage_pivot;
}

bool pv_fstype_unprivileged(const char *t)
{
	static const char *const ok[] = {
		"bind", "rbind", "tmpfs", "ramfs", "proc", "mqueue",
		"devpts", "sysfs", NULL
	};

	for (size_t i = 0; ok[i]; i++)
		if (strcmp(t, ok[i]) == 0)
			return true;
	return false;
}

void pv_op_free(struct pv_op *op)
{
	free(op->buf);
	free(op->data);
	free(op->lowers);
	op->buf = NULL;
	op->data = NULL;
	op->lowers = NULL;
}

void pv_config_free(struct pv_config *cfg)
{
	for (size_t i = 0; i < cfg->nops; i++)
		pv_op_free(&cfg->ops[i]);
	free(cfg->ops);
	cfg->ops = NULL;
	cfg->nops = 0;
}

static int check_path(const char *what, const char *p, char *err,
		      size_t errlen)
{
	size_t n = strnlen(p, PV_PATH_MAX + 1);

	if (n == 0)
		return fail(err, errlen, "%s: empty path", what);
	if (n > PV_PATH_MAX)
		return fail(err, errlen, "%s: path longer than %d bytes", what,
			    PV_PATH_MAX);
	return 0;
}

/* Split S (still escaped) at unescaped SEP. Returns the number of fields;
 * fields are written into OUT as pointers into BUF, which is a modified
 * copy of S with the separators replaced by NUL and escapes removed. */
static size_t split_unescape(char *buf, char sep, char **out, size_t max)
{
	size_t n = 0;
	char *w = buf, *r = buf, *start = buf;

	for (;;) {
		char c = *r++;

		if (c == '\\' && *r) {
			*w++ = *r++;
			continue;
		}
		if (c == sep || c == '\0') {
			*w++ = '\0';
			if (n < max)
				out[n] = start;
			n++;
			if (c == '\0')
				break;
			start = w;
			continue;
		}
		*w++ = c;
	}
	return n;
}

/* Split the top level (',') keeping escapes, so that ':' can be split in a
 * second pass. Returns the field count; fields are NUL-terminated in BUF. */
static size_t split_raw(char *buf, char sep, char **out, size_t max)
{
	size_t n = 0;
	char *r = buf, *start = buf;

	for (;;) {
		char c = *r;

		if (c == '\\' && r[1]) {
			r += 2;
			continue;
		}
		if (c == sep || c == '\0') {
			*r = '\0';
			if (n < max)
				out[n] = start;
			n++;
			if (c == '\0')
				break;
			start = ++r;
			continue;
		}
		r++;
	}
	return n;
}

static void unescape_inplace(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r == '\\' && r[1])
			r++;
		*w++ = *r;
	}
	*w = '\0';
}

struct flagname {
	const char *name;
	unsigned long set, clear;
};

static const struct flagname flagnames[] = {
	{ "ro", MS_RDONLY, 0 },		{ "rw", 0, MS_RDONLY },
	{ "nosuid", MS_NOSUID, 0 },	{ "suid", 0, MS_NOSUID },
	{ "nodev", MS_NODEV, 0 },	{ "dev", 0, MS_NODEV },
	{ "noexec", MS_NOEXEC, 0 },	{ "exec", 0, MS_NOEXEC },
	{ "sync", MS_SYNCHRONOUS, 0 },	{ "async", 0, MS_SYNCHRONOUS },
	{ "dirsync", MS_DIRSYNC, 0 },
	{ "noatime", MS_NOATIME, 0 },	{ "atime", 0, MS_NOATIME },
	{ "nodiratime", MS_NODIRATIME, 0 }, { "diratime", 0, MS_NODIRATIME },
	{ "relatime", MS_RELATIME, 0 },	{ "norelatime", 0, MS_RELATIME },
	{ "strictatime", MS_STRICTATIME, 0 },
	{ NULL, 0, 0 }
};

#define MAX_FIELDS 256

/* O a mount flag name: set it in OP->flags. */
static bool flag_option(struct pv_op *op, const char *o)
{
	const struct flagname *f;

	for (f = flagnames; f->name; f++)
		if (strcmp(o, f->name) == 0) {
			op->flags |= f->set;
			op->flags &= ~f->clear;
			return true;
		}
	return false;
}

enum pv_ovopt pv_overlay_option(const char *o)
{
	/* the overlay file system's own options; for each, the values that
	 * keep an unprivileged mount's defaults */
	static const struct {
		const char *key;
		const char *safe[5];
	} known[] = {
		{ "index", { "off", NULL } },
		{ "redirect_dir", { "off", "nofollow", NULL } },
		{ "metacopy", { "off", NULL } },
		{ "xino", { "off", "auto", "on", NULL } },
		{ "nfs_export", { "off", NULL } },
		{ "uuid", { "off", "null", "auto", "on", NULL } },
		{ "verity", { "off", NULL } },
		{ "volatile", { "", NULL } },
		{ "userxattr", { "", NULL } },
	};
	const char *eq = strchr(o, '=');
	size_t klen = eq ? (size_t)(eq - o) : strlen(o);
	const char *val = eq ? eq + 1 : "";

	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		if (strlen(known[i].key) != klen ||
		    strncmp(o, known[i].key, klen) != 0)
			continue;
		for (size_t j = 0; known[i].safe[j]; j++)
			if (strcmp(val, known[i].safe[j]) == 0)
				return PV_OVOPT_ANYONE;
		return PV_OVOPT_ROOT;
	}
	return PV_OVOPT_UNKNOWN;
}

int pv_parse_mount_spec(struct pv_op *op, const char *spec, char *err,
			size_t errlen)
{
	char *fields[MAX_FIELDS];
	size_t n, datalen = 0;

	memset(op, 0, sizeof *op);
	op->type = PV_OP_MOUNT;
	if (strnlen(spec, 3 * PV_PATH_MAX + 1) > 3 * PV_PATH_MAX)
		return fail(err, errlen, "-m: spec too long");
	op->buf = strdup(spec);
	if (!op->buf)
		return fail(err, errlen, "-m: %s", strerror(ENOMEM));
	n = split_unescape(op->buf, ',', fields, MAX_FIELDS);
	if (n > MAX_FIELDS)
		return fail(err, errlen, "-m: too many fields");
	if (n < 3)
		return fail(err, errlen,
			    "-m: expected TYPE,DEV,MNTPOINT[,OPT...]");
	op->fstype = fields[0];
	op->src = fields[1];
	op->dst = fields[2];
	/* overlayns's form: -m ,SRC,DST,bind[,rec] */
	{
		bool bind = false, rec = false;

		for (size_t i = 3; i < n; i++) {
			if (strcmp(fields[i], "bind") == 0)
				bind = true;
			else if (strcmp(fields[i], "rec") == 0)
				rec = true;
			else
				continue;
			fields[i][0] = '\0';	/* consumed */
		}
		if (bind && *op->fstype && strcmp(op->fstype, "bind") != 0 &&
		    strcmp(op->fstype, "rbind") != 0)
			return fail(err, errlen,
				    "-m %s: the bind option is for an empty TYPE",
				    op->fstype);
		if (rec && !bind && strcmp(op->fstype, "bind") != 0 &&
		    strcmp(op->fstype, "rbind") != 0)
			return fail(err, errlen, "-m: rec is an option of a bind");
		if (bind || rec)
			op->fstype = rec || strcmp(op->fstype, "rbind") == 0 ?
				     "rbind" : "bind";
	}
	if (!*op->fstype)
		return fail(err, errlen,
			    "-m: empty filesystem type (and no bind option)");
	if (strlen(op->fstype) > 64)
		return fail(err, errlen, "-m: filesystem type too long");
	for (const char *p = op->fstype; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '-'))
			return fail(err, errlen,
				    "-m: bad filesystem type '%s'", op->fstype);
	if (check_path("-m MNTPOINT", op->dst, err, errlen) < 0)
		return -1;
	if (strlen(op->src) > PV_PATH_MAX)
		return fail(err, errlen, "-m DEV: longer than %d bytes",
			    PV_PATH_MAX);
	if (strcmp(op->fstype, "bind") == 0 || strcmp(op->fstype, "rbind") == 0)
		if (check_path("-m DEV", op->src, err, errlen) < 0)
			return -1;
	for (size_t i = 3; i < n; i++) {
		const char *o = fields[i];
		const struct flagname *f;

		if (!*o)
			continue;
		if (strncmp(o, "mkdir=", 6) == 0) {
			if (strcmp(o + 6, "never") == 0)
				op->mkdir = PV_MKDIR_NEVER;
			else if (strcmp(o + 6, "maybe") == 0)
				op->mkdir = PV_MKDIR_MAYBE;
			else if (strcmp(o + 6, "require") == 0)
				op->mkdir = PV_MKDIR_REQUIRE;
			else
				return fail(err, errlen,
					    "-m: mkdir= takes never, maybe or require, not '%s'",
					    o + 6);
			continue;
		}
		for (f = flagnames; f->name; f++)
			if (strcmp(o, f->name) == 0)
				break;
		if (f->name) {
			op->flags |= f->set;
			op->flags &= ~f->clear;
			continue;
		}
		/* Filesystem data: commas inside a value cannot be expressed,
		 * the kernel splits data at every comma. */
		datalen += strlen(o) + 1;
	}
	if (datalen && (strcmp(op->fstype, "bind") == 0 ||
			strcmp(op->fstype, "rbind") == 0)) {
		for (size_t i = 3; i < n; i++) {
			const struct flagname *f;

			if (!*fields[i] || strncmp(fields[i], "mkdir=", 6) == 0)
				continue;
			for (f = flagnames; f->name; f++)
				if (strcmp(fields[i], f->name) == 0)
					break;
			if (!f->name)
				return fail(err, errlen,
					    "-m %s: unknown option '%s' (a bind takes "
					    "mount flags, rec and mkdir= only)",
					    op->fstype, fields[i]);
		}
	}
	if (datalen) {
		char *d = malloc(datalen + 1);

		if (!d)
			return fail(err, errlen, "-m: %s", strerror(ENOMEM));
		d[0] = '\0';
		for (size_t i = 3; i < n; i++) {
			const char *o = fields[i];
			const struct flagname *f;

			if (!*o || strncmp(o, "mkdir=", 6) == 0)
				continue;
			for (f = flagnames; f->name; f++)
				if (strcmp(o, f->name) == 0)
					break;
			if (f->name)
				continue;
			if (d[0])
				strcat(d, ",");
			strcat(d, o);
		}
		op->data = d;
	}
	return 0;
}

int pv_parse_overlay_spec(struct pv_op *op, const char *spec, char *err,
			  size_t errlen)
{
	char *fields[MAX_FIELDS];
	size_t n;

	memset(op, 0, sizeof *op);
	op->type = PV_OP_OVSPEC;
	if (strnlen(spec, 8 * PV_PATH_MAX + 1) > 8 * PV_PATH_MAX)
		return fail(err, errlen, "-o: spec too long");
	op->buf = strdup(spec);
	if (!op->buf)
		return fail(err, errlen, "-o: %s", strerror(ENOMEM));
	n = split_raw(op->buf, ',', fields, MAX_FIELDS);
	if (n > MAX_FIELDS)
		return fail(err, errlen, "-o: too many fields");
	unescape_inplace(fields[0]);
	op->dst = fields[0];
	if (check_path("-o MNTPOINT", op->dst, err, errlen) < 0)
		return -1;
	for (size_t i = 1; i < n; i++) {
		char *o = fields[i];

		if (!*o)
			continue;
		if (strncmp(o, "lowerdir=", 9) == 0) {
			char *v = o + 9;
			size_t cnt = 1;

			if (op->lowers)
				return fail(err, errlen,
					    "-o: lowerdir given twice");
			for (char *p = v; *p; p++) {
				if (*p == '\\' && p[1])
					p++;
				else if (*p == ':')
					cnt++;
			}
			if (cnt > 500)
				return fail(err, errlen,
					    "-o: too many lower directories");
			op->lowers = calloc(cnt + 1, sizeof *op->lowers);
			if (!op->lowers)
				return fail(err, errlen, "-o: %s",
					    strerror(ENOMEM));
			op->nlowers = split_unescape(v, ':', op->lowers, cnt);
			op->lowers[op->nlowers] = NULL;
			for (size_t j = 0; j < op->nlowers; j++)
				if (check_path("-o lowerdir", op->lowers[j],
					       err, errlen) < 0)
					return -1;
			continue;
		}
		unescape_inplace(o);
		if (strncmp(o, "upperdir=", 9) == 0) {
			op->upper = o + 9;
			if (check_path("-o upperdir", op->upper, err, errlen) < 0)
				return -1;
		} else if (strncmp(o, "workdir=", 8) == 0) {
			op->work = o + 8;
			if (check_path("-o workdir", op->work, err, errlen) < 0)
				return -1;
		} else if (strncmp(o, "copyfrom=", 9) == 0) {
			op->copyfrom = o + 9;
			if (check_path("-o copyfrom", op->copyfrom, err,
				       errlen) < 0)
				return -1;
		} else if (strcmp(o, "shadow") == 0) {
			op->shadow = true;
		} else if (strcmp(o, "tmp") == 0) {
			op->tmp = true;
		} else if (flag_option(op, o)) {
			continue;
		} else if (pv_overlay_option(o) != PV_OVOPT_UNKNOWN) {
			size_t have = op->data ? strlen(op->data) : 0;
			char *d = realloc(op->data, have + strlen(o) + 2);

			if (!d)
				return fail(err, errlen, "-o: %s", strerror(ENOMEM));
			if (have)
				d[have++] = ',';
			strcpy(d + have, o);
			op->data = d;
		} else {
			return fail(err, errlen, "-o: unknown option '%s'", o);
		}
	}
	if (op->tmp && (op->upper || op->work))
		return fail(err, errlen,
			    "-o: tmp excludes upperdir and workdir");
	if (!op->tmp && !op->upper && op->work)
		return fail(err, errlen, "-o: workdir needs upperdir");
	if (!op->tmp && op->upper && !op->work)
		return fail(err, errlen, "-o: upperdir needs workdir");
	if (!op->lowers && !op->shadow)
		return fail(err, errlen,
			    "-o %s: needs lowerdir= or shadow", op->dst);
	if (op->copyfrom && !op->tmp && !op->upper)
		return fail(err, errlen,
			    "-o: copyfrom needs tmp or upperdir");
	if (!op->tmp && !op->upper && op->nlowers + (op->shadow ? 1 : 0) < 2)
		return fail(err, errlen,
			    "-o %s: without upperdir or tmp an overlay needs two "
			    "lower layers (lowerdir=A:B, or one and shadow)", op->dst);
	return 0;
}

enum {
	K_OP = 1, K_ROOT, K_CHDIR, K_UNSHARE, K_NETNS, K_HOSTNAME,
	K_PIDFILE, K_EXECPID1, K_HELP, K_VERSION, K_MSPEC, K_OSPEC, K_USERNS,
	K_HARDEN, K_HARDEN_ONLY, K_DEVCG
};

struct optmap {
	const char *name;
	int kind, nargs;
	int value;	/* op type or clone flag */
};

static const struct optmap optmap[] = {
	{ "--root", K_ROOT, 1, 0 },
	{ "--bind", K_OP, 2, PV_OP_BIND },
	{ "--ro-bind", K_OP, 2, PV_OP_RO_BIND },
	{ "--dev-bind", K_OP, 2, PV_OP_DEV_BIND },
	{ "--overlay", K_OP, 3, PV_OP_OVERLAY },
	{ "--tmp-overlay", K_OP, 2, PV_OP_TMP_OVERLAY },
	{ "--squash", K_OP, 2, PV_OP_SQUASH },
	{ "--squash-overlay", K_OP, 3, PV_OP_SQUASH_OVERLAY },
	{ "--proc", K_OP, 1, PV_OP_PROC },
	{ "--dev", K_OP, 1, PV_OP_DEV },
	{ "--tmpfs", K_OP, 1, PV_OP_TMPFS },
	{ "--mqueue", K_OP, 1, PV_OP_MQUEUE },
	{ "--remount-ro", K_OP, 1, PV_OP_REMOUNT_RO },
	{ "-m", K_MSPEC, 1, 0 },
	{ "-o", K_OSPEC, 1, 0 },
	{ "--chdir", K_CHDIR, 1, 0 },
	{ "-N", K_UNSHARE, 0, CLONE_NEWNET },
	{ "--unshare-net", K_UNSHARE, 0, CLONE_NEWNET },
	{ "--unshare-pid", K_UNSHARE, 0, CLONE_NEWPID },
	{ "--unshare-ipc", K_UNSHARE, 0, CLONE_NEWIPC },
	{ "--unshare-uts", K_UNSHARE, 0, CLONE_NEWUTS },
	{ "--unshare-time", K_UNSHARE, 0, CLONE_NEWTIME },
	{ "--unshare-cgroup", K_UNSHARE, 0, CLONE_NEWCGROUP },
	{ "--netns", K_NETNS, 1, 0 },
	{ "--hostname", K_HOSTNAME, 1, 0 },
	{ "--userns", K_USERNS, 1, 0 },
	{ "--pid-file", K_PIDFILE, 1, 0 },
	{ "--exec-pid1", K_EXECPID1, 0, 0 },
	{ "--harden", K_HARDEN, 0, 0 },
	{ "--harden-only", K_HARDEN_ONLY, 0, 0 },
	{ "--device-cgroup", K_DEVCG, 1, 0 },
	{ "-h", K_HELP, 0, 0 },
	{ "--help", K_HELP, 0, 0 },
	{ "-V", K_VERSION, 0, 0 },
	{ "--version", K_VERSION, 0, 0 },
	{ NULL, 0, 0, 0 }
};

static struct pv_op *new_op(struct pv_config *cfg, char *err, size_t errlen)
{
	struct pv_op *ops;

	if (cfg->nops >= 4096) {
		fail(err, errlen, "too many mount options");
		return NULL;
	}
	ops = realloc(cfg->ops, (cfg->nops + 1) * sizeof *ops);
	if (!ops) {
		fail(err, errlen, "%s", strerror(ENOMEM));
		return NULL;
	}
	cfg->ops = ops;
	memset(&ops[cfg->nops], 0, sizeof *ops);
	return &ops[cfg->nops++];
}

static int parse_ovroot(struct pv_config *cfg, int argc, char **argv,
			char *err, size_t errlen)
{
	int i = 0;

	cfg->ovroot_root = "/";
	while (i < argc) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			cfg->help = true;
			return 0;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			cfg->version = true;
			return 0;
		}
		if (strcmp(a, "-r") == 0) {
			if (i + 1 >= argc)
				return fail(err, errlen, "-r: needs ROOT");
			cfg->ovroot_root = argv[i + 1];
			if (check_path("-r", cfg->ovroot_root, err, errlen) < 0)
				return -1;
			i += 2;
			continue;
		}
		if (a[0] == '-' && a[1])
			return fail(err, errlen, "unknown option '%s'", a);
		break;
	}
	if (i >= argc)
		return fail(err, errlen, "missing OVERLAYDIR");
	cfg->ovroot_dir = argv[i++];
	if (check_path("OVERLAYDIR", cfg->ovroot_dir, err, errlen) < 0)
		return -1;
	cfg->argv = &argv[i];
	cfg->argc = argc - i;
	return 0;
}

int pv_parse(struct pv_config *cfg, enum pv_personality who, int argc,
	     char **argv, char *err, size_t errlen)
{
	int i = 0;

	memset(cfg, 0, sizeof *cfg);
	cfg->personality = who;
	if (err && errlen)
		err[0] = '\0';
	if (who == PV_OVROOT)
		return parse_ovroot(cfg, argc, argv, err, errlen);

	while (i < argc) {
		const char *a = argv[i];
		const struct optmap *m;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break;
		/* overlayns's glued forms: -oSPEC, -mSPEC */
		if ((a[1] == 'o' || a[1] == 'm') && a[2]) {
			struct pv_op *op = new_op(cfg, err, errlen);

			if (!op || (a[1] == 'o' ?
				    pv_parse_overlay_spec(op, a + 2, err, errlen) :
				    pv_parse_mount_spec(op, a + 2, err, errlen)) < 0)
				return -1;
			i++;
			continue;
		}
		for (m = optmap; m->name; m++)
			if (strcmp(a, m->name) == 0)
				break;
		if (!m->name)
			return fail(err, errlen, "unknown option '%s'", a);
		if (argc - i - 1 < m->nargs)
			return fail(err, errlen, "%s: needs %d argument%s", a,
				    m->nargs, m->nargs > 1 ? "s" : "");
		char **args = &argv[i + 1];

		i += 1 + m->nargs;
		switch (m->kind) {
		case K_HELP:
			cfg->help = true;
			return 0;
		case K_VERSION:
			cfg->version = true;
			return 0;
		case K_ROOT:
			if (cfg->root)
				return fail(err, errlen, "--root given twice");
			if (cfg->nops)
				return fail(err, errlen,
					    "--root must come before any mount option");
			if (check_path("--root", args[0], err, errlen) < 0)
				return -1;
			cfg->root = args[0];
			break;
		case K_CHDIR:
			if (check_path("--chdir", args[0], err, errlen) < 0)
				return -1;
			cfg->chdir = args[0];
			break;
		case K_UNSHARE:
			cfg->unshare |= m->value;
			break;
		case K_NETNS:
			if (check_path("--netns", args[0], err, errlen) < 0)
				return -1;
			cfg->netns = args[0];
			break;
		case K_USERNS:
			if (check_path("--userns", args[0], err, errlen) < 0)
				return -1;
			cfg->userns = args[0];
			break;
		case K_HOSTNAME: {
			size_t n = strnlen(args[0], 65);

			if (n == 0 || n > 64)
				return fail(err, errlen,
					    "--hostname: must be 1 to 64 bytes");
			cfg->hostname = args[0];
			break;
		}
		case K_PIDFILE:
			if (check_path("--pid-file", args[0], err, errlen) < 0)
				return -1;
			cfg->pidfile = args[0];
			break;
		case K_EXECPID1:
			cfg->exec_pid1 = true;
			break;
		case K_HARDEN:
			cfg->harden = true;
			break;
		case K_HARDEN_ONLY:
			cfg->harden_only = true;
			break;
		case K_DEVCG:
			if (check_path("--device-cgroup", args[0], err, errlen) < 0)
				return -1;
			cfg->device_cgroup = args[0];
			break;
		case K_MSPEC: {
			struct pv_op *op = new_op(cfg, err, errlen);

			if (!op || pv_parse_mount_spec(op, args[0], err,
						       errlen) < 0)
				return -1;
			break;
		}
		case K_OSPEC: {
			struct pv_op *op = new_op(cfg, err, errlen);

			if (!op || pv_parse_overlay_spec(op, args[0], err,
							 errlen) < 0)
				return -1;
			break;
		}
		case K_OP: {
			struct pv_op *op = new_op(cfg, err, errlen);
			int k = 0;

			if (!op)
				return -1;
			op->type = (enum pv_op_type)m->value;
			if (m->nargs >= 2) {
				op->src = args[k++];
				if (check_path(a, op->src, err, errlen) < 0)
					return -1;
			}
			op->dst = args[k++];
			if (check_path(a, op->dst, err, errlen) < 0)
				return -1;
			if (m->nargs == 3) {
				op->dir = args[k];
				if (check_path(a, op->dir, err, errlen) < 0)
					return -1;
			}
			break;
		}
		default:
			return fail(err, errlen, "internal: option '%s'", a);
		}
	}
	if (cfg->netns && (cfg->unshare & CLONE_NEWNET))
		return fail(err, errlen,
			    "--netns and --unshare-net exclude each other");
	if (cfg->hostname && !(cfg->unshare & CLONE_NEWUTS))
		return fail(err, errlen, "--hostname needs --unshare-uts");
	if (cfg->exec_pid1 && !(cfg->unshare & CLONE_NEWPID))
		return fail(err, errlen, "--exec-pid1 needs --unshare-pid");
	if (cfg->harden_only && (cfg->nops || cfg->root || cfg->chdir ||
				 cfg->unshare || cfg->netns || cfg->pidfile ||
				 cfg->exec_pid1 || cfg->harden))
		return fail(err, errlen,
			    "--harden-only takes no other option but --device-cgroup");
	if (i >= argc)
		return fail(err, errlen, "missing COMMAND");
	cfg->argv = &argv[i];
	cfg->argc = argc - i;
	return 0;
}
