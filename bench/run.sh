#!/usr/bin/env bash
# Benchmarks corral-vmm side by side with QEMU in one testbed run (or on the
# host when it has VT-x/AMD-V) and prints a Markdown summary with ratios.
#
# Usage: bench/run.sh [--rounds N] [--io-rounds N] [--only boot|io|net|corrald] [--build DIR]
#   boot: boot time and memory (bench-boot); io: virtio-blk fio and
#   virtio-net iperf3 inside the guest (bench-io); net: iperf3 alone;
#   corrald: boot to /init through `corral create -c` against corral-vmm
#   started by hand, and 20 domains created (paused) in a row (bench-corrald). Boot
#   and io by default.
# Results belong in bench/RESULTS.md together with this command line.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$repo/build
rounds=5
io_rounds=2
only=
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --io-rounds) io_rounds=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        *) echo "usage: bench/run.sh [--rounds N] [--io-rounds N] [--only boot|io|net|corrald] [--build DIR]" >&2
           exit 2 ;;
    esac
done
io_jobs="disk net"
case $only in
    '') wanted="bench-boot bench-io" ;;
    boot|io|corrald) wanted=bench-$only ;;
    net) wanted=bench-io; io_jobs=net ;;
    *) echo "bench/run.sh: --only boot, io, net or corrald" >&2; exit 2 ;;
esac
[ -d "$build" ] || meson setup "$build" "$repo" >/dev/null
nice -n 19 ninja -C "$build" >/dev/null

out=$(mktemp)
scenarios=$(mktemp -d)
trap 'rm -rf "$out" "$scenarios"' EXIT
cp "$repo"/bench/scenarios/*.sh "$scenarios/"
# Settings travel as a file beside the scenario: they must reach L1 too.
# BENCH_CORRALD_RUN=1 (from the environment): bench-corrald's 20 domains
# are created running instead of paused.
printf 'BENCH_ROUNDS=%s\nBENCH_IO_ROUNDS=%s\nBENCH_IO_JOBS="%s"\nBENCH_CORRALD_RUN=%s\n' \
    "$rounds" "$io_rounds" "$io_jobs" "${BENCH_CORRALD_RUN:-0}" >"$scenarios/bench-env.sh"
# shellcheck disable=SC2086 # the scenario list
"$repo/tests/testbed/run.sh" --build "$build" --verbose \
    --bin "$build/bench/boottime" --scenario-dir "$scenarios" \
    --scenario-timeout 3000 --timeout 7200 $wanted | tee "$out" >&2

# The median of a space-separated list of numbers, for the summaries' awk.
median_awk='
function median(list,    n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}'
if grep -q 'BENCH-IO ' "$out"; then
    echo "## virtio-blk (fio) and virtio-net (iperf3) in the guest ($(date -u +%F), $io_rounds rounds, median)"
    echo
    # BENCH-IO vmm=NAME-vhost-MODE round=N job=JOB key=value... The vhost
    # setting only touches the NIC, so the disk rows pool every run of a VMM
    # and the TCP rows pair corral and QEMU with the same setting.
    grep -o 'BENCH-IO .*' "$out" | awk "$median_awk"'
    function add(row, v) {
        if (!(row in seen)) { seen[row] = 1; rows[++nrows] = row }
        val[row, vmm] = val[row, vmm] " " v
    }
    {
        delete f
        for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        split(f["vmm"], name, "-vhost-"); vmm = name[1]
        if (f["job"] == "seqread") add("sequential read (MB/s)", f["read_kbs"] / 1024)
        if (f["job"] == "seqwrite") add("sequential write (MB/s)", f["write_kbs"] / 1024)
        if (f["job"] == "randread") add("4 KiB random read (IOPS)", f["read_iops"])
        if (f["job"] == "randwrite") add("4 KiB random write (IOPS)", f["write_iops"])
        if (f["job"] == "iperf3") add("TCP guest to L1, vhost " name[2] " (Mbit/s)", f["mbits"])
    }
    END {
        print "| test | corral | QEMU | corral / QEMU | runs each |"
        print "|---|---|---|---|---|"
        for (r = 1; r <= nrows; r++) {
            row = rows[r]; c = median(val[row, "corral"]); q = median(val[row, "qemu"])
            printf "| %s | %.0f | %.0f | %.2f | %d |\n", row, c, q, q ? c / q : 0, split(val[row, "corral"], tmp, " ")
        }
    }'
    echo
fi
if grep -q 'BENCH-CORRALD' "$out"; then
    echo "## corrald: boot to /init through corral create, and many domains ($(date -u +%F), $rounds rounds, median)"
    echo
    # BENCH-CORRALD kind=corrald|hand round=N boot_ms=X ...
    grep -o 'BENCH-CORRALD kind=.*' "$out" | awk "$median_awk"'
    {
        delete f
        for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        if (f["boot_ms"] == "timeout" || f["boot_ms"] == "") { timeouts[f["kind"]]++; next }
        boot[f["kind"]] = boot[f["kind"]] " " f["boot_ms"]
    }
    END {
        c = median(boot["corrald"]); h = median(boot["hand"])
        print "| boot to /init (ms) | `corral create -c` | corral-vmm by hand | corrald / by hand | runs each |"
        print "|---|---|---|---|---|"
        printf "| median | %.0f | %.0f | %.2f | %d |\n", c, h, h ? c / h : 0, split(boot["corrald"], tmp, " ")
        for (k in timeouts) printf "| %s timeouts | %d | | | |\n", k, timeouts[k]
    }'
    echo
    # BENCH-CORRALD-MANY n=20 state=paused|running create_ms=X running_ms=Y destroy_ms=W
    grep -o 'BENCH-CORRALD-MANY .*' "$out" | tail -n 1 | awk '
    {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        n = f["n"]; p = f["state"] == "paused" ? " -p" : ""
        print "| " n " domains (128 MiB, 1 vCPU) | seconds |"
        print "|---|---|"
        printf "| %d x `corral create%s`, in a row | %.2f |\n", n, p, f["create_ms"] / 1000
        printf "| until all %d are listed %s | %.2f |\n", n, f["state"], f["running_ms"] / 1000
        printf "| %d x `corral destroy`, until none is listed | %.2f |\n", n, f["destroy_ms"] / 1000
    }'
    echo
fi
grep -q 'BENCH vmm=' "$out" || exit 0

echo "## Boot to /init and VMM memory overhead ($(date -u +%F), $rounds rounds, median)"
echo
# BENCH vmm=NAME round=N boot_ms=X rss_kb=Y guest_kb=Z overhead_kb=W
grep -o 'BENCH vmm=.*' "$out" | awk "$median_awk"'
{
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    if (f["boot_ms"] == "timeout") { timeouts[f["vmm"]]++; next }
    if (!(f["vmm"] in boot)) order[++nvmm] = f["vmm"]
    boot[f["vmm"]] = boot[f["vmm"]] " " f["boot_ms"]
    over[f["vmm"]] = over[f["vmm"]] " " f["overhead_kb"]
}
END {
    cb = median(boot["corral"]); co = median(over["corral"])
    print "| VMM | boot to /init (ms) | VMM RSS beyond guest RAM (KiB) | boot ratio vs corral | memory ratio vs corral |"
    print "|---|---|---|---|---|"
    for (k = 1; k <= nvmm; k++) {
        v = order[k]; b = median(boot[v]); o = median(over[v])
        printf "| %s | %.0f | %d | %.2f | %.2f |\n", v, b, o, b / cb, o / co
        if (timeouts[v]) printf "| %s timeouts | %d | | | |\n", v, timeouts[v]
    }
}'
echo
echo "## corral-vmm exits during boot to /init and poweroff (--stats)"
echo
echo '```'
grep -o 'STATS .*' "$out" | sed 's/^STATS //' | grep -E '^stats:' || true
echo '```'
