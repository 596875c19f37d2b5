#!/usr/bin/env bash
# Benchmarks corral-vmm side by side with QEMU in one testbed run (or on the
# host when it has VT-x/AMD-V) and prints a Markdown summary with ratios.
#
# Usage: bench/run.sh [--rounds N] [--build DIR]
# Results belong in bench/RESULTS.md together with this command line.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$repo/build
rounds=5
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        *) echo "usage: bench/run.sh [--rounds N] [--build DIR]" >&2; exit 2 ;;
    esac
done
[ -d "$build" ] || meson setup "$build" "$repo" >/dev/null
ninja -C "$build" >/dev/null

out=$(mktemp)
scenarios=$(mktemp -d)
trap 'rm -rf "$out" "$scenarios"' EXIT
cp "$repo"/bench/scenarios/*.sh "$scenarios/"
# Settings travel as a file beside the scenario: they must reach L1 too.
echo "BENCH_ROUNDS=$rounds" >"$scenarios/bench-env.sh"
"$repo/tests/testbed/run.sh" --build "$build" --verbose \
    --bin "$build/bench/boottime" --scenario-dir "$scenarios" \
    --scenario-timeout 3000 --timeout 3600 bench-boot | tee "$out" >&2

echo "## Boot to /init and VMM memory overhead ($(date -u +%F), $rounds rounds, median)"
echo
# BENCH vmm=NAME round=N boot_ms=X rss_kb=Y guest_kb=Z overhead_kb=W
grep -o 'BENCH vmm=.*' "$out" | awk '
function median(list,    n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
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
