/*
 * Links over rtnetlink; see link.h and rtnetlink(7).
 *
 * Every request carries NLM_F_ACK, so the kernel always ends its answer
 * with an NLMSG_ERROR message: error 0 for success, after the reply proper
 * for a GET. nl_talk() is the one place that sends a request and reads
 * until that acknowledgement; the functions below only build requests and,
 * for link_get(), read the reply.
 */
#include "net/link.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/*
 * Our requests are a header, an ifinfomsg or ifaddrmsg and a few small
 * attributes (a name is at most IFNAMSIZ bytes): under 128 bytes, so the
 * attributes are put without checking for room.
 */
#define REQUEST_MAX 256

/* One link's description without statistics is a few KiB at most; a reply
 * that does not fit is an error (ENOSPC from libmnl), never cut short. */
#define REPLY_MAX 16384

/* Reads a reply other than the acknowledgement: 0, or -errno to give up. */
typedef int (*nl_reply_fn)(const struct nlmsghdr *nlh, void *data);

/* Where the reason for a failure goes, when there is more to say than errno. */
struct nl_why {
	char text[256];
};

/* A socket for one request: close-on-exec, asking for the kernel's reasons. */
static struct mnl_socket *nl_open(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	int on = 1, err;

	if (!nl)
		return NULL;
	/* Both are refinements: a kernel without them (before 4.12 for
	 * EXT_ACK) still reports the errno. CAP_ACK keeps an error from
	 * echoing the whole request back. */
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &on, sizeof(on));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &on, sizeof(on));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = errno;
		mnl_socket_close(nl);
		errno = err;
		return NULL;
	}
	return nl;
}

/* Keeps the extended acknowledgement's message, if it has one. */
static int ext_ack_attr(const struct nlattr *attr, void *data)
{
	struct nl_why *why = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(why->text, sizeof(why->text), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/*
 * The acknowledgement (struct nlmsgerr, then the extended acknowledgement's
 * attributes if NLM_F_ACK_TLVS): 0, or the request's -errno with the
 * kernel's words for it in `why`.
 */
static int nl_ack(const struct nlmsghdr *nlh, struct nl_why *why)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t len = mnl_nlmsg_get_payload_len(nlh), off = sizeof(*e);

	if (len < sizeof(*e)) {
		snprintf(why->text, sizeof(why->text), "a truncated acknowledgement");
		return -EPROTO;
	}
	if (e->error >= 0)
		return 0;
	/* Uncapped, the request we sent sits between the two. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len >= sizeof(e->msg))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && off <= len)
		mnl_attr_parse(nlh, off, ext_ack_attr, why);
	return e->error;
}

/*
 * One datagram of answers to request `seq` from the kernel to `portid`:
 * 1 if the acknowledgement is still to come, else what it said (or
 * -EPROTO for an answer that is not ours or is cut short).
 */
static int nl_answers(const void *buf, int len, uint32_t seq, uint32_t portid,
		      nl_reply_fn on_reply, void *data, struct nl_why *why)
{
	const struct nlmsghdr *nlh;
	int err;

	for (nlh = buf; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != portid) {
			snprintf(why->text, sizeof(why->text),
				 "an answer to another request (sequence %u, expected %u)",
				 nlh->nlmsg_seq, seq);
			return -EPROTO;
		}
		if (nlh->nlmsg_type == NLMSG_ERROR)
			return nl_ack(nlh, why);
		/* NLMSG_NOOP; DONE and OVERRUN belong to dumps, which we never ask for. */
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE || !on_reply)
			continue;
		err = on_reply(nlh, data);
		if (err < 0) {
			snprintf(why->text, sizeof(why->text), "a malformed reply");
			return err;
		}
	}
	if (len) {
		snprintf(why->text, sizeof(why->text), "a truncated answer");
		return -EPROTO;
	}
	return 1;
}

/* Sends `req` on a socket of its own and reads until its acknowledgement. */
static int nl_exchange(struct nlmsghdr *req, nl_reply_fn on_reply, void *data,
		       struct nl_why *why)
{
	struct mnl_socket *nl = nl_open();
	char buf[REPLY_MAX];
	ssize_t n;
	int err;

	if (!nl)
		return -errno;
	/* A fresh socket sees only our answers; the number is checked anyway. */
	req->nlmsg_seq = (uint32_t)time(NULL);
	err = mnl_socket_sendto(nl, req, req->nlmsg_len) < 0 ? -errno : 1;
	while (err == 1) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			err = errno == EINTR ? 1 : -errno;
		else
			err = nl_answers(buf, (int)n, req->nlmsg_seq, mnl_socket_get_portid(nl),
					 on_reply, data, why);
	}
	mnl_socket_close(nl);
	return err;
}

/*
 * Sends `req`, hands each reply to `on_reply` (NULL if none are expected)
 * and returns what the acknowledgement said: 0 or -errno. A failure other
 * than `quiet` (an answer the caller expects, such as -ENODEV to a lookup)
 * is logged as "WHAT: reason", with the kernel's explanation if it gave one.
 */
__attribute__((format(printf, 5, 6)))
static int nl_talk(struct nlmsghdr *req, nl_reply_fn on_reply, void *data, int quiet,
		   const char *fmt, ...)
{
	struct nl_why why = { "" };
	char what[128];
	va_list ap;
	int err = nl_exchange(req, on_reply, data, &why);

	if (!err || err == quiet)
		return err;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (why.text[0])
		log_error("%s: %s (%s)", what, strerror(-err), why.text);
	else
		log_error("%s: %s", what, strerror(-err));
	return err;
}

/* Interface names are 1 to IFNAMSIZ - 1 bytes; the kernel's own message
 * for a longer one ("Attribute failed policy validation") says less. */
static int name_check(const char *name)
{
	size_t len = strnlen(name, IFNAMSIZ);

	if (len && len < IFNAMSIZ)
		return 0;
	log_error("'%s' is not an interface name (1 to %d bytes)", name, IFNAMSIZ - 1);
	return -EINVAL;
}

/* Starts a request about the link called `name` in `buf`. */
static struct nlmsghdr *link_request(void *buf, uint16_t type, uint16_t flags, const char *name)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	/* With ifi_index 0 the kernel finds the link by this name. */
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

/* link_get(): what IFLA_LINKINFO says. */
static int linkinfo_attr(const struct nlattr *attr, void *data)
{
	struct link_info *info = data;

	if (mnl_attr_get_type(attr) != IFLA_INFO_KIND)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
		return MNL_CB_ERROR;
	snprintf(info->kind, sizeof(info->kind), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/* link_get(): the attributes of RTM_NEWLINK that struct link_info holds. */
static int link_attr(const struct nlattr *attr, void *data)
{
	struct link_info *info = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_MASTER:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		info->master = mnl_attr_get_u32(attr);
		break;
	case IFLA_ADDRESS:
		/* Only Ethernet-like links have a 6-byte address; a tun
		 * device has none, an IP tunnel a 4- or 16-byte one. */
		if (mnl_attr_get_payload_len(attr) == sizeof(info->mac))
			memcpy(info->mac, mnl_attr_get_payload(attr), sizeof(info->mac));
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		return mnl_attr_parse_nested(attr, linkinfo_attr, info);
	}
	return MNL_CB_OK;
}

static int link_reply(const struct nlmsghdr *nlh, void *data)
{
	struct link_info *info = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi) ||
	    ifi->ifi_index <= 0)
		return -EPROTO;
	info->index = (unsigned)ifi->ifi_index;
	info->up = ifi->ifi_flags & IFF_UP;
	return mnl_attr_parse(nlh, sizeof(*ifi), link_attr, info) == MNL_CB_ERROR ? -EPROTO : 0;
}

int link_get(const char *name, struct link_info *info)
{
	alignas(struct nlmsghdr) char buf[REQUEST_MAX];
	struct nlmsghdr *req;
	int err;

	memset(info, 0, sizeof(*info));
	err = name_check(name);
	if (err)
		return err;
	req = link_request(buf, RTM_GETLINK, 0, name);
	/* Statistics would only make the reply longer. */
	mnl_attr_put_u32(req, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	err = nl_talk(req, link_reply, info, -ENODEV, "cannot look up link %s", name);
	if (!err && !info->index) {
		log_error("cannot look up link %s: the kernel acknowledged without describing it",
			  name);
		return -EPROTO;
	}
	return err;
}

/* link_get(), but a missing link is an error to log: the caller needs it. */
static int link_index(const char *name)
{
	struct link_info info;
	int err = link_get(name, &info);

	if (err == -ENODEV)
		log_error("there is no link called %s", name);
	return err < 0 ? err : (int)info.index;
}

int link_bridge_add(const char *name)
{
	alignas(struct nlmsghdr) char buf[REQUEST_MAX];
	struct nlmsghdr *req;
	struct nlattr *linkinfo, *data;
	int err = name_check(name);

	if (err)
		return err;
	req = link_request(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, name);
	linkinfo = mnl_attr_nest_start(req, IFLA_LINKINFO);
	mnl_attr_put_strz(req, IFLA_INFO_KIND, "bridge");
	data = mnl_attr_nest_start(req, IFLA_INFO_DATA);
	/* A bridge of guests has no second path to make a loop through, so
	 * STP has nothing to do but hold each new port back; and without it
	 * a port would still spend 2 x forward delay listening and learning
	 * before it forwards (a guest's DHCP request would be lost). */
	mnl_attr_put_u32(req, IFLA_BR_STP_STATE, 0);
	mnl_attr_put_u32(req, IFLA_BR_FORWARD_DELAY, 0);
	mnl_attr_nest_end(req, data);
	mnl_attr_nest_end(req, linkinfo);
	return nl_talk(req, NULL, NULL, 0, "cannot create bridge %s", name);
}

int link_delete(const char *name)
{
	alignas(struct nlmsghdr) char buf[REQUEST_MAX];
	int err = name_check(name);

	if (err)
		return err;
	return nl_talk(link_request(buf, RTM_DELLINK, 0, name), NULL, NULL, 0,
		       "cannot remove link %s", name);
}

int link_set_up(const char *name, bool up)
{
	alignas(struct nlmsghdr) char buf[REQUEST_MAX];
	struct nlmsghdr *req;
	struct ifinfomsg *ifi;
	int err = name_check(name);

	if (err)
		return err;
	req = link_request(buf, RTM_SETLINK, 0, name);
	ifi = mnl_nlmsg_get_payload(req);
	ifi->ifi_change = IFF_UP;	/* the one flag to change */
	ifi->ifi_flags = up ? IFF_UP : 0;
	return nl_talk(req, NULL, NULL, 0, "cannot bring link %s %s", name, up ? "up" : "down");
}

int link_set_master(const char *name, const char *master)
{
	alignas(struct nlmsghdr) char buf[REQUEST_MAX];
	struct nlmsghdr *req;
	int err = name_check(name), index = 0;

	if (err)
		return err;
	if (master) {
		index = link_index(master);
		if (index < 0)
			return index;
	}
	req = link_request(buf, RTM_SETLINK, 0, name);
	/* The kernel does nothing for the master the link already has, and
	 * releases the link from any other before attaching it. */
	mnl_attr_put_u32(req, IFLA_MASTER, (uint32_t)index);
	if (master)
		return nl_talk(req, NULL, NULL, 0, "cannot attach %s to %s", name, master);
	return nl_talk(req, NULL, NULL, 0, "cannot release %s from its master", name);
}

/* The broadcast address of addr/prefix: all host bits set. */
static struct in_addr broadcast_of(struct in_addr addr, unsigned prefix)
{
	uint32_t host = prefix ? UINT32_MAX >> prefix : UINT32_MAX;

	return (struct in_addr){ .s_addr = addr.s_addr | htonl(host) };
}

/* Starts RTM_NEWADDR for addr/prefix on link `index`. */
static struct nlmsghdr *addr_request(void *buf, int index, struct in_addr addr, unsigned prefix)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (uint8_t)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)index;
	/* LOCAL is the address itself; ADDRESS the peer, which on a link
	 * that is not point-to-point is the same. */
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(addr), &addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(addr), &addr);
	return nlh;
}

int link_addr_add(const char *name, struct in_addr addr, unsigned prefix)
{
	alignas(struct nlmsghdr) char buf[REQUEST_MAX];
	char text[INET_ADDRSTRLEN];
	struct in_addr brd;
	struct nlmsghdr *req;
	int index, err;

	inet_ntop(AF_INET, &addr, text, sizeof(text));
	if (prefix > 32) {
		log_error("cannot add address %s/%u to %s: a prefix is at most 32 bits", text,
			  prefix, name);
		return -EINVAL;
	}
	index = link_index(name);
	if (index < 0)
		return index;
	req = addr_request(buf, index, addr, prefix);
	/* A /31 has no broadcast address (RFC 3021), a /32 no other host. */
	if (prefix <= 30) {
		brd = broadcast_of(addr, prefix);
		mnl_attr_put(req, IFA_BROADCAST, sizeof(brd), &brd);
	}
	err = nl_talk(req, NULL, NULL, -EEXIST, "cannot add address %s/%u to %s", text, prefix,
		      name);
	return err == -EEXIST ? 0 : err;
}
