#include "vmm/vcpu.h"
#include "vmm/boot_cpu.h"
#include "vmm/cpuid.h"
#include "vmm/vm.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int vcpu_init(struct vm *vm, unsigned index, struct vcpu *vcpu)
{
	int size, err;

	*vcpu = (struct vcpu){ .vm = vm, .index = index, .fd = -1 };
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, index);
	if (vcpu->fd < 0)
		return log_errno("KVM_CREATE_VCPU");
	size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run))
		return log_errno("KVM_GET_VCPU_MMAP_SIZE");
	vcpu->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return log_errno("mmap kvm_run");
	}
	vcpu->run_size = size;
	if (vm->opt.stats) {
		vcpu->stats.port_exits = calloc(65536 * 2, sizeof(uint32_t));
		if (!vcpu->stats.port_exits)
			return -ENOMEM;
	}
	err = cpuid_setup_vcpu(vcpu->fd, vm->cpuid, index, vm->nvcpus);
	/* Only the BSP gets virtual-wire mode. An AP's LVTs stay masked, as
	 * after reset: with LINT0 accepting the PIC, a pending PIC interrupt
	 * would wake every AP waiting for its SIPI, over and over. */
	if (!err && index == 0)
		err = boot_cpu_set_lapic(vcpu->fd);
	return err;
}

void vcpu_fini(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	free(vcpu->stats.port_exits);
	vcpu->run = NULL;
	vcpu->fd = -1;
	vcpu->stats.port_exits = NULL;
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	bool write = run->io.direction == KVM_EXIT_IO_OUT;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	if (vcpu->stats.port_exits)
		vcpu->stats.port_exits[run->io.port * 2 + write]++;
	/* A string instruction (rep ins/outs) arrives as `count` accesses. */
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		ioport_dispatch(&vcpu->vm->io, run->io.port, write, data, run->io.size);
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	unsigned len = MIN(run->mmio.len, sizeof(run->mmio.data));

	machine_mmio(vcpu->vm, run->mmio.phys_addr, run->mmio.is_write, run->mmio.data, len);
}

static void report_crash(struct vcpu *vcpu, const char *what)
{
	struct kvm_regs regs;
	char why[160];

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) == 0)
		snprintf(why, sizeof(why), "%s on vcpu %u (rip 0x%llx, rsp 0x%llx)", what,
			 vcpu->index, (unsigned long long)regs.rip, (unsigned long long)regs.rsp);
	else
		snprintf(why, sizeof(why), "%s on vcpu %u", what, vcpu->index);
	vm_request_stop(vcpu->vm, VM_STOP_CRASH, why);
}

static void handle_system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_stop(vcpu->vm, VM_STOP_POWEROFF, "the guest powered off");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_stop(vcpu->vm, VM_STOP_REBOOT, "the guest reset itself");
		break;
	default:
		report_crash(vcpu, "system event crash");
		break;
	}
}

/* Returns false when this vCPU must stop running. */
static bool handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char what[96];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(vcpu);
		return true;
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(vcpu);
		return false;
	case KVM_EXIT_SHUTDOWN:
		report_crash(vcpu, "triple fault");
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "VM entry failed (reason 0x%llx)",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		report_crash(vcpu, what);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(what, sizeof(what), "KVM internal error %u", run->internal.suberror);
		report_crash(vcpu, what);
		return false;
	default:
		snprintf(what, sizeof(what), "unexpected KVM exit %u", run->exit_reason);
		report_crash(vcpu, what);
		return false;
	}
}

static void note_first_run(struct vm *vm)
{
	uint64_t expected = 0;

	atomic_compare_exchange_strong(&vm->first_run_ns, &expected, monotonic_ns());
}

/* Waits while the VM is paused; the VM's count of parked vCPUs tells
 * vm_pause() when all have stopped. */
static void park(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->pause_lock);
	vm->parked++;
	pthread_cond_signal(&vm->parked_cond);
	while (atomic_load(&vm->pause_requested) && atomic_load(&vm->stop_reason) == VM_RUNNING)
		pthread_cond_wait(&vm->resume_cond, &vm->pause_lock);
	vm->parked--;
	pthread_mutex_unlock(&vm->pause_lock);
}

/* Between two KVM_RUNs: parks while paused; false once the machine stops. */
static bool may_run(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	if (atomic_load(&vm->pause_requested))
		park(vcpu);
	return atomic_load(&vm->stop_reason) == VM_RUNNING;
}

/* A kick made KVM_RUN return: clear immediate_exit for the next entry. The
 * kicker sets its flag (stop or pause) before immediate_exit, and may_run()
 * reads the flags after this, so a kick is never lost; the fence keeps the
 * store from passing those loads. */
static void take_kick(struct vcpu *vcpu)
{
	vcpu->run->immediate_exit = 0;
	atomic_thread_fence(memory_order_seq_cst);
}

/* Wakes vm_pause() if it waits for this vCPU, which will never park now. */
static void note_exit(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_signal(&vm->parked_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	sigset_t kick;

	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	if (vcpu->index == 0)
		note_first_run(vm);

	while (may_run(vcpu)) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR) {
				take_kick(vcpu);
				continue;
			}
			if (errno == EAGAIN)
				continue;
			log_errno("KVM_RUN");
			vm_request_stop(vm, VM_STOP_ERROR, "KVM_RUN failed");
			break;
		}
		if (vcpu->run->exit_reason < ARRAY_SIZE(vcpu->stats.exits))
			vcpu->stats.exits[vcpu->run->exit_reason]++;
		if (!handle_exit(vcpu))
			break;
	}
	note_exit(vm);
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	int err = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	char name[16];

	if (err) {
		log_error("cannot start vcpu %u: %s", vcpu->index, strerror(err));
		return -err;
	}
	vcpu->started = true;
	/* The name tells a supervisor which thread is which vCPU
	 * (/proc/PID/task/TID/comm): corrald's vcpu-list reads them. */
	snprintf(name, sizeof(name), "vcpu%u", vcpu->index);
	pthread_setname_np(vcpu->thread, name);
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	vcpu->run->immediate_exit = 1;
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
}

uint64_t vcpu_cpu_time_ns(const struct vcpu *vcpu)
{
	struct timespec ts;
	clockid_t clock;

	if (!vcpu->started || pthread_getcpuclockid(vcpu->thread, &clock) != 0 ||
	    clock_gettime(clock, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

#define MSR_IA32_TSC 0x10

int vcpu_get_tsc(struct vcpu *vcpu, uint64_t *tsc)
{
	union {
		struct kvm_msrs msrs;
		uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
	} u = { .msrs.nmsrs = 1 };
	int n;

	u.msrs.entries[0].index = MSR_IA32_TSC;
	n = ioctl(vcpu->fd, KVM_GET_MSRS, &u.msrs);
	if (n < 0)
		return log_errno("KVM_GET_MSRS (TSC)");
	if (n != 1) {
		log_error("KVM_GET_MSRS: vcpu %u has no TSC", vcpu->index);
		return -EIO;
	}
	*tsc = u.msrs.entries[0].data;
	return 0;
}

static int tsc_offset_attr(struct vcpu *vcpu, unsigned long request, uint64_t *offset)
{
	struct kvm_device_attr attr = {
		.group = KVM_VCPU_TSC_CTRL,
		.attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uintptr_t)offset,
	};

	return ioctl(vcpu->fd, request, &attr) < 0 ? -errno : 0;
}

int vcpu_get_tsc_offset(struct vcpu *vcpu, uint64_t *offset)
{
	return tsc_offset_attr(vcpu, KVM_GET_DEVICE_ATTR, offset);
}

int vcpu_set_tsc_offset(struct vcpu *vcpu, uint64_t offset)
{
	return tsc_offset_attr(vcpu, KVM_SET_DEVICE_ATTR, &offset);
}

static void on_kick(int sig)
{
	(void)sig;
}

int vcpu_install_kick_handler(void)
{
	struct sigaction sa = { .sa_handler = on_kick };

	/* No SA_RESTART: the signal must make KVM_RUN return EINTR. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return log_errno("sigaction");
	return 0;
}
