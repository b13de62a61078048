/* pivot-caps: the capability bounding set of a subhost. What is removed
 * acts on the whole host, not on the subhost's own namespaces; what is
 * kept either acts only inside them or is needed by ordinary services.
 *
 * Removed:
 *   CAP_SYS_MODULE       loads code into the host's kernel
 *   CAP_SYS_RAWIO        port I/O, /dev/mem, raw SCSI commands
 *   CAP_SYS_TIME         the clock is the host's (a time namespace only
 *                        offsets the monotonic and boot clocks); reading
 *                        it, adjtimex(2) with no mode included, stays
 *   CAP_SYSLOG           the host's kernel log, kernel addresses
 *   CAP_MAC_ADMIN        the host's LSM policy
 *   CAP_MAC_OVERRIDE
 *   CAP_DAC_READ_SEARCH  open_by_handle_at(2): a file handle opens any
 *                        file of a file system, outside every mount;
 *                        reading and searching stay (CAP_DAC_OVERRIDE)
 *   CAP_WAKE_ALARM       timers that wake the host from suspend
 *   CAP_BLOCK_SUSPEND    keeps the host from suspending
 *   CAP_SYS_PACCT        process accounting: no service needs it
 *   CAP_AUDIT_READ       the host's audit log (multicast netlink)
 *   CAP_PERFMON          perf events and BPF tracing of every CPU
 *   CAP_BPF              BPF maps and programs are not namespaced
 *   CAP_SYS_TTY_CONFIG   key maps and fonts of the host's console
 *                        (/dev/console is the host's)
 *
 * Kept, on purpose:
 *   CAP_SYS_BOOT         reboot(2) in a pid namespace other than the
 *                        first only ends that namespace: `reboot` or
 *                        `halt` inside stops the subhost. kexec, the
 *                        host-wide part, is denied by the seccomp filter.
 *   CAP_AUDIT_CONTROL    the kernel refuses audit configuration from any
 *                        pid namespace but the first; what is left is
 *                        setting the login uid, which pam_loginuid
 *                        (required by Debian's sshd and cron) does
 *   CAP_LINUX_IMMUTABLE  only on files the subhost can write already
 *   CAP_SYS_ADMIN        mounts, host name, namespaces: a subhost needs
 *                        them (with USERNS=no it is the host's, hence
 *                        the proc residue; see overlay-boot(8))
 *   CAP_MKNOD            device nodes; which devices are usable is the
 *                        device cgroup's business
 *   the rest             act on the subhost's own namespaces (net, ipc,
 *                        pids) or its own files
 */
#include "pivot-harden.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pivot-utils.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static const struct {
	int cap;
	const char *name;
} host_caps[] = {
	{ CAP_SYS_MODULE, "CAP_SYS_MODULE" },
	{ CAP_SYS_RAWIO, "CAP_SYS_RAWIO" },
	{ CAP_SYS_TIME, "CAP_SYS_TIME" },
	{ CAP_SYSLOG, "CAP_SYSLOG" },
	{ CAP_MAC_ADMIN, "CAP_MAC_ADMIN" },
	{ CAP_MAC_OVERRIDE, "CAP_MAC_OVERRIDE" },
	{ CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH" },
	{ CAP_WAKE_ALARM, "CAP_WAKE_ALARM" },
	{ CAP_BLOCK_SUSPEND, "CAP_BLOCK_SUSPEND" },
	{ CAP_SYS_PACCT, "CAP_SYS_PACCT" },
	{ CAP_AUDIT_READ, "CAP_AUDIT_READ" },
	{ CAP_PERFMON, "CAP_PERFMON" },
	{ CAP_BPF, "CAP_BPF" },
	{ CAP_SYS_TTY_CONFIG, "CAP_SYS_TTY_CONFIG" },
};
#define NCAPS (sizeof host_caps / sizeof host_caps[0])

void pv_harden_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int last = pv_last_cap();

	for (size_t i = 0; i < NCAPS; i++) {
		if (host_caps[i].cap > last)
			continue;
		if (prctl(PR_CAPBSET_DROP, host_caps[i].cap, 0, 0, 0) < 0)
			die_err(errno, "--harden: dropping %s from the bounding set",
				host_caps[i].name);
	}
	/* The bounding set limits what exec gives; an inherited capability
	 * would pass through it. Out of every set of ours too (ambient
	 * follows inheritable). */
	if (syscall(SYS_capget, &h, d) < 0)
		die_err(errno, "--harden: capget");
	for (size_t i = 0; i < NCAPS; i++) {
		int c = host_caps[i].cap;
		unsigned bit = 1u << (c % 32);

		d[c / 32].effective &= ~bit;
		d[c / 32].permitted &= ~bit;
		d[c / 32].inheritable &= ~bit;
	}
	if (syscall(SYS_capset, &h, d) < 0)
		die_err(errno, "--harden: capset");
	/* verified, as privileges are */
	if (syscall(SYS_capget, &h, d) < 0)
		die_err(errno, "--harden: capget");
	for (size_t i = 0; i < NCAPS; i++) {
		int c = host_caps[i].cap;
		unsigned bit = 1u << (c % 32);

		if (c > last)
			continue;
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 0 ||
		    (d[c / 32].effective | d[c / 32].permitted |
		     d[c / 32].inheritable) & bit ||
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) > 0)
			die("--harden: %s is still held after dropping it",
			    host_caps[i].name);
	}
}
