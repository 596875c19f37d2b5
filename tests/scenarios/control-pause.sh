#!/bin/sh
# The control socket (--control): status, pause and resume, bad requests,
# shutdown and stop. While paused the guest runs no code (its console is
# silent) and its clock stands still: across a 5 s pause its uptime moves
# on by far less (kvmclock is put back with KVM_SET_CLOCK). A second guest
# keeps time with the TSC instead, whose offset is put back too.
set -eu
. "$TESTBED/lib.sh"

CTL=$CORRAL_BIN/ctl_client
[ -x "$CTL" ] || fail "no $CTL (meson builds tests/testbed/tools/ctl_client.c)"
SOCK=$WORK/ctl.sock
PAUSE_SECONDS=5

# The guest: power button -> poweroff; otherwise a tick with its uptime
# every 0.2 s, forever.
guest_initrd_with - <<'EOF'
. /guest-lib.sh
cs=/sys/devices/system/clocksource/clocksource0
report CLOCKSOURCE "$(cat $cs/current_clocksource)"
report CLOCKSOURCES "$(cat $cs/available_clocksource)"
watch_power_button 10 || exit 1
report READY
i=0
while :; do
    i=$((i + 1))
    read -r up _ </proc/uptime
    echo "@@ TICK $i $up"
    sleep 0.2
done
EOF

# ask REQUEST: sends it, sets REPLY to the reply line.
ask() {
    REPLY=$("$CTL" "$SOCK" "$1") || fail "control: no reply to '$(printf '%.60s' "$1")'"
    log "control: '$(printf '%.60s' "$1")' -> $REPLY"
}

# expect REQUEST REGEX: the reply to REQUEST matches REGEX (grep -E).
expect() {
    ask "$1"
    printf '%s\n' "$REPLY" | grep -qE -- "$2" ||
        fail "control: expected a reply matching /$2/, got '$REPLY'"
}

ticks() { grep -c '@@ TICK ' "$(console_file)" || :; }

# start NAME [CMDLINE EXTRA]: boots the guest with the control socket and
# waits for its first ticks.
start() {
    vmm_start "$1" --kernel "$GUEST_KERNEL" --initrd "$BOOT_INITRD" \
        --cmdline "$(guest_args_cmdline script)${2:+ $2}" --console stdio \
        --vcpus 2 --memory 256M --control "$SOCK" --shutdown-timeout 60
    wait_for_console "@@ TICK 3 " 120
    log "guest clocksource: $(console_value CLOCKSOURCE) (available: $(console_value CLOCKSOURCES))"
}

# check_pause: pauses for PAUSE_SECONDS; the console must stay silent, and
# the largest step of the guest's uptime between ticks around the pause
# must be far shorter than the pause.
check_pause() {
    expect '{"cmd":"pause"}' '^\{"ok":true,"state":"paused"'
    n=$(ticks)
    size=$(wc -c <"$(console_file)")
    expect '{"cmd":"status"}' '"state":"paused"'
    sleep "$PAUSE_SECONDS"
    [ "$(wc -c <"$(console_file)")" = "$size" ] ||
        fail "the guest wrote to its console while paused"
    log "ok: no console output during the ${PAUSE_SECONDS}s pause"
    expect '{"cmd":"resume"}' '^\{"ok":true,"state":"running"'
    expect '{"cmd":"status"}' '"state":"running"'
    # Ticks up to n may have been cut by the pause; n + 2 is complete once
    # n + 3 starts.
    wait_for_console "@@ TICK $((n + 3)) " 60
    gap=$(console_values TICK | awk -v lo=$((n - 1)) -v hi=$((n + 2)) '
        $1 >= lo && $1 <= hi { if (seen && $2 - prev > max) max = $2 - prev; prev = $2; seen = 1 }
        END { printf "%d", max * 1000 }')
    log "ticks $((n - 1))..$((n + 2)): $(console_values TICK | awk -v lo=$((n - 1)) -v hi=$((n + 2)) \
        '$1 >= lo && $1 <= hi { printf "%s ", $2 }')"
    assert_range "largest step of the guest's uptime (ms) across a ${PAUSE_SECONDS}s pause" 0 2000 "$gap"
}

# ---- Run 1: kvmclock; bad requests; shutdown while paused ---------------
start run1

# The socket is private, and a second VMM cannot take it over.
assert_eq "control socket mode" 600 "$(stat -c %a "$SOCK")"
rc=0
"$CORRAL_VMM" --kernel "$GUEST_KERNEL" --console none --control "$SOCK" \
    </dev/null >/dev/null 2>"$WORK/second.err" || rc=$?
assert_eq "status of a second VMM on the same socket" 1 "$rc"
grep -q "another process is listening" "$WORK/second.err" ||
    fail "second VMM: unexpected message: $(cat "$WORK/second.err")"
log "ok: a second VMM refuses the live socket"

expect '{"cmd":"status"}' '^\{"ok":true,"state":"running","vcpus":2,"memory_mib":256,"uptime_ms":[0-9]+,"cpu_time_ns":[1-9][0-9]*,"vcpu_cpu_time_ns":\[[0-9]+,[0-9]+\]'

# Bad requests: an error reply each, and the guest runs on.
expect 'not json' '^\{"ok":false,"error":"malformed JSON'
expect '{"cmd":"reboot"}' '^\{"ok":false,"error":"unknown command'
expect '{"cmd":42}' '^\{"ok":false,"error":"missing'
expect '["status"]' '^\{"ok":false,"error":"a request is a JSON object'
expect "$(head -c 5000 /dev/zero | tr '\0' x)" '^\{"ok":false,"error":"request too long'
expect '{"cmd":"status","id":"x1"}' '^\{"ok":true,"id":"x1","state":"running"'
flood=$("$CTL" --flood "$SOCK" 8000000)
log "$flood"
case $flood in *"hung up"*) ;; *) fail "a client that never reads was not dropped: $flood" ;; esac
n=$(ticks)
wait_for_console "@@ TICK $((n + 3)) " 60
expect '{"cmd":"status"}' '"state":"running"'
log "ok: bad requests got error replies; the guest kept running"

check_pause
expect '{"cmd":"pause"}' '^\{"ok":true,"state":"paused"'
expect '{"cmd":"pause"}' '^\{"ok":true,"state":"paused"'
# shutdown on a paused guest resumes it, then presses the power button.
expect '{"cmd":"shutdown"}' '^\{"ok":true\}$'
vmm_wait 60
assert_console "@@ POWERBUTTON"
assert_status 0 "the guest powered off after the control socket's shutdown"
assert_stderr "control socket: pressing the power button"
[ ! -e "$SOCK" ] || fail "the control socket was not removed at exit"
log "ok: the socket is gone after exit"

# ---- Run 2: a guest that keeps time with the TSC; stop -----------------
start run2 "clocksource=tsc tsc=reliable"
if [ "$(console_value CLOCKSOURCE)" = tsc ]; then
    check_pause
else
    log "the guest did not take the TSC as its clocksource: TSC part not checked"
fi
expect '{"cmd":"stop"}' '^\{"ok":true\}$'
vmm_wait 60
assert_status 5 "stopped by the host through the control socket"
assert_stderr "control socket: stopped by the host"
