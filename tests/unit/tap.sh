# TAP for the shell tests (sourced): check NAME COMMAND... runs COMMAND and
# prints "ok N - NAME" or "not ok N - NAME"; tap_done prints the plan and
# exits 1 if any check failed.
n=0 failed=0
check() {
    name=$1; shift
    n=$((n + 1))
    if "$@"; then echo "ok $n - $name"; else echo "not ok $n - $name"; failed=1; fi
}
tap_done() {
    echo "1..$n"
    exit $failed
}
