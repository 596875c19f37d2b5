/*
 * api_start(): the API bound to the real registry (registry.h). This is a
 * file of its own so that only programs calling api_start() (corrald) need
 * registry.c: the unit test links api.c with fakes through api_start_ops().
 */
#include "daemon/api.h"
#include "daemon/networks.h"

static int net_create(struct registry *r, const char *text, size_t len, const char *source,
		      struct diag *d, json_t **json)
{
	return networks_create(registry_networks(r), text, len, source, d, json);
}

static int net_destroy(struct registry *r, const char *name, struct diag *d)
{
	return networks_destroy(registry_networks(r), name, d);
}

static json_t *net_list(struct registry *r)
{
	return networks_list(registry_networks(r));
}

static json_t *net_show(struct registry *r, const char *name)
{
	return networks_show(registry_networks(r), name);
}

int api_start(struct api **out, int listen_fd, struct registry *r, gid_t admin_gid)
{
	static const struct api_registry_ops ops = {
		.create = registry_create,
		.find = registry_find,
		.list = registry_list,
		.domain_json = domain_json,
		.vcpus = domain_vcpus_json,
		.host = registry_host_json,
		.shutdown = domain_shutdown,
		.reboot = domain_reboot,
		.destroy = domain_destroy,
		.pause = domain_pause,
		.unpause = domain_unpause,
		.console_attach = domain_console_attach,
		.net_create = net_create,
		.net_destroy = net_destroy,
		.net_list = net_list,
		.net_show = net_show,
	};

	return api_start_ops(out, listen_fd, &ops, r, admin_gid);
}
