#!/usr/bin/env bash
# Prepare a Debian 12 machine for corral and build it:
#   - install what is missing (apt-get, as root; `apt-get update` once first)
#   - configure and build build/ (normal) and build-asan/ (ASan + UBSan)
# Usage: scripts/setup.sh [--no-build]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
packages=(
    build-essential meson ninja-build pkg-config   # building
    liburing-dev libjansson-dev libcurl4-openssl-dev libmicrohttpd-dev  # libraries
    libmnl-dev libnftables-dev                     # networks: rtnetlink, the L2 guard
    dnsmasq-base nftables                          # networks: DHCP/DNS; nft for the tests
    busybox tcpdump bind9-dnsutils                 # network tests: udhcpc, captures, dig
    clang llvm libclang-rt-14-dev                  # clang, sanitizer runtimes, fuzzing
    python3                                        # scripts/test.sh reads meson's JSON log
    qemu-system-x86                                # the testbed's L1 (and its firmware)
    acpica-tools                                   # iasl: unit tests decompile our ACPI tables
    valgrind                                       # callgrind: bench/instructions.sh
    kmod                                           # modinfo/depmod for the guest kernels
    xz-utils                                       # kernels that ship .ko.xz modules
    fio iperf3                                     # guest tools (testbed/make-guest-tools.sh); iperf3 also in L1
    iproute2 qemu-utils                            # L1: ip (bridges, taps), qemu-img
    dpkg apt coreutils util-linux findutils gzip   # the testbed scripts (usually present)
)

missing=()
for p in "${packages[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    sudo=()
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || { echo "setup: run as root to install: ${missing[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

[ "${1:-}" != --no-build ] || exit 0

# setup_dir DIR [MESON OPTIONS...]: configure once, then just build.
setup_dir() {
    local dir=$repo/$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        rm -rf "$dir"   # a half-configured directory from an earlier failure
        meson setup "$dir" "$repo" "$@"
    fi
    ninja -C "$dir"
}
# The code builds warning-free (-Wall -Wextra and more, see meson.build) with
# gcc and clang, and these builds keep it so: a warning fails them.
setup_dir build -Dwerror=true
# b_lundef=false: needed with clang's sanitizers, harmless with gcc's.
setup_dir build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
CC=clang setup_dir build-clang -Dwerror=true
