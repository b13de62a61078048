/* The escape suite's probe: what root inside a subhost tries. Each probe
 * prints one line per attempt, "ESCAPE <what>" when the attack worked or
 * "refused <what>: <why>" when it did not, and exits 0 when any attempt
 * worked, 1 when all were refused, 2 when the probe itself failed.
 * A probe that works changes nothing that lasts: it writes back what it
 * read, reads no more than a sector, and never writes a device.
 *
 *   escape handles                open_by_handle_at on every mount, with
 *                                 an ext2/3/4 mount's root inode (2)
 *   escape write FILE             write FILE's own content back to it
 *   escape open FILE [w]          open FILE (read, or write), no I/O;
 *                                 "ESCAPE" only for a file of proc
 *   escape blockdev MAJ MIN [DIR] mknod a block device in DIR (/tmp) and
 *                                 read a sector
 *   escape module                 finit_module on an empty file
 *   escape settime                settimeofday and clock_settime to now
 *   escape settime32              the same as an i386 program (int 0x80)
 *   escape kill PID               signal 0 to a host process, then ptrace
 *                                 seize and detach it
 *   escape setns NSFILE...        setns into each namespace file
 *   escape reboot                 reboot(2) (RB_AUTOBOOT)
 *   escape calls                  kexec_load, bpf, perf_event_open and
 *                                 keyctl with harmless arguments: prints
 *                                 "NAME ERRNO" for each (never ESCAPE)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

static int worked;

static void escape(const char *what)
{
	printf("ESCAPE %s\n", what);
	worked = 1;
}

static void refused(const char *what, int err)
{
	printf("refused %s: %s\n", what, strerror(err));
}

static int done(void)
{
	fflush(stdout);
	return worked ? 0 : 1;
}

/* Unescape a mountinfo path (\040 and friends) in place. */
static void unoctal(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] && r[3]) {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static int handles(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096];

	if (!f) {
		perror("mountinfo");
		return 2;
	}
	while (fgets(line, sizeof line, f)) {
		char mnt[4096], what[4200];
		struct {
			struct file_handle h;
			unsigned char buf[128];
		} fh;
		int mount_id, mfd, fd;

		if (sscanf(line, "%*d %*d %*s %*s %4095s", mnt) != 1)
			continue;
		unoctal(mnt);
		fh.h.handle_bytes = sizeof fh.buf;
		if (name_to_handle_at(AT_FDCWD, mnt, &fh.h, &mount_id, 0) < 0)
			continue;	/* no handles on this file system */
		/* ext2/3/4 (FILEID_INO32_GEN): inode 2 is the file system's
		 * root, wherever this mount starts */
		if (fh.h.handle_type == 1 && fh.h.handle_bytes == 8) {
			uint32_t root[2] = { 2, 0 };

			memcpy(fh.h.f_handle, root, sizeof root);
		}
		mfd = open(mnt, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		if (mfd < 0)
			continue;
		snprintf(what, sizeof what, "open_by_handle_at %s", mnt);
		fd = open_by_handle_at(mfd, &fh.h, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			escape(what);
			close(fd);
		} else {
			refused(what, errno);
		}
		close(mfd);
	}
	fclose(f);
	return done();
}

static int write_back(const char *file)
{
	char buf[4096], what[4200];
	ssize_t n;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	snprintf(what, sizeof what, "write %s", file);
	if (fd < 0) {
		refused(what, errno);
		return done();
	}
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n < 0) {
		refused(what, errno);
		return done();
	}
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		refused(what, errno);
		return done();
	}
	if (write(fd, buf, (size_t)n) == n)
		escape(what);
	else
		refused(what, errno);
	close(fd);
	return done();
}

static int open_only(const char *file, int wr)
{
	char what[4200];
	struct statfs s;
	int fd = open(file, (wr ? O_WRONLY : O_RDONLY) | O_CLOEXEC | O_NONBLOCK);

	snprintf(what, sizeof what, "open %s%s", file, wr ? " for writing" : "");
	if (fd < 0) {
		refused(what, errno);
		return done();
	}
	/* a mask over it is another file system */
	if (fstatfs(fd, &s) == 0 && s.f_type == PROC_SUPER_MAGIC) {
		escape(what);
	} else {
		printf("refused %s: opened a mask, not proc's file\n", what);
	}
	close(fd);
	return done();
}

static int blockdev(const char *maj, const char *min, const char *dir)
{
	char node[4096], buf[512];
	int fd;

	snprintf(node, sizeof node, "%s/escape-blockdev", dir ? dir : "/tmp");
	unlink(node);
	if (mknod(node, S_IFBLK | 0600, makedev(atoi(maj), atoi(min))) < 0) {
		refused("mknod of a host disk", errno);
		return done();
	}
	fd = open(node, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		refused("open of a host disk", errno);
	} else {
		if (read(fd, buf, sizeof buf) == (ssize_t)sizeof buf)
			escape("read a sector of a host disk");
		else
			refused("read of a host disk", errno);
		close(fd);
	}
	unlink(node);
	return done();
}

static int module(void)
{
	char path[] = "/tmp/escape-module-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0) {
		perror("mkstemp");
		return 2;
	}
	unlink(path);
	/* an empty file is no module: a kernel that lets us get this far
	 * answers ENOEXEC or EINVAL (ENOSYS without module support) */
	if (syscall(SYS_finit_module, fd, "", 0) == 0 || errno != EPERM)
		escape("finit_module reached the module loader");
	else
		refused("finit_module", errno);
	close(fd);
	return done();
}

static int settime(void)
{
	struct timeval tv;
	struct timespec ts;

	gettimeofday(&tv, NULL);
	if (settimeofday(&tv, NULL) == 0)
		escape("settimeofday");
	else
		refused("settimeofday", errno);
	clock_gettime(CLOCK_REALTIME, &ts);
	if (clock_settime(CLOCK_REALTIME, &ts) == 0)
		escape("clock_settime");
	else
		refused("clock_settime", errno);
	return done();
}

#ifdef __x86_64__
/* i386's settimeofday (79) through int 0x80: the i386 ABI of the same
 * process, seen by seccomp as AUDIT_ARCH_I386. The struct must lie in
 * the low 4 GiB: a static one in a non-PIE probe does. */
static struct {
	int32_t sec, usec;
} tv32;

static int settime32(void)
{
	long r;
	struct timeval tv;

	gettimeofday(&tv, NULL);
	tv32.sec = (int32_t)tv.tv_sec;
	tv32.usec = (int32_t)tv.tv_usec;
	if ((uintptr_t)&tv32 > 0xffffffffu) {
		fprintf(stderr, "escape: build me with -no-pie\n");
		return 2;
	}
	__asm__ volatile("int $0x80" : "=a"(r)
			 : "a"(79), "b"(&tv32), "c"(0) : "memory");
	if (r == 0)
		escape("settimeofday (i386)");
	else
		refused("settimeofday (i386)", (int)-r);
	return done();
}
#endif

static int killprobe(const char *pid_s)
{
	pid_t pid = atoi(pid_s);

	if (kill(pid, 0) == 0)
		escape("signal to a host process");
	else
		refused("signal to a host process", errno);
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) == 0) {
		escape("ptrace of a host process");
		ptrace(PTRACE_DETACH, pid, 0, 0);
	} else {
		refused("ptrace of a host process", errno);
	}
	return done();
}

static int setnsprobe(int n, char **files)
{
	for (int i = 0; i < n; i++) {
		char what[4200];
		int fd = open(files[i], O_RDONLY | O_CLOEXEC);

		snprintf(what, sizeof what, "setns %s", files[i]);
		if (fd < 0) {
			refused(what, errno);
			continue;
		}
		if (setns(fd, 0) == 0)
			escape(what);
		else
			refused(what, errno);
		close(fd);
	}
	return done();
}

static int calls(void)
{
	static const struct {
		const char *name;
		long nr;
	} c[] = {
		{ "kexec_load", SYS_kexec_load },
		{ "bpf", SYS_bpf },
		{ "perf_event_open", SYS_perf_event_open },
		{ "keyctl", SYS_keyctl },
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		/* no segments, a null attribute, pid -1 on cpu -1, command 0:
		 * each fails in the kernel, if it gets there, with EINVAL,
		 * EFAULT or the like */
		long r = syscall(c[i].nr, 0L, 0L, -1L, -1L, 0L);

		printf("%s %s\n", c[i].name, r == 0 ? "0" : strerror(errno));
	}
	return 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return 2;
	if (strcmp(argv[1], "handles") == 0)
		return handles();
	if (strcmp(argv[1], "write") == 0 && argc == 3)
		return write_back(argv[2]);
	if (strcmp(argv[1], "open") == 0 && (argc == 3 || argc == 4))
		return open_only(argv[2], argc == 4);
	if (strcmp(argv[1], "blockdev") == 0 && (argc == 4 || argc == 5))
		return blockdev(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	if (strcmp(argv[1], "module") == 0)
		return module();
	if (strcmp(argv[1], "settime") == 0)
		return settime();
#ifdef __x86_64__
	if (strcmp(argv[1], "settime32") == 0)
		return settime32();
#endif
	if (strcmp(argv[1], "kill") == 0 && argc == 3)
		return killprobe(argv[2]);
	if (strcmp(argv[1], "setns") == 0)
		return setnsprobe(argc - 2, argv + 2);
	if (strcmp(argv[1], "calls") == 0)
		return calls();
	if (strcmp(argv[1], "reboot") == 0) {
		if (reboot(RB_AUTOBOOT) < 0)
			refused("reboot", errno);
		return done();
	}
	fprintf(stderr, "escape: unknown probe %s\n", argv[1]);
	return 2;
}
