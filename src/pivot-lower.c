/* pivot-lower: the overlay lower layers of a set-user-id run, prepared
 * with privilege (the user namespace that follows would refuse an overlay
 * over a directory with locked mounts below it). */
#include "pivot-lower.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pivot-sys.h"
#include "pivot-utils.h"

static void prepare_one(struct pv_ctx *ctx, const char *what, const char *path,
			unsigned n)
{
	struct mount_attr a;
	char dir[32];
	int fd, m, d;

	/* a directory the caller may read and search */
	fd = pv_open_host(ctx, what, path, O_DIRECTORY, true);
	m = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (m < 0)
		pv_die_err(errno, "%s %s: cloning the mount", what, path);
	memset(&a, 0, sizeof a);
	a.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	if (mount_setattr(m, "", AT_EMPTY_PATH, &a, sizeof a) < 0)
		pv_die_err(errno, "%s %s: setting mount flags", what, path);
	snprintf(dir, sizeof dir, "/sq/l%u", n);
	if (mkdir(dir, 0755) < 0)
		pv_die_err(errno, "%s %s: mkdir %s", what, path, dir);
	d = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d < 0)
		pv_die_err(errno, "%s %s: open %s", what, path, dir);
	if (move_mount(m, "", d, "", MOVE_MOUNT_F_EMPTY_PATH |
		       MOVE_MOUNT_T_EMPTY_PATH) < 0)
		pv_die_err(errno, "%s %s: attaching", what, path);
	close(d);
	close(m);
	close(fd);
}

static size_t for_each_lower(struct pv_ctx *ctx, const struct pv_config *cfg,
			     bool prepare)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->nops; i++) {
		const struct pv_op *op = &cfg->ops[i];

		if (op->type == PV_OP_OVERLAY || op->type == PV_OP_TMP_OVERLAY) {
			if (prepare)
				prepare_one(ctx, op->type == PV_OP_OVERLAY ?
					    "--overlay" : "--tmp-overlay", op->src,
					    (unsigned)n);
			n++;
		} else if (op->type == PV_OP_OVSPEC) {
			for (size_t j = 0; j < op->nlowers; j++) {
				if (prepare)
					prepare_one(ctx, "-o lowerdir",
						    op->lowers[j], (unsigned)n);
				n++;
			}
		}
	}
	return n;
}

void pv_lower_prepare(struct pv_ctx *ctx, const struct pv_config *cfg)
{
	(void)for_each_lower(ctx, cfg, true);
}

void pv_lower_open(struct pv_ctx *ctx, const struct pv_config *cfg)
{
	size_t n = for_each_lower(ctx, cfg, false);

	ctx->lowers_prepared = true;
	ctx->nlower_fds = 0;
	ctx->lower_used = 0;
	ctx->lower_fds = pv_xcalloc(n, sizeof *ctx->lower_fds);
	for (size_t i = 0; i < n; i++) {
		char dir[32];
		int fd;

		snprintf(dir, sizeof dir, "/sq/l%zu", i);
		fd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			pv_die_err(errno, "open %s", dir);
		ctx->lower_fds[ctx->nlower_fds++] = fd;
	}
}
