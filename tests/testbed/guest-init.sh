#!/bin/sh
# /init of the test guest ("L2"): busybox sh on Debian's stock cloud kernel.
# Prints machine-readable "@@ KEY value" lines on the console (ttyS0), then
# does what corral.action=... on the kernel command line says:
#   poweroff | reboot | panic | echo | acpi | idle | shell | script
# script: runs /scenario.sh (added by lib.sh's guest_initrd_with) with busybox
# sh, its output on the console, prints "@@ SCRIPT-EXIT <status>" and powers
# off.
# /dev/console exists before anything is mounted: the kernel's built-in
# initramfs always provides it, so this first line needs no setup.
echo "@@ BOOTED"

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

# Modules in load order (make-guest-initrd.sh writes the list, dependencies
# first): pvpanic-mmio binds to ACPI id QEMU0001 (port 0x505) and needs the
# pvpanic core; button gives the ACPI power button; evdev gives
# /dev/input/event*; then the virtio-pci transport and the virtio-blk, -net,
# -console and -rng drivers. Drivers bind to whatever devices exist (none is
# fine). Devices appear during or shortly after their insmod: scripts wait
# for the node they need (guest-lib.sh's wait_path).
while read -r m; do
    insmod "/lib/modules/$m" || echo "@@ INSMOD-FAILED $m"
done </etc/modules

# /sys/devices/system/cpu/online is a list of ranges such as "0-3,5".
count_cpus() {
    n=0
    for r in $(tr ',' ' ' </sys/devices/system/cpu/online); do
        case $r in
            *-*) n=$((n + ${r#*-} - ${r%-*} + 1)) ;;
            *) n=$((n + 1)) ;;
        esac
    done
    echo "$n"
}
echo "@@ CPUS $(count_cpus)"
grep -qw tsc_deadline_timer /proc/cpuinfo && echo "@@ TSC-DEADLINE yes" || echo "@@ TSC-DEADLINE no"
echo "@@ MEMTOTAL $(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
# The kernel's "Memory: 215716K/261752K available (...)" line; printed at
# info level, so it may not have reached a quiet console.
echo "@@ KMEM $(dmesg | grep -m1 -o 'Memory: [0-9]*K/[0-9]*K available')"
# Top-level "System RAM" ranges of /proc/iomem, in hex, as the e820 map gave them.
grep '^[0-9a-f]*-[0-9a-f]* : System RAM$' /proc/iomem | while read -r range _; do
    echo "@@ RAM $range"
done

action=
# shellcheck disable=SC2013 # the command line is a list of words
for word in $(cat /proc/cmdline); do
    case $word in corral.action=*) action=${word#corral.action=} ;; esac
done
echo "@@ ACTION ${action:-none}"

# The event device whose input device is named "Power Button".
power_button_dev() {
    for d in /sys/class/input/event*; do
        [ "$(cat "$d/device/name" 2>/dev/null)" = "Power Button" ] && { echo "/dev/input/${d##*/}"; return 0; }
    done
    return 1
}

case $action in
    poweroff)
        poweroff -f ;;
    reboot)
        reboot -f ;;
    panic)
        # pvpanic reports the panic to the VMM (exit status 3).
        echo c >/proc/sysrq-trigger ;;
    echo)
        echo "@@ READY"
        IFS= read -r line
        echo "@@ GOT $line"
        poweroff -f ;;
    acpi)
        dev=
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            dev=$(power_button_dev) && break
            sleep 0.5
        done
        if [ -z "$dev" ]; then
            echo "@@ NO-POWER-BUTTON (no input device named 'Power Button')"
            ls /sys/class/input/ 2>&1
            poweroff -f
        fi
        # Open the device before announcing READY, so no press can be missed.
        exec 3<"$dev"
        echo "@@ READY $dev"
        # One struct input_event is 24 bytes on x86_64; a press sends several.
        dd bs=24 count=1 <&3 >/dev/null 2>&1
        echo "@@ POWERBUTTON"
        poweroff -f ;;
    idle)
        echo "@@ READY"
        while :; do sleep 3600; done ;;
    script)
        if [ -f /scenario.sh ]; then
            rc=0
            (cd / && sh /scenario.sh) || rc=$?
            echo "@@ SCRIPT-EXIT $rc"
        else
            echo "@@ SCRIPT-EXIT 127 (no /scenario.sh in the initramfs)"
        fi
        poweroff -f ;;
    shell)
        cat <<EOF

  This is a corral guest: Debian's stock kernel $(uname -r)
  with a busybox initramfs, running under corral-vmm.
  $(count_cpus) vCPUs, $(awk '/^MemTotal:/ {print int($2/1024)}' /proc/meminfo) MiB of RAM.
  To power the guest off:  poweroff -f

EOF
        # cttyhack gives the shell a controlling tty, so Ctrl-C works.
        setsid cttyhack sh -l
        poweroff -f ;;
    *)
        echo "@@ UNKNOWN-ACTION '${action}' (corral.action= poweroff|reboot|panic|echo|acpi|idle|shell|script); powering off"
        poweroff -f ;;
esac
# Not reached unless the action above failed.
echo "@@ ACTION-FAILED $action"
sleep 1
poweroff -f
