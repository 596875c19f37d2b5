#!/bin/sh
# An SMP guest: 4 vCPUs (the cloud kernel finds them only through ACPI's MADT).
set -eu
. "$TESTBED/lib.sh"

boot_guest run poweroff --vcpus 4 --memory 512M
assert_console "@@ BOOTED"
assert_eq "online CPUs" 4 "$(console_value CPUS)"
# KVM's in-kernel LAPIC emulates it but leaves it out of the supported
# CPUID; QEMU -cpu host offers it, and so must we.
assert_eq "TSC-deadline timer in the guest's CPU flags" yes "$(console_value TSC-DEADLINE)"
assert_range "MemTotal (kB)" 450000 524288 "$(console_value MEMTOTAL)"
assert_status 0 "the guest powered off"
