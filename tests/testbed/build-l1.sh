#!/usr/bin/env bash
# Build the initramfs of the testbed's virtual host ("L1"): busybox, the KVM,
# bridge, tap, vhost, loop and nftables modules, corral's binaries, the guest
# kernel, initrd and tool archives, QEMU (the reference VMM for sanity checks
# and benchmarks), qemu-img, iproute2's ip, iperf3, the scenarios and their
# helpers. Programs go in with every library `ldd` lists, at the same paths.
#
# Usage: build-l1.sh [--build DIR] [--bin FILE]... [--scenario-dir DIR] [--out FILE]
#                    [--without-vmm]
#   --build DIR    meson build directory with src/vmm/corral-vmm (default: build);
#                  its corrald and corral go to /corral/bin too, if built
#   --bin FILE     another program to put into /corral/bin (repeatable)
#                  (test tools, tests/testbed/tools/NAME.c, which meson builds
#                  as BUILD/tests/NAME, go there without asking)
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

# L1's kernel modules, by name; stage_modules adds their dependencies (kvm,
# irqbypass; llc, stp; vhost, vhost_iotlb, tap; nfnetlink, libcrc32c,
# nf_reject_*, nft_reject) and orders them. kvm-amd gives /dev/kvm, tun
# /dev/net/tun, vhost_net /dev/vhost-net, loop /dev/loop*; nf_tables holds
# the bridge family's filter chains, nft_meta_bridge and nft_reject_bridge
# its expressions (no nft program in L1 yet).
l1_modules="kvm-amd bridge tun vhost_net loop nf_tables nft_meta_bridge nft_reject_bridge"
# Host programs for L1 (at their host paths, replacing busybox applets of
# the same name): iproute2's ip (bridges, ip tuntap), iperf3 (the server end
# of network benchmarks), qemu-img (image formats). Optional: a missing one
# is reported and left out.
l1_programs="ip iperf3 qemu-img"

vmm=$build/src/vmm/corral-vmm
if [ -x "$vmm" ]; then
    bins=("$vmm" "${bins[@]}")
elif [ $without_vmm = 0 ]; then
    echo "build-l1: $vmm not found: build first (meson setup build && ninja -C build)" >&2
    exit 1
fi
# corrald and corral, where the build has them, beside corral-vmm (the
# corrald-* scenarios start corrald with --vmm /corral/bin/corral-vmm).
for prog in "$build/src/daemon/corrald" "$build/src/cli/corral"; do
    if [ -x "$prog" ]; then bins+=("$prog"); fi
done
for src in "$here"/tools/*.c; do
    tool=$build/tests/$(basename "$src" .c)
    if [ -x "$tool" ]; then
        bins+=("$tool")
    else
        echo "build-l1: test tool $tool not built; L1 will not have it" >&2
    fi
done

"$here/fetch-artifacts.sh" --quiet
# shellcheck source=/dev/null
. "$repo/.cache/artifacts/env"
# shellcheck source=stage-lib.sh
. "$here/stage-lib.sh"
mkdir -p "$(dirname "$out")"
guest_initrd=$repo/.cache/testbed/guest-initrd.gz
"$here/make-guest-initrd.sh" "$guest_initrd"
guest_tools=$repo/.cache/testbed/guest-tools
"$here/make-guest-tools.sh" "$guest_tools"
tool_archives=("$guest_tools"/*.gz)
programs=()
for p in $l1_programs; do
    if path=$(command -v "$p"); then
        programs+=("$(realpath "$path")")
    else
        echo "build-l1: $p is not installed on this host; L1 will have none (scripts/setup.sh installs it)" >&2
    fi
done

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

inputs=("$0" "$here"/{l1-init.sh,lib.sh,run-scenarios.sh,stage-lib.sh} "$scenario_dir"/*.sh
    "$KERNEL" "$guest_initrd" "${tool_archives[@]}" "$BUSYBOX" "${bins[@]}" ${qemu:+"$qemu"}
    "${qemu_files[@]}" "${programs[@]}")
key=$(stat -L -c '%n %s %Y' "${inputs[@]}" | sha256sum | cut -d' ' -f1)
if [ -s "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
    echo "$out"
    exit 0
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc,lib/modules/l1} \
    "$stage"/corral/{bin,guest/tools,testbed,scenarios}

cp "$BUSYBOX" "$stage/bin/busybox"
for applet in $("$BUSYBOX" --list-full); do
    [ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done
install -m 0755 "$here/l1-init.sh" "$stage/init"
cp "$here/lib.sh" "$here/run-scenarios.sh" "$stage/corral/testbed/"
for f in "$scenario_dir"/*.sh; do cp "$f" "$stage/corral/scenarios/"; done
cp "$KERNEL" "$stage/corral/guest/vmlinuz"
cp "$guest_initrd" "$stage/corral/guest/initrd.gz"
for f in "${tool_archives[@]}"; do cp "$f" "$stage/corral/guest/tools/"; done

: >"$stage/etc/l1-modules"
# shellcheck disable=SC2086 # a list of names
stage_modules "$MODULES" "$stage" lib/modules/l1 "$stage/etc/l1-modules" $l1_modules

# copy_elf FILE DEST: FILE at DEST in L1, with its shared libraries at the
# paths ldd resolves them to (the dynamic loader included).
copy_elf() { stage_elf "$stage" "$1" "$2"; }

for b in "${bins[@]}"; do
    copy_elf "$b" "/corral/bin/$(basename "$b")"
done
for p in "${programs[@]}"; do
    copy_elf "$p" "$p"
    # The program, not busybox's applet, wherever PATH looks first.
    for d in bin sbin usr/bin usr/sbin; do
        f=$stage/$d/$(basename "$p")
        if [ -L "$f" ] && [ "$(readlink "$f")" = /bin/busybox ]; then ln -sf "$p" "$f"; fi
    done
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
GUEST_TOOLS_DIR=/corral/guest/tools
BUSYBOX=/bin/busybox
GUEST_KVER=$KVER
TESTBED=/corral/testbed
SCENARIOS=/corral/scenarios
QEMU=${qemu:+/usr/bin/qemu-system-x86_64}
EOF

# gzip -1: the kernel image and QEMU barely compress further, and level 1
# packs in a fraction of the time of -9 for a few percent more size.
stage_pack "$stage" "$out" 1
echo "$key" >"$out.key"
echo "$out"
