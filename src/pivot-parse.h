/* pivot-parse: the command-line language of overlay-pivot and ovroot.
 * Pure code: no system call, no exit, so that it can be fuzzed. */
#ifndef PIVOT_PARSE_H
#define PIVOT_PARSE_H

#include <stdbool.h>
#include <stddef.h>

enum pv_op_type {
	PV_OP_BIND,		/* --bind SRC DST */
	PV_OP_RO_BIND,		/* --ro-bind SRC DST */
	PV_OP_DEV_BIND,		/* --dev-bind SRC DST (root only) */
	PV_OP_OVERLAY,		/* --overlay SRC DST DIR */
	PV_OP_TMP_OVERLAY,	/* --tmp-overlay SRC DST */
	PV_OP_SQUASH,		/* --squash IMAGE DST */
	PV_OP_SQUASH_OVERLAY,	/* --squash-overlay IMAGE DST DIR */
	PV_OP_PROC,		/* --proc DST */
	PV_OP_DEV,		/* --dev DST */
	PV_OP_TMPFS,		/* --tmpfs DST */
	PV_OP_MQUEUE,		/* --mqueue DST */
	PV_OP_REMOUNT_RO,	/* --remount-ro DST */
	PV_OP_MOUNT,		/* -m TYPE,DEV,MNTPOINT[,OPT...] */
	PV_OP_OVSPEC,		/* -o MNTPOINT,OPT... */
};

enum pv_mkdir { PV_MKDIR_MAYBE = 0, PV_MKDIR_NEVER, PV_MKDIR_REQUIRE };

struct pv_op {
	enum pv_op_type type;
	const char *src;	/* source path, image, or -m DEV */
	const char *dst;	/* path inside the new root */
	const char *dir;	/* DIR of --overlay / --squash-overlay */
	/* -m */
	const char *fstype;	/* "bind"/"rbind" become PV_MNT_BIND flags */
	unsigned long flags;	/* MS_* flags from the option list (-m, -o) */
	char *data;		/* remaining options, comma separated, or NULL;
				 * -o: the overlay file system's options */
	enum pv_mkdir mkdir;
	/* -o */
	char **lowers;		/* NULL-terminated list of lower dirs */
	size_t nlowers;
	const char *upper, *work, *copyfrom;
	bool shadow, tmp;
	/* a non-root caller's op that FUSE serves (pivot-fuse), and its
	 * connection's index */
	bool fuse;
	unsigned fuse_slot;
	/* storage owned by this op (from spec splitting) */
	char *buf;
};

enum pv_personality { PV_OVERLAY_PIVOT = 0, PV_OVROOT };

struct pv_config {
	enum pv_personality personality;
	struct pv_op *ops;
	size_t nops;
	const char *root;	/* --root DIR, or NULL: a fresh tmpfs */
	const char *chdir;	/* --chdir DIR, or NULL: keep the caller's */
	const char *hostname;
	const char *netns;	/* --netns PATH (root only) */
	const char *userns;	/* --userns FILE (root only): idmapped root */
	const char *pidfile;
	int unshare;		/* CLONE_NEW* flags */
	bool exec_pid1;
	bool harden;		/* --harden (root only) */
	bool harden_only;	/* --harden-only (root only) */
	const char *device_cgroup;	/* --device-cgroup DIR (root only) */
	bool help, version;
	/* ovroot */
	const char *ovroot_root;	/* -r ROOT, default "/" */
	const char *ovroot_dir;		/* OVERLAYDIR */
	char *const *argv;	/* COMMAND [ARG...], NULL-terminated */
	int argc;
};

/* Parse ARGV (argv[0] excluded: ARGC counts from argv[1]) into CFG.
 * Returns 0, or -1 with a one-line message in ERR. CFG must be freed with
 * pv_config_free in both cases. ARGV must stay alive as long as CFG. */
int pv_parse(struct pv_config *cfg, enum pv_personality who, int argc,
	     char **argv, char *err, size_t errlen);
void pv_config_free(struct pv_config *cfg);

/* Parse one -m or -o spec into OP (exposed for the fuzzer and tests). */
int pv_parse_mount_spec(struct pv_op *op, const char *spec, char *err,
			size_t errlen);
int pv_parse_overlay_spec(struct pv_op *op, const char *spec, char *err,
			  size_t errlen);
void pv_op_free(struct pv_op *op);

/* An overlay mount option of -o: unknown, one any caller may give, or one
 * only root may (it changes how the kernel trusts the layers). */
enum pv_ovopt { PV_OVOPT_UNKNOWN = 0, PV_OVOPT_ANYONE, PV_OVOPT_ROOT };
enum pv_ovopt pv_overlay_option(const char *opt);

/* true if the filesystem type may be mounted for a non-root caller. */
bool pv_fstype_unprivileged(const char *fstype);

const char *pv_usage(enum pv_personality who);

#endif
