#!/bin/sh
# corrald killed with SIGKILL leaves its guests running; a new corrald
# re-adopts them: listed with the same IDs and VMMs, running, their console
# output of the meantime kept by the VMMs and logged, consoles attachable;
# the exit of a re-adopted VMM after a shutdown counts as a poweroff, a
# SIGKILL as a crash, and a VMM that died while no corrald watched is
# reported crashed. New domains get IDs that the re-adopted ones do not hold.
# One guest boots at a time, two run at most: more make L1 itself unstable
# (nested SVM under QEMU's emulator; see README.md).
set -eu
. "$TESTBED/lib.sh"

guest_initrd_ticker
corrald_start
domain_file rs-a script
corral_ok create "$DOMAIN_FILE"
wait_domain_console rs-a "@@ TICK 2 " 180
domain_file rs-b script 'on_crash = "preserve"'
corral_ok create "$DOMAIN_FILE"
wait_domain_console rs-b "@@ TICK 2 " 180
domain_info rs-a
A_ID=$DOM_ID A_PID=$DOM_PID
domain_info rs-b
B_ID=$DOM_ID B_PID=$DOM_PID

# ---- corrald dies; the guests do not ----------------------------------------
corrald_kill KILL
A_TICK=$(domain_last_tick rs-a)
corral_run list
assert_eq "status of corral list without corrald" 1 "$CORRAL_STATUS"
grep -q "cannot reach corrald" "$WORK/corral.err" || fail "corral list does not say corrald is unreachable"
sleep 5
for p in "$A_PID" "$B_PID"; do
    pid_alive "$p" || fail "VMM $p died with corrald"
done
log "ok: every VMM outlived corrald"

# ---- a new corrald re-adopts them ---------------------------------------
corrald_start
domain_info rs-a
assert_eq "rs-a's state after corrald's restart" running "$DOM_STATE"
assert_eq "rs-a's ID after corrald's restart" "$A_ID" "$DOM_ID"
assert_eq "rs-a's VMM after corrald's restart" "$A_PID" "$DOM_PID"
domain_info rs-b
assert_eq "rs-b's state after corrald's restart" running "$DOM_STATE"
assert_eq "rs-b's ID after corrald's restart" "$B_ID" "$DOM_ID"
assert_eq "rs-b's VMM after corrald's restart" "$B_PID" "$DOM_PID"
corral_ok list
grep -qE '^rs-a +[0-9]+ +256 +1 +running ' "$WORK/corral.out" || fail "corral list: rs-a is not listed running"

# The guests ran on, without a reboot, and their consoles are logged again.
wait_domain_console rs-a "@@ TICK $((A_TICK + 3)) " 60
wait_domain_ticks rs-b 3
assert_eq "boots on rs-a's console" 1 "$(domain_console_count rs-a "@@ BOOTED")"
assert_eq "boots on rs-b's console" 1 "$(domain_console_count rs-b "@@ BOOTED")"
log "ok: rs-a ticked on from $A_TICK to $(domain_last_tick rs-a) without rebooting"
# What the guest printed while no corrald listened was kept by the VMM and
# arrived on reconnection: no run of missing ticks. (A tick or two in
# flight when corrald was killed may be lost with its connection.)
gaps=$(domain_console_values rs-a TICK | awk '
    { seen[$1 + 0] = 1; if ($1 + 0 > m) m = $1 + 0 }
    END { for (i = 1; i <= m; i++) if (!(i in seen)) { run++; if (run > max) max = run } else run = 0
          print max + 0 }')
assert_range "longest run of ticks missing from rs-a's console log" 0 2 "$gaps"

# A console attaches to a re-adopted domain, and shows it live.
console_client_start att 4 console rs-b
ATT=$CLIENT_PID
wait_console_client att "@@ TICK $(($(domain_last_tick rs-b) + 2)) " 60
log "ok: corral console attached to re-adopted rs-b"

# ---- shutdown and crash of re-adopted VMMs ---------------------------------
corral_ok shutdown -w rs-a
domain_info rs-a
assert_eq "rs-a after shutdown -w (on_poweroff=destroy)" absent "$DOM_STATE"
domain_console_has rs-a "@@ POWERBUTTON" || fail "rs-a's guest did not see the power button"
if pid_alive "$A_PID"; then fail "rs-a's VMM still runs"; fi
log "SIGKILL to rs-b's VMM (pid $B_PID)"
kill -s KILL "$B_PID"
wait_domain_state rs-b crashed 30
log "ok: re-adopted VMMs: a shutdown and a crash, each as such"
corral_ok destroy rs-b
wait_client_exit "$ATT" 30
assert_eq "status of the console client after destroy" 0 "$CLIENT_STATUS"

# ---- a VMM that dies while no corrald watches ----------------------------
domain_file rs-d script
corral_ok create "$DOMAIN_FILE"
domain_info rs-d
D_ID=$DOM_ID
wait_domain_console rs-d "@@ TICK 2 " 180
domain_file rs-c script 'on_crash = "preserve"'
corral_ok create "$DOMAIN_FILE"
domain_info rs-c
C_PID=$DOM_PID
wait_domain_console rs-c "@@ TICK 2 " 180
corrald_kill KILL
log "SIGKILL to rs-c's VMM (pid $C_PID) while corrald is down"
kill -s KILL "$C_PID"
sleep 3
corrald_start
wait_domain_state rs-c crashed 30
domain_info rs-d
assert_eq "rs-d's state after corrald's restart" running "$DOM_STATE"
assert_eq "rs-d's ID after corrald's restart" "$D_ID" "$DOM_ID"
# A new domain does not take the re-adopted rs-d's ID.
corral_ok destroy rs-c
domain_file rs-e script
corral_ok create "$DOMAIN_FILE"
domain_info rs-e
if [ "$DOM_ID" = "$D_ID" ] || [ "${DOM_ID:-0}" = 0 ]; then fail "rs-e got ID $DOM_ID (rs-d has $D_ID)"; fi
log "ok: rs-c crashed while corrald was down; rs-e got ID $DOM_ID beside rs-d's $D_ID"

for d in rs-d rs-e; do corral_ok destroy "$d"; done
wait_domain_state rs-e absent 30
corrald_stop
