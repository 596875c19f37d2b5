#!/bin/sh
# virtio-rng is the guest's hwrng, and virtio-console is its hvc0: a line the
# guest writes to /dev/hvc0 comes out of the VMM's --hvc pty, and a line typed
# into that pty reaches the guest.
set -eu
. "$TESTBED/lib.sh"

guest_initrd_with - <<'EOF2'
. /guest-lib.sh
set -e
wait_path /sys/devices/virtual/misc/hw_random/rng_current
report RNG-CURRENT "$(cat /sys/devices/virtual/misc/hw_random/rng_current)"
report RNG-BYTES "$(dd if=/dev/hwrng bs=64 count=4 2>/dev/null | wc -c)"
report RNG-DISTINCT "$(dd if=/dev/hwrng bs=64 count=4 2>/dev/null | od -An -v -tx1 | tr -s ' ' '\n' | sort -u | grep -c .)"
wait_path /dev/hvc0
exec 3<>/dev/hvc0
stty -F /dev/hvc0 -echo
echo "@@ HVC-READY" >&3
IFS= read -r line <&3
report HVC-GOT "$line"
EOF2
start_guest run script --memory 256M --rng --hvc pty
wait_for_pty
pty=$PTY
log "hvc0 on $pty"
cat "$pty" >"$WORK/hvc.out" &
reader=$!
i=0
until grep -q '@@ HVC-READY' "$WORK/hvc.out"; do
    i=$((i + 1))
    [ $i -lt 600 ] || fail "nothing from hvc0 on $pty: '$(cat "$WORK/hvc.out")'"
    sleep 0.2
done
log "ok: hvc0's output came out of the pty"
printf 'hello hvc\n' >"$pty"
vmm_wait
kill "$reader" 2>/dev/null || :
assert_eq "script exit status" 0 "$(console_value SCRIPT-EXIT)"
assert_status 0 "the guest powered off"
case $(console_value RNG-CURRENT) in
    virtio_rng*) log "ok: rng_current = $(console_value RNG-CURRENT)" ;;
    *) fail "rng_current: expected virtio_rng..., found '$(console_value RNG-CURRENT)'" ;;
esac
assert_eq "bytes read from /dev/hwrng" 256 "$(console_value RNG-BYTES)"
assert_range "distinct byte values in 256 random bytes" 100 256 "$(console_value RNG-DISTINCT)"
assert_eq "the line typed into hvc0's pty, as the guest read it" "hello hvc" "$(console_value HVC-GOT)"
