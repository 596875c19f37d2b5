#!/bin/sh
# Guest RAM is mapped into KVM's nested page tables with 2 MiB pages: KVM
# does so only where the host mapping is 2 MiB-aligned like the guest's
# addresses, and a VMM that leaves its RAM unaligned gets 4 KiB pages
# everywhere (slower page walks for every guest access). KVM counts its
# mappings in debugfs while the VM runs.
set -eu
. "$TESTBED/lib.sh"

grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null &&
    skip "transparent huge pages are off on this host"
[ -d /sys/kernel/debug/kvm ] || mount -t debugfs none /sys/kernel/debug ||
    fail "cannot mount debugfs"

guest_initrd_with - <<'EOF2'
# Touch 64 MiB so that its pages are mapped, then hold still to be counted.
dd if=/dev/zero of=/fill bs=1M count=64 2>/dev/null
echo "@@ READY"
sleep 30
EOF2
start_guest huge-pages script --memory 512M
wait_for_console "@@ READY" 120
vm=$(echo /sys/kernel/debug/kvm/"$VMM_PID"-*)
[ -d "$vm" ] || fail "no KVM debugfs directory for pid $VMM_PID"
pages_2m=$(cat "$vm/pages_2m")
pages_4k=$(cat "$vm/pages_4k")
log "KVM maps the guest with $pages_2m 2 MiB pages and $pages_4k 4 KiB pages"
# 64 MiB touched: at least 32 huge pages if alignment is right, none if not.
[ "$pages_2m" -ge 32 ] || fail "only $pages_2m 2 MiB mappings ($pages_4k of 4 KiB): guest RAM is not 2 MiB-aligned"
vmm_wait
assert_status 0 "the guest powered off"
