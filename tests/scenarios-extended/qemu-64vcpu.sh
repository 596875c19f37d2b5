#!/bin/sh
# The reference for boot-64vcpu: the same 64-vCPU guest under QEMU/KVM in the
# same testbed. If this fails as often, the testbed is what fails.
set -eu
# AP bring-up of 64 vCPUs under emulation takes 80-120 s; allow more.
CORRAL_BOOT_TIMEOUT=280
. "$TESTBED/lib.sh"

QEMU=${QEMU:-$(command -v qemu-system-x86_64 || true)}
if [ -z "$QEMU" ] || [ ! -x "$QEMU" ]; then skip "qemu-system-x86_64 is not available"; fi
cmd_start qemu "$QEMU" -enable-kvm -cpu host -M q35 -smp 64 -m 1G \
    -nodefaults -no-user-config -display none -serial stdio -no-reboot \
    -kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" \
    -append "$(guest_args_cmdline poweroff)"
vmm_wait
assert_console "@@ BOOTED"
assert_eq "online CPUs" 64 "$(console_value CPUS)"
assert_status 0 "QEMU exits 0 when the guest powers off"
