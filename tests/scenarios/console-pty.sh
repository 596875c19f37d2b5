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
i=0
pty=
while [ -z "$pty" ] && [ $i -lt 100 ]; do
    pty=$(sed -n 's/.*console on \(\/dev\/pts\/[0-9]*\).*/\1/p' "$(stderr_file)")
    [ -n "$pty" ] || sleep 0.1
    i=$((i + 1))
done
[ -n "$pty" ] || fail "corral-vmm did not say which pty is the console"
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
