# shellcheck shell=bash
# Functions for the scripts that build initramfs images (build-l1.sh,
# make-guest-initrd.sh, make-guest-tools.sh). Bash; sourced, not run.
#
#   stage_elf STAGE FILE DEST     FILE at STAGE/DEST with its shared libraries
#   stage_modules MODDIR STAGE DIR LIST NAME...
#                                 kernel modules and their dependencies
#   stage_pack STAGE OUT [GZIP-LEVEL]   STAGE as a gzip'd newc cpio archive

# stage_elf STAGE FILE DEST: copy the program FILE to STAGE/DEST, and every
# shared library `ldd` lists for it (the dynamic loader included) to the path
# ldd resolves it to, so that it runs in the initramfs as it does here. A
# busybox applet link at DEST is replaced, never written through.
stage_elf() {
    local stage=$1 file=$2 dest=$3 lib libs
    mkdir -p "$stage$(dirname "$dest")"
    rm -f "$stage$dest"
    cp -L "$file" "$stage$dest"
    # ldd of a static program says "not a dynamic executable" and fails.
    libs=$(ldd "$file" 2>/dev/null | awk '/not found/ {print "MISSING " $1; next}
                    $2 == "=>" && $3 ~ /^\// {print $3; next}
                    $1 ~ /^\// {print $1}') || return 0
    while read -r lib; do
        [ -n "$lib" ] || continue
        case $lib in MISSING*) echo "stage_elf: $file: library ${lib#MISSING } not found" >&2; return 1 ;; esac
        [ -e "$stage$lib" ] && continue
        mkdir -p "$stage$(dirname "$lib")"
        cp -L "$lib" "$stage$lib"
    done <<<"$libs"
}

# stage_modules MODDIR STAGE DIR LIST NAME...: copy the kernel modules NAME...
# of the module tree MODDIR (.../lib/modules/VERSION) and all they depend on
# (modinfo's "depends", recursively) to STAGE/DIR, as plain .ko files
# (.ko.xz/.ko.zst/.ko.gz are decompressed: busybox insmod loads only plain
# ones), and append their file names to the file LIST in load order,
# dependencies first, each once. Names as modprobe takes them ('-' and '_'
# are the same). A module built into the kernel (modules.builtin) is skipped;
# a NAME that starts with '?' is optional: skipped if the kernel has no such
# module. Anything else missing is an error.
stage_modules() {
    local moddir=$1 stage=$2 dir=$3 list=$4
    shift 4
    local modinfo f n
    modinfo=$(command -v modinfo || echo /sbin/modinfo)
    [ -x "$modinfo" ] || { echo "stage_modules: modinfo not found (package kmod)" >&2; return 1; }
    local -A km_path=() km_state=() km_builtin=()
    while IFS= read -r f; do
        n=${f##*/}
        n=${n%%.ko*}
        km_path[${n//-/_}]=$f
    done < <(find "$moddir/kernel" -name '*.ko' -o -name '*.ko.*')
    if [ -e "$moddir/modules.builtin" ]; then
        while IFS= read -r f; do
            n=${f##*/}
            n=${n%.ko}
            km_builtin[${n//-/_}]=1
        done <"$moddir/modules.builtin"
    fi
    mkdir -p "$stage/$dir"
    touch "$list"
    for n in "$@"; do
        _stage_module "$n" || return 1
    done
}

# _stage_module [?]NAME: one module after its dependencies (stage_modules'
# locals are visible here: bash scopes dynamically).
_stage_module() {
    local n=$1 optional=0 file base deps d
    case $n in '?'*) optional=1; n=${n#?} ;; esac
    n=${n//-/_}
    case ${km_state[$n]:-} in
        ok) return 0 ;;
        visiting) echo "stage_modules: dependency cycle at $n" >&2; return 1 ;;
    esac
    file=${km_path[$n]:-}
    if [ -z "$file" ]; then
        [ -n "${km_builtin[$n]:-}" ] && { km_state[$n]=ok; return 0; }
        [ $optional = 1 ] && return 0
        echo "stage_modules: no module $n in $moddir" >&2
        return 1
    fi
    km_state[$n]=visiting
    deps=$("$modinfo" -F depends "$file") || return 1
    for d in ${deps//,/ }; do
        _stage_module "$d" || return 1
    done
    base=${file##*/}
    case $base in
        *.ko) cp "$file" "$stage/$dir/$base" ;;
        *.ko.xz) base=${base%.xz}; xz -dc "$file" >"$stage/$dir/$base" ;;
        *.ko.zst) base=${base%.zst}; zstd -qdc "$file" >"$stage/$dir/$base" ;;
        *.ko.gz) base=${base%.gz}; gzip -dc "$file" >"$stage/$dir/$base" ;;
        *) echo "stage_modules: cannot handle $file" >&2; return 1 ;;
    esac || { echo "stage_modules: cannot decompress $file" >&2; return 1; }
    echo "$base" >>"$list"
    km_state[$n]=ok
}

# stage_pack STAGE OUT [LEVEL]: STAGE as a newc cpio archive compressed with
# gzip -LEVEL (default 9), written to OUT atomically. Needs BUSYBOX (the host
# has no cpio unless installed). Linux unpacks concatenated archives like
# this one as one initramfs.
stage_pack() {
    local stage=$1 out=$2 level=${3:-9}
    (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) |
        gzip "-$level" -n >"$out.tmp"
    mv "$out.tmp" "$out"
}
