#!/usr/bin/env bash
# Fetch the guest artifacts (Debian's cloud kernel and busybox-static) into
# .cache/artifacts/ without installing them on the host: apt-get download +
# dpkg-deb -x. Idempotent: each package is extracted once per version (a
# stamp file records it), so a second run takes well under a second.
#
# Writes .cache/artifacts/env (shell syntax, sourced by the other scripts):
#   KVER KERNEL KCONFIG MODULES BUSYBOX
# and prints it. Usage: fetch-artifacts.sh [--quiet]
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${CORRAL_ARTIFACTS:-$repo/.cache/artifacts}
quiet=0
[ "${1:-}" = --quiet ] && quiet=1
mkdir -p "$cache/debs"

updated=0
# Print the candidate version of package $1; run `apt-get update` once if
# apt knows nothing about it (fresh machine, empty package lists).
candidate() {
    local v
    v=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
    if { [ -z "$v" ] || [ "$v" = "(none)" ]; } && [ $updated = 0 ]; then
        echo "fetch-artifacts: apt knows no '$1'; running apt-get update" >&2
        apt-get update -qq >&2
        updated=1
        v=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
    fi
    if [ -z "$v" ] || [ "$v" = "(none)" ]; then
        echo "fetch-artifacts: package '$1' not found in apt's lists" >&2
        return 1
    fi
    echo "$v"
}

# Download package $1 at version $2 and extract it to $cache/$1; the stamp
# makes this a no-op when that version is already there.
fetch() {
    local pkg=$1 ver=$2 dir=$cache/$1 deb
    local stamp="$dir/.stamp-$ver"
    [ -e "$stamp" ] && return 0
    echo "fetch-artifacts: fetching $pkg $ver" >&2
    # apt-get download writes into the current directory. As root it warns
    # that the _apt sandbox user cannot write there; that is harmless.
    (cd "$cache/debs" && apt-get download -q "$pkg=$ver") 2>&1 |
        { grep -v -e 'unsandboxed as root' -e '^Get:' -e '^Fetched' >&2 || true; }
    # apt-get download names it NAME_VERSION_ARCH.deb, with ':' as %3a.
    for deb in "$cache/debs/${pkg}_${ver//:/%3a}_"*.deb; do :; done
    if [ ! -e "$deb" ]; then
        echo "fetch-artifacts: download of $pkg $ver failed" >&2
        return 1
    fi
    rm -rf "$dir.tmp" "$dir"
    mkdir -p "$dir.tmp"
    dpkg-deb -x "$deb" "$dir.tmp"
    touch "$dir.tmp/.stamp-$ver"
    mv "$dir.tmp" "$dir"
    # Keep only the current .deb of this package.
    find "$cache/debs" -name "${pkg}_*.deb" ! -path "$deb" -delete
}

resolve_and_fetch() {
    local kpkg kver_pkg bb_ver
    # The metapackage names the versioned kernel package it depends on.
    kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    if [ -z "$kpkg" ]; then
        candidate linux-image-cloud-amd64 >/dev/null   # triggers apt-get update
        kpkg=$(apt-cache depends linux-image-cloud-amd64 |
            awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    fi
    [ -n "$kpkg" ] || { echo "fetch-artifacts: cannot resolve linux-image-cloud-amd64" >&2; return 1; }
    kver_pkg=$(candidate "$kpkg")
    bb_ver=$(candidate busybox-static)
    fetch "$kpkg" "$kver_pkg"
    fetch busybox-static "$bb_ver"

    local kdir=$cache/$kpkg kver=${kpkg#linux-image-}
    local kernel=$kdir/boot/vmlinuz-$kver modules=$kdir/lib/modules/$kver
    [ -d "$modules" ] || modules=$kdir/usr/lib/modules/$kver
    local busybox=$cache/busybox-static/bin/busybox
    local f
    for f in "$kernel" "$modules/kernel" "$busybox"; do
        [ -e "$f" ] || { echo "fetch-artifacts: expected $f after extraction" >&2; return 1; }
    done
    cat >"$cache/env.tmp" <<EOF
KVER=$kver
KERNEL=$kernel
KCONFIG=$kdir/boot/config-$kver
MODULES=$modules
BUSYBOX=$busybox
EOF
    mv "$cache/env.tmp" "$cache/env"
}

# shellcheck disable=SC2153 # KERNEL, BUSYBOX, MODULES come from the env file
# Fast path: nothing can have changed if apt's package lists are no newer
# than our last complete fetch (apt-cache itself takes ~0.7 s per call here).
if [ -s "$cache/env" ] && [ -z "$(find /var/lib/apt/lists -maxdepth 1 -newer "$cache/env" -print -quit 2>/dev/null)" ] &&
    (. "$cache/env" && [ -e "$KERNEL" ] && [ -e "$BUSYBOX" ] && [ -d "$MODULES" ]); then
    :
elif ! resolve_and_fetch; then
    # Offline or apt broken: an earlier, complete fetch is still usable.
    if [ -s "$cache/env" ]; then
        echo "fetch-artifacts: using previously fetched artifacts" >&2
    else
        exit 1
    fi
fi
[ $quiet = 1 ] || cat "$cache/env"
