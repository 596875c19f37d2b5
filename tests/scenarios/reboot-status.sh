#!/bin/sh
# A guest reboot ends the VMM with status 2 (the supervisor applies on_reboot),
# and --exit-file leaves that status for a supervisor that is not the parent.
set -eu
. "$TESTBED/lib.sh"

boot_guest run reboot --vcpus 1 --memory 256M --exit-file "$WORK/exit"
assert_console "@@ BOOTED"
assert_status 2 "the guest asked for a reboot"
assert_eq "the status in the exit file" 2 "$(cat "$WORK/exit" 2>/dev/null)"
[ ! -e "$WORK/exit.tmp" ] || fail "the exit file's temporary copy was left behind"
