/*
 * What each vCPU sees through CPUID.
 *
 * We start from what KVM supports on this host (KVM_GET_SUPPORTED_CPUID) and
 * give every vCPU a consistent topology: one socket, one thread per core, as
 * many cores as vCPUs, APIC id = vCPU index. The leaves that carry topology
 * (1, 4, 0xB, 0x1F, AMD's 0x80000008) are rewritten so Linux counts the CPUs
 * the ACPI MADT lists, whatever the host CPU's own topology is. The
 * hypervisor bit is set so the guest finds KVM's paravirtual features
 * (kvmclock above all).
 */
#ifndef CORRAL_VMM_CPUID_H
#define CORRAL_VMM_CPUID_H

#include <linux/kvm.h>

/* KVM's supported CPUID; free() the result. NULL on failure (logged). */
struct kvm_cpuid2 *cpuid_supported(int kvm_fd);

/* Rewrites the leaves we own (topology, hypervisor bit) for vCPU `apic_id` of `ncpus`. */
void cpuid_adjust(struct kvm_cpuid_entry2 *entries, unsigned nent,
			unsigned apic_id, unsigned ncpus);

/* Installs the supported CPUID, specialised for this vCPU, with KVM_SET_CPUID2. */
int cpuid_setup_vcpu(int vcpu_fd, const struct kvm_cpuid2 *supported,
		     unsigned apic_id, unsigned ncpus);

#endif
