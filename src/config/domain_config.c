#include "config/domain_config.h"
#include "config/xlcfg_value.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* State while one configuration is turned into a domain. */
struct builder {
	struct domain_config *dc;
	const struct domain_config_options *opt;
	struct diag *d;
	const char *root, *extra;	/* folded into cmdline at the end */
	const struct xlcfg_value *cmdline_at, *root_at, *extra_at;
};

static int set_string(char **out, const char *text)
{
	char *copy = strdup(text);

	if (!copy)
		return -ENOMEM;
	free(*out);
	*out = copy;
	return 0;
}

static int take_string(struct builder *b, const char *key, const struct xlcfg_value *v, char **out)
{
	int err = xlcfg_want_type(b->d, key, v, XLCFG_STRING);

	if (err)
		return err;
	if (!v->text[0])
		return xlcfg_value_error(b->d, v, "%s must not be empty", key);
	return set_string(out, v->text);
}

/* ---- One function per key -------------------------------------------- */

bool domain_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

static int key_name(struct builder *b, const char *key, const struct xlcfg_value *v)
{
	int err = take_string(b, key, v, &b->dc->name);
	const char *n = b->dc->name;
	size_t digits = 0, len;

	if (err)
		return err;
	len = strlen(n);
	for (size_t i = 0; i < len; i++) {
		if (!domain_name_char(n[i]))
			return xlcfg_value_error(b->d, v, "name '%s': only letters, digits, '-', '_' and '.' are allowed", n);
		digits += isdigit((unsigned char)n[i]) != 0;
	}
	if (len > DOMAIN_NAME_MAX)
		return xlcfg_value_error(b->d, v, "name is longer than %d characters", DOMAIN_NAME_MAX);
	if (n[0] == '-' || n[0] == '.')
		return xlcfg_value_error(b->d, v, "name '%s' must not start with '%c'", n, n[0]);
	if (digits == len)
		return xlcfg_value_error(b->d, v, "name '%s' is all digits, which reads as a domain ID", n);
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int key_uuid(struct builder *b, const char *key, const struct xlcfg_value *v)
{
	static const unsigned dash_at[] = { 8, 13, 18, 23 };
	const char *t;
	unsigned n = 0;
	int err = xlcfg_want_type(b->d, key, v, XLCFG_STRING);

	if (err)
		return err;
	t = v->text;
	for (size_t i = 0; i < 36; i++) {
		int is_dash_pos = 0;

		for (unsigned k = 0; k < 4; k++)
			is_dash_pos |= dash_at[k] == i;
		if (is_dash_pos ? t[i] != '-' : hex_digit(t[i]) < 0)
			return xlcfg_value_error(b->d, v, "uuid '%s' is not of the form "
					   "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", t);
		if (!is_dash_pos) {
			b->dc->uuid[n / 2] = (uint8_t)(b->dc->uuid[n / 2] << 4 | hex_digit(t[i]));
			n++;
		}
	}
	if (t[36])
		return xlcfg_value_error(b->d, v, "uuid '%s' is too long", t);
	b->dc->has_uuid = true;
	return 0;
}

static int key_type(struct builder *b, const char *key, const struct xlcfg_value *v)
{
	int err = take_string(b, key, v, &b->dc->type);

	if (err)
		return err;
	if (!strcmp(v->text, "pv") || !strcmp(v->text, "pvh"))
		return 0;
	if (!strcmp(v->text, "hvm"))
		return xlcfg_value_error(b->d, v, "type = \"hvm\" (firmware boot) is not supported: "
				   "corral boots a kernel directly (type \"pv\" or \"pvh\")");
	return xlcfg_value_error(b->d, v, "type must be \"pv\", \"pvh\" or \"hvm\", not \"%s\"", v->text);
}

static int key_memory(struct builder *b, const char *key, const struct xlcfg_value *v)
{
	long long mib = 0;
	int err = xlcfg_take_number(b->d, key, v, DOMAIN_MEMORY_MIN_MIB, DOMAIN_MEMORY_MAX_MIB, " MiB", &mib);

	if (err)
		return err;
	if (!strcmp(key, "memory"))
		b->dc->memory_mib = (uint64_t)mib;
	else
		b->dc->maxmem_mib = (uint64_t)mib;
	return 0;
}

static int key_vcpus(struct builder *b, const char *key, const struct xlcfg_value *v)
{
	long long n = 0;
	int err = xlcfg_take_number(b->d, key, v, 1, DOMAIN_VCPUS_MAX, "", &n);

	if (err)
		return err;
	if (!strcmp(key, "vcpus"))
		b->dc->vcpus = (unsigned)n;
	else
		b->dc->maxvcpus = (unsigned)n;
	return 0;
}

#define HOST_CPUS_MAX 4096

/* Appends one cpus= item, "N" or "N-M", to the list in `out`; -EINVAL if
 * malformed. */
static int cpu_range(const char *item, char *out, size_t outlen)
{
	size_t used = strlen(out);
	unsigned long lo, hi;
	char *end;

	if (!isdigit((unsigned char)*item))
		return -EINVAL;
	lo = hi = strtoul(item, &end, 10);
	if (*end == '-') {
		if (!isdigit((unsigned char)end[1]))
			return -EINVAL;
		hi = strtoul(end + 1, &end, 10);
	}
	if (*end || hi < lo || hi >= HOST_CPUS_MAX)
		return -EINVAL;
	int n = hi == lo ? snprintf(out + used, outlen - used, "%s%lu", used ? "," : "", lo)
			 : snprintf(out + used, outlen - used, "%s%lu-%lu", used ? "," : "", lo, hi);

	return n < 0 || (size_t)n >= outlen - used ? -EINVAL : 0;
}

/*
 * cpus = "all" | "0-3,6" | 2 | [2, "4-5"]: the host CPUs every vCPU may run
 * on (xl's per-vCPU list form is read as one set). Kept as a normalised list.
 */
static int key_cpus(struct builder *b, const char *key, const struct xlcfg_value *v)
{
	char set[1024] = "";
	const struct xlcfg_value *const *items = (const struct xlcfg_value *const *)&v;
	size_t n = 1;

	if (v->type == XLCFG_LIST) {
		items = (const struct xlcfg_value *const *)v->items;
		n = v->nitems;
	}
	for (size_t i = 0; i < n; i++) {
		const struct xlcfg_value *it = items[i];
		char buf[32], *list, *save = NULL;

		if (it->type == XLCFG_NUMBER) {
			snprintf(buf, sizeof(buf), "%lld", it->number);
			if (it->number < 0 || cpu_range(buf, set, sizeof(set)))
				return xlcfg_value_error(b->d, it, "%s: %lld is not a host CPU number", key, it->number);
			continue;
		}
		if (it->type != XLCFG_STRING)
			return xlcfg_value_error(b->d, it, "%s items must be numbers or strings", key);
		if (!strcmp(it->text, "all") && n == 1)
			return 0;
		list = strdup(it->text);
		if (!list)
			return -ENOMEM;
		for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (cpu_range(tok, set, sizeof(set))) {
				free(list);
				return xlcfg_value_error(b->d, it, "%s: '%s' is not a CPU number or range "
						   "(e.g. \"0-3,6\" or \"all\")", key, it->text);
			}
		}
		free(list);
	}
	if (!set[0])
		return xlcfg_value_error(b->d, v, "%s is empty", key);
	return set_string(&b->dc->cpus, set);
}

static int check_file(struct builder *b, const char *key, const struct xlcfg_value *v)
{
	struct stat st;

	if (v->text[0] != '/')
		return xlcfg_value_error(b->d, v, "%s '%s' must be an absolute path", key, v->text);
	if (!b->opt->check_files)
		return 0;
	if (stat(v->text, &st) < 0)
		return xlcfg_value_error(b->d, v, "%s '%s': %s", key, v->text, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return xlcfg_value_error(b->d, v, "%s '%s' is not a regular file", key, v->text);
	return 0;
}

static int key_boot_file(struct builder *b, const char *key, const struct xlcfg_value *v)
{
	char **out = !strcmp(key, "kernel") ? &b->dc->kernel : &b->dc->ramdisk;
	int err = take_string(b, key, v, out);

	return err ? err : check_file(b, key, v);
}

static int key_cmdline_part(struct builder *b, const char *key, const struct xlcfg_value *v)
{
	int err = xlcfg_want_type(b->d, key, v, XLCFG_STRING);

	if (err)
		return err;
	if (!strcmp(key, "cmdline"))
		b->cmdline_at = v;
	else if (!strcmp(key, "root"))
		b->root_at = v;
	else
		b->extra_at = v;
	return 0;
}

static int key_bootloader(struct builder *b, const char *key, const struct xlcfg_value *v)
{
	return take_string(b, key, v, &b->dc->bootloader);
}

/* Adds a copy of the `size` bytes at `elem` to a growing array. */
static int append(void **array, size_t *n, size_t size, const void *elem)
{
	char *grown = realloc(*array, (*n + 1) * size);

	if (!grown)
		return -ENOMEM;
	memcpy(grown + *n * size, elem, size);
	*array = grown;
	(*n)++;
	return 0;
}

static int push_string(char ***arr, size_t *n, const char *text)
{
	char *copy = strdup(text);

	if (copy && !append((void **)arr, n, sizeof(copy), &copy))
		return 0;
	free(copy);
	return -ENOMEM;
}

/* bootloader_args = "--entry=1" or ["--entry=1", "-q"]. */
static int key_bootloader_args(struct builder *b, const char *key, const struct xlcfg_value *v)
{
	struct domain_config *dc = b->dc;

	if (v->type == XLCFG_STRING)
		return push_string(&dc->bootloader_args, &dc->nbootloader_args, v->text);
	if (v->type != XLCFG_LIST)
		return xlcfg_want_type(b->d, key, v, XLCFG_LIST);
	for (size_t i = 0; i < v->nitems; i++) {
		int err = xlcfg_want_type(b->d, key, v->items[i], XLCFG_STRING);

		if (!err)
			err = push_string(&dc->bootloader_args, &dc->nbootloader_args, v->items[i]->text);
		if (err)
			return err;
	}
	return 0;
}

/* dns_aliases = ["yum", "ldap", "kdc"]: more names of the domain on the
 * managed networks it is on, each a DNS label (CNAMEs of its own name). */
static int add_dns_alias(void *ctx, const struct xlcfg_value *v)
{
	struct builder *b = ctx;
	struct domain_config *dc = b->dc;

	if (!dns_label_valid(v->text))
		return xlcfg_value_error(b->d, v, "dns_aliases: '%s' is not a DNS label (1 to 63 "
					 "letters, digits and '-', no '-' at either end)", v->text);
	for (size_t i = 0; i < dc->ndns_aliases; i++)
		if (!strcasecmp(dc->dns_aliases[i], v->text))
			return xlcfg_value_error(b->d, v, "dns_aliases: '%s' is given twice", v->text);
	return push_string(&dc->dns_aliases, &dc->ndns_aliases, v->text);
}

static int key_dns_aliases(struct builder *b, const char *key, const struct xlcfg_value *v)
{
	return xlcfg_for_each_string(b->d, key, v, add_dns_alias, b);
}

static const char *const action_names[] = {
	[DOMAIN_ACTION_DESTROY] = "destroy",
	[DOMAIN_ACTION_RESTART] = "restart",
	[DOMAIN_ACTION_PRESERVE] = "preserve",
	[DOMAIN_ACTION_RENAME_RESTART] = "rename-restart",
};

static int action_parse(const char *text, enum domain_action *out)
{
	for (unsigned i = 0; i < ARRAY_SIZE(action_names); i++) {
		if (!strcmp(text, action_names[i])) {
			*out = (enum domain_action)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int key_action(struct builder *b, const char *key, const struct xlcfg_value *v)
{
	struct domain_config *dc = b->dc;
	enum domain_action *out = !strcmp(key, "on_poweroff") ? &dc->on_poweroff :
				  !strcmp(key, "on_reboot") ? &dc->on_reboot : &dc->on_crash;
	int err = xlcfg_want_type(b->d, key, v, XLCFG_STRING);

	if (err)
		return err;
	if (!action_parse(v->text, out))
		return 0;
	if (!strncmp(v->text, "coredump-", 9) || !strcmp(v->text, "soft-reset"))
		return xlcfg_value_error(b->d, v, "%s = \"%s\" is not supported by corral", key, v->text);
	return xlcfg_value_error(b->d, v, "%s must be destroy, restart, preserve or rename-restart, not \"%s\"",
			   key, v->text);
}

static int check_disk(struct builder *b, const struct xlcfg_value *v, const struct disk_spec *ds)
{
	struct stat st;

	for (size_t i = 0; i < b->dc->ndisks; i++)
		if (!strcmp(b->dc->disks[i].vdev, ds->vdev))
			return xlcfg_value_error(b->d, v, "duplicate vdev '%s'", ds->vdev);
	if (strcmp(ds->format, "raw"))
		return xlcfg_value_error(b->d, v, "disk %s: format %s is not supported yet (raw only)",
				   ds->vdev, ds->format);
	if (!ds->target)
		return xlcfg_value_error(b->d, v, "disk %s: an empty CD-ROM drive is not supported", ds->vdev);
	if (ds->target[0] != '/')
		return xlcfg_value_error(b->d, v, "disk %s: target '%s' must be an absolute path",
				   ds->vdev, ds->target);
	if (b->opt->check_files && stat(ds->target, &st) < 0)
		return xlcfg_value_error(b->d, v, "disk %s: '%s': %s", ds->vdev, ds->target, strerror(errno));
	if (b->opt->check_files && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return xlcfg_value_error(b->d, v, "disk %s: '%s' is neither a file nor a block device",
				   ds->vdev, ds->target);
	return 0;
}

static int add_disk(void *ctx, const struct xlcfg_value *v)
{
	struct builder *b = ctx;
	struct domain_config *dc = b->dc;
	struct disk_spec ds;
	char why[256];
	int err = disk_spec_parse(v->text, &ds, why, sizeof(why));

	if (err == -EINVAL)
		xlcfg_value_error(b->d, v, "disk '%s': %s", v->text, why);
	if (!err)
		err = check_disk(b, v, &ds);
	if (!err)
		err = append((void **)&dc->disks, &dc->ndisks, sizeof(ds), &ds);
	if (err)
		disk_spec_free(&ds);
	return err;
}

static int key_disk(struct builder *b, const char *key, const struct xlcfg_value *v)
{
	return xlcfg_for_each_string(b->d, key, v, add_disk, b);
}

static int check_vif(struct builder *b, const struct xlcfg_value *v, struct vif_spec *vs)
{
	for (size_t i = 0; vs->has_mac && i < b->dc->nvifs; i++)
		if (b->dc->vifs[i].has_mac && !memcmp(b->dc->vifs[i].mac, vs->mac, 6))
			return xlcfg_value_error(b->d, v, "vif '%s': the same MAC as vif %zu", v->text, i);
	if (vs->model && strcmp(vs->model, "virtio") && strcmp(vs->model, "virtio-net"))
		return xlcfg_value_error(b->d, v, "vif '%s': model %s is not supported (virtio-net only)",
				   v->text, vs->model);
	for (size_t i = 0; i < vs->nignored; i++)
		diag_warn(b->d, v->source, v->pos, "vif '%s': %s= is ignored by corral",
			  v->text, vs->ignored[i]);
	return vs->bridge ? 0 : set_string(&vs->bridge, "xenbr0");
}

static int add_vif(void *ctx, const struct xlcfg_value *v)
{
	struct builder *b = ctx;
	struct domain_config *dc = b->dc;
	struct vif_spec vs;
	char why[256];
	int err = vif_spec_parse(v->text, &vs, why, sizeof(why));

	if (err == -EINVAL)
		xlcfg_value_error(b->d, v, "vif '%s': %s", v->text, why);
	if (!err)
		err = check_vif(b, v, &vs);
	if (!err)
		err = append((void **)&dc->vifs, &dc->nvifs, sizeof(vs), &vs);
	if (err)
		vif_spec_free(&vs);
	return err;
}

static int key_vif(struct builder *b, const char *key, const struct xlcfg_value *v)
{
	return xlcfg_for_each_string(b->d, key, v, add_vif, b);
}

static const struct {
	const char *key;
	int (*apply)(struct builder *b, const char *key, const struct xlcfg_value *v);
} keys[] = {
	{ "name", key_name },
	{ "uuid", key_uuid },
	{ "type", key_type },
	{ "memory", key_memory },
	{ "maxmem", key_memory },
	{ "vcpus", key_vcpus },
	{ "maxvcpus", key_vcpus },
	{ "cpus", key_cpus },
	{ "kernel", key_boot_file },
	{ "ramdisk", key_boot_file },
	{ "cmdline", key_cmdline_part },
	{ "root", key_cmdline_part },
	{ "extra", key_cmdline_part },
	{ "bootloader", key_bootloader },
	{ "bootloader_args", key_bootloader_args },
	{ "disk", key_disk },
	{ "vif", key_vif },
	{ "dns_aliases", key_dns_aliases },
	{ "on_poweroff", key_action },
	{ "on_reboot", key_action },
	{ "on_crash", key_action },
};

/* Keys of xm-era files with a hint where corral has the modern one. */
static const struct {
	const char *key, *hint;
} old_keys[] = {
	{ "cpu", "xm's; corral reads cpus=" },
	{ "nics", "xm's; the vif list decides the NICs" },
	{ "builder", "xm's; corral reads type=" },
	{ "ramdisk_file", "corral reads ramdisk=" },
};

static void warn_unknown(struct builder *b, const struct xlcfg_setting *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(old_keys); i++) {
		if (!strcmp(s->key, old_keys[i].key)) {
			diag_warn(b->d, s->source, s->pos, "key '%s' ignored (%s)", s->key,
				  old_keys[i].hint);
			return;
		}
	}
	diag_warn(b->d, s->source, s->pos, "unknown key '%s' ignored", s->key);
}

/* ---- After all keys: defaults and the checks that span keys ---------- */

static int build_cmdline(struct builder *b)
{
	struct domain_config *dc = b->dc;
	const char *root = b->root_at ? b->root_at->text : "";
	const char *extra = b->extra_at ? b->extra_at->text : "";

	if (b->cmdline_at) {
		const struct xlcfg_value *ignored = b->root_at ? b->root_at : b->extra_at;

		if (ignored)
			diag_warn(b->d, ignored->source, ignored->pos,
				  "root and extra are ignored when cmdline is given");
		return set_string(&dc->cmdline, b->cmdline_at->text);
	}
	if (asprintf(&dc->cmdline, "%s%s%s%s", root[0] ? "root=" : "", root,
		     root[0] && extra[0] ? " " : "", extra) < 0) {
		dc->cmdline = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int finish(struct builder *b, const struct xlcfg *cfg)
{
	struct domain_config *dc = b->dc;
	const struct xlcfg_setting *s;
	int err = build_cmdline(b);

	if (err)
		return err;
	if (!dc->name)
		diag_error(b->d, NULL, (struct src_pos){ 0 }, "no name = \"...\" given");
	if (!dc->kernel && !dc->bootloader)
		diag_error(b->d, NULL, (struct src_pos){ 0 }, "neither kernel nor bootloader given");
	if (!dc->maxmem_mib)
		dc->maxmem_mib = dc->memory_mib;
	if (!dc->maxvcpus)
		dc->maxvcpus = dc->vcpus;
	if (dc->maxmem_mib < dc->memory_mib && (s = xlcfg_get(cfg, "maxmem")))
		diag_error(b->d, s->source, s->value->pos, "maxmem (%llu) is less than memory (%llu)",
			   (unsigned long long)dc->maxmem_mib, (unsigned long long)dc->memory_mib);
	if (dc->maxvcpus < dc->vcpus && (s = xlcfg_get(cfg, "maxvcpus")))
		diag_error(b->d, s->source, s->value->pos, "maxvcpus (%u) is less than vcpus (%u)",
			   dc->maxvcpus, dc->vcpus);
	return dc->type ? 0 : set_string(&dc->type, "pv");
}

static void set_defaults(struct domain_config *dc)
{
	memset(dc, 0, sizeof(*dc));
	dc->memory_mib = 128;
	dc->vcpus = 1;
	dc->on_poweroff = DOMAIN_ACTION_DESTROY;
	dc->on_reboot = DOMAIN_ACTION_RESTART;
	dc->on_crash = DOMAIN_ACTION_DESTROY;
}

static int apply(struct builder *b, const struct xlcfg_setting *s)
{
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
		if (!strcmp(s->key, keys[k].key))
			return keys[k].apply(b, s->key, s->value);
	warn_unknown(b, s);
	return 0;
}

int domain_config_from_xlcfg(struct domain_config *dc, const struct xlcfg *cfg,
			     const struct domain_config_options *opt, struct diag *d)
{
	struct builder b = { .dc = dc, .opt = opt, .d = d };
	unsigned errors_before = d->errors;
	int err = 0;

	set_defaults(dc);
	for (size_t i = 0; i < cfg->nsettings && err != -ENOMEM; i++)
		err = apply(&b, &cfg->settings[i]);
	if (err != -ENOMEM)
		err = finish(&b, cfg);
	if (!err && d->errors != errors_before)
		err = -EINVAL;
	if (err)
		domain_config_free(dc);
	return err;
}

void domain_config_free(struct domain_config *dc)
{
	free(dc->name);
	free(dc->type);
	free(dc->cpus);
	free(dc->kernel);
	free(dc->ramdisk);
	free(dc->cmdline);
	free(dc->bootloader);
	for (size_t i = 0; i < dc->nbootloader_args; i++)
		free(dc->bootloader_args[i]);
	free(dc->bootloader_args);
	for (size_t i = 0; i < dc->ndns_aliases; i++)
		free(dc->dns_aliases[i]);
	free(dc->dns_aliases);
	for (size_t i = 0; i < dc->ndisks; i++)
		disk_spec_free(&dc->disks[i]);
	free(dc->disks);
	for (size_t i = 0; i < dc->nvifs; i++)
		vif_spec_free(&dc->vifs[i]);
	free(dc->vifs);
	memset(dc, 0, sizeof(*dc));
}

const char *domain_action_name(enum domain_action a)
{
	return (unsigned)a < ARRAY_SIZE(action_names) ? action_names[a] : "?";
}

/* ---- JSON --------------------------------------------------------------- */

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *disk_json(const struct disk_spec *ds)
{
	return json_pack("{s:o, s:s, s:s, s:b, s:b, s:o, s:o, s:o}",
			 "target", string_or_null(ds->target), "format", ds->format,
			 "vdev", ds->vdev, "readonly", ds->readonly, "cdrom", ds->cdrom,
			 "backendtype", string_or_null(ds->backendtype),
			 "script", string_or_null(ds->script), "serial", string_or_null(ds->serial));
}

static json_t *vif_json(const struct vif_spec *vs)
{
	char mac[MAC_TEXT_LEN];

	mac_format(vs->mac, mac);
	return json_pack("{s:o, s:s, s:o, s:o, s:o, s:o, s:I, s:I}",
			 "mac", vs->has_mac ? json_string(mac) : json_null(),
			 "bridge", vs->bridge, "ip", string_or_null(vs->ip),
			 "vifname", string_or_null(vs->vifname), "model", string_or_null(vs->model),
			 "script", string_or_null(vs->script),
			 "rate_bytes_per_sec", (json_int_t)vs->rate_bytes_per_sec,
			 "rate_interval_us", (json_int_t)vs->rate_interval_us);
}

static json_t *uuid_json(const struct domain_config *dc)
{
	const uint8_t *u = dc->uuid;
	char text[37];

	if (!dc->has_uuid)
		return json_null();
	snprintf(text, sizeof(text),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
		 u[12], u[13], u[14], u[15]);
	return json_string(text);
}

json_t *domain_config_to_json(const struct domain_config *dc)
{
	json_t *disks = json_array(), *vifs = json_array(), *args = json_array();
	json_t *aliases = json_array();

	for (size_t i = 0; i < dc->ndisks; i++)
		json_array_append_new(disks, disk_json(&dc->disks[i]));
	for (size_t i = 0; i < dc->nvifs; i++)
		json_array_append_new(vifs, vif_json(&dc->vifs[i]));
	for (size_t i = 0; i < dc->nbootloader_args; i++)
		json_array_append_new(args, json_string(dc->bootloader_args[i]));
	for (size_t i = 0; i < dc->ndns_aliases; i++)
		json_array_append_new(aliases, json_string(dc->dns_aliases[i]));
	return json_pack("{s:s, s:o, s:s, s:I, s:I, s:i, s:i, s:o, s:o, s:o, s:s, s:o, s:o,"
			 " s:o, s:o, s:o, s:s, s:s, s:s}",
			 "name", dc->name, "uuid", uuid_json(dc), "type", dc->type,
			 "memory", (json_int_t)dc->memory_mib, "maxmem", (json_int_t)dc->maxmem_mib,
			 "vcpus", (int)dc->vcpus, "maxvcpus", (int)dc->maxvcpus,
			 "cpus", string_or_null(dc->cpus), "kernel", string_or_null(dc->kernel),
			 "ramdisk", string_or_null(dc->ramdisk), "cmdline", dc->cmdline,
			 "bootloader", string_or_null(dc->bootloader), "bootloader_args", args,
			 "disk", disks, "vif", vifs, "dns_aliases", aliases,
			 "on_poweroff", domain_action_name(dc->on_poweroff),
			 "on_reboot", domain_action_name(dc->on_reboot),
			 "on_crash", domain_action_name(dc->on_crash));
}
