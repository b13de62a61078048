/* pivot-seccomp: a denylist of the system calls no subhost needs, as a
 * hand-written classic BPF filter. Denied calls fail (EPERM, or ENOSYS
 * where callers take that for "not in this kernel" and fall back); the
 * filter never kills, except a process of an ABI it does not know, which
 * would otherwise pass it unchecked.
 *
 * Architectures: the native one (x86_64, i386 or aarch64) with its table;
 * on x86_64 also i386 programs (their own numbers); x32 calls (the x86_64
 * arch with bit 30 set, turned off in Debian's kernels) are killed.
 *
 * Denied, and why (systemd-nspawn's filter was read for ideas):
 *   kexec_load, kexec_file_load    replace the host's kernel
 *   init_module, finit_module,     load code into the host's kernel
 *   delete_module                  (or unload it)
 *   open_by_handle_at              opens files outside every mount of the
 *                                  subhost (and, with nsfs handles, the
 *                                  host's namespaces)
 *   iopl, ioperm                   the host's I/O ports
 *   swapon, swapoff                the host's swap
 *   syslog                         the host's kernel log
 *   acct                           process accounting
 *   lookup_dcookie                 kernel profiling (oprofile)
 *   perf_event_open                observes the host (its CPUs, kernel)
 *   bpf                            not namespaced; would also detach the
 *                                  device cgroup's program
 *   userfaultfd                    a kernel-exploit primitive; no service
 *                                  uses it
 *   settimeofday, clock_settime,   set the host's clock (adjtimex and
 *   stime                          clock_adjtime are left to the missing
 *                                  CAP_SYS_TIME: reading through them,
 *                                  as ntp_gettime does, keeps working)
 *   fanotify_init                  file-system-wide marks see every file
 *                                  access on a file system bound in
 *                                  from the host
 *   quotactl, quotactl_fd          quotas of the host's file systems
 *   vm86, vm86old                  obsolete (i386)
 *   mount with MS_REMOUNT          unless it is a bind remount that makes
 *                                  a mount read-only: a remount rw of
 *                                  what is bound in read-only from the
 *                                  host, or a file-system remount, which
 *                                  changes the host's own superblock
 *   ENOSYS, so that callers fall back:
 *   add_key, keyctl, request_key   kernel keyrings are not namespaced
 *   mount_setattr, fspick          the new mount API's way around the
 *                                  remount rule (mount(8) falls back to
 *                                  mount(2), which the rule sees)
 *   io_uring_setup, _enter,        its operations run outside seccomp's
 *   _register                      sight
 *
 * Allowed on purpose: name_to_handle_at (a handle without open is
 * nothing), reboot (ends only the subhost's pid namespace), pivot_root,
 * ptrace and kill (the subhost's own pid namespace), setns (a namespace
 * file of the host is out of reach), unshare. */
#include "pivot-harden.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pivot-utils.h"

#define DENY_EPERM (SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))
#define DENY_ENOSYS (SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA))
#define NO_CALL (-1)	/* not on this architecture */

/* the low 32 bits of a 64-bit argument */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))
#else
#define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n) + 4)
#endif

struct rule {
	int nr;
	uint32_t action;
};

#ifdef SYS_kexec_file_load
#define NR_KEXEC_FILE SYS_kexec_file_load
#else
#define NR_KEXEC_FILE NO_CALL
#endif
#ifdef SYS_iopl
#define NR_IOPL SYS_iopl
#define NR_IOPERM SYS_ioperm
#else
#define NR_IOPL NO_CALL
#define NR_IOPERM NO_CALL
#endif
#ifdef SYS_lookup_dcookie
#define NR_DCOOKIE SYS_lookup_dcookie
#else
#define NR_DCOOKIE NO_CALL
#endif
#ifdef SYS_stime
#define NR_STIME SYS_stime
#else
#define NR_STIME NO_CALL
#endif
#ifdef SYS_clock_settime64
#define NR_SETTIME64 SYS_clock_settime64
#else
#define NR_SETTIME64 NO_CALL
#endif
#ifdef SYS_vm86
#define NR_VM86 SYS_vm86
#define NR_VM86OLD SYS_vm86old
#else
#define NR_VM86 NO_CALL
#define NR_VM86OLD NO_CALL
#endif

/* The native table, from the C library's numbers. */
static const struct rule native[] = {
	{ SYS_kexec_load, DENY_EPERM },
	{ NR_KEXEC_FILE, DENY_EPERM },
	{ SYS_init_module, DENY_EPERM },
	{ SYS_finit_module, DENY_EPERM },
	{ SYS_delete_module, DENY_EPERM },
	{ SYS_open_by_handle_at, DENY_EPERM },
	{ NR_IOPL, DENY_EPERM },
	{ NR_IOPERM, DENY_EPERM },
	{ SYS_swapon, DENY_EPERM },
	{ SYS_swapoff, DENY_EPERM },
	{ SYS_syslog, DENY_EPERM },
	{ SYS_acct, DENY_EPERM },
	{ NR_DCOOKIE, DENY_EPERM },
	{ SYS_perf_event_open, DENY_EPERM },
	{ SYS_bpf, DENY_EPERM },
	{ SYS_userfaultfd, DENY_EPERM },
	{ SYS_settimeofday, DENY_EPERM },
	{ SYS_clock_settime, DENY_EPERM },
	{ NR_SETTIME64, DENY_EPERM },
	{ NR_STIME, DENY_EPERM },
	{ SYS_fanotify_init, DENY_EPERM },
	{ SYS_quotactl, DENY_EPERM },
	{ 443 /* quotactl_fd, the same number everywhere */, DENY_EPERM },
	{ NR_VM86, DENY_EPERM },
	{ NR_VM86OLD, DENY_EPERM },
	{ SYS_add_key, DENY_ENOSYS },
	{ SYS_keyctl, DENY_ENOSYS },
	{ SYS_request_key, DENY_ENOSYS },
	{ 442 /* mount_setattr */, DENY_ENOSYS },
	{ 433 /* fspick */, DENY_ENOSYS },
	{ 425 /* io_uring_setup */, DENY_ENOSYS },
	{ 426 /* io_uring_enter */, DENY_ENOSYS },
	{ 427 /* io_uring_register */, DENY_ENOSYS },
};

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#define X32_BIT 0x40000000u
/* i386 programs on an x86_64 kernel: the same list in i386 numbers
 * (<asm/unistd_32.h>; these never change). */
static const struct rule compat[] = {
	{ 283, DENY_EPERM },	/* kexec_load */
	{ 128, DENY_EPERM },	/* init_module */
	{ 350, DENY_EPERM },	/* finit_module */
	{ 129, DENY_EPERM },	/* delete_module */
	{ 342, DENY_EPERM },	/* open_by_handle_at */
	{ 110, DENY_EPERM },	/* iopl */
	{ 101, DENY_EPERM },	/* ioperm */
	{ 87, DENY_EPERM },	/* swapon */
	{ 115, DENY_EPERM },	/* swapoff */
	{ 103, DENY_EPERM },	/* syslog */
	{ 51, DENY_EPERM },	/* acct */
	{ 253, DENY_EPERM },	/* lookup_dcookie */
	{ 336, DENY_EPERM },	/* perf_event_open */
	{ 357, DENY_EPERM },	/* bpf */
	{ 374, DENY_EPERM },	/* userfaultfd */
	{ 79, DENY_EPERM },	/* settimeofday */
	{ 264, DENY_EPERM },	/* clock_settime */
	{ 404, DENY_EPERM },	/* clock_settime64 */
	{ 25, DENY_EPERM },	/* stime */
	{ 338, DENY_EPERM },	/* fanotify_init */
	{ 131, DENY_EPERM },	/* quotactl */
	{ 443, DENY_EPERM },	/* quotactl_fd */
	{ 166, DENY_EPERM },	/* vm86 */
	{ 113, DENY_EPERM },	/* vm86old */
	{ 286, DENY_ENOSYS },	/* add_key */
	{ 288, DENY_ENOSYS },	/* keyctl */
	{ 287, DENY_ENOSYS },	/* request_key */
	{ 442, DENY_ENOSYS },	/* mount_setattr */
	{ 433, DENY_ENOSYS },	/* fspick */
	{ 425, DENY_ENOSYS },	/* io_uring_setup */
	{ 426, DENY_ENOSYS },	/* io_uring_enter */
	{ 427, DENY_ENOSYS },	/* io_uring_register */
};
#define COMPAT_ARCH AUDIT_ARCH_I386
#define COMPAT_MOUNT 21
#elif defined(__i386__)
#define NATIVE_ARCH AUDIT_ARCH_I386
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "pivot-seccomp: add this architecture's AUDIT_ARCH and its compat ABIs"
#endif

#define MAX_INSNS 256

struct prog {
	struct sock_filter f[MAX_INSNS];
	unsigned short n;
};

static void emit(struct prog *p, uint16_t code, uint8_t jt, uint8_t jf,
		 uint32_t k)
{
	if (p->n >= MAX_INSNS)
		die("--harden: the seccomp filter is too long");
	p->f[p->n++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

/* One architecture's section: A holds nothing on entry; it ends with a
 * return, so sections never fall into each other. */
static void section(struct prog *p, const struct rule *r, size_t n,
		    int mount_nr)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));
#ifdef X32_BIT
	if (r == native) {
		emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, X32_BIT);
		emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_KILL_PROCESS);
	}
#endif
	for (size_t i = 0; i < n; i++) {
		if (r[i].nr == NO_CALL)
			continue;
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (uint32_t)r[i].nr);
		emit(p, BPF_RET | BPF_K, 0, 0, r[i].action);
	}
	/* mount(2): a remount is allowed only as "bind,ro" */
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 6, (uint32_t)mount_nr);
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARG_LO(3));
	emit(p, BPF_JMP | BPF_JSET | BPF_K, 0, 3, MS_REMOUNT);
	emit(p, BPF_ALU | BPF_AND | BPF_K, 0, 0, MS_BIND | MS_RDONLY);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, MS_BIND | MS_RDONLY);
	emit(p, BPF_RET | BPF_K, 0, 0, DENY_EPERM);
	emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
	emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
}

void pv_harden_seccomp(void)
{
	static struct prog p;
	struct sock_fprog fp;
	unsigned short jump_native;

	p.n = 0;
	emit(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, arch));
	emit(&p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, NATIVE_ARCH);
	jump_native = p.n;
	emit(&p, BPF_JMP | BPF_JA, 0, 0, 0);	/* to the native section */
#ifdef COMPAT_ARCH
	unsigned short jump_compat;

	emit(&p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, COMPAT_ARCH);
	jump_compat = p.n;
	emit(&p, BPF_JMP | BPF_JA, 0, 0, 0);
#endif
	emit(&p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_KILL_PROCESS);
	p.f[jump_native].k = (uint32_t)(p.n - jump_native - 1);
	section(&p, native, sizeof native / sizeof native[0], SYS_mount);
#ifdef COMPAT_ARCH
	p.f[jump_compat].k = (uint32_t)(p.n - jump_compat - 1);
	section(&p, compat, sizeof compat / sizeof compat[0], COMPAT_MOUNT);
#endif
	fp.len = p.n;
	fp.filter = p.f;
	/* Root installs it without no_new_privs (CAP_SYS_ADMIN), so that
	 * su, sudo and ping inside keep their set-user-id bits; the filter
	 * is inherited by every child and kept across execve. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
		die_err(errno, "--harden: installing the seccomp filter");
}
