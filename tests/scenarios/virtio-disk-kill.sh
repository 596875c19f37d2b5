#!/bin/sh
# virtio-blk FLUSH: data the guest wrote and flushed survives the VMM being
# killed with SIGKILL right after (the disk uses the host page cache here, so
# the flush is what puts it in the file: fdatasync).
set -eu
. "$TESTBED/lib.sh"

marker="corral-flush-$$-$(date +%s)"
qemu-img create -q -f raw "$WORK/disk.img" 16M || fail "qemu-img create failed"
guest_initrd_with - <<EOF2
. /guest-lib.sh
set -e
wait_path /dev/vda
# 1 MiB in: a write the guest flushes (conv=fsync sends FLUSH), then says so.
printf '%s' "$marker" | dd of=/dev/vda bs=512 seek=2048 conv=sync,fsync 2>/dev/null
report FLUSHED
sleep 600
EOF2
start_guest run script --memory 256M --disk "path=$WORK/disk.img,cache=writeback"
wait_for_console "@@ FLUSHED"
vmm_signal KILL
vmm_wait 30
assert_status 137 "killed by SIGKILL"
got=$(dd if="$WORK/disk.img" bs=512 skip=2048 count=1 2>/dev/null | tr -d '\0')
assert_eq "the flushed sector, read in L1 after SIGKILL" "$marker" "$got"
