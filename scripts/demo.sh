#!/usr/bin/env bash
# Boot a demo guest under corral-vmm with its console on this terminal:
# Debian's stock cloud kernel with a busybox shell. Installs and builds first.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/setup.sh"
"$repo/tests/testbed/fetch-artifacts.sh" --quiet

if grep -qwE 'vmx|svm' /proc/cpuinfo; then
    echo "==> This host has VT-x/AMD-V: running corral-vmm directly. In the guest, 'poweroff -f' ends the demo."
else
    cat <<'EOF'
==> This host's /dev/kvm cannot run an unmodified kernel: its CPU shows no
    VT-x/AMD-V (it is itself a virtual machine, e.g. with KVM PVM). So the
    demo runs inside the testbed: a virtual host booted under QEMU's emulator
    with emulated AMD-V, where KVM is real, and corral-vmm runs there. The
    emulation makes it slow: give the guest about a minute to boot.
    In the guest, 'poweroff -f' ends the demo; Ctrl-A x quits QEMU at once.
EOF
fi
exec "$repo/tests/testbed/run.sh" --build "$repo/build" --demo
