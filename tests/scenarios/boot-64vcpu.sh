#!/bin/sh
# The largest guest we promise: 64 vCPUs, all online, one thread each in the
# VMM. (Slow in the testbed: about 80 s, most of it AP bring-up under TCG.)
set -eu
. "$TESTBED/lib.sh"

boot_guest run poweroff --vcpus 64 --memory 1G
assert_console "@@ BOOTED"
assert_eq "online CPUs" 64 "$(console_value CPUS)"
assert_status 0 "the guest powered off"
