#!/usr/bin/env bash
# Builds corral's libFuzzer targets with clang and runs each for a while.
# Usage: scripts/fuzz.sh [SECONDS per target, default 60] [TARGET...]
# Corpora live in .cache/fuzz/<target>/ (git-ignored); crashes are left in
# the current directory as crash-* files, and the script fails.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
build=$repo/build-fuzz
if [ ! -d "$build" ]; then
    CC=clang meson setup "$build" "$repo" -Dfuzzing=true -Db_sanitize=address,undefined \
        -Db_lundef=false >/dev/null
fi
ninja -C "$build" >/dev/null
targets=("$@")
[ ${#targets[@]} -gt 0 ] ||
    mapfile -t targets < <(find "$build/tests" -maxdepth 1 -name 'fuzz_*' -type f -executable \
        -printf '%f\n' | sed 's/^fuzz_//')
for t in "${targets[@]}"; do
    corpus=$repo/.cache/fuzz/$t
    mkdir -p "$corpus"
    # The bzImage target starts from the head of a real kernel when one is cached.
    kernel=$(ls "$repo"/.cache/artifacts/*/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)
    if [ "$t" = bzimage ] && [ -n "$kernel" ] && [ ! -e "$corpus/seed-kernel" ]; then
        head -c 32768 "$kernel" >"$corpus/seed-kernel"
    fi
    # The xl.cfg parser starts from our domain files.
    if [ "$t" = xlcfg ]; then cp "$repo"/tests/data/*.cfg "$corpus"/; fi
    echo "fuzz: $t for ${seconds}s (corpus $corpus)"
    "$build/tests/fuzz_$t" -max_total_time="$seconds" -max_len=65536 "$corpus"
done
