#!/bin/sh
# test_networks.sh CORRALD CORRAL STANDIN_VMM
#
# A managed network end to end, natively, in network namespaces this test
# makes (and always removes): corrald and its bridge, dnsmasq and nftables
# rules in a "host" namespace; an "outside" namespace on the uplink, standing
# for the physical LAN; and a namespace per domain, its NIC a tap that a
# stand-in VMM (net_standin_vmm.py) connects to the tap corrald made. The
# domains run real DHCP clients (busybox udhcpc) and real DNS queries (dig)
# against corral's dnsmasq; tcpdump in the outside namespace watches what
# leaks; the guard's drop counters come from `corral network show --json`.
# Prints TAP.
corrald=$1 corral=$2 standin=$3
dir=$(mktemp -d /tmp/corral-net-test-XXXXXX)
chmod 755 "$dir"   # dnsmasq, no longer root, reads its files below
ns=crl$$
host=$ns-host out=$ns-out
. "$(dirname "$0")/tap.sh"

netns_all() { ip netns list | awk '{print $1}' | grep "^$ns-"; }
cleanup() {
    for x in $(netns_all); do
        ip netns pids "$x" | xargs -r kill -9 2>/dev/null
        ip netns del "$x"
    done
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ "$(id -u)" != 0 ] || ! ip netns add "$host" 2>/dev/null; then
    echo "1..0 # SKIP needs root for network namespaces"
    exit 0
fi

in_ns() { ns_name=$1; shift; ip netns exec "$ns_name" "$@"; }
cr() { in_ns "$host" "$corral" --socket "$dir/run/corral.sock" "$@"; }
# drops NAME PATH: the packets counted by the guard's counter at PATH
# (e.g. "uplink dhcp_in" or "ports vif1.0 mac") of network NAME.
drops() {
    cr network show --json "$1" | python3 -c '
import json, sys
v = json.load(sys.stdin)["drops"]
for key in sys.argv[1].split():
    v = v.get(key, {})
print(v.get("packets", 0))' "$2"
}
grew() { [ "$(drops corral0 "$1")" -gt "$2" ]; }

# dhcp NS IFACE: a lease by busybox udhcpc, the address applied as a real
# client's script would; prints the address.
cat >"$dir/udhcpc.sh" <<'EOF'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr flush dev "$interface"
ip addr add "$ip/$mask" dev "$interface"
EOF
chmod +x "$dir/udhcpc.sh"
dhcp() {
    in_ns "$1" busybox udhcpc -i "$2" -n -q -f -t 4 -T 1 -s "$dir/udhcpc.sh" >/dev/null 2>&1 &&
        in_ns "$1" ip -4 -o addr show dev "$2" | awk '{print $4}' | cut -d/ -f1
}
lookup() { # lookup NS ARGS...: dig's short answer from corral's DNS
    ns_name=$1; shift
    in_ns "$ns_name" dig +short +time=1 +tries=2 @192.168.42.18 "$@"
}

# The host, the outside world on the uplink, and the domains.
ip netns add "$out"
for d in krb5 web rogue; do ip netns add "$ns-$d"; done
in_ns "$host" ip link set lo up
in_ns "$host" ip link add uplink0 type veth peer name eth0 netns "$out"
in_ns "$out" ip link set lo up
in_ns "$out" ip link set eth0 address 02:00:00:00:0e:01 up
in_ns "$out" ip addr add 192.168.42.1/24 dev eth0
mkdir -p "$dir/state" "$dir/run" "$dir/log"
start_corrald() {
    ip netns exec "$host" "$corrald" --state-dir "$dir/state" --run-dir "$dir/run" \
        --log-dir "$dir/log" --vmm "$standin" 2>>"$dir/corrald.log" &
    corrald_pid=$!
    i=0
    while [ $i -lt 100 ] && ! cr list >/dev/null 2>&1; do sleep 0.05; i=$((i + 1)); done
}
start_corrald

# ---- The network --------------------------------------------------------
cat >"$dir/bad.cfg" <<'EOF'
name = 'corral0'
address = '192.168.42.18/24'
dhcp_range = '192.168.42.100-192.168.42.299'
EOF
cr network create "$dir/bad.cfg" 2>"$dir/bad.err"
check "a bad network file is refused" [ $? = 1 ]
check "with FILE:LINE:COL" grep -q "^$dir/bad.cfg:3:14: error: dhcp_range: '192.168.42.299' is not an IPv4 address" "$dir/bad.err"
check "and leaves no bridge behind" sh -c "! ip netns exec $host ip link show corral0 2>/dev/null"

cat >"$dir/net.cfg" <<'EOF'
# As in the seed: the host serves DHCP and DNS for example.com on its bridge.
name = 'corral0'
address = '192.168.42.18/24'
dhcp_range = '192.168.42.100-192.168.42.199'
dns_domain = 'example.com'
uplink = 'uplink0'
keep_inside = ['mdns']
EOF
check "corral network create" cr network create "$dir/net.cfg"
check "the bridge is up with the host's address" sh -c "ip netns exec $host ip -4 -o addr show dev corral0 | grep -q 'inet 192.168.42.18/24'"
check "the uplink is its port" sh -c "ip netns exec $host ip -o link show uplink0 | grep -q 'master corral0'"
check "corral's tables are in place" sh -c "ip netns exec $host nft list table netdev corral | grep -q 'hook egress device \"uplink0\"' && ip netns exec $host nft list table bridge corral >/dev/null"
listed() { cr network list | grep -q '^corral0 .*192.168.42.18/24 .*example.com .*uplink0'; }
check "corral network list shows it" listed
cr network create "$dir/net.cfg" 2>"$dir/again.err"
check "a second network of that name is refused" [ $? = 1 ]

# ---- A new corrald takes the network over ---------------------------------
# (Domains' VMMs are re-adopted only if they run corral-vmm, which the
# stand-in is not; the testbed's corrald-restart scenario covers those.)
dnsmasq_pid=$(cat "$dir/run/net/corral0/dnsmasq.pid")
kill -TERM $corrald_pid; wait $corrald_pid
start_corrald
check "a new corrald lists the network" listed
check "and adopts its dnsmasq" sh -c "ip netns exec $host '$corral' --socket '$dir/run/corral.sock' network show --json corral0 | grep -q '\"dnsmasq_pid\": $dnsmasq_pid,'"
check "and keeps its rules" sh -c "ip netns exec $host nft list table netdev corral | grep -q 'hook ingress device \"uplink0\"'"

# ---- Domains ------------------------------------------------------------
: >"$dir/vmlinuz"
domain() { # domain NAME VIF [EXTRA...]
    name=$1 vif=$2; shift 2
    { printf "name = '%s'\nkernel = '%s'\nextra = 'netns=%s'\nvif = ['%s']\n" \
        "$name" "$dir/vmlinuz" "$ns-$name" "$vif"
      for line in "$@"; do echo "$line"; done; } >"$dir/$name.cfg"
    cr create "$dir/$name.cfg"
}
check "krb5 joins with a reserved address and aliases" \
    domain krb5 "mac=00:16:3e:00:00:19, bridge=corral0, ip=192.168.42.19" "dns_aliases = ['yum', 'ldap', 'kdc']"
check "web joins without an address" domain web "mac=00:16:3e:00:00:20, bridge=corral0"
check "rogue joins" domain rogue "mac=00:16:3e:00:00:21, bridge=corral0, ip=192.168.42.21"
printf "name = 'dup'\nkernel = '%s'\nvif = ['bridge=corral0, ip=192.168.42.19']\n" "$dir/vmlinuz" >"$dir/dup.cfg"
cr create "$dir/dup.cfg" 2>"$dir/dup.err"
check "a taken address is refused" sh -c "[ $? = 1 ] && grep -q 'ip 192.168.42.19 is domain krb5' '$dir/dup.err'"
printf "name = 'yum'\nkernel = '%s'\nvif = ['bridge=corral0']\n" "$dir/vmlinuz" >"$dir/yum.cfg"
cr create "$dir/yum.cfg" 2>"$dir/yum.err"
check "a name that is another domain's alias is refused" grep -q 'the name yum is domain krb5' "$dir/yum.err"
krb5_vif=vif$(cr domid krb5).0 web_vif=vif$(cr domid web).0 rogue_vif=vif$(cr domid rogue).0
check "the taps have Xen's names and are the bridge's ports" sh -c "ip netns exec $host ip -o link show $krb5_vif | grep -q 'master corral0'"

# What leaves by the uplink while the domains take their leases.
in_ns "$out" tcpdump -i eth0 -n -U -w "$dir/out.pcap" "(udp port 67 or udp port 68) and not ether src 02:00:00:00:0e:01" 2>/dev/null &
tcpdump_pid=$!
sleep 1
krb5_ip=$(dhcp "$ns-krb5" eth0)
check "krb5 gets its reserved address from dnsmasq (udhcpc)" [ "$krb5_ip" = 192.168.42.19 ]
web_ip=$(dhcp "$ns-web" eth0)
check "web gets an address from the range" sh -c "echo '$web_ip' | grep -Eq '^192\.168\.42\.1[0-9][0-9]$'"
rogue_ip=$(dhcp "$ns-rogue" eth0)
check "rogue gets its reserved address" [ "$rogue_ip" = 192.168.42.21 ]
sleep 1
kill $tcpdump_pid; wait $tcpdump_pid 2>/dev/null
check "no DHCP from inside reached the outside" sh -c "[ \$(tcpdump -r '$dir/out.pcap' 2>/dev/null | wc -l) = 0 ]"
check "the guard counted it at the uplink" grew "uplink dhcp_out" 0

# ---- DNS ----------------------------------------------------------------
check "names resolve forward" [ "$(lookup "$ns-web" krb5.example.com A)" = 192.168.42.19 ]
check "an alias is a CNAME of the domain" sh -c "ip netns exec $ns-web dig +short +time=1 @192.168.42.18 kdc.example.com A | tr '\n' ' ' | grep -q '^krb5.example.com. 192.168.42.19 $'"
check "and reverse" [ "$(lookup "$ns-web" -x 192.168.42.19)" = krb5.example.com. ]
check "a domain with a dynamic lease has its name too" [ "$(lookup "$ns-krb5" web.example.com A)" = "$web_ip" ]
check "a name not ours in our domain is NXDOMAIN" sh -c "ip netns exec $ns-web dig +time=1 @192.168.42.18 nosuch.example.com | grep -q 'status: NXDOMAIN'"
check "the host answers nothing from the outside" sh -c "! ip netns exec $out dig +short +time=1 +tries=1 @192.168.42.18 krb5.example.com A | grep -q '^192'"
check "its answer was dropped at the uplink" grew "uplink dns_out" 0

# ---- Outside DHCP never reaches dnsmasq ----------------------------------
in_ns "$out" busybox udhcpc -i eth0 -n -q -f -t 2 -T 1 -s /bin/true >/dev/null 2>&1
check "an outside DHCP discover gets no lease" [ $? != 0 ]
check "dnsmasq never saw it" sh -c "! grep -qi '02:00:00:00:0e:01' '$dir/run/net/corral0/dnsmasq.log'"
check "the guard counted it" grew "uplink dhcp_in" 0

# ---- Spoofing -----------------------------------------------------------
ping_host() { in_ns "$ns-krb5" busybox ping -c 1 -W 1 "$@" 192.168.42.18 >/dev/null 2>&1; }
check "krb5 reaches the host" ping_host
before=$(drops corral0 "ports $krb5_vif mac")
in_ns "$ns-krb5" ip link set eth0 address 00:16:3e:66:66:66
check "with another MAC it does not" sh -c "! ip netns exec $ns-krb5 busybox ping -c 1 -W 1 192.168.42.18 >/dev/null 2>&1"
in_ns "$ns-krb5" ip link set eth0 address 00:16:3e:00:00:19
check "the spoofed frames were counted" grew "ports $krb5_vif mac" "$before"
# The host's MAC, known: a spoofed IPv4 packet must not wait on an ARP
# request (which would carry the spoofed address too, and be dropped first).
host_mac=$(in_ns "$host" cat /sys/class/net/corral0/address)
for d in krb5 web; do
    in_ns "$ns-$d" ip neigh replace 192.168.42.18 lladdr "$host_mac" dev eth0 nud permanent
done
before=$(drops corral0 "ports $krb5_vif ip")
in_ns "$ns-krb5" ip addr add 192.168.42.50/24 dev eth0
check "from another IPv4 address it does not" sh -c "! ip netns exec $ns-krb5 busybox ping -c 1 -W 1 -I 192.168.42.50 192.168.42.18 >/dev/null 2>&1"
in_ns "$ns-krb5" ip addr del 192.168.42.50/24 dev eth0
check "those packets were counted" grew "ports $krb5_vif ip" "$before"
before=$(drops corral0 "ports $krb5_vif arp")
in_ns "$ns-krb5" ip addr add 192.168.42.60/32 dev eth0
in_ns "$ns-krb5" busybox arping -c 2 -w 2 -s 192.168.42.60 -I eth0 192.168.42.18 >/dev/null 2>&1
in_ns "$ns-krb5" ip addr del 192.168.42.60/32 dev eth0
check "ARP claiming another address is dropped and counted" grew "ports $krb5_vif arp" "$before"
before=$(drops corral0 "ports $web_vif ip")
in_ns "$ns-web" ip addr add 192.168.42.51/24 dev eth0
in_ns "$ns-web" busybox ping -c 1 -W 1 -I 192.168.42.51 192.168.42.18 >/dev/null 2>&1
in_ns "$ns-web" ip addr del 192.168.42.51/24 dev eth0
check "a leased address binds a domain too" grew "ports $web_vif ip" "$before"
check "ping between domains still works" sh -c "ip netns exec $ns-web busybox ping -c 1 -W 1 192.168.42.19 >/dev/null"

# ---- A rogue DHCP server --------------------------------------------------
# A second dnsmasq, in rogue's namespace: a DHCP server of its own.
in_ns "$ns-rogue" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root \
    --pid-file= --leasefile-ro --interface=eth0 --dhcp-authoritative --no-ping \
    --dhcp-range=192.168.42.230,192.168.42.240,255.255.255.0 --log-facility="$dir/rogue.log" \
    --log-dhcp 2>/dev/null &
sleep 0.5
in_ns "$ns-web" ip addr flush dev eth0
again=$(dhcp "$ns-web" eth0)
check "with a rogue server on the network, web still gets dnsmasq's lease" [ "$again" = "$web_ip" ]
offered() {
    i=0
    while [ $i -lt 50 ] && ! grep -q 'DHCPOFFER' "$dir/rogue.log" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    [ $i -lt 50 ]
}
check "the rogue server did offer" offered
check "the rogue's offers were dropped and counted" grew "ports $rogue_vif dhcp_server" 0

# ---- What shows, and taking it down ---------------------------------------
cr network show corral0 >"$dir/show.out"
check "network show lists the domains and their addresses" sh -c "grep -q '^krb5 .*192.168.42.19 (reserved) *yum ldap kdc' '$dir/show.out' && grep -q '^web .*$web_ip (leased)' '$dir/show.out'"
cr network destroy corral0 2>"$dir/busy.err"
check "a network in use is not destroyed" sh -c "[ $? = 1 ] && grep -q 'in use by' '$dir/busy.err'"
for d in krb5 web rogue; do cr destroy "$d"; done
sleep 0.5
check "the domains' taps are gone with them" sh -c "! ip netns exec $host ip link show $krb5_vif 2>/dev/null"
dnsmasq_pid=$(cat "$dir/run/net/corral0/dnsmasq.pid" 2>/dev/null)
check "corral network destroy" cr network destroy corral0
check "the bridge is gone" sh -c "! ip netns exec $host ip link show corral0 2>/dev/null"
check "the uplink is free again" sh -c "ip netns exec $host ip -o link show uplink0 | grep -qv master"
check "corral's tables are gone" sh -c "! ip netns exec $host nft list table bridge corral 2>/dev/null && ! ip netns exec $host nft list table netdev corral 2>/dev/null"
check "dnsmasq is gone" sh -c "[ -n '$dnsmasq_pid' ] && ! kill -0 '$dnsmasq_pid' 2>/dev/null"
check "the definition is gone" [ ! -e "$dir/state/networks/corral0.cfg" ]

if [ $failed = 1 ]; then
    echo "# corrald's log:"; sed 's/^/#   /' "$dir/corrald.log" | tail -40
fi
tap_done
