#!/bin/sh
# A guest panic, reported through pvpanic, ends the VMM with status 3.
# (The guest runs with panic=-1, see lib.sh: had pvpanic not reported the
# panic, the guest would reboot and the status would be 2.)
set -eu
. "$TESTBED/lib.sh"

boot_guest run panic --vcpus 1 --memory 256M
assert_console "@@ BOOTED"
assert_console "Kernel panic - not syncing: sysrq triggered crash"
if console_has "@@ INSMOD-FAILED pvpanic"; then fail "the guest could not load pvpanic"; fi
assert_status 3 "the guest crashed and said so through pvpanic"
