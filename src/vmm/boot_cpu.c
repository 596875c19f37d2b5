#include "vmm/boot_cpu.h"
#include "vmm/layout.h"
#include "common/log.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#define BOOT_CS 0x10
#define BOOT_DS 0x18
#define BOOT_TSS 0x20

#define CR0_PE (1ull << 0)
#define CR0_ET (1ull << 4)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

#define PTE_PRESENT (1ull << 0)
#define PTE_WRITE   (1ull << 1)
#define PTE_LARGE   (1ull << 7)

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI    (4u << 8)
#define APIC_MODE_EXTINT (7u << 8)

/* A GDT descriptor from base, limit and the 12 bits of access+flags. */
static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(flags & 0xf0ffu) << 40) |
	       ((uint64_t)(limit & 0x000f0000u) << 32) | ((uint64_t)(base & 0x00ffffffu) << 16) |
	       (limit & 0xffffu);
}

static struct kvm_segment segment_from_gdt(uint64_t entry, uint16_t selector)
{
	return (struct kvm_segment){
		.base = ((entry >> 16) & 0xffffff) | (((entry >> 56) & 0xff) << 24),
		.limit = (uint32_t)(((entry >> 32) & 0xf0000) | (entry & 0xffff)),
		.selector = selector,
		.type = (entry >> 40) & 0xf,
		.present = (entry >> 47) & 1,
		.dpl = (entry >> 45) & 3,
		.db = (entry >> 54) & 1,
		.s = (entry >> 44) & 1,
		.l = (entry >> 53) & 1,
		.g = (entry >> 55) & 1,
	};
}

static const uint64_t boot_gdt[] = {
	0,
	0,
	0xa09b, /* 0x10: code, 64-bit (L), present, execute/read, accessed; G */
	0xc093, /* 0x18: data, 32-bit (D/B), present, read/write, accessed; G */
	0x808b, /* 0x20: 64-bit TSS (busy); VMX needs a usable TR even if unused */
};

int boot_cpu_write_tables(const struct guest_memory *mem)
{
	uint64_t *gdt = guest_ptr(mem, LAYOUT_GDT, sizeof(boot_gdt));
	uint64_t *pml4 = guest_ptr(mem, LAYOUT_PML4, 4096);
	uint64_t *pdpt = guest_ptr(mem, LAYOUT_PDPT, 4096);
	uint64_t *pd = guest_ptr(mem, LAYOUT_PD, 4 * 4096);

	if (!gdt || !pml4 || !pdpt || !pd)
		return -EFAULT;
	for (unsigned i = 0; i < sizeof(boot_gdt) / sizeof(boot_gdt[0]); i++)
		gdt[i] = boot_gdt[i] ? gdt_entry(boot_gdt[i], 0, 0xfffff) : 0;

	/* Identity-map the low 4 GiB with 2 MiB pages: kernel, zero page, command
	 * line and initrd all lie below 4 GiB. */
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = LAYOUT_PDPT | PTE_PRESENT | PTE_WRITE;
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (LAYOUT_PD + i * 4096) | PTE_PRESENT | PTE_WRITE;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
	return 0;
}

static void set_segments(struct kvm_sregs *sregs)
{
	struct kvm_segment code = segment_from_gdt(gdt_entry(boot_gdt[2], 0, 0xfffff), BOOT_CS);
	struct kvm_segment data = segment_from_gdt(gdt_entry(boot_gdt[3], 0, 0xfffff), BOOT_DS);
	struct kvm_segment tss = segment_from_gdt(gdt_entry(boot_gdt[4], 0, 0xfffff), BOOT_TSS);

	sregs->cs = code;
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
	sregs->tr = tss;
	sregs->gdt.base = LAYOUT_GDT;
	sregs->gdt.limit = sizeof(boot_gdt) - 1;
	sregs->idt.base = LAYOUT_IDT;
	sregs->idt.limit = 0;
}

int boot_cpu_set_regs(int vcpu_fd, uint64_t entry, uint64_t zero_page)
{
	struct kvm_regs regs = {
		.rip = entry,
		.rsi = zero_page,
		.rsp = LAYOUT_BOOT_STACK,
		.rbp = LAYOUT_BOOT_STACK,
		.rflags = 0x2,          /* bit 1 is always set; IF clear */
	};
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	struct kvm_sregs sregs;

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		goto fail;
	set_segments(&sregs);
	sregs.cr0 = CR0_PE | CR0_ET | CR0_PG;
	sregs.cr3 = LAYOUT_PML4;
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0 ||
	    ioctl(vcpu_fd, KVM_SET_FPU, &fpu) < 0)
		goto fail;
	return 0;
fail:
	return log_errno("cannot set the boot CPU's registers");
}

static void lapic_write(struct kvm_lapic_state *lapic, unsigned reg, uint32_t value)
{
	memcpy(&lapic->regs[reg], &value, sizeof(value));
}

static uint32_t lapic_read(const struct kvm_lapic_state *lapic, unsigned reg)
{
	uint32_t value;

	memcpy(&value, &lapic->regs[reg], sizeof(value));
	return value;
}

int boot_cpu_set_lapic(int vcpu_fd)
{
	struct kvm_lapic_state lapic;

	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &lapic) < 0)
		goto fail;
	lapic_write(&lapic, APIC_LVT0, (lapic_read(&lapic, APIC_LVT0) & ~0x700u) | APIC_MODE_EXTINT);
	lapic_write(&lapic, APIC_LVT1, (lapic_read(&lapic, APIC_LVT1) & ~0x700u) | APIC_MODE_NMI);
	if (ioctl(vcpu_fd, KVM_SET_LAPIC, &lapic) < 0)
		goto fail;
	return 0;
fail:
	return log_errno("cannot set up the local APIC");
}
