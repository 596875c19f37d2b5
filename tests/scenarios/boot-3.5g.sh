#!/bin/sh
# 3.5 GiB: 3 GiB below the PCI hole (3-4 GiB), the last 512 MiB above 4 GiB.
set -eu
. "$TESTBED/lib.sh"

boot_guest run poweroff --vcpus 2 --memory 3.5G
assert_console "@@ BOOTED"
assert_eq "online CPUs" 2 "$(console_value CPUS)"
# 3.3 GiB .. 3.5 GiB in kB: without the RAM above 4 GiB it would be < 3 GiB.
assert_range "MemTotal (kB)" 3460300 3670016 "$(console_value MEMTOTAL)"
# The System RAM ranges (/proc/iomem): none inside the hole, and the highest
# ends at 4.5 GiB - 1.
top=0
for range in $(console_values RAM); do
    start=$((0x${range%-*})) end=$((0x${range#*-}))
    if [ "$end" -ge $((0xc0000000)) ] && [ "$start" -le $((0xffffffff)) ]; then
        fail "System RAM $range overlaps the PCI hole 0xc0000000-0xffffffff"
    fi
    [ "$end" -le "$top" ] || top=$end
done
assert_eq "end of the highest System RAM range" "$((0x11fffffff))" "$top"
assert_status 0 "the guest powered off"
