#!/bin/sh
# virtio-blk: an image with a serial and two queues, a read-only image, and a
# host block device (a loop device in L1). The guest sees each with its size
# and serial, makes a filesystem on the first, writes a file, syncs and powers
# off; L1 finds the file in the image. A second boot reads it back; the
# read-only disk refuses writes and is unchanged; what the guest wrote to the
# block device is in its backing file.
set -eu
. "$TESTBED/lib.sh"

marker="corral-disk-$$-$(date +%s)"
qemu-img create -q -f raw "$WORK/data.img" 64M || fail "qemu-img create failed"
qemu-img create -q -f raw "$WORK/ro.img" 8M || fail "qemu-img create failed"
printf '%s' "ro-$marker" | dd of="$WORK/ro.img" conv=notrunc 2>/dev/null
ro_sum=$(md5sum <"$WORK/ro.img")
dd if=/dev/zero of="$WORK/loop.img" bs=1M count=16 2>/dev/null
loop=$(losetup -f) && losetup "$loop" "$WORK/loop.img" || fail "losetup failed"
trap 'losetup -d "$loop" 2>/dev/null || :; _lib_cleanup' EXIT

guest_initrd_with - <<EOF2
. /guest-lib.sh
set -e
wait_path /sys/block/vda
wait_path /sys/block/vdb
report VDA-SECTORS "\$(cat /sys/block/vda/size)"
report VDA-SERIAL "\$(cat /sys/block/vda/serial)"
report VDB-SECTORS "\$(cat /sys/block/vdb/size)"
report VDB-RO "\$(cat /sys/block/vdb/ro)"
report VDA-QUEUES "\$(ls /sys/block/vda/mq | wc -l)"
wait_path /sys/block/vdc
report VDC-SECTORS "\$(cat /sys/block/vdc/size)"
report VDC-SERIAL "\$(cat /sys/block/vdc/serial)"
wait_path /dev/vdc
printf '%s' "loop-$marker" | dd of=/dev/vdc bs=512 seek=8 conv=sync,fsync 2>/dev/null
wait_path /dev/vda
wait_path /dev/vdb
report VDB-HEAD "\$(dd if=/dev/vdb bs=1 count=\$((${#marker} + 3)) 2>/dev/null)"
if dd if=/dev/zero of=/dev/vdb bs=4096 count=1 oflag=direct 2>/dev/null; then
    report VDB-WRITE accepted
else
    report VDB-WRITE refused
fi
mke2fs -q -b 4096 -L corral /dev/vda
mount -t ext2 /dev/vda /mnt
echo "$marker" >/mnt/hello.txt
dd if=/dev/urandom of=/mnt/blob bs=64k count=64 2>/dev/null
report BLOB-SUM "\$(md5sum </mnt/blob)"
umount /mnt
sync
report WRITTEN
EOF2
boot_guest write script --memory 256M --vcpus 2 \
    --disk "path=$WORK/data.img,serial=corral-data0,queues=2" --disk "path=$WORK/ro.img,ro" \
    --disk "path=$loop,serial=loop0"
assert_eq "script exit status" 0 "$(console_value SCRIPT-EXIT)"
assert_status 0 "the guest powered off"
assert_eq "vda size (512-byte sectors)" 131072 "$(console_value VDA-SECTORS)"
assert_eq "vda serial" corral-data0 "$(console_value VDA-SERIAL)"
assert_eq "vdb size (512-byte sectors)" 16384 "$(console_value VDB-SECTORS)"
assert_eq "vdb is read-only in the guest" 1 "$(console_value VDB-RO)"
assert_eq "vdb's first bytes, as the guest reads them" "ro-$marker" "$(console_value VDB-HEAD)"
assert_eq "a write to the read-only disk" refused "$(console_value VDB-WRITE)"
assert_eq "the read-only image is unchanged" "$ro_sum" "$(md5sum <"$WORK/ro.img")"
assert_eq "vda's request queues" 2 "$(console_value VDA-QUEUES)"
assert_eq "vdc (loop device) size (512-byte sectors)" 32768 "$(console_value VDC-SECTORS)"
assert_eq "vdc serial" loop0 "$(console_value VDC-SERIAL)"
losetup -d "$loop"
got=$(dd if="$WORK/loop.img" bs=512 skip=8 count=1 2>/dev/null | tr -d '\0')
assert_eq "what the guest wrote to the loop device, in its backing file" "loop-$marker" "$got"
blob_sum=$(console_value BLOB-SUM)

mkdir -p "$WORK/mnt"
mount -t ext2 -o loop,ro "$WORK/data.img" "$WORK/mnt" || fail "cannot mount the guest's filesystem in L1"
got=$(cat "$WORK/mnt/hello.txt" 2>/dev/null || true)
l1_sum=$(md5sum <"$WORK/mnt/blob" 2>/dev/null || true)
umount "$WORK/mnt"
assert_eq "the file the guest wrote, read in L1" "$marker" "$got"
assert_eq "the 4 MiB blob, read in L1" "$blob_sum" "$l1_sum"

guest_initrd_with - <<EOF2
. /guest-lib.sh
set -e
wait_path /dev/vda
mount -t ext2 -o ro /dev/vda /mnt
report READ-BACK "\$(cat /mnt/hello.txt)"
report BLOB-SUM "\$(md5sum </mnt/blob)"
umount /mnt
EOF2
boot_guest read script --memory 256M --disk "path=$WORK/data.img,cache=writeback"
assert_eq "script exit status (second boot)" 0 "$(console_value SCRIPT-EXIT)"
assert_eq "the file, read back by a second boot" "$marker" "$(console_value READ-BACK)"
assert_eq "the blob, read back by a second boot" "$blob_sum" "$(console_value BLOB-SUM)"
