#!/bin/sh
# corral pause and unpause: while paused the domain is listed paused, its
# guest runs no code (its console log does not grow) and its clock stands
# still (across a pause of several seconds the guest's uptime moves on by
# far less); unpause lets it run on. Pausing twice is fine, a shut-off
# domain cannot be paused, shutdown unpauses first, destroy works on a
# paused domain, and create -p starts a domain whose guest waits for
# unpause before it runs at all.
set -eu
. "$TESTBED/lib.sh"

PAUSE_SECONDS=6
guest_initrd_ticker 0.2
corrald_start

# console_size NAME: the size of the domain's console log, in bytes.
console_size() { wc -c <"$(domain_console_file "$1")"; }

domain_file pz script
corral_ok create "$DOMAIN_FILE"
wait_domain_console pz "@@ TICK 3 " 180
domain_info pz
PZ_PID=$DOM_PID

# ---- pause: no code runs, the clock stands still --------------------------
corral_ok pause pz
domain_info pz
assert_eq "state after pause" paused "$DOM_STATE"
assert_eq "VMM after pause" "$PZ_PID" "$DOM_PID"
corral_ok list pz
grep -qE '^pz +[0-9]+ +256 +1 +paused ' "$WORK/corral.out" || fail "corral list does not show pz paused"
corral_ok pause pz
log "ok: pausing a paused domain succeeds"
corral_ok vcpu-list pz
grep -qE '^pz +[0-9]+ +0 +[0-9]+ +--p ' "$WORK/corral.out" || fail "corral vcpu-list: pz's vCPU is not shown paused"
n=$(domain_last_tick pz)
size=$(console_size pz)
sleep "$PAUSE_SECONDS"
assert_eq "console log size during the pause" "$size" "$(console_size pz)"
domain_info pz
assert_eq "state after the pause" paused "$DOM_STATE"
corral_ok unpause pz
domain_info pz
assert_eq "state after unpause" running "$DOM_STATE"
corral_ok unpause pz
log "ok: unpausing a running domain succeeds"
# Tick n may have been cut by the pause; n + 2 is complete once n + 3 starts.
wait_domain_console pz "@@ TICK $((n + 3)) " 60
steps=$(domain_console_values pz TICK | awk -v lo=$((n - 1)) -v hi=$((n + 2)) '
    $1 >= lo && $1 <= hi { printf "%s ", $2 }')
log "guest uptime at ticks $((n - 1))..$((n + 2)): $steps"
gap=$(domain_console_values pz TICK | awk -v lo=$((n - 1)) -v hi=$((n + 2)) '
    $1 >= lo && $1 <= hi { if (seen && $2 - prev > max) max = $2 - prev; prev = $2; seen = 1 }
    END { printf "%d", max * 1000 }')
# A guest whose clock ran on would show a step of PAUSE_SECONDS or more.
assert_range "largest step of the guest's uptime (ms) across a ${PAUSE_SECONDS}s pause" \
    0 $((PAUSE_SECONDS * 1000 / 2)) "$gap"

# ---- shutdown of a paused domain unpauses it first --------------------------
corral_ok pause pz
corral_ok shutdown -w pz
domain_console_has pz "@@ POWERBUTTON" || fail "the paused guest did not see the power button"
domain_info pz
assert_eq "pz after shutdown -w of the paused domain" absent "$DOM_STATE"
log "ok: shutdown of a paused domain"

# ---- create -p: created paused; the guest runs only after unpause --------
domain_file pp script 'on_poweroff = "preserve"'
corral_ok create -p "$DOMAIN_FILE"
domain_info pp
assert_eq "state after create -p" paused "$DOM_STATE"
PP_PID=$DOM_PID
pid_alive "$PP_PID" || fail "create -p started no VMM"
sleep 5
if domain_console_has pp "@@ BOOTED"; then fail "the guest of a domain created paused ran"; fi
corral_ok unpause pp
wait_domain_console pp "@@ TICK 2 " 180
log "ok: create -p held the guest until unpause"

# A shut-off domain cannot be paused.
corral_ok shutdown -w pp
wait_domain_state pp shutoff 30
corral_run pause pp
assert_eq "status of pause of a shut-off domain" 1 "$CORRAL_STATUS"

# ---- destroy of a paused domain ------------------------------------------
corral_ok destroy pp
domain_file pd script
corral_ok create "$DOMAIN_FILE"
wait_domain_console pd "@@ TICK 2 " 180
domain_info pd
PD_PID=$DOM_PID
corral_ok pause pd
corral_ok destroy pd
wait_domain_state pd absent 30
if pid_alive "$PD_PID"; then fail "the paused domain's VMM still runs after destroy"; fi
log "ok: destroy of a paused domain"

corrald_stop
