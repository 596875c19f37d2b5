/*
 * The control socket's commands (control.h) on a VM: what a supervisor's
 * status, pause, resume, shutdown and stop do to it. Runs on the main
 * thread, from the event loop.
 */
#include "vmm/control.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"
#include "common/util.h"

_Static_assert(VM_MAX_VCPUS <= CONTROL_MAX_VCPUS, "status cannot report every vCPU");

static int control_status(void *ctx, struct control_status *st)
{
	struct vm *vm = ctx;

	*st = (struct control_status){
		.paused = vm->paused,
		.shutting_down = vm->power_button_pressed,
		.vcpus = vm->nvcpus,
		.memory_mib = vm->opt.memory >> 20,
		.uptime_ms = (monotonic_ns() - vm->start_ns) / 1000000,
	};
	for (unsigned i = 0; i < vm->nvcpus; i++)
		st->vcpu_cpu_time_ns[i] = vcpu_cpu_time_ns(&vm->vcpu[i]);
	return 0;
}

static int control_pause(void *ctx)
{
	return vm_pause(ctx);
}

static int control_resume(void *ctx)
{
	return vm_resume(ctx);
}

static int control_shutdown(void *ctx)
{
	vm_shutdown(ctx, "control socket");
	return 0;
}

static int control_stop(void *ctx)
{
	vm_request_stop(ctx, VM_STOP_HOST, "control socket: stopped by the host");
	return 0;
}

const struct control_ops vm_control_ops = {
	.status = control_status,
	.pause = control_pause,
	.resume = control_resume,
	.shutdown = control_shutdown,
	.stop = control_stop,
};
