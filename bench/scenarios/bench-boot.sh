#!/bin/sh
# Benchmark, not a test: corral-vmm against QEMU (-M microvm and -M q35) on
# the same kernel, initrd and command line, in the same L1 boot, in
# interleaved rounds so drift in the testbed hits all three alike.
# Per run: time from exec to the guest's /init marker, and the VMM's resident
# memory beyond guest RAM for an idle 256 MiB guest (bench/boottime.c). Then
# one corral-vmm run with --stats: VM exits by reason and port, and the time
# from exec to the first KVM_RUN. Prints machine-readable BENCH lines that
# bench/run.sh summarises.
set -eu
. "$TESTBED/lib.sh"
# bench/run.sh's settings; nothing from the host's environment reaches L1.
if [ -f "$SCENARIOS/bench-env.sh" ]; then . "$SCENARIOS/bench-env.sh"; fi

ROUNDS=${BENCH_ROUNDS:-5}
# In L1 the probe sits beside corral-vmm; on a host, in the build's bench/.
BOOTTIME=$CORRAL_BIN/boottime
[ -x "$BOOTTIME" ] || BOOTTIME=$CORRAL_BIN/../../bench/boottime
QEMU=$(command -v qemu-system-x86_64)
CMDLINE="console=ttyS0 quiet panic=-1 corral.action=idle"
MEM=256

# run_corral [VMM ARGS...]; $PROBE_ARGS go to boottime.
run_corral() {
    # shellcheck disable=SC2086
    "$BOOTTIME" --guest-ram ${MEM}M ${PROBE_ARGS:-} -- "$CORRAL_VMM" --kernel "$GUEST_KERNEL" \
        --initrd "$GUEST_INITRD" --cmdline "$CMDLINE" --memory ${MEM}M --vcpus 1 \
        --console stdio "$@"
}

run_qemu() {
    "$BOOTTIME" --guest-ram ${MEM}M -- "$QEMU" -M "$1" -enable-kvm -cpu host \
        -m $MEM -smp 1 -nodefaults -no-user-config -display none -serial stdio \
        -kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" -append "$CMDLINE"
}

round=1
while [ $round -le "$ROUNDS" ]; do
    echo "BENCH vmm=corral round=$round $(run_corral)"
    echo "BENCH vmm=qemu-microvm round=$round $(run_qemu microvm)"
    echo "BENCH vmm=qemu-q35 round=$round $(run_qemu q35)"
    round=$((round + 1))
done

# Where corral-vmm's exits go during a boot to /init and poweroff.
CMDLINE="console=ttyS0 quiet panic=-1 corral.action=poweroff"
PROBE_ARGS=--wait run_corral --stats 2>&1 | sed 's/^/STATS /'
