#!/bin/sh
# TESTBED SELF-CHECK, not a test of corral: QEMU/KVM (q35) boots the test
# guest with virtio-blk-pci (a raw image), virtio-net-pci (a tap on an L1
# bridge), virtio-rng-pci and a virtconsole, and a guest script uses each:
# mkfs + write on /dev/vda, ping + wget from L1's httpd, the hwrng, /dev/hvc0,
# fio and iperf3 from the tool archives. L1 then finds the data in the image.
# It proves the guest's modules and tools, L1's bridge/tap/vhost/loop and the
# helpers; the corral-vmm device scenarios do the same with corral.
set -eu
. "$TESTBED/lib.sh"

QEMU=${QEMU:-$(command -v qemu-system-x86_64 || true)}
if [ -z "$QEMU" ] || [ ! -x "$QEMU" ]; then skip "qemu-system-x86_64 is not available"; fi

# L1 side: a bridge with 10.0.0.1/24, the guest's tap on it, a web server.
net_bridge crlbr0 10.0.0.1/24
net_tap crltap0 crlbr0
mkdir -p "$WORK/www"
marker="corral-ref-$$-$(date +%s)"
echo "$marker" >"$WORK/www/hello.txt"
net_http_serve "$WORK/www" 8080
net_iperf3_server 5201
# L1 loads vhost_net; a host without it (running natively) goes without.
vhost=off
if [ -c /dev/vhost-net ]; then
    vhost=on
elif [ "${CORRAL_IN_TESTBED:-}" = 1 ]; then
    fail "no /dev/vhost-net in L1 (vhost_net not loaded?)"
fi

# A 64 MiB raw image; qemu-img must be able to read it.
qemu-img create -q -f raw "$WORK/disk.img" 64M || fail "qemu-img create failed"
info=$(qemu-img info "$WORK/disk.img") || fail "qemu-img info failed"
echo "$info" | grep -q 'file format: raw' || fail "qemu-img info: not raw: $info"
echo "$info" | grep -q 'virtual size: 64 MiB' || fail "qemu-img info: not 64 MiB: $info"
log "ok: qemu-img sees a 64 MiB raw image"

guest_initrd_with - --tools <<EOF
. /guest-lib.sh
set -e

# virtio-blk: size in 512-byte sectors, serial, a filesystem, a file.
wait_path /sys/block/vda
report VDA-SECTORS "\$(cat /sys/block/vda/size)"
report VDA-SERIAL "\$(cat /sys/block/vda/serial)"
wait_path /dev/vda
mke2fs -b 4096 -L ref /dev/vda >/dev/null
mount -t ext2 /dev/vda /mnt
echo "$marker" >/mnt/hello.txt
fio --name=seqwrite --filename=/mnt/fio.dat --size=4M --bs=64k --rw=write \\
    --ioengine=psync --end_fsync=1 >/tmp/fio.out
report FIO-WRITE "\$(grep -m1 'WRITE: bw=' /tmp/fio.out)"
report FIO-BYTES "\$(stat -c %s /mnt/fio.dat)"
sync
umount /mnt
report BLK-DONE

# virtio-net: MAC, address, ping, HTTP, iperf3.
wait_path /sys/class/net/eth0
report ETH0-MAC "\$(cat /sys/class/net/eth0/address)"
ip link set eth0 up
ip addr add 10.0.0.2/24 dev eth0
ping -c 3 -W 5 10.0.0.1 >/tmp/ping.out
report PING-RECEIVED "\$(sed -n 's/.* \\([0-9]*\\) packets received.*/\\1/p' /tmp/ping.out)"
wget -q -O /tmp/hello.txt http://10.0.0.1:8080/hello.txt
report HTTP-GOT "\$(cat /tmp/hello.txt)"
iperf3 -c 10.0.0.1 -p 5201 -t 1 -f m >/tmp/iperf.out
report IPERF3 "\$(grep -m1 'sender' /tmp/iperf.out)"

# virtio-rng: the current hwrng, and bytes from it.
report RNG-CURRENT "\$(cat /sys/devices/virtual/misc/hw_random/rng_current)"
report RNG-BYTES "\$(dd if=/dev/hwrng bs=16 count=1 2>/dev/null | wc -c)"

# virtconsole: a line on /dev/hvc0 that L1 reads from QEMU's chardev file.
wait_path /dev/hvc0
echo "hvc0 says $marker" >/dev/hvc0
report HVC-WRITTEN
EOF

cmd_start qemu "$QEMU" -enable-kvm -cpu host -M q35 -smp 2 -m 512 \
    -nodefaults -no-user-config -display none -serial stdio -no-reboot \
    -kernel "$GUEST_KERNEL" -initrd "$BOOT_INITRD" \
    -append "$(guest_args_cmdline script)" \
    -drive "file=$WORK/disk.img,format=raw,if=none,id=disk0" \
    -device virtio-blk-pci,drive=disk0,serial=ref0 \
    -netdev "tap,id=net0,ifname=crltap0,script=no,downscript=no,vhost=$vhost" \
    -device virtio-net-pci,netdev=net0,mac=00:16:3e:00:00:01 \
    -device virtio-rng-pci \
    -device virtio-serial-pci -chardev "file,id=hvc0,path=$WORK/hvc0.out" \
    -device virtconsole,chardev=hvc0
vmm_wait 180
assert_console "@@ BOOTED"
assert_eq "script exit status" 0 "$(console_value SCRIPT-EXIT)"
assert_status 0 "QEMU exits 0 when the guest powers off"

assert_eq "vda size (512-byte sectors)" 131072 "$(console_value VDA-SECTORS)"
assert_eq "vda serial" ref0 "$(console_value VDA-SERIAL)"
console_value FIO-WRITE | grep -q 'bw=' || fail "fio: no WRITE summary: '$(console_value FIO-WRITE)'"
log "fio in the guest: $(console_value FIO-WRITE)"
assert_eq "fio file size" 4194304 "$(console_value FIO-BYTES)"
assert_eq "eth0 MAC" 00:16:3e:00:00:01 "$(console_value ETH0-MAC)"
assert_eq "ping replies" 3 "$(console_value PING-RECEIVED)"
assert_eq "file fetched over HTTP" "$marker" "$(console_value HTTP-GOT)"
console_value IPERF3 | grep -q 'Mbits/sec' || fail "iperf3: no sender line: '$(console_value IPERF3)'"
log "iperf3 guest -> L1: $(console_value IPERF3)"
case $(console_value RNG-CURRENT) in
    virtio_rng*) log "ok: rng_current = $(console_value RNG-CURRENT)" ;;
    *) fail "rng_current: expected virtio_rng..., found '$(console_value RNG-CURRENT)'" ;;
esac
assert_eq "bytes read from /dev/hwrng" 16 "$(console_value RNG-BYTES)"
grep -qF "hvc0 says $marker" "$WORK/hvc0.out" ||
    fail "virtconsole: '$(cat "$WORK/hvc0.out")' lacks 'hvc0 says $marker'"
log "ok: the line written to /dev/hvc0 reached QEMU's chardev"

# The guest's file is in the image: mount it in L1 (loop device, read-only).
mkdir -p "$WORK/mnt"
mount -t ext2 -o loop,ro "$WORK/disk.img" "$WORK/mnt" || fail "cannot mount the guest's filesystem in L1"
got=$(cat "$WORK/mnt/hello.txt" 2>/dev/null || true)
umount "$WORK/mnt"
assert_eq "the file the guest wrote, read in L1" "$marker" "$got"
