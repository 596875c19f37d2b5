#!/usr/bin/env bash
# The L2 guard's cost (src/net/guard.h), natively, in network namespaces of
# the benchmark's own (deleted on exit; the host's links and ruleset are
# never touched): two domain namespaces are ports vif1.0 and vif2.0 of
# bridge corral0 in a third, the "host". iperf3 from one domain to the
# other, TCP throughput and the rate of 64-byte UDP datagrams received,
# with no table, with the guard for the two domains, and with the guard for
# 100 domains (the two among them: the cost per frame should not grow).
# Modes are interleaved in each round, in turns. Then the time guard_apply() takes
# for a network of 100 domains, first from no table, then again with the
# counters carried over (bench/guard_apply). Prints a Markdown summary,
# medians, with ratios to no table.
#
# Usage: bench/net_guard.sh [--rounds N] [--seconds S] [--build DIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$repo/build
rounds=5
seconds=5
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        *) echo "usage: bench/net_guard.sh [--rounds N] [--seconds S] [--build DIR]" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "bench/net_guard.sh: needs root (network namespaces)" >&2; exit 2; }
[ -d "$build" ] || meson setup "$build" "$repo" >/dev/null
nice -n 19 ninja -C "$build" bench/guard_apply >/dev/null
tool=$build/bench/guard_apply

h=cgb$$h d1=cgb$$d1 d2=cgb$$d2
out=$(mktemp)
server=
cleanup() {
    [ -z "$server" ] || kill "$server" 2>/dev/null || :
    for ns in $h $d1 $d2; do ip netns del "$ns" 2>/dev/null || :; done
    rm -f "$out"
}
trap cleanup EXIT

# The domains' taps, MACs and addresses are guard_apply's domains 1 and 2.
for ns in $h $d1 $d2; do
    ip netns add "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
done
ip -n $h link add corral0 type bridge
ip -n $h addr add 10.42.0.1/16 dev corral0
ip -n $h link set corral0 up
port() { # port K NS: domain K's tap vifK.0 on the bridge, its eth0 in NS
    ip -n $h link add "vif$1.0" type veth peer name eth0 netns "$2"
    ip -n $h link set "vif$1.0" master corral0 up
    ip -n "$2" link set eth0 address "52:54:00:42:00:0$1" up
    ip -n "$2" addr add "10.42.1.$1/16" dev eth0
}
port 1 $d1
port 2 $d2
# The other 98 domains' taps and the uplink eth1, as veth pairs in the
# host: guard_apply leaves out a tap that does not exist (an ingress chain
# needs its device), and the benchmark is of the rules for all of them.
# Only eth1 is a port of the bridge, so that nothing floods to 98 taps.
for k in $(seq 3 100); do ip -n $h link add "vif$k.0" type veth peer name "peer$k"; done
ip -n $h link add eth1 type veth peer name lan
ip -n $h link set eth1 master corral0 up
ip -n $h link set lan up

ip netns exec $d2 iperf3 -s >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do
    ip netns exec $d2 ss -ltn | grep -q ':5201 ' && break
    sleep 0.1
done

# iperf3's JSON: received Mbit/s (TCP), or thousands of datagrams received a second (UDP).
received() {
    python3 -c '
import json, sys
r = json.load(sys.stdin)["end"]["sum_received"]
if sys.argv[1] == "tcp":
    print("%.0f" % (r["bits_per_second"] / 1e6))
else:
    print("%.1f" % ((r["packets"] - r["lost_packets"]) / r["seconds"] / 1e3))' "$1"
}
# Client and server on CPUs of their own, when there are two: the frames'
# trip through the bridge runs on the client's.
pin=
[ "$(nproc)" -ge 2 ] && pin="-A 0,1"
measure() { # measure MODE ROUND
    # shellcheck disable=SC2086 # $pin: none or two words
    tcp=$(ip netns exec $d1 iperf3 -c 10.42.1.2 $pin -t "$seconds" -J | received tcp)
    # shellcheck disable=SC2086
    udp=$(ip netns exec $d1 iperf3 -c 10.42.1.2 $pin -t "$seconds" -u -l 64 -b 0 -J | received udp)
    echo "BENCH-GUARD mode=$1 round=$2 tcp_mbits=$tcp udp64_kpps=$udp" | tee -a "$out" >&2
}
set_mode() { # set_mode none|guard2|guard100
    case $1 in
        none) ip netns exec $h "$tool" remove ;;
        guard*) ip netns exec $h "$tool" keep "${1#guard}" ;;
    esac
}
# Each round starts with the next mode, so that none of them always runs
# first or last.
modes="none guard2 guard100"
for round in $(seq "$rounds"); do
    for mode in $modes; do
        set_mode "$mode"
        measure "$mode" "$round"
    done
    modes="${modes#* } ${modes%% *}"
done
ip netns exec $h "$tool" time 100 "$rounds" | tee -a "$out" >&2

# shellcheck disable=SC2016 # awk's own $i
median_awk='
function median(list,    n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ delete f; for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }'
echo "## The L2 guard, natively: domain to domain through bridge corral0 ($(date -u +%F), $rounds rounds of $seconds s, median)"
echo
# The ratios are each round's (the modes of a round ran back to back), then
# their median: the machine's drift between rounds cancels out.
grep '^BENCH-GUARD ' "$out" | awk "$median_awk"'
{ v[f["round"], f["mode"], "tcp"] = f["tcp_mbits"]; v[f["round"], f["mode"], "udp"] = f["udp64_kpps"]; rounds[f["round"]] = 1 }
function row(label, t, fmt,    r, all, ratio) {
    for (r in rounds) {
        all["none"] = all["none"] " " v[r, "none", t]
        all["guard2"] = all["guard2"] " " v[r, "guard2", t]
        all["guard100"] = all["guard100"] " " v[r, "guard100", t]
        ratio[2] = ratio[2] " " v[r, "guard2", t] / v[r, "none", t]
        ratio[100] = ratio[100] " " v[r, "guard100", t] / v[r, "none", t]
    }
    printf "| %s | " fmt " | " fmt " | " fmt " | %.3f | %.3f |\n", label, median(all["none"]),
        median(all["guard2"]), median(all["guard100"]), median(ratio[2]), median(ratio[100])
}
END {
    print "| test | no table | guard, 2 domains | guard, 100 domains | 2 / none | 100 / none |"
    print "|---|---|---|---|---|---|"
    row("TCP (Mbit/s)", "tcp", "%.0f")
    row("UDP, 64 bytes (thousand datagrams/s received)", "udp", "%.1f")
}'
echo
grep '^BENCH-GUARD-APPLY ' "$out" | awk "$median_awk"'
{ first = first " " f["first_ms"]; again = again " " f["again_ms"] }
END {
    print "| guard_apply(), one network of 100 domains | ms |"
    print "|---|---|"
    printf "| first, from no table | %.1f |\n", median(first)
    printf "| again, counters carried over | %.1f |\n", median(again)
}'
