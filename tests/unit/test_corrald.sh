#!/bin/sh
# test_corrald.sh CORRALD CORRAL
#
# corrald as a program, natively: it serves its socket; a second corrald on
# the same socket is refused while the first answers; after the first is
# killed (SIGKILL, leaving its socket file) a new one takes over the stale
# socket; SIGTERM stops it with status 0. Prints TAP.
corrald=$1 corral=$2
dir=$(mktemp -d /tmp/corrald-test-XXXXXX)
sock=$dir/run/corral.sock
n=0 failed=0
trap 'kill -9 $pid1 $pid2 2>/dev/null; rm -rf "$dir"' EXIT

check() { # check NAME COMMAND...
    name=$1; shift
    n=$((n + 1))
    if "$@"; then echo "ok $n - $name"; else echo "not ok $n - $name"; failed=1; fi
}
start() {
    "$corrald" --state-dir "$dir/state" --run-dir "$dir/run" --log-dir "$dir/log" \
        --vmm /nonexistent 2>>"$dir/err" &
}
wait_socket() {
    i=0
    while [ $i -lt 100 ] && ! "$corral" --socket "$sock" list >/dev/null 2>&1; do
        sleep 0.05; i=$((i + 1))
    done
    [ $i -lt 100 ]
}

start; pid1=$!
check "corrald serves its socket" wait_socket
check "corral list shows xl's header" sh -c "'$corral' --socket '$sock' list | grep -q '^Name *ID *Mem *VCPUs *State *Time(s)'"
timeout 10 "$corrald" --state-dir "$dir/state" --run-dir "$dir/run" --log-dir "$dir/log" 2>"$dir/second"
check "a second corrald is refused" [ $? = 1 ]
check "it says why" grep -q "another corrald is serving $sock" "$dir/second"
check "the first still serves" wait_socket
kill -9 $pid1; wait $pid1 2>/dev/null
check "SIGKILL leaves the socket file" [ -S "$sock" ]
start; pid2=$!
check "a new corrald takes over the stale socket" wait_socket
kill -TERM $pid2; wait $pid2; status=$?
check "SIGTERM stops corrald with status 0" [ $status = 0 ]
echo "1..$n"
exit $failed
