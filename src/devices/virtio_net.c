/*
 * virtio-net on a tap device; see virtio_net.h. Quotes are from the virtio
 * 1.x specification, section 5.1 "Network Device".
 *
 * Queue 0 is receiveq1, queue 1 transmitq1; each has its own thread. The
 * transmit thread copies each frame's header out of the guest (so what is
 * checked is what the tap sees), checks it against the negotiated offloads
 * and writev()s header and frame to the tap. The receive thread reads one
 * frame at a time from the tap and copies it into as many receive buffers
 * as it needs; while the ring is empty the frame waits, the tap is not read
 * and the thread sleeps on the queue's doorbell. Both threads batch their
 * interrupts. A frame the driver framed wrongly is dropped, never the queue;
 * only a broken ring (virtqueue_pop() -EIO) stops a queue until reset.
 * With vhost-net (vhost_net.c) the kernel does all of this instead and
 * neither thread runs.
 */
#include "devices/virtio_net.h"
#include "devices/vhost_net.h"
#include "devices/virtio_pci.h"
#include "devices/worker.h"
#include "common/keyval.h"
#include "common/log.h"
#include "common/util.h"
#include "net/link.h"
#include "net/tap.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

/* Feature bits (5.1.3). */
#define NET_F_CSUM       0	/* the device takes partially checksummed frames */
#define NET_F_GUEST_CSUM 1	/* the driver takes them */
#define NET_F_MAC        5
#define NET_F_GUEST_TSO4 7
#define NET_F_GUEST_TSO6 8
#define NET_F_GUEST_ECN  9
#define NET_F_HOST_TSO4  11
#define NET_F_HOST_TSO6  12
#define NET_F_HOST_ECN   13
#define NET_F_MRG_RXBUF  15
#define NET_F_STATUS     16

#define BIT(n) (1ull << (n))
#define NET_FEATURES (BIT(NET_F_CSUM) | BIT(NET_F_GUEST_CSUM) | BIT(NET_F_MAC) |	\
		      BIT(NET_F_GUEST_TSO4) | BIT(NET_F_GUEST_TSO6) |			\
		      BIT(NET_F_GUEST_ECN) | BIT(NET_F_HOST_TSO4) |			\
		      BIT(NET_F_HOST_TSO6) | BIT(NET_F_HOST_ECN) |			\
		      BIT(NET_F_MRG_RXBUF) | BIT(NET_F_STATUS))

#define NET_S_LINK_UP 1

/* Device configuration (5.1.4): mac[6], status, max_virtqueue_pairs. */
#define CONFIG_MAC         0
#define CONFIG_STATUS      6
#define CONFIG_MAX_PAIRS   8
#define CONFIG_LEN         10

/*
 * struct virtio_net_hdr_v1 (5.1.6): flags, gso_type, hdr_len, gso_size,
 * csum_start, csum_offset, num_buffers. With VIRTIO_F_VERSION_1 (which the
 * transport requires) num_buffers is always there, mergeable or not, so the
 * tap is told to use 12-byte headers and header and frame pass through it
 * unchanged. The tap only reads and writes the first 10 bytes.
 */
#define HDR_LEN          12
#define HDR_FLAGS        0
#define HDR_GSO_TYPE     1
#define HDR_NUM_BUFFERS  10
#define HDR_F_NEEDS_CSUM 1
#define HDR_F_DATA_VALID 2
#define GSO_NONE  0
#define GSO_TCPV4 1
#define GSO_TCPV6 4
#define GSO_ECN   0x80

/*
 * The largest frame, header excluded: the spec's advice to drivers without
 * MRG_RXBUF is receive buffers "of at least 65562 bytes" with GUEST_TSO, the
 * header included, so no frame we hand over may need more. Transmitted
 * frames get the same bound (a 64 KiB GSO frame plus its Ethernet header).
 */
#define FRAME_MAX  (65562 - HDR_LEN)
#define RX_BUF_LEN (HDR_LEN + FRAME_MAX)

#define NET_QUEUE_SIZE 256
#define RXQ 0
#define TXQ 1
/* Room for any chain virtqueue_pop() accepts, so a long but legal chain
 * never breaks the queue. */
#define NET_MAX_IOV  VIRTQ_MAX_SIZE
#define NOTIFY_BATCH 64		/* pushes between interrupt checks under load */
#define TX_ROOM_WAIT_MS 1000	/* a full tap for this long drops the frame */

struct net_rx {
	uint8_t *buf;			/* header + frame as read from the tap (+1 byte) */
	size_t len;			/* bytes in buf; 0 when no frame waits */
	size_t copied;			/* of them, already in held chains */
	unsigned held;			/* chains taken for this frame, not yet pushed */
	uint16_t head[VIRTQ_MAX_SIZE];
	uint32_t written[VIRTQ_MAX_SIZE];
	struct virtq_chain first;	/* the first held chain (num_buffers goes there) */
	struct iovec first_iov[NET_MAX_IOV];
	struct iovec iov[NET_MAX_IOV];	/* for the chains after the first */
	unsigned unsignalled;		/* pushes since the last interrupt check */
	bool warned;
};

struct net_tx {
	struct iovec chain_iov[NET_MAX_IOV];
	struct iovec send_iov[NET_MAX_IOV + 1];	/* our header copy, then the frame */
	uint8_t hdr[HDR_LEN];
	unsigned unsignalled;
	bool warned;
};

struct virtio_net {
	struct virtio_pci *vp;
	const struct guest_memory *mem;
	struct vhost_net vhost;		/* vhost.fd < 0: our own threads move frames */
	int tap;
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	_Atomic uint16_t status;	/* read by vCPU threads, changed by rx */
	uint64_t features;		/* negotiated; set before the threads start */
	struct worker rx_worker, tx_worker;
	struct net_rx rx;
	struct net_tx tx;
};

static bool negotiated(const struct virtio_net *net, unsigned bit)
{
	return net->features & BIT(bit);
}

/* Option parsing. */

/* The kernel's rules (dev_valid_name()), and no '%' so that a name is never
 * a pattern the kernel would fill in. */
static bool ifname_valid(const char *name)
{
	size_t len = strnlen(name, IFNAMSIZ);

	if (!len || len >= IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *p = name; *p; p++) {
		if (*p == '/' || *p == ':' || *p == '%' || isspace((unsigned char)*p))
			return false;
	}
	return true;
}

static unsigned hex_value(char c)
{
	return isdigit((unsigned char)c) ? (unsigned)(c - '0')
					 : (unsigned)(tolower((unsigned char)c) - 'a' + 10);
}

/* Exactly six colon-separated pairs of hex digits. */
static int mac_parse(const char *text, uint8_t mac[6])
{
	for (unsigned i = 0; i < 6; i++) {
		const char *p = text + 3 * i;

		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    p[2] != (i == 5 ? '\0' : ':'))
			return -EINVAL;
		mac[i] = hex_value(p[0]) << 4 | hex_value(p[1]);
	}
	return 0;
}

/* 00:16:3e is Xen's OUI; its half with the 4th byte's top bit clear is
 * what Xen (and libvirt) use for random addresses. */
static int mac_random(uint8_t mac[6])
{
	uint8_t r[3];
	ssize_t n;

	do
		n = getrandom(r, sizeof(r), 0);
	while (n < 0 && errno == EINTR);
	if (n != sizeof(r))
		return log_errno("--net: getrandom for a MAC address");
	mac[0] = 0x00;
	mac[1] = 0x16;
	mac[2] = 0x3e;
	mac[3] = r[0] & 0x7f;
	mac[4] = r[1];
	mac[5] = r[2];
	return 0;
}

static int name_option(const struct keyval *kv, char out[IFNAMSIZ])
{
	if (out[0]) {
		log_error("--net: %s given twice", kv->key);
		return -EINVAL;
	}
	if (!kv->has_value || !ifname_valid(kv->value)) {
		log_error("--net: %s must be an interface name of 1 to %d characters without "
			  "'/', ':', '%%' or spaces, not '%s'", kv->key, IFNAMSIZ - 1,
			  kv->has_value ? kv->value : "");
		return -EINVAL;
	}
	memcpy(out, kv->value, strlen(kv->value) + 1);
	return 0;
}

static int mac_option(const struct keyval *kv, uint8_t mac[6], bool *have_mac)
{
	static const uint8_t zero[6];

	if (*have_mac) {
		log_error("--net: mac given twice");
		return -EINVAL;
	}
	if (!kv->has_value || mac_parse(kv->value, mac) < 0) {
		log_error("--net: mac must look like 52:54:00:12:34:56, not '%s'",
			  kv->has_value ? kv->value : "");
		return -EINVAL;
	}
	if (mac[0] & 1) {
		log_error("--net: mac %s is a multicast address (bit 0 of the first byte is "
			  "set)", kv->value);
		return -EINVAL;
	}
	if (!memcmp(mac, zero, sizeof(zero))) {
		log_error("--net: mac may not be all zeroes");
		return -EINVAL;
	}
	*have_mac = true;
	return 0;
}

static int vhost_option(const struct keyval *kv, enum net_vhost *mode, bool *have_vhost)
{
	static const char *const names[] = { [NET_VHOST_AUTO] = "auto", [NET_VHOST_ON] = "on",
					     [NET_VHOST_OFF] = "off" };

	if (*have_vhost) {
		log_error("--net: vhost given twice");
		return -EINVAL;
	}
	for (unsigned i = 0; kv->has_value && i < ARRAY_SIZE(names); i++) {
		if (!strcmp(kv->value, names[i])) {
			*mode = i;
			*have_vhost = true;
			return 0;
		}
	}
	log_error("--net: vhost must be on, off or auto, not '%s'",
		  kv->has_value ? kv->value : "");
	return -EINVAL;
}

/* Which of the keys that take no second value were given already. */
struct net_seen {
	bool mac, vhost;
};

static int net_option(const struct keyval *kv, struct virtio_net_options *opt,
		      struct net_seen *seen)
{
	unsigned fd;

	if (!strcmp(kv->key, "tap"))
		return name_option(kv, opt->tap);
	if (!strcmp(kv->key, "bridge"))
		return name_option(kv, opt->bridge);
	if (!strcmp(kv->key, "mac"))
		return mac_option(kv, opt->mac, &seen->mac);
	if (!strcmp(kv->key, "vhost"))
		return vhost_option(kv, &opt->vhost, &seen->vhost);
	if (!strcmp(kv->key, "fd")) {
		if (opt->fd >= 0) {
			log_error("--net: fd given twice");
			return -EINVAL;
		}
		if (keyval_uint(kv, "--net", INT_MAX, &fd) < 0)
			return -EINVAL;
		opt->fd = fd;
		return 0;
	}
	log_error("--net: unknown option '%s' (expected tap, fd, mac, bridge or vhost)", kv->key);
	return -EINVAL;
}

int virtio_net_parse(const char *spec, struct virtio_net_options *opt)
{
	const char *pos = spec;
	struct net_seen seen = { 0 };
	struct keyval kv;
	int got;

	memset(opt, 0, sizeof(*opt));
	opt->fd = -1;
	while ((got = keyval_next(&pos, &kv, "--net")) > 0) {
		if (net_option(&kv, opt, &seen) < 0)
			return -EINVAL;
	}
	if (got < 0)
		return -EINVAL;
	if (!opt->tap[0] == (opt->fd < 0)) {
		log_error("--net: give exactly one of tap=NAME or fd=N in '%s'", spec);
		return -EINVAL;
	}
	if (opt->bridge[0] && !opt->tap[0]) {
		log_error("--net: bridge= needs tap= (a tap passed as fd= is attached by whoever "
			  "opened it)");
		return -EINVAL;
	}
	if (!seen.mac && mac_random(opt->mac) < 0)
		return -EINVAL;
	return 0;
}

/* The tap. */

static int tap_up(const char *ifname)
{
	int err = link_set_up(ifname, true);

	if (err)
		log_error("--net: cannot bring tap %s up: %s", ifname, strerror(-err));
	return err;
}

/*
 * Whether `bridge` can take the tap, in the words of --net. The kernel
 * would answer most of this too, but it moves a port of another bridge
 * without a word, and its errno for a non-bridge (EOPNOTSUPP, EINVAL)
 * depends on what the link is.
 */
static int bridge_check(const char *bridge, const char *ifname)
{
	struct link_info br, tap;
	int err = link_get(bridge, &br);

	if (err == -ENODEV)
		log_error("--net: bridge %s does not exist", bridge);
	if (err)
		return err;
	if (strcmp(br.kind, "bridge")) {
		log_error("--net: %s is not a bridge", bridge);
		return -EINVAL;
	}
	err = link_get(ifname, &tap);
	if (err == -ENODEV)
		log_error("--net: tap %s went away", ifname);
	if (err)
		return err;
	/* A persistent tap may already be a port of this bridge. */
	if (tap.master && tap.master != br.index) {
		log_error("--net: tap %s is already attached to another bridge or bond", ifname);
		return -EBUSY;
	}
	return 0;
}

static int bridge_attach(const char *bridge, const char *ifname)
{
	int err = bridge_check(bridge, ifname);

	if (err)
		return err;
	/* Attaching to the bridge it is a port of already succeeds. */
	err = link_set_master(ifname, bridge);
	if (err)
		log_error("--net: cannot attach tap %s to bridge %s: %s", ifname, bridge,
			  strerror(-err));
	return err;
}

/* Reads a number from /sys/class/net/IFNAME/FILE; -1 if there is none. */
static long sysfs_net_number(const char *ifname, const char *file)
{
	char path[64 + IFNAMSIZ], text[32];
	long value = -1;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n > 0) {
		text[n] = '\0';
		value = strtol(text, NULL, 0);
	}
	return value;
}

/*
 * Whether a tap sends packet information (it was opened without IFF_NO_PI).
 * TUNGETIFF cannot say: it reports IFF_NOFILTER, the same bit, whenever no
 * socket filter is attached. sysfs can, when it shows our network namespace
 * (the interface index matches); otherwise assume the tap is right.
 */
static bool tap_has_packet_info(const char *ifname)
{
	long flags = sysfs_net_number(ifname, "tun_flags");

	if (flags < 0 || sysfs_net_number(ifname, "ifindex") != (long)if_nametoindex(ifname))
		return false;
	return !(flags & IFF_NO_PI);
}

/* An open tap handed in by number: it must be a tap with vnet headers. */
static int tap_check_fd(int fd, char ifname[IFNAMSIZ])
{
	struct ifreq ifr = { 0 };

	if (fcntl(fd, F_GETFD) < 0) {
		log_error("--net: fd %d is not open", fd);
		return -EBADF;
	}
	if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
		log_error("--net: fd %d is not an attached tap (TUNGETIFF: %s)", fd,
			  strerror(errno));
		return -EINVAL;
	}
	memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
	ifname[IFNAMSIZ - 1] = '\0';
	if ((ifr.ifr_flags & (IFF_TUN | IFF_TAP)) != IFF_TAP) {
		log_error("--net: fd %d (%s) is a tun device, not a tap", fd, ifname);
		return -EINVAL;
	}
	if (!(ifr.ifr_flags & IFF_VNET_HDR) || tap_has_packet_info(ifname)) {
		log_error("--net: fd %d (tap %s) must be opened with IFF_VNET_HDR and IFF_NO_PI",
			  fd, ifname);
		return -EINVAL;
	}
	return fd;
}

/* What every tap gets, however it was opened. */
static int tap_setup(int fd, const char *ifname)
{
	int hdr_len = HDR_LEN, flags, err;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		err = -errno;
		log_error("--net: tap %s: cannot set the vnet header size: %s", ifname,
			  strerror(-err));
		return err;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return log_errno("--net: fcntl on the tap");
	return 0;
}

static int net_open_tap(struct virtio_net *net, const struct virtio_net_options *opt)
{
	char why[128];
	int fd, err;

	if (opt->tap[0] && opt->fd < 0) {
		if (!ifname_valid(opt->tap) || (opt->bridge[0] && !ifname_valid(opt->bridge))) {
			log_error("--net: bad tap or bridge name");
			return -EINVAL;
		}
		fd = tap_open(opt->tap, net->ifname, why, sizeof(why));
		if (fd < 0) {
			log_error("--net: %s", why);
			return fd;
		}
		net->tap = fd;
		err = tap_up(net->ifname);
		if (!err && opt->bridge[0])
			err = bridge_attach(opt->bridge, net->ifname);
	} else if (!opt->tap[0] && opt->fd >= 0 && !opt->bridge[0]) {
		fd = tap_check_fd(opt->fd, net->ifname);
		if (fd < 0)
			return fd;
		net->tap = fd;
		err = 0;
	} else {
		log_error("--net: give exactly one of tap=NAME or fd=N (bridge only with tap)");
		return -EINVAL;
	}
	return err ? err : tap_setup(net->tap, net->ifname);
}

/* What the tap may hand us: exactly what the driver said it takes. */
static unsigned tap_offloads(const struct virtio_net *net)
{
	unsigned off = TUN_F_CSUM;

	if (!negotiated(net, NET_F_GUEST_CSUM))
		return 0;
	if (negotiated(net, NET_F_GUEST_TSO4))
		off |= TUN_F_TSO4;
	if (negotiated(net, NET_F_GUEST_TSO6))
		off |= TUN_F_TSO6;
	/* The tap refuses TSO_ECN without TSO4 or TSO6. */
	if (negotiated(net, NET_F_GUEST_ECN) && (off & (TUN_F_TSO4 | TUN_F_TSO6)))
		off |= TUN_F_TSO_ECN;
	return off;
}

/*
 * Whether a header asks only for offloads the receiver agreed to: csum for
 * NEEDS_CSUM, tso4/tso6 for TCP segmentation, ecn for its ECN bit. UDP
 * segmentation is never negotiated.
 */
static bool header_allowed(const uint8_t *hdr, const struct virtio_net *net, unsigned csum,
			   unsigned tso4, unsigned tso6, unsigned ecn)
{
	uint8_t gso = hdr[HDR_GSO_TYPE];
	bool ok;

	if ((hdr[HDR_FLAGS] & HDR_F_NEEDS_CSUM) && !negotiated(net, csum))
		return false;
	switch (gso & ~GSO_ECN) {
	case GSO_NONE:
		return !(gso & GSO_ECN);
	case GSO_TCPV4:
		ok = negotiated(net, tso4);
		break;
	case GSO_TCPV6:
		ok = negotiated(net, tso6);
		break;
	default:
		return false;
	}
	return ok && (!(gso & GSO_ECN) || negotiated(net, ecn));
}

/* The first drop in each direction is a warning, later ones debug noise. */
static void drop_frame(struct virtio_net *net, bool *warned, const char *dir, const char *why)
{
	if (*warned) {
		log_debug("virtio-net %s: dropped a %s frame: %s", net->ifname, dir, why);
		return;
	}
	log_warn("virtio-net %s: dropped a %s frame: %s (further drops are logged at debug "
		 "level)", net->ifname, dir, why);
	*warned = true;
}

/* Transmit. */

/* Sends an interrupt if the batch pushed since the last check calls for one. */
static void flush_notify(struct virtio_net *net, struct virtqueue *vq, unsigned q,
			 unsigned *unsignalled)
{
	if (*unsignalled && virtqueue_should_notify(vq))
		virtio_pci_notify_queue(net->vp, q);
	*unsignalled = 0;
}

/* 1 when the tap can take a frame, 0 if it stayed full too long, -1 on stop. */
static int tx_wait_room(struct virtio_net *net)
{
	struct pollfd p[2] = { { .fd = net->tx_worker.stop_fd, .events = POLLIN },
			       { .fd = net->tap, .events = POLLOUT } };
	int n;

	do
		n = poll(p, 2, TX_ROOM_WAIT_MS);
	while (n < 0 && errno == EINTR);
	if (n < 0 || p[0].revents)
		return -1;
	return n > 0;
}

/*
 * Builds the iovec the tap gets: our checked copy of the header, then the
 * readable buffers past the header. Returns how many entries.
 */
static unsigned tx_gather(struct net_tx *tx, const struct virtq_chain *chain)
{
	size_t skip = HDR_LEN;
	unsigned n = 1;

	tx->send_iov[0] = (struct iovec){ .iov_base = tx->hdr, .iov_len = HDR_LEN };
	for (unsigned i = 0; i < chain->nout; i++) {
		const struct iovec *v = &chain->iov[i];

		if (skip >= v->iov_len) {
			skip -= v->iov_len;
			continue;
		}
		tx->send_iov[n++] = (struct iovec){ .iov_base = (uint8_t *)v->iov_base + skip,
						    .iov_len = v->iov_len - skip };
		skip = 0;
	}
	return n;
}

/* Why a chain cannot be sent, or NULL if it can (its header is then in tx->hdr). */
static const char *tx_check(struct virtio_net *net, const struct virtq_chain *chain)
{
	/* Transmit buffers are device-readable only (5.1.6.2). */
	if (chain->nin)
		return "the chain has device-writable buffers";
	if (chain->out_len < HDR_LEN)
		return "shorter than the virtio-net header";
	if (chain->out_len > HDR_LEN + FRAME_MAX)
		return "larger than 64 KiB";
	if (chain->nout + 1 > IOV_MAX)
		return "too many buffers";
	virtq_chain_read(chain, 0, net->tx.hdr, HDR_LEN);
	if (!header_allowed(net->tx.hdr, net, NET_F_CSUM, NET_F_HOST_TSO4, NET_F_HOST_TSO6,
			    NET_F_HOST_ECN))
		return "its header asks for an offload that was not negotiated";
	return NULL;
}

/* Sends one chain's frame, or drops it. False if told to stop meanwhile. */
static bool tx_send(struct virtio_net *net, const struct virtq_chain *chain)
{
	const char *why = tx_check(net, chain);
	char refused[80];
	unsigned n;
	int room;

	if (why) {
		drop_frame(net, &net->tx.warned, "transmitted", why);
		return true;
	}
	n = tx_gather(&net->tx, chain);
	for (;;) {
		/* A tap takes a frame whole or not at all. */
		if (writev(net->tap, net->tx.send_iov, n) >= 0)
			return true;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			/* EINVAL for a header the kernel rejects, EIO or
			 * EBADFD when the tap is down or gone. */
			snprintf(refused, sizeof(refused), "the tap refused it: %s",
				 strerror(errno));
			drop_frame(net, &net->tx.warned, "transmitted", refused);
			return true;
		}
		room = tx_wait_room(net);
		if (room < 0)
			return false;
		if (!room) {
			drop_frame(net, &net->tx.warned, "transmitted", "the tap stayed full");
			return true;
		}
	}
}

/* Sends everything available; false when the thread must end. */
static bool tx_drain(struct virtio_net *net, struct virtqueue *vq)
{
	struct virtq_chain chain = { .iov = net->tx.chain_iov, .max_iov = NET_MAX_IOV };
	int got;

	do {
		virtqueue_disable_notify(vq);
		while ((got = virtqueue_pop(vq, &chain)) > 0) {
			if (!tx_send(net, &chain))
				return false;	/* stopping for a reset: nothing to return */
			virtqueue_push(vq, chain.head, 0);
			if (++net->tx.unsignalled < NOTIFY_BATCH)
				continue;
			flush_notify(net, vq, TXQ, &net->tx.unsignalled);
			if (worker_stopping(&net->tx_worker))
				return false;
		}
	} while (got == 0 && virtqueue_enable_notify(vq));
	flush_notify(net, vq, TXQ, &net->tx.unsignalled);
	if (got < 0) {
		virtio_pci_needs_reset(net->vp);
		return false;
	}
	return true;
}

static void *tx_serve(void *arg)
{
	struct virtio_net *net = arg;
	struct virtqueue *vq = virtio_pci_queue(net->vp, TXQ);
	int kick = virtio_pci_kick_fd(net->vp, TXQ);

	while (tx_drain(net, vq) && worker_wait(&net->tx_worker, kick, true))
		;
	return NULL;
}

/* Receive. */

static void rx_reset(struct net_rx *rx)
{
	rx->len = rx->copied = 0;
	rx->held = 0;
	rx->unsignalled = 0;
}

/*
 * Makes the tap's header one the driver may see. "If VIRTIO_NET_F_GUEST_CSUM
 * is not negotiated, the device MUST set flags to zero", which only clears
 * the DATA_VALID hint: the tap has no offloads then. A frame that still asks
 * for one (queued before the driver renegotiated) is dropped.
 */
static bool rx_fix_header(struct virtio_net *net, uint8_t *hdr)
{
	if (!header_allowed(hdr, net, NET_F_GUEST_CSUM, NET_F_GUEST_TSO4, NET_F_GUEST_TSO6,
			    NET_F_GUEST_ECN))
		return false;
	if (!negotiated(net, NET_F_GUEST_CSUM))
		hdr[HDR_FLAGS] = 0;
	/* "the device MUST set num_buffers to 1" without MRG_RXBUF; with it,
	 * to the buffers used, which rx_deliver() fixes when more than one. */
	hdr[HDR_NUM_BUFFERS] = 1;
	hdr[HDR_NUM_BUFFERS + 1] = 0;
	return true;
}

/*
 * Reads the next frame into rx->buf: 1 if one waits there now, 0 if the tap
 * has none, -errno if the tap failed.
 *
 * This is the one copy on the receive path to optimise: the frame lands in
 * a bounce buffer, then in the guest's buffers. Reading straight into them
 * would need its length first, to know how many mergeable buffers to take
 * (a tap read is one whole frame, and a taken chain cannot be given back).
 */
static int rx_read(struct virtio_net *net)
{
	struct net_rx *rx = &net->rx;
	ssize_t n;

	for (;;) {
		n = read(net->tap, rx->buf, RX_BUF_LEN + 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		/* The tap cuts a frame that does not fit; the one byte more
		 * the buffer has tells such a frame. */
		if (n <= HDR_LEN || n > RX_BUF_LEN) {
			drop_frame(net, &rx->warned, "received",
				   n <= HDR_LEN ? "empty" : "too large");
			continue;
		}
		if (!rx_fix_header(net, rx->buf)) {
			drop_frame(net, &rx->warned, "received",
				   "it carries an offload the driver did not accept");
			continue;
		}
		rx->len = n;
		rx->copied = 0;
		return 1;
	}
}

/* Returns the held chains empty (the driver drops them as runts) and drops
 * the frame: the driver's buffers cannot hold it. */
static void rx_overflow(struct virtio_net *net, struct virtqueue *vq)
{
	struct net_rx *rx = &net->rx;

	for (unsigned i = 0; i < rx->held; i++)
		virtqueue_push(vq, rx->head[i], 0);
	rx->unsignalled += rx->held;
	drop_frame(net, &rx->warned, "received",
		   negotiated(net, NET_F_MRG_RXBUF) ? "the receive buffers cannot hold it"
						    : "a receive buffer is too small for it");
	rx->held = 0;
	rx->len = rx->copied = 0;
}

/*
 * Copies the waiting frame into receive buffers, taking chains as it goes:
 * one without MRG_RXBUF, as many as it takes with it. Returns 1 when the
 * frame went out (or was dropped), 0 if the ring ran dry first (the chains
 * taken so far stay held), -EIO if the driver broke the queue.
 */
static int rx_deliver(struct virtio_net *net, struct virtqueue *vq)
{
	struct net_rx *rx = &net->rx;
	unsigned limit = negotiated(net, NET_F_MRG_RXBUF) ? vq->size : 1;
	uint8_t count[2];

	while (rx->copied < rx->len) {
		struct virtq_chain c = { .iov = rx->held ? rx->iov : rx->first_iov,
					 .max_iov = NET_MAX_IOV };
		int got;

		/* Holding the whole ring, the driver cannot add more. */
		if (rx->held >= limit) {
			rx_overflow(net, vq);
			return 1;
		}
		got = virtqueue_pop(vq, &c);
		if (got <= 0)
			return got;
		if (!rx->held)
			rx->first = c;
		rx->head[rx->held] = c.head;
		rx->written[rx->held] = virtq_chain_write(&c, 0, rx->buf + rx->copied,
							  rx->len - rx->copied);
		rx->copied += rx->written[rx->held];
		rx->held++;
	}
	if (rx->held > 1) {
		io_data_put(count, 2, rx->held);
		virtq_chain_write(&rx->first, HDR_NUM_BUFFERS, count, sizeof(count));
	}
	/* One frame's buffers are consecutive in the used ring. */
	for (unsigned i = 0; i < rx->held; i++)
		virtqueue_push(vq, rx->head[i], rx->written[i]);
	rx->unsignalled += rx->held;
	rx->held = 0;
	rx->len = rx->copied = 0;
	return 1;
}

enum rx_wait { RX_WAIT_TAP, RX_WAIT_BUFFERS, RX_BROKEN, RX_TAP_FAILED, RX_STOP };

/* Moves frames from the tap to the guest until something has to wait. */
static enum rx_wait rx_work(struct virtio_net *net, struct virtqueue *vq)
{
	struct net_rx *rx = &net->rx;
	int r;

	for (;;) {
		if (!rx->len) {
			r = rx_read(net);
			if (r == 0)
				return RX_WAIT_TAP;
			if (r < 0) {
				log_warn("virtio-net %s: reading the tap failed: %s; link down",
					 net->ifname, strerror(-r));
				return RX_TAP_FAILED;
			}
		}
		r = rx_deliver(net, vq);
		if (r == 0)
			return RX_WAIT_BUFFERS;
		if (r < 0)
			return RX_BROKEN;
		if (rx->unsignalled < NOTIFY_BATCH)
			continue;
		flush_notify(net, vq, RXQ, &rx->unsignalled);
		if (worker_stopping(&net->rx_worker))
			return RX_STOP;
	}
}

/* Waits for `fd` (if >= 0) to become readable or for the stop signal;
 * false on stop. */
static bool rx_wait_for(struct virtio_net *net, int fd)
{
	struct pollfd p[2] = { { .fd = net->rx_worker.stop_fd, .events = POLLIN },
			       { .fd = fd, .events = POLLIN } };

	while (poll(p, 2, -1) < 0)
		if (errno != EINTR)
			return false;
	return !p[0].revents;
}

static void *rx_serve(void *arg)
{
	struct virtio_net *net = arg;
	struct virtqueue *vq = virtio_pci_queue(net->vp, RXQ);
	int kick = virtio_pci_kick_fd(net->vp, RXQ);
	uint64_t count;

	/* Doorbells matter only while waiting for buffers. */
	virtqueue_disable_notify(vq);
	for (;;) {
		enum rx_wait wait = rx_work(net, vq);

		flush_notify(net, vq, RXQ, &net->rx.unsignalled);
		switch (wait) {
		case RX_WAIT_TAP:
			if (!rx_wait_for(net, net->tap))
				return NULL;
			break;
		case RX_WAIT_BUFFERS:
			/* Enable, then look again: buffers added in between
			 * came without a doorbell. */
			if (!virtqueue_enable_notify(vq)) {
				if (!rx_wait_for(net, kick))
					return NULL;
				if (read(kick, &count, sizeof(count)) < 0 && errno != EAGAIN)
					log_debug("virtio-net: clearing the doorbell: %s",
						  strerror(errno));
			}
			virtqueue_disable_notify(vq);
			break;
		case RX_BROKEN:
			virtio_pci_needs_reset(net->vp);
			return NULL;
		case RX_TAP_FAILED:
			atomic_fetch_and(&net->status, (uint16_t)~NET_S_LINK_UP);
			virtio_pci_config_changed(net->vp);
			rx_wait_for(net, -1);
			return NULL;
		case RX_STOP:
			return NULL;
		}
	}
}

/* The transport's callbacks. */

static void net_config_read(void *dev, uint32_t offset, uint8_t *data, unsigned size)
{
	struct virtio_net *net = dev;
	uint8_t cfg[CONFIG_LEN];

	memcpy(cfg + CONFIG_MAC, net->mac, sizeof(net->mac));
	io_data_put(cfg + CONFIG_STATUS, 2, net->status);
	io_data_put(cfg + CONFIG_MAX_PAIRS, 2, 1);
	if (range_within(offset, size, sizeof(cfg)))
		memcpy(data, cfg + offset, size);
	else
		memset(data, 0, size);
}

/* Every field is read-only for a virtio 1.x driver (only the legacy
 * interface let it write mac). */
static void net_config_write(void *dev, uint32_t offset, const uint8_t *data, unsigned size)
{
	(void)dev;
	(void)offset;
	(void)data;
	(void)size;
}

/* The kernel serves the enabled queues; see vhost_net.h. */
static int start_vhost(struct virtio_net *net)
{
	struct vhost_net_queue queue[VHOST_NET_QUEUES];

	for (unsigned q = 0; q < VHOST_NET_QUEUES; q++) {
		struct virtqueue *vq = virtio_pci_queue(net->vp, q);

		queue[q] = (struct vhost_net_queue){
			.vq = virtqueue_enabled(vq) ? vq : NULL,
			.kick_fd = virtio_pci_kick_fd(net->vp, q),
			.call_fd = virtio_pci_call_fd(net->vp, q),
		};
	}
	return vhost_net_start(&net->vhost, net->mem, net->features, queue, net->tap);
}

static int start_threads(struct virtio_net *net)
{
	int err;

	/* A frame left over from before the reset may not suit the new features. */
	rx_reset(&net->rx);
	net->tx.unsignalled = 0;
	if (virtqueue_enabled(virtio_pci_queue(net->vp, RXQ))) {
		err = worker_start(&net->rx_worker, "virtio-net-rx", rx_serve, net);
		if (err < 0)
			return err;
	}
	if (virtqueue_enabled(virtio_pci_queue(net->vp, TXQ))) {
		err = worker_start(&net->tx_worker, "virtio-net-tx", tx_serve, net);
		if (err < 0) {
			worker_stop(&net->rx_worker);
			return err;
		}
	}
	return 0;
}

static int net_start(void *dev, uint64_t features)
{
	struct virtio_net *net = dev;
	unsigned offloads;
	int err;

	net->features = features;
	offloads = tap_offloads(net);
	if (ioctl(net->tap, TUNSETOFFLOAD, offloads) < 0) {
		err = -errno;
		log_error("virtio-net %s: cannot set the tap's offloads to 0x%x: %s",
			  net->ifname, offloads, strerror(-err));
		return err;
	}
	return net->vhost.fd >= 0 ? start_vhost(net) : start_threads(net);
}

/* The tap stays open: a reset and DRIVER_OK start the device again. */
static void net_stop(void *dev)
{
	struct virtio_net *net = dev;

	vhost_net_stop(&net->vhost);
	worker_stop(&net->rx_worker);
	worker_stop(&net->tx_worker);
}

static const struct virtio_device_ops net_ops = {
	.config_read = net_config_read,
	.config_write = net_config_write,
	.start = net_start,
	.stop = net_stop,
};

static const struct virtio_device_info net_info = {
	.name = "virtio-net",
	.type = VIRTIO_ID_NET,
	.pci_class = 0x020000,	/* network controller, Ethernet */
	.features = NET_FEATURES,
	.nqueues = 2,
	.queue_size = NET_QUEUE_SIZE,
	.config_len = CONFIG_LEN,
};

/* vhost=on insists on vhost-net; auto takes it when the host has it. */
static int open_vhost(struct virtio_net *net, enum net_vhost mode)
{
	int err;

	if (mode == NET_VHOST_OFF)
		return 0;
	err = vhost_net_open(&net->vhost, mode == NET_VHOST_AUTO);
	if (err && mode == NET_VHOST_AUTO) {
		log_info("virtio-net %s: no vhost-net here (%s); corral-vmm moves the frames",
			 net->ifname, strerror(-err));
		return 0;
	}
	if (err)
		log_error("--net: vhost=on, but vhost-net cannot be used (vhost=auto falls back)");
	return err;
}

/*
 * A tap given as fd= becomes the device's on success (destroy closes it);
 * on failure the caller still owns it. A tap opened by name is the device's.
 */
struct virtio_net *virtio_net_create(const struct virtio_net_options *opt,
				     const struct device_host *host)
{
	struct virtio_net *net = calloc(1, sizeof(*net));

	if (!net)
		return NULL;
	net->tap = -1;
	net->vhost.fd = -1;
	net->mem = host->mem;
	net->rx_worker.stop_fd = net->tx_worker.stop_fd = -1;
	memcpy(net->mac, opt->mac, sizeof(net->mac));
	net->status = NET_S_LINK_UP;
	net->rx.buf = malloc(RX_BUF_LEN + 1);
	if (!net->rx.buf || net_open_tap(net, opt) < 0 || open_vhost(net, opt->vhost) < 0)
		goto fail;
	net->vp = virtio_pci_create(&net_info, &net_ops, net, host);
	if (!net->vp)
		goto fail;
	return net;
fail:
	vhost_net_close(&net->vhost);
	if (net->tap >= 0 && net->tap != opt->fd)
		close(net->tap);
	free(net->rx.buf);
	free(net);
	return NULL;
}

void virtio_net_destroy(struct virtio_net *net)
{
	if (!net)
		return;
	virtio_pci_destroy(net->vp);	/* stops the threads or vhost */
	vhost_net_close(&net->vhost);
	close(net->tap);
	free(net->rx.buf);
	free(net);
}

struct pci_device *virtio_net_pci(struct virtio_net *net)
{
	return virtio_pci_device(net->vp);
}
