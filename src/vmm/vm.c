#include "vmm/vm.h"
#include "vmm/boot_cpu.h"
#include "vmm/cpuid.h"
#include "vmm/irq_routing.h"
#include "vmm/layout.h"
#include "vmm/vcpu.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static int create_irqchip(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	/* Intel VMX needs these two pages for real-mode emulation; harmless elsewhere. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_TSS) < 0)
		return log_errno("KVM_SET_TSS_ADDR");
	uint64_t identity = LAYOUT_IDENTITY_MAP;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
		return log_errno("KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return log_errno("KVM_CREATE_IRQCHIP");
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return log_errno("KVM_CREATE_PIT2");
	return irq_routing_init(&vm->irq, vm->vm_fd);
}

static int register_memory(struct vm *vm)
{
	int err = guest_memory_map(&vm->mem);

	for (unsigned i = 0; !err && i < vm->mem.nregions; i++) {
		const struct guest_region *r = &vm->mem.region[i];
		struct kvm_userspace_memory_region region = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uintptr_t)r->host,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
			err = log_errno("KVM_SET_USER_MEMORY_REGION");
	}
	return err;
}

static int init_pause(struct vm *vm)
{
	pthread_condattr_t attr;
	int err;

	/* vm_pause() waits with a deadline on CLOCK_MONOTONIC. */
	err = pthread_condattr_init(&attr);
	if (!err)
		err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!err)
		err = pthread_cond_init(&vm->parked_cond, &attr);
	if (!err)
		err = pthread_cond_init(&vm->resume_cond, NULL);
	if (!err)
		err = pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_condattr_destroy(&attr);
	if (err)
		log_error("cannot set up pausing: %s", strerror(err));
	return -err;
}

int vm_create(struct vm *vm, int kvm_fd, const struct vm_options *opt,
	      const struct guest_memory *layout)
{
	int err;

	*vm = (struct vm){ .opt = *opt, .kvm_fd = kvm_fd, .vm_fd = -1, .mem = *layout,
			   .nvcpus = opt->vcpus, .stop_fd = -1, .signal_fd = -1,
			   .timer_fd = -1 };
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++)
		vm->vcpu[i].fd = -1;
	err = init_pause(vm);
	if (err)
		return err;
	vm->vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return log_errno("KVM_CREATE_VM");
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0)
		return log_errno("eventfd");
	err = create_irqchip(vm);
	if (!err)
		err = register_memory(vm);
	if (!err)
		err = boot_cpu_write_tables(&vm->mem);
	if (!err && !(vm->cpuid = cpuid_supported(kvm_fd)))
		err = -EIO;
	for (unsigned i = 0; !err && i < vm->nvcpus; i++)
		err = vcpu_init(vm, i, &vm->vcpu[i]);
	return err;
}

void vm_destroy(struct vm *vm)
{
	machine_destroy(&vm->machine);
	irq_routing_fini(&vm->irq);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_fini(&vm->vcpu[i]);
	free(vm->cpuid);
	vm->cpuid = NULL;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	guest_memory_unmap(&vm->mem);
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	vm->vm_fd = vm->stop_fd = -1;
	pthread_mutex_destroy(&vm->pause_lock);
	pthread_cond_destroy(&vm->parked_cond);
	pthread_cond_destroy(&vm->resume_cond);
}

int vm_setup_boot_cpu(struct vm *vm, uint64_t entry, uint64_t zero_page)
{
	return boot_cpu_set_regs(vm->vcpu[0].fd, entry, zero_page);
}

void vm_set_irq(void *opaque, unsigned gsi, bool high)
{
	struct vm *vm = opaque;
	struct kvm_irq_level irq = { .irq = gsi, .level = high };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		log_errno("KVM_IRQ_LINE");
}

int vm_set_doorbell(void *opaque, uint64_t addr, unsigned len, int fd, bool assign)
{
	struct vm *vm = opaque;
	struct kvm_ioeventfd ioeventfd = {
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &ioeventfd) < 0)
		return log_errno("KVM_IOEVENTFD");
	return 0;
}

void vm_request_stop(struct vm *vm, enum vm_stop reason, const char *why)
{
	int expected = VM_RUNNING;
	uint64_t one = 1;

	if (!atomic_compare_exchange_strong(&vm->stop_reason, &expected, reason))
		return;
	if (reason == VM_STOP_CRASH || reason == VM_STOP_ERROR)
		log_error("%s", why);
	else
		log_info("%s", why);
	if (write(vm->stop_fd, &one, sizeof(one)) < 0)
		log_errno("stop request");
}

static void on_stop_request(void *ctx, uint32_t events)
{
	struct vm *vm = ctx;

	(void)events;
	event_loop_quit(&vm->loop);
}

static int arm_shutdown_timer(struct vm *vm)
{
	struct itimerspec when = { .it_value.tv_sec = vm->opt.shutdown_timeout };

	if (timerfd_settime(vm->timer_fd, 0, &when, NULL) < 0)
		return log_errno("timerfd_settime");
	return 0;
}

void vm_shutdown(struct vm *vm, const char *who)
{
	if (vm->opt.shutdown_timeout == 0) {
		vm_request_stop(vm, VM_STOP_HOST, "stopped by the host");
		return;
	}
	/* A paused guest could not react to the button. */
	vm_resume(vm);
	if (vm->power_button_pressed) {
		log_info("%s: pressing the power button again", who);
		machine_power_button(vm);
		return;
	}
	log_info("%s: pressing the power button; the guest has %u s to power off",
		 who, vm->opt.shutdown_timeout);
	vm->power_button_pressed = true;
	machine_power_button(vm);
	if (arm_shutdown_timer(vm) < 0)
		vm_request_stop(vm, VM_STOP_HOST, "stopped by the host");
}

/* A signal or Ctrl-]: the first is the power button, a second stops the
 * machine at once. */
static void request_shutdown(struct vm *vm, const char *who)
{
	if (vm->power_button_pressed) {
		vm_request_stop(vm, VM_STOP_HOST, "stopped by the host");
		return;
	}
	vm_shutdown(vm, who);
}

static void on_signal(void *ctx, uint32_t events)
{
	struct vm *vm = ctx;
	struct signalfd_siginfo si;
	char who[16];

	(void)events;
	if (read(vm->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	snprintf(who, sizeof(who), "SIG%s", sigabbrev_np(si.ssi_signo));
	request_shutdown(vm, who);
}

static void on_shutdown_timeout(void *ctx, uint32_t events)
{
	struct vm *vm = ctx;

	(void)events;
	vm_request_stop(vm, VM_STOP_HOST, "the guest did not power off in time; stopped by the host");
}

static void on_console_escape(void *ctx)
{
	request_shutdown(ctx, "Ctrl-]");
}

static void vm_signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

int vm_block_signals(void)
{
	sigset_t set;

	vm_signal_set(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	/* pthread_sigmask fails only for a bad `how`; nothing to report. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return vcpu_install_kick_handler();
}

/* SIGTERM and SIGINT, blocked since vm_block_signals(), arrive through a
 * signalfd on the main thread; the vCPU threads inherit the block. */
static int open_signals(struct vm *vm)
{
	sigset_t set;

	vm_signal_set(&set);
	vm->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vm->signal_fd < 0)
		return log_errno("signalfd");
	vm->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (vm->timer_fd < 0)
		return log_errno("timerfd_create");
	return 0;
}

static int setup_loop(struct vm *vm)
{
	int err = event_loop_init(&vm->loop);

	if (!err)
		err = open_signals(vm);
	if (!err)
		err = event_loop_add(&vm->loop, vm->stop_fd, EPOLLIN, on_stop_request, vm);
	if (!err)
		err = event_loop_add(&vm->loop, vm->signal_fd, EPOLLIN, on_signal, vm);
	if (!err)
		err = event_loop_add(&vm->loop, vm->timer_fd, EPOLLIN, on_shutdown_timeout, vm);
	if (!err && vm->console)
		err = console_attach(vm->console, &vm->loop, machine_console_input,
				     on_console_escape, vm);
	if (!err && vm->hvc_console)
		err = console_attach(vm->hvc_console, &vm->loop, machine_hvc_input,
				     on_console_escape, vm);
	if (!err && vm->control)
		err = control_attach(vm->control, &vm->loop, &vm_control_ops, vm);
	return err;
}

static void teardown_loop(struct vm *vm)
{
	event_loop_fini(&vm->loop);
	if (vm->signal_fd >= 0)
		close(vm->signal_fd);
	if (vm->timer_fd >= 0)
		close(vm->timer_fd);
	vm->signal_fd = vm->timer_fd = -1;
}

#define VM_PAUSE_TIMEOUT_S 10

/* Waits until every vCPU is parked (0), the machine stops (-ECANCELED) or
 * the time is up (-ETIMEDOUT). */
static int wait_parked(struct vm *vm)
{
	struct timespec deadline;
	int err = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += VM_PAUSE_TIMEOUT_S;
	pthread_mutex_lock(&vm->pause_lock);
	while (!err && vm->parked < vm->nvcpus) {
		if (atomic_load(&vm->stop_reason) != VM_RUNNING)
			err = -ECANCELED;
		else
			err = -pthread_cond_timedwait(&vm->parked_cond, &vm->pause_lock, &deadline);
	}
	pthread_mutex_unlock(&vm->pause_lock);
	return err;
}

/* Lets parked vCPUs go: to run on, or, once a stop was requested, to end. */
static void release_vcpus(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->pause_requested, false);
	pthread_cond_broadcast(&vm->resume_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

/* The TSC runs on while the vCPUs are parked (the guest's TSC is the
 * host's plus an offset), so a guest whose clocksource is the TSC (Linux's
 * choice when the TSC is invariant) would see the pause. Remember vCPU 0's
 * TSC; resuming moves every vCPU's offset back by what it advanced since.
 * Without KVM_VCPU_TSC_OFFSET (Linux < 5.16) only kvmclock is stopped. */
static void save_tsc(struct vm *vm)
{
	uint64_t offset;
	int err = vcpu_get_tsc(&vm->vcpu[0], &vm->paused_tsc);

	if (!err)
		err = vcpu_get_tsc_offset(&vm->vcpu[0], &offset);
	vm->tsc_saved = !err;
	if (err)
		log_debug("pause: no TSC offset control (%s): the guest's TSC runs on",
			  strerror(-err));
}

/* The offsets are read again here, not kept from the pause: on a host
 * whose TSC KVM deems unstable, KVM itself moves them whenever a vCPU is
 * loaded (and then catches the guest's TSC up with the time elapsed since
 * the offset was last set). Setting them now covers both cases. The same
 * advance for every vCPU keeps their TSCs in step. */
static int restore_tsc(struct vm *vm)
{
	uint64_t now, offset;
	int err;

	if (!vm->tsc_saved)
		return 0;
	err = vcpu_get_tsc(&vm->vcpu[0], &now);
	for (unsigned i = 0; !err && i < vm->nvcpus; i++) {
		err = vcpu_get_tsc_offset(&vm->vcpu[i], &offset);
		if (!err)
			err = vcpu_set_tsc_offset(&vm->vcpu[i], offset - (now - vm->paused_tsc));
	}
	if (err)
		log_error("resume: cannot set the TSC offset: %s", strerror(-err));
	return err;
}

/* kvmclock, the paravirtual clock Linux guests keep time with, is the
 * host's clock plus an offset: KVM_SET_CLOCK on resume sets it back to its
 * value at the pause, as QEMU does. */
static int save_clocks(struct vm *vm)
{
	struct kvm_clock_data clock = { 0 };

	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &clock) < 0)
		return log_errno("KVM_GET_CLOCK");
	vm->paused_kvmclock = clock.clock;
	save_tsc(vm);
	return 0;
}

static int restore_clocks(struct vm *vm)
{
	/* No flags: KVM_CLOCK_REALTIME would make KVM add the time elapsed. */
	struct kvm_clock_data clock = { .clock = vm->paused_kvmclock };
	int err = restore_tsc(vm);

	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
		err = log_errno("KVM_SET_CLOCK");
	return err;
}

/* Once pause_requested is set: waits for the vCPUs to park and stops the
 * guest's clocks. */
static int finish_pause(struct vm *vm)
{
	int err = wait_parked(vm);

	if (!err)
		err = save_clocks(vm);
	if (err) {
		release_vcpus(vm);
		log_error("cannot pause the guest: %s", strerror(-err));
		return err;
	}
	vm->paused = true;
	log_info("guest paused");
	return 0;
}

int vm_pause(struct vm *vm)
{
	if (vm->paused)
		return 0;
	atomic_store(&vm->pause_requested, true);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_kick(&vm->vcpu[i]);
	return finish_pause(vm);
}

int vm_resume(struct vm *vm)
{
	int err;

	if (!vm->paused)
		return 0;
	err = restore_clocks(vm);
	release_vcpus(vm);
	vm->paused = false;
	log_info("guest resumed");
	return err;
}

enum vm_stop vm_run(struct vm *vm)
{
	int err = setup_loop(vm);

	/* Started paused: the vCPUs park before their first KVM_RUN. */
	if (vm->opt.start_paused)
		atomic_store(&vm->pause_requested, true);
	for (unsigned i = 0; !err && i < vm->nvcpus; i++)
		err = vcpu_start(&vm->vcpu[i]);
	if (!err && vm->opt.start_paused)
		err = finish_pause(vm);
	if (err)
		vm_request_stop(vm, VM_STOP_ERROR, "cannot start the machine");
	else if (event_loop_run(&vm->loop) < 0)
		vm_request_stop(vm, VM_STOP_ERROR, "event loop failed");

	/* Whatever ended the loop, a reason is recorded by now; stop every vCPU,
	 * parked ones included. */
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_kick(&vm->vcpu[i]);
	release_vcpus(vm);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_join(&vm->vcpu[i]);
	teardown_loop(vm);
	return atomic_load(&vm->stop_reason);
}
