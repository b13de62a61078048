/* Drive overlay-pivot's mount code directly, without its argument parser,
 * to show that the root-only checks live where the mounts are made (a
 * check that lives only in the parser can be bypassed: CVE-2026-41163).
 *
 *   bypass root|user dev-bind|devtmpfs
 *
 * Run as root in a private mount namespace. "user" marks the caller as not
 * root (ctx.root = false); "root" is the control. Exits 0 when the mount
 * was made, 1 (with overlay-pivot's message) when it was refused. */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "pivot-mount.h"
#include "pivot-parse.h"

/* the name overlay-pivot's messages begin with (msg.h) */
const char *msg_prog = "overlay-pivot";

int main(int argc, char **argv)
{
	struct pv_config cfg;
	struct pv_ctx ctx;
	struct pv_op ops[2];

	if (argc != 3)
		return 2;
	memset(&cfg, 0, sizeof cfg);
	memset(&ctx, 0, sizeof ctx);
	memset(ops, 0, sizeof ops);
	/* a tmp-overlay of / as the new root, then the root-only mount */
	ops[0].type = PV_OP_TMP_OVERLAY;
	ops[0].src = "/";
	ops[0].dst = "/";
	if (strcmp(argv[2], "dev-bind") == 0) {
		ops[1].type = PV_OP_DEV_BIND;
		ops[1].src = "/dev";
		ops[1].dst = "/d";
	} else {
		ops[1].type = PV_OP_MOUNT;
		ops[1].fstype = "devtmpfs";
		ops[1].src = "none";
		ops[1].dst = "/d";
	}
	cfg.ops = ops;
	cfg.nops = 2;
	ctx.root = strcmp(argv[1], "root") == 0;
	ctx.uid = 0;
	ctx.oldroot = ctx.newroot = ctx.scratch = -1;
	if (unshare(CLONE_NEWNS) < 0) {
		perror("unshare");
		return 2;
	}
	pv_stage(&ctx, 0, 0);
	pv_build(&ctx, &cfg);
	puts("mounted");
	return 0;
}
