#!/bin/sh
# Console input: a line typed into the VMM's stdin reaches the guest's ttyS0.
set -eu
. "$TESTBED/lib.sh"

start_guest_interactive run echo --vcpus 1 --memory 256M
wait_for_console "@@ READY"
console_send "hello corral"
vmm_wait
assert_console "@@ GOT hello corral"
assert_status 0 "the guest powered off"
