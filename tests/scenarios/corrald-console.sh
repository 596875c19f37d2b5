#!/bin/sh
# Consoles through corrald: `corral create -c` shows the guest booting and
# types into it (a command run by the guest's shell); a second `corral
# console` gets the scrollback and watches read-only (what it types is
# dropped) until it takes the console over with -f; the console is logged;
# an attached user sees the domain's next boot after a reboot; every client
# ends with status 0 when the domain is destroyed.
# The typed commands are for the guest's shell to expand, not ours:
# shellcheck disable=SC2016
set -eu
. "$TESTBED/lib.sh"

corrald_start
# The guest's /init ends in a busybox shell on ttyS0 (corral.action=shell).
domain_file csh shell

# ---- create -c: the boot, and a typed command -----------------------------
console_client_start first 4 create -c "$DOMAIN_FILE"
FIRST=$CLIENT_PID
wait_console_client first "This is a corral guest" 180
console_client_has first "Linux version" || fail "create -c did not show the kernel booting"
console_client_has first "@@ BOOTED" || fail "create -c did not show the guest's /init"
domain_info csh
assert_eq "state of csh" running "$DOM_STATE"
# The shell computes what it prints: the echo of the typed line alone
# (the tty echoes it) cannot show "typed-42".
sleep 2
console_client_send 4 'echo typed-$((6 * 7))'
wait_console_client first "typed-42" 60
wait_domain_console csh "typed-42" 30
log "ok: a command typed into create -c ran in the guest, and the console log has it"

# ---- a second user: scrollback, read-only ---------------------------------
console_client_start second 5 console csh
SECOND=$CLIENT_PID
wait_console_client second "typed-42" 30
console_client_has second "@@ BOOTED" || fail "the second console's scrollback lacks the boot"
wait_console_client second "read-only" 30
console_client_send 5 'echo second-$((5 * 5))'
sleep 3
console_client_send 4 'echo first-$((2 * 2))'
wait_console_client second "first-4" 60
wait_console_client first "first-4" 60
if console_client_has first "second-25" || domain_console_has csh "second-25"; then
    fail "what the read-only user typed reached the guest"
fi
log "ok: the second user watches: it sees the first user's command, its own typing is dropped"

# ---- console -f takes the keyboard over ------------------------------------
console_client_start third 6 console -f csh
THIRD=$CLIENT_PID
wait_console_client third "first-4" 30
sleep 2
console_client_send 6 'echo third-$((3 * 3))'
wait_console_client first "third-9" 60
wait_console_client first "read-only" 30
console_client_send 4 'echo dropped-$((1 + 1))'
sleep 3
console_client_send 6 'echo check-$((4 * 4))'
wait_domain_console csh "check-16" 60
if domain_console_has csh "dropped-2"; then
    fail "the first user still typed after console -f took the console over"
fi
log "ok: console -f took the console over; the first user watches now"

# ---- a reboot: attached users see the next boot ---------------------------
console_client_send 6 'reboot -f'
wait_domain_console csh "This is a corral guest" 180 2
sleep 1
assert_eq "boots seen by the second user" 2 "$(tr -d '\r' <"$WORK/second.out" | grep -c '@@ BOOTED')"
for c in "$FIRST" "$SECOND" "$THIRD"; do
    kill -0 "$c" 2>/dev/null || fail "console client $c ended with the reboot"
done
log "ok: the clients stayed attached across the reboot"

# ---- destroy ends every client, with status 0 -----------------------------
corral_ok destroy csh
for c in "$FIRST" "$SECOND" "$THIRD"; do
    wait_client_exit "$c" 30
    assert_eq "status of console client $c after destroy" 0 "$CLIENT_STATUS"
done
corral_run console csh
assert_eq "status of console of a domain that is gone" 1 "$CORRAL_STATUS"
corrald_stop
