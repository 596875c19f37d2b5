#!/bin/sh
# /init of the testbed's virtual host ("L1"): a Debian cloud kernel under
# QEMU's emulated AMD-V, with real KVM once kvm-amd is loaded.
# Kernel command line (set by run.sh):
#   corral.mode=test (default)  run scenarios, report @@@ lines, power off
#   corral.mode=demo            boot the demo guest with its console here
#   corral.scenarios=a,b,c      which scenarios (default: all)
#   corral.timeout=SECONDS      per-scenario time limit
#   corral.verbose=1            print every scenario's log, not only failures
export PATH=/corral/bin:/bin:/sbin:/usr/bin:/usr/sbin
mount -t devtmpfs devtmpfs /dev
# The kernel's console is ttyS1 (console=ttyS1: a log file on the host);
# ours is ttyS0, which carries nothing else.
exec </dev/ttyS0 >/dev/ttyS0 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm /tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm

die() {
    echo "@@@ FATAL $*"
    poweroff -f
    sleep 60
}

# Modules in load order (build-l1.sh writes the list, dependencies first):
# kvm-amd; bridge, tun, tap, vhost_net, loop, nf_tables and the bridge
# family's nft expressions, for the network and storage scenarios.
while read -r m; do
    insmod "/lib/modules/l1/$m" || die "insmod $m failed; dmesg: $(dmesg | tail -n 5)"
done </etc/l1-modules
[ -c /dev/kvm ] || die "no /dev/kvm after loading kvm-amd (dmesg: $(dmesg | grep -i -e kvm -e svm | tail -n 5))"
[ -c /dev/net/tun ] || die "no /dev/net/tun after loading tun"
# L1 has no network card (-nic none): loopback, and the bridges and taps
# that scenarios create (lib.sh: net_bridge, net_tap), are all there is.
ip link set lo up || die "cannot bring up the loopback interface"

mode=test scenarios='' timeout=''
# shellcheck disable=SC2013 # the command line is a list of words
for word in $(cat /proc/cmdline); do
    case $word in
        corral.mode=*) mode=${word#*=} ;;
        corral.scenarios=*) scenarios=$(echo "${word#*=}" | tr ',' ' ') ;;
        corral.timeout=*) timeout=${word#*=} ;;
        corral.verbose=1) export CORRAL_SHOW_LOGS=1 ;;
    esac
done

set -a
. /corral/env
set +a
export CORRAL_IN_TESTBED=1
[ -z "$timeout" ] || export CORRAL_SCENARIO_TIMEOUT="$timeout"

case $mode in
    test)
        echo "@@@ L1 UP $(cut -d' ' -f1 /proc/uptime)s cpus=$(nproc) kvm=ok tun=ok"
        # shellcheck disable=SC2086 # word splitting of the list is intended
        sh /corral/testbed/run-scenarios.sh $scenarios
        ;;
    demo)
        # The demo domain gets what a server gets: a scratch disk, a NIC on
        # a bridge where L1 serves a page at 10.0.0.1, and a hardware RNG.
        ip=$(which ip)
        "$ip" link add name crlbr0 type bridge && "$ip" addr add 10.0.0.1/24 dev crlbr0 &&
            "$ip" link set crlbr0 up
        mkdir -p /tmp/www
        echo "Hello from the host (L1), served to the demo guest over virtio-net." >/tmp/www/index.html
        busybox httpd -p 10.0.0.1:80 -h /tmp/www
        dd if=/dev/zero of=/tmp/demo-disk.img bs=1M seek=256 count=0 2>/dev/null
        cat <<EOF

==> Inside the testbed (L1). Starting corral-vmm with the demo guest; its
    console is this terminal. In the guest, 'poweroff -f' ends the demo.
    (Ctrl-A x quits QEMU at once.) The guest has a 256 MiB disk (/dev/vda,
    serial demo0), a NIC (eth0) on L1's bridge and /dev/hwrng. Try:
      mke2fs /dev/vda && mount -t ext2 /dev/vda /mnt && df -h /mnt
      ip link set eth0 up && ip addr add 10.0.0.2/24 dev eth0 && wget -O - http://10.0.0.1/

EOF
        # --console stdio: the VMM makes this console raw while the guest runs.
        rc=0
        "$CORRAL_VMM" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
            --cmdline "console=ttyS0 panic=-1 corral.action=shell" \
            --memory 512M --vcpus 2 --console stdio \
            --disk path=/tmp/demo-disk.img,serial=demo0 \
            --net tap=vif1.0,bridge=crlbr0,mac=00:16:3e:00:00:01 --rng || rc=$?
        echo
        echo "==> corral-vmm exited with status $rc; leaving the testbed."
        ;;
    *)
        echo "@@@ FATAL unknown corral.mode=$mode"
        ;;
esac
poweroff -f
