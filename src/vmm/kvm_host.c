#include "vmm/kvm_host.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KVM_API_VERSION_EXPECTED 12

static bool has_flag(const char *flags, const char *flag)
{
	size_t len = strlen(flag);

	for (const char *p = flags; (p = strstr(p, flag)); p += len) {
		bool starts = p == flags || p[-1] == ' ' || p[-1] == '\t';
		bool ends = p[len] == ' ' || p[len] == '\n' || p[len] == '\0';

		if (starts && ends)
			return true;
	}
	return false;
}

bool kvm_host_cpuinfo_has_hwvirt(const char *cpuinfo)
{
	const char *line = strncmp(cpuinfo, "flags", 5) ? strstr(cpuinfo, "\nflags") : cpuinfo;
	const char *colon, *end;
	char *flags;
	bool yes;

	if (!line || !(colon = strchr(line, ':')))
		return false;
	end = strchrnul(colon, '\n');
	flags = strndup(colon + 1, end - colon - 1);
	yes = flags && (has_flag(flags, "vmx") || has_flag(flags, "svm"));
	free(flags);
	return yes;
}

static bool host_has_hwvirt(void)
{
	char buf[65536];
	ssize_t n;
	int fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC);

	/* The first CPU's flags line is all we need; it is in the first 64 KiB. */
	if (fd < 0)
		return false;
	n = read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return kvm_host_cpuinfo_has_hwvirt(buf);
}

static int check_capabilities(int fd, unsigned vcpus)
{
	static const struct { int cap; const char *name; } needed[] = {
		{ KVM_CAP_IRQCHIP, "in-kernel irqchip" },
		{ KVM_CAP_PIT2, "in-kernel PIT" },
		{ KVM_CAP_USER_MEMORY, "user memory regions" },
		{ KVM_CAP_EXT_CPUID, "KVM_GET_SUPPORTED_CPUID" },
		{ KVM_CAP_IMMEDIATE_EXIT, "immediate_exit" },
		{ KVM_CAP_SET_TSS_ADDR, "KVM_SET_TSS_ADDR" },
	};
	int max;

	for (unsigned i = 0; i < ARRAY_SIZE(needed); i++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0) {
			log_error("/dev/kvm lacks a capability corral-vmm needs: %s", needed[i].name);
			return -ENOTSUP;
		}
	}
	max = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max > 0 && vcpus > (unsigned)max) {
		log_error("this host's KVM allows at most %d vCPUs per VM", max);
		return -EINVAL;
	}
	return 0;
}

int kvm_host_open(unsigned vcpus)
{
	int fd, err;

	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = log_errno("/dev/kvm");
		return err == -ENOENT ? -ENODEV : err;
	}
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION_EXPECTED) {
		log_error("/dev/kvm speaks an unexpected API version");
		close(fd);
		return -ENOTSUP;
	}
	if (!host_has_hwvirt()) {
		log_error("this host's KVM cannot run unmodified guests: the CPU offers no "
			  "VT-x or AMD-V (no vmx/svm flag in /proc/cpuinfo), so /dev/kvm is a "
			  "paravirtual KVM such as KVM PVM. Run corral inside its testbed "
			  "instead (tests/testbed/run.sh, scripts/demo.sh), which provides a "
			  "virtual host with AMD-V.");
		close(fd);
		return -ENOTSUP;
	}
	err = check_capabilities(fd, vcpus);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}
