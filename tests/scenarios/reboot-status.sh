#!/bin/sh
# A guest reboot ends the VMM with status 2 (the supervisor applies on_reboot).
set -eu
. "$TESTBED/lib.sh"

boot_guest run reboot --vcpus 1 --memory 256M
assert_console "@@ BOOTED"
assert_status 2 "the guest asked for a reboot"
