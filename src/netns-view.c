/*
 * netns-view — the interfaces of many network namespaces, in one process.
 *
 *     netns-view NAME...
 *
 * For each NAME (a namespace bound at /run/netns/NAME, as `ip netns`
 * makes them), in the order given, prints one line per interface MAC and
 * per global address:
 *
 *     NAME IFNAME mac 02:00:00:00:00:01
 *     NAME IFNAME inet 10.0.0.2/24
 *     NAME IFNAME inet6 fd00::2/64
 *
 * Why it exists: overlay-list shows every running subhost's cables and
 * addresses.  An `ip -n NAME addr` per subhost made the listing cost grow
 * by a fork and exec per subhost; this program joins each namespace in
 * turn with setns() and asks getifaddrs(), so the listing costs one
 * process however many subhosts run.  "Global" is what `ip` calls scope
 * global: not loopback, not link-local.
 *
 * A NAME whose namespace is gone (a subhost stopping meanwhile) is
 * skipped without a word: the listing is a snapshot.  Exit status: 0, 2
 * for a usage error, 1 when the network namespace cannot be joined at all
 * (not root).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"

const char *msg_prog = "netns-view";

/* prefix_length: the number of leading one bits of a netmask. */
static int prefix_length(const unsigned char *mask, size_t len)
{
	int bits = 0;
	size_t i;

	for (i = 0; i < len; i++)
		for (unsigned char b = mask[i]; b & 0x80; b <<= 1)
			bits++;
	return bits;
}

static int is_global(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
		return (a >> 24) != 127 && (a >> 16) != 0xa9fe;
	}
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	return !IN6_IS_ADDR_LOOPBACK(a6) && !IN6_IS_ADDR_LINKLOCAL(a6);
}

static void print_address(const char *name, const struct ifaddrs *ifa)
{
	char text[INET6_ADDRSTRLEN];
	const void *addr, *mask;
	size_t len;
	int family = ifa->ifa_addr->sa_family;

	if (!is_global(ifa->ifa_addr) || !ifa->ifa_netmask)
		return;
	if (family == AF_INET) {
		addr = &((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr;
		mask = &((const struct sockaddr_in *)ifa->ifa_netmask)->sin_addr;
		len = 4;
	} else {
		addr = &((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;
		mask = &((const struct sockaddr_in6 *)ifa->ifa_netmask)->sin6_addr;
		len = 16;
	}
	if (!inet_ntop(family, addr, text, sizeof text))
		return;
	printf("%s %s %s %s/%d\n", name, ifa->ifa_name,
	       family == AF_INET ? "inet" : "inet6", text,
	       prefix_length(mask, len));
}

static void print_mac(const char *name, const struct ifaddrs *ifa)
{
	const struct sockaddr_ll *ll = (const struct sockaddr_ll *)ifa->ifa_addr;
	int i;

	if (ll->sll_halen != 6 || (ifa->ifa_flags & IFF_LOOPBACK))
		return;
	printf("%s %s mac ", name, ifa->ifa_name);
	for (i = 0; i < 6; i++)
		printf("%02x%c", ll->sll_addr[i], i < 5 ? ':' : '\n');
}

/* view: print NAME's interfaces; 0, or -1 when it cannot be joined. */
static int view(const char *name)
{
	char path[sizeof "/run/netns/" + 256];
	struct ifaddrs *list, *ifa;
	int fd;

	if (snprintf(path, sizeof path, "/run/netns/%s", name) >= (int)sizeof path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (setns(fd, CLONE_NEWNET) < 0) {
		int err = errno;
		close(fd);
		return err == EPERM ? -1 : 0;
	}
	close(fd);
	if (getifaddrs(&list) < 0)
		return 0;
	for (ifa = list; ifa; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr)
			continue;
		switch (ifa->ifa_addr->sa_family) {
		case AF_PACKET:
			print_mac(name, ifa);
			break;
		case AF_INET:
		case AF_INET6:
			print_address(name, ifa);
			break;
		}
	}
	freeifaddrs(list);
	return 0;
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2)
		die_usage("usage: netns-view NAME...");
	for (i = 1; i < argc; i++) {
		if (!argv[i][0] || strchr(argv[i], '/') || !strcmp(argv[i], "..") ||
		    !strcmp(argv[i], "."))
			continue;
		if (view(argv[i]) < 0)
			die_err(EPERM, "joining the network namespace of %s",
				argv[i]);
	}
	return fflush(stdout) == 0 ? 0 : EXIT_FAIL;
}
