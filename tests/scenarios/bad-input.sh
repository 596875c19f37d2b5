#!/bin/sh
# Bad arguments and input files: each makes corral-vmm exit with status 1,
# promptly, with a message on stderr that names the problem. No guest runs.
set -eu
. "$TESTBED/lib.sh"

# expect_error NAME REGEX [VMM ARGS...]: status 1 within 20 s and stderr
# matching REGEX (extended, case-insensitive).
expect_error() {
    _name=$1 _regex=$2
    shift 2
    vmm_start "$_name" "$@"
    vmm_wait 20
    assert_status 1 "rejected"
    assert_stderr "$_regex"
    # Show the message itself in the log, for review.
    log "stderr: $(head -n 3 "$(stderr_file)")"
}

k=$GUEST_KERNEL
size=$(wc -c <"$k")
head -c 4096 "$k" >"$WORK/kernel-4k"
head -c $((size / 2)) "$k" >"$WORK/kernel-half"
# Sparse, so it costs no memory; its name does not say "initrd", the message must.
truncate -s 300M "$WORK/big-300m"
long=$(head -c 100000 /dev/zero | tr '\0' x) # the kernel takes 2047 bytes
: >"$WORK/empty-initrd"
long_path=$WORK/$(head -c 120 /dev/zero | tr '\0' s)

expect_error not-bzimage 'bzImage' --kernel "$GUEST_INITRD"
expect_error truncated-4k 'truncated' --kernel "$WORK/kernel-4k"
expect_error truncated-half 'truncated' --kernel "$WORK/kernel-half"
expect_error initrd-too-big 'initrd' --kernel "$k" --initrd "$WORK/big-300m" --memory 256M
expect_error memory-1m 'memory' --kernel "$k" --memory 1M
expect_error memory-5t 'memory' --kernel "$k" --memory 5T
expect_error memory-garbage 'memory' --kernel "$k" --memory lots
expect_error vcpus-0 'vcpus' --kernel "$k" --vcpus 0
expect_error vcpus-65 'vcpus' --kernel "$k" --vcpus 65
expect_error vcpus-garbage 'vcpus' --kernel "$k" --vcpus two
expect_error cmdline-too-long 'command line' --kernel "$k" --cmdline "$long"
expect_error kernel-missing 'No such file' --kernel "$WORK/no-such-kernel"
assert_stderr 'no-such-kernel' "the message names the file"
expect_error initrd-missing 'No such file' --kernel "$k" --initrd "$WORK/no-such-initrd"
assert_stderr 'no-such-initrd' "the message names the file"
expect_error initrd-empty 'initrd .* is empty' --kernel "$k" --initrd "$WORK/empty-initrd"
expect_error console-unknown 'invalid --console' --kernel "$k" --console serial
expect_error console-unix-no-path 'invalid --console' --kernel "$k" --console unix:
expect_error console-path-too-long 'console socket path is too long' --kernel "$k" \
    --console "unix:$long_path"
expect_error shutdown-timeout-garbage 'shutdown-timeout' --kernel "$k" --shutdown-timeout soon
expect_error no-kernel 'kernel'
expect_error unknown-option 'frobnicate' --kernel "$k" --frobnicate

# Devices: option syntax is checked before KVM; files and taps when the
# machine is built, each named in the message, and nothing is left running.
: >"$WORK/disk.img"
truncate -s 1M "$WORK/disk.img"
expect_error disk-no-path 'disk.*path' --kernel "$k" --disk ro
expect_error disk-unknown-key 'disk.*frobnicate' --kernel "$k" --disk "path=$WORK/disk.img,frobnicate=1"
expect_error disk-queues-0 'disk.*queues' --kernel "$k" --disk "path=$WORK/disk.img,queues=0"
expect_error disk-serial-too-long 'disk.*serial' --kernel "$k" \
    --disk "path=$WORK/disk.img,serial=abcdefghijklmnopqrstuvwxyz"
expect_error disk-cache-bad 'disk.*cache' --kernel "$k" --disk "path=$WORK/disk.img,cache=sometimes"
expect_error disk-missing 'no-such-disk' --kernel "$k" --disk "path=$WORK/no-such-disk.img"
expect_error net-no-tap 'net' --kernel "$k" --net mac=00:16:3e:00:00:01
expect_error net-tap-and-fd 'net' --kernel "$k" --net tap=crlx0,fd=3
expect_error net-multicast-mac 'net.*mac' --kernel "$k" --net tap=crlx0,mac=01:00:5e:00:00:01
expect_error net-bad-mac 'net.*mac' --kernel "$k" --net tap=crlx0,mac=00:16:3e:zz:00:01
expect_error net-no-bridge 'no-such-br' --kernel "$k" --net tap=crlx0,bridge=no-such-br
expect_error net-bad-vhost 'vhost must be on, off or auto' --kernel "$k" --net tap=crlx0,vhost=yes
expect_error hvc-stdio-twice 'hvc' --kernel "$k" --hvc stdio
expect_error paused-without-control 'paused needs --control' --kernel "$k" --paused
# A failed start is a status too: --exit-file has it for the supervisor.
expect_error not-bzimage-exit-file 'bzImage' --kernel "$GUEST_INITRD" --exit-file "$WORK/exit"
assert_eq "the status in the exit file" 1 "$(cat "$WORK/exit" 2>/dev/null)"
