/* The network-namespace backstop (see netns.h): unshare, then loopback up.
 * A fresh namespace holds "lo" down; without it even 127.0.0.1 is
 * unreachable (ENETUNREACH), so the first task raises it with the same ioctl
 * ifconfig(8) uses — it holds CAP_NET_ADMIN over the namespace it just made
 * (as root, or as root of its user namespace). Addresses 127.0.0.1/8 and ::1
 * come with the interface once it is up. */
#include "platform/netns.h"

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/macro.h"

int jh_netns_enter(void)
{
	struct ifreq ifr;
	int fd, r = 0;

	if (unshare(CLONE_NEWNET) < 0)
		return jh_negerrno();
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return jh_negerrno();
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		r = jh_negerrno();
	else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			r = jh_negerrno();
	}
	close(fd);
	return r;
}
