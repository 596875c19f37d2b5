#!/bin/sh
# A VMM killed with SIGKILL is a crash, and corrald applies on_crash:
# "destroy" (the default) forgets the domain, "preserve" keeps it listed as
# crashed until destroy, "restart" starts a new VMM that boots the guest
# again. A guest kernel panic (pvpanic, VMM status 3) is a crash too.
# Another domain runs on through all of it: same VMM, its console moving.
# One guest boots at a time: more make L1 itself unstable (nested SVM under
# QEMU's emulator; see README.md).
set -eu
. "$TESTBED/lib.sh"

guest_initrd_ticker
corrald_start
domain_file cr-other script 'on_crash = "restart"'
corral_ok create "$DOMAIN_FILE"
domain_info cr-other
OTHER_PID=$DOM_PID OTHER_ID=$DOM_ID
wait_domain_console cr-other "@@ TICK 2 " 180

# other_moves: cr-other still runs as the same VMM and its console goes on.
other_moves() {
    domain_info cr-other
    assert_eq "cr-other's state" running "$DOM_STATE"
    assert_eq "cr-other's VMM" "$OTHER_PID" "$DOM_PID"
    assert_eq "cr-other's ID" "$OTHER_ID" "$DOM_ID"
    wait_domain_ticks cr-other 3
}

# kill_vmm NAME: SIGKILL to the domain's VMM; sets KILLED_PID.
kill_vmm() {
    domain_info "$1"
    [ "$DOM_STATE" = running ] || fail "$1 is $DOM_STATE, not running, before the kill"
    KILLED_PID=$DOM_PID
    log "SIGKILL to $1's VMM (pid $KILLED_PID)"
    kill -s KILL "$KILLED_PID"
}

# ---- on_crash = "destroy" (the default) ----------------------------------
domain_file cr-destroy script
corral_ok create "$DOMAIN_FILE"
wait_domain_console cr-destroy "@@ TICK 2 " 180
kill_vmm cr-destroy
wait_domain_state cr-destroy absent 30
[ ! -e "$CORRALD_DIR/state/domains/cr-destroy.cfg" ] || fail "cr-destroy's definition is still there"
grep -q "domain cr-destroy: crashed" "$CORRALD_DIR/corrald.log" ||
    fail "corrald's log does not report cr-destroy's crash"
log "ok: on_crash=destroy forgot the killed domain"
other_moves

# ---- on_crash = "preserve" -------------------------------------------------
domain_file cr-preserve script 'on_crash = "preserve"'
corral_ok create "$DOMAIN_FILE"
wait_domain_console cr-preserve "@@ TICK 2 " 180
kill_vmm cr-preserve
wait_domain_state cr-preserve crashed 30
assert_eq "cr-preserve's ID when crashed" 0 "$DOM_ID"
corral_ok list
row=$(grep '^cr-preserve ' "$WORK/corral.out" | tr -s ' ')
case $row in
    "cr-preserve - 256 1 crashed "*) log "ok: corral list: $row" ;;
    *) fail "corral list row of the crashed domain: '$row'" ;;
esac
other_moves
sleep 3
domain_info cr-preserve
assert_eq "cr-preserve stays crashed" crashed "$DOM_STATE"
corral_ok destroy cr-preserve
wait_domain_state cr-preserve absent 30
log "ok: on_crash=preserve kept the killed domain as crashed until destroy"

# ---- a guest panic -----------------------------------------------------------
# The panic guest would reboot (panic=-1) if pvpanic did not report the
# panic; on_reboot=destroy would then make it vanish instead of crash.
domain_file cr-panic panic 'on_crash = "preserve"' 'on_reboot = "destroy"'
corral_ok create "$DOMAIN_FILE"
wait_domain_state cr-panic crashed 180
domain_console_has cr-panic "Kernel panic - not syncing" || fail "cr-panic's console shows no panic"
log "ok: the guest's panic left cr-panic crashed"
other_moves

corral_ok destroy cr-panic
wait_domain_state cr-panic absent 30

# ---- on_crash = "restart" ----------------------------------------------------
kill_vmm cr-other
wait_domain_restart cr-other "$KILLED_PID" 30
wait_domain_console cr-other "@@ BOOTED" 180 2
wait_domain_console cr-other "@@ READY" 60 2
log "ok: on_crash=restart booted cr-other again"

corral_ok destroy cr-other
wait_domain_state cr-other absent 30
corrald_stop
