#!/bin/sh
# Benchmark, not a test: what going through corrald costs.
# 1. Boot to the guest's /init marker ("@@ BOOTED"), in interleaved rounds:
#    `corral create -c FILE` (corrald starts the VMM, its console hub relays
#    the console to `corral console`'s stdout) against corral-vmm started by
#    hand with the same kernel, initrd, command line, memory, vCPUs and
#    --rng, its console on stdout. bench/boottime times both the same way:
#    from exec of the command to the marker on its stdout.
# 2. `corral create -p` of BENCH_CORRALD_DOMAINS (default 20) small domains
#    (128 MiB, 1 vCPU) in a row: wall time of the creates, until all are
#    listed (paused), and of destroying them all. Paused: each VMM is
#    started and has built its VM and loaded the kernel, but no guest runs:
#    guests booting at the same time make L1 unstable under QEMU's emulator
#    (tests/testbed/README.md), and their boots would only measure the
#    emulator. BENCH_CORRALD_RUN=1 creates them running instead.
# Prints BENCH-CORRALD lines that bench/run.sh summarises.
set -eu
. "$TESTBED/lib.sh"
# bench/run.sh's settings; nothing from the host's environment reaches L1.
if [ -f "$SCENARIOS/bench-env.sh" ]; then . "$SCENARIOS/bench-env.sh"; fi

ROUNDS=${BENCH_ROUNDS:-5}
MANY=${BENCH_CORRALD_DOMAINS:-20}
# In L1 the probe sits beside corral-vmm; on a host, in the build's bench/.
BOOTTIME=$CORRAL_BIN/boottime
[ -x "$BOOTTIME" ] || BOOTTIME=$CORRAL_BIN/../../bench/boottime
[ -x "$BOOTTIME" ] || fail "no boottime probe (bench/run.sh passes it with --bin)"
CMDLINE="console=ttyS0 quiet panic=-1 corral.action=idle"
MEM=256

# now_ms: L1's uptime in milliseconds (10 ms resolution).
now_ms() {
    read -r _up _ </proc/uptime
    echo $((${_up%.*} * 1000 + 1${_up#*.} * 10 - 1000))
}

corrald_start
# `corral create -c` where corral has it; else create, then console.
if corral create --help 2>&1 | grep -qE '^ *-c'; then
    create_attached() { "$BOOTTIME" --timeout 300 -- "$CORRAL_CLI" create -c "$1"; }
else
    log "corral create has no -c: timing 'corral create FILE && corral console NAME'"
    create_attached() {
        # shellcheck disable=SC2016 # for the inner shell
        "$BOOTTIME" --timeout 300 -- sh -c '"$1" create "$2" && exec "$1" console "$3"' sh \
            "$CORRAL_CLI" "$1" "$2"
    }
fi

run_hand() {
    "$BOOTTIME" --timeout 300 -- "$CORRAL_VMM" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
        --cmdline "$CMDLINE" --memory ${MEM}M --vcpus 1 --console stdio --rng
}

# run_corrald NAME: one domain from create to /init (result in R); then
# destroyed.
run_corrald() {
    domain_file "$1" idle "extra = \"$CMDLINE\"" "memory = $MEM"
    R=$(create_attached "$DOMAIN_FILE" "$1") || R="boot_ms=timeout"
    corral_run destroy "$1"
    wait_domain_state "$1" absent 60
}

round=1
while [ "$round" -le "$ROUNDS" ]; do
    run_corrald "bc-$round"
    echo "BENCH-CORRALD kind=corrald round=$round $R"
    echo "BENCH-CORRALD kind=hand round=$round $(run_hand)"
    round=$((round + 1))
done

# ---- many domains in a row ----------------------------------------------
i=1
while [ $i -le "$MANY" ]; do
    domain_file "many-$i" idle "extra = \"$CMDLINE\"" "memory = 128"
    i=$((i + 1))
done
if [ "${BENCH_CORRALD_RUN:-0}" = 1 ]; then paused='' want=running; else paused=-p want=paused; fi
t0=$(now_ms)
i=1
while [ $i -le "$MANY" ]; do
    # shellcheck disable=SC2086 # $paused is empty or one word
    corral create $paused "$WORK/many-$i.cfg" || fail "corral create many-$i failed"
    i=$((i + 1))
done
t_created=$(now_ms)
until [ "$(corral list | grep -c " $want ")" -ge "$MANY" ]; do
    [ $(($(now_ms) - t0)) -lt 600000 ] || fail "the $MANY domains were not all $want after 600 s"
    sleep 0.2
done
t_running=$(now_ms)
i=1
while [ $i -le "$MANY" ]; do
    corral destroy "many-$i" || fail "corral destroy many-$i failed"
    i=$((i + 1))
done
until [ "$(corral list | wc -l)" -le 1 ]; do sleep 0.2; done
t_gone=$(now_ms)
echo "BENCH-CORRALD-MANY n=$MANY state=$want create_ms=$((t_created - t0)) running_ms=$((t_running - t0))" \
    "destroy_ms=$((t_gone - t_running))"
corrald_stop
