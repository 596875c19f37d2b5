/*
 * corral-vmm: run one virtual machine. See docs/corral-vmm.md.
 *
 * Everything the user can get wrong (options, files, sizes) is checked
 * before /dev/kvm is touched, so bad input fails fast with a message on any
 * host; then the host is checked, the VM built, and the guest run until it
 * stops. The exit status tells a supervisor how it stopped.
 */
#include "vmm/bzimage.h"
#include "vmm/control.h"
#include "vmm/kvm_host.h"
#include "vmm/vm.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum exit_status {
	EXIT_POWEROFF = 0,
	EXIT_ERROR = 1,
	EXIT_REBOOT = 2,
	EXIT_CRASH = 3,
	EXIT_UNSUPPORTED_HOST = 4,
	EXIT_HOST_STOP = 5,
};

#define KERNEL_MAX_SIZE (256u << 20)

struct options {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	struct console_spec console;
	struct console_spec hvc;	/* CONSOLE_NONE: no virtio-console */
	const char *control;		/* the control socket's path, or NULL */
	const char *exit_file;		/* where to leave the exit status, or NULL */
	struct vm_options vm;
	struct machine_devices devices;
};

/* When startup reached each step, for --stats (CLOCK_MONOTONIC ns). */
struct startup_marks {
	uint64_t exec, main, files_checked, vm_created, guest_loaded;
};

struct boot_files {
	struct mapped_file kernel;
	struct mapped_file initrd;
	struct bzimage image;
	struct boot_plan plan;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: corral-vmm --kernel BZIMAGE [--initrd FILE] [--cmdline TEXT]\n"
		"                  [--memory SIZE] [--vcpus N] [--console stdio|pty|unix:PATH|none]\n"
		"                  [--disk path=FILE[,ro][,serial=S][,queues=N][,cache=none|writeback]]...\n"
		"                  [--net tap=NAME|fd=N[,mac=MAC][,bridge=BRIDGE][,vhost=on|off|auto]]...\n"
		"                  [--rng] [--hvc stdio|pty|unix:PATH]\n"
		"                  [--control PATH] [--paused] [--exit-file PATH]\n"
		"                  [--shutdown-timeout SECONDS] [--stats] [--verbose]\n"
		"\n"
		"Boots a Linux bzImage in a KVM virtual machine until it powers off.\n"
		"  --memory SIZE      guest RAM, e.g. 512M or 3.5G (default 256M)\n"
		"  --vcpus N          1 to %d (default 1)\n"
		"  --console KIND     serial console: stdio (default), pty, unix:PATH, none\n"
		"  --disk SPEC        a virtio-blk disk (raw image or block device); repeatable\n"
		"  --net SPEC         a virtio-net NIC on a tap device; repeatable\n"
		"  --rng              a virtio-rng device fed from the host's getrandom()\n"
		"  --hvc KIND         a virtio-console (the guest's hvc0), like --console\n"
		"  --control PATH     a Unix socket (mode 0600) for a supervisor: JSON lines,\n"
		"                     {\"cmd\": \"status|pause|resume|shutdown|stop\"}\n"
		"  --paused           start with the guest paused (resume it on the control socket)\n"
		"  --exit-file PATH   at exit, write the exit status there (for a supervisor\n"
		"                     that is not the parent)\n"
		"  --shutdown-timeout after SIGTERM, seconds before a hard stop (default 30)\n"
		"  --stats            print VM exit statistics at exit\n"
		"Exit status: 0 poweroff, 1 error, 2 reboot, 3 crash, 4 host cannot run guests,\n"
		"5 stopped by the host. See docs/corral-vmm.md.\n", VM_MAX_VCPUS);
}

static int parse_memory(const char *text, uint64_t *bytes)
{
	if (parse_size(text, bytes) < 0) {
		log_error("invalid --memory '%s': expected a size such as 512M or 2G", text);
		return -EINVAL;
	}
	/* A bare number means MiB, as in xl.cfg's memory = 512. */
	if (strspn(text, "0123456789") == strlen(text))
		*bytes <<= 20;
	if (*bytes < GUEST_MEMORY_MIN || *bytes > GUEST_MEMORY_MAX) {
		log_error("--memory %s is out of range: 64M to 1T", text);
		return -ERANGE;
	}
	*bytes = align_up(*bytes, MiB(2));
	return 0;
}

static int add_disk(struct machine_devices *d, const char *spec)
{
	if (d->ndisks == MACHINE_MAX_DISKS) {
		log_error("--disk: at most %d disks", MACHINE_MAX_DISKS);
		return -EINVAL;
	}
	return virtio_blk_parse(spec, &d->disk[d->ndisks++]);
}

static int add_nic(struct machine_devices *d, const char *spec)
{
	if (d->nnics == MACHINE_MAX_NICS) {
		log_error("--net: at most %d NICs", MACHINE_MAX_NICS);
		return -EINVAL;
	}
	return virtio_net_parse(spec, &d->nic[d->nnics++]);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "vcpus", required_argument, NULL, 'n' },
		{ "console", required_argument, NULL, 'C' },
		{ "shutdown-timeout", required_argument, NULL, 't' },
		{ "disk", required_argument, NULL, 'd' },
		{ "net", required_argument, NULL, 'N' },
		{ "rng", no_argument, NULL, 'r' },
		{ "hvc", required_argument, NULL, 'H' },
		{ "control", required_argument, NULL, 'S' },
		{ "paused", no_argument, NULL, 'P' },
		{ "exit-file", required_argument, NULL, 'x' },
		{ "stats", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct options){ .cmdline = "", .console = { .kind = CONSOLE_STDIO },
			       .hvc = { .kind = CONSOLE_NONE },
			       .vm = { .memory = MiB(256), .vcpus = 1, .shutdown_timeout = 30 } };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o->kernel = optarg; break;
		case 'i': o->initrd = optarg; break;
		case 'c': o->cmdline = optarg; break;
		case 'C':
			if (console_parse(optarg, &o->console) < 0)
				return -EINVAL;
			break;
		case 'd':
			if (add_disk(&o->devices, optarg) < 0)
				return -EINVAL;
			break;
		case 'N':
			if (add_nic(&o->devices, optarg) < 0)
				return -EINVAL;
			break;
		case 'r': o->devices.rng = true; break;
		case 'H':
			if (console_parse(optarg, &o->hvc) < 0)
				return -EINVAL;
			break;
		case 'S':
			if (control_check_path(optarg) < 0)
				return -EINVAL;
			o->control = optarg;
			break;
		case 'P': o->vm.start_paused = true; break;
		case 'x': o->exit_file = optarg; break;
		case 's': o->vm.stats = true; break;
		case 'v': log_set_level(LOG_LEVEL_DEBUG); break;
		case 'h': usage(stdout); exit(EXIT_POWEROFF);
		case 'm':
			if (parse_memory(optarg, &o->vm.memory) < 0)
				return -EINVAL;
			break;
		case 'n':
			if (parse_uint(optarg, VM_MAX_VCPUS, &o->vm.vcpus) < 0 ||
			    o->vm.vcpus == 0) {
				log_error("invalid --vcpus '%s': expected 1 to %d", optarg,
					  VM_MAX_VCPUS);
				return -EINVAL;
			}
			break;
		case 't':
			if (parse_uint(optarg, 86400, &o->vm.shutdown_timeout) < 0) {
				log_error("invalid --shutdown-timeout '%s': expected seconds",
					  optarg);
				return -EINVAL;
			}
			break;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!o->kernel) {
		log_error("no kernel: --kernel BZIMAGE is required");
		return -EINVAL;
	}
	if (o->vm.start_paused && !o->control) {
		log_error("--paused needs --control: nothing could resume the guest");
		return -EINVAL;
	}
	if (o->hvc.kind == CONSOLE_STDIO && o->console.kind == CONSOLE_STDIO) {
		log_error("--hvc stdio needs the serial console elsewhere (--console pty, "
			  "unix:PATH or none)");
		return -EINVAL;
	}
	return 0;
}

/* Reads and validates kernel and initrd and plans where they go. */
static int prepare_boot(const struct options *o, const struct guest_memory *layout,
			struct boot_files *f)
{
	int err;

	/* Mapped, not read: the bytes go from the page cache straight into
	 * guest memory, with no copy in between. */
	err = map_file(o->kernel, KERNEL_MAX_SIZE, &f->kernel);
	if (!err)
		err = bzimage_parse(f->kernel.data, f->kernel.len, o->kernel, &f->image);
	if (!err && o->initrd) {
		err = map_file(o->initrd, layout->total, &f->initrd);
		if (err == -EFBIG)
			log_error("initrd %s is larger than guest memory (%llu MiB)", o->initrd,
				  (unsigned long long)(layout->total >> 20));
		if (!err && !f->initrd.len) {
			log_error("initrd %s is empty", o->initrd);
			err = -EINVAL;
		}
	}
	if (!err)
		err = bzimage_plan(&f->image, layout, f->initrd.len, strlen(o->cmdline), &f->plan);
	return err;
}

static void free_boot_files(struct boot_files *f)
{
	unmap_file(&f->kernel);
	unmap_file(&f->initrd);
}

static int exit_status_for(enum vm_stop stop)
{
	switch (stop) {
	case VM_STOP_POWEROFF: return EXIT_POWEROFF;
	case VM_STOP_REBOOT: return EXIT_REBOOT;
	case VM_STOP_CRASH: return EXIT_CRASH;
	case VM_STOP_HOST: return EXIT_HOST_STOP;
	default: return EXIT_ERROR;
	}
}

/* The time of exec, if whoever started us recorded it (benchmarks do);
 * otherwise main()'s. */
static uint64_t start_time(uint64_t main_ns)
{
	const char *t0 = getenv("CORRAL_T0_NS");
	unsigned long long v;

	if (t0 && sscanf(t0, "%llu", &v) == 1 && v <= main_ns)
		return v;
	return main_ns;
}

static int boot(struct vm *vm, struct console *console, struct console *hvc,
		const struct options *o, struct boot_files *f)
{
	int err;

	vm->console = console;
	vm->hvc_console = o->hvc.kind == CONSOLE_NONE ? NULL : hvc;
	vm->devices = &o->devices;
	err = machine_create(vm);
	if (!err)
		err = bzimage_load(&f->image, &f->plan, &vm->mem, f->initrd.data, o->cmdline,
				   vm->machine.rsdp);
	/* The guest has its copy: the files' pages need not stay resident here. */
	free_boot_files(f);
	if (!err)
		err = vm_setup_boot_cpu(vm, f->plan.entry, f->plan.zero_page);
	return err;
}

static void print_startup(const struct startup_marks *m, uint64_t first_run)
{
	fprintf(stderr, "stats: startup, ms after exec: main %.2f, files checked %.2f, "
		"VM created %.2f, guest loaded %.2f, first KVM_RUN %.2f\n",
		(m->main - m->exec) / 1e6, (m->files_checked - m->exec) / 1e6,
		(m->vm_created - m->exec) / 1e6, (m->guest_loaded - m->exec) / 1e6,
		first_run ? (first_run - m->exec) / 1e6 : 0.0);
}

/* Where the VMM talks to the outside: the consoles and the control socket. */
struct endpoints {
	struct console console, hvc;
	struct control control;
};

/* Closes the first `opened` of them (console, hvc, control). */
static void close_endpoints(struct endpoints *e, int opened)
{
	if (opened > 2)
		control_close(&e->control);
	if (opened > 1)
		console_close(&e->hvc);
	if (opened > 0)
		console_close(&e->console);
}

static int open_endpoints(const struct options *o, struct endpoints *e)
{
	e->control = (struct control){ .listen_fd = -1, .client_fd = -1 };
	if (console_open(&e->console, &o->console) < 0) {
		close_endpoints(e, 1);
		return -1;
	}
	if (console_open(&e->hvc, &o->hvc) < 0) {
		close_endpoints(e, 2);
		return -1;
	}
	if (o->control && control_open(&e->control, o->control) < 0) {
		close_endpoints(e, 3);
		return -1;
	}
	return 0;
}

static int run(const struct options *o, const struct guest_memory *layout,
	       struct boot_files *f, struct startup_marks *marks)
{
	struct endpoints e;
	struct vm vm;
	int kvm_fd, status, err;

	kvm_fd = kvm_host_open(o->vm.vcpus);
	if (kvm_fd < 0)
		return kvm_fd == -ENOTSUP ? EXIT_UNSUPPORTED_HOST : EXIT_ERROR;
	if (vm_block_signals() < 0 || open_endpoints(o, &e) < 0) {
		close(kvm_fd);
		return EXIT_ERROR;
	}
	if (vm_create(&vm, kvm_fd, &o->vm, layout) < 0) {
		status = EXIT_ERROR;
	} else {
		marks->vm_created = monotonic_ns();
		vm.start_ns = marks->exec;
		vm.control = o->control ? &e.control : NULL;
		err = boot(&vm, &e.console, &e.hvc, o, f);
		marks->guest_loaded = monotonic_ns();
		status = err < 0 ? EXIT_ERROR : exit_status_for(vm_run(&vm));
	}
	/* Device threads may still write to the consoles until they stop. */
	machine_destroy(&vm.machine);
	/* Restore the terminal before anything else is printed. */
	close_endpoints(&e, 3);
	if (o->vm.stats) {
		print_startup(marks, vm.first_run_ns);
		vm_print_stats(&vm);
	}
	vm_destroy(&vm);
	close(kvm_fd);
	return status;
}

/*
 * A supervisor that did not start us (corrald after a restart) cannot
 * waitid() for the exit status, so it can be left in a file: the status in
 * decimal and a newline, renamed into place so that it is whole or absent.
 */
static void write_exit_file(const char *path, int status)
{
	char tmp[PATH_MAX], text[16];
	int fd, n = snprintf(text, sizeof(text), "%d\n", status);

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		log_error("--exit-file: path too long: %s", path);
		return;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_full(fd, text, (size_t)n) < 0 || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		log_error("--exit-file %s: %s", path, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
	}
}

int main(int argc, char **argv)
{
	struct startup_marks marks = { .main = monotonic_ns() };
	struct boot_files files = { 0 };
	struct guest_memory layout;
	struct options o;
	int status;

	log_init(argv[0], LOG_LEVEL_INFO);
	if (parse_options(argc, argv, &o) < 0)
		return EXIT_ERROR;
	marks.exec = start_time(marks.main);
	/* A console reader that goes away must not kill the VMM. */
	signal(SIGPIPE, SIG_IGN);
	if (guest_memory_layout(&layout, o.vm.memory) < 0) {
		log_error("invalid guest memory size");
		return EXIT_ERROR;
	}
	if (prepare_boot(&o, &layout, &files) < 0) {
		status = EXIT_ERROR;
	} else {
		marks.files_checked = monotonic_ns();
		status = run(&o, &layout, &files, &marks);
	}
	free_boot_files(&files);
	if (o.exit_file)
		write_exit_file(o.exit_file, status);
	return status;
}
