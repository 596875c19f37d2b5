/*
 * A domain as corral runs it, built from an xl.cfg file (config/xlcfg.h):
 * the keys that matter (name, uuid, memory, maxmem, vcpus, maxvcpus, cpus,
 * kernel, ramdisk, cmdline/root/extra, bootloader, bootloader_args, disk,
 * vif, dns_aliases, on_poweroff/on_reboot/on_crash, type) checked for type and range,
 * with Xen's defaults where a key is absent (vcpus 1, on_poweroff destroy,
 * on_reboot restart, on_crash destroy, vif bridge xenbr0, cmdline built as
 * "root=ROOT EXTRA"). Every problem is reported at the value's file:line:col
 * through struct diag; keys corral does not know are warnings, as is a key
 * Xen knows but corral ignores. corrald turns a domain_config into a VMM
 * command line; `corral create -n` prints it as JSON.
 */
#ifndef CORRAL_CONFIG_DOMAIN_CONFIG_H
#define CORRAL_CONFIG_DOMAIN_CONFIG_H

#include "config/diag.h"
#include "config/disk_spec.h"
#include "config/vif_spec.h"
#include "config/xlcfg.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define DOMAIN_NAME_MAX 64
#define DOMAIN_MEMORY_MIN_MIB 64
#define DOMAIN_MEMORY_MAX_MIB (1024 * 1024)	/* 1 TiB, corral-vmm's limit */
#define DOMAIN_VCPUS_MAX 64			/* corral-vmm's limit */

/* What happens when the guest powers off, reboots or crashes. */
enum domain_action {
	DOMAIN_ACTION_DESTROY,
	DOMAIN_ACTION_RESTART,
	DOMAIN_ACTION_PRESERVE,
	DOMAIN_ACTION_RENAME_RESTART,
};

struct domain_config {
	char *name;
	bool has_uuid;			/* else corrald makes one */
	uint8_t uuid[16];
	char *type;			/* "pv" or "pvh": both boot a kernel directly */
	uint64_t memory_mib, maxmem_mib;
	unsigned vcpus, maxvcpus;
	char *cpus;			/* host CPUs the vCPUs may run on, "0-3,6"; NULL: all */
	char *kernel, *ramdisk;		/* absolute paths; kernel NULL with a bootloader */
	char *cmdline;
	char *bootloader;
	char **bootloader_args;
	size_t nbootloader_args;
	struct disk_spec *disks;
	size_t ndisks;
	struct vif_spec *vifs;		/* bridge always set (xenbr0 by default) */
	size_t nvifs;
	char **dns_aliases;		/* the domain's extra DNS names (corral's key) */
	size_t ndns_aliases;
	enum domain_action on_poweroff, on_reboot, on_crash;
};

struct domain_config_options {
	/* Check that kernel, ramdisk and disk targets exist (corral create
	 * does; a parser test of a file from elsewhere may not). */
	bool check_files;
};

/*
 * Builds `dc` from a parsed configuration. Returns 0, or -EINVAL if any error
 * was reported (dc is then freed and empty), -ENOMEM.
 */
int domain_config_from_xlcfg(struct domain_config *dc, const struct xlcfg *cfg,
			     const struct domain_config_options *opt, struct diag *d);
void domain_config_free(struct domain_config *dc);

const char *domain_action_name(enum domain_action a);

/* A character a domain's name may hold: a letter, a digit, '-', '_' or '.'. */
bool domain_name_char(char c);

/* The domain as a JSON object (what `corral create -n` prints); NULL on ENOMEM. */
json_t *domain_config_to_json(const struct domain_config *dc);

#endif
