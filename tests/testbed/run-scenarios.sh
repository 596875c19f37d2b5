#!/bin/sh
# Run testbed scenarios and report each on stdout as machine-readable lines:
#   @@@ BEGIN <name>
#   @@@ RESULT <name> PASS|FAIL|SKIP <seconds>s [reason]
#   @@@ LOG-BEGIN <name> ... @@@ LOG-END <name>   (the scenario's output; on
#       FAIL and SKIP, and always with CORRAL_SHOW_LOGS=1)
#   @@@ DONE passed=N failed=N skipped=N
# Used by l1-init.sh inside the testbed (busybox sh) and by run.sh directly on
# a host with VT-x/AMD-V. POSIX sh.
#
# Usage: run-scenarios.sh [NAME...]     (default: every scenario, sorted)
# Environment: SCENARIOS (directory of NAME.sh), TESTBED (lib.sh's
# directory), CORRAL_VMM, GUEST_KERNEL, GUEST_INITRD (for lib.sh);
# CORRAL_SCENARIO_TIMEOUT (seconds per scenario, default 300);
# CORRAL_SH (shell for scenarios, default sh); CORRAL_IN_TESTBED=1 adds the
# L1 kernel log lines of a failed scenario to its log.
set -u

: "${SCENARIOS:?}" "${TESTBED:?}"
export TESTBED SCENARIOS
limit=${CORRAL_SCENARIO_TIMEOUT:-300}
logdir=$(mktemp -d "${TMPDIR:-/tmp}/corral-logs.XXXXXX")
trap 'rm -rf "$logdir"' EXIT

if [ $# -eq 0 ]; then
    for f in "$SCENARIOS"/*.sh; do
        [ -e "$f" ] || continue
        n=${f##*/}
        set -- "$@" "${n%.sh}"
    done
fi

passed=0 failed=0 skipped=0
for name in "$@"; do
    name=${name%.sh}
    echo "@@@ BEGIN $name"
    log=$logdir/$name.log
    reason=
    t0=$(date +%s)
    if [ ! -f "$SCENARIOS/$name.sh" ]; then
        echo "no such scenario: $SCENARIOS/$name.sh" >"$log"
        rc=1
    else
        kmsg_before=0
        if [ "${CORRAL_IN_TESTBED:-}" = 1 ]; then kmsg_before=$(dmesg | wc -l); fi
        # Own session and process group, so that a timeout or leftovers
        # (a VMM the scenario failed to stop) can be killed as a group.
        setsid "${CORRAL_SH:-sh}" "$SCENARIOS/$name.sh" </dev/null >"$log" 2>&1 &
        pid=$!
        deadline=$((t0 + limit))
        while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
            sleep 1
        done
        if kill -0 "$pid" 2>/dev/null; then
            reason="timeout after ${limit}s"
            echo "runner: time is up (${limit}s): stopping the scenario" >>"$log"
            # TERM first: lib.sh then prints the guest's console so far.
            kill -TERM "-$pid" 2>/dev/null
            sleep 2
        fi
        kill -9 "-$pid" 2>/dev/null
        rc=0
        wait "$pid" || rc=$?
        [ -z "$reason" ] || rc=124
        if [ "${CORRAL_IN_TESTBED:-}" = 1 ] && [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
            {
                echo "---- L1 kernel log during the scenario ----"
                dmesg | tail -n "+$((kmsg_before + 1))" | tail -n 40
            } >>"$log"
        fi
    fi
    secs=$(($(date +%s) - t0))
    case $rc in
        0) result=PASS passed=$((passed + 1)) ;;
        77) result=SKIP skipped=$((skipped + 1))
            reason=$(sed -n 's/^SKIP: //p' "$log" | tail -n 1) ;;
        *) result=FAIL failed=$((failed + 1))
            [ -n "$reason" ] || reason="exit status $rc" ;;
    esac
    echo "@@@ RESULT $name $result ${secs}s${reason:+ $reason}"
    if [ "$result" != PASS ] || [ "${CORRAL_SHOW_LOGS:-0}" = 1 ]; then
        echo "@@@ LOG-BEGIN $name"
        tr -d '\r' <"$log"
        echo "@@@ LOG-END $name"
    fi
done
echo "@@@ DONE passed=$passed failed=$failed skipped=$skipped"
