/* pivot-devices: only the standard device nodes usable in a subhost
 * (--device-cgroup DIR). A cgroup v2 device program (eBPF, the v2 form
 * of the device controller) is attached to the subhost's group: every
 * open and mknod of a device node by a process in it or below it is
 * checked, whatever the node's file system (a fresh devtmpfs included)
 * and whoever made the node. Mounting a block device is checked too.
 *
 * Allowed (read, write, mknod), all character devices:
 *   1:3 null, 1:5 zero, 1:7 full, 1:8 random, 1:9 urandom
 *   5:0 tty, 5:1 console, 5:2 ptmx, 136-143:* the pty slaves
 *   10:200 net/tun, 10:229 fuse (they act in the subhost's namespaces)
 * Everything else, every block device above all, is refused (EPERM).
 *
 * The program stays attached while the group exists (it is removed with
 * the group at stop). BPF_F_ALLOW_MULTI: groups the subhost makes below
 * its own may only refuse more. bpf(2) is denied inside by the seccomp
 * filter, so the subhost cannot detach it. */
#include "pivot-harden.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pivot-utils.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define LDX_W(dst, off) { BPF_LDX | BPF_W | BPF_MEM, dst, BPF_REG_1, off, 0 }
#define AND_K(dst, k) { BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, k }
#define JMP_K(op, reg, k, off) { BPF_JMP | op | BPF_K, reg, 0, off, k }
#define JA(off) { BPF_JMP | BPF_JA, 0, 0, off, 0 }
#define MOV_K(dst, k) { BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, k }
#define EXIT { BPF_JMP | BPF_EXIT, 0, 0, 0, 0 }

/* Jump offsets count from the next instruction: J(from, to). */
#define J(from, to) ((to) - (from) - 1)
enum { MEM = 11, TTY = 17, MISC = 21, DENY = 23, ALLOW = 25 };

static const struct bpf_insn prog[] = {
	/* 0 */ LDX_W(BPF_REG_2, offsetof(struct bpf_cgroup_dev_ctx, access_type)),
	/* 1 */ AND_K(BPF_REG_2, 0xffff),	/* the device type */
	/* 2 */ LDX_W(BPF_REG_3, offsetof(struct bpf_cgroup_dev_ctx, major)),
	/* 3 */ LDX_W(BPF_REG_4, offsetof(struct bpf_cgroup_dev_ctx, minor)),
	/* 4 */ JMP_K(BPF_JNE, BPF_REG_2, BPF_DEVCG_DEV_CHAR, J(4, DENY)),
	/* 5 */ JMP_K(BPF_JEQ, BPF_REG_3, 1, J(5, MEM)),
	/* 6 */ JMP_K(BPF_JEQ, BPF_REG_3, 5, J(6, TTY)),
	/* 7 */ JMP_K(BPF_JEQ, BPF_REG_3, 10, J(7, MISC)),
	/* 8 */ JMP_K(BPF_JGE, BPF_REG_3, 144, J(8, DENY)),
	/* 9 */ JMP_K(BPF_JGE, BPF_REG_3, 136, J(9, ALLOW)),
	/* 10 */ JA(J(10, DENY)),
	/* 11 MEM */ JMP_K(BPF_JEQ, BPF_REG_4, 3, J(11, ALLOW)),
	/* 12 */ JMP_K(BPF_JEQ, BPF_REG_4, 5, J(12, ALLOW)),
	/* 13 */ JMP_K(BPF_JEQ, BPF_REG_4, 7, J(13, ALLOW)),
	/* 14 */ JMP_K(BPF_JEQ, BPF_REG_4, 8, J(14, ALLOW)),
	/* 15 */ JMP_K(BPF_JEQ, BPF_REG_4, 9, J(15, ALLOW)),
	/* 16 */ JA(J(16, DENY)),
	/* 17 TTY */ JMP_K(BPF_JEQ, BPF_REG_4, 0, J(17, ALLOW)),
	/* 18 */ JMP_K(BPF_JEQ, BPF_REG_4, 1, J(18, ALLOW)),
	/* 19 */ JMP_K(BPF_JEQ, BPF_REG_4, 2, J(19, ALLOW)),
	/* 20 */ JA(J(20, DENY)),
	/* 21 MISC */ JMP_K(BPF_JEQ, BPF_REG_4, 200, J(21, ALLOW)),
	/* 22 */ JMP_K(BPF_JEQ, BPF_REG_4, 229, J(22, ALLOW)),
	/* 23 DENY */ MOV_K(BPF_REG_0, 0),
	/* 24 */ EXIT,
	/* 25 ALLOW */ MOV_K(BPF_REG_0, 1),
	/* 26 */ EXIT,
};

_Static_assert(sizeof prog / sizeof prog[0] == ALLOW + 2,
	       "the labels of the device program are out of date");

static int load(const struct bpf_insn *insns, char *log, size_t logsize)
{
	union bpf_attr a;

	memset(&a, 0, sizeof a);
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = sizeof prog / sizeof prog[0];
	a.license = (uint64_t)(uintptr_t)"GPL";
	if (log) {
		log[0] = '\0';
		a.log_buf = (uint64_t)(uintptr_t)log;
		a.log_size = (uint32_t)logsize;
		a.log_level = 1;
	}
	return (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
}

void pv_harden_devices(const char *dir)
{
	union bpf_attr a;
	struct statfs sf;
	char log[4096];
	int cg, p;

	cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		die_err(errno, "--device-cgroup %s", dir);
	if (fstatfs(cg, &sf) < 0)
		die_err(errno, "--device-cgroup %s: statfs", dir);
	if ((unsigned long)sf.f_type != CGROUP2_SUPER_MAGIC)
		die("--device-cgroup %s: not a cgroup v2 group", dir);

	p = load(prog, NULL, 0);
	if (p < 0) {
		int e = errno;

		/* again, for the verifier's last line: why */
		if (load(prog, log, sizeof log) < 0 && log[0]) {
			char *nl;

			while ((nl = strrchr(log, '\n')) && nl[1] == '\0')
				*nl = '\0';
			die("--device-cgroup %s: loading the device program: %s (%s)",
			    dir, strerror(e), nl ? nl + 1 : log);
		}
		die_err(e, "--device-cgroup %s: loading the device program", dir);
	}

	memset(&a, 0, sizeof a);
	a.target_fd = (uint32_t)cg;
	a.attach_bpf_fd = (uint32_t)p;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof a) < 0)
		die_err(errno, "--device-cgroup %s: attaching the device program", dir);
	close(p);
	close(cg);
}
