#!/usr/bin/env bash
# Counts the host instructions corral's virtio-blk device spends per 4 KiB
# request, so that regressions show, and prints a Markdown table.
#
# Usage: bench/instructions.sh [--requests N] [--build DIR] [--dir DIR] [--keep DIR]
#
# bench/blk_instructions drives the device natively (see the top of
# bench/blk_instructions.c for why that measures what the VMM does) under
# callgrind, counting only inside the device's queue thread: the thread
# function is the only one whose instructions are collected, callees
# (liburing, libc) included. Each case runs with N and with 2N requests;
# (Ir(2N) - Ir(N)) / N is the cost of one request, without the thread's start
# and stop. User space only: callgrind cannot see the kernel's share (the
# io_uring_enter, read and write system calls themselves).
# --dir is where the temporary disk image goes (default /var/tmp: it must
# allow O_DIRECT); --keep DIR keeps the callgrind files of the 2N runs, for
# `callgrind_annotate DIR/randread-d1.out`.
# Results belong in bench/RESULTS.md together with this command line.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$repo/build
requests=20000
dir=/var/tmp
keep=
usage() {
    echo "usage: bench/instructions.sh [--requests N] [--build DIR] [--dir DIR] [--keep DIR]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || usage
    case $1 in
        --requests) requests=$2 ;;
        --build) build=$2 ;;
        --dir) dir=$2 ;;
        --keep) keep=$2 ;;
        *) usage ;;
    esac
    shift 2
done
case $requests in ''|*[!0-9]*|0) usage ;; esac
command -v valgrind >/dev/null || {
    echo "instructions: valgrind is missing (scripts/setup.sh installs it)" >&2
    exit 1
}
[ -d "$build" ] || meson setup "$build" "$repo" >/dev/null
ninja -C "$build" bench/blk_instructions >/dev/null
bin=$build/bench/blk_instructions
# virtio_blk.c's per-queue thread function (static: callgrind finds it
# through the debug information).
thread_fn=queue_thread

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -z "$keep" ] || mkdir -p "$keep"

# count KIND DEPTH N: runs the device under callgrind and prints the
# instructions collected (the driver's forked process collects none, but is
# summed all the same) and the interrupts the driver saw; the program's own
# line goes to stderr.
count() {
    local out=$work/$1-d$2-$3 ir
    mkdir "$out"
    # --fair-sched: the threads take turns in order, so the VMM's main
    # thread gets its turn to stop the device promptly at the end.
    valgrind -q --tool=callgrind --fair-sched=yes --collect-atstart=no \
        --toggle-collect="$thread_fn" --callgrind-out-file="$out/cg.%p" \
        "$bin" --kind "$1" --depth "$2" --requests "$3" --dir "$dir" >"$out/stdout"
    grep -q "done=$3 errors=0" "$out/stdout" || {
        echo "instructions: $1 depth $2: $(cat "$out/stdout")" >&2
        return 1
    }
    cat "$out/stdout" >&2
    ir=$(awk '/^summary:/ { sum += $2 } END { print sum + 0 }' "$out"/cg.*)
    if [ "$ir" = 0 ]; then
        echo "instructions: nothing collected in $thread_fn: was it renamed?" >&2
        return 1
    fi
    if [ -n "$keep" ] && [ "$3" != "$requests" ]; then
        for f in "$out"/cg.*; do
            # The one file with instructions in it is the device's.
            if grep -q '^summary: [1-9]' "$f"; then cp "$f" "$keep/$1-d$2.out"; fi
        done
    fi
    echo "$ir $(grep -o 'interrupts=[0-9]*' "$out/stdout" | cut -d= -f2)"
}

# Per case: instructions and interrupts with N and with 2N requests.
results=$work/results
for kind in randread randwrite; do
    for depth in 1 32; do
        one=$(count "$kind" "$depth" "$requests")
        two=$(count "$kind" "$depth" $((2 * requests)))
        echo "$kind $depth $one $two" >>"$results"
    done
done

cache=$(grep -ho 'cache=[a-z]*' "$work"/*/stdout | sort -u | tr '\n' ' ')
buildtype=$(meson introspect "$build" --buildoptions | python3 -c '
import json, sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))')
echo "## virtio-blk: host instructions per 4 KiB request ($(date -u +%F), N=$requests)"
echo
echo "| kind | depth | requests per interrupt, N run / 2N run | instructions per request |"
echo "|---|---|---|---|"
# Fields: kind depth Ir(N) interrupts(N) Ir(2N) interrupts(2N).
awk -v n="$requests" '{
    printf "| %s | %d | %.1f / %.1f | %.0f |\n", $1, $2, n / $4, 2 * n / $6, ($5 - $3) / n
}' "$results"
echo
echo "The difference is only clean when both runs batched alike: the host disk"
echo "decides how completions bunch up, at depth 32 differently from run to run"
echo "(writes especially). Split into work per request (a) and per interrupt (b:"
echo "a wake-up of the queue thread, with its io_uring_enter, doorbell read and"
echo "interrupt), from Ir = a * requests + b * interrupts over the same runs, the"
echo "numbers do not depend on that; at depth 1, a + b is the figure above."
echo
echo "| kind | a: per request | b: per interrupt |"
echo "|---|---|---|"
# Per kind, each depth's difference gives s = a + b * (interrupts / request);
# depth 1 and depth 32 give two such equations.
awk -v n="$requests" '{
    s[$1, $2] = ($5 - $3) / n; r[$1, $2] = ($6 - $4) / n
    if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 }
}
END {
    for (i = 1; i <= k; i++) {
        t = order[i]; dr = r[t, 1] - r[t, 32]
        if (dr < 0.05 && dr > -0.05) { printf "| %s | (batches too alike) | |\n", t; continue }
        b = (s[t, 1] - s[t, 32]) / dr
        printf "| %s | %.0f | %.0f |\n", t, s[t, 1] - b * r[t, 1], b
    }
}' "$results"
echo
echo "User-space instructions on the device's queue thread (callgrind), ${cache}build"
echo "type $buildtype; the kernel's share (the system calls themselves) is not counted."
