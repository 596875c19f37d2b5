#!/bin/sh
# test_corrald.sh CORRALD CORRAL
#
# corrald as a program, natively: it serves its socket; a second corrald on
# the same socket is refused while the first answers; after the first is
# killed (SIGKILL, leaving its socket file) a new one takes over the stale
# socket; SIGTERM stops it with status 0. Then `corral console` through
# corrald to a stand-in VMM (python3) that serves a console: the boot comes
# first, keys reach the guest, and the console ends when the domain does.
# Prints TAP.
corrald=$1 corral=$2
dir=$(mktemp -d /tmp/corrald-test-XXXXXX)
sock=$dir/run/corral.sock
. "$(dirname "$0")/tap.sh"
trap 'kill -9 $pid1 $pid2 $pid3 2>/dev/null; rm -rf "$dir"' EXIT

start() { # start [VMM]
    "$corrald" --state-dir "$dir/state" --run-dir "$dir/run" --log-dir "$dir/log" \
        --vmm "${1:-/nonexistent}" 2>>"$dir/err" &
}
wait_socket() {
    i=0
    while [ $i -lt 100 ] && ! "$corral" --socket "$sock" list >/dev/null 2>&1; do
        sleep 0.05; i=$((i + 1))
    done
    [ $i -lt 100 ]
}

"$corrald" --console-log-max 100 2>"$dir/bad"
check "a console log cap below 4K is a usage error (status 2)" [ $? = 2 ]
check "with a message that names the option" grep -q -- "--console-log-max: expected a size from 4K to 1G, not '100'" "$dir/bad"

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

# A VMM that boots at once: it greets on its console, answers each line in
# capitals and powers off (status 0) on "quit".
cat >"$dir/vmm" <<'EOF'
#!/usr/bin/env python3
import signal, socket, sys
signal.alarm(60)
path = sys.argv[sys.argv.index("--console") + 1].split(":", 1)[1]
server = socket.socket(socket.AF_UNIX)
server.bind(path)
server.listen(1)
while True:
    conn, _ = server.accept()
    conn.sendall(b"stand-in booted\r\nlogin: ")
    pending = b""
    while data := conn.recv(4096):
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if line == b"quit":
                sys.exit(0)
            conn.sendall(line.upper() + b"\r\n")
EOF
chmod +x "$dir/vmm"
: >"$dir/vmlinuz"
printf "name = 'web'\nkernel = '%s'\n" "$dir/vmlinuz" >"$dir/web.cfg"
booted() {
    i=0
    while [ $i -lt 100 ] && ! grep -q "stand-in booted" "$dir/log/console/web.log" 2>/dev/null; do
        sleep 0.05; i=$((i + 1))
    done
    [ $i -lt 100 ]
}
start "$dir/vmm"; pid3=$!
wait_socket
check "a domain starts on the stand-in VMM" "$corral" --socket "$sock" create "$dir/web.cfg"
check "corrald logs its console" booted
printf 'echo hi\nquit\n' | timeout 20 "$corral" --socket "$sock" console web \
    >"$dir/console.out" 2>"$dir/console.err"
check "corral console ends with status 0 when the domain goes" [ $? = 0 ]
check "it showed the boot first" grep -q "^stand-in booted" "$dir/console.out"
check "its keys reached the guest" grep -q "ECHO HI" "$dir/console.out"
check "it said the console closed" grep -q "console of 'web' closed" "$dir/console.err"
"$corral" --socket "$sock" console web 2>"$dir/console.err"
check "then the domain is gone, and its console" [ $? = 1 ]
check "corral says so" grep -q "no domain 'web'" "$dir/console.err"
kill -TERM $pid3; wait $pid3
tap_done
