#!/bin/sh
# TESTBED SELF-CHECK, not a test of corral: boot the same guest kernel and
# initrd under QEMU/KVM (-M microvm) in the same place the corral scenarios
# run. If this fails, the testbed is broken (artifacts, L1 image, nested KVM,
# guest /init); if it passes while corral's scenarios fail, look at corral.
set -eu
. "$TESTBED/lib.sh"

QEMU=${QEMU:-$(command -v qemu-system-x86_64 || true)}
if [ -z "$QEMU" ] || [ ! -x "$QEMU" ]; then skip "qemu-system-x86_64 is not available"; fi

cmd_start qemu "$QEMU" -enable-kvm -cpu host -M microvm -smp 2 -m 256 \
    -nodefaults -no-user-config -display none -serial stdio -no-reboot \
    -kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" \
    -append "$(guest_args_cmdline poweroff)"
vmm_wait
assert_console "@@ BOOTED"
assert_eq "online CPUs" 2 "$(console_value CPUS)"
assert_status 0 "QEMU exits 0 when the guest powers off"
