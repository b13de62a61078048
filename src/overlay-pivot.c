/* overlay-pivot: build a root in a new mount namespace and run a command
 * in it. Also `ovroot` (same binary): an overlay of / for any user.
 *
 *   parent (P)                       child (C)
 *   ids, parse, pid file, netns
 *   [setuid: staging + FUSE connections as root, then the user namespace]
 *   [non-root: the user namespace]
 *   unshare pid/ipc/uts/net/time/cgroup
 *   fork ------------------------->  unshare the mount namespace
 *   write pid file, close fds        stage, images (root: loop devices;
 *                                    others: squashfuse, pivot-fuse)
 *   forward signals, wait            build the new root, pivot, detach
 *   exit with C's status             drop privileges (non-root), exec
 *                                    (or fork COMMAND and reap, as pid 1)
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pivot-caller.h"
#include "pivot-exec.h"
#include "pivot-fuse.h"
#include "pivot-harden.h"
#include "pivot-mount.h"
#include "pivot-net.h"
#include "pivot-ovroot.h"
#include "pivot-parse.h"
#include "pivot-privs.h"
#include "pivot-squash.h"
#include "pivot-userns.h"
#include "pivot-utils.h"

#define PV_VERSION "0.1"

const char *msg_prog = "overlay-pivot";

static enum pv_personality personality(int argc, char **argv)
{
	const char *b;

	if (argc < 1 || !argv[0])
		return PV_OVERLAY_PIVOT;
	b = strrchr(argv[0], '/');
	b = b ? b + 1 : argv[0];
	return strcmp(b, "ovroot") == 0 ? PV_OVROOT : PV_OVERLAY_PIVOT;
}

/* Checks that the privileged code path repeats where each act is done. */
static void refuse_root_only(const struct pv_config *cfg,
			     const struct pv_privs *pr)
{
	if (pr->root)
		return;
	if (cfg->netns)
		die("--netns: only root may use it");
	if (cfg->userns)
		die("--userns: only root may use it");
	if (cfg->harden)
		die("--harden: only root may use it (a non-root caller's "
		    "command has no capability left anyway)");
	if (cfg->device_cgroup)
		die("--device-cgroup: only root may use it");
	if (cfg->harden_only)
		die("--harden-only: only root may use it");
	for (size_t i = 0; i < cfg->nops; i++) {
		const struct pv_op *op = &cfg->ops[i];

		if (op->type == PV_OP_DEV_BIND)
			die("--dev-bind: only root may use it");
		if (op->type == PV_OP_MQUEUE && !(cfg->unshare & CLONE_NEWIPC))
			die("--mqueue %s: needs --unshare-ipc (a message queue "
			    "file system belongs to an IPC namespace, and only a "
			    "new one is yours)", op->dst);
		if (op->type == PV_OP_OVSPEC && op->data) {
			char *copy = pv_xstrdup(op->data), *save = NULL;

			for (char *o = strtok_r(copy, ",", &save); o;
			     o = strtok_r(NULL, ",", &save))
				if (pv_overlay_option(o) == PV_OVOPT_ROOT)
					die("-o %s: %s: only root may use it (it "
					    "changes how the kernel trusts the layers)",
					    op->dst, o);
			free(copy);
		}
		if (op->type == PV_OP_MOUNT && !pv_fstype_unprivileged(op->fstype))
			die("-m %s: only root may mount this filesystem type",
			    op->fstype);
	}
}

static void reopen_stage(struct pv_ctx *ctx)
{
	if (ctx->oldroot >= 0)
		close(ctx->oldroot);
	ctx->oldroot = open("/oldroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->oldroot < 0)
		die_err(errno, "open /oldroot");
}

__attribute__((noreturn))
static void child(struct pv_config *cfg, struct pv_privs *pr,
		  struct pv_ctx *ctx, bool staged)
{
	if (unshare(CLONE_NEWNS) < 0)
		die_err(errno, "creating a mount namespace");
	if (staged) {
		/* our copy of the staging namespace (locked, for a non-root
		 * caller, by the user namespace) */
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			die_err(errno, "making / private");
		reopen_stage(ctx);
	} else {
		pv_stage(ctx, 0, 0);
		if (pr->root)
			pv_squash_mount(ctx, cfg, pr);
		else
			pv_fuse_prepare(ctx, cfg);
	}
	if (pr->root)
		pv_squash_open(ctx, cfg);
	else
		pv_fuse_squash(ctx, cfg);
	pv_build(ctx, cfg);
	pv_enter(ctx);
	if (cfg->chdir) {
		if (chdir(cfg->chdir) < 0)
			die_err(errno, "--chdir %s", cfg->chdir);
	} else if (!ctx->cwd || chdir(ctx->cwd) < 0) {
		if (chdir("/") < 0)
			die_err(errno, "chdir /");
	}
	/* repeated here, where it is done */
	if (cfg->harden) {
		if (!pr->root)
			die("--harden: only root may use it");
		pv_harden_subhost();
	}
	pv_privs_drop(pr);
	/* A non-root caller's command gets no controlling terminal: it cannot
	 * push input into the caller's terminal with TIOCSTI. */
	if (!pr->root && setsid() < 0)
		die_err(errno, "setsid");
	if ((cfg->unshare & CLONE_NEWPID) && !cfg->exec_pid1)
		pv_run_as_init(cfg->argv);
	pv_exec(cfg->argv);
}

int main(int argc, char **argv)
{
	struct pv_privs pr;
	struct pv_config cfg;
	struct pv_ctx ctx;
	enum pv_personality who;
	char err[512];
	bool staged = false;
	int pidfd = -1;
	int gate[2] = { -1, -1 };
	pid_t pid;

	pv_privs_init(&pr);
	who = personality(argc, argv);
	if (who == PV_OVROOT)
		msg_prog = "ovroot";
	if (pv_parse(&cfg, who, argc > 0 ? argc - 1 : 0, argc > 0 ? argv + 1 : argv,
		     err, sizeof err) < 0)
		die_usage("%s (see %s --help)", err, msg_prog);
	if (cfg.help) {
		fputs(pv_usage(who), stdout);
		return fflush(stdout) == 0 ? 0 : EXIT_FAIL;
	}
	if (cfg.version) {
		printf("%s %s\n", msg_prog, PV_VERSION);
		return fflush(stdout) == 0 ? 0 : EXIT_FAIL;
	}
	memset(&ctx, 0, sizeof ctx);
	ctx.root = pr.root;
	ctx.unshare = cfg.unshare;
	ctx.uid = pr.uid;
	ctx.gid = pr.gid;
	ctx.oldroot = ctx.newroot = ctx.scratch = -1;
	ctx.privs = &pr;
	ctx.cwd = getcwd(NULL, 0);
	if (ctx.cwd && ctx.cwd[0] != '/') {
		free(ctx.cwd);	/* "(unreachable)/..." */
		ctx.cwd = NULL;
	}

	if (who == PV_OVROOT)
		pv_ovroot_expand(&cfg, &pr, ctx.cwd);
	refuse_root_only(&cfg, &pr);
	if (pr.root && pv_squash_count(&cfg) > PV_SQUASH_MAX)
		die("at most %d squashfs images in one run", PV_SQUASH_MAX);
	pv_fuse_plan(&ctx, &cfg);
	/* the first thing made on the host, after every refusal that needs
	 * no system call */
	if (cfg.pidfile) {
		pidfd = caller_open(cfg.pidfile, O_WRONLY | O_CREAT | O_TRUNC |
				    O_CLOEXEC | O_NOCTTY, 0644);
		if (pidfd < 0)
			die_err(errno, "--pid-file %s", cfg.pidfile);
	}
	if (cfg.device_cgroup) {
		if (!pr.root)	/* repeated here, where it is done */
			die("--device-cgroup: only root may use it");
		pv_harden_devices(cfg.device_cgroup);
	}
	if (cfg.harden_only) {
		if (!pr.root)
			die("--harden-only: only root may use it");
		pv_harden_caps();
		pv_harden_seccomp();
		pv_exec(cfg.argv);
	}
	if (cfg.netns)
		pv_enter_netns(cfg.netns, pr.root);

	if (cfg.userns && pr.root) {
		/* The host's root stages the idmapped sources, then becomes
		 * root of the user namespace: what follows is owned by it. */
		if (unshare(CLONE_NEWNS) < 0)
			die_err(errno, "creating a mount namespace");
		pv_stage(&ctx, 0, 0);
		pv_userns_prepare(&ctx, &cfg);
		pv_userns_enter();
		staged = true;
	} else if (pr.setuid) {
		/* The privileged part: a mount namespace of our own, the
		 * staging root and the FUSE connections (/dev/fuse may be
		 * 0600). Then the user namespace, which locks them all. */
		pv_privs_fork_mapper(&pr);
		if (unshare(CLONE_NEWNS) < 0)
			die_err(errno, "creating a mount namespace");
		pv_stage(&ctx, pr.uid, pr.gid);
		pv_fuse_prepare(&ctx, &cfg);
		pv_pin_layers(&ctx, &cfg);
		staged = true;
		pv_privs_enter_userns(&pr, false);
	} else if (!pr.root) {
		pv_pin_layers(&ctx, &cfg);
		pv_privs_enter_userns(&pr, false);
	}

	if (cfg.unshare && unshare(cfg.unshare) < 0)
		die_err(errno, "unshare");
	if (cfg.hostname && sethostname(cfg.hostname, strlen(cfg.hostname)) < 0)
		die_err(errno, "--hostname %s", cfg.hostname);
	if (cfg.unshare & CLONE_NEWNET)
		pv_loopback_up();

	/* Nothing to wait for (no pid or time namespace, no pid file): a root
	 * caller's process becomes the command itself. A non-root caller's
	 * command must start a new session, which a process group leader
	 * cannot: it always gets a fresh child. */
	if (pr.root && !cfg.pidfile &&
	    !(cfg.unshare & (CLONE_NEWPID | CLONE_NEWTIME)))
		child(&cfg, &pr, &ctx, staged);

	/* The child waits at this gate until the pid file is written: its
	 * command may tell someone it is up (the reaper's readiness fd), who
	 * then reads the pid file, and must not find it still empty. */
	if (pidfd >= 0 && pipe2(gate, O_CLOEXEC) < 0)
		die_err(errno, "creating a pipe");
	pv_block_signals();
	pid = fork();
	if (pid < 0)
		die_err(errno, "fork");
	if (pid == 0) {
		pv_restore_signals();
		if (pidfd >= 0) {
			char c;

			close(pidfd);
			close(gate[1]);
			while (read(gate[0], &c, 1) < 0 && errno == EINTR)
				;
			close(gate[0]);
		}
		child(&cfg, &pr, &ctx, staged);
	}
	if (pidfd >= 0) {
		char buf[32];
		int n = snprintf(buf, sizeof buf, "%d\n", (int)pid);
		int r = pv_write_all(pidfd, buf, (size_t)n);

		if (r < 0 || close(pidfd) < 0)
			warn("--pid-file %s: %s", cfg.pidfile,
			     strerror(r < 0 ? -r : errno));
		close(gate[0]);
		close(gate[1]);	/* EOF: the child goes on */
	}
	/* Keep only 0-2: a caller waiting for EOF on a pipe must see it
	 * when the namespace's processes are gone. */
	pv_close_fds_from(3, -1);
	return pv_wait_child(pid);
}
