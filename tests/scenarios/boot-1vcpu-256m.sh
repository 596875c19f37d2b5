#!/bin/sh
# Debian's stock cloud kernel boots with 1 vCPU and 256 MiB, and powers off.
set -eu
. "$TESTBED/lib.sh"

boot_guest run poweroff --vcpus 1 --memory 256M
assert_console "@@ BOOTED"
assert_eq "online CPUs" 1 "$(console_value CPUS)"
# MemTotal is RAM less what the kernel keeps for itself (~223000 kB here).
assert_range "MemTotal (kB)" 200000 262144 "$(console_value MEMTOTAL)"
# "Memory: 213476K/261624K available": the second number is the RAM the
# kernel found in the e820 map: 256 MiB less the legacy hole below 1 MiB
# and a few pages (QEMU's pc machine gives 261624K).
kmem=$(console_value KMEM | sed -n 's|^Memory: [0-9]*K/\([0-9]*\)K available.*|\1|p')
assert_range "RAM in the e820 map (kB, from the kernel's 'Memory:' line)" 260000 262144 "$kmem"
assert_status 0 "the guest powered off"
