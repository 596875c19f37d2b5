/*
 * vCPU threads: one per vCPU, each looping on KVM_RUN and dispatching exits.
 *
 * Port I/O goes to the VM's port bus; anything that ends the machine (a
 * triple fault, a failed entry, a KVM internal error) becomes a stop request
 * to the main thread. vcpu_kick() gets a thread out of KVM_RUN: it sets
 * kvm_run.immediate_exit and signals the thread (SIGUSR1), which covers both
 * a thread inside KVM_RUN and one about to enter it. The same kick pauses
 * the vCPUs (vm_pause()): between two KVM_RUNs a thread parks while the VM
 * asks it to, sleeping on a condition variable, not spinning.
 */
#ifndef CORRAL_VMM_VCPU_H
#define CORRAL_VMM_VCPU_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;

#define VCPU_KICK_SIGNAL SIGUSR1

int vcpu_init(struct vm *vm, unsigned index, struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu);
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);
void vcpu_fini(struct vcpu *vcpu);

/* CPU time the vCPU's thread has used (guest time included), in ns; 0 if
 * it is not running. */
uint64_t vcpu_cpu_time_ns(const struct vcpu *vcpu);

/* The guest's TSC, and the offset KVM adds to the host's TSC to make it
 * (KVM_VCPU_TSC_OFFSET: -ENXIO before Linux 5.16). Only while the vCPU is
 * out of KVM_RUN (parked), or the call waits for it. */
int vcpu_get_tsc(struct vcpu *vcpu, uint64_t *tsc);
int vcpu_get_tsc_offset(struct vcpu *vcpu, uint64_t *offset);
int vcpu_set_tsc_offset(struct vcpu *vcpu, uint64_t offset);

/* Installs the (empty) handler for the kick signal; once per process. */
int vcpu_install_kick_handler(void);

#endif
