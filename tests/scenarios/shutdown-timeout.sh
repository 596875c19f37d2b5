#!/bin/sh
# A guest that ignores the power button is stopped once the shutdown timeout
# after SIGTERM runs out: exit status 5, with a message saying why.
set -eu
. "$TESTBED/lib.sh"

# The idle guest has no ACPI daemon: the power button does nothing in it.
start_guest run idle --vcpus 1 --memory 256M --shutdown-timeout 3
wait_for_console "@@ READY"
vmm_signal TERM
vmm_wait 60
assert_status 5 "stopped by the host after the shutdown timeout"
assert_stderr "pressing the power button"
assert_stderr "did not power off in time"
