/*
 * Can this host run our guests? Opening /dev/kvm and checking it.
 *
 * A /dev/kvm is not enough: KVM PVM (a paravirtual KVM some cloud VMs
 * offer) accepts the same ioctls but cannot run an unmodified kernel, which
 * would hang in the host. We look for hardware virtualization (vmx or svm in
 * /proc/cpuinfo) and the KVM capabilities the VMM relies on, and refuse with
 * a clear message before creating anything.
 */
#ifndef CORRAL_VMM_KVM_HOST_H
#define CORRAL_VMM_KVM_HOST_H

#include <stdbool.h>

/* Returns an open /dev/kvm, or -ENODEV/-errno after a message. -ENOTSUP
 * means the KVM here cannot run unmodified guests. */
int kvm_host_open(unsigned vcpus);

/* True if `cpuinfo` (the text of /proc/cpuinfo) shows VT-x or AMD-V. */
bool kvm_host_cpuinfo_has_hwvirt(const char *cpuinfo);

#endif
