/*
 * virtio-net: parsing of --net, and natively (as root, with /dev/net/tun)
 * opening taps by name and by descriptor, attaching them to a bridge, and
 * frames going both ways between a driver and the tap.
 *
 * The guest's side is the test driver (virtio_driver.h); the tap's other
 * side an AF_PACKET socket bound to it: what it sends the device receives,
 * and it sees what the device transmits.
 *
 * The native tests run in a network namespace of their own, with sysfs
 * mounted again inside a mount namespace of their own so /sys/class/net
 * shows that namespace: every tap and bridge they make is gone when the
 * program ends, however it ends, and no frame can leave it (IPv6 is off
 * there, so the kernel sends nothing on the taps by itself either). Without
 * root or /dev/net/tun they are skipped.
 */
#include "test.h"
#include "fake_host.h"
#include "virtio_driver.h"
#include "devices/virtio_net.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

/* Tap flags as TUNGETIFF and /sys/class/net/X/tun_flags report them. */
#define TAP_FLAGS (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)

static char tap_name[IFNAMSIZ], tap2_name[IFNAMSIZ], bridge_name[IFNAMSIZ];

static bool parse_ok(const char *spec, struct virtio_net_options *opt)
{
	return virtio_net_parse(spec, opt) == 0;
}

static bool parse_fails(const char *spec)
{
	struct virtio_net_options opt;

	return virtio_net_parse(spec, &opt) == -EINVAL;
}

static bool mac_is(const struct virtio_net_options *opt, const uint8_t *mac)
{
	return !memcmp(opt->mac, mac, 6);
}

/* Parsing. */

static void parse_takes_tap_mac_and_bridge(void)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	struct virtio_net_options opt;

	CHECK(parse_ok("tap=tap0,mac=52:54:00:AB:cd:eF,bridge=br0", &opt));
	CHECK(!strcmp(opt.tap, "tap0"));
	CHECK_EQ(opt.fd, -1);
	CHECK(!strcmp(opt.bridge, "br0"));
	CHECK(mac_is(&opt, mac));
}

static void parse_takes_fd(void)
{
	struct virtio_net_options opt;

	CHECK(parse_ok("fd=7", &opt));
	CHECK_EQ(opt.fd, 7);
	CHECK(!opt.tap[0]);
	CHECK(!opt.bridge[0]);
}

static void parse_takes_the_longest_interface_name(void)
{
	struct virtio_net_options opt;

	CHECK(parse_ok("tap=abcdefghijklmno", &opt));	/* IFNAMSIZ - 1 */
	CHECK(!strcmp(opt.tap, "abcdefghijklmno"));
	CHECK(parse_fails("tap=abcdefghijklmnop"));
}

static void parse_defaults_to_a_random_mac_in_xens_range(void)
{
	struct virtio_net_options a, b;
	bool differ = false;

	for (int i = 0; i < 4; i++) {
		CHECK(parse_ok("tap=t", &a));
		CHECK(parse_ok("tap=t", &b));
		CHECK_EQ(a.mac[0], 0x00);
		CHECK_EQ(a.mac[1], 0x16);
		CHECK_EQ(a.mac[2], 0x3e);
		CHECK_EQ(a.mac[3] & 0x80, 0);
		CHECK_EQ(b.mac[3] & 0x80, 0);
		differ |= memcmp(a.mac, b.mac, 6) != 0;
	}
	CHECK(differ);
}

static void parse_needs_exactly_one_of_tap_and_fd(void)
{
	CHECK(parse_fails(""));
	CHECK(parse_fails("mac=52:54:00:00:00:01"));
	CHECK(parse_fails("tap=t0,fd=3"));
	CHECK(parse_fails("tap=t0,tap=t1"));
	CHECK(parse_fails("fd=3,fd=4"));
}

static void parse_allows_bridge_only_with_tap(void)
{
	CHECK(parse_fails("fd=3,bridge=br0"));
	CHECK(parse_fails("bridge=br0"));
	CHECK(parse_fails("tap=t0,bridge=br0,bridge=br1"));
}

static void parse_rejects_bad_interface_names(void)
{
	CHECK(parse_fails("tap="));
	CHECK(parse_fails("tap"));
	CHECK(parse_fails("tap=a/b"));
	CHECK(parse_fails("tap=a b"));
	CHECK(parse_fails("tap=a:1"));
	CHECK(parse_fails("tap=tap%d"));
	CHECK(parse_fails("tap=."));
	CHECK(parse_fails("tap=.."));
	CHECK(parse_fails("tap=t0,bridge="));
	CHECK(parse_fails("tap=t0,bridge=b/r"));
}

static void parse_rejects_bad_fds(void)
{
	CHECK(parse_fails("fd="));
	CHECK(parse_fails("fd=-1"));
	CHECK(parse_fails("fd=3x"));
	CHECK(parse_fails("fd=99999999999"));
}

static void parse_rejects_malformed_macs(void)
{
	CHECK(parse_fails("tap=t0,mac="));
	CHECK(parse_fails("tap=t0,mac"));
	CHECK(parse_fails("tap=t0,mac=52:54:00:12:34"));
	CHECK(parse_fails("tap=t0,mac=52:54:00:12:34:56:78"));
	CHECK(parse_fails("tap=t0,mac=52:54:00:12:34:567"));
	CHECK(parse_fails("tap=t0,mac=52-54-00-12-34-56"));
	CHECK(parse_fails("tap=t0,mac=5:54:00:12:34:56"));
	CHECK(parse_fails("tap=t0,mac=52:54:00:12:34:5g"));
	CHECK(parse_fails("tap=t0,mac=52:54:00:12:34:56,mac=52:54:00:12:34:57"));
}

static void parse_rejects_multicast_and_zero_macs(void)
{
	struct virtio_net_options opt;

	CHECK(parse_fails("tap=t0,mac=01:00:5e:00:00:01"));
	CHECK(parse_fails("tap=t0,mac=ff:ff:ff:ff:ff:ff"));
	CHECK(parse_fails("tap=t0,mac=33:33:00:00:00:01"));
	CHECK(parse_fails("tap=t0,mac=00:00:00:00:00:00"));
	/* Locally administered unicast is fine. */
	CHECK(parse_ok("tap=t0,mac=02:00:00:00:00:01", &opt));
}

static void parse_rejects_unknown_keys(void)
{
	CHECK(parse_fails("tap=t0,queues=2"));
	CHECK(parse_fails("tap=t0,=x"));
}

static void parse_takes_vhost_modes(void)
{
	struct virtio_net_options opt;

	CHECK(parse_ok("tap=t0", &opt));
	CHECK_EQ(opt.vhost, NET_VHOST_AUTO);
	CHECK(parse_ok("tap=t0,vhost=on", &opt));
	CHECK_EQ(opt.vhost, NET_VHOST_ON);
	CHECK(parse_ok("tap=t0,vhost=off", &opt));
	CHECK_EQ(opt.vhost, NET_VHOST_OFF);
	CHECK(parse_ok("fd=3,vhost=auto", &opt));
	CHECK_EQ(opt.vhost, NET_VHOST_AUTO);
	CHECK(parse_fails("tap=t0,vhost"));
	CHECK(parse_fails("tap=t0,vhost="));
	CHECK(parse_fails("tap=t0,vhost=yes"));
	CHECK(parse_fails("tap=t0,vhost=on,vhost=off"));
}

/* Native: taps and bridges in a namespace of our own. */

static struct fake_host fh;

static bool write_sysctl(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");
	bool ok;

	if (!f)
		return false;
	ok = fputs(value, f) >= 0;
	return fclose(f) == 0 && ok;
}

/* A network namespace of our own, with its own view of /sys/class/net and
 * IPv6 off. False (with the reason printed) if this host cannot give us
 * one. */
static bool enter_private_netns(void)
{
	const char *why = NULL;

	if (geteuid() != 0)
		why = "not root";
	else if (access("/dev/net/tun", R_OK | W_OK) < 0)
		why = "no /dev/net/tun";
	else if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
		why = "unshare failed";
	else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		 umount2("/sys", MNT_DETACH) < 0 || mount("sysfs", "/sys", "sysfs", 0, NULL) < 0)
		why = "cannot remount /sys";
	else if (access("/proc/sys/net/ipv6", F_OK) == 0 &&
		 (!write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1") ||
		  !write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1")))
		why = "cannot turn IPv6 off";
	if (why) {
		printf("# skipping the tap tests: %s\n", why);
		return false;
	}
	return true;
}

static bool if_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

/* /sys/class/net/NAME/tun_flags, or -1. */
static long sys_tun_flags(const char *name)
{
	char path[96];
	long flags = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%li", &flags) != 1)
		flags = -1;
	fclose(f);
	return flags;
}

static bool if_up(const char *name)
{
	int sock = socket(AF_LOCAL, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };
	bool up;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	up = ioctl(sock, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
	close(sock);
	return up;
}

static bool in_bridge(const char *ifname, const char *bridge)
{
	char path[96];

	snprintf(path, sizeof(path), "/sys/class/net/%s/brif/%s", bridge, ifname);
	return access(path, F_OK) == 0;
}

/* These tests drive corral-vmm's own data path, so unless a spec asks for
 * vhost, the device gets none even where the host has vhost-net (which the
 * testbed's virtio-net scenario covers). */
static struct virtio_net *create(const char *spec)
{
	struct virtio_net_options opt;

	if (virtio_net_parse(spec, &opt) < 0)
		return NULL;
	if (!strstr(spec, "vhost="))
		opt.vhost = NET_VHOST_OFF;
	return virtio_net_create(&opt, &fh.host);
}

static struct virtio_net *create_fd(int fd)
{
	char spec[32];

	snprintf(spec, sizeof(spec), "fd=%d", fd);
	return create(spec);
}

/* Opens /dev/net/tun as `name` with `flags`, as corrald would; -1 on failure. */
static int open_tap(const char *name, short flags)
{
	struct ifreq ifr = { .ifr_flags = flags };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (fd >= 0 && ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void del_link(const char *name)
{
	if (if_exists(name))
		test_sh("ip link del %s 2>/dev/null", name);
}

static void tap_by_name_is_created_up_with_vnet_headers(void)
{
	char spec[64];
	struct virtio_net *net;

	snprintf(spec, sizeof(spec), "tap=%s", tap_name);
	net = create(spec);
	CHECK(net);
	CHECK(if_exists(tap_name));
	CHECK_EQ(sys_tun_flags(tap_name) & TAP_FLAGS, TAP_FLAGS);
	CHECK(if_up(tap_name));
	CHECK(virtio_net_pci(net) != NULL);
	virtio_net_destroy(net);
	/* Not persistent: it goes with the device. */
	CHECK(!if_exists(tap_name));
}

static void persistent_tap_is_attached_and_stays(void)
{
	char spec[64];
	struct virtio_net *net;

	CHECK(test_sh("ip tuntap add dev %s mode tap vnet_hdr", tap_name));
	snprintf(spec, sizeof(spec), "tap=%s", tap_name);
	net = create(spec);
	CHECK(net);
	CHECK(if_up(tap_name));
	virtio_net_destroy(net);
	CHECK(if_exists(tap_name));
	/* Made without vnet_hdr it works as well: the flag is per open. */
	del_link(tap_name);
	CHECK(test_sh("ip tuntap add dev %s mode tap", tap_name));
	net = create(spec);
	CHECK(net);
	virtio_net_destroy(net);
	del_link(tap_name);
}

static void tap_in_use_is_refused(void)
{
	char spec[64];
	struct virtio_net *a, *b;

	snprintf(spec, sizeof(spec), "tap=%s", tap_name);
	a = create(spec);
	CHECK(a);
	b = create(spec);
	CHECK(!b);
	virtio_net_destroy(b);
	virtio_net_destroy(a);
}

static void name_of_a_non_tap_is_refused(void)
{
	char spec[64];

	CHECK(test_sh("ip tuntap add dev %s mode tun", tap_name));
	snprintf(spec, sizeof(spec), "tap=%s", tap_name);
	CHECK(!create(spec));
	del_link(tap_name);
	CHECK(!create("tap=lo"));
}

static void tap_is_attached_to_the_bridge(void)
{
	char spec[96];
	struct virtio_net *net, *again;

	CHECK(test_sh("ip link add %s type bridge", bridge_name));
	snprintf(spec, sizeof(spec), "tap=%s,bridge=%s", tap_name, bridge_name);
	net = create(spec);
	CHECK(net);
	CHECK(in_bridge(tap_name, bridge_name));
	virtio_net_destroy(net);
	CHECK(!if_exists(tap_name));

	/* A persistent tap already in the bridge is fine too. */
	CHECK(test_sh("ip tuntap add dev %s mode tap vnet_hdr", tap_name));
	CHECK(test_sh("ip link set %s master %s", tap_name, bridge_name));
	again = create(spec);
	CHECK(again);
	CHECK(in_bridge(tap_name, bridge_name));
	virtio_net_destroy(again);
	del_link(tap_name);
	del_link(bridge_name);
}

static void missing_bridge_is_an_error(void)
{
	char spec[96];

	snprintf(spec, sizeof(spec), "tap=%s,bridge=%s", tap_name, bridge_name);
	CHECK(!if_exists(bridge_name));
	CHECK(!create(spec));
	CHECK(!if_exists(tap_name));	/* nothing left behind */
	/* Nor is lo a bridge. */
	snprintf(spec, sizeof(spec), "tap=%s,bridge=lo", tap_name);
	CHECK(!create(spec));
	CHECK(!if_exists(tap_name));
}

/* vhost=on needs /dev/vhost-net; auto does without it. Which half runs
 * depends on the host (the testbed covers vhost itself). */
static void vhost_is_required_only_when_asked_for(void)
{
	bool have_vhost = access("/dev/vhost-net", R_OK | W_OK) == 0;
	char spec[96];
	struct virtio_net *net;

	printf("# /dev/vhost-net %s\n", have_vhost ? "is here" : "is not here");
	snprintf(spec, sizeof(spec), "tap=%s,vhost=on", tap_name);
	net = create(spec);
	CHECK(!net == !have_vhost);
	virtio_net_destroy(net);
	CHECK(!if_exists(tap_name));	/* a refused device leaves no tap behind */
	snprintf(spec, sizeof(spec), "tap=%s,vhost=auto", tap_name);
	net = create(spec);
	CHECK(net);
	virtio_net_destroy(net);
	CHECK(!if_exists(tap_name));
}

static void tap_in_another_bridge_is_an_error(void)
{
	char spec[96];

	CHECK(test_sh("ip link add %s type bridge", bridge_name));
	CHECK(test_sh("ip link add %s type bridge", tap2_name));
	CHECK(test_sh("ip tuntap add dev %s mode tap vnet_hdr", tap_name));
	CHECK(test_sh("ip link set %s master %s", tap_name, tap2_name));
	snprintf(spec, sizeof(spec), "tap=%s,bridge=%s", tap_name, bridge_name);
	CHECK(!create(spec));
	del_link(tap_name);
	del_link(tap2_name);
	del_link(bridge_name);
}

static void fd_of_a_vnet_tap_is_taken_over(void)
{
	int fd = open_tap(tap_name, TAP_FLAGS);
	struct virtio_net *net;

	CHECK(fd >= 0);
	net = create_fd(fd);
	CHECK(net);
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	virtio_net_destroy(net);
	/* The device closed it, and with it the tap. */
	CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF);
	CHECK(!if_exists(tap_name));
}

static void fd_that_is_no_vnet_tap_is_refused_and_left_open(void)
{
	int pipefd[2], tun, plain, unattached;

	CHECK(pipe(pipefd) == 0);
	CHECK(!create_fd(pipefd[0]));
	CHECK(fcntl(pipefd[0], F_GETFD) >= 0);
	close(pipefd[0]);
	close(pipefd[1]);

	tun = open_tap(tap_name, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR);
	CHECK(tun >= 0);
	CHECK(!create_fd(tun));
	close(tun);

	plain = open_tap(tap_name, IFF_TAP | IFF_NO_PI);
	CHECK(plain >= 0);
	CHECK(!create_fd(plain));
	close(plain);

	plain = open_tap(tap_name, IFF_TAP | IFF_VNET_HDR);	/* with packet info */
	CHECK(plain >= 0);
	CHECK(!create_fd(plain));
	close(plain);

	unattached = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	CHECK(unattached >= 0);
	CHECK(!create_fd(unattached));
	close(unattached);

	CHECK(!create_fd(1000));	/* not open */
}

/* End to end: the test driver on one side, a packet socket on the other. */

/* Feature bits (virtio 1.x, 5.1.3). */
#define F_CSUM       (1ull << 0)
#define F_GUEST_CSUM (1ull << 1)
#define F_MAC        (1ull << 5)
#define F_GUEST_TSO4 (1ull << 7)
#define F_GUEST_TSO6 (1ull << 8)
#define F_GUEST_ECN  (1ull << 9)
#define F_HOST_TSO4  (1ull << 11)
#define F_MRG_RXBUF  (1ull << 15)
#define F_STATUS     (1ull << 16)
#define F_CTRL_VQ    (1ull << 17)
#define F_MQ         (1ull << 22)
#define F_EVENT_IDX  (1ull << VDRV_F_EVENT_IDX)
#define F_VERSION_1  (1ull << VDRV_F_VERSION_1)
#define HDR 12			/* struct virtio_net_hdr_v1 */
#define ETHERTYPE_TEST 0x88b5	/* IEEE local experimental */
#define RXQ 0
#define TXQ 1
#define CONFIGV 2		/* the configuration-change vector */
#define QSIZE 16
#define GUEST_MEM (4u << 20)
#define WAIT_MS 2000

static struct virtio_net *net;
static struct vdrv drv;
static uint64_t rx_gpa[QSIZE];		/* each posted receive buffer, by head */
static int wire = -1;	/* AF_PACKET socket on the tap: the other end of the cable */

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t host_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static bool wire_open(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = if_nametoindex(tap_name) };
	struct timeval tv = { .tv_sec = 2 };

	wire = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	return wire >= 0 && bind(wire, (struct sockaddr *)&sll, sizeof(sll)) == 0 &&
	       setsockopt(wire, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0;
}

/* A test frame: broadcast, from `src`, our ethertype, then a pattern. */
static void make_frame(uint8_t *f, size_t len, const uint8_t *src, uint8_t tag)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETHERTYPE_TEST >> 8;
	f[13] = ETHERTYPE_TEST & 0xff;
	for (size_t i = 14; i < len; i++)
		f[i] = tag + i;
}

/* Sends a frame into the tap (the device receives it). */
static bool wire_send(const uint8_t *f, size_t len)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_ifindex = if_nametoindex(tap_name), .sll_halen = 6 };

	return sendto(wire, f, len, 0, (struct sockaddr *)&sll, sizeof(sll)) == (ssize_t)len;
}

/* The next test frame the device transmitted, or -1 after two seconds. */
static ssize_t wire_recv(uint8_t *f, size_t max)
{
	for (;;) {
		struct sockaddr_ll from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(wire, f, max, 0, (struct sockaddr *)&from, &fromlen);

		if (n < 0)
			return -1;
		if (from.sll_pkttype != PACKET_OUTGOING && n >= 14 &&
		    f[12] == ETHERTYPE_TEST >> 8 && f[13] == (ETHERTYPE_TEST & 0xff))
			return n;
	}
}

/* Negotiates `features` (VERSION_1 always), sets both queues up, DRIVER_OK. */
static bool drv_start(uint64_t features)
{
	if (vdrv_negotiate(&drv, features | F_VERSION_1) < 0 ||
	    drv.features != (features | F_VERSION_1) || vdrv_queue_setup(&drv, RXQ, QSIZE) < 0 ||
	    vdrv_queue_setup(&drv, TXQ, QSIZE) < 0)
		return false;
	/* Configuration changes (link status) on the vector after the queues'. */
	vdrv_common_write(&drv, VDRV_CC_MSIX_CONFIG, CONFIGV, 2);
	vdrv_driver_ok(&drv);
	return !(vdrv_status(&drv) & (VDRV_S_NEEDS_RESET | VDRV_S_FAILED));
}

/* A device on a fresh tap, driven with `features`, and its wire. */
static bool e2e_setup(uint64_t features)
{
	char spec[64];

	snprintf(spec, sizeof(spec), "tap=%s,mac=52:54:00:12:34:56", tap_name);
	net = create(spec);
	if (!net)
		return false;
	memset(rx_gpa, 0, sizeof(rx_gpa));
	return vdrv_init(&drv, &fh, virtio_net_pci(net), 0x1000) == 0 && drv_start(features) &&
	       wire_open();
}

static void e2e_teardown(void)
{
	if (wire >= 0)
		close(wire);
	wire = -1;
	virtio_net_destroy(net);
	net = NULL;
}

static uint64_t galloc(uint32_t len)
{
	uint64_t gpa = vdrv_alloc(&drv, len, 16);

	CHECK(gpa);
	return gpa;
}

static void *gmem(uint64_t gpa, uint64_t len)
{
	return vdrv_ptr(&drv, gpa, len);
}

static int post_kick(unsigned q, const struct vdrv_buf *b, unsigned n)
{
	int head = vdrv_post(&drv, q, b, n);

	CHECK(head >= 0);
	vdrv_kick(&drv, q);
	return head;
}

/* Transmits a frame as header + frame in one buffer, or in two. */
static int tx_frame(const uint8_t *hdr, const uint8_t *f, size_t len, bool split)
{
	uint64_t gpa = galloc(HDR + len);
	struct vdrv_buf b[2] = { { gpa, HDR, false }, { gpa + HDR, len, false } };

	memcpy(gmem(gpa, HDR), hdr, HDR);
	memcpy(gmem(gpa + HDR, len), f, len);
	if (split)
		return post_kick(TXQ, b, 2);
	b[0].len = HDR + len;
	return post_kick(TXQ, b, 1);
}

/* Posts one writable receive buffer of `len` bytes. */
static void rx_buffer(uint32_t len)
{
	struct vdrv_buf b = { galloc(len), len, true };
	int head = post_kick(RXQ, &b, 1);

	if (head >= 0)
		rx_gpa[head] = b.gpa;
}

static bool used(unsigned q, struct virtq_used_elem *e)
{
	*e = (struct virtq_used_elem){ .id = UINT32_MAX, .len = UINT32_MAX };
	return vdrv_wait_used(&drv, q, e, WAIT_MS);
}

/* Receives one frame in `nbufs` buffers of `buflen`: checks the used
 * entries, num_buffers and the data. */
static void check_received(unsigned nbufs, uint32_t buflen, const uint8_t *f, size_t len)
{
	uint8_t got[4096];
	size_t total = 0;

	for (unsigned k = 0; k < nbufs; k++) {
		struct virtq_used_elem e;

		CHECK(used(RXQ, &e));
		CHECK_EQ(e.len, MIN(buflen, HDR + len - total));
		CHECK(e.id < QSIZE && e.len <= buflen && total + e.len <= sizeof(got));
		if (e.id >= QSIZE || e.len > buflen || total + e.len > sizeof(got))
			return;
		memcpy(got + total, gmem(rx_gpa[e.id], e.len), e.len);
		total += e.len;
	}
	CHECK_EQ(total, HDR + len);
	CHECK_EQ(io_data_get(got + 10, 2), nbufs);	/* num_buffers */
	CHECK(!memcmp(got + HDR, f, len));
}

static void device_offers_the_right_features_and_config(void)
{
	uint8_t cfg[10];
	uint64_t f;

	CHECK(e2e_setup(0));
	CHECK_EQ(io_data_get(drv.pci->config + 0x02, 2), 0x1041);	/* virtio-net */
	f = vdrv_device_features(&drv);
	CHECK_EQ(f & (F_CSUM | F_GUEST_CSUM | F_MAC | F_GUEST_TSO4 | F_HOST_TSO4 | F_MRG_RXBUF |
		      F_STATUS | F_VERSION_1),
		 F_CSUM | F_GUEST_CSUM | F_MAC | F_GUEST_TSO4 | F_HOST_TSO4 | F_MRG_RXBUF |
		 F_STATUS | F_VERSION_1);
	CHECK_EQ(f & (F_CTRL_VQ | F_MQ), 0);
	CHECK_EQ(vdrv_common_read(&drv, VDRV_CC_NUM_QUEUES, 2), 2);
	CHECK_EQ(drv.device_len, 10);
	vdrv_device_config(&drv, 0, cfg, sizeof(cfg));
	CHECK(!memcmp(cfg, guest_mac, 6));
	CHECK_EQ(io_data_get(cfg + 6, 2), 1);		/* VIRTIO_NET_S_LINK_UP */
	CHECK_EQ(io_data_get(cfg + 8, 2), 1);		/* max_virtqueue_pairs */
	/* Read-only for a virtio 1.x driver. */
	vdrv_bar_write(&drv, drv.device, 0xee, 1);
	CHECK_EQ(vdrv_bar_read(&drv, drv.device, 1), guest_mac[0]);
	e2e_teardown();
}

static void transmitted_frames_appear_on_the_tap(void)
{
	uint8_t hdr[HDR] = { 0 }, f[1514], got[2048];
	struct virtq_used_elem e;
	int head;

	CHECK(e2e_setup(F_MAC | F_MRG_RXBUF));
	make_frame(f, 60, guest_mac, 1);
	head = tx_frame(hdr, f, 60, true);
	CHECK(used(TXQ, &e));
	CHECK_EQ(e.id, head);
	CHECK_EQ(e.len, 0);
	CHECK_EQ(wire_recv(got, sizeof(got)), 60);
	CHECK(!memcmp(got, f, 60));

	make_frame(f, sizeof(f), guest_mac, 2);
	head = tx_frame(hdr, f, sizeof(f), false);
	CHECK(used(TXQ, &e));
	CHECK_EQ(e.id, head);
	CHECK_EQ(wire_recv(got, sizeof(got)), sizeof(f));
	CHECK(!memcmp(got, f, sizeof(f)));
	CHECK(vdrv_take_irqs(&drv, TXQ, 0) >= 1);
	e2e_teardown();
}

static void received_frames_fill_mergeable_buffers(void)
{
	uint8_t f[1000];

	CHECK(e2e_setup(F_MAC | F_MRG_RXBUF));
	for (unsigned i = 0; i < 8; i++)
		rx_buffer(256);
	make_frame(f, 60, host_mac, 3);
	CHECK(wire_send(f, 60));
	check_received(1, 256, f, 60);
	/* 12 + 1000 bytes take four 256-byte buffers. */
	make_frame(f, sizeof(f), host_mac, 4);
	CHECK(wire_send(f, sizeof(f)));
	check_received(4, 256, f, sizeof(f));
	CHECK(vdrv_take_irqs(&drv, RXQ, 0) >= 1);
	e2e_teardown();
}

static void received_frame_waits_for_buffers(void)
{
	uint8_t f[300];

	CHECK(e2e_setup(F_MRG_RXBUF | F_EVENT_IDX));
	make_frame(f, sizeof(f), host_mac, 5);
	CHECK(wire_send(f, sizeof(f)));
	usleep(50 * 1000);	/* the device has it, and no buffer */
	rx_buffer(200);
	/* One buffer is not enough: the device holds it and waits. */
	usleep(50 * 1000);
	CHECK(!vdrv_used_pending(&drv, RXQ));
	rx_buffer(200);
	check_received(2, 200, f, sizeof(f));
	e2e_teardown();
}

static void without_mergeable_buffers_a_frame_takes_one_buffer(void)
{
	struct virtq_used_elem e;
	uint8_t f[400];

	CHECK(e2e_setup(0));
	/* Too small for the frame: returned empty, and the frame dropped. */
	rx_buffer(100);
	make_frame(f, sizeof(f), host_mac, 6);
	CHECK(wire_send(f, sizeof(f)));
	CHECK(used(RXQ, &e));
	CHECK_EQ(e.len, 0);
	/* The next frame fits and says num_buffers 1. */
	rx_buffer(1526);
	make_frame(f, sizeof(f), host_mac, 7);
	CHECK(wire_send(f, sizeof(f)));
	check_received(1, 1526, f, sizeof(f));
	e2e_teardown();
}

static void mergeable_frame_larger_than_the_whole_ring_is_dropped(void)
{
	struct virtq_used_elem e;
	uint8_t f[400];

	CHECK(e2e_setup(F_MRG_RXBUF | F_EVENT_IDX));
	for (unsigned i = 0; i < QSIZE; i++)
		rx_buffer(16);
	/* 16 x 16 bytes cannot hold 412: every buffer comes back empty. */
	make_frame(f, sizeof(f), host_mac, 8);
	CHECK(wire_send(f, sizeof(f)));
	for (unsigned i = 0; i < QSIZE; i++) {
		CHECK(used(RXQ, &e));
		CHECK_EQ(e.len, 0);
	}
	rx_buffer(2048);
	make_frame(f, sizeof(f), host_mac, 9);
	CHECK(wire_send(f, sizeof(f)));
	check_received(1, 2048, f, sizeof(f));
	e2e_teardown();
}

static void malformed_transmit_chains_are_dropped_and_the_queue_goes_on(void)
{
	uint8_t hdr[HDR] = { 0 }, f[100], got[2048];
	struct virtq_used_elem e;
	uint64_t gpa;

	CHECK(e2e_setup(F_CSUM));
	make_frame(f, 60, guest_mac, 10);
	gpa = galloc(70000);
	memcpy(gmem(gpa + HDR, 60), f, 60);
	/* Shorter than the header; with a writable buffer; over 64 KiB. */
	post_kick(TXQ, (struct vdrv_buf[]){ { gpa, 4, false } }, 1);
	post_kick(TXQ, (struct vdrv_buf[]){ { gpa, HDR + 60, false }, { gpa + 4096, 64, true } },
		  2);
	post_kick(TXQ, (struct vdrv_buf[]){ { gpa, 70000, false } }, 1);
	/* A TSO frame, but HOST_TSO4 was not negotiated. */
	hdr[1] = 1;
	tx_frame(hdr, f, 60, true);
	/* A header the tap refuses: csum_start past the frame. */
	hdr[0] = 1;
	hdr[1] = 0;
	io_data_put(hdr + 6, 2, 2000);
	tx_frame(hdr, f, 60, true);
	for (unsigned i = 0; i < 5; i++) {
		CHECK(used(TXQ, &e));
		CHECK_EQ(e.len, 0);
	}
	/* None of them reached the wire; a good one still does. */
	memset(hdr, 0, sizeof(hdr));
	make_frame(f, sizeof(f), guest_mac, 11);
	tx_frame(hdr, f, sizeof(f), false);
	CHECK(used(TXQ, &e));
	CHECK_EQ(wire_recv(got, sizeof(got)), sizeof(f));
	CHECK(!memcmp(got, f, sizeof(f)));
	CHECK(!(vdrv_status(&drv) & VDRV_S_NEEDS_RESET));
	e2e_teardown();
}

static void interrupts_are_suppressed_when_the_driver_asks(void)
{
	struct virtq_used_elem e;
	uint8_t f[100];

	CHECK(e2e_setup(F_MRG_RXBUF));
	rx_buffer(2048);
	make_frame(f, sizeof(f), host_mac, 12);
	CHECK(wire_send(f, sizeof(f)));
	check_received(1, 2048, f, sizeof(f));
	CHECK(vdrv_take_irqs(&drv, RXQ, WAIT_MS) >= 1);
	/* VIRTQ_AVAIL_F_NO_INTERRUPT: used buffers, no interrupt. */
	__atomic_store_n(&drv.q[RXQ].avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT, __ATOMIC_RELEASE);
	rx_buffer(2048);
	CHECK(wire_send(f, sizeof(f)));
	for (int ms = 0; ms < WAIT_MS && !vdrv_used_pending(&drv, RXQ); ms++)
		usleep(1000);
	CHECK(used(RXQ, &e));
	CHECK_EQ(e.len, HDR + sizeof(f));
	CHECK_EQ(vdrv_take_irqs(&drv, RXQ, 50), 0);
	e2e_teardown();
}

/* A legacy ethtool flag of the tap (ETHTOOL_GTXCSUM, ETHTOOL_GTSO): what it
 * may hand the device. -1 if it cannot be read. */
static int tap_ethtool(uint32_t cmd)
{
	struct ethtool_value ev = { .cmd = cmd };
	struct ifreq ifr = { 0 };
	int sock = socket(AF_LOCAL, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tap_name);
	ifr.ifr_data = (void *)&ev;
	ret = ioctl(sock, SIOCETHTOOL, &ifr) == 0 ? (int)ev.data : -1;
	close(sock);
	return ret;
}

static void tap_offloads_follow_the_negotiated_guest_features(void)
{
	CHECK(e2e_setup(F_GUEST_CSUM | F_GUEST_TSO4 | F_GUEST_TSO6 | F_GUEST_ECN));
	CHECK_EQ(tap_ethtool(ETHTOOL_GTXCSUM), 1);
	CHECK_EQ(tap_ethtool(ETHTOOL_GTSO), 1);
	/* TSO needs GUEST_CSUM: without it the tap offloads nothing. */
	CHECK(drv_start(F_GUEST_TSO4));
	CHECK_EQ(tap_ethtool(ETHTOOL_GTXCSUM), 0);
	CHECK_EQ(tap_ethtool(ETHTOOL_GTSO), 0);
	CHECK(drv_start(F_GUEST_CSUM));
	CHECK_EQ(tap_ethtool(ETHTOOL_GTXCSUM), 1);
	CHECK_EQ(tap_ethtool(ETHTOOL_GTSO), 0);
	e2e_teardown();
}

static void broken_ring_needs_a_reset_which_restarts_the_device(void)
{
	uint8_t hdr[HDR] = { 0 }, f[80], got[2048];
	struct virtq_used_elem e;
	int ms;

	CHECK(e2e_setup(F_MRG_RXBUF));
	/* An avail index far ahead of the ring breaks the transmit queue. */
	__atomic_store_n(&drv.q[TXQ].avail->idx, 100, __ATOMIC_RELEASE);
	vdrv_kick(&drv, TXQ);
	for (ms = 0; ms < WAIT_MS && !(vdrv_status(&drv) & VDRV_S_NEEDS_RESET); ms++)
		usleep(1000);
	CHECK(vdrv_status(&drv) & VDRV_S_NEEDS_RESET);
	CHECK(vdrv_take_irqs(&drv, CONFIGV, WAIT_MS) >= 1);
	/* Reset and start again on the same tap. */
	memset(rx_gpa, 0, sizeof(rx_gpa));
	CHECK(drv_start(F_MRG_RXBUF));
	make_frame(f, sizeof(f), guest_mac, 13);
	tx_frame(hdr, f, sizeof(f), true);
	CHECK(used(TXQ, &e));
	CHECK_EQ(wire_recv(got, sizeof(got)), sizeof(f));
	rx_buffer(2048);
	make_frame(f, sizeof(f), host_mac, 14);
	CHECK(wire_send(f, sizeof(f)));
	check_received(1, 2048, f, sizeof(f));
	e2e_teardown();
}

static void deleting_the_tap_takes_the_link_down(void)
{
	uint8_t hdr[HDR] = { 0 }, f[80], status[2];
	struct virtq_used_elem e;

	CHECK(e2e_setup(F_STATUS));
	CHECK(test_sh("ip link del %s", tap_name));
	CHECK(vdrv_take_irqs(&drv, CONFIGV, WAIT_MS) >= 1);
	vdrv_device_config(&drv, 6, status, sizeof(status));
	CHECK_EQ(io_data_get(status, 2), 0);
	/* Transmitting into the void drops, and the queue goes on. */
	make_frame(f, sizeof(f), guest_mac, 15);
	tx_frame(hdr, f, sizeof(f), true);
	CHECK(used(TXQ, &e));
	CHECK(!(vdrv_status(&drv) & VDRV_S_NEEDS_RESET));
	e2e_teardown();
}

int main(void)
{
	log_init("test_virtio_net", LOG_LEVEL_SILENT);
	RUN(parse_takes_tap_mac_and_bridge);
	RUN(parse_takes_fd);
	RUN(parse_takes_the_longest_interface_name);
	RUN(parse_defaults_to_a_random_mac_in_xens_range);
	RUN(parse_needs_exactly_one_of_tap_and_fd);
	RUN(parse_allows_bridge_only_with_tap);
	RUN(parse_rejects_bad_interface_names);
	RUN(parse_rejects_bad_fds);
	RUN(parse_rejects_malformed_macs);
	RUN(parse_rejects_multicast_and_zero_macs);
	RUN(parse_rejects_unknown_keys);
	RUN(parse_takes_vhost_modes);

	if (!enter_private_netns())
		return test_done();
	snprintf(tap_name, sizeof(tap_name), "vnt%da", (int)getpid());
	snprintf(tap2_name, sizeof(tap2_name), "vnt%db", (int)getpid());
	snprintf(bridge_name, sizeof(bridge_name), "vnbr%d", (int)getpid());
	if (fake_host_init(&fh, 0) < 0)
		return 1;
	RUN(tap_by_name_is_created_up_with_vnet_headers);
	RUN(persistent_tap_is_attached_and_stays);
	RUN(tap_in_use_is_refused);
	RUN(name_of_a_non_tap_is_refused);
	RUN(tap_is_attached_to_the_bridge);
	RUN(missing_bridge_is_an_error);
	RUN(vhost_is_required_only_when_asked_for);
	RUN(tap_in_another_bridge_is_an_error);
	RUN(fd_of_a_vnet_tap_is_taken_over);
	RUN(fd_that_is_no_vnet_tap_is_refused_and_left_open);
	fake_host_fini(&fh);
	if (fake_host_init(&fh, GUEST_MEM) < 0)
		return 1;
	RUN(device_offers_the_right_features_and_config);
	RUN(transmitted_frames_appear_on_the_tap);
	RUN(received_frames_fill_mergeable_buffers);
	RUN(received_frame_waits_for_buffers);
	RUN(without_mergeable_buffers_a_frame_takes_one_buffer);
	RUN(mergeable_frame_larger_than_the_whole_ring_is_dropped);
	RUN(malformed_transmit_chains_are_dropped_and_the_queue_goes_on);
	RUN(interrupts_are_suppressed_when_the_driver_asks);
	RUN(tap_offloads_follow_the_negotiated_guest_features);
	RUN(broken_ring_needs_a_reset_which_restarts_the_device);
	RUN(deleting_the_tap_takes_the_link_down);
	fake_host_fini(&fh);
	return test_done();
}
