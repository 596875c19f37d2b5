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
