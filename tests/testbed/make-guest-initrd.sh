#!/usr/bin/env bash
# Build the test guest's ("L2") initramfs: busybox-static with its applet
# links, /init = guest-init.sh, /guest-lib.sh (for corral.action=script), and
# the modules of the cloud kernel that the test devices need (see below).
# Programs such as fio and iperf3 are not here but in separate archives that
# scenarios append (make-guest-tools.sh, lib.sh's guest_initrd_with).
#
# Usage: make-guest-initrd.sh OUT [SRC[:DEST]...]
#   Each extra SRC is copied into the initramfs at DEST (default: /SRC's
#   basename). Extra *.ko files placed in /lib/modules/ are loaded by /init
#   after the standard ones, in the order given.
# OUT is left untouched when its inputs have not changed (OUT.key records
# them), so callers can cache on OUT's content.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 OUT [SRC[:DEST]...]" >&2; exit 2; }
out=$1
shift

"$here/fetch-artifacts.sh" --quiet
# shellcheck source=/dev/null
. "$here/../../.cache/artifacts/env"

# shellcheck source=stage-lib.sh
. "$here/stage-lib.sh"

# Modules /init loads, by name; stage_modules adds their dependencies
# (virtio_ring, virtio, virtio_pci_modern_dev, virtio_pci_legacy_dev,
# failover, net_failover) and puts each after what it needs. pvpanic-mmio:
# ACPI id QEMU0001 (port 0x505); button: the ACPI power button; evdev:
# /dev/input/event*. The virtio drivers are modules in Debian's cloud kernel
# (virtio-pci, since virtio-mmio devices cannot be declared on its command
# line); loading them without such devices costs little and fails nothing.
std_modules="pvpanic-mmio button evdev virtio_pci virtio_blk virtio_net virtio_console
    virtio-rng"

# Key on everything that goes in: this script, /init, busybox, modules, extras.
key=$( {
    echo "$KVER $BUSYBOX $*"
    cat "$0" "$here/guest-init.sh" "$here/guest-lib.sh" "$here/stage-lib.sh"
    for spec in "$@"; do cat "${spec%%:*}" 2>/dev/null || echo "missing $spec"; done
} | sha256sum | cut -d' ' -f1)
if [ -s "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
    exit 0
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc,mnt,lib/modules}
cp "$BUSYBOX" "$stage/bin/busybox"
for applet in $("$BUSYBOX" --list-full); do
    [ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done
install -m 0755 "$here/guest-init.sh" "$stage/init"
install -m 0644 "$here/guest-lib.sh" "$stage/guest-lib.sh"

# Standard modules, in load order (guest-init.sh reads /etc/modules).
: >"$stage/etc/modules"
# shellcheck disable=SC2086 # a list of names
stage_modules "$MODULES" "$stage" lib/modules "$stage/etc/modules" $std_modules

for spec in "$@"; do
    src=${spec%%:*}
    dest=/$(basename "$src")
    [ "$src" = "$spec" ] || dest=${spec#*:}
    [ -e "$src" ] || { echo "make-guest-initrd: no such file: $src" >&2; exit 1; }
    mkdir -p "$stage$(dirname "$dest")"
    cp -L "$src" "$stage$dest"
    case $dest in
        /lib/modules/*.ko) echo "${dest#/lib/modules/}" >>"$stage/etc/modules" ;;
    esac
done

stage_pack "$stage" "$out" 9
echo "$key" >"$out.key"
