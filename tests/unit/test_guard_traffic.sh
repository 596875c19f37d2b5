#!/bin/sh
# test_guard_traffic.sh GUARD_TOOL
#
# The L2 guard against real frames. Four network namespaces of the test's
# own, deleted on exit: "host" holds bridge corral0 (192.168.42.1/24) and
# the guard's table; domains d3 and d4 (.103, .104) are ports vif3.0 and
# vif4.0; "out" (.200) is the LAN beyond the uplink port eth1. Nothing
# here touches the real host's links or ruleset. Each drop is shown twice:
# the frame does not arrive (or teaches no neighbour), and its counter
# grows; where a listener hears nothing, a like frame that the guard lets
# through shows that it would have. Prints TAP.
# shellcheck disable=SC2317 # functions that only check calls
tool=$1
. "$(dirname "$0")/tap.sh"
dir=$(mktemp -d /tmp/guard-traffic-XXXXXX)
h=cgt$$h d3=cgt$$d3 d4=cgt$$d4 out=cgt$$o
trap 'kill $(jobs -p) 2>/dev/null; for ns in $h $d3 $d4 $out; do ip netns del $ns 2>/dev/null; done; rm -rf "$dir"' EXIT

if [ "$(id -u)" != 0 ] || ! ip netns add $h 2>/dev/null; then
    echo "1..0 # SKIP needs root and ip netns"
    exit 0
fi

inside() { # inside NS COMMAND...
    ns=$1; shift
    ip netns exec "$ns" "$@"
}

# Datagrams, raw frames, and listeners for both that count what arrives.
cat >"$dir/net.py" <<'EOF'
import os, socket, struct, sys, time
MARK = b"corral-guard-test"

def mac(text):
    return bytes.fromhex(text.replace(":", ""))

# Frames carrying MARK, from when FLAG.ready is made until FLAG.stop
# appears (or a minute has passed).
def count(sock, flag):
    open(flag + ".ready", "w").close()
    sock.settimeout(0.05)
    n, end = 0, time.time() + 60
    while not os.path.exists(flag + ".stop") and time.time() < end:
        try:
            n += MARK in sock.recv(4096)
        except socket.timeout:
            pass
    print(n)

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "listen":  # listen PORT FLAG: datagrams to PORT
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", int(args[0])))
    count(s, args[1])
elif cmd == "sniff":  # sniff IFACE FLAG: frames on IFACE
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((args[0], 0))
    count(s, args[1])
elif cmd == "send":  # send SRC_PORT DST DST_PORT [SRC_IP]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args[3] if len(args) > 3 else "", int(args[0])))
    for _ in range(3):
        s.sendto(MARK, (args[1], int(args[2])))
        time.sleep(0.05)
elif cmd == "frame":  # frame IFACE SRC_MAC plain|vlan|arp [SENDER_MAC SENDER_IP TARGET_IP]
    src, kind = mac(args[1]), args[2]
    head = b"\xff" * 6 + src
    if kind == "plain":
        frame = head + b"\x88\xb5" + MARK
    elif kind == "vlan":
        frame = head + b"\x81\x00" + struct.pack("!H", 5) + b"\x88\xb5" + MARK
    else:
        frame = (head + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) +
                 mac(args[3]) + socket.inet_aton(args[4]) + b"\0" * 6 +
                 socket.inet_aton(args[5]) + MARK)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((args[0], 0))
    for _ in range(3):
        s.send(frame.ljust(60, b"\0"))
        time.sleep(0.05)
EOF

# listen NS udp PORT | listen NS raw IFACE: counts what arrives there until
# `arrived` asks; returns once the listener is ready.
listen() {
    f=$dir/$1.$3
    rm -f "$f.count" "$f.ready" "$f.stop"
    if [ "$2" = udp ]; then what=listen; else what=sniff; fi
    inside "$1" python3 "$dir/net.py" $what "$3" "$f" >"$f.count" &
    i=0
    while [ ! -e "$f.ready" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
}
arrived() { # arrived NS PORT|IFACE: how many the listener counted (after the sends)
    f=$dir/$1.$2
    sleep 0.3
    touch "$f.stop"
    i=0
    while [ ! -s "$f.count" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    cat "$f.count"
}
send() { # send NS SRC_PORT DST DST_PORT [SRC_IP]
    ns=$1; shift
    inside "$ns" python3 "$dir/net.py" send "$@"
}
frame() { # frame NS ARGS...: raw frames out of the namespace's eth0
    ns=$1; shift
    inside "$ns" python3 "$dir/net.py" frame eth0 "$@"
}
packets() { # packets PATH...: corral0's counter at PATH in guard_tool's JSON
    inside $h "$tool" counters corral0 | python3 -c '
import json, sys
d = json.load(sys.stdin)
for key in sys.argv[1:]:
    d = d[key]
print(d["packets"])' "$@"
}
ping_ok() { # ping_ok NS ADDRESS [SOURCE]
    inside "$1" busybox ping -c 2 -w 3 -W 2 ${3:+-I $3} "$2" >/dev/null 2>&1
}
ping_fails() { # ping_fails NS ADDRESS [SOURCE]
    ! ping_ok "$@"
}
apply() { # apply [isolated]: the guard for the test's network
    inside "$h" "$tool" apply corral0 192.168.42.1/24 uplink=eth1 keep=mdns ${1:+"$1"} \
        vif3.0,52:54:00:00:00:03,192.168.42.103 vif4.0,52:54:00:00:00:04,192.168.42.104
}

for ns in $d3 $d4 $out; do ip netns add "$ns"; done
for ns in $h $d3 $d4 $out; do
    inside "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
done
ip -n $h link add corral0 type bridge
ip -n $h addr add 192.168.42.1/24 dev corral0
ip -n $h link set corral0 up
port() { # port IFNAME NS MAC ADDRESS
    ip -n $h link add "$1" type veth peer name eth0 netns "$2"
    ip -n $h link set "$1" master corral0 up
    ip -n "$2" link set eth0 address "$3" up
    ip -n "$2" addr add "$4"/24 dev eth0
}
port vif3.0 $d3 52:54:00:00:00:03 192.168.42.103
port vif4.0 $d4 52:54:00:00:00:04 192.168.42.104
port eth1 $out 52:54:00:00:00:c8 192.168.42.200

check "the guard applies" apply
check "a domain pings another" ping_ok $d3 192.168.42.104
check "a domain pings the host" ping_ok $d3 192.168.42.1
check "a domain pings the LAN beyond the uplink" ping_ok $d3 192.168.42.200

before=$(packets ports vif3.0 mac)
ip -n $d3 link set eth0 address 52:54:00:00:00:99
ip -n $d3 neigh flush dev eth0
check "with another MAC, a domain pings no one" ping_fails $d3 192.168.42.104
check "and its frames count as MAC drops" [ "$(packets ports vif3.0 mac)" -gt "$before" ]
ip -n $d3 link set eth0 address 52:54:00:00:00:03

before=$(packets ports vif3.0 ip)
ip -n $d3 addr add 192.168.42.77/32 dev eth0
ip -n $d3 neigh replace 192.168.42.104 lladdr 52:54:00:00:00:04 dev eth0 nud permanent
check "from another address, a domain pings no one" ping_fails $d3 192.168.42.104 192.168.42.77
check "and its packets count as IP drops" [ "$(packets ports vif3.0 ip)" -gt "$before" ]
ip -n $d3 neigh del 192.168.42.104 dev eth0

before=$(packets ports vif3.0 arp)
inside $d3 busybox arping -c 2 -w 2 -I eth0 -s 192.168.42.77 192.168.42.104 >/dev/null 2>&1
check "ARP from another address teaches no neighbour" \
    sh -c "! ip -n $d4 neigh show 192.168.42.77 | grep -q lladdr"
check "and counts as an ARP drop" [ "$(packets ports vif3.0 arp)" -gt "$before" ]
ip -n $d3 addr del 192.168.42.77/32 dev eth0

before=$(packets ports vif3.0 arp)
frame $d3 52:54:00:00:00:03 arp 52:54:00:00:00:99 192.168.42.103 192.168.42.104
check "ARP claiming another MAC inside teaches no neighbour" \
    sh -c "! ip -n $d4 neigh show 192.168.42.103 | grep -q 52:54:00:00:00:99"
check "and counts as an ARP drop" [ "$(packets ports vif3.0 arp)" -gt "$before" ]

before=$(packets ports vif3.0 vlan)
listen $d4 raw eth0
frame $d3 52:54:00:00:00:03 vlan
check "a VLAN-tagged frame reaches no other domain" [ "$(arrived $d4 eth0)" = 0 ]
check "and counts as a VLAN drop" [ "$(packets ports vif3.0 vlan)" -gt "$before" ]
listen $d4 raw eth0
frame $d3 52:54:00:00:00:03 plain
check "the same frame untagged does" [ "$(arrived $d4 eth0)" -gt 0 ]

before=$(packets uplink dhcp_out)
listen $h udp 67
listen $out udp 67
inside $d3 busybox udhcpc -i eth0 -n -q -t 1 -T 1 -s /bin/true -x hostname:corral-guard-test >/dev/null 2>&1
check "a domain's DHCP request from 0.0.0.0 reaches the host" [ "$(arrived $h 67)" -gt 0 ]
check "but not the LAN beyond the uplink" [ "$(arrived $out 67)" = 0 ]
check "where it counts as DHCP kept in" [ "$(packets uplink dhcp_out)" -gt "$before" ]
listen $out udp 9999
send $d3 68 192.168.42.255 9999
check "the LAN hears a domain on another port" [ "$(arrived $out 9999)" -gt 0 ]

before=$(packets uplink dhcp_in)
listen $d3 udp 67
send $out 68 192.168.42.255 67
check "DHCP from the LAN reaches no domain" [ "$(arrived $d3 67)" = 0 ]
check "and counts as DHCP kept out" [ "$(packets uplink dhcp_in)" -gt "$before" ]
listen $d3 udp 9999
send $out 68 192.168.42.255 9999
check "a domain hears the LAN on another port" [ "$(arrived $d3 9999)" -gt 0 ]

before=$(packets ports vif3.0 dhcp_server)
listen $d4 udp 68
send $d3 67 192.168.42.255 68
check "a domain's DHCP answer reaches no other domain" [ "$(arrived $d4 68)" = 0 ]
check "and counts as a DHCP server drop" [ "$(packets ports vif3.0 dhcp_server)" -gt "$before" ]
listen $d4 udp 68
send $d3 6700 192.168.42.255 68
check "the same from another port does" [ "$(arrived $d4 68)" -gt 0 ]

before=$(packets uplink discovery_out)
listen $d4 udp 5353
listen $out udp 5353
send $d3 5353 192.168.42.255 5353
check "mDNS reaches the other domain" [ "$(arrived $d4 5353)" -gt 0 ]
check "but not the LAN" [ "$(arrived $out 5353)" = 0 ]
check "where it counts as discovery kept in" [ "$(packets uplink discovery_out)" -gt "$before" ]

before=$(packets uplink dns_out)
listen $d3 udp 5300
listen $out udp 5300
send $h 53 192.168.42.255 5300 192.168.42.1
check "the host's DNS answers reach a domain" [ "$(arrived $d3 5300)" -gt 0 ]
check "but not the LAN" [ "$(arrived $out 5300)" = 0 ]
check "where they count as DNS kept in" [ "$(packets uplink dns_out)" -gt "$before" ]

mac_drops=$(packets ports vif3.0 mac)
check "the guard applies again, isolated" apply isolated
check "the counters carry over" [ "$(packets ports vif3.0 mac)" = "$mac_drops" ]
check "isolated, a domain pings no other" ping_fails $d3 192.168.42.104
check "which counts as isolation" [ "$(packets isolation)" -gt 0 ]
check "but it pings the host" ping_ok $d3 192.168.42.1
check "and the LAN" ping_ok $d3 192.168.42.200

check "the guard goes" inside $h "$tool" remove
check "with its table" sh -c "! ip netns exec $h nft list tables | grep -q corral"
check "and domains ping each other again" ping_ok $d3 192.168.42.104
tap_done
