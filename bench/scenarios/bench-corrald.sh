#!/bin/sh
# Benchmark, not a test: what going through corrald costs.
# 1. Boot to the guest's /init marker ("@@ BOOTED"), in interleaved rounds:
#    `corral create -c FILE` (corrald starts the VMM, its console hub relays
#    the console to `corral console`'s stdout) against corral-vmm started by
#    hand with the same kernel, initrd, command line, memory, vCPUs and
#    --rng, its console on stdout. bench/boottime times both the same way:
#    from exec of the command to the marker on its stdout.
# 2. `corral create` of BENCH_CORRALD_DOMAINS (default 20) small domains
#    (128 MiB, 1 vCPU) in a row: wall time of the creates, until all are
#    listed running, until every guest has printed its /init marker (polled
#    every 0.5 s in the console logs), and of destroying them all.
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
t0=$(now_ms)
i=1
while [ $i -le "$MANY" ]; do
    corral create "$WORK/many-$i.cfg" || fail "corral create many-$i failed"
    i=$((i + 1))
done
t_created=$(now_ms)
until [ "$(corral list | grep -c ' running ')" -ge "$MANY" ]; do
    [ $(($(now_ms) - t0)) -lt 600000 ] || fail "the $MANY domains were not all running after 600 s"
    sleep 0.2
done
t_running=$(now_ms)
while :; do
    n=0
    i=1
    while [ $i -le "$MANY" ]; do
        if domain_console_has "many-$i" "@@ BOOTED"; then n=$((n + 1)); fi
        i=$((i + 1))
    done
    [ $n -lt "$MANY" ] || break
    [ $(($(now_ms) - t0)) -lt 900000 ] || fail "only $n of $MANY guests reached /init within 900 s"
    sleep 0.5
done
t_booted=$(now_ms)
i=1
while [ $i -le "$MANY" ]; do
    corral destroy "many-$i" || fail "corral destroy many-$i failed"
    i=$((i + 1))
done
until [ "$(corral list | wc -l)" -le 1 ]; do sleep 0.2; done
t_gone=$(now_ms)
echo "BENCH-CORRALD-MANY n=$MANY create_ms=$((t_created - t0)) running_ms=$((t_running - t0))" \
    "booted_ms=$((t_booted - t0)) destroy_ms=$((t_gone - t_booted))"
corrald_stop
