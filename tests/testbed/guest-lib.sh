# shellcheck shell=sh
# /guest-lib.sh in the test guest's initramfs: helpers for the scripts that
# scenarios run in the guest (corral.action=script runs /scenario.sh).
# Use:  . /guest-lib.sh
# busybox sh; the scenario on the host reads "@@ KEY value" lines from the
# console with console_value/console_values.

# report KEY [VALUE...]: print "@@ KEY VALUE..." on the console.
report() {
    _gl_key=$1
    shift
    echo "@@ $_gl_key $*"
}

# wait_path PATH [SECONDS]: wait until PATH exists (a device node that a
# driver creates after probing, e.g. /dev/vda, /dev/hvc0, /sys/class/net/eth0),
# at most SECONDS (default 10). Returns 1 on timeout, after printing
# "@@ TIMEOUT PATH".
wait_path() {
    _gl_n=$((${2:-10} * 10))
    while [ ! -e "$1" ]; do
        if [ "$_gl_n" -le 0 ]; then
            echo "@@ TIMEOUT $1"
            return 1
        fi
        _gl_n=$((_gl_n - 1))
        sleep 0.1
    done
}

# watch_power_button [TRIES]: in the background, powers the guest off when
# its ACPI power button is pressed, after "@@ POWERBUTTON". The device is
# open before this returns, so no press is missed. Returns 1 after "@@
# NO-POWER-BUTTON" if no input device named "Power Button" appears within
# TRIES half-seconds (default 20).
watch_power_button() {
    _gl_dev=
    _gl_n=${1:-20}
    while [ "$_gl_n" -gt 0 ]; do
        for _gl_d in /sys/class/input/event*; do
            [ "$(cat "$_gl_d/device/name" 2>/dev/null)" = "Power Button" ] &&
                _gl_dev=/dev/input/${_gl_d##*/}
        done
        [ -n "$_gl_dev" ] && break
        _gl_n=$((_gl_n - 1))
        sleep 0.5
    done
    if [ -z "$_gl_dev" ]; then
        report NO-POWER-BUTTON
        return 1
    fi
    exec 3<"$_gl_dev"
    # One struct input_event is 24 bytes on x86_64; a press sends several.
    (dd bs=24 count=1 <&3 >/dev/null 2>&1; report POWERBUTTON; poweroff -f) &
}
