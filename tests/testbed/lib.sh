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
#   GUEST_TOOLS_DIR  the guest tool archives (NAME.gz: fio, iperf3)
#   BUSYBOX       a busybox binary (for cpio and httpd)
# Optional: CORRAL_BOOT_TIMEOUT (seconds per VMM run, default 120).
#
# Guest scripts (corral.action=script): guest_initrd_with SCRIPT|- [--tools]
# [--tool NAME]... builds an initrd holding SCRIPT as /scenario.sh; boot_guest
# and start_guest use it from then on (BOOT_INITRD). Networks in L1:
# net_bridge, net_tap, net_http_serve, net_iperf3_server, bg_start; all
# removed or stopped at exit. See README.md, "Writing a scenario".
#
# corrald and corral (the corrald-* scenarios): corrald_start runs a corrald
# of the scenario's own (directories and socket under $WORK); domain_file
# writes a domain file for the test guest; corral runs the command line;
# domain_info, wait_domain_state and the domain_console_ helpers look at a
# domain. At exit corrald and every VMM it started are killed.

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
# The initrd that boot_guest and start_guest pass; guest_initrd_with sets it.
BOOT_INITRD=$GUEST_INITRD
GUEST_TOOLS_DIR=${GUEST_TOOLS_DIR:-}
BUSYBOX=${BUSYBOX:-busybox}

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
_LIB_BG_PIDS=
_LIB_NET_LINKS=
_lib_initrd_n=0

_lib_cleanup() {
    # corrald first, so that it restarts no domain, then its VMMs (each in a
    # session of its own: the runner's kill of our process group misses them).
    if [ -n "${CORRALD_PID:-}" ]; then
        kill -s KILL "$CORRALD_PID" 2>/dev/null || :
        wait "$CORRALD_PID" 2>/dev/null || :
    fi
    if [ -n "${CORRALD_DIR:-}" ]; then _lib_kill_domain_vmms; fi
    if [ -n "$VMM_PID" ]; then
        kill -s KILL "$VMM_PID" 2>/dev/null || :
        wait "$VMM_PID" 2>/dev/null || :
    fi
    if [ -n "$VMM_FIFO" ]; then exec 7>&-; fi
    for _lib_p in $_LIB_BG_PIDS; do kill -s TERM "$_lib_p" 2>/dev/null || :; done
    for _lib_p in $_LIB_BG_PIDS; do wait "$_lib_p" 2>/dev/null || :; done
    # Newest first: taps before the bridges they are attached to.
    for _lib_l in $_LIB_NET_LINKS; do ip link del "$_lib_l" 2>/dev/null || :; done
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
    [ -z "${CORRALD_DIR:-}" ] || show_corrald
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
    vmm_start "$_lib_name" --kernel "$GUEST_KERNEL" --initrd "$BOOT_INITRD" \
        --cmdline "$(guest_args_cmdline "$_lib_action")" --console stdio "$@"
    vmm_wait
}

# start_guest NAME ACTION [VMM ARGS...]: boot it in the background.
# start_guest_interactive: the same, with console_send available.
start_guest() {
    _lib_name=$1
    _lib_action=$2
    shift 2
    vmm_start "$_lib_name" --kernel "$GUEST_KERNEL" --initrd "$BOOT_INITRD" \
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

# wait_for_pty: waits until the running VMM names its pty on stderr
# ("console on /dev/pts/N": --console pty or --hvc pty); sets PTY to it.
wait_for_pty() {
    _lib_i=0
    PTY=
    while [ -z "$PTY" ] && [ $_lib_i -lt 100 ]; do
        PTY=$(sed -n 's/.*console on \(\/dev\/pts\/[0-9]*\).*/\1/p' "$(stderr_file)")
        [ -n "$PTY" ] || sleep 0.1
        _lib_i=$((_lib_i + 1))
    done
    [ -n "$PTY" ] || fail "run '$VMM_NAME': the VMM did not say which pty it opened"
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

# ---- Guest scripts ---------------------------------------------------------

# guest_initrd_with SCRIPT|- [--tools] [--tool NAME]...: build an initrd that
# is the standard one plus SCRIPT (a file, or '-' for stdin, e.g. a here
# document) as /scenario.sh, plus the guest tool archives asked for: --tool
# fio, --tool iperf3 (repeatable), --tools (all of them). Sets BOOT_INITRD to
# its path in $WORK, which boot_guest and start_guest then pass as --initrd
# (BOOT_INITRD=$GUEST_INITRD goes back to the standard one); other VMMs
# (QEMU) take "$BOOT_INITRD" too. Boot it with the action "script": the guest
# runs /scenario.sh with busybox sh (it can '. /guest-lib.sh' for report and
# wait_path), its output on the console, then prints "@@ SCRIPT-EXIT <status>"
# and powers off. Skips the scenario if a tool is not available.
# The tools are large (fio: ~33 MB packed, ~85 MB unpacked; iperf3: ~3.5 MB,
# ~8 MB): give such a guest 512M or more.
guest_initrd_with() {
    [ $# -ge 1 ] || fail "usage: guest_initrd_with SCRIPT|- [--tools] [--tool NAME]..."
    _lib_initrd_n=$((_lib_initrd_n + 1))
    _lib_dir=$WORK/initrd.$_lib_initrd_n.d
    mkdir -p "$_lib_dir/root"
    if [ "$1" = - ]; then
        cat >"$_lib_dir/root/scenario.sh"
    else
        cp "$1" "$_lib_dir/root/scenario.sh" || fail "guest_initrd_with: cannot read $1"
    fi
    chmod 0755 "$_lib_dir/root/scenario.sh"
    shift
    _lib_tools=
    while [ $# -gt 0 ]; do
        case $1 in
            --tools)
                if [ -z "$GUEST_TOOLS_DIR" ] || [ ! -d "$GUEST_TOOLS_DIR" ]; then
                    skip "no guest tools (GUEST_TOOLS_DIR='$GUEST_TOOLS_DIR')"
                fi
                for _lib_t in "$GUEST_TOOLS_DIR"/*.gz; do
                    [ -e "$_lib_t" ] || skip "no guest tools in $GUEST_TOOLS_DIR"
                    _lib_tools="$_lib_tools $_lib_t"
                done
                shift ;;
            --tool)
                [ $# -ge 2 ] || fail "guest_initrd_with: --tool needs a NAME"
                _lib_t=$GUEST_TOOLS_DIR/$2.gz
                if [ -z "$GUEST_TOOLS_DIR" ] || [ ! -f "$_lib_t" ]; then
                    skip "guest tool '$2' is not available (not installed on the build host? scripts/setup.sh)"
                fi
                _lib_tools="$_lib_tools $_lib_t"
                shift 2 ;;
            *) fail "guest_initrd_with: unknown argument '$1'" ;;
        esac
    done
    (cd "$_lib_dir/root" && echo scenario.sh | "$BUSYBOX" cpio -o -H newc 2>/dev/null) |
        gzip -n >"$_lib_dir/script.cpio.gz" || fail "guest_initrd_with: cannot pack the script"
    BOOT_INITRD=$WORK/initrd.$_lib_initrd_n.gz
    # shellcheck disable=SC2086 # the tool list is paths without spaces
    cat "$GUEST_INITRD" "$_lib_dir/script.cpio.gz" $_lib_tools >"$BOOT_INITRD" ||
        fail "guest_initrd_with: cannot write $BOOT_INITRD"
    log "guest initrd with the script${_lib_tools:+ and$_lib_tools}: $BOOT_INITRD ($(wc -c <"$BOOT_INITRD") bytes)"
}

# guest_initrd_ticker [INTERVAL]: guest_initrd_with a script that keeps the
# guest alive and visibly running: it prints "@@ READY", then
# "@@ TICK <n> <uptime>" every INTERVAL seconds (default 0.5) forever; the
# ACPI power button makes it print "@@ POWERBUTTON" and power off. Boot it
# with the action "script".
guest_initrd_ticker() {
    sed "s/@INTERVAL@/${1:-0.5}/" >"$WORK/ticker.sh" <<'EOF'
. /guest-lib.sh
watch_power_button || :
report READY
i=0
while :; do
    i=$((i + 1))
    read -r up _ </proc/uptime
    echo "@@ TICK $i $up"
    sleep @INTERVAL@
done
EOF
    guest_initrd_with "$WORK/ticker.sh"
}

# ---- Background programs and networks (inside L1) ------------------------
# Test traffic stays between L1 and its guests: L1 has no network card. On
# a host with VT-x/AMD-V (no L1), the first net_ call re-runs the scenario
# in a network namespace of its own (unshare --net), so call the net_
# helpers before booting any guest.

# bg_start PROGRAM [ARGS...]: run a helper program in the background (output
# to the scenario's log), stopped (SIGTERM) when the scenario exits. Sets
# BG_PID.
bg_start() {
    "$@" &
    BG_PID=$!
    _LIB_BG_PIDS="$_LIB_BG_PIDS $BG_PID"
    log "background: $(_lib_short_args "$@")(pid $BG_PID)"
}

# busybox sh (L1's) runs its own applets before programs on PATH, and
# busybox's ip has no 'ip tuntap': make 'ip' iproute2's, for the helpers
# below and for scenarios.
_LIB_IP=$(command -v ip 2>/dev/null || :)
case $_LIB_IP in /*) ;; *) _LIB_IP=$(which ip 2>/dev/null || :) ;; esac
if [ -n "$_LIB_IP" ]; then
    ip() { "$_LIB_IP" "$@"; }
fi

_lib_net_prepare() {
    [ "${_lib_net_ready:-}" = 1 ] && return 0
    ip -V 2>/dev/null | grep -q iproute2 || skip "the net_ helpers need iproute2's ip (found: '${_LIB_IP:-none}')"
    if [ "${CORRAL_IN_TESTBED:-}" != 1 ] && [ "${CORRAL_NETNS:-}" != 1 ]; then
        [ -z "$VMM_NAME" ] || fail "call the net_ helpers before booting a guest (they may restart the scenario)"
        command -v unshare >/dev/null || skip "network scenarios outside the testbed need unshare (util-linux)"
        log "not in the testbed: re-running this scenario in a network namespace of its own"
        rm -rf "$WORK"
        trap - EXIT
        exec env CORRAL_NETNS=1 unshare --net -- "${CORRAL_SH:-sh}" "$0"
    fi
    ip link set lo up || fail "cannot bring up lo"
    _lib_net_ready=1
}

# net_bridge [NAME [ADDRESS/PREFIX]]: create a bridge (default crlbr0) with
# that address (default 10.0.0.1/24) and bring it up. Sets NET_BRIDGE (its
# name; net_tap's default) and NET_HOST_IP (the address without the
# prefix). Deleted at exit.
net_bridge() {
    _lib_net_prepare
    NET_BRIDGE=${1:-crlbr0}
    _lib_addr=${2:-10.0.0.1/24}
    # shellcheck disable=SC2034 # for scenarios
    NET_HOST_IP=${_lib_addr%/*}
    # A leftover of a scenario that was killed before its cleanup ran.
    ip link del "$NET_BRIDGE" 2>/dev/null || :
    ip link add name "$NET_BRIDGE" type bridge || fail "cannot create bridge $NET_BRIDGE"
    _LIB_NET_LINKS="$NET_BRIDGE $_LIB_NET_LINKS"
    ip addr add "$_lib_addr" dev "$NET_BRIDGE" || fail "cannot give $NET_BRIDGE the address $_lib_addr"
    ip link set "$NET_BRIDGE" up || fail "cannot bring up $NET_BRIDGE"
    log "bridge $NET_BRIDGE with $_lib_addr"
}

# net_tap NAME [BRIDGE] [TUNTAP OPTIONS...]: create a persistent tap device
# NAME (ip tuntap add mode tap vnet_hdr, plus e.g. multi_queue), attach it to
# BRIDGE (default: the last net_bridge; '' for none) and bring it up. A VMM
# opens it by name (TUNSETIFF with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR); QEMU:
# -netdev tap,ifname=NAME,script=no,downscript=no. Deleted at exit.
net_tap() {
    _lib_net_prepare
    _lib_tap=$1
    _lib_br=${2-${NET_BRIDGE:-}}
    [ $# -lt 2 ] || shift
    shift
    ip link del "$_lib_tap" 2>/dev/null || :
    ip tuntap add dev "$_lib_tap" mode tap vnet_hdr "$@" || fail "cannot create tap $_lib_tap"
    _LIB_NET_LINKS="$_lib_tap $_LIB_NET_LINKS"
    if [ -n "$_lib_br" ]; then
        ip link set "$_lib_tap" master "$_lib_br" || fail "cannot attach $_lib_tap to $_lib_br"
    fi
    ip link set "$_lib_tap" up || fail "cannot bring up $_lib_tap"
    log "tap $_lib_tap${_lib_br:+ on $_lib_br}"
}

# net_http_serve DIR [PORT]: serve DIR's files over HTTP (busybox httpd) on
# PORT (default 8080) of every address L1 has (the bridges' addresses:
# L1 has no other network), until the scenario exits. The guest gets them
# with busybox wget: wget -O FILE http://10.0.0.1:8080/NAME.
net_http_serve() {
    _lib_net_prepare
    bg_start "$BUSYBOX" httpd -f -p "${2:-8080}" -h "$1"
    sleep 0.3
    kill -0 "$BG_PID" 2>/dev/null || fail "httpd did not start (port ${2:-8080} taken?)"
}

# net_iperf3_server [PORT]: an iperf3 server on PORT (default 5201) of every
# address L1 has, until the scenario exits; the guest runs iperf3 -c
# 10.0.0.1 (--tool iperf3).
net_iperf3_server() {
    _lib_net_prepare
    command -v iperf3 >/dev/null || skip "no iperf3 here"
    bg_start iperf3 -s -p "${1:-5201}"
    sleep 0.3
    kill -0 "$BG_PID" 2>/dev/null || fail "iperf3 server did not start"
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

# ---- corrald and corral ----------------------------------------------------
# A scenario starts its own corrald (corrald_start): state, run and log
# directories and the API socket under $CORRALD_DIR ($WORK/corrald), the VMM
# $CORRAL_VMM, --verbose, its output in $CORRALD_DIR/corrald.log. corral
# finds it through CORRAL_SOCKET. Domain files come from domain_file. At exit
# corrald is killed, then every corral-vmm whose command line names
# $CORRALD_DIR (VMMs run in sessions of their own and outlive corrald).
#
#   corrald_start [ARGS...]      start it (again), wait until it answers
#   corrald_kill [SIG]           signal it (default KILL) and reap it
#   corrald_stop                 SIGTERM; it must exit 0; logs checked
#   corrald_check_logs           fail on a sanitizer report in corrald's or
#                                the VMMs' logs
#   corral ARGS...               the command line (function)
#   corral_run ARGS...           run it: CORRAL_STATUS, $WORK/corral.out/.err
#   corral_ok ARGS...            the same, failing unless status 0
#   domain_file NAME ACTION [LINE...]   $WORK/NAME.cfg (sets DOMAIN_FILE)
#   domain_info NAME             DOM_STATE (or "absent"), DOM_ID, DOM_PID,
#                                DOM_MEMORY, DOM_VCPUS, DOM_TIME
#   wait_domain_state NAME STATE [SECS]   STATE: running, shutoff, ... absent
#   wait_domain_restart NAME OLD_PID [SECS]   running again as another VMM
#   domain_vmm_log NAME          the VMM's log (its stderr)
#   domain_console_file NAME     the console log corrald keeps
#   wait_domain_console NAME TEXT [SECS] [COUNT]   TEXT on COUNT lines
#   domain_console_has NAME TEXT, domain_console_count NAME TEXT,
#   domain_console_value NAME KEY, domain_console_values NAME KEY
#   domain_last_tick NAME, wait_domain_ticks NAME N [SECS]  (the ticker guest)
#   pid_alive PID                the process exists and is not a zombie
#   console_client_start TAG FD ARGS..., console_client_send FD TEXT,
#   console_client_has TAG TEXT, wait_console_client TAG TEXT [SECS],
#   wait_client_exit PID [SECS]  corral console (or create -c) in the
#                                background, typed into through a FIFO

CORRALD=${CORRAL_BIN:-}/corrald
CORRAL_CLI=${CORRAL_BIN:-}/corral
CORRALD_PID=
CORRALD_DIR=
CORRALD_STATUS=
_LIB_SANITIZER_RE='ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:'

corral() { "$CORRAL_CLI" "$@"; }

# corrald_start [ARGS...]: start corrald (or a new one on the same
# directories, after corrald_kill) with ARGS added; waits until it answers
# `corral list`. Sets CORRALD_PID, CORRALD_DIR, CORRAL_SOCKET (exported).
corrald_start() {
    [ -x "$CORRALD" ] || fail "corrald not found at $CORRALD: build first"
    [ -x "$CORRAL_CLI" ] || fail "corral not found at $CORRAL_CLI: build first"
    CORRALD_DIR=$WORK/corrald
    mkdir -p "$CORRALD_DIR"
    CORRAL_SOCKET=$CORRALD_DIR/corral.sock
    export CORRAL_SOCKET
    log "starting corrald${1:+ with $(_lib_short_args "$@")}"
    echo "---- corrald started $(date +%T) ----" >>"$CORRALD_DIR/corrald.log"
    "$CORRALD" --socket "$CORRAL_SOCKET" --state-dir "$CORRALD_DIR/state" \
        --run-dir "$CORRALD_DIR/run" --log-dir "$CORRALD_DIR/log" \
        --vmm "$CORRAL_VMM" --verbose "$@" </dev/null >>"$CORRALD_DIR/corrald.log" 2>&1 &
    CORRALD_PID=$!
    CORRALD_STATUS=
    _lib_i=0
    until corral list >/dev/null 2>&1; do
        if ! kill -0 "$CORRALD_PID" 2>/dev/null; then
            CORRALD_STATUS=0
            wait "$CORRALD_PID" || CORRALD_STATUS=$?
            CORRALD_PID=
            fail "corrald exited (status $CORRALD_STATUS) before it answered"
        fi
        _lib_i=$((_lib_i + 1))
        [ $_lib_i -lt 300 ] || fail "corrald did not answer on $CORRAL_SOCKET within 30s"
        sleep 0.1
    done
    log "corrald is up (pid $CORRALD_PID)"
}

# corrald_kill [SIG]: send SIG (default KILL) to corrald and reap it; sets
# CORRALD_STATUS. Its VMMs go on running.
corrald_kill() {
    [ -n "$CORRALD_PID" ] || fail "corrald_kill: corrald is not running"
    log "sending SIG${1:-KILL} to corrald (pid $CORRALD_PID)"
    kill -s "${1:-KILL}" "$CORRALD_PID" || fail "cannot signal corrald"
    CORRALD_STATUS=0
    wait "$CORRALD_PID" || CORRALD_STATUS=$?
    CORRALD_PID=
    log "corrald exited with status $CORRALD_STATUS"
}

# corrald_stop: SIGTERM; corrald must exit with status 0 within 30 s, with
# no sanitizer report (a leak check runs at its exit in ASan builds).
corrald_stop() {
    [ -n "$CORRALD_PID" ] || fail "corrald_stop: corrald is not running"
    log "stopping corrald (SIGTERM)"
    kill -s TERM "$CORRALD_PID"
    _lib_i=0
    while kill -0 "$CORRALD_PID" 2>/dev/null; do
        _lib_i=$((_lib_i + 1))
        [ $_lib_i -lt 300 ] || fail "corrald did not exit within 30s of SIGTERM"
        sleep 0.1
    done
    CORRALD_STATUS=0
    wait "$CORRALD_PID" || CORRALD_STATUS=$?
    CORRALD_PID=
    corrald_check_logs
    [ "$CORRALD_STATUS" = 0 ] || fail "corrald exited with status $CORRALD_STATUS after SIGTERM"
    log "ok: corrald stopped with status 0"
}

# corrald_check_logs: fail on a sanitizer report from corrald or a VMM.
corrald_check_logs() {
    for _lib_f in "$CORRALD_DIR/corrald.log" "$CORRALD_DIR"/log/*.log; do
        [ -f "$_lib_f" ] || continue
        if grep -qE "$_LIB_SANITIZER_RE" "$_lib_f"; then
            fail "sanitizer report in $_lib_f"
        fi
    done
}

# corral_run ARGS...: run corral; stdout in $WORK/corral.out, stderr in
# $WORK/corral.err (both also logged), status in CORRAL_STATUS. It is
# stopped after CORRAL_CMD_TIMEOUT seconds (default 120: shutdown -w waits).
corral_run() {
    CORRAL_STATUS=0
    timeout "${CORRAL_CMD_TIMEOUT:-120}" "$CORRAL_CLI" "$@" >"$WORK/corral.out" \
        2>"$WORK/corral.err" || CORRAL_STATUS=$?
    log "corral $(_lib_short_args "$@")-> status $CORRAL_STATUS"
    case $CORRAL_STATUS in
        124 | 143) log "(corral $1 did not finish within ${CORRAL_CMD_TIMEOUT:-120}s)" ;;
    esac
    sed 's/^/#   out: /' "$WORK/corral.out" | head -n 40
    sed 's/^/#   err: /' "$WORK/corral.err" | head -n 40
    if grep -qE "$_LIB_SANITIZER_RE" "$WORK/corral.err"; then
        fail "sanitizer report from corral $*"
    fi
}

# corral_ok ARGS...: corral_run, and fail unless the status is 0.
corral_ok() {
    corral_run "$@"
    [ "$CORRAL_STATUS" = 0 ] ||
        fail "corral $*: status $CORRAL_STATUS: $(head -c 2000 "$WORK/corral.err")"
}

# domain_file NAME ACTION [LINE...]: write $WORK/NAME.cfg, a domain file for
# the test guest: kernel $GUEST_KERNEL, ramdisk $BOOT_INITRD (guest_initrd_with
# sets it), extra the guest's command line with corral.action=ACTION, 256
# MiB, 1 vCPU; then each LINE (xl.cfg statements; a later key wins). Sets
# DOMAIN_FILE to its path.
domain_file() {
    [ $# -ge 2 ] || fail "usage: domain_file NAME ACTION [LINE...]"
    DOMAIN_FILE=$WORK/$1.cfg
    {
        echo "# the test guest, written by lib.sh's domain_file"
        echo "name = \"$1\""
        echo "kernel = \"$GUEST_KERNEL\""
        echo "ramdisk = \"$BOOT_INITRD\""
        echo "extra = \"$(guest_args_cmdline "$2")\""
        echo "memory = 256"
        echo "vcpus = 1"
        shift 2
        for _lib_l in "$@"; do echo "$_lib_l"; done
    } >"$DOMAIN_FILE"
}

# domain_info NAME: the domain's top-level fields from `corral list -l NAME`:
# DOM_STATE (running, paused, shutting-down, shutoff, crashed; "absent" if
# there is no such domain), DOM_ID, DOM_PID, DOM_MEMORY, DOM_VCPUS, DOM_TIME,
# DOM_NAME. Fails if corrald does not answer.
domain_info() {
    # shellcheck disable=SC2034 # for scenarios
    DOM_STATE='' DOM_ID='' DOM_PID='' DOM_MEMORY='' DOM_VCPUS='' DOM_TIME='' DOM_NAME=
    if ! corral list -l "$1" >"$WORK/domain_info.json" 2>"$WORK/domain_info.err"; then
        if grep -q "no domain" "$WORK/domain_info.err"; then
            DOM_STATE=absent
            return 0
        fi
        fail "corral list -l $1: $(cat "$WORK/domain_info.err")"
    fi
    # corral prints the array with two spaces per level: a domain's own
    # fields are the lines indented by exactly four ("config" is deeper).
    eval "$(awk '/^    "[a-z_]+": [^{[ ]/ && !/^     / {
            k = $1; gsub(/[":]/, "", k); v = $2; sub(/,$/, "", v); gsub(/"/, "", v)
            if (k ~ /^(name|id|state|memory|vcpus|pid|time)$/ && v ~ /^[A-Za-z0-9_.-]*$/)
                printf "DOM_%s=%s\n", toupper(k), v
        }' "$WORK/domain_info.json")"
    [ -n "$DOM_STATE" ] || fail "corral list -l $1: no state in $(cat "$WORK/domain_info.json")"
}

# wait_domain_state NAME STATE [SECONDS]: wait (default BOOT_TIMEOUT) until
# the domain is in STATE ("absent": no such domain); domain_info's DOM_*
# describe it then.
wait_domain_state() {
    _lib_deadline=$(($(date +%s) + ${3:-$BOOT_TIMEOUT}))
    while :; do
        domain_info "$1"
        [ "$DOM_STATE" != "$2" ] || break
        [ "$(date +%s)" -lt "$_lib_deadline" ] ||
            fail "domain $1: not $2 within ${3:-$BOOT_TIMEOUT}s (it is $DOM_STATE)"
        sleep 0.5
    done
    log "domain $1 is $2${DOM_ID:+ (id $DOM_ID, pid $DOM_PID)}"
}

# wait_domain_restart NAME OLD_PID [SECONDS]: wait until the domain runs
# with a VMM other than OLD_PID.
wait_domain_restart() {
    _lib_deadline=$(($(date +%s) + ${3:-$BOOT_TIMEOUT}))
    while :; do
        domain_info "$1"
        if [ "$DOM_STATE" = running ] && [ "$DOM_PID" != "$2" ] && [ "${DOM_PID:-0}" != 0 ]; then
            break
        fi
        [ "$(date +%s)" -lt "$_lib_deadline" ] ||
            fail "domain $1: not running again as a new VMM within ${3:-$BOOT_TIMEOUT}s (state $DOM_STATE, pid $DOM_PID)"
        sleep 0.5
    done
    log "domain $1 runs again: id $DOM_ID, pid $DOM_PID (was $2)"
}

# pid_alive PID: the process exists and has not exited (a zombie has).
pid_alive() {
    [ -n "$1" ] && [ "$1" != 0 ] && [ -e "/proc/$1/status" ] &&
        ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

domain_vmm_log() { echo "$CORRALD_DIR/log/$1.log"; }

# domain_console_file NAME: the guest console log corrald keeps for NAME
# (LOG_DIR/console/NAME.log; docs/corrald.md).
domain_console_file() { echo "$CORRALD_DIR/log/console/$1.log"; }

domain_console_has() { grep -qF -- "$2" "$(domain_console_file "$1")" 2>/dev/null; }
domain_console_count() { tr -d '\r' <"$(domain_console_file "$1")" 2>/dev/null | grep -cF -- "$2" || :; }
domain_console_value() {
    tr -d '\r' <"$(domain_console_file "$1")" 2>/dev/null | sed -n "s/.*@@ $2 //p" | head -n 1
}
domain_console_values() {
    tr -d '\r' <"$(domain_console_file "$1")" 2>/dev/null | sed -n "s/.*@@ $2 //p"
}

# domain_last_tick NAME: the highest n of "@@ TICK n ..." on its console (0).
domain_last_tick() {
    domain_console_values "$1" TICK | awk '{ if ($1 + 0 > m) m = $1 + 0 } END { print m + 0 }'
}

# wait_domain_ticks NAME N [SECONDS]: wait until the guest (guest_initrd_ticker)
# has ticked N more times than it had when called.
wait_domain_ticks() {
    wait_domain_console "$1" "@@ TICK $(($(domain_last_tick "$1") + $2)) " "${3:-60}"
}

# wait_domain_console NAME TEXT [SECONDS [COUNT]]: wait (default
# BOOT_TIMEOUT) until the domain's console log has TEXT on COUNT lines
# (default 1).
wait_domain_console() {
    _lib_deadline=$(($(date +%s) + ${3:-$BOOT_TIMEOUT}))
    while [ "$(domain_console_count "$1" "$2")" -lt "${4:-1}" ]; do
        [ "$(date +%s)" -lt "$_lib_deadline" ] ||
            fail "domain $1: its console did not show '$2'${4:+ $4 times} within ${3:-$BOOT_TIMEOUT}s"
        sleep 0.3
    done
    log "domain $1: console shows '$2'${4:+ ($4 times)}"
}

# show_corrald: for failures: the domains, corrald's log, each VMM's log and
# the end of each console log.
show_corrald() {
    if [ -n "$CORRALD_PID" ]; then
        echo "---- corral list ----"
        corral list 2>&1 | head -n 40
    fi
    echo "---- corrald's log (last 60 lines) ----"
    tail -n 60 "$CORRALD_DIR/corrald.log" 2>/dev/null
    for _lib_f in "$CORRALD_DIR"/log/* "$CORRALD_DIR"/log/console/*; do
        [ -f "$_lib_f" ] || continue
        echo "---- ${_lib_f#"$CORRALD_DIR"/} (last 40 lines) ----"
        tr -d '\r' <"$_lib_f" | tail -n 40
    done
    echo "---- the VMMs' threads: name, state, CPU time (user+system, clock ticks), wchan, syscall ----"
    for _lib_p in $(_lib_domain_vmm_pids); do
        for _lib_t in /proc/"$_lib_p"/task/*; do
            # comm may hold spaces: take the fields after its closing ')'.
            { printf '%s/%s: %s wchan=%s syscall=%s\n' "$_lib_p" "${_lib_t##*/}" \
                "$(sed 's/^[0-9]* (\(.*\)) \(.*\)$/\1 \2/' "$_lib_t/stat" |
                    awk '{ printf "%s %s %d", $1, $2, $13 + $14 }')" \
                "$(cat "$_lib_t/wchan")" "$(cut -d' ' -f1 "$_lib_t/syscall")"
              case $(cat "$_lib_t/comm") in
                  vcpu*) sed 's/^/    /' "$_lib_t/stack" | head -n 12 ;;
              esac; } 2>/dev/null
        done
    done
    echo "---- end of corrald's files ----"
}

# The pids of the $CORRAL_VMM processes whose command line names $CORRALD_DIR.
_lib_domain_vmm_pids() {
    _lib_exe=$(readlink -f "$CORRAL_VMM")
    for _lib_d in /proc/[0-9]*; do
        [ "$(readlink "$_lib_d/exe" 2>/dev/null)" = "$_lib_exe" ] || continue
        _lib_c=$({ tr '\0' ' ' <"$_lib_d/cmdline"; } 2>/dev/null) || continue
        case $_lib_c in *"$CORRALD_DIR/"*) echo "${_lib_d#/proc/}" ;; esac
    done
}

# ---- Console clients (corral console, create -c) ---------------------------
# console_client_start TAG FD ARGS...: run `corral ARGS` (console NAME,
# create -c FILE, ...) in the background with its stdin from a FIFO that
# this shell holds open on descriptor FD (3 to 6; one per client), stdout in
# $WORK/TAG.out, stderr in $WORK/TAG.err. Sets CLIENT_PID; stopped at exit.
console_client_start() {
    _lib_tag=$1 _lib_fd=$2
    shift 2
    rm -f "$WORK/$_lib_tag.in"
    mkfifo "$WORK/$_lib_tag.in"
    eval "exec $_lib_fd<>\"\$WORK/\$_lib_tag.in\""
    log "console client $_lib_tag: corral $(_lib_short_args "$@")"
    "$CORRAL_CLI" "$@" <"$WORK/$_lib_tag.in" >"$WORK/$_lib_tag.out" 2>"$WORK/$_lib_tag.err" \
        3>&- 4>&- 5>&- 6>&- &
    CLIENT_PID=$!
    _LIB_BG_PIDS="$_LIB_BG_PIDS $CLIENT_PID"
}

# console_client_send FD TEXT: type TEXT and a newline into that client.
console_client_send() {
    log "typing into console client on fd $1: $2"
    printf '%s\n' "$2" >&"$1"
}

# console_client_has TAG TEXT: the client's output shows TEXT.
console_client_has() { tr -d '\r' <"$WORK/$1.out" | grep -qF -- "$2"; }

# wait_console_client TAG TEXT [SECONDS]: wait until the client shows TEXT.
wait_console_client() {
    _lib_deadline=$(($(date +%s) + ${3:-$BOOT_TIMEOUT}))
    until console_client_has "$1" "$2"; do
        [ "$(date +%s)" -lt "$_lib_deadline" ] ||
            fail "console client $1 did not show '$2' within ${3:-$BOOT_TIMEOUT}s (its stderr: $(cat "$WORK/$1.err"))"
        sleep 0.3
    done
    log "console client $1 shows '$2'"
}

# wait_client_exit PID [SECONDS]: wait until the client exits; its status in
# CLIENT_STATUS; fails if it runs on.
wait_client_exit() {
    _lib_deadline=$(($(date +%s) + ${2:-30}))
    while kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; do
        [ "$(date +%s)" -lt "$_lib_deadline" ] || fail "console client $1 still runs after ${2:-30}s"
        sleep 0.2
    done
    CLIENT_STATUS=0
    # shellcheck disable=SC2034 # for scenarios
    wait "$1" || CLIENT_STATUS=$?
}

# Kills every corral-vmm whose command line names $CORRALD_DIR (they were
# corrald's children, or re-parented after it died), and waits for them.
_lib_kill_domain_vmms() {
    _lib_pids=$(_lib_domain_vmm_pids)
    for _lib_p in $_lib_pids; do kill -s KILL "$_lib_p" 2>/dev/null || :; done
    for _lib_p in $_lib_pids; do
        _lib_i=0
        while pid_alive "$_lib_p" && [ $_lib_i -lt 50 ]; do
            sleep 0.1
            _lib_i=$((_lib_i + 1))
        done
    done
}
