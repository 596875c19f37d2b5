/*
 * One virtual machine on /dev/kvm: its memory, vCPUs, port bus and machine.
 *
 * vm_create() builds the KVM VM (in-kernel irqchip and PIT, guest RAM,
 * vCPUs with CPUID and local APICs); machine_create() (machine.h) adds the PC
 * devices; vm_run() starts one thread per vCPU and runs the main-thread event
 * loop until the guest powers off, reboots or crashes, or the host stops it,
 * and returns which. A vCPU thread never decides alone: anything that ends
 * the machine goes through vm_request_stop(), the first reason wins, and the
 * main thread then stops every vCPU and tears down. No global state: one
 * process could run several VMs (the tests do not, but nothing forbids it).
 *
 * vm_pause() stops guest time for a supervisor (the control socket,
 * control.h): every vCPU is kicked out of KVM_RUN and parks until
 * vm_resume(), and the guest's clocks are put back on resume to where they
 * stood at the pause, so the guest does not see the time it spent paused.
 */
#ifndef CORRAL_VMM_VM_H
#define CORRAL_VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/console.h"
#include "vmm/control.h"
#include "vmm/event_loop.h"
#include "common/guest_memory.h"
#include "vmm/ioport.h"
#include "vmm/irq_routing.h"
#include "vmm/machine.h"

#define VM_MAX_VCPUS 64

enum vm_stop {
	VM_RUNNING = 0,
	VM_STOP_POWEROFF,      /* the guest powered off (ACPI S5) */
	VM_STOP_REBOOT,        /* the guest asked for a reset */
	VM_STOP_CRASH,         /* pvpanic, triple fault, or KVM could not run it */
	VM_STOP_HOST,          /* the host stopped it (signal, shutdown timeout) */
	VM_STOP_ERROR,         /* the VMM itself failed */
};

struct vcpu_stats {
	uint64_t exits[128];          /* by KVM exit reason */
	uint32_t *port_exits;         /* [port * 2 + is_write], only with --stats */
};

struct vcpu {
	struct vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
	struct vcpu_stats stats;
};

struct vm_options {
	uint64_t memory;
	unsigned vcpus;
	unsigned shutdown_timeout;    /* seconds after SIGTERM before a hard stop */
	bool start_paused;            /* vCPUs wait for a resume before they run */
	bool stats;
};

struct vm {
	struct vm_options opt;
	int kvm_fd;
	int vm_fd;
	struct guest_memory mem;
	struct kvm_cpuid2 *cpuid;     /* what KVM supports; specialised per vCPU */
	unsigned nvcpus;
	struct vcpu vcpu[VM_MAX_VCPUS];
	struct ioport_bus io;
	struct irq_routing irq;
	struct machine machine;
	const struct machine_devices *devices;	/* what machine_create() adds */
	struct console *console;	/* the UART's */
	struct console *hvc_console;	/* hvc0's, or NULL for no virtio-console */
	struct event_loop loop;

	_Atomic int stop_reason;      /* enum vm_stop */
	int stop_fd;                  /* eventfd the main thread waits on */
	int signal_fd;
	int timer_fd;                 /* the shutdown timeout */
	bool power_button_pressed;
	struct control *control;	/* the control socket, or NULL */
	uint64_t start_ns;            /* when the VMM started (CLOCK_MONOTONIC), for uptime */

	/* Pausing: while pause_requested, vCPUs park between two KVM_RUNs,
	 * waiting on resume_cond; vm_pause() waits on parked_cond until all
	 * have. `parked` is under pause_lock; the rest is the main thread's. */
	pthread_mutex_t pause_lock;
	pthread_cond_t parked_cond;
	pthread_cond_t resume_cond;
	_Atomic bool pause_requested;
	unsigned parked;
	bool paused;                  /* every vCPU parked, clocks saved */
	uint64_t paused_kvmclock;     /* KVM_GET_CLOCK at the pause, ns */
	uint64_t paused_tsc;          /* vCPU 0's TSC at the pause */
	bool tsc_saved;               /* paused_tsc is, and TSC offsets can be set */

	_Atomic uint64_t first_run_ns;  /* when vCPU 0 first entered KVM_RUN */
};

/* Blocks SIGTERM and SIGINT (handled by vm_run() through a signalfd, so one
 * that arrives during setup waits for it) and the vCPU kick signal. Call it
 * before creating threads or touching the terminal. */
int vm_block_signals(void);

/* Creates the VM with `opt` on an open /dev/kvm; `mem` is a computed layout. */
int vm_create(struct vm *vm, int kvm_fd, const struct vm_options *opt,
	      const struct guest_memory *layout);
void vm_destroy(struct vm *vm);

/* Asks the main thread to stop the machine; safe from any thread. The
 * first reason recorded wins; `why` is logged with it. */
void vm_request_stop(struct vm *vm, enum vm_stop reason, const char *why);

/* Raises or lowers a GSI of the in-kernel irqchip (an irq_line's `set`). */
void vm_set_irq(void *vm, unsigned gsi, bool high);

/* Makes a guest write at `addr` signal `fd` (a KVM ioeventfd, `len` 0 for
 * any width), or stops that; a device_host's `doorbell`. */
int vm_set_doorbell(void *vm, uint64_t addr, unsigned len, int fd, bool assign);

/* Pauses the running guest: returns once every vCPU has left KVM_RUN and
 * the guest's clocks are saved. Pausing a paused guest does nothing. Fails
 * (with the guest running) if a vCPU does not stop within 10 s or the
 * machine is stopping. Main thread only, like vm_resume(). */
int vm_pause(struct vm *vm);

/* Puts the guest's clocks back to where they were at the pause and lets
 * the vCPUs run. The vCPUs run even if the clocks could not be put back
 * (that is the error returned). Resuming a running guest does nothing. */
int vm_resume(struct vm *vm);

/* What the first SIGTERM does: presses the ACPI power button (resuming a
 * paused guest first, or it could not react) and starts the shutdown
 * timeout; with no timeout, stops the machine at once. Pressing it again
 * presses the button again and keeps the first deadline. `who` is logged. */
void vm_shutdown(struct vm *vm, const char *who);

/* The control socket's commands on a VM (vm_control.c); ctx is the vm. */
extern const struct control_ops vm_control_ops;

/* Runs the guest until it stops; returns the reason. */
enum vm_stop vm_run(struct vm *vm);

/* Sets the BSP's registers for the kernel's 64-bit entry. */
int vm_setup_boot_cpu(struct vm *vm, uint64_t entry, uint64_t zero_page);

/* Prints exit statistics (with --stats). */
void vm_print_stats(const struct vm *vm);

#endif
