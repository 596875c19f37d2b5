#include "vmm/cpuid.h"
#include "common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define CPUID_MAX_ENTRIES 256

#define LEAF1_EDX_HTT          (1u << 28)
#define LEAF1_ECX_TSC_DEADLINE (1u << 24)
#define LEAF1_ECX_HYPERVISOR   (1u << 31)
#define EXT1_ECX_TOPOEXT       (1u << 22)
/* Leaf 0xB/0x1F level types (SDM vol. 2A, CPUID leaf 0BH). */
#define TOPO_LEVEL_SMT         1
#define TOPO_LEVEL_CORE        2

struct kvm_cpuid2 *cpuid_supported(int kvm_fd)
{
	struct kvm_cpuid2 *cpuid;

	cpuid = calloc(1, sizeof(*cpuid) + CPUID_MAX_ENTRIES * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return NULL;
	cpuid->nent = CPUID_MAX_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		log_error("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(cpuid);
		return NULL;
	}
	/* The in-kernel LAPIC emulates the TSC-deadline timer, but KVM leaves
	 * it out of the supported list; the VMM offers it when KVM has it.
	 * Without it Linux programs the LAPIC timer's one-shot count. */
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0) {
		for (unsigned i = 0; i < cpuid->nent; i++)
			if (cpuid->entries[i].function == 1)
				cpuid->entries[i].ecx |= LEAF1_ECX_TSC_DEADLINE;
	}
	return cpuid;
}

/* Bits needed to hold ids 0..n-1. */
static unsigned id_bits(unsigned n)
{
	unsigned bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

static void set_extended_topology(struct kvm_cpuid_entry2 *e, unsigned apic_id,
				  unsigned ncpus)
{
	unsigned level = e->index;

	e->edx = apic_id;
	if (level == 0) {           /* one thread per core */
		e->eax = 0;
		e->ebx = 1;
		e->ecx = level | TOPO_LEVEL_SMT << 8;
	} else if (level == 1) {    /* all vCPUs are cores of one package */
		e->eax = id_bits(ncpus);
		e->ebx = ncpus;
		e->ecx = level | TOPO_LEVEL_CORE << 8;
	} else {                    /* no further levels */
		e->eax = 0;
		e->ebx = 0;
		e->ecx = level;
	}
}

/* Leaf 4: cores per package in EAX[31:26]; L1/L2 private to a core, L3 shared. */
static void set_cache_topology(struct kvm_cpuid_entry2 *e, unsigned ncpus)
{
	unsigned cache_level = (e->eax >> 5) & 7;
	unsigned sharing = cache_level >= 3 ? (1u << id_bits(ncpus)) - 1 : 0;

	if ((e->eax & 0x1f) == 0)   /* no more caches */
		return;
	e->eax &= 0x3fff;
	e->eax |= sharing << 14 | ((1u << id_bits(ncpus)) - 1) << 26;
}

void cpuid_adjust(struct kvm_cpuid_entry2 *entries, unsigned nent,
			unsigned apic_id, unsigned ncpus)
{
	for (unsigned i = 0; i < nent; i++) {
		struct kvm_cpuid_entry2 *e = &entries[i];

		switch (e->function) {
		case 1:
			/* KVM leaves the hypervisor bit to us; without it Linux
			 * never looks for KVM's leaves and runs without kvmclock. */
			e->ecx |= LEAF1_ECX_HYPERVISOR;
			e->ebx = (e->ebx & 0xffff) | apic_id << 24 |
				 (1u << id_bits(ncpus)) << 16;
			if (ncpus > 1)
				e->edx |= LEAF1_EDX_HTT;
			else
				e->edx &= ~LEAF1_EDX_HTT;
			break;
		case 4:
			set_cache_topology(e, ncpus);
			break;
		case 0xb:
		case 0x1f:
			set_extended_topology(e, apic_id, ncpus);
			break;
		case 0x80000001:
			/* Without TOPOEXT, Linux takes AMD topology from 0x80000008
			 * instead of the host's 0x8000001E. */
			e->ecx &= ~EXT1_ECX_TOPOEXT;
			break;
		case 0x80000008:
			e->ecx = (e->ecx & ~0xf0ffu) | id_bits(ncpus) << 12 | (ncpus - 1);
			break;
		}
	}
}

int cpuid_setup_vcpu(int vcpu_fd, const struct kvm_cpuid2 *supported,
		     unsigned apic_id, unsigned ncpus)
{
	size_t size = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *cpuid = malloc(size);
	int err = 0;

	if (!cpuid)
		return -ENOMEM;
	memcpy(cpuid, supported, size);
	cpuid_adjust(cpuid->entries, cpuid->nent, apic_id, ncpus);
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) < 0) {
		err = -errno;
		log_error("KVM_SET_CPUID2: %s", strerror(errno));
	}
	free(cpuid);
	return err;
}
