# shellcheck shell=sh
# Helpers for testbed scenarios (tests/scenarios/*.sh). POSIX sh: scenarios
# run under busybox ash inside L1 and under bash/dash on a capable host.
#
# A scenario starts with
#     . "$TESTBED/lib.sh"
# and then, typically:
#     boot_guest run1 poweroff --vcpus 1 --memory 256M   # boots, waits for exit
#     assert_status 0
#     assert_eq "online CPUs" 1 "$(console_value CPUS)"
# Exit status of a scenario: 0 pass, 77 skip, anything else fail. Everything
# it prints is shown when it fails, including the last guest console.
#
# Set by the runner (run-scenarios.sh, from /corral/env in L1 or by run.sh):
#   CORRAL_VMM    the corral-vmm binary     GUEST_KERNEL  the guest bzImage
#   GUEST_INITRD  the guest initramfs       TESTBED       this directory
#   CORRAL_BIN    directory of corral's binaries
# Optional: CORRAL_BOOT_TIMEOUT (seconds per VMM run, default 120).

: "${CORRAL_VMM:?CORRAL_VMM is not set (run scenarios through tests/testbed/run.sh)}"
: "${GUEST_KERNEL:?GUEST_KERNEL is not set}"
: "${GUEST_INITRD:?GUEST_INITRD is not set}"

BOOT_TIMEOUT=${CORRAL_BOOT_TIMEOUT:-120}
# The guest command line before corral.action=. panic=-1: a panic that
# pvpanic does not report (one before the module loads, or a broken pvpanic)
# turns into an immediate reboot (exit status 2), a fast and visible failure,
# instead of a guest that hangs until the time limit. The panic-status
# scenario still requires status 3, which only pvpanic can produce: the
# kernel runs the panic notifiers (pvpanic) before it acts on panic=.
GUEST_CMDLINE=${CORRAL_GUEST_CMDLINE:-console=ttyS0 panic=-1}

# Sanitizer builds: make a report fail the run with a distinctive status
# instead of status 1, which the bad-input cases expect.
ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=86:abort_on_error=0:detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-exitcode=86:halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS UBSAN_OPTIONS

WORK=$(mktemp -d "${TMPDIR:-/tmp}/corral-scenario.XXXXXX")
VMM_PID=
VMM_NAME=
VMM_STATUS=
VMM_SECONDS=
VMM_FIFO=

_lib_cleanup() {
    if [ -n "$VMM_PID" ]; then kill -s KILL "$VMM_PID" 2>/dev/null || :; fi
    if [ -n "$VMM_FIFO" ]; then exec 7>&-; fi
    rm -rf "$WORK"
}
trap _lib_cleanup EXIT
# The runner sends SIGTERM to the scenario's process group when its time is up.
trap 'trap - TERM; fail "interrupted (the scenario ran out of time?)"' INT TERM HUP

log() { echo "# $*"; }

skip() {
    echo "SKIP: $*"
    exit 77
}

# fail MESSAGE: print it, then the last VMM run's console and stderr; exit 1.
fail() {
    echo "FAIL: $*"
    show_last_run
    exit 1
}

show_last_run() {
    [ -n "$VMM_NAME" ] || return 0
    echo "---- guest console of run '$VMM_NAME' (VMM stdout) ----"
    tr -d '\r' <"$WORK/$VMM_NAME.out" 2>/dev/null | tail -n 200
    echo "---- VMM stderr of run '$VMM_NAME' ----"
    tail -n 100 "$WORK/$VMM_NAME.err" 2>/dev/null
    echo "---- end of run '$VMM_NAME' (status ${VMM_STATUS:-still running}) ----"
}

# Files of the current (last started) run.
console_file() { echo "$WORK/$VMM_NAME.out"; }
stderr_file() { echo "$WORK/$VMM_NAME.err"; }

# vmm_start NAME [ARGS...]: start corral-vmm in the background, console
# (stdout) to $WORK/NAME.out, stderr to $WORK/NAME.err, stdin from
# /dev/null, or from a FIFO if vmm_start_interactive was used.
vmm_start() {
    [ -x "$CORRAL_VMM" ] || fail "corral-vmm not found at $CORRAL_VMM: build first"
    _lib_name=$1
    shift
    cmd_start "$_lib_name" "$CORRAL_VMM" "$@"
}

# cmd_start NAME PROGRAM [ARGS...]: the same for any program (e.g. QEMU);
# vmm_wait and the console helpers then apply to it.
cmd_start() {
    VMM_NAME=$1
    shift
    VMM_STATUS=
    VMM_SECONDS=
    log "run '$VMM_NAME': $(_lib_short_args "$@")"
    _lib_t0=$(date +%s)
    if [ -n "$VMM_FIFO" ]; then
        # 7>&-: the VMM must not hold a writer of its own stdin.
        "$@" <"$VMM_FIFO" >"$WORK/$VMM_NAME.out" 2>"$WORK/$VMM_NAME.err" 7>&- &
    else
        "$@" </dev/null >"$WORK/$VMM_NAME.out" 2>"$WORK/$VMM_NAME.err" &
    fi
    VMM_PID=$!
}

# vmm_start_interactive NAME [ARGS...]: like vmm_start, with stdin from a FIFO
# that console_send writes to. Keeps fd 7 open as the FIFO's writer.
vmm_start_interactive() {
    _lib_open_fifo
    vmm_start "$@"
}
_lib_open_fifo() {
    VMM_FIFO=$WORK/console.in
    rm -f "$VMM_FIFO"
    mkfifo "$VMM_FIFO"
    # Read-write open of a FIFO does not block (Linux), and keeps a writer,
    # so the VMM sees no end of file until vmm_wait closes fd 7.
    exec 7<>"$VMM_FIFO"
}

# vmm_signal SIG: send SIG (e.g. TERM) to the running VMM.
vmm_signal() {
    [ -n "$VMM_PID" ] || fail "vmm_signal: no VMM running"
    log "sending SIG$1 to the VMM"
    kill -s "$1" "$VMM_PID"
}

# console_send TEXT: type TEXT and a newline into the guest's console.
console_send() {
    [ -n "$VMM_FIFO" ] || fail "console_send needs vmm_start_interactive"
    log "typing into the console: $1"
    printf '%s\n' "$1" >&7
}

# vmm_wait [SECONDS]: wait for the VMM to exit, at most SECONDS (default
# BOOT_TIMEOUT); kill it and fail when the time is up. Sets VMM_STATUS and
# VMM_SECONDS; fails on a sanitizer report on its stderr.
# shellcheck disable=SC2120 # the argument is optional
vmm_wait() {
    _lib_limit=${1:-$BOOT_TIMEOUT}
    _lib_deadline=$(($(date +%s) + _lib_limit))
    while kill -0 "$VMM_PID" 2>/dev/null; do
        if [ "$(date +%s)" -ge "$_lib_deadline" ]; then
            kill -s KILL "$VMM_PID" 2>/dev/null || :
            wait "$VMM_PID" 2>/dev/null || :
            VMM_PID=
            VMM_STATUS=timeout
            fail "run '$VMM_NAME': the VMM did not exit within ${_lib_limit}s (killed)"
        fi
        sleep 0.2
    done
    VMM_STATUS=0
    wait "$VMM_PID" || VMM_STATUS=$?
    VMM_PID=
    VMM_SECONDS=$(($(date +%s) - _lib_t0))
    if [ -n "$VMM_FIFO" ]; then
        exec 7>&-
        VMM_FIFO=
    fi
    log "run '$VMM_NAME': exit status $VMM_STATUS after ${VMM_SECONDS}s"
    if grep -qE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' "$WORK/$VMM_NAME.err"; then
        fail "run '$VMM_NAME': sanitizer report on the VMM's stderr"
    fi
}

# vmm_run NAME [ARGS...]: vmm_start, then vmm_wait.
vmm_run() {
    vmm_start "$@"
    vmm_wait
}

# guest_args_cmdline ACTION: the test guest's kernel command line.
guest_args_cmdline() { echo "$GUEST_CMDLINE corral.action=$1"; }

# boot_guest NAME ACTION [VMM ARGS...]: boot the test guest and wait for exit.
boot_guest() {
    _lib_name=$1
    _lib_action=$2
    shift 2
    vmm_start "$_lib_name" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
        --cmdline "$(guest_args_cmdline "$_lib_action")" --console stdio "$@"
    vmm_wait
}

# start_guest NAME ACTION [VMM ARGS...]: boot it in the background.
# start_guest_interactive: the same, with console_send available.
start_guest() {
    _lib_name=$1
    _lib_action=$2
    shift 2
    vmm_start "$_lib_name" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
        --cmdline "$(guest_args_cmdline "$_lib_action")" --console stdio "$@"
}
start_guest_interactive() {
    _lib_open_fifo
    start_guest "$@"
}

# wait_for_console TEXT [SECONDS]: wait until the running guest's console
# shows TEXT (a fixed string); fail if the VMM exits first or time runs out.
wait_for_console() {
    _lib_limit=${2:-$BOOT_TIMEOUT}
    _lib_deadline=$(($(date +%s) + _lib_limit))
    while ! grep -qF -- "$1" "$WORK/$VMM_NAME.out" 2>/dev/null; do
        if [ -z "$VMM_PID" ] || ! kill -0 "$VMM_PID" 2>/dev/null; then
            # One last look: the line may have come just before the exit.
            grep -qF -- "$1" "$WORK/$VMM_NAME.out" 2>/dev/null && return 0
            VMM_STATUS=0
            if [ -n "$VMM_PID" ]; then wait "$VMM_PID" || VMM_STATUS=$?; fi
            VMM_PID=
            fail "run '$VMM_NAME': the VMM exited (status $VMM_STATUS) before the console showed '$1'"
        fi
        if [ "$(date +%s)" -ge "$_lib_deadline" ]; then
            fail "run '$VMM_NAME': console did not show '$1' within ${_lib_limit}s"
        fi
        sleep 0.2
    done
    log "console shows '$1'"
}

# console_value KEY: the rest of the first "@@ KEY ..." line of the last run.
console_value() {
    tr -d '\r' <"$WORK/$VMM_NAME.out" | sed -n "s/.*@@ $1 //p" | head -n 1
}

# console_values KEY: the rest of every "@@ KEY ..." line, one per line.
console_values() {
    tr -d '\r' <"$WORK/$VMM_NAME.out" | sed -n "s/.*@@ $1 //p"
}

# console_has TEXT: true if the last run's console shows TEXT (fixed string).
console_has() { grep -qF -- "$1" "$WORK/$VMM_NAME.out"; }

assert_status() {
    [ "$VMM_STATUS" = "$1" ] ||
        fail "run '$VMM_NAME': VMM exit status: expected $1${2:+ ($2)}, got $VMM_STATUS"
    log "ok: exit status $1${2:+ ($2)}"
}

assert_console() {
    console_has "$1" || fail "run '$VMM_NAME': expected '$1' on the guest console, not found"
    log "ok: console shows '$1'"
}

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
    [ "$2" = "$3" ] || fail "$1: expected '$2', found '$3'"
    log "ok: $1 = $3"
}

# assert_range WHAT LOW HIGH ACTUAL: integers, LOW <= ACTUAL <= HIGH.
assert_range() {
    case $4 in
        '' | *[!0-9]*) fail "$1: expected a number in [$2, $3], found '$4'" ;;
    esac
    if [ "$4" -lt "$2" ] || [ "$4" -gt "$3" ]; then
        fail "$1: expected within [$2, $3], found $4"
    fi
    log "ok: $1 = $4 (within [$2, $3])"
}

# assert_stderr REGEX [WHAT]: the last run's stderr matches the extended
# regular expression REGEX, case-insensitively.
assert_stderr() {
    grep -qiE -- "$1" "$WORK/$VMM_NAME.err" ||
        fail "run '$VMM_NAME': expected stderr to match /$1/i${2:+ ($2)}"
    log "ok: stderr matches /$1/i"
}

# The VMM's arguments for the log, with very long ones abbreviated.
_lib_short_args() {
    for _lib_a in "$@"; do
        if [ ${#_lib_a} -gt 120 ]; then
            printf "'%.40s...(%d chars)' " "$_lib_a" "${#_lib_a}"
        else
            printf "'%s' " "$_lib_a"
        fi
    done
}
