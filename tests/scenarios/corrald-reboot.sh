#!/bin/sh
# A guest that reboots itself ends its VMM with status 2, and corrald
# applies on_reboot: "restart" starts a new VMM (same name, domain running,
# the guest boots again from the same definition), "destroy" forgets the
# domain, "preserve" keeps it listed as shutoff until destroy,
# "rename-restart" keeps the ended domain, shut off, as
# NAME--incarnation-1 and restarts the domain under its name.
# Each guest reboots once: the first boot writes a mark on its disk and
# reboots; a boot that finds the mark says so and keeps running.
# `corral reboot -w` (the power button; the guest's poweroff counts as a
# reboot) restarts a domain whose guest powers off on the button.
# One guest runs at a time: more make L1 itself unstable (nested SVM under
# QEMU's emulator; see README.md).
set -eu
. "$TESTBED/lib.sh"

guest_initrd_with - <<'EOF'
. /guest-lib.sh
set -e
wait_path /dev/vda
if [ "$(head -c 8 /dev/vda)" = REBOOTED ]; then
    report SECOND-BOOT
    i=0
    while :; do
        i=$((i + 1))
        echo "@@ TICK $i"
        sleep 0.5
    done
fi
printf REBOOTED | dd of=/dev/vda conv=notrunc,fsync 2>/dev/null
report REBOOTING
reboot -f
EOF

corrald_start
# create_rebooter ACTION: domain rb-ACTION, on_reboot=ACTION, with a 1 MiB
# disk of zeros for the mark; its VMM's pid in DOM_PID.
create_rebooter() {
    dd if=/dev/zero of="$WORK/rb-$1.img" bs=1024 count=1024 2>/dev/null
    domain_file "rb-$1" script "on_reboot = \"$1\"" "disk = [ '$WORK/rb-$1.img,raw,xvda,w' ]"
    corral_ok create "$DOMAIN_FILE"
    domain_info "rb-$1"
}

# ---- on_reboot = "destroy": gone -------------------------------------------
create_rebooter destroy
DESTROY_PID=$DOM_PID
wait_domain_state rb-destroy absent 180
domain_console_has rb-destroy "@@ REBOOTING" || fail "rb-destroy went away without rebooting"
if pid_alive "$DESTROY_PID"; then fail "rb-destroy's VMM still runs"; fi
[ ! -e "$CORRALD_DIR/state/domains/rb-destroy.cfg" ] || fail "rb-destroy's definition is still there"
assert_eq "rb-destroy's disk mark" REBOOTED "$(head -c 8 "$WORK/rb-destroy.img")"
if domain_console_has rb-destroy "@@ SECOND-BOOT"; then fail "rb-destroy booted again"; fi
log "ok: on_reboot=destroy forgot the domain"

# ---- on_reboot = "preserve": listed as shutoff until destroy ---------------
create_rebooter preserve
PRESERVE_PID=$DOM_PID
wait_domain_state rb-preserve shutoff 180
domain_console_has rb-preserve "@@ REBOOTING" || fail "rb-preserve stopped without rebooting"
assert_eq "rb-preserve's ID when shut off" 0 "$DOM_ID"
assert_eq "rb-preserve's VMM pid when shut off" 0 "$DOM_PID"
if pid_alive "$PRESERVE_PID"; then fail "rb-preserve's VMM still runs"; fi
corral_ok list rb-preserve
row=$(grep '^rb-preserve ' "$WORK/corral.out" | tr -s ' ')
case $row in
    "rb-preserve - 256 1 shutoff "*) log "ok: corral list: $row" ;;
    *) fail "corral list row of the preserved domain: '$row'" ;;
esac
[ -f "$CORRALD_DIR/state/domains/rb-preserve.cfg" ] || fail "rb-preserve's definition is gone"
corral_run shutdown rb-preserve
assert_eq "status of shutdown of a shut-off domain" 1 "$CORRAL_STATUS"
sleep 3
domain_info rb-preserve
assert_eq "rb-preserve stays shut off" shutoff "$DOM_STATE"
if domain_console_has rb-preserve "@@ SECOND-BOOT"; then fail "rb-preserve booted again"; fi
corral_ok destroy rb-preserve
wait_domain_state rb-preserve absent 30
[ ! -e "$CORRALD_DIR/state/domains/rb-preserve.cfg" ] || fail "rb-preserve's definition is still there after destroy"
log "ok: on_reboot=preserve kept the domain shut off until destroy"

# ---- "restart": a new VMM, the guest boots again --------------------------
create_rebooter restart
RESTART_PID=$DOM_PID
wait_domain_restart rb-restart "$RESTART_PID" 180
if pid_alive "$RESTART_PID"; then fail "rb-restart's first VMM still runs"; fi
assert_eq "rb-restart's VMM binary" "$(readlink -f "$CORRAL_VMM")" "$(readlink "/proc/$DOM_PID/exe")"
wait_domain_console rb-restart "@@ SECOND-BOOT" 180
wait_domain_console rb-restart "@@ TICK 3" 60
assert_eq "boots on rb-restart's console" 2 "$(domain_console_count rb-restart "@@ BOOTED")"
assert_eq "reboots on rb-restart's console" 1 "$(domain_console_count rb-restart "@@ REBOOTING")"
domain_info rb-restart
assert_eq "rb-restart's state after its reboot" running "$DOM_STATE"
assert_eq "rb-restart's memory after its reboot" 256 "$DOM_MEMORY"
log "ok: on_reboot=restart started the domain again"
corral_ok destroy rb-restart
wait_domain_state rb-restart absent 30

# ---- "rename-restart": the ended domain kept, renamed; restarted ----------
create_rebooter rename-restart
RENAME_PID=$DOM_PID
wait_domain_restart rb-rename-restart "$RENAME_PID" 180
COPY=rb-rename-restart--incarnation-1
wait_domain_state "$COPY" shutoff 30
assert_eq "the renamed copy's ID" 0 "$DOM_ID"
[ -f "$CORRALD_DIR/state/domains/$COPY.cfg" ] || fail "no definition for the renamed copy"
wait_domain_console rb-rename-restart "@@ SECOND-BOOT" 180
domain_info rb-rename-restart
assert_eq "rb-rename-restart's state after its reboot" running "$DOM_STATE"
corral_ok destroy "$COPY"
wait_domain_state "$COPY" absent 30
domain_info rb-rename-restart
assert_eq "rb-rename-restart after its copy's destroy" running "$DOM_STATE"
log "ok: on_reboot=rename-restart kept the ended domain as $COPY"

corral_ok destroy rb-rename-restart
wait_domain_state rb-rename-restart absent 30

# ---- corral reboot -w --------------------------------------------------------
# A guest that powers off on the ACPI power button.
guest_initrd_ticker
domain_file rb-cmd script
corral_ok create "$DOMAIN_FILE"
domain_info rb-cmd
CMD_PID=$DOM_PID
wait_domain_console rb-cmd "@@ READY" 180
corral_ok reboot -w rb-cmd
domain_console_has rb-cmd "@@ POWERBUTTON" || fail "corral reboot did not press rb-cmd's power button"
domain_info rb-cmd
assert_eq "rb-cmd's state after reboot -w" running "$DOM_STATE"
[ "$DOM_PID" != "$CMD_PID" ] || fail "rb-cmd runs the same VMM after reboot -w"
if pid_alive "$CMD_PID"; then fail "rb-cmd's first VMM still runs"; fi
wait_domain_console rb-cmd "@@ READY" 180 2
log "ok: corral reboot -w restarted rb-cmd"

corral_ok destroy rb-cmd
wait_domain_state rb-cmd absent 30
corrald_stop
