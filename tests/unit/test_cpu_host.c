/* CPUID topology rewriting and the host capability check. */
#include "test.h"
#include "vmm/cpuid.h"
#include "vmm/kvm_host.h"
#include "common/util.h"

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid_entry2 *e, unsigned n,
				     unsigned function, unsigned index)
{
	for (unsigned i = 0; i < n; i++)
		if (e[i].function == function && e[i].index == index)
			return &e[i];
	return NULL;
}

static unsigned make_entries(struct kvm_cpuid_entry2 *e)
{
	unsigned n = 0;

	e[n++] = (struct kvm_cpuid_entry2){ .function = 1, .ebx = 0xff0a0800,
					    .edx = 1u << 28 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 4, .index = 0, .eax = 0x1c004121 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 4, .index = 3, .eax = 0x1c03c163 };
	for (unsigned i = 0; i < 3; i++)
		e[n++] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = i };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x80000001, .ecx = 1u << 22 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x80000008, .ecx = 0x7007 };
	return n;
}

static void leaf1_carries_apic_id_and_count(void)
{
	struct kvm_cpuid_entry2 e[16];
	unsigned n = make_entries(e);

	cpuid_adjust(e, n, 3, 4);
	CHECK_EQ(e[0].ebx >> 24, 3);
	CHECK_EQ((e[0].ebx >> 16) & 0xff, 4);
	CHECK_EQ(e[0].ebx & 0xffff, 0x0800);
	CHECK(e[0].edx & (1u << 28));
}

static void leaf1_announces_a_hypervisor(void)
{
	struct kvm_cpuid_entry2 e[16];
	unsigned n = make_entries(e);

	cpuid_adjust(e, n, 0, 1);
	CHECK(e[0].ecx & (1u << 31));
}

static void single_vcpu_has_no_htt(void)
{
	struct kvm_cpuid_entry2 e[16];
	unsigned n = make_entries(e);

	cpuid_adjust(e, n, 0, 1);
	CHECK(!(e[0].edx & (1u << 28)));
	CHECK_EQ((e[0].ebx >> 16) & 0xff, 1);
}

static void leaf_b_describes_one_package_of_cores(void)
{
	struct kvm_cpuid_entry2 e[16];
	unsigned n = make_entries(e);
	struct kvm_cpuid_entry2 *smt, *core, *none;

	cpuid_adjust(e, n, 5, 6);
	smt = find(e, n, 0xb, 0);
	core = find(e, n, 0xb, 1);
	none = find(e, n, 0xb, 2);
	CHECK_EQ(smt->ebx, 1);
	CHECK_EQ(smt->eax, 0);
	CHECK_EQ((smt->ecx >> 8) & 0xff, 1);
	CHECK_EQ(core->eax, 3);          /* 6 ids need 3 bits */
	CHECK_EQ(core->ebx, 6);
	CHECK_EQ((core->ecx >> 8) & 0xff, 2);
	CHECK_EQ(none->ebx, 0);
	CHECK_EQ((none->ecx >> 8) & 0xff, 0);
	CHECK_EQ(smt->edx, 5);
	CHECK_EQ(core->edx, 5);
}

static void leaf4_counts_cores_and_shares_l3(void)
{
	struct kvm_cpuid_entry2 e[16];
	unsigned n = make_entries(e);

	cpuid_adjust(e, n, 0, 4);
	CHECK_EQ(find(e, n, 4, 0)->eax >> 26, 3);
	CHECK_EQ((find(e, n, 4, 0)->eax >> 14) & 0xfff, 0);
	CHECK_EQ((find(e, n, 4, 3)->eax >> 14) & 0xfff, 3);
	CHECK_EQ(find(e, n, 4, 3)->eax & 0x3fff, 0x0163);
}

static void amd_leaves_match_the_count(void)
{
	struct kvm_cpuid_entry2 e[16];
	unsigned n = make_entries(e);

	cpuid_adjust(e, n, 0, 64);
	CHECK(!(find(e, n, 0x80000001, 0)->ecx & (1u << 22)));
	CHECK_EQ(find(e, n, 0x80000008, 0)->ecx & 0xff, 63);
	CHECK_EQ((find(e, n, 0x80000008, 0)->ecx >> 12) & 0xf, 6);
}

static void cpuinfo_with_svm_or_vmx_is_capable(void)
{
	CHECK(kvm_host_cpuinfo_has_hwvirt("processor\t: 0\nflags\t\t: fpu vme svm lm\n"));
	CHECK(kvm_host_cpuinfo_has_hwvirt("flags\t\t: fpu vmx\nbugs\t: x\n"));
}

static void cpuinfo_without_hwvirt_is_not(void)
{
	/* The flags of a KVM PVM guest, and look-alike words that are not the flag. */
	CHECK(!kvm_host_cpuinfo_has_hwvirt("processor\t: 0\nflags\t\t: fpu vme pse lm\n"));
	CHECK(!kvm_host_cpuinfo_has_hwvirt("flags\t\t: svm_lock vmx_x fpu\n"));
	CHECK(!kvm_host_cpuinfo_has_hwvirt("flags\t\t: fpu\nvmx flags\t: ept\n"));
	CHECK(!kvm_host_cpuinfo_has_hwvirt(""));
}

int main(void)
{
	RUN(leaf1_carries_apic_id_and_count);
	RUN(leaf1_announces_a_hypervisor);
	RUN(single_vcpu_has_no_htt);
	RUN(leaf_b_describes_one_package_of_cores);
	RUN(leaf4_counts_cores_and_shares_l3);
	RUN(amd_leaves_match_the_count);
	RUN(cpuinfo_with_svm_or_vmx_is_capable);
	RUN(cpuinfo_without_hwvirt_is_not);
	return test_done();
}
