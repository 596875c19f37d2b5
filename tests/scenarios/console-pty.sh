#!/bin/sh
# --console pty: the VMM names its pseudo-terminal; what the guest prints
# comes out of it and what is typed into it reaches the guest.
set -eu
. "$TESTBED/lib.sh"

start_guest_pty() {
    vmm_start run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
        --cmdline "$(guest_args_cmdline echo)" --console pty
}
start_guest_pty
wait_for_pty
pty=$PTY
log "console on $pty"
# The VMM's own stdout stays empty: read the pty into the console file.
cat "$pty" >>"$(console_file)" &
reader=$!
wait_for_console "@@ READY"
printf 'hello pty\n' >"$pty"
wait_for_console "@@ GOT hello pty" 60
vmm_wait
kill "$reader" 2>/dev/null || :
assert_status 0 "the guest powered off"
