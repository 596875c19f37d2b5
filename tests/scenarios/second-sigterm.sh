#!/bin/sh
# A second SIGTERM stops the guest at once, without waiting for the shutdown
# timeout: exit status 5.
set -eu
. "$TESTBED/lib.sh"

start_guest run idle --vcpus 1 --memory 256M --shutdown-timeout 600
wait_for_console "@@ READY"
vmm_signal TERM
sleep 1
vmm_signal TERM
vmm_wait 60
assert_status 5 "stopped by the host on the second signal"
assert_stderr "stopped by the host"
