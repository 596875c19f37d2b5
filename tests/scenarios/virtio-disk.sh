#!/bin/sh
# virtio-blk: two disks, one read-write with a serial and one read-only. The
# guest sees each with its size and serial, makes a filesystem on the first,
# writes a file, syncs and powers off; L1 finds the file in the image. A
# second boot reads it back; the read-only disk refuses writes and is
# unchanged.
set -eu
. "$TESTBED/lib.sh"

marker="corral-disk-$$-$(date +%s)"
qemu-img create -q -f raw "$WORK/data.img" 64M || fail "qemu-img create failed"
qemu-img create -q -f raw "$WORK/ro.img" 8M || fail "qemu-img create failed"
printf '%s' "ro-$marker" | dd of="$WORK/ro.img" conv=notrunc 2>/dev/null
ro_sum=$(md5sum <"$WORK/ro.img")

guest_initrd_with - <<EOF2
. /guest-lib.sh
set -e
wait_path /sys/block/vda
wait_path /sys/block/vdb
report VDA-SECTORS "\$(cat /sys/block/vda/size)"
report VDA-SERIAL "\$(cat /sys/block/vda/serial)"
report VDB-SECTORS "\$(cat /sys/block/vdb/size)"
report VDB-RO "\$(cat /sys/block/vdb/ro)"
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
boot_guest write script --memory 256M \
    --disk "path=$WORK/data.img,serial=corral-data0" --disk "path=$WORK/ro.img,ro"
assert_eq "script exit status" 0 "$(console_value SCRIPT-EXIT)"
assert_status 0 "the guest powered off"
assert_eq "vda size (512-byte sectors)" 131072 "$(console_value VDA-SECTORS)"
assert_eq "vda serial" corral-data0 "$(console_value VDA-SERIAL)"
assert_eq "vdb size (512-byte sectors)" 16384 "$(console_value VDB-SECTORS)"
assert_eq "vdb is read-only in the guest" 1 "$(console_value VDB-RO)"
assert_eq "vdb's first bytes, as the guest reads them" "ro-$marker" "$(console_value VDB-HEAD)"
assert_eq "a write to the read-only disk" refused "$(console_value VDB-WRITE)"
assert_eq "the read-only image is unchanged" "$ro_sum" "$(md5sum <"$WORK/ro.img")"
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
