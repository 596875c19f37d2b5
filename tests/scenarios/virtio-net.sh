#!/bin/sh
# virtio-net: two NICs on an L1 bridge, one on a tap corral-vmm creates and
# attaches itself (tap=,bridge=) with the kernel's vhost-net moving its
# frames, one on a tap made beforehand with corral-vmm's own threads moving
# them. The guest sees the configured MACs, pings L1 and fetches a file over
# HTTP through each, then survives a flood of malformed frames from L1 on the
# vhost NIC and still gets through both.
set -eu
. "$TESTBED/lib.sh"

flood=$CORRAL_BIN/frame_flood
[ -x "$flood" ] || fail "no $flood (built by meson with the tests)"
# One bridge, a subnet per NIC, so each NIC carries its own traffic.
net_bridge crlbr0 10.0.0.1/24
ip addr add 10.0.1.1/24 dev crlbr0 || fail "cannot add 10.0.1.1 to crlbr0"
net_tap crltap1 crlbr0
mkdir -p "$WORK/www"
marker="corral-net-$$-$(date +%s)"
echo "$marker" >"$WORK/www/hello.txt"
net_http_serve "$WORK/www" 8080

guest_initrd_with - <<EOF2
. /guest-lib.sh
set -e
wait_path /sys/class/net/eth0
wait_path /sys/class/net/eth1
report ETH0-MAC "\$(cat /sys/class/net/eth0/address)"
report ETH1-MAC "\$(cat /sys/class/net/eth1/address)"
ip link set eth0 up
ip link set eth1 up
ip addr add 10.0.0.2/24 dev eth0
ip addr add 10.0.1.2/24 dev eth1
for round in before after; do
    ping -c 2 -W 5 -I eth0 10.0.0.1 >/tmp/ping0 && report PING0-\$round ok
    ping -c 2 -W 5 -I eth1 10.0.1.1 >/tmp/ping1 && report PING1-\$round ok
    report HTTP0-\$round "\$(wget -q -O - http://10.0.0.1:8080/hello.txt)"
    report HTTP1-\$round "\$(wget -q -O - http://10.0.1.1:8080/hello.txt)"
    report RX-PACKETS-\$round "\$(cat /sys/class/net/eth0/statistics/rx_packets)"
    [ \$round = after ] && break
    report FLOOD-ME
    # L1 floods eth0, then publishes flood-done.
    n=0
    until wget -q -O /dev/null http://10.0.1.1:8080/flood-done; do
        n=\$((n + 1)); [ \$n -lt 120 ] || exit 1
        sleep 1
    done
done
EOF2
start_guest run script --memory 256M \
    --net "tap=crltap0,bridge=crlbr0,mac=00:16:3e:12:34:56,vhost=on" \
    --net "tap=crltap1,mac=00:16:3e:12:34:57,vhost=off"
wait_for_console "@@ FLOOD-ME"
# vhost-net's worker is named after its owner: a kernel thread before Linux
# 6.4, a thread of the VMM since. Of the VMM's own receive threads, only
# eth1's may exist.
vhost_workers=$(cat /proc/[0-9]*/comm /proc/"$VMM_PID"/task/*/comm 2>/dev/null |
    grep -c "^vhost-$VMM_PID\$" || :)
[ "$vhost_workers" -ge 1 ] || fail "no vhost-$VMM_PID thread: eth0 does not run on vhost-net"
rx_threads=$(cat /proc/"$VMM_PID"/task/*/comm | grep -c '^virtio-net-rx$' || :)
assert_eq "receive threads in corral-vmm (eth1 only)" 1 "$rx_threads"
"$flood" crlbr0 00:16:3e:12:34:56 20000 || fail "frame_flood failed"
touch "$WORK/www/flood-done"
vmm_wait 180
assert_eq "script exit status" 0 "$(console_value SCRIPT-EXIT)"
assert_status 0 "the guest powered off"
assert_eq "eth0 MAC" 00:16:3e:12:34:56 "$(console_value ETH0-MAC)"
assert_eq "eth1 MAC" 00:16:3e:12:34:57 "$(console_value ETH1-MAC)"
for round in before after; do
    assert_eq "ping through eth0 ($round the flood)" ok "$(console_value PING0-$round)"
    assert_eq "ping through eth1 ($round the flood)" ok "$(console_value PING1-$round)"
    assert_eq "HTTP through eth0 ($round the flood)" "$marker" "$(console_value HTTP0-$round)"
    assert_eq "HTTP through eth1 ($round the flood)" "$marker" "$(console_value HTTP1-$round)"
done
before=$(console_value RX-PACKETS-before)
after=$(console_value RX-PACKETS-after)
[ "$((after - before))" -ge 500 ] ||
    fail "eth0 received $((after - before)) packets during the flood; expected at least 500 of 20000"
log "ok: eth0 received $((after - before)) packets across the flood"
