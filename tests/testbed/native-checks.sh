#!/usr/bin/env bash
# Checks of corral-vmm that run on this host itself, outside the testbed.
#   unsupported-host: on a host whose KVM cannot run unmodified guests (no
#   vmx/svm in /proc/cpuinfo, e.g. KVM PVM), corral-vmm must refuse with exit
#   status 4 in under 5 s, and its message must point to the testbed.
#   (It cannot run in the testbed: L1 has SVM.)
# Usage: native-checks.sh [--build DIR]
# Output: "PASS name" / "FAIL name" / "SKIP name" lines, then
# "NATIVE-TOTALS passed=N failed=N skipped=N". Exit status 1 if any failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build
[ "${1:-}" != --build ] || build=$2
vmm=$build/src/vmm/corral-vmm
passed=0 failed=0 skipped=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

result() { # NAME PASS|FAIL|SKIP DETAIL
    echo "$2 $1${3:+ ($3)}"
    case $2 in PASS) passed=$((passed + 1)) ;; FAIL) failed=$((failed + 1)) ;; *) skipped=$((skipped + 1)) ;; esac
}

check_unsupported_host() {
    if grep -qwE 'vmx|svm' /proc/cpuinfo; then
        result unsupported-host SKIP "this host has VT-x/AMD-V"
        return
    fi
    if [ ! -e /dev/kvm ]; then
        result unsupported-host SKIP "this host has no /dev/kvm"
        return
    fi
    if [ ! -x "$vmm" ]; then
        result unsupported-host FAIL "$vmm not found: build first"
        return
    fi
    "$here/fetch-artifacts.sh" --quiet
    # shellcheck source=/dev/null
    . "$repo/.cache/artifacts/env"
    local t0 ms rc=0
    t0=$(date +%s%N)
    timeout -k 2 20 "$vmm" --kernel "$KERNEL" --console none </dev/null >"$work/out" 2>"$work/err" || rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    local why=""
    [ "$rc" = 4 ] || why="exit status $rc, expected 4"
    [ "$ms" -lt 5000 ] || why="${why:+$why; }took ${ms} ms, expected under 5 s"
    grep -qi 'testbed' "$work/err" || why="${why:+$why; }stderr does not mention the testbed"
    if [ -z "$why" ]; then
        result unsupported-host PASS "status 4 in ${ms} ms"
    else
        result unsupported-host FAIL "$why"
        echo "    | stderr:"
        sed 's/^/    | /' "$work/err"
    fi
}

check_unsupported_host
echo "NATIVE-TOTALS passed=$passed failed=$failed skipped=$skipped"
[ "$failed" = 0 ]
