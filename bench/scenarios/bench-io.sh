#!/bin/sh
# Benchmark, not a test: virtio-blk and virtio-net throughput of corral-vmm
# against QEMU (q35, virtio-blk-pci with aio=io_uring,cache=none,
# virtio-net-pci on a tap) on the same kernel, disk and bridge, in the same
# L1 boot, in interleaved rounds: both without vhost-net (frames move through
# the VMM) and, where L1 has it, both with it. In the guest: fio
# on the raw disk (sequential read and write, 1 MiB blocks; 4 KiB random
# read and write, queue depth 32; O_DIRECT, libaio) and iperf3 from the
# guest to L1. The disk is a loop device over a file in L1's RAM, so both
# VMMs get O_DIRECT and neither waits on a real disk. Prints BENCH-IO lines
# that bench/run.sh summarises.
set -eu
. "$TESTBED/lib.sh"
if [ -f "$SCENARIOS/bench-env.sh" ]; then . "$SCENARIOS/bench-env.sh"; fi

ROUNDS=${BENCH_IO_ROUNDS:-2}
JOBS=${BENCH_IO_JOBS:-disk net}	# "net" alone skips fio
SECONDS_PER_JOB=${BENCH_IO_SECONDS:-10}
QEMU=$(command -v qemu-system-x86_64)

net_bridge crlbr0 10.0.0.1/24
net_tap crltap0 crlbr0
net_iperf3_server 5201
dd if=/dev/zero of="$WORK/bench.img" bs=1M count=1024 2>/dev/null || fail "no room for the image"
loop=$(losetup -f) && losetup "$loop" "$WORK/bench.img" || fail "losetup failed"
trap 'losetup -d "$loop" 2>/dev/null || :; _lib_cleanup' EXIT
log "disk: $loop over a 1 GiB file in L1's RAM"

guest_initrd_with - --tool fio --tool iperf3 <<EOF2
. /guest-lib.sh
set -e
wait_path /dev/vda
wait_path /sys/class/net/eth0
ip link set eth0 up
ip addr add 10.0.0.2/24 dev eth0
# fio --minimal: field 7/8 read KiB/s and IOPS, 48/49 write KiB/s and IOPS.
job() {
    fio --name=\$1 --filename=/dev/vda --direct=1 --ioengine=libaio --rw=\$2 --bs=\$3 \\
        --iodepth=\$4 --size=900M --time_based --runtime=$SECONDS_PER_JOB --minimal |
        awk -F';' -v name=\$1 '{ printf "@@ FIO %s read_kbs=%s read_iops=%s write_kbs=%s write_iops=%s\n", name, \$7, \$8, \$48, \$49 }'
}
case " $JOBS " in *" disk "*)
    job seqread read 1M 8
    job seqwrite write 1M 8
    job randread randread 4k 32
    job randwrite randwrite 4k 32
esac
ping -c 1 -W 5 10.0.0.1 >/dev/null
mbits=\$(iperf3 -c 10.0.0.1 -p 5201 -t $SECONDS_PER_JOB -f m | sed -n 's/.* \([0-9.]*\) Mbits\/sec.*sender.*/\1/p')
echo "@@ IPERF3 mbits=\$mbits"
EOF2

run_corral() {
    vmm_start "corral-vhost-$1" --kernel "$GUEST_KERNEL" --initrd "$BOOT_INITRD" \
        --cmdline "$(guest_args_cmdline script) quiet" --console stdio --memory 1G --vcpus 2 \
        --disk "path=$loop,queues=2" --net "tap=crltap0,vhost=$1"
}

run_qemu() {
    cmd_start "qemu-vhost-$1" "$QEMU" -enable-kvm -cpu host -M q35 -smp 2 -m 1024 \
        -nodefaults -no-user-config -display none -serial stdio -no-reboot \
        -kernel "$GUEST_KERNEL" -initrd "$BOOT_INITRD" \
        -append "$(guest_args_cmdline script) quiet" \
        -drive "file=$loop,format=raw,if=none,id=d0,aio=io_uring,cache=none" \
        -device virtio-blk-pci,drive=d0,num-queues=2 \
        -netdev "tap,id=n0,ifname=crltap0,script=no,downscript=no,vhost=$1" \
        -device virtio-net-pci,netdev=n0
}

report_run() {
    vmm_wait 900
    [ "$(console_value SCRIPT-EXIT)" = 0 ] || fail "$1: the guest's benchmark script failed"
    console_values FIO | sed "s/^/BENCH-IO vmm=$1 round=$2 job=/"
    echo "BENCH-IO vmm=$1 round=$2 job=iperf3 $(console_value IPERF3)"
}

vhost_modes=off
[ -c /dev/vhost-net ] && vhost_modes="off on"
round=1
while [ $round -le "$ROUNDS" ]; do
    # Which VMM of a pair goes first alternates by round: the position
    # alone moves a run's figure by several per cent in this testbed.
    if [ $((round % 2)) = 1 ]; then order="corral qemu"; else order="qemu corral"; fi
    for v in $vhost_modes; do
        for vmm in $order; do
            "run_$vmm" $v
            report_run $vmm-vhost-$v $round
        done
    done
    round=$((round + 1))
done
