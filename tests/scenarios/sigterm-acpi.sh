#!/bin/sh
# SIGTERM to the VMM presses the ACPI power button; the guest sees the input
# event, powers off, and the VMM exits 0.
set -eu
. "$TESTBED/lib.sh"

start_guest run acpi --vcpus 1 --memory 256M
# READY: the guest has opened the power button's event device.
wait_for_console "@@ READY"
vmm_signal TERM
vmm_wait
assert_console "@@ POWERBUTTON"
assert_status 0 "the guest powered off after the power button"
