/* pivot-net: the network namespace the command runs in: one given by
 * --netns (root only), or a new one (-N); either has its loopback up. */
#include "pivot-net.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pivot-utils.h"

void pv_loopback_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		die_err(errno, "socket");
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		die_err(errno, "lo: SIOCGIFFLAGS");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		die_err(errno, "lo: bringing it up");
	close(s);
}

void pv_enter_netns(const char *path, bool root)
{
	int fd;

	/* repeated here, where it is done */
	if (!root)
		die("--netns: only root may use it");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_err(errno, "--netns %s", path);
	if (setns(fd, CLONE_NEWNET) < 0)
		die_err(errno, "--netns %s: setns", path);
	close(fd);
	/* A namespace to run in has its loopback up, as a new one (-N) does. */
	pv_loopback_up();
}
