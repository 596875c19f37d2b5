#!/usr/bin/env bash
# Build the initramfs of the testbed's virtual host ("L1"): busybox, the KVM
# modules, corral's binaries, the guest kernel and initrd, QEMU (the reference
# VMM for sanity checks and benchmarks), the scenarios and their helpers.
# Programs go in with every library `ldd` lists, at the same paths.
#
# Usage: build-l1.sh [--build DIR] [--bin FILE]... [--scenario-dir DIR] [--out FILE]
#                    [--without-vmm]
#   --build DIR    meson build directory with src/vmm/corral-vmm (default: build)
#   --bin FILE     another program to put into /corral/bin (repeatable)
#   --scenario-dir DIR  where the scenarios come from (default: tests/scenarios)
#   --without-vmm  build even if corral-vmm is missing (to check the testbed itself)
#   --out FILE     default: .cache/testbed/l1.cpio.gz
# Prints the output's path. Rebuilds only when an input changed.
set -euo pipefail
shopt -s nullglob

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build
out=$repo/.cache/testbed/l1.cpio.gz
bins=()
scenario_dir=$repo/tests/scenarios
without_vmm=0
while [ $# -gt 0 ]; do
    case $1 in
        --build) build=$(realpath -m "$2"); shift 2 ;;
        --bin) bins+=("$(realpath "$2")"); shift 2 ;;
        --scenario-dir) scenario_dir=$(realpath "$2"); shift 2 ;;
        --out) out=$2; shift 2 ;;
        --without-vmm) without_vmm=1; shift ;;
        *) echo "build-l1: unknown argument $1" >&2; exit 2 ;;
    esac
done

# L1's kernel modules, in load order.
l1_modules="kernel/virt/lib/irqbypass.ko kernel/arch/x86/kvm/kvm.ko kernel/arch/x86/kvm/kvm-amd.ko"

vmm=$build/src/vmm/corral-vmm
if [ -x "$vmm" ]; then
    bins=("$vmm" "${bins[@]}")
elif [ $without_vmm = 0 ]; then
    echo "build-l1: $vmm not found: build first (meson setup build && ninja -C build)" >&2
    exit 1
fi

"$here/fetch-artifacts.sh" --quiet
# shellcheck source=/dev/null
. "$repo/.cache/artifacts/env"
mkdir -p "$(dirname "$out")"
guest_initrd=$repo/.cache/testbed/guest-initrd.gz
"$here/make-guest-initrd.sh" "$guest_initrd"

qemu=$(command -v qemu-system-x86_64 || true)
[ -n "$qemu" ] || echo "build-l1: qemu-system-x86_64 not installed; L1 will have no QEMU" >&2
qemu_files=()
if [ -n "$qemu" ]; then
    # Firmware for -M microvm (qboot), -M pc/q35 (SeaBIOS, option ROMs, the
    # default NICs' iPXE ROMs) and direct kernel boot; not the other arches'.
    for f in /usr/share/qemu/{qboot.rom,bios-microvm.bin,linuxboot.bin,linuxboot_dma.bin,kvmvapic.bin,pvh.bin,multiboot.bin,multiboot_dma.bin,sgabios.bin} \
        /usr/share/seabios/*.bin /usr/lib/ipxe/qemu/{efi-e1000.rom,efi-e1000e.rom,efi-virtio.rom} \
        /usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so; do
        [ -e "$f" ] && qemu_files+=("$f")
    done
fi

inputs=("$0" "$here"/{l1-init.sh,lib.sh,run-scenarios.sh} "$scenario_dir"/*.sh
    "$KERNEL" "$guest_initrd" "$BUSYBOX" "${bins[@]}" ${qemu:+"$qemu"} "${qemu_files[@]}")
key=$(stat -L -c '%n %s %Y' "${inputs[@]}" | sha256sum | cut -d' ' -f1)
if [ -s "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
    echo "$out"
    exit 0
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc,lib/modules/l1} \
    "$stage"/corral/{bin,guest,testbed,scenarios}

cp "$BUSYBOX" "$stage/bin/busybox"
for applet in $("$BUSYBOX" --list-full); do
    [ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done
install -m 0755 "$here/l1-init.sh" "$stage/init"
cp "$here/lib.sh" "$here/run-scenarios.sh" "$stage/corral/testbed/"
for f in "$scenario_dir"/*.sh; do cp "$f" "$stage/corral/scenarios/"; done
cp "$KERNEL" "$stage/corral/guest/vmlinuz"
cp "$guest_initrd" "$stage/corral/guest/initrd.gz"

: >"$stage/etc/l1-modules"
for ko in $l1_modules; do
    cp "$MODULES/$ko" "$stage/lib/modules/l1/"
    basename "$ko" >>"$stage/etc/l1-modules"
done

# copy_elf FILE DEST: FILE at DEST in L1, with its shared libraries at the
# paths ldd resolves them to (the dynamic loader included).
copy_elf() {
    mkdir -p "$stage$(dirname "$2")"
    cp -L "$1" "$stage$2"
    local lib
    ldd "$1" | awk '/not found/ {print "MISSING " $1; next}
                    $2 == "=>" && $3 ~ /^\// {print $3; next}
                    $1 ~ /^\// {print $1}' |
        while read -r lib; do
            case $lib in MISSING*) echo "build-l1: $1: library ${lib#MISSING } not found" >&2; exit 1 ;; esac
            [ -e "$stage$lib" ] && continue
            mkdir -p "$stage$(dirname "$lib")"
            cp -L "$lib" "$stage$lib"
        done
}

for b in "${bins[@]}"; do
    copy_elf "$b" "/corral/bin/$(basename "$b")"
done
if [ -n "$qemu" ]; then
    copy_elf "$qemu" /usr/bin/qemu-system-x86_64
    for f in "${qemu_files[@]}"; do
        mkdir -p "$stage$(dirname "$f")"
        cp -L "$f" "$stage$f"
    done
fi

cat >"$stage/corral/env" <<EOF
CORRAL_VMM=/corral/bin/corral-vmm
CORRAL_BIN=/corral/bin
GUEST_KERNEL=/corral/guest/vmlinuz
GUEST_INITRD=/corral/guest/initrd.gz
GUEST_KVER=$KVER
TESTBED=/corral/testbed
SCENARIOS=/corral/scenarios
QEMU=${qemu:+/usr/bin/qemu-system-x86_64}
EOF

# gzip -1: the kernel image and QEMU barely compress further, and level 1
# packs in a fraction of the time of -9 for a few percent more size.
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) |
    gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
echo "$key" >"$out.key"
echo "$out"
