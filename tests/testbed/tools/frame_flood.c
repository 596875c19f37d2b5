/*
 * frame_flood IFACE DST_MAC COUNT: sends COUNT malformed Ethernet frames to
 * DST_MAC out of IFACE (a bridge in L1), for the scenario that checks a
 * guest NIC survives them. Frames are 14 to 1514 bytes of random content
 * with the destination fixed, and a mix of ethertypes (IPv4, IPv6, ARP,
 * VLAN and random) so the guest's stack and our receive path see truncated
 * and nonsensical headers of every kind. Prints how many were sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

static int parse_mac(const char *text, unsigned char mac[6])
{
	unsigned v[6];

	if (sscanf(text, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = v[i];
	return 0;
}

int main(int argc, char **argv)
{
	static const uint16_t types[] = { ETH_P_IP, ETH_P_IPV6, ETH_P_ARP, ETH_P_8021Q, 0 };
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	unsigned char frame[1514];
	long count, sent = 0;
	int fd;

	if (argc != 4 || parse_mac(argv[2], to.sll_addr) < 0 || (count = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: frame_flood IFACE DST_MAC COUNT\n");
		return 2;
	}
	to.sll_ifindex = if_nametoindex(argv[1]);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (!to.sll_ifindex || fd < 0) {
		perror(argv[1]);
		return 1;
	}
	for (long i = 0; i < count; i++) {
		uint16_t len, type;

		if (getrandom(frame, sizeof(frame), 0) != sizeof(frame))
			return 1;
		len = ETH_HLEN + (frame[0] | frame[1] << 8) % (sizeof(frame) - ETH_HLEN + 1);
		type = types[i % 5] ? types[i % 5] : (uint16_t)(frame[2] << 8 | frame[3]);
		memcpy(frame, to.sll_addr, 6);
		frame[12] = type >> 8;
		frame[13] = type & 0xff;
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&to, sizeof(to)) == len)
			sent++;
		else if (errno != ENOBUFS && errno != EAGAIN)
			perror("sendto");
	}
	printf("sent %ld of %ld frames\n", sent, count);
	return sent ? 0 : 1;
}
