/*
 * vCPU threads: one per vCPU, each looping on KVM_RUN and dispatching exits.
 *
 * Port I/O goes to the VM's port bus; anything that ends the machine (a
 * triple fault, a failed entry, a KVM internal error) becomes a stop request
 * to the main thread. vcpu_kick() gets a thread out of KVM_RUN: it sets
 * kvm_run.immediate_exit and signals the thread (SIGUSR1), which covers both
 * a thread inside KVM_RUN and one about to enter it.
 */
#ifndef CORRAL_VMM_VCPU_H
#define CORRAL_VMM_VCPU_H

#include <stdbool.h>

struct vm;
struct vcpu;

#define VCPU_KICK_SIGNAL SIGUSR1

int vcpu_init(struct vm *vm, unsigned index, struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu);
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);
void vcpu_fini(struct vcpu *vcpu);

/* Installs the (empty) handler for the kick signal; once per process. */
int vcpu_install_kick_handler(void);

#endif
