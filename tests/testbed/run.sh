#!/usr/bin/env bash
# Run the integration scenarios (tests/scenarios/*.sh) against corral-vmm.
#
# On a host whose CPU has VT-x/AMD-V they run directly on the host. Otherwise
# (e.g. KVM PVM, see shared/TESTBED.md) they run in the testbed: a virtual
# host ("L1") under QEMU's emulator with emulated AMD-V and real KVM, booted
# once for all scenarios.
#
# Usage: run.sh [OPTIONS] [SCENARIO...]      (default: all scenarios)
#   --build DIR     meson build directory (default: build)
#   --testbed       use the testbed even on a capable host
#   --without-vmm   do not require corral-vmm (to check the testbed itself)
#   --bin FILE      another program for L1's /corral/bin (repeatable)
#   --scenario-dir DIR  where the scenarios are (default: tests/scenarios;
#                   bench/run.sh uses bench/scenarios)
#   --timeout SECS  limit for the whole run (default 1800)
#   --scenario-timeout SECS   limit per scenario (default 300)
#   --log FILE      L1's console log (default .cache/testbed/l1-console.log);
#                   L1's kernel log goes next to it (...-kernel.log)
#   --verbose       show every scenario's log, not only those that failed
#   --demo          boot the demo guest interactively instead (scripts/demo.sh)
# Output: "PASS name", "FAIL name" (with the scenario's log) or "SKIP name"
# per scenario, then "TESTBED-TOTALS passed=N failed=N skipped=N complete=0|1".
# Exit status: 0 if nothing failed and every scenario reported.
set -euo pipefail
shopt -s lastpipe

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build
force_testbed=0
without_vmm=0
timeout=1800
scenario_timeout=300
log=$repo/.cache/testbed/l1-console.log
demo=0
verbose=0
scenarios=()
scenario_dir=$repo/tests/scenarios
flags=() # for build-l1.sh
extra_bins=()
while [ $# -gt 0 ]; do
    case $1 in
        --build) build=$2; shift 2 ;;
        --testbed) force_testbed=1; shift ;;
        --without-vmm) without_vmm=1; flags+=(--without-vmm); shift ;;
        --bin) flags+=(--bin "$2"); extra_bins+=("$(realpath "$2")"); shift 2 ;;
        --scenario-dir) scenario_dir=$(cd "$2" && pwd); flags+=(--scenario-dir "$scenario_dir"); shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --scenario-timeout) scenario_timeout=$2; shift 2 ;;
        --log) log=$2; shift 2 ;;
        --verbose) verbose=1; shift ;;
        --demo) demo=1; shift ;;
        -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
        *) scenarios+=("${1%.sh}"); shift ;;
    esac
done
build=$(realpath -m "$build")
vmm=$build/src/vmm/corral-vmm
if [ ! -x "$vmm" ] && [ $without_vmm = 0 ]; then
    echo "run.sh: $vmm not found: build first (scripts/setup.sh, or meson setup build && ninja -C build)" >&2
    exit 1
fi
klog=${log%.log}-kernel.log   # testbed only

capable_host() { grep -qwE 'vmx|svm' /proc/cpuinfo && [ -w /dev/kvm ]; }

# parse_results: summarise the @@@ protocol (see run-scenarios.sh) read from
# stdin. Sets passed/failed/skipped/done_seen. If the run goes silent for
# longer than a scenario may take, it stops the run (runner_pid): in the
# testbed that means L1 hung, and its kernel log will say more.
passed=0 failed=0 skipped=0 done_seen=0 hung=0
reported=() unfinished=()
parse_results() {
    local line pending="" current="" in_log=0 status name rest last rs
    local -A result=()
    last=$(date +%s)
    while :; do
        rs=0
        IFS= read -r -t 10 line || rs=$?
        if [ $rs != 0 ]; then
            # A timeout (status > 128) may leave a partial line in $line.
            [ $rs -gt 128 ] || break
            pending+=$line
            if [ $(($(date +%s) - last)) -gt $((scenario_timeout + 60)) ]; then
                echo "testbed: no output for $((scenario_timeout + 60))s: stopping the run"
                hung=1
                stop_runner
            fi
            continue
        fi
        line=${pending}${line%$'\r'}
        pending=
        last=$(date +%s)
        # Firmware escape sequences can precede the first line.
        case $line in ?*"@@@ "*) [ $in_log = 1 ] || line="@@@ ${line#*@@@ }" ;; esac
        case $line in
            "@@@ LOG-BEGIN "*) in_log=1; continue ;;
            "@@@ LOG-END "*) in_log=0; continue ;;
        esac
        if [ $in_log = 1 ]; then
            if [ "${result[$current]:-}" = FAIL ] || [ $verbose = 1 ]; then
                printf '    | %s\n' "$line"
            fi
            continue
        fi
        case $line in
            "@@@ L1 UP "*) echo "testbed: L1 is up (${line#@@@ L1 UP })" ;;
            "@@@ FATAL "*) echo "testbed: FATAL: ${line#@@@ FATAL }" ;;
            "@@@ BEGIN "*) current=${line#@@@ BEGIN }; result[$current]=RUNNING ;;
            "@@@ RESULT "*)
                read -r _ _ name status rest <<<"$line"
                result[$name]=$status
                reported+=("$name")
                case $status in
                    PASS) passed=$((passed + 1)); echo "PASS $name ($rest)" ;;
                    SKIP) skipped=$((skipped + 1)); echo "SKIP $name ($rest)" ;;
                    *) failed=$((failed + 1)); echo "FAIL $name ($rest)" ;;
                esac ;;
            "@@@ DONE"*) done_seen=1 ;;
        esac
    done
    for name in "${!result[@]}"; do
        if [ "${result[$name]}" = RUNNING ]; then
            failed=$((failed + 1))
            unfinished+=("$name")
            echo "FAIL $name (no result: the run stopped during it)"
        fi
    done
}

mkdir -p "$(dirname "$log")"
start=$(date +%s)

if [ $force_testbed = 0 ] && capable_host; then
    "$here/fetch-artifacts.sh" --quiet
    # shellcheck source=/dev/null
    . "$repo/.cache/artifacts/env"
    "$here/make-guest-initrd.sh" "$repo/.cache/testbed/guest-initrd.gz"
    "$here/make-guest-tools.sh" "$repo/.cache/testbed/guest-tools"
    if [ $demo = 1 ]; then
        # A scratch disk and an RNG; no NIC here: the demo does not touch
        # this host's network (in L1 it gets one on a bridge of its own).
        disk=$repo/.cache/testbed/demo-disk.img
        [ -e "$disk" ] || truncate -s 256M "$disk"
        # shellcheck disable=SC2153 # KERNEL comes from the env file
        exec "$vmm" --kernel "$KERNEL" --initrd "$repo/.cache/testbed/guest-initrd.gz" \
            --cmdline "console=ttyS0 panic=-1 corral.action=shell" --memory 512M --vcpus 2 \
            --console stdio --disk "path=$disk,serial=demo0" --rng
    fi
    echo "testbed: this host has VT-x/AMD-V: running the scenarios directly on it"
    # CORRAL_BIN as in L1: corral-vmm, corrald and corral (if built), the
    # test tools (tests/testbed/tools) and the --bin programs, here as links.
    bindir=$repo/.cache/testbed/native-bin
    rm -rf "$bindir"
    mkdir -p "$bindir"
    for f in "$vmm" "$build/src/daemon/corrald" "$build/src/cli/corral" "$build"/tests/*; do
        case $f in "$vmm" | */corrald | */corral) ;; *) [ -e "$here/tools/$(basename "$f").c" ] || continue ;; esac
        if [ -x "$f" ]; then ln -s "$f" "$bindir/"; fi
    done
    for f in "${extra_bins[@]}"; do ln -sf "$f" "$bindir/"; done
    export CORRAL_VMM=$vmm CORRAL_BIN=$bindir GUEST_KERNEL=$KERNEL GUEST_KVER=$KVER \
        GUEST_INITRD=$repo/.cache/testbed/guest-initrd.gz TESTBED=$here \
        GUEST_TOOLS_DIR=$repo/.cache/testbed/guest-tools BUSYBOX=$BUSYBOX \
        SCENARIOS=$scenario_dir CORRAL_SCENARIO_TIMEOUT=$scenario_timeout CORRAL_SH=bash \
        CORRAL_SHOW_LOGS=$verbose
    export QEMU=${QEMU:-$(command -v qemu-system-x86_64 || true)}
    runner=(sh "$here/run-scenarios.sh" "${scenarios[@]}")
    klog=
else
    [ $demo = 1 ] || echo "testbed: this host's KVM cannot run stock kernels (no vmx/svm in /proc/cpuinfo): booting the testbed (L1 under QEMU TCG with emulated AMD-V)"
    l1=$("$here/build-l1.sh" --build "$build" "${flags[@]}")
    # shellcheck source=/dev/null
    kernel=$(. "$repo/.cache/artifacts/env"; echo "$KERNEL")
    [ $demo = 1 ] || echo "testbed: L1 initramfs $l1 ($(($(stat -c %s "$l1") / 1048576)) MiB), built at +$(($(date +%s) - start))s"
    # L1's kernel logs to its second serial port (a file): nothing from it
    # between the result lines on the first, yet everything (lockups, KVM
    # warnings) is kept for when something goes wrong.
    # l1_command SCENARIO...: sets runner to boot L1 running those (all if none).
    l1_command() {
        local append="console=ttyS1 panic=-1"
        if [ $demo = 1 ]; then
            append+=" corral.mode=demo"
        else
            append+=" corral.mode=test corral.timeout=$scenario_timeout corral.verbose=$verbose"
            [ $# = 0 ] || append+=" corral.scenarios=$(IFS=,; echo "$*")"
        fi
        # 6 GiB: the largest scenario boots a 3.5 GiB guest.
        # 4 CPUs, even on a 2-core host (QEMU runs one thread per emulated CPU):
        # with 2, guests with more vCPUs than L1 has CPUs (boot-4vcpu) made L1
        # hang or panic in about 1 run in 6 (RCU stalls and soft lockups in
        # svm_vcpu_run, with QEMU as the guest's VMM too); with 4, none in 29
        # runs, at the same speed. thread=single was worse.
        # CORRAL_L1_SMP / CORRAL_L1_ACCEL override these, for such experiments.
        # shellcheck disable=SC2054 # the commas belong to -cpu's argument
        runner=(qemu-system-x86_64 -accel "${CORRAL_L1_ACCEL:-tcg}" -cpu qemu64,+svm,+npt
            -smp "${CORRAL_L1_SMP:-4}" -m 6G -nic none
            -nographic -serial mon:stdio -serial "file:$klog" -no-reboot
            -kernel "$kernel" -initrd "$l1" -append "$append")
    }
    l1_command "${scenarios[@]}"
    if [ $demo = 1 ]; then
        echo "(L1's kernel log: $klog)"
        exec "${runner[@]}"
    fi
    echo "testbed: booting L1; console log: $log, L1 kernel log: $klog"
    : >"$klog"
fi

# The runner's output goes to $log and to the parser. The runner records
# its pid (exec keeps the subshell's) so the parser's watchdog and the exit
# trap can stop it; timeout passes the signal on to QEMU.
pidfile=$(mktemp)
runner_pid() { cat "$pidfile" 2>/dev/null; }
stop_runner() {
    local pid
    pid=$(runner_pid)
    [ -z "$pid" ] || kill "$pid" 2>/dev/null || :
}
trap 'stop_runner; rm -f "$pidfile"' EXIT
trap 'exit 130' INT TERM HUP
run_once() {
    set +e
    {
        echo "$BASHPID" >"$pidfile"
        exec timeout -k 10 "$timeout" "${runner[@]}" </dev/null 2>&1
    } | tee -a "$log" | parse_results
    status=${PIPESTATUS[0]}
    set -e
    : >"$pidfile"
}

# report_stop: why the run ended without DONE, with the logs that tell more.
report_stop() {
    if [ $hung = 1 ]; then
        echo "testbed: the run stopped responding"
    elif [ "$status" = 124 ]; then
        echo "testbed: the run did not finish within ${timeout}s"
    else
        echo "testbed: the run ended (status $status) without reporting DONE"
    fi
    echo "---- last 40 lines of the console ($log) ----"
    tail -n 40 "$log" | tr -d '\r'
    if [ -n "$klog" ] && [ -s "$klog" ]; then
        echo "---- last 60 lines of L1's kernel log ($klog) ----"
        tail -n 60 "$klog" | tr -d '\r'
    fi
    echo "----"
}

: >"$log"
run_once

# L1 itself sometimes freezes under QEMU's emulated AMD-V (with QEMU as the
# guest's VMM too; see l1_command), or its kernel panics ("corrupted stack
# end detected inside scheduler" in a vCPU thread's KVM_RUN; QEMU then
# exits, -no-reboot). If L1 went silent or panicked while no scenario had
# failed, boot a fresh L1 once for the scenarios that got no result. A
# scenario that reported a failure is never run again.
l1_failed() { [ $hung = 1 ] || grep -q "Kernel panic" "$klog" 2>/dev/null; }
if [ -n "$klog" ] && [ $done_seen = 0 ] && l1_failed && [ $failed = ${#unfinished[@]} ]; then
    report_stop
    mapfile -t remaining < <(
        if [ ${#scenarios[@]} -gt 0 ]; then printf '%s\n' "${scenarios[@]}"
        else for f in "$scenario_dir"/*.sh; do basename "$f" .sh; done; fi |
            grep -vxF -f <(printf '%s\n' "${reported[@]}" "") )
    echo "testbed: L1 froze or panicked (an emulator fault, not a scenario failure): booting a fresh L1 once for ${remaining[*]}"
    failed=0 hung=0 unfinished=()
    l1_command "${remaining[@]}"
    : >"$klog"
    run_once
fi

elapsed=$(($(date +%s) - start))
rc=0
if [ $done_seen = 0 ]; then
    rc=1
    report_stop
fi
[ $failed = 0 ] || rc=1
echo "testbed: $passed passed, $failed failed, $skipped skipped in ${elapsed}s"
echo "TESTBED-TOTALS passed=$passed failed=$failed skipped=$skipped complete=$done_seen"
exit $rc
