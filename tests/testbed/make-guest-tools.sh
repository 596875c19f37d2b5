#!/usr/bin/env bash
# Build the guest tool archives: one gzip'd newc cpio per program, holding the
# host's binary and every shared library `ldd` lists for it, at the same
# paths. A scenario appends the ones it needs to the guest initrd (lib.sh:
# guest_initrd_with SCRIPT --tool NAME / --tools); Linux unpacks
# concatenated archives as one initramfs. They stay out of the default
# initrd: Debian's fio alone brings ~80 MB of libraries (ceph, gluster, ICU).
#
# Usage: make-guest-tools.sh OUTDIR [PROGRAM...]   (default: fio iperf3)
# Writes OUTDIR/PROGRAM.gz; a program the host lacks is reported and
# skipped (install it: scripts/setup.sh). Each archive is rebuilt only when
# its inputs changed (OUTDIR/PROGRAM.gz.key).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [PROGRAM...]" >&2; exit 2; }
outdir=$1
shift
[ $# -gt 0 ] || set -- fio iperf3

"$here/fetch-artifacts.sh" --quiet
# shellcheck source=/dev/null
. "$here/../../.cache/artifacts/env"
# shellcheck source=stage-lib.sh
. "$here/stage-lib.sh"
mkdir -p "$outdir"

for prog in "$@"; do
    out=$outdir/$prog.gz
    path=$(command -v "$prog" || true)
    if [ -z "$path" ]; then
        echo "make-guest-tools: $prog is not installed on this host; no $prog in the guest (scripts/setup.sh installs it)" >&2
        rm -f "$out" "$out.key"
        continue
    fi
    path=$(realpath "$path")
    key=$( {
        cat "$0" "$here/stage-lib.sh"
        stat -L -c '%n %s %Y' "$path"
        ldd "$path" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' |
            xargs -r stat -L -c '%n %s %Y'
    } | sha256sum | cut -d' ' -f1)
    if [ -s "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
        continue
    fi
    stage=$(mktemp -d)
    stage_elf "$stage" "$path" "$path"
    stage_pack "$stage" "$out" 6
    rm -rf "$stage"
    echo "$key" >"$out.key"
done
