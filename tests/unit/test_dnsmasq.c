/*
 * DHCP and DNS for a managed network (net/dnsmasq.h): the text of the files
 * corral writes for dnsmasq, and a real dnsmasq serving a bridge, asked by
 * real clients: dig for DNS, busybox udhcpc for DHCP.
 *
 * The program first moves into a network and a mount namespace of its own
 * (unshare), so every bridge, veth and dnsmasq socket lives and dies there,
 * and no query or DHCP packet can reach the host's network. In the mount
 * namespace /etc/resolv.conf is replaced by one naming 127.0.0.1, where the
 * test listens as dnsmasq's upstream server: what dnsmasq forwards, and
 * what it must not, can be seen there. DHCP clients run in namespaces made
 * with `ip netns add` (a veth end on the bridge, the other in there), which
 * the program deletes in any case. Without root (unshare fails with EPERM)
 * or without /usr/sbin/dnsmasq, the whole program is skipped.
 *
 * The native tests run in order on one network, "corral0", 192.168.42.0/24:
 * krb5 (reserved .19, CNAMEs yum, ldap, kdc) and web (a dynamic lease).
 */
#include "net/dnsmasq.h"
#include "net/lease.h"
#include "config/vif_spec.h"
#include "common/util.h"

#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DNSMASQ "/usr/sbin/dnsmasq"
#define BRIDGE "corral0"
#define HOST_ADDR "192.168.42.18"
#define KRB5_MAC "00:16:3e:00:00:01"
#define WEB_MAC "00:16:3e:00:00:02"
#define DB_MAC "00:16:3e:00:00:03"
#define STRANGER_MAC "00:16:3e:00:00:99"

/* --- Fixtures --------------------------------------------------------------- */

static const char *const krb5_aliases[] = { "yum", "ldap", "kdc" };
static const char *const krb5_more_aliases[] = { "yum", "ldap", "kdc", "www" };

static struct in_addr ip(const char *text)
{
	struct in_addr a = { 0 };

	inet_pton(AF_INET, text, &a);
	return a;
}

static struct net_def network(void)
{
	struct net_def def = {
		.name = BRIDGE,
		.address = ip(HOST_ADDR),
		.prefix = 24,
		.has_range = true,
		.range_first = ip("192.168.42.100"),
		.range_last = ip("192.168.42.199"),
		.dns_domain = "example.com",
	};

	return def;
}

/* A member with a reserved address (ip_text) or none (NULL). */
static struct net_member member(const char *name, const char *mac, const char *ip_text)
{
	struct net_member m = { .hostname = name };

	mac_parse(mac, m.mac);
	if (ip_text) {
		m.has_ip = m.ip_reserved = true;
		m.ip = ip(ip_text);
	}
	return m;
}

static struct net_member krb5(void)
{
	struct net_member m = member("krb5", KRB5_MAC, "192.168.42.19");

	m.aliases = krb5_aliases;
	m.naliases = ARRAY_SIZE(krb5_aliases);
	return m;
}

static struct net_member web(void)
{
	return member("web", WEB_MAC, NULL);
}

/* Whether `line` is one of the lines of `text`. */
static bool has_line(const char *text, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (!strncmp(p, line, len) && (p[len] == '\n' || p[len] == '\0'))
			return true;
	return false;
}

/* How many lines of `text` start with `prefix`. */
static unsigned lines_starting(const char *text, const char *prefix)
{
	unsigned n = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		n += !strncmp(p, prefix, strlen(prefix));
	return n;
}

static char *config(const struct net_def *def, const struct net_member *m, size_t n)
{
	return dnsmasq_config_text(def, m, n, "/run/corral/net/corral0");
}

/* --- The files' text ------------------------------------------------------------ */

static void config_isolates_dnsmasq(void)
{
	struct net_def def = network();
	char *text = config(&def, NULL, 0);

	CHECK(has_line(text, "no-hosts"));
	CHECK(has_line(text, "keep-in-foreground"));
	CHECK(has_line(text, "user=nobody"));
	CHECK(has_line(text, "pid-file=/run/corral/net/corral0/dnsmasq.pid"));
	CHECK(has_line(text, "log-facility=-"));
	CHECK(has_line(text, "log-dhcp"));
	CHECK(has_line(text, "dhcp-leasefile=/run/corral/net/corral0/leases"));
	CHECK(has_line(text, "dhcp-hostsfile=/run/corral/net/corral0/dhcp-hosts"));
	CHECK(has_line(text, "addn-hosts=/run/corral/net/corral0/hosts"));
	CHECK_EQ(lines_starting(text, "conf-"), 0);
	free(text);
}

static void config_listens_on_the_bridge_only(void)
{
	struct net_def def = network();
	char *text = config(&def, NULL, 0);

	CHECK(has_line(text, "interface=corral0"));
	CHECK(has_line(text, "except-interface=lo"));
	CHECK(has_line(text, "bind-dynamic"));
	CHECK_EQ(lines_starting(text, "interface="), 1);
	free(text);
}

static void config_range_has_the_netmask(void)
{
	struct net_def def = network();
	char *text = config(&def, NULL, 0);

	CHECK(has_line(text, "dhcp-range=192.168.42.100,192.168.42.199,255.255.255.0,1h"));
	CHECK_EQ(lines_starting(text, "dhcp-range="), 1);
	CHECK(has_line(text, "dhcp-authoritative"));
	free(text);
}

static void config_without_range_serves_reservations(void)
{
	struct net_def def = network();
	char *text;

	def.has_range = false;
	text = config(&def, NULL, 0);
	CHECK(has_line(text, "dhcp-range=192.168.42.0,static,255.255.255.0,1h"));
	CHECK_EQ(lines_starting(text, "dhcp-range="), 1);
	free(text);
	def.prefix = 20;
	text = config(&def, NULL, 0);
	CHECK(has_line(text, "dhcp-range=192.168.32.0,static,255.255.240.0,1h"));
	free(text);
}

static void config_serves_members_only_and_ignores_their_names(void)
{
	struct net_def def = network();
	char *text = config(&def, NULL, 0);

	CHECK(has_line(text, "dhcp-ignore=tag:!known"));
	CHECK(has_line(text, "dhcp-ignore-names"));
	free(text);
}

static void config_gateway_is_the_router(void)
{
	struct net_def def = network();
	char *text = config(&def, NULL, 0);

	/* Without a gateway dnsmasq offers the host, by itself. */
	CHECK_EQ(lines_starting(text, "dhcp-option=option:router"), 0);
	free(text);
	def.has_gateway = true;
	def.gateway = ip("192.168.42.1");
	text = config(&def, NULL, 0);
	CHECK(has_line(text, "dhcp-option=option:router,192.168.42.1"));
	free(text);
}

static void config_keeps_domain_and_reverse_zone_local(void)
{
	struct net_def def = network();
	char *text = config(&def, NULL, 0);

	CHECK(has_line(text, "domain=example.com,192.168.42.0/24"));
	CHECK(has_line(text, "local=/example.com/"));
	CHECK(has_line(text, "local=/42.168.192.in-addr.arpa/"));
	CHECK(has_line(text, "expand-hosts"));
	CHECK(has_line(text, "domain-needed"));
	CHECK_EQ(lines_starting(text, "local="), 2);
	free(text);
}

/* in-addr.arpa has zones at octet boundaries only. */
static void config_reverse_zones_cover_unaligned_prefixes(void)
{
	struct net_def def = network();
	char *text;

	def.prefix = 20;
	text = config(&def, NULL, 0);
	CHECK(has_line(text, "domain=example.com,192.168.32.0/20"));
	CHECK_EQ(lines_starting(text, "local=/") - 1, 16);
	CHECK(has_line(text, "local=/32.168.192.in-addr.arpa/"));
	CHECK(has_line(text, "local=/47.168.192.in-addr.arpa/"));
	CHECK(!has_line(text, "local=/48.168.192.in-addr.arpa/"));
	free(text);

	def.address = ip("10.1.2.70");
	def.prefix = 26;
	text = config(&def, NULL, 0);
	CHECK_EQ(lines_starting(text, "local=/") - 1, 64);
	CHECK(has_line(text, "local=/64.2.1.10.in-addr.arpa/"));
	CHECK(has_line(text, "local=/127.2.1.10.in-addr.arpa/"));
	free(text);

	def.prefix = 16;
	text = config(&def, NULL, 0);
	CHECK(has_line(text, "local=/1.10.in-addr.arpa/"));
	CHECK_EQ(lines_starting(text, "local=/") - 1, 1);
	free(text);
}

static void config_has_a_cname_per_alias(void)
{
	struct net_def def = network();
	struct net_member m[] = { krb5(), web() };
	char *text = config(&def, m, ARRAY_SIZE(m));

	CHECK(has_line(text, "cname=yum.example.com,krb5.example.com"));
	CHECK(has_line(text, "cname=ldap.example.com,krb5.example.com"));
	CHECK(has_line(text, "cname=kdc.example.com,krb5.example.com"));
	CHECK_EQ(lines_starting(text, "cname="), 3);
	free(text);
}

/* dnsmasq refuses a duplicate CNAME, and names go into its files unquoted. */
static void config_leaves_out_unusable_aliases(void)
{
	static const char *const web_aliases[] = { "yum", "krb5", "a,b", "x\ndhcp-script=/bin/sh",
						   "-x", "www" };
	struct net_def def = network();
	struct net_member m[] = { krb5(), web() };
	char *text;

	m[1].aliases = web_aliases;
	m[1].naliases = ARRAY_SIZE(web_aliases);
	text = config(&def, m, ARRAY_SIZE(m));
	CHECK_EQ(lines_starting(text, "cname=yum."), 1);
	CHECK(has_line(text, "cname=www.example.com,web.example.com"));
	CHECK_EQ(lines_starting(text, "cname="), 4);
	CHECK_EQ(lines_starting(text, "dhcp-script"), 0);
	free(text);
}

static void config_without_domain_has_plain_names(void)
{
	struct net_def def = network();
	struct net_member m[] = { krb5() };
	char *text;

	def.dns_domain[0] = '\0';
	text = config(&def, m, ARRAY_SIZE(m));
	CHECK_EQ(lines_starting(text, "domain="), 0);
	CHECK(!has_line(text, "expand-hosts"));
	CHECK(has_line(text, "local=/42.168.192.in-addr.arpa/"));
	CHECK(has_line(text, "cname=yum,krb5"));
	free(text);
}

static void dhcp_hosts_reserve_and_name(void)
{
	struct net_def def = network();
	struct net_member m[] = { krb5(), web() };
	char *text = dnsmasq_dhcp_hosts_text(&def, m, ARRAY_SIZE(m));

	CHECK(text && !strcmp(text, KRB5_MAC ",192.168.42.19,krb5\n" WEB_MAC ",web\n"));
	free(text);
}

/* A leased (not reserved) address stays dynamic. */
static void dhcp_hosts_do_not_pin_a_leased_address(void)
{
	struct net_def def = network();
	struct net_member m[] = { web() };
	char *text;

	m[0].has_ip = true;
	m[0].ip = ip("192.168.42.150");
	text = dnsmasq_dhcp_hosts_text(&def, m, ARRAY_SIZE(m));
	CHECK(text && !strcmp(text, WEB_MAC ",web\n"));
	free(text);
}

static void dhcp_hosts_keep_reservations_of_names_unfit_for_dns(void)
{
	struct net_def def = network();
	struct net_member m[] = { member("my_vm", DB_MAC, "192.168.42.20"),
				  member("a,b", WEB_MAC, NULL) };
	char *text = dnsmasq_dhcp_hosts_text(&def, m, ARRAY_SIZE(m));

	CHECK(text && !strcmp(text, DB_MAC ",192.168.42.20\n" WEB_MAC "\n"));
	free(text);
	text = dnsmasq_hosts_text(&def, m, ARRAY_SIZE(m));
	CHECK(text && !strcmp(text, ""));
	free(text);
}

static void hosts_list_reserved_members(void)
{
	struct net_def def = network();
	struct net_member m[] = { krb5(), web() };
	char *text = dnsmasq_hosts_text(&def, m, ARRAY_SIZE(m));

	CHECK(text && !strcmp(text, "192.168.42.19 krb5.example.com krb5\n"));
	free(text);
	def.dns_domain[0] = '\0';
	text = dnsmasq_hosts_text(&def, m, ARRAY_SIZE(m));
	CHECK(text && !strcmp(text, "192.168.42.19 krb5\n"));
	free(text);
}

/* --- Commands --------------------------------------------------------------------- */

/* The exit status of a shell command built from a format (-1 if it did not run). */
__attribute__((format(printf, 1, 2)))
static int run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	status = system(cmd);
	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A command's standard output (up to len - 1 bytes) and exit status. */
__attribute__((format(printf, 3, 4)))
static int output(char *out, size_t len, const char *fmt, ...)
{
	char cmd[512];
	size_t got = 0, n;
	va_list ap;
	FILE *p;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	out[0] = '\0';
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (got < len - 1 && (n = fread(out + got, 1, len - 1 - got, p)) > 0)
		got += n;
	out[got] = '\0';
	status = pclose(p);
	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* dig's answer section for `args`, asked of dnsmasq on the bridge. */
static int dig(char *out, size_t len, const char *args)
{
	return output(out, len, "dig +time=1 +tries=2 +noall +answer +comments @%s %s 2>&1",
		      HOST_ADDR, args);
}

/* Whether dig's answer for `args` contains `want` within 3 s (dnsmasq
 * re-reads its files a moment after SIGHUP). */
static bool answer_soon(const char *args, const char *want)
{
	char out[4096];

	for (int i = 0; i < 60; i++) {
		dig(out, sizeof(out), args);
		if (strstr(out, want))
			return true;
		usleep(50 * 1000);
	}
	printf("# dig %s: no '%s' in:\n# %s\n", args, want, out);
	return false;
}

/* --- The namespaces ------------------------------------------------------------ */

static char tmp_dir[64], net_dir[96], client_ns[32], outside_ns[32];
static struct net_def def;
static struct dnsmasq dm = { .pidfd = -1 };
static int upstream = -1;

static bool write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	bool ok = fd >= 0 && write_full(fd, text, strlen(text)) == (ssize_t)strlen(text);

	if (fd >= 0)
		close(fd);
	return ok && chmod(path, mode) == 0;
}

/* The host's resolv.conf, in this mount namespace, names our fake upstream
 * server on 127.0.0.1, which never answers but counts what reaches it. */
static bool fake_upstream(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53),
				  .sin_addr = ip("127.0.0.1") };
	char resolv[128];

	snprintf(resolv, sizeof(resolv), "%s/resolv.conf", tmp_dir);
	upstream = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return write_text(resolv, "nameserver 127.0.0.1\n", 0644) &&
	       mount(resolv, "/etc/resolv.conf", NULL, MS_BIND, NULL) == 0 && upstream >= 0 &&
	       bind(upstream, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

/* Reads what reached the upstream server; whether any of it holds `label`
 * (a DNS label as on the wire: its length, then its letters). */
static bool upstream_saw(const char *label)
{
	char buf[512], wire[70];
	bool seen = false;
	ssize_t n;

	snprintf(wire, sizeof(wire), "%c%s", (char)strlen(label), label);
	while ((n = recv(upstream, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		seen |= memmem(buf, (size_t)n, wire, strlen(wire)) != NULL;
	return seen;
}

static void delete_namespaces(void)
{
	if (client_ns[0])
		run("ip netns del %s 2>/dev/null", client_ns);
	if (outside_ns[0])
		run("ip netns del %s 2>/dev/null", outside_ns);
}

/*
 * A network namespace (and a mount namespace, for resolv.conf) of our own
 * with the bridge, a scratch directory that dnsmasq (as nobody) can enter,
 * and the fake upstream. 0, or 1 to skip with `why` set, or -1.
 */
static int enter_namespaces(const char **why)
{
	if (access(DNSMASQ, X_OK) < 0) {
		*why = DNSMASQ " is missing (apt-get install dnsmasq-base)";
		return 1;
	}
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
		int err = errno;

		*why = err == EPERM ? "unshare: not permitted (not root)" : strerror(err);
		return err == EPERM ? 1 : -1;
	}
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/corral-dnsmasq-XXXXXX");
	snprintf(client_ns, sizeof(client_ns), "corral-dm-c%d", (int)getpid());
	snprintf(outside_ns, sizeof(outside_ns), "corral-dm-o%d", (int)getpid());
	atexit(delete_namespaces);
	*why = "cannot set up the namespaces, the bridge or the scratch directory";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || !mkdtemp(tmp_dir) ||
	    chmod(tmp_dir, 0755) < 0)
		return -1;
	snprintf(net_dir, sizeof(net_dir), "%s/net", tmp_dir);
	if (run("ip link set lo up && ip link add %s type bridge && "
		"ip addr add %s/24 dev %s && ip link set %s up", BRIDGE, HOST_ADDR, BRIDGE,
		BRIDGE) != 0 || !fake_upstream())
		return -1;
	def = network();
	return 0;
}

/* A veth pair `host_end` - `guest_end`, the guest end moved into netns `ns`
 * with `mac`, both up. */
static bool veth_into(const char *ns, const char *host_end, const char *guest_end,
		      const char *mac)
{
	return run("ip netns add %s && ip link add %s type veth peer name %s && "
		   "ip link set %s netns %s && ip -n %s link set %s address %s && "
		   "ip -n %s link set %s up && ip -n %s link set lo up && ip link set %s up",
		   ns, host_end, guest_end, guest_end, ns, ns, guest_end, mac, ns, guest_end, ns,
		   host_end) == 0;
}

/* --- DHCP and DNS, for real -------------------------------------------------------- */

static pid_t first_pid;

static void start_serves_reserved_name(void)
{
	struct net_member m[] = { krb5() };
	char out[1024];

	CHECK_EQ(dnsmasq_start(&dm, net_dir, DNSMASQ, &def, m, ARRAY_SIZE(m)), 0);
	CHECK(dm.pid > 0 && dm.pidfd >= 0);
	first_pid = dm.pid;
	dig(out, sizeof(out), "krb5.example.com");
	CHECK(strstr(out, "status: NOERROR") && strstr(out, "192.168.42.19"));
}

static void files_are_readable_by_dnsmasq(void)
{
	static const char *const names[] = { "dnsmasq.conf", "dhcp-hosts", "hosts" };
	char path[160];
	struct stat st;

	CHECK(stat(net_dir, &st) == 0 && (st.st_mode & 07777) == 0755);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", net_dir, names[i]);
		CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644);
	}
}

static void cname_answer_holds_the_cname(void)
{
	char out[1024];

	dig(out, sizeof(out), "yum.example.com");
	CHECK(strstr(out, "CNAME\tkrb5.example.com."));
	CHECK(strstr(out, "192.168.42.19"));
	dig(out, sizeof(out), "kdc.example.com");
	CHECK(strstr(out, "CNAME\tkrb5.example.com."));
}

static void reverse_lookup_names_the_member(void)
{
	char out[1024];

	dig(out, sizeof(out), "-x 192.168.42.19");
	CHECK(strstr(out, "PTR\tkrb5.example.com."));
}

static void other_names_are_forwarded(void)
{
	char out[1024];

	upstream_saw("");
	dig(out, sizeof(out), "+tries=1 www.corral-upstream.test");
	CHECK(upstream_saw("corral-upstream"));
}

static void unknown_names_of_the_network_stay_inside(void)
{
	char out[1024];

	upstream_saw("");
	dig(out, sizeof(out), "nosuch.example.com");
	CHECK(strstr(out, "status: NXDOMAIN"));
	dig(out, sizeof(out), "-x 192.168.42.77");
	CHECK(strstr(out, "status: NXDOMAIN"));
	dig(out, sizeof(out), "nosuch");
	CHECK(!strstr(out, "status: NOERROR"));
	CHECK(!upstream_saw("nosuch"));
	CHECK(!upstream_saw("77"));
}

/* A client routed to the bridge's address by another interface: it reaches
 * the host (ping) but dnsmasq does not answer it. */
static void queries_from_another_interface_get_no_answer(void)
{
	char out[1024];

	CHECK(veth_into(outside_ns, "cdm-out0", "cdm-out1", STRANGER_MAC));
	CHECK_EQ(run("ip addr add 10.9.9.1/24 dev cdm-out0 && "
		     "ip -n %s addr add 10.9.9.2/24 dev cdm-out1 && "
		     "ip -n %s route add default via 10.9.9.1", outside_ns, outside_ns), 0);
	CHECK_EQ(run("ip netns exec %s busybox ping -c 1 -W 2 %s >/dev/null", outside_ns,
		     HOST_ADDR), 0);
	CHECK(output(out, sizeof(out), "ip netns exec %s dig +time=1 +tries=1 @%s krb5.example.com",
		     outside_ns, HOST_ADDR) != 0);
	CHECK(!strstr(out, "192.168.42.19"));
	run("ip netns del %s", outside_ns);
}

/* The address udhcpc got for `mac` in the client namespace ("" if none). */
static void dhcp_client(const char *mac, char *addr, size_t len)
{
	char script[128], out[1024], *bound;

	snprintf(script, sizeof(script), "%s/udhcpc.sh", tmp_dir);
	write_text(script, "#!/bin/sh\n[ \"$1\" = bound ] && echo \"bound $ip\"\nexit 0\n", 0755);
	run("ip -n %s link set cdm-c1 address %s", client_ns, mac);
	output(out, sizeof(out), "ip netns exec %s busybox udhcpc -i cdm-c1 -n -q -f -t 5 -T 1 "
	       "-x hostname:intruder -s %s 2>/dev/null", client_ns, script);
	bound = strstr(out, "bound ");
	snprintf(addr, len, "%.*s", bound ? (int)strcspn(bound + 6, "\n") : 0,
		 bound ? bound + 6 : "");
}

static void dhcp_gives_the_reserved_address(void)
{
	char addr[32];

	CHECK(veth_into(client_ns, "cdm-c0", "cdm-c1", KRB5_MAC));
	CHECK_EQ(run("ip link set cdm-c0 master %s", BRIDGE), 0);
	dhcp_client(KRB5_MAC, addr, sizeof(addr));
	CHECK(!strcmp(addr, "192.168.42.19"));
}

static bool in_range(const char *addr, const char *first, const char *last)
{
	struct in_addr a;

	if (inet_pton(AF_INET, addr, &a) != 1)
		return false;
	return ntohl(a.s_addr) >= ntohl(ip(first).s_addr) &&
	       ntohl(a.s_addr) <= ntohl(ip(last).s_addr);
}

static void dhcp_names_a_dynamic_lease_after_sighup(void)
{
	struct net_member m[] = { krb5(), web() };
	char addr[32], want[64];

	CHECK_EQ(dnsmasq_update(&dm, &def, m, ARRAY_SIZE(m)), 0);
	CHECK_EQ(dm.pid, first_pid);
	usleep(200 * 1000);	/* SIGHUP is asynchronous */
	dhcp_client(WEB_MAC, addr, sizeof(addr));
	CHECK(in_range(addr, "192.168.42.100", "192.168.42.199"));
	snprintf(want, sizeof(want), "A\t%s", addr);
	CHECK(answer_soon("web.example.com", want));
	/* The name the client sent is not in DNS. */
	CHECK(answer_soon("intruder.example.com", "status: NXDOMAIN"));
}

static void dhcp_ignores_strangers(void)
{
	char addr[32];

	dhcp_client(STRANGER_MAC, addr, sizeof(addr));
	CHECK(!strcmp(addr, ""));
}

static void update_adds_a_member_without_restart(void)
{
	struct net_member m[] = { krb5(), web(), member("db", DB_MAC, "192.168.42.20") };

	CHECK_EQ(dnsmasq_update(&dm, &def, m, ARRAY_SIZE(m)), 0);
	CHECK_EQ(dm.pid, first_pid);
	CHECK(answer_soon("db.example.com", "A\t192.168.42.20"));
	CHECK(answer_soon("-x 192.168.42.20", "PTR\tdb.example.com."));
}

static void update_removes_a_member_without_restart(void)
{
	struct net_member m[] = { krb5(), web() };

	CHECK_EQ(dnsmasq_update(&dm, &def, m, ARRAY_SIZE(m)), 0);
	CHECK_EQ(dm.pid, first_pid);
	CHECK(answer_soon("db.example.com", "status: NXDOMAIN"));
	CHECK(answer_soon("krb5.example.com", "A\t192.168.42.19"));
}

static bool lease_file_has(const char *mac_text)
{
	char path[160];
	uint8_t mac[6];
	struct mapped_file f;
	struct lease *l = NULL;
	size_t n = 0;
	bool found = false;

	snprintf(path, sizeof(path), "%s/leases", net_dir);
	mac_parse(mac_text, mac);
	if (map_file(path, MiB(1), &f) < 0)
		return false;
	if (lease_parse((const char *)f.data, f.len, &l, &n) == 0)
		for (size_t i = 0; i < n; i++)
			found |= !memcmp(l[i].mac, mac, 6);
	free(l);
	unmap_file(&f);
	return found;
}

static void alias_change_restarts_with_the_leases(void)
{
	struct net_member m[] = { krb5(), web() };
	char out[1024];

	CHECK(lease_file_has(KRB5_MAC) && lease_file_has(WEB_MAC));
	m[0].aliases = krb5_more_aliases;
	m[0].naliases = ARRAY_SIZE(krb5_more_aliases);
	CHECK_EQ(dnsmasq_update(&dm, &def, m, ARRAY_SIZE(m)), 0);
	CHECK(dm.pid > 0 && dm.pid != first_pid);
	CHECK_EQ(kill(first_pid, 0), -1);
	dig(out, sizeof(out), "www.example.com");
	CHECK(strstr(out, "CNAME\tkrb5.example.com.") && strstr(out, "192.168.42.19"));
	/* web's name came from its lease, which the new dnsmasq read back. */
	CHECK(answer_soon("web.example.com", "A\t192.168.42.1"));
	CHECK(lease_file_has(KRB5_MAC) && lease_file_has(WEB_MAC));
}

static void second_start_adopts_the_running_dnsmasq(void)
{
	struct net_member m[] = { krb5(), web() };
	struct dnsmasq again;

	m[0].aliases = krb5_more_aliases;
	m[0].naliases = ARRAY_SIZE(krb5_more_aliases);
	/* "dnsmasq" on PATH: the same program, by name. */
	CHECK_EQ(dnsmasq_start(&again, net_dir, NULL, &def, m, ARRAY_SIZE(m)), 0);
	CHECK_EQ(again.pid, dm.pid);
	close(dm.pidfd);
	dm = again;
	CHECK(answer_soon("www.example.com", "CNAME\tkrb5.example.com."));
}

static void reap_notices_a_dead_dnsmasq_and_update_restarts_it(void)
{
	struct net_member m[] = { krb5(), web() };
	pid_t dead = dm.pid;
	struct pollfd p = { .fd = dm.pidfd, .events = POLLIN };

	CHECK(!dnsmasq_reap(&dm));
	CHECK_EQ(kill(dead, SIGKILL), 0);
	CHECK_EQ(poll(&p, 1, 2000), 1);
	CHECK(dnsmasq_reap(&dm));
	CHECK(dm.pid == 0 && dm.pidfd == -1);
	CHECK_EQ(dnsmasq_update(&dm, &def, m, ARRAY_SIZE(m)), 0);
	CHECK(dm.pid > 0 && dm.pid != dead);
	CHECK(answer_soon("krb5.example.com", "A\t192.168.42.19"));
}

static void start_without_the_bridge_fails(void)
{
	struct net_def other = network();
	struct dnsmasq x;
	char dir[128];

	snprintf(other.name, sizeof(other.name), "nosuchbr0");
	snprintf(dir, sizeof(dir), "%s/other", tmp_dir);
	CHECK_EQ(dnsmasq_start(&x, dir, DNSMASQ, &other, NULL, 0), -ENODEV);
	CHECK(x.pid == 0 && x.pidfd == -1);
	dnsmasq_stop(&x);
	CHECK(access(dir, F_OK) < 0 && errno == ENOENT);
}

static void start_of_a_missing_program_fails(void)
{
	struct dnsmasq x;
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/missing", tmp_dir);
	CHECK_EQ(dnsmasq_start(&x, dir, "/nonexistent/dnsmasq", &def, NULL, 0), -ENOENT);
	CHECK(x.pid == 0 && x.pidfd == -1);
	dnsmasq_stop(&x);
}

/* stderr (where log_error() writes) into `out` while `dm2` starts. */
static int start_capturing_stderr(struct dnsmasq *dm2, const char *dir, char *out, size_t len)
{
	char path[128];
	int saved = dup(2), fd, r;
	ssize_t got;

	snprintf(path, sizeof(path), "%s/stderr", tmp_dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	fflush(stderr);
	dup2(fd, 2);
	r = dnsmasq_start(dm2, dir, DNSMASQ, &def, NULL, 0);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	got = pread(fd, out, len - 1, 0);
	out[got > 0 ? got : 0] = '\0';
	close(fd);
	return r;
}

/* A second network on the same bridge: its dnsmasq cannot bind. */
static void failed_start_reports_dnsmasqs_complaint(void)
{
	struct dnsmasq x;
	char dir[128], err[2048];

	snprintf(dir, sizeof(dir), "%s/clash", tmp_dir);
	CHECK_EQ(start_capturing_stderr(&x, dir, err, sizeof(err)), -EIO);
	printf("# %s", err);
	CHECK(strstr(err, "failed to create listening socket for " HOST_ADDR
			  ": Address already in use"));
	CHECK(x.pid == 0 && x.pidfd == -1);
	dnsmasq_stop(&x);
	/* The failure disturbed nothing. */
	CHECK(answer_soon("krb5.example.com", "A\t192.168.42.19"));
}

static void stop_ends_dnsmasq_and_removes_its_directory(void)
{
	pid_t pid = dm.pid;

	dnsmasq_stop(&dm);
	CHECK(dm.pid == 0 && dm.pidfd == -1);
	CHECK(kill(pid, 0) < 0 && errno == ESRCH);
	CHECK(access(net_dir, F_OK) < 0 && errno == ENOENT);
}

static void run_native(void)
{
	RUN(start_serves_reserved_name);
	RUN(files_are_readable_by_dnsmasq);
	RUN(cname_answer_holds_the_cname);
	RUN(reverse_lookup_names_the_member);
	RUN(other_names_are_forwarded);
	RUN(unknown_names_of_the_network_stay_inside);
	RUN(queries_from_another_interface_get_no_answer);
	RUN(dhcp_gives_the_reserved_address);
	RUN(dhcp_names_a_dynamic_lease_after_sighup);
	RUN(dhcp_ignores_strangers);
	RUN(update_adds_a_member_without_restart);
	RUN(update_removes_a_member_without_restart);
	RUN(alias_change_restarts_with_the_leases);
	RUN(second_start_adopts_the_running_dnsmasq);
	RUN(reap_notices_a_dead_dnsmasq_and_update_restarts_it);
	RUN(start_without_the_bridge_fails);
	RUN(start_of_a_missing_program_fails);
	RUN(failed_start_reports_dnsmasqs_complaint);
	RUN(stop_ends_dnsmasq_and_removes_its_directory);
}

int main(void)
{
	const char *why = NULL;
	int r = enter_namespaces(&why);

	if (r > 0) {
		printf("1..0 # SKIP %s\n", why);
		return 0;
	}
	if (r < 0) {
		printf("Bail out! %s\n", why);
		return 1;
	}
	RUN(config_isolates_dnsmasq);
	RUN(config_listens_on_the_bridge_only);
	RUN(config_range_has_the_netmask);
	RUN(config_without_range_serves_reservations);
	RUN(config_serves_members_only_and_ignores_their_names);
	RUN(config_gateway_is_the_router);
	RUN(config_keeps_domain_and_reverse_zone_local);
	RUN(config_reverse_zones_cover_unaligned_prefixes);
	RUN(config_has_a_cname_per_alias);
	RUN(config_leaves_out_unusable_aliases);
	RUN(config_without_domain_has_plain_names);
	RUN(dhcp_hosts_reserve_and_name);
	RUN(dhcp_hosts_do_not_pin_a_leased_address);
	RUN(dhcp_hosts_keep_reservations_of_names_unfit_for_dns);
	RUN(hosts_list_reserved_members);
	run_native();
	if (dm.pidfd >= 0)
		dnsmasq_stop(&dm);
	run("rm -rf %s", tmp_dir);
	return test_done();
}
