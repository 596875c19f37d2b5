/* Exit statistics for --stats: where the guest's VM exits go. */
#include "vmm/vm.h"
#include "common/util.h"

#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>

#define TOP_PORTS 12

static const char *exit_reason_name(unsigned reason)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "unknown", [KVM_EXIT_EXCEPTION] = "exception",
		[KVM_EXIT_IO] = "io", [KVM_EXIT_HYPERCALL] = "hypercall",
		[KVM_EXIT_DEBUG] = "debug", [KVM_EXIT_HLT] = "hlt", [KVM_EXIT_MMIO] = "mmio",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window_open", [KVM_EXIT_SHUTDOWN] = "shutdown",
		[KVM_EXIT_FAIL_ENTRY] = "fail_entry", [KVM_EXIT_INTR] = "intr",
		[KVM_EXIT_INTERNAL_ERROR] = "internal_error",
		[KVM_EXIT_SYSTEM_EVENT] = "system_event",
	};

	return reason < ARRAY_SIZE(names) && names[reason] ? names[reason] : "other";
}

struct port_count {
	unsigned key;      /* port * 2 + is_write */
	uint64_t count;
};

static int by_count_desc(const void *a, const void *b)
{
	const struct port_count *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

static void print_ports(const struct vm *vm, uint64_t io_total)
{
	struct port_count *ports = calloc(65536 * 2, sizeof(*ports));

	if (!ports)
		return;
	for (unsigned key = 0; key < 65536 * 2; key++) {
		ports[key].key = key;
		for (unsigned i = 0; i < vm->nvcpus; i++)
			ports[key].count += vm->vcpu[i].stats.port_exits[key];
	}
	qsort(ports, 65536 * 2, sizeof(*ports), by_count_desc);
	fprintf(stderr, "stats: top I/O ports (of %llu port exits):\n",
		(unsigned long long)io_total);
	for (unsigned i = 0; i < TOP_PORTS && ports[i].count; i++)
		fprintf(stderr, "stats:   port 0x%04x %-5s %10llu  %5.1f%%\n", ports[i].key / 2,
			ports[i].key % 2 ? "out" : "in", (unsigned long long)ports[i].count,
			100.0 * ports[i].count / (io_total ? io_total : 1));
	free(ports);
}

void vm_print_stats(const struct vm *vm)
{
	uint64_t total = 0;

	for (unsigned reason = 0; reason < ARRAY_SIZE(vm->vcpu[0].stats.exits); reason++) {
		uint64_t n = 0;

		for (unsigned i = 0; i < vm->nvcpus; i++)
			n += vm->vcpu[i].stats.exits[reason];
		if (n)
			fprintf(stderr, "stats: exits %-16s %10llu\n", exit_reason_name(reason),
				(unsigned long long)n);
		if (reason == KVM_EXIT_IO)
			total = n;
	}
	if (vm->vcpu[0].stats.port_exits)
		print_ports(vm, total);
}
