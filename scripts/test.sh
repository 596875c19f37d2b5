#!/usr/bin/env bash
# The one test command (CI runs exactly this):
#   1. scripts/setup.sh: install what is missing, build build/, build-asan/ and
#      build-clang/, all with -Werror
#   2. unit tests under ASan/UBSan (meson test -C build-asan)
#   3. native checks (tests/testbed/native-checks.sh)
#   4. the integration scenarios (tests/testbed/run.sh): in the testbed, or
#      directly on a host with VT-x/AMD-V
# Ends with one line "N passed, N failed, N skipped" (every unit test and
# every scenario counts); exit status 1 if anything failed.
#
# The scenarios run the ASan/UBSan build of corral-vmm: it works inside L1
# (checked: ASan and LeakSanitizer reports come through, and the guest's run
# time is spent in the guest, not in the VMM), so real guest boots double as
# memory-safety tests. CORRAL_TESTBED_BUILD=build selects the normal build.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
passed=0 failed=0 skipped=0
summary() {
    echo "$passed passed, $failed failed, $skipped skipped"
    [ "$failed" = 0 ]
    exit
}

echo "==> setup and build"
if ! scripts/setup.sh; then
    echo "test: setup or build failed"
    failed=$((failed + 1))
    summary
fi

echo "==> unit tests (ASan/UBSan build)"
meson test -C build-asan --print-errorlogs
# One JSON object per line; count each test once by its result.
if [ -f build-asan/meson-logs/testlog.json ]; then
    read -r p f s < <(python3 - build-asan/meson-logs/testlog.json <<'EOF'
import json, sys
counts = {"p": 0, "f": 0, "s": 0}
for line in open(sys.argv[1]):
    if line.strip():
        r = json.loads(line).get("result")
        counts["p" if r in ("OK", "EXPECTEDFAIL") else "s" if r == "SKIP" else "f"] += 1
print(counts["p"], counts["f"], counts["s"])
EOF
    )
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
fi

# add_totals TAG FILE STATUS: add the "TAG passed=N failed=N skipped=N" line
# of FILE; a run that failed without counting a failure counts as one.
add_totals() {
    local line p=0 f=0 s=0
    line=$(grep "^$1 " "$2" | tail -n 1)
    if [ -n "$line" ]; then
        p=$(sed -n 's/.*passed=\([0-9]*\).*/\1/p' <<<"$line")
        f=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<<"$line")
        s=$(sed -n 's/.*skipped=\([0-9]*\).*/\1/p' <<<"$line")
    fi
    [ "$3" = 0 ] || [ "$f" != 0 ] || f=1
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "==> native checks"
tests/testbed/native-checks.sh --build build 2>&1 | tee "$out"
add_totals NATIVE-TOTALS "$out" "${PIPESTATUS[0]}"

echo "==> integration scenarios"
tests/testbed/run.sh --build "${CORRAL_TESTBED_BUILD:-build-asan}" 2>&1 | tee "$out"
add_totals TESTBED-TOTALS "$out" "${PIPESTATUS[0]}"

summary
