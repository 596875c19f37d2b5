/*
 * Tap devices; see tap.h. The reasons are written into the caller's buffer
 * rather than logged because the caller knows what the user asked for
 * (corral-vmm prefixes them with "--net:", corrald with the domain).
 */
#include "net/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Why TUNSETIFF refused tap `name`, in words. */
static void tap_explain(int err, const char *name, char *why, size_t len)
{
	switch (err) {
	case -EBUSY:
		/* Without IFF_MULTI_QUEUE a tap has one descriptor at a time. */
		snprintf(why, len, "tap %s is in use by another process", name);
		break;
	case -EINVAL:
		/* Also a multi-queue tap, or a tun (layer 3) device. */
		snprintf(why, len, "%s exists and is not a single-queue tap", name);
		break;
	case -EPERM:
		snprintf(why, len, "not allowed to create or use tap %s (it belongs to another "
			 "user, or CAP_NET_ADMIN is missing)", name);
		break;
	default:
		snprintf(why, len, "cannot open tap %s: %s", name, strerror(-err));
	}
}

int tap_open(const char *name, char ifname[IFNAMSIZ], char *err, size_t errlen)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	size_t len = strnlen(name, IFNAMSIZ);
	int fd, e;

	if (!len || len >= IFNAMSIZ) {
		snprintf(err, errlen, "'%s' is not an interface name (1 to %d bytes)", name,
			 IFNAMSIZ - 1);
		return -EINVAL;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot open /dev/net/tun: %s", strerror(-e));
		return e;
	}
	memcpy(ifr.ifr_name, name, len + 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = -errno;
		close(fd);
		tap_explain(e, name, err, errlen);
		return e;
	}
	memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
	ifname[IFNAMSIZ - 1] = '\0';
	return fd;
}
