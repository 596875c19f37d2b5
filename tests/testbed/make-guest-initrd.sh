#!/usr/bin/env bash
# Build the test guest's ("L2") initramfs: busybox-static with its applet
# links, /init = guest-init.sh, and a few modules of the cloud kernel.
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

std_modules="drivers/misc/pvpanic/pvpanic.ko drivers/misc/pvpanic/pvpanic-mmio.ko
    drivers/acpi/button.ko drivers/input/evdev.ko"

# Key on everything that goes in: this script, /init, busybox, modules, extras.
key=$( {
    echo "$KVER $BUSYBOX $*"
    cat "$0" "$here/guest-init.sh"
    for spec in "$@"; do cat "${spec%%:*}" 2>/dev/null || echo "missing $spec"; done
} | sha256sum | cut -d' ' -f1)
if [ -s "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
    exit 0
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc,lib/modules}
cp "$BUSYBOX" "$stage/bin/busybox"
for applet in $("$BUSYBOX" --list-full); do
    [ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done
install -m 0755 "$here/guest-init.sh" "$stage/init"

# Standard modules, in load order (see guest-init.sh).
: >"$stage/etc/modules"
for ko in $std_modules; do
    cp "$MODULES/kernel/$ko" "$stage/lib/modules/"
    basename "$ko" >>"$stage/etc/modules"
done

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

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) |
    gzip -9 -n >"$out.tmp"
mv "$out.tmp" "$out"
echo "$key" >"$out.key"
