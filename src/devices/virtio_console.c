#include "devices/virtio_console.h"
#include "devices/virtio_pci.h"
#include "devices/worker.h"
#include "common/log.h"

#include <pthread.h>
#include <stdlib.h>

#define CONSOLE_QUEUE_SIZE 64
#define CONSOLE_MAX_IOV    16
#define RX_QUEUE 0	/* to the guest */
#define TX_QUEUE 1	/* from the guest */

struct virtio_console {
	struct virtio_pci *vp;
	struct char_backend backend;
	struct worker tx;		/* drains the transmit queue */
	struct worker rx_watch;		/* tells the backend when receive buffers arrive */
	pthread_mutex_t rx_lock;	/* virtio_console_receive() against start/stop */
	bool running;
};

static uint32_t emit(void *ctx, const struct virtq_chain *chain)
{
	struct virtio_console *con = ctx;

	for (unsigned i = 0; i < chain->nout; i++)
		if (con->backend.write)
			con->backend.write(con->backend.ctx, chain->iov[i].iov_base,
					   chain->iov[i].iov_len);
	return 0;
}

static void *serve_tx(void *arg)
{
	struct virtio_console *con = arg;
	int kick = virtio_pci_kick_fd(con->vp, TX_QUEUE);

	while (virtio_pci_serve_queue(con->vp, TX_QUEUE, emit, con) &&
	       worker_wait(&con->tx, kick, true))
		;
	return NULL;
}

/* The guest posted receive buffers: input held back by the backend may flow. */
static void *watch_rx(void *arg)
{
	struct virtio_console *con = arg;
	int kick = virtio_pci_kick_fd(con->vp, RX_QUEUE);

	while (worker_wait(&con->rx_watch, kick, true))
		if (con->backend.rx_ready)
			con->backend.rx_ready(con->backend.ctx);
	return NULL;
}

static void set_running(struct virtio_console *con, bool running)
{
	pthread_mutex_lock(&con->rx_lock);
	con->running = running;
	pthread_mutex_unlock(&con->rx_lock);
}

static int console_start(void *dev, uint64_t features)
{
	struct virtio_console *con = dev;
	int err;

	(void)features;
	set_running(con, true);
	err = worker_start(&con->tx, "virtio-con-tx", serve_tx, con);
	if (!err)
		err = worker_start(&con->rx_watch, "virtio-con-rx", watch_rx, con);
	if (err) {
		set_running(con, false);
		worker_stop(&con->tx);
		return err;
	}
	if (con->backend.rx_ready)
		con->backend.rx_ready(con->backend.ctx);	/* input may have waited for us */
	return 0;
}

static void console_stop(void *dev)
{
	struct virtio_console *con = dev;

	set_running(con, false);
	worker_stop(&con->tx);
	worker_stop(&con->rx_watch);
}

static const struct virtio_device_ops console_ops = {
	.start = console_start,
	.stop = console_stop,
};

/* Without VIRTIO_CONSOLE_F_SIZE or F_MULTIPORT the driver reads no config:
 * one port, hvc0. */
static const struct virtio_device_info console_info = {
	.name = "virtio-console",
	.type = VIRTIO_ID_CONSOLE,
	.pci_class = 0x078000,	/* simple communication controller, other */
	.nqueues = 2,
	.queue_size = CONSOLE_QUEUE_SIZE,
};

/* Copies input into receive buffers while there are any; returns bytes taken. */
static size_t fill_rx(struct virtio_console *con, struct virtqueue *vq, const uint8_t *buf,
		      size_t len)
{
	struct iovec iov[CONSOLE_MAX_IOV];
	struct virtq_chain chain = { .iov = iov, .max_iov = CONSOLE_MAX_IOV };
	size_t taken = 0;
	int got = 0;

	while (taken < len) {
		got = virtqueue_pop(vq, &chain);
		if (got == 0 && virtqueue_enable_notify(vq))
			continue;	/* buffers arrived while we looked */
		if (got <= 0)
			break;
		size_t n = virtq_chain_write(&chain, 0, buf + taken, len - taken);

		virtqueue_push(vq, chain.head, n);
		taken += n;
	}
	if (taken && virtqueue_should_notify(vq))
		virtio_pci_notify_queue(con->vp, RX_QUEUE);
	if (got < 0)
		virtio_pci_needs_reset(con->vp);
	return taken;
}

size_t virtio_console_receive(struct virtio_console *con, const uint8_t *buf, size_t len)
{
	size_t taken = 0;

	pthread_mutex_lock(&con->rx_lock);
	if (con->running)
		taken = fill_rx(con, virtio_pci_queue(con->vp, RX_QUEUE), buf, len);
	pthread_mutex_unlock(&con->rx_lock);
	return taken;
}

struct virtio_console *virtio_console_create(const struct device_host *host,
					     const struct char_backend *backend)
{
	struct virtio_console *con = calloc(1, sizeof(*con));

	if (!con)
		return NULL;
	con->backend = *backend;
	pthread_mutex_init(&con->rx_lock, NULL);
	con->vp = virtio_pci_create(&console_info, &console_ops, con, host);
	if (!con->vp) {
		virtio_console_destroy(con);
		return NULL;
	}
	return con;
}

void virtio_console_destroy(struct virtio_console *con)
{
	if (!con)
		return;
	virtio_pci_destroy(con->vp);
	pthread_mutex_destroy(&con->rx_lock);
	free(con);
}

struct pci_device *virtio_console_pci(struct virtio_console *con)
{
	return virtio_pci_device(con->vp);
}
