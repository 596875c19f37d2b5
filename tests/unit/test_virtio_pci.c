/*
 * The virtio 1.x PCI transport's own rules (virtio spec section 4.1), with a
 * fake device model behind it that counts start/stop calls and keeps a few
 * config bytes. The guest's side is the test driver (virtio_driver.h) over
 * the fake host; the PCI configuration window and the doorbells are also
 * driven through a real struct pci_bus and its 0xcf8/0xcfc ports.
 */
#include "test.h"
#include "fake_host.h"
#include "virtio_driver.h"
#include "common/log.h"
#include "devices/virtio_pci.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define BIT(n) (1ull << (n))

#define GUEST_MEM  (4u << 20)
#define HEAP_START (1u << 20)

/* The fake model: a type none of ours has, three queues, eight config bytes
 * and device feature bits from both device-specific ranges (0-23, 50-127). */
#define MODEL_TYPE       0x1f
#define MODEL_CLASS      0xff0000
#define MODEL_QUEUES     3
#define MODEL_QUEUE_SIZE 16
#define MODEL_CONFIG_LEN 8
#define MODEL_FEATURES   (BIT(0) | BIT(5) | BIT(50))
#define TRANSPORT_FEATURES (BIT(VIRTIO_F_INDIRECT_DESC) | BIT(VIRTIO_F_EVENT_IDX) | \
			    BIT(VIRTIO_F_VERSION_1))
#define CONFIG_VECTOR    MODEL_QUEUES	/* virtio_driver.h leaves vector nqueues for it */

/* From the spec. */
#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR    3
#define CAP_DEVICE 4
#define CAP_PCI    5
#define COMMON_CFG_LEN 0x38		/* sizeof(struct virtio_pci_common_cfg) */
#define CC_CONFIG_GENERATION 0x15
#define NO_VECTOR 0xffff
#define S_UP (VDRV_S_ACKNOWLEDGE | VDRV_S_DRIVER | VDRV_S_FEATURES_OK | VDRV_S_DRIVER_OK)
#define S_NEGOTIATED (VDRV_S_ACKNOWLEDGE | VDRV_S_DRIVER | VDRV_S_FEATURES_OK)

/* Where the test's PCI bus puts BARs. */
#define MMIO_BASE 0xe0000000ull
#define MMIO_SIZE 0x01000000ull

/* ---- The fake device model ---- */

struct model {
	_Atomic int starts, stops;
	uint64_t start_features;	/* as start() was last given them */
	int start_result;
	uint8_t config[MODEL_CONFIG_LEN];
	unsigned config_reads, config_writes;
	uint32_t last_offset;
	unsigned last_size;
};

static void model_config_read(void *dev, uint32_t offset, uint8_t *data, unsigned size)
{
	struct model *m = dev;

	m->config_reads++;
	m->last_offset = offset;
	m->last_size = size;
	memcpy(data, m->config + offset, size);
}

static void model_config_write(void *dev, uint32_t offset, const uint8_t *data, unsigned size)
{
	struct model *m = dev;

	m->config_writes++;
	m->last_offset = offset;
	m->last_size = size;
	memcpy(m->config + offset, data, size);
}

static int model_start(void *dev, uint64_t features)
{
	struct model *m = dev;

	m->starts++;
	m->start_features = features;
	return m->start_result;
}

static void model_stop(void *dev)
{
	struct model *m = dev;

	m->stops++;
}

static const struct virtio_device_ops model_ops = {
	.config_read = model_config_read,
	.config_write = model_config_write,
	.start = model_start,
	.stop = model_stop,
};

/* Without device config, the model has no config hooks at all. */
static const struct virtio_device_ops model_ops_no_config = {
	.start = model_start,
	.stop = model_stop,
};

static const struct virtio_device_info model_info = {
	.name = "virtio-test",
	.type = MODEL_TYPE,
	.pci_class = MODEL_CLASS,
	.features = MODEL_FEATURES,
	.nqueues = MODEL_QUEUES,
	.queue_size = MODEL_QUEUE_SIZE,
	.config_len = MODEL_CONFIG_LEN,
};

/* ---- A guest driving the transport ---- */

struct env {
	struct fake_host fh;
	struct model m;
	struct virtio_pci *vp;
	struct pci_device *pci;
	struct vdrv d;
};

static bool env_open_with(struct env *e, const struct virtio_device_info *info,
			  const struct virtio_device_ops *ops)
{
	memset(e, 0, sizeof(*e));
	for (unsigned i = 0; i < MODEL_CONFIG_LEN; i++)
		e->m.config[i] = 0xa0 + i;
	if (fake_host_init(&e->fh, GUEST_MEM) < 0)
		return false;
	e->vp = virtio_pci_create(info, ops, &e->m, &e->fh.host);
	if (!e->vp)
		return false;
	e->pci = virtio_pci_device(e->vp);
	return vdrv_init(&e->d, &e->fh, e->pci, HEAP_START) == 0;
}

static bool env_open(struct env *e)
{
	return env_open_with(e, &model_info, &model_ops);
}

static void env_close(struct env *e)
{
	virtio_pci_destroy(e->vp);
	fake_host_fini(&e->fh);
}

static uint64_t cc_read(struct env *e, uint32_t field, unsigned size)
{
	return vdrv_common_read(&e->d, field, size);
}

static void cc_write(struct env *e, uint32_t field, uint64_t v, unsigned size)
{
	vdrv_common_write(&e->d, field, v, size);
}

static uint64_t driver_features(struct env *e)
{
	uint64_t f;

	cc_write(e, VDRV_CC_GFSELECT, 0, 4);
	f = cc_read(e, VDRV_CC_GF, 4);
	cc_write(e, VDRV_CC_GFSELECT, 1, 4);
	return f | cc_read(e, VDRV_CC_GF, 4) << 32;
}

/* Reset, ACKNOWLEDGE, DRIVER, then exactly `features` and FEATURES_OK;
 * returns the status the device left. */
static uint8_t offer_features(struct env *e, uint64_t features)
{
	vdrv_reset(&e->d);
	vdrv_set_status(&e->d, VDRV_S_ACKNOWLEDGE);
	vdrv_set_status(&e->d, VDRV_S_ACKNOWLEDGE | VDRV_S_DRIVER);
	cc_write(e, VDRV_CC_GFSELECT, 0, 4);
	cc_write(e, VDRV_CC_GF, (uint32_t)features, 4);
	cc_write(e, VDRV_CC_GFSELECT, 1, 4);
	cc_write(e, VDRV_CC_GF, features >> 32, 4);
	vdrv_set_status(&e->d, VDRV_S_ACKNOWLEDGE | VDRV_S_DRIVER | VDRV_S_FEATURES_OK);
	return vdrv_status(&e->d);
}

/* Negotiates `want`, sets up every queue with the config vector, then
 * DRIVER_OK; true if the device took it. */
static bool driver_up(struct env *e, uint64_t want)
{
	if (vdrv_negotiate(&e->d, want) < 0)
		return false;
	for (unsigned q = 0; q < MODEL_QUEUES; q++) {
		if (vdrv_queue_setup(&e->d, q, 0) < 0)
			return false;
	}
	cc_write(e, VDRV_CC_MSIX_CONFIG, CONFIG_VECTOR, 2);
	vdrv_driver_ok(&e->d);
	return vdrv_status(&e->d) == S_UP;
}

static uint8_t isr_read(struct env *e)
{
	return vdrv_bar_read(&e->d, e->d.isr, 1);
}

static uint64_t kicks(struct env *e, unsigned q)
{
	uint64_t n;

	if (read(virtio_pci_kick_fd(e->vp, q), &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* Vendor capabilities of type `type`: how many, and the offset of the last. */
static unsigned find_caps(const struct pci_device *pci, uint8_t type, unsigned *where)
{
	unsigned n = 0, hops = 0;

	for (unsigned cap = pci->config[PCI_CAPABILITY_LIST]; cap && hops < 48; hops++) {
		if (pci->config[cap] == PCI_CAP_ID_VNDR && pci->config[cap + 3] == type) {
			n++;
			if (where)
				*where = cap;
		}
		cap = pci->config[cap + 1];
	}
	return n;
}

static uint32_t cap32(const struct pci_device *pci, unsigned cap, unsigned off)
{
	return io_data_get(pci->config + cap + off, 4);
}

/* ---- Identity and layout ---- */

static void pci_ids_identify_a_modern_virtio_device(void)
{
	struct env e;
	const uint8_t *c;

	CHECK(env_open(&e));
	c = e.pci->config;
	CHECK_EQ(io_data_get(c + PCI_VENDOR_ID, 2), VIRTIO_PCI_VENDOR);
	/* 4.1.2.1: "The PCI Device ID is calculated by adding 0x1040 to the
	 * Virtio Device ID", and non-transitional devices have revision 1 or
	 * higher and "SHOULD have a PCI Subsystem Device ID of 0x40 or higher". */
	CHECK_EQ(io_data_get(c + PCI_DEVICE_ID, 2), VIRTIO_PCI_DEVICE_BASE + MODEL_TYPE);
	CHECK_EQ(c[PCI_CLASS_REVISION], 1);
	CHECK_EQ(io_data_get(c + PCI_CLASS_REVISION + 1, 3), MODEL_CLASS);
	CHECK_EQ(io_data_get(c + PCI_SUBSYSTEM_VENDOR_ID, 2), VIRTIO_PCI_VENDOR);
	CHECK(io_data_get(c + PCI_SUBSYSTEM_ID, 2) >= 0x40);
	CHECK_EQ(c[PCI_HEADER_TYPE], 0);
	CHECK(c[PCI_STATUS] & PCI_STATUS_CAP_LIST);
	env_close(&e);
}

/* Every structure lies inside BAR 0, none overlaps another or the MSI-X
 * table and PBA, each appears once, and the sizes are the spec's. */
static void capabilities_describe_the_bar_layout(void)
{
	struct env e;
	const struct pci_device *pci;
	uint32_t start[8], len[8];
	unsigned n = 0, cap, hops = 0;

	CHECK(env_open(&e));
	pci = e.pci;
	CHECK(pci->bar_size[0] >= KiB(4));
	for (cap = pci->config[PCI_CAPABILITY_LIST]; cap && hops < 48; hops++) {
		CHECK(cap >= PCI_CAP_START && cap % 4 == 0 && cap <= PCI_CONFIG_SIZE - 4);
		if (pci->config[cap] == PCI_CAP_ID_VNDR && pci->config[cap + 3] != CAP_PCI) {
			uint32_t off = cap32(pci, cap, 8), length = cap32(pci, cap, 12);

			CHECK(pci->config[cap + 2] >= 16);		/* cap_len */
			CHECK_EQ(pci->config[cap + 4], 0);		/* bar */
			CHECK(range_within(off, length, pci->bar_size[0]));
			if (n < ARRAY_SIZE(start)) {
				start[n] = off;
				len[n++] = length;
			}
		}
		cap = pci->config[cap + 1];
	}
	CHECK(hops < 48);
	CHECK_EQ(find_caps(pci, CAP_COMMON, &cap), 1);
	CHECK(cap32(pci, cap, 12) >= COMMON_CFG_LEN);
	CHECK_EQ(find_caps(pci, CAP_ISR, &cap), 1);
	CHECK(cap32(pci, cap, 12) >= 1);
	CHECK_EQ(find_caps(pci, CAP_DEVICE, &cap), 1);
	CHECK(cap32(pci, cap, 12) >= MODEL_CONFIG_LEN);
	CHECK_EQ(find_caps(pci, CAP_NOTIFY, &cap), 1);
	CHECK(pci->config[cap + 2] >= 20);			/* with the multiplier */
	CHECK_EQ(cap32(pci, cap, 16), 4);
	/* 4.1.4.4: long enough for the last queue's 2-byte notify. */
	CHECK(cap32(pci, cap, 12) >= (MODEL_QUEUES - 1) * 4 + 2);
	CHECK_EQ(find_caps(pci, CAP_PCI, &cap), 1);
	CHECK_EQ(pci->config[cap + 2], 20);			/* struct virtio_pci_cfg_cap */
	/* MSI-X: one vector per queue plus the config vector. */
	CHECK_EQ(e.d.nvectors, MODEL_QUEUES + 1);
	if (n + 2 <= ARRAY_SIZE(start)) {
		uint32_t pba = vdrv_config_get(&e.d, e.d.msix_cap + 8, 4);

		start[n] = e.d.msix_table;
		len[n++] = 16 * e.d.nvectors;
		start[n] = pba & ~7u;
		len[n++] = 8;
		CHECK_EQ(pba & 7, 0);				/* BAR 0 */
	}
	for (unsigned i = 0; i < n; i++) {
		for (unsigned j = i + 1; j < n; j++)
			CHECK(start[i] + len[i] <= start[j] || start[j] + len[j] <= start[i]);
	}
	env_close(&e);
}

static void device_config_capability_only_when_the_model_has_config(void)
{
	struct virtio_device_info info = model_info;
	struct env e;

	info.config_len = 0;
	CHECK(env_open_with(&e, &info, &model_ops_no_config));
	CHECK_EQ(find_caps(e.pci, CAP_DEVICE, NULL), 0);
	CHECK_EQ(find_caps(e.pci, CAP_COMMON, NULL), 1);
	CHECK_EQ(find_caps(e.pci, CAP_NOTIFY, NULL), 1);
	/* Where the device config would be reads as zeroes, without a hook. */
	CHECK_EQ(vdrv_bar_read(&e.d, 0x2000, 4), 0);
	vdrv_bar_write(&e.d, 0x2000, 0x12345678, 4);
	CHECK(driver_up(&e, ~0ull));
	env_close(&e);
}

static void device_config_reaches_the_model_only_inside_config_len(void)
{
	struct env e;

	CHECK(env_open(&e));
	CHECK_EQ(e.d.device_len, MODEL_CONFIG_LEN);
	CHECK_EQ(vdrv_bar_read(&e.d, e.d.device + 2, 2), 0xa3a2);
	CHECK_EQ(e.m.config_reads, 1);
	CHECK_EQ(e.m.last_offset, 2);
	CHECK_EQ(e.m.last_size, 2);
	CHECK_EQ(vdrv_bar_read(&e.d, e.d.device + 4, 4), 0xa7a6a5a4);
	/* Straddling the end, or past it: zeroes, and the model is not asked. */
	CHECK_EQ(vdrv_bar_read(&e.d, e.d.device + 6, 4), 0);
	CHECK_EQ(vdrv_bar_read(&e.d, e.d.device + MODEL_CONFIG_LEN, 1), 0);
	CHECK_EQ(e.m.config_reads, 2);
	vdrv_bar_write(&e.d, e.d.device + 1, 0x55, 1);
	CHECK_EQ(e.m.config_writes, 1);
	CHECK_EQ(e.m.config[1], 0x55);
	vdrv_bar_write(&e.d, e.d.device + 7, 0xffff, 2);
	CHECK_EQ(e.m.config_writes, 1);
	CHECK_EQ(e.m.config[7], 0xa7);
	env_close(&e);
}

/* ---- Feature negotiation (section 3.1.1) ---- */

static void device_features_add_the_transport_bits_to_the_models(void)
{
	struct env e;

	CHECK(env_open(&e));
	CHECK_EQ(vdrv_device_features(&e.d), MODEL_FEATURES | TRANSPORT_FEATURES);
	/* Beyond the 64 bits we have, the feature words read 0. */
	cc_write(&e, VDRV_CC_DFSELECT, 2, 4);
	CHECK_EQ(cc_read(&e, VDRV_CC_DFSELECT, 4), 2);
	CHECK_EQ(cc_read(&e, VDRV_CC_DF, 4), 0);
	/* The device features are the device's: writes do not change them. */
	cc_write(&e, VDRV_CC_DFSELECT, 0, 4);
	cc_write(&e, VDRV_CC_DF, 0xffffffff, 4);
	CHECK_EQ(cc_read(&e, VDRV_CC_DF, 4), (uint32_t)(MODEL_FEATURES | TRANSPORT_FEATURES));
	env_close(&e);
}

static void features_ok_is_refused_for_a_feature_not_offered(void)
{
	struct env e;

	CHECK(env_open(&e));
	log_set_level(LOG_LEVEL_SILENT);
	CHECK(!(offer_features(&e, BIT(VIRTIO_F_VERSION_1) | BIT(1)) & VDRV_S_FEATURES_OK));
	CHECK(!(offer_features(&e, BIT(VIRTIO_F_VERSION_1) | BIT(33)) & VDRV_S_FEATURES_OK));
	CHECK(!(offer_features(&e, MODEL_FEATURES | TRANSPORT_FEATURES | BIT(63)) &
		VDRV_S_FEATURES_OK));
	log_set_level(LOG_LEVEL_WARN);
	CHECK_EQ(offer_features(&e, BIT(VIRTIO_F_VERSION_1) | BIT(5)), S_NEGOTIATED);
	env_close(&e);
}

static void features_ok_is_refused_without_version_1(void)
{
	struct env e;

	CHECK(env_open(&e));
	log_set_level(LOG_LEVEL_SILENT);
	CHECK_EQ(offer_features(&e, MODEL_FEATURES | BIT(VIRTIO_F_EVENT_IDX)),
		 VDRV_S_ACKNOWLEDGE | VDRV_S_DRIVER);
	CHECK_EQ(offer_features(&e, 0), VDRV_S_ACKNOWLEDGE | VDRV_S_DRIVER);
	log_set_level(LOG_LEVEL_WARN);
	CHECK_EQ(offer_features(&e, BIT(VIRTIO_F_VERSION_1)), S_NEGOTIATED);
	env_close(&e);
}

static void driver_features_are_frozen_at_features_ok_and_given_to_start(void)
{
	uint64_t want = BIT(VIRTIO_F_VERSION_1) | BIT(50) | BIT(0);
	struct env e;

	CHECK(env_open(&e));
	CHECK_EQ(offer_features(&e, want), S_NEGOTIATED);
	CHECK_EQ(driver_features(&e), want);
	cc_write(&e, VDRV_CC_GFSELECT, 0, 4);
	cc_write(&e, VDRV_CC_GF, (uint32_t)TRANSPORT_FEATURES, 4);
	CHECK_EQ(driver_features(&e), want);
	for (unsigned q = 0; q < MODEL_QUEUES; q++)
		CHECK_EQ(vdrv_queue_setup(&e.d, q, 0), 0);
	vdrv_driver_ok(&e.d);
	CHECK_EQ(vdrv_status(&e.d), S_UP);
	CHECK_EQ(e.m.starts, 1);
	CHECK_EQ(e.m.start_features, want);
	env_close(&e);
}

/* ---- DRIVER_OK ---- */

static void driver_ok_without_features_ok_needs_reset(void)
{
	struct env e;

	CHECK(env_open(&e));
	vdrv_set_status(&e.d, VDRV_S_ACKNOWLEDGE);
	vdrv_set_status(&e.d, VDRV_S_ACKNOWLEDGE | VDRV_S_DRIVER);
	CHECK_EQ(vdrv_queue_setup(&e.d, 0, 0), 0);
	log_set_level(LOG_LEVEL_SILENT);
	vdrv_set_status(&e.d, VDRV_S_ACKNOWLEDGE | VDRV_S_DRIVER | VDRV_S_DRIVER_OK);
	log_set_level(LOG_LEVEL_WARN);
	CHECK_EQ(vdrv_status(&e.d),
		 VDRV_S_ACKNOWLEDGE | VDRV_S_DRIVER | VDRV_S_DRIVER_OK | VDRV_S_NEEDS_RESET);
	CHECK_EQ(e.m.starts, 0);
	/* A reset clears it and the device then starts normally. */
	CHECK(driver_up(&e, ~0ull));
	CHECK_EQ(e.m.starts, 1);
	env_close(&e);
}

/* Sets queue q to `size` entries; DRIVER_OK must then fail with NEEDS_RESET. */
static void expect_reset_for_queue_size(unsigned q, unsigned size)
{
	struct env e;

	CHECK(env_open(&e));
	CHECK_EQ(vdrv_negotiate(&e.d, ~0ull), 0);
	CHECK_EQ(vdrv_queue_setup(&e.d, q, 0), 0);
	cc_write(&e, VDRV_CC_Q_SELECT, q, 2);
	cc_write(&e, VDRV_CC_Q_SIZE, size, 2);
	log_set_level(LOG_LEVEL_SILENT);
	vdrv_driver_ok(&e.d);
	log_set_level(LOG_LEVEL_WARN);
	CHECK_EQ(vdrv_status(&e.d), S_UP | VDRV_S_NEEDS_RESET);
	CHECK_EQ(e.m.starts, 0);
	env_close(&e);
}

static void driver_ok_with_a_grown_queue_needs_reset(void)
{
	expect_reset_for_queue_size(0, 2 * MODEL_QUEUE_SIZE);
}

static void driver_ok_with_a_queue_size_not_a_power_of_two_needs_reset(void)
{
	expect_reset_for_queue_size(1, MODEL_QUEUE_SIZE - 4);
}

static void a_driver_may_shrink_a_queue(void)
{
	struct env e;

	CHECK(env_open(&e));
	CHECK_EQ(vdrv_negotiate(&e.d, ~0ull), 0);
	CHECK_EQ(vdrv_queue_setup(&e.d, 0, MODEL_QUEUE_SIZE / 4), 0);
	vdrv_driver_ok(&e.d);
	CHECK_EQ(vdrv_status(&e.d), S_UP);
	CHECK_EQ(e.m.starts, 1);
	CHECK_EQ(virtio_pci_queue(e.vp, 0)->size, MODEL_QUEUE_SIZE / 4);
	env_close(&e);
}

static void a_model_that_cannot_start_needs_reset(void)
{
	struct env e;

	CHECK(env_open(&e));
	e.m.start_result = -EIO;
	log_set_level(LOG_LEVEL_SILENT);
	CHECK(!driver_up(&e, ~0ull));
	log_set_level(LOG_LEVEL_WARN);
	CHECK_EQ(vdrv_status(&e.d), S_UP | VDRV_S_NEEDS_RESET);
	CHECK_EQ(e.m.starts, 1);
	/* It never started, so the reset has nothing to stop. */
	vdrv_reset(&e.d);
	CHECK_EQ(e.m.stops, 0);
	e.m.start_result = 0;
	CHECK(driver_up(&e, ~0ull));
	env_close(&e);
}

/* ---- Common configuration registers ---- */

static void vectors_beyond_the_table_read_as_no_vector(void)
{
	struct env e;

	CHECK(env_open(&e));
	CHECK_EQ(vdrv_negotiate(&e.d, ~0ull), 0);
	/* 4.1.5.1.2: a vector the device cannot use reads back NO_VECTOR. */
	CHECK_EQ(cc_read(&e, VDRV_CC_MSIX_CONFIG, 2), NO_VECTOR);
	cc_write(&e, VDRV_CC_MSIX_CONFIG, MODEL_QUEUES, 2);
	CHECK_EQ(cc_read(&e, VDRV_CC_MSIX_CONFIG, 2), MODEL_QUEUES);
	cc_write(&e, VDRV_CC_MSIX_CONFIG, MODEL_QUEUES + 1, 2);
	CHECK_EQ(cc_read(&e, VDRV_CC_MSIX_CONFIG, 2), NO_VECTOR);
	cc_write(&e, VDRV_CC_MSIX_CONFIG, 0x7ff, 2);
	CHECK_EQ(cc_read(&e, VDRV_CC_MSIX_CONFIG, 2), NO_VECTOR);
	for (unsigned q = 0; q < MODEL_QUEUES; q++) {
		cc_write(&e, VDRV_CC_Q_SELECT, q, 2);
		CHECK_EQ(cc_read(&e, VDRV_CC_Q_MSIX, 2), NO_VECTOR);
		cc_write(&e, VDRV_CC_Q_MSIX, MODEL_QUEUES, 2);
		CHECK_EQ(cc_read(&e, VDRV_CC_Q_MSIX, 2), MODEL_QUEUES);
		cc_write(&e, VDRV_CC_Q_MSIX, MODEL_QUEUES + 1, 2);
		CHECK_EQ(cc_read(&e, VDRV_CC_Q_MSIX, 2), NO_VECTOR);
		cc_write(&e, VDRV_CC_Q_MSIX, 0x1234, 2);
		CHECK_EQ(cc_read(&e, VDRV_CC_Q_MSIX, 2), NO_VECTOR);
		cc_write(&e, VDRV_CC_Q_MSIX, 0, 2);
		CHECK_EQ(cc_read(&e, VDRV_CC_Q_MSIX, 2), 0);
	}
	env_close(&e);
}

static void num_queues_and_notify_offsets_describe_the_queues(void)
{
	struct env e;

	CHECK(env_open(&e));
	CHECK_EQ(cc_read(&e, VDRV_CC_NUM_QUEUES, 2), MODEL_QUEUES);
	for (unsigned q = 0; q < MODEL_QUEUES; q++) {
		cc_write(&e, VDRV_CC_Q_SELECT, q, 2);
		CHECK_EQ(cc_read(&e, VDRV_CC_Q_SELECT, 2), q);
		CHECK_EQ(cc_read(&e, VDRV_CC_Q_NOTIFY_OFF, 2), q);
		CHECK_EQ(cc_read(&e, VDRV_CC_Q_SIZE, 2), MODEL_QUEUE_SIZE);
		CHECK_EQ(cc_read(&e, VDRV_CC_Q_ENABLE, 2), 0);
	}
	/* 4.1.4.3.2: a queue that does not exist reads as size 0. */
	cc_write(&e, VDRV_CC_Q_SELECT, MODEL_QUEUES, 2);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_SIZE, 2), 0);
	cc_write(&e, VDRV_CC_Q_SIZE, 8, 2);
	cc_write(&e, VDRV_CC_Q_ENABLE, 1, 2);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_SIZE, 2), 0);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_ENABLE, 2), 0);
	/* num_queues is the device's. */
	cc_write(&e, VDRV_CC_NUM_QUEUES, 9, 2);
	CHECK_EQ(cc_read(&e, VDRV_CC_NUM_QUEUES, 2), MODEL_QUEUES);
	env_close(&e);
}

static void queue_registers_are_read_only_after_driver_ok(void)
{
	struct env e;
	struct vdrv_queue *q;

	CHECK(env_open(&e));
	CHECK_EQ(vdrv_negotiate(&e.d, ~0ull), 0);
	CHECK_EQ(vdrv_queue_setup(&e.d, 0, 0), 0);
	vdrv_driver_ok(&e.d);
	CHECK_EQ(vdrv_status(&e.d), S_UP);
	q = &e.d.q[0];
	cc_write(&e, VDRV_CC_Q_SELECT, 0, 2);
	cc_write(&e, VDRV_CC_Q_SIZE, 4, 2);
	cc_write(&e, VDRV_CC_Q_ENABLE, 0, 2);
	cc_write(&e, VDRV_CC_Q_DESC, 0x1000, 4);
	cc_write(&e, VDRV_CC_Q_DESC + 4, 1, 4);
	cc_write(&e, VDRV_CC_Q_AVAIL, 0x2000, 4);
	cc_write(&e, VDRV_CC_Q_USED, 0x3000, 4);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_SIZE, 2), MODEL_QUEUE_SIZE);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_ENABLE, 2), 1);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_DESC, 4), (uint32_t)q->desc_gpa);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_DESC + 4, 4), q->desc_gpa >> 32);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_AVAIL, 4), (uint32_t)q->avail_gpa);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_USED, 4), (uint32_t)q->used_gpa);
	/* A queue the driver left off cannot be turned on late either. */
	cc_write(&e, VDRV_CC_Q_SELECT, 2, 2);
	cc_write(&e, VDRV_CC_Q_ENABLE, 1, 2);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_ENABLE, 2), 0);
	CHECK_EQ(vdrv_status(&e.d), S_UP);
	CHECK_EQ(e.m.starts, 1);
	env_close(&e);
}

/*
 * 4.1.3.1: each field is accessed with its natural width (8, 16 or 32 bits,
 * 64-bit fields as two 32-bit halves). Narrower reads see the same bytes.
 */
static void common_config_fields_take_their_natural_widths(void)
{
	struct env e;
	uint8_t gen;

	CHECK(env_open(&e));
	CHECK_EQ(vdrv_negotiate(&e.d, ~0ull), 0);
	/* 32-bit fields. */
	cc_write(&e, VDRV_CC_DFSELECT, 1, 4);
	CHECK_EQ(cc_read(&e, VDRV_CC_DF, 4), (MODEL_FEATURES | TRANSPORT_FEATURES) >> 32);
	CHECK_EQ(cc_read(&e, VDRV_CC_DF, 1), 1);			/* VERSION_1 */
	CHECK_EQ(cc_read(&e, VDRV_CC_DF + 2, 2), BIT(50 - 32) >> 16);
	cc_write(&e, VDRV_CC_DFSELECT, 0, 4);
	CHECK_EQ(cc_read(&e, VDRV_CC_DF + 3, 1), (uint8_t)(TRANSPORT_FEATURES >> 24));
	/* 16-bit fields. */
	cc_write(&e, VDRV_CC_Q_SELECT, 1, 2);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_SELECT, 1), 1);
	cc_write(&e, VDRV_CC_Q_SIZE, 8, 2);
	cc_write(&e, VDRV_CC_Q_MSIX, 2, 2);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_SIZE, 4), 8 | 2 << 16);		/* size and vector */
	/* 64-bit fields as two halves, each readable as bytes and words. */
	cc_write(&e, VDRV_CC_Q_DESC, 0x89abcdf0, 4);
	cc_write(&e, VDRV_CC_Q_DESC + 4, 0x12, 4);
	cc_write(&e, VDRV_CC_Q_AVAIL, 0x44332210, 4);
	cc_write(&e, VDRV_CC_Q_AVAIL + 4, 0x77, 4);
	cc_write(&e, VDRV_CC_Q_USED, 0x0000f000, 4);
	cc_write(&e, VDRV_CC_Q_USED + 4, 0, 4);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_DESC, 4), 0x89abcdf0);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_DESC + 4, 4), 0x12);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_DESC, 1), 0xf0);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_DESC + 2, 2), 0x89ab);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_AVAIL, 4), 0x44332210);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_AVAIL + 4, 4), 0x77);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_USED, 4), 0xf000);
	/* Writing one half leaves the other. */
	cc_write(&e, VDRV_CC_Q_DESC, 0x5000, 4);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_DESC + 4, 4), 0x12);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_DESC, 4), 0x5000);
	/* Other queues keep their own registers. */
	cc_write(&e, VDRV_CC_Q_SELECT, 0, 2);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_DESC, 4), 0);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_SIZE, 2), MODEL_QUEUE_SIZE);
	/* 8-bit fields: status, and config_generation next to it is read-only. */
	CHECK_EQ(cc_read(&e, VDRV_CC_STATUS, 1), S_NEGOTIATED);
	gen = cc_read(&e, CC_CONFIG_GENERATION, 1);
	cc_write(&e, CC_CONFIG_GENERATION, gen + 1, 1);
	CHECK_EQ(cc_read(&e, CC_CONFIG_GENERATION, 1), gen);
	CHECK_EQ(cc_read(&e, VDRV_CC_STATUS, 2), S_NEGOTIATED | gen << 8);
	/* Past the structure's end: zeroes. */
	CHECK_EQ(vdrv_bar_read(&e.d, e.d.common + COMMON_CFG_LEN, 4), 0);
	CHECK_EQ(vdrv_bar_read(&e.d, e.d.common + COMMON_CFG_LEN - 2, 4), 0);
	env_close(&e);
}

/* ---- Reset ---- */

static void status_zero_resets_the_device(void)
{
	struct env e;

	CHECK(env_open(&e));
	CHECK(driver_up(&e, ~0ull));
	CHECK_EQ(e.m.starts, 1);
	cc_write(&e, VDRV_CC_DFSELECT, 1, 4);
	cc_write(&e, VDRV_CC_Q_SELECT, 2, 2);
	vdrv_set_status(&e.d, 0);
	CHECK_EQ(e.m.stops, 1);
	CHECK_EQ(vdrv_status(&e.d), 0);
	CHECK_EQ(cc_read(&e, VDRV_CC_DFSELECT, 4), 0);
	CHECK_EQ(cc_read(&e, VDRV_CC_GFSELECT, 4), 0);
	CHECK_EQ(cc_read(&e, VDRV_CC_Q_SELECT, 2), 0);
	CHECK_EQ(cc_read(&e, VDRV_CC_MSIX_CONFIG, 2), NO_VECTOR);
	CHECK_EQ(driver_features(&e), 0);
	for (unsigned q = 0; q < MODEL_QUEUES; q++) {
		cc_write(&e, VDRV_CC_Q_SELECT, q, 2);
		CHECK_EQ(cc_read(&e, VDRV_CC_Q_SIZE, 2), MODEL_QUEUE_SIZE);
		CHECK_EQ(cc_read(&e, VDRV_CC_Q_MSIX, 2), NO_VECTOR);
		CHECK_EQ(cc_read(&e, VDRV_CC_Q_ENABLE, 2), 0);
		CHECK_EQ(cc_read(&e, VDRV_CC_Q_NOTIFY_OFF, 2), q);
		for (unsigned f = VDRV_CC_Q_DESC; f < COMMON_CFG_LEN; f += 4)
			CHECK_EQ(cc_read(&e, f, 4), 0);
	}
	/* A second reset has nothing to stop; the device starts again. */
	vdrv_set_status(&e.d, 0);
	CHECK_EQ(e.m.stops, 1);
	CHECK(driver_up(&e, ~0ull));
	CHECK_EQ(e.m.starts, 2);
	CHECK_EQ(e.m.stops, 1);
	virtio_pci_destroy(e.vp);
	CHECK_EQ(e.m.stops, 2);		/* teardown stops a running device */
	fake_host_fini(&e.fh);
}

static void reset_of_a_device_never_started_does_not_stop_it(void)
{
	struct env e;

	CHECK(env_open(&e));
	CHECK_EQ(vdrv_negotiate(&e.d, ~0ull), 0);
	vdrv_set_status(&e.d, 0);
	CHECK_EQ(vdrv_status(&e.d), 0);
	CHECK_EQ(e.m.stops, 0);
	env_close(&e);
	CHECK_EQ(e.m.stops, 0);
}

/* ---- Interrupts ---- */

static void needs_reset_tells_the_driver_and_sticks(void)
{
	struct env e;
	int config_handle;
	uint8_t gen;

	CHECK(env_open(&e));
	CHECK(driver_up(&e, ~0ull));
	config_handle = e.d.vec_handle[CONFIG_VECTOR];
	fake_host_msi_fired(&e.fh, config_handle);
	CHECK_EQ(isr_read(&e), 0);
	gen = cc_read(&e, CC_CONFIG_GENERATION, 1);
	virtio_pci_needs_reset(e.vp);
	CHECK_EQ(vdrv_status(&e.d), S_UP | VDRV_S_NEEDS_RESET);
	CHECK_EQ(cc_read(&e, CC_CONFIG_GENERATION, 1), (uint8_t)(gen + 1));
	CHECK_EQ(fake_host_msi_fired(&e.fh, config_handle), 1);
	for (unsigned q = 0; q < MODEL_QUEUES; q++)
		CHECK_EQ(fake_host_msi_fired(&e.fh, e.d.vec_handle[q]), 0);
	CHECK_EQ(isr_read(&e), 2);				/* a configuration change */
	/* Only the device clears it, by a reset. */
	vdrv_set_status(&e.d, S_UP);
	CHECK_EQ(vdrv_status(&e.d), S_UP | VDRV_S_NEEDS_RESET);
	vdrv_set_status(&e.d, S_UP | VDRV_S_FAILED);
	CHECK_EQ(vdrv_status(&e.d), S_UP | VDRV_S_FAILED | VDRV_S_NEEDS_RESET);
	CHECK_EQ(e.m.starts, 1);
	CHECK_EQ(e.m.stops, 0);
	vdrv_set_status(&e.d, 0);
	CHECK_EQ(vdrv_status(&e.d), 0);
	CHECK_EQ(e.m.stops, 1);
	env_close(&e);
}

static void isr_reads_and_clears(void)
{
	struct env e;

	CHECK(env_open(&e));
	CHECK(driver_up(&e, ~0ull));
	CHECK_EQ(isr_read(&e), 0);
	virtio_pci_notify_queue(e.vp, 1);
	CHECK_EQ(isr_read(&e), 1);
	CHECK_EQ(isr_read(&e), 0);
	virtio_pci_config_changed(e.vp);
	CHECK_EQ(isr_read(&e), 2);
	CHECK_EQ(isr_read(&e), 0);
	virtio_pci_notify_queue(e.vp, 0);
	virtio_pci_config_changed(e.vp);
	CHECK_EQ(vdrv_bar_read(&e.d, e.d.isr, 4), 3);
	CHECK_EQ(isr_read(&e), 0);
	/* Writes do not set it. */
	vdrv_bar_write(&e.d, e.d.isr, 3, 1);
	CHECK_EQ(isr_read(&e), 0);
	env_close(&e);
}

static void queue_interrupts_go_to_the_queues_vector(void)
{
	struct env e;

	CHECK(env_open(&e));
	CHECK(driver_up(&e, ~0ull));
	for (unsigned v = 0; v <= CONFIG_VECTOR; v++)
		fake_host_msi_fired(&e.fh, e.d.vec_handle[v]);
	virtio_pci_notify_queue(e.vp, 1);
	virtio_pci_notify_queue(e.vp, 2);
	virtio_pci_notify_queue(e.vp, 2);
	virtio_pci_notify_queue(e.vp, MODEL_QUEUES);	/* no such queue: nothing */
	CHECK_EQ(fake_host_msi_fired(&e.fh, e.d.vec_handle[0]), 0);
	CHECK_EQ(fake_host_msi_fired(&e.fh, e.d.vec_handle[1]), 1);
	CHECK_EQ(fake_host_msi_fired(&e.fh, e.d.vec_handle[2]), 2);
	CHECK_EQ(fake_host_msi_fired(&e.fh, e.d.vec_handle[CONFIG_VECTOR]), 0);
	virtio_pci_config_changed(e.vp);
	CHECK_EQ(fake_host_msi_fired(&e.fh, e.d.vec_handle[CONFIG_VECTOR]), 1);
	env_close(&e);
}

/* What vhost gets: writes to a queue's call fd raise the queue's vector. */
static void call_fd_raises_the_queues_vector(void)
{
	uint64_t one = 1;
	struct env e;

	CHECK(env_open(&e));
	CHECK_EQ(virtio_pci_call_fd(e.vp, 2), -1);	/* no vector yet */
	CHECK(driver_up(&e, ~0ull));
	fake_host_msi_fired(&e.fh, e.d.vec_handle[2]);
	CHECK(write(virtio_pci_call_fd(e.vp, 2), &one, sizeof(one)) == sizeof(one));
	CHECK_EQ(fake_host_msi_fired(&e.fh, e.d.vec_handle[2]), 1);
	CHECK_EQ(fake_host_msi_fired(&e.fh, e.d.vec_handle[1]), 0);
	CHECK_EQ(virtio_pci_call_fd(e.vp, MODEL_QUEUES), -1);
	env_close(&e);
}

/* ---- Notifications ---- */

static void notify_writes_through_the_bar_signal_the_kick_eventfd(void)
{
	struct env e;

	CHECK(env_open(&e));
	CHECK(driver_up(&e, ~0ull));
	for (unsigned q = 0; q < MODEL_QUEUES; q++)
		CHECK_EQ(kicks(&e, q), 0);
	vdrv_kick(&e.d, 2);
	vdrv_kick(&e.d, 2);
	vdrv_kick(&e.d, 0);
	CHECK_EQ(kicks(&e, 0), 1);
	CHECK_EQ(kicks(&e, 1), 0);
	CHECK_EQ(kicks(&e, 2), 2);
	/* Past the last queue's notify address: nobody. */
	vdrv_bar_write(&e.d, e.d.notify_base + e.d.notify_mult * MODEL_QUEUES, 0, 2);
	for (unsigned q = 0; q < MODEL_QUEUES; q++)
		CHECK_EQ(kicks(&e, q), 0);
	/* Notify reads nothing. */
	CHECK_EQ(vdrv_bar_read(&e.d, e.d.notify_base, 2), 0);
	env_close(&e);
}

static int model_chain_len;

static uint32_t count_chain(void *ctx, const struct virtq_chain *chain)
{
	unsigned *calls = ctx;

	(*calls)++;
	model_chain_len = chain->in_len;
	return chain->in_len / 2;
}

static void serve_queue_hands_chains_over_and_interrupts(void)
{
	struct env e;
	struct virtq_used_elem u = { 0 };
	unsigned calls = 0;
	uint64_t buf;

	CHECK(env_open(&e));
	CHECK(driver_up(&e, ~BIT(VIRTIO_F_EVENT_IDX)));
	fake_host_msi_fired(&e.fh, e.d.vec_handle[1]);
	buf = vdrv_alloc(&e.d, 64, 8);
	{
		struct vdrv_buf b[] = { { buf, 16, false }, { buf + 16, 48, true } };

		CHECK(vdrv_post(&e.d, 1, b, 2) >= 0);
		CHECK(vdrv_post(&e.d, 1, b + 1, 1) >= 0);
	}
	CHECK(virtio_pci_serve_queue(e.vp, 1, count_chain, &calls));
	CHECK_EQ(calls, 2);
	CHECK_EQ(model_chain_len, 48);
	CHECK(vdrv_wait_used(&e.d, 1, &u, VDRV_TIMEOUT_MS));
	CHECK_EQ(u.len, 24);
	CHECK(vdrv_wait_used(&e.d, 1, &u, VDRV_TIMEOUT_MS));
	CHECK_EQ(u.len, 24);
	/* One interrupt for the batch. */
	CHECK_EQ(vdrv_take_irqs(&e.d, 1, 0), 1);
	CHECK_EQ(vdrv_status(&e.d), S_UP);
	env_close(&e);
}

/* 4.1.4.3.2: queue_enable lets the driver keep the device off a queue. */
static void serve_queue_ignores_a_queue_the_driver_left_off(void)
{
	struct env e;
	unsigned calls = 0;
	uint8_t gen;

	CHECK(env_open(&e));
	CHECK_EQ(vdrv_negotiate(&e.d, ~0ull), 0);
	CHECK_EQ(vdrv_queue_setup(&e.d, 0, 0), 0);
	vdrv_driver_ok(&e.d);
	CHECK_EQ(vdrv_status(&e.d), S_UP);
	gen = cc_read(&e, CC_CONFIG_GENERATION, 1);
	CHECK(virtio_pci_serve_queue(e.vp, 1, count_chain, &calls));
	CHECK(virtio_pci_serve_queue(e.vp, 2, count_chain, &calls));
	CHECK_EQ(calls, 0);
	CHECK_EQ(vdrv_status(&e.d), S_UP);
	CHECK_EQ(cc_read(&e, CC_CONFIG_GENERATION, 1), gen);
	env_close(&e);
}

static void serve_queue_on_a_broken_ring_needs_reset(void)
{
	struct env e;
	struct vdrv_queue *q;
	unsigned calls = 0;

	CHECK(env_open(&e));
	CHECK(driver_up(&e, ~0ull));
	q = &e.d.q[0];
	q->desc[0] = (struct virtq_desc){ .addr = HEAP_START, .len = 16,
					  .flags = VIRTQ_DESC_F_NEXT, .next = 0 };
	q->avail->ring[q->avail->idx & (q->size - 1)] = 0;
	__atomic_store_n(&q->avail->idx, q->avail->idx + 1, __ATOMIC_RELEASE);
	log_set_level(LOG_LEVEL_SILENT);
	CHECK(!virtio_pci_serve_queue(e.vp, 0, count_chain, &calls));
	log_set_level(LOG_LEVEL_WARN);
	CHECK_EQ(calls, 0);
	CHECK_EQ(vdrv_status(&e.d), S_UP | VDRV_S_NEEDS_RESET);
	env_close(&e);
}

/* ---- On a real PCI bus ---- */

struct bus_env {
	struct env e;
	struct pci_bus bus;
	unsigned slot;
};

static bool bus_open(struct bus_env *b)
{
	if (!env_open(&b->e) || pci_bus_init(&b->bus, MMIO_BASE, MMIO_SIZE) < 0)
		return false;
	if (pci_bus_add(&b->bus, b->e.pci) < 0)
		return false;
	b->slot = b->e.pci->slot;
	return true;
}

static void bus_close(struct bus_env *b)
{
	pci_bus_fini(&b->bus);
	env_close(&b->e);
}

static void bus_address(struct bus_env *b, unsigned reg)
{
	uint8_t a[4];

	io_data_put(a, 4, 0x80000000u | b->slot << 11 | (reg & 0xfc));
	pci_config_io_ops.write(&b->bus, 0, a, 4);
}

/* A config read or write through 0xcf8/0xcfc, as a guest makes it. */
static uint32_t bus_cfg_read(struct bus_env *b, unsigned reg, unsigned size)
{
	uint8_t data[4] = { 0 };

	bus_address(b, reg);
	pci_config_io_ops.read(&b->bus, 4 + (reg & 3), data, size);
	return io_data_get(data, size);
}

static void bus_cfg_write(struct bus_env *b, unsigned reg, uint32_t v, unsigned size)
{
	uint8_t data[4];

	io_data_put(data, size, v);
	bus_address(b, reg);
	pci_config_io_ops.write(&b->bus, 4 + (reg & 3), data, size);
}

static uint64_t doorbell_addr(struct bus_env *b, uint64_t bar, unsigned q)
{
	return bar + b->e.d.notify_base + b->e.d.notify_mult * q;
}

static void count_doorbell_log(struct fake_host *fh, unsigned from, unsigned *assigns,
			       unsigned *deassigns)
{
	*assigns = *deassigns = 0;
	for (unsigned i = from; i < fh->ndoorbell_log; i++) {
		if (fh->doorbell_log[i].assign)
			(*assigns)++;
		else
			(*deassigns)++;
	}
}

static void doorbells_follow_the_bar(void)
{
	struct bus_env b;
	struct fake_host *fh = &b.e.fh;
	unsigned assigns, deassigns;
	uint64_t bar, moved;

	CHECK(bus_open(&b));
	bar = bus_cfg_read(&b, PCI_BAR0, 4) & ~0xfull;
	CHECK(bar >= MMIO_BASE && bar < MMIO_BASE + MMIO_SIZE);
	/* Memory decoding is off: no doorbells yet. */
	CHECK_EQ(fh->ndoorbells, 0);
	bus_cfg_write(&b, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	CHECK_EQ(fh->ndoorbells, MODEL_QUEUES);
	for (unsigned q = 0; q < MODEL_QUEUES; q++) {
		CHECK_EQ(doorbell_addr(&b, bar, q), bar + 0x3000 + 4 * q);
		CHECK_EQ(fake_host_doorbell_fd(fh, doorbell_addr(&b, bar, q)),
			 virtio_pci_kick_fd(b.e.vp, q));
	}
	/* The guest moves the BAR: the doorbells move with it. */
	moved = bar + 0x100000;
	bus_cfg_write(&b, PCI_BAR0, moved, 4);
	CHECK_EQ(fh->ndoorbells, MODEL_QUEUES);
	for (unsigned q = 0; q < MODEL_QUEUES; q++) {
		CHECK_EQ(fake_host_doorbell_fd(fh, doorbell_addr(&b, bar, q)), -1);
		CHECK_EQ(fake_host_doorbell_fd(fh, doorbell_addr(&b, moved, q)),
			 virtio_pci_kick_fd(b.e.vp, q));
	}
	/* Decoding off: none. */
	bus_cfg_write(&b, PCI_COMMAND, 0, 2);
	CHECK_EQ(fh->ndoorbells, 0);
	count_doorbell_log(fh, 0, &assigns, &deassigns);
	CHECK_EQ(assigns, 2 * MODEL_QUEUES);
	CHECK_EQ(deassigns, 2 * MODEL_QUEUES);
	bus_close(&b);
}

/* A host that refuses a doorbell leaves notifications to the BAR path, and
 * the transport never deassigns what it did not get. */
static void a_refused_doorbell_is_not_deassigned(void)
{
	struct bus_env b;
	struct fake_host *fh = &b.e.fh;
	unsigned assigns, deassigns, mark;
	uint64_t bar;
	uint8_t data[2] = { 1, 0 };

	CHECK(bus_open(&b));
	bar = bus_cfg_read(&b, PCI_BAR0, 4) & ~0xfull;
	fh->fail_doorbell = -ENOSPC;
	bus_cfg_write(&b, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	CHECK_EQ(fh->ndoorbells, 0);
	/* A notify write reaches the device through the bus and still kicks. */
	CHECK(pci_bus_mmio(&b.bus, doorbell_addr(&b, bar, 1), true, data, 2));
	CHECK_EQ(kicks(&b.e, 1), 1);
	fh->fail_doorbell = 0;
	mark = fh->ndoorbell_log;
	bus_cfg_write(&b, PCI_BAR0, bar + 0x200000, 4);
	count_doorbell_log(fh, mark, &assigns, &deassigns);
	CHECK_EQ(assigns, MODEL_QUEUES);
	CHECK_EQ(deassigns, 0);
	CHECK_EQ(fh->ndoorbells, MODEL_QUEUES);
	bus_close(&b);
}

static void bar_accesses_through_the_bus_reach_the_common_config(void)
{
	struct bus_env b;
	uint64_t bar;
	uint8_t data[4];

	CHECK(bus_open(&b));
	bar = bus_cfg_read(&b, PCI_BAR0, 4) & ~0xfull;
	bus_cfg_write(&b, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	CHECK(pci_bus_mmio(&b.bus, bar + b.e.d.common + VDRV_CC_NUM_QUEUES, false, data, 2));
	CHECK_EQ(io_data_get(data, 2), MODEL_QUEUES);
	data[0] = VDRV_S_ACKNOWLEDGE;
	CHECK(pci_bus_mmio(&b.bus, bar + b.e.d.common + VDRV_CC_STATUS, true, data, 1));
	CHECK_EQ(vdrv_status(&b.e.d), VDRV_S_ACKNOWLEDGE);
	bus_close(&b);
}

/* VIRTIO_PCI_CAP_PCI_CFG (4.1.4.9): bar, offset and length, then the data. */
static void window_set(struct bus_env *b, unsigned win, uint8_t bar, uint32_t off, uint32_t len)
{
	bus_cfg_write(b, win + 4, bar, 1);
	bus_cfg_write(b, win + 8, off, 4);
	bus_cfg_write(b, win + 12, len, 4);
}

static void pci_cfg_window_reaches_the_bar(void)
{
	struct bus_env b;
	unsigned win = 0;

	CHECK(bus_open(&b));
	CHECK_EQ(find_caps(b.e.pci, CAP_PCI, &win), 1);
	/* Memory decoding stays off: the window does not need it. */
	window_set(&b, win, 0, b.e.d.common + VDRV_CC_NUM_QUEUES, 2);
	CHECK_EQ(bus_cfg_read(&b, win + 8, 4), b.e.d.common + VDRV_CC_NUM_QUEUES);
	CHECK_EQ(bus_cfg_read(&b, win + 12, 4), 2);
	CHECK_EQ(bus_cfg_read(&b, win + 16, 2), MODEL_QUEUES);
	window_set(&b, win, 0, b.e.d.common + VDRV_CC_DF, 4);
	CHECK_EQ(bus_cfg_read(&b, win + 16, 4), (uint32_t)(MODEL_FEATURES | TRANSPORT_FEATURES));
	/* Writes too: select the high feature word, then read it. */
	window_set(&b, win, 0, b.e.d.common + VDRV_CC_DFSELECT, 4);
	bus_cfg_write(&b, win + 16, 1, 4);
	CHECK_EQ(cc_read(&b.e, VDRV_CC_DFSELECT, 4), 1);
	window_set(&b, win, 0, b.e.d.common + VDRV_CC_DF, 4);
	CHECK_EQ(bus_cfg_read(&b, win + 16, 4), (MODEL_FEATURES | TRANSPORT_FEATURES) >> 32);
	window_set(&b, win, 0, b.e.d.common + VDRV_CC_STATUS, 1);
	bus_cfg_write(&b, win + 16, VDRV_S_ACKNOWLEDGE, 1);
	CHECK_EQ(vdrv_status(&b.e.d), VDRV_S_ACKNOWLEDGE);
	CHECK_EQ(bus_cfg_read(&b, win + 16, 1), VDRV_S_ACKNOWLEDGE);
	/* Device config and notifications. */
	window_set(&b, win, 0, b.e.d.device + 4, 4);
	CHECK_EQ(bus_cfg_read(&b, win + 16, 4), 0xa7a6a5a4);
	window_set(&b, win, 0, b.e.d.notify_base + b.e.d.notify_mult * 2, 2);
	bus_cfg_write(&b, win + 16, 2, 2);
	CHECK_EQ(kicks(&b.e, 2), 1);
	CHECK_EQ(kicks(&b.e, 0), 0);
	/* The ISR read through the window clears it too. */
	virtio_pci_config_changed(b.e.vp);
	window_set(&b, win, 0, b.e.d.isr, 1);
	CHECK_EQ(bus_cfg_read(&b, win + 16, 1), 2);
	CHECK_EQ(isr_read(&b.e), 0);
	bus_close(&b);
}

static void pci_cfg_window_ignores_other_bars_and_bad_lengths(void)
{
	struct bus_env b;
	unsigned win = 0;

	CHECK(bus_open(&b));
	CHECK_EQ(find_caps(b.e.pci, CAP_PCI, &win), 1);
	vdrv_set_status(&b.e.d, VDRV_S_ACKNOWLEDGE);
	/* Each of these would reset the device if it reached the status. */
	window_set(&b, win, 1, b.e.d.common + VDRV_CC_STATUS, 1);
	bus_cfg_write(&b, win + 16, 0, 1);
	window_set(&b, win, 0, b.e.d.common + VDRV_CC_STATUS, 3);
	bus_cfg_write(&b, win + 16, 0, 4);
	window_set(&b, win, 0, b.e.d.common + VDRV_CC_STATUS, 8);
	bus_cfg_write(&b, win + 16, 0, 4);
	window_set(&b, win, 0, 0xfffffffc, 4);
	bus_cfg_write(&b, win + 16, 0, 4);
	CHECK_EQ(vdrv_status(&b.e.d), VDRV_S_ACKNOWLEDGE);
	/* A read of an ignored window leaves the data as it was. */
	bus_cfg_write(&b, win + 16, 0x5a5a5a5a, 4);
	window_set(&b, win, 2, b.e.d.common + VDRV_CC_NUM_QUEUES, 2);
	CHECK_EQ(bus_cfg_read(&b, win + 16, 4), 0x5a5a5a5a);
	/* The capability's type and length are not the guest's to change. */
	bus_cfg_write(&b, win, 0xffffffff, 4);
	CHECK_EQ(bus_cfg_read(&b, win + 2, 2), 20 | CAP_PCI << 8);
	CHECK_EQ(bus_cfg_read(&b, win, 1), PCI_CAP_ID_VNDR);
	bus_close(&b);
}

int main(void)
{
	log_init("test_virtio_pci", LOG_LEVEL_WARN);
	RUN(pci_ids_identify_a_modern_virtio_device);
	RUN(capabilities_describe_the_bar_layout);
	RUN(device_config_capability_only_when_the_model_has_config);
	RUN(device_config_reaches_the_model_only_inside_config_len);
	RUN(device_features_add_the_transport_bits_to_the_models);
	RUN(features_ok_is_refused_for_a_feature_not_offered);
	RUN(features_ok_is_refused_without_version_1);
	RUN(driver_features_are_frozen_at_features_ok_and_given_to_start);
	RUN(driver_ok_without_features_ok_needs_reset);
	RUN(driver_ok_with_a_grown_queue_needs_reset);
	RUN(driver_ok_with_a_queue_size_not_a_power_of_two_needs_reset);
	RUN(a_driver_may_shrink_a_queue);
	RUN(a_model_that_cannot_start_needs_reset);
	RUN(vectors_beyond_the_table_read_as_no_vector);
	RUN(num_queues_and_notify_offsets_describe_the_queues);
	RUN(queue_registers_are_read_only_after_driver_ok);
	RUN(common_config_fields_take_their_natural_widths);
	RUN(status_zero_resets_the_device);
	RUN(reset_of_a_device_never_started_does_not_stop_it);
	RUN(needs_reset_tells_the_driver_and_sticks);
	RUN(isr_reads_and_clears);
	RUN(queue_interrupts_go_to_the_queues_vector);
	RUN(call_fd_raises_the_queues_vector);
	RUN(notify_writes_through_the_bar_signal_the_kick_eventfd);
	RUN(serve_queue_hands_chains_over_and_interrupts);
	RUN(serve_queue_ignores_a_queue_the_driver_left_off);
	RUN(serve_queue_on_a_broken_ring_needs_reset);
	RUN(doorbells_follow_the_bar);
	RUN(a_refused_doorbell_is_not_deassigned);
	RUN(bar_accesses_through_the_bus_reach_the_common_config);
	RUN(pci_cfg_window_reaches_the_bar);
	RUN(pci_cfg_window_ignores_other_bars_and_bad_lengths);
	return test_done();
}
