/*
 * 16550A UART. Register and bit names follow the National Semiconductor
 * PC16550D datasheet ("Universal Asynchronous Receiver/Transmitter with
 * FIFOs"); the behaviour Linux depends on is noted where it matters.
 */
#include "devices/serial8250.h"

#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

/* Register offsets. With LCR.DLAB set, offsets 0 and 1 reach the divisor
 * latch (DLL, DLM) instead of RBR/THR and IER. */
enum {
	UART_RBR_THR = 0,
	UART_IER = 1,
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define IER_RDI		0x01	/* received data available */
#define IER_THRI	0x02	/* transmitter holding register empty */
#define IER_RLSI	0x04	/* receiver line status */
#define IER_MSI		0x08	/* modem status */
#define IER_MASK	0x0f	/* bits 4-7 read as 0 on a 16550A */

/* IIR interrupt identification, in priority order from highest. */
#define IIR_RLSI	0x06
#define IIR_RDI		0x04
#define IIR_THRI	0x02
#define IIR_MSI		0x00
#define IIR_NO_INT	0x01
#define IIR_FIFOS_ENABLED 0xc0	/* both bits set: a 16550A with working FIFOs */

#define FCR_ENABLE_FIFO	0x01
#define FCR_CLEAR_RCVR	0x02

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f	/* bits 5-7 read as 0 on a 16550A */

#define LSR_DR		0x01	/* data ready */
#define LSR_OE		0x02	/* overrun error */
#define LSR_THRE	0x20	/* transmitter holding register empty */
#define LSR_TEMT	0x40	/* transmitter empty */

#define MSR_DELTAS	0x0f	/* DCTS, DDSR, TERI, DDCD: changes since last read */
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

/* No firmware programs the divisor before the kernel runs, and a zero
 * divisor would make Linux's probe_baud() divide by zero: start at 115200
 * baud (divisor 1 of the PC's 1.8432 MHz clock). */
#define INITIAL_DIVISOR	1

struct serial8250 {
	pthread_mutex_t lock;
	struct irq_line irq;
	struct char_backend backend;

	uint8_t ier, lcr, mcr, msr, scr;
	uint8_t lsr_errors;	/* OE until LSR is read; DR, THRE, TEMT are computed */
	uint16_t divisor;
	bool fifo_enabled;
	bool thr_ipending;	/* the THRE interrupt is latched */
	bool irq_high;		/* level last sent to irq_line */
	bool rx_refused;	/* serial8250_receive() refused input */

	uint8_t rx_buf[SERIAL8250_RX_BUFFER_SIZE];
	size_t rx_head, rx_count;
};

/* Appends up to len bytes to the receive buffer; returns how many fit. */
static size_t serial_rx_push(struct serial8250 *s, const uint8_t *buf, size_t len)
{
	size_t n = MIN(len, SERIAL8250_RX_BUFFER_SIZE - s->rx_count);

	for (size_t i = 0; i < n; i++)
		s->rx_buf[(s->rx_head + s->rx_count + i) % SERIAL8250_RX_BUFFER_SIZE] = buf[i];
	s->rx_count += n;
	return n;
}

static uint8_t serial_rx_pop(struct serial8250 *s)
{
	uint8_t byte;

	if (!s->rx_count)
		return 0;
	byte = s->rx_buf[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL8250_RX_BUFFER_SIZE;
	s->rx_count--;
	return byte;
}

static void serial_rx_clear(struct serial8250 *s)
{
	s->rx_head = 0;
	s->rx_count = 0;
}

/*
 * The modem inputs as the UART sees them. Outside loopback they are the far
 * end of a connected console: carrier, data set ready and clear to send. In
 * loopback mode the MCR outputs drive them instead: DTR->DSR, RTS->CTS,
 * OUT1->RI, OUT2->DCD (datasheet, MCR bit 4).
 */
static uint8_t serial_modem_inputs(const struct serial8250 *s)
{
	if (!(s->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	return (s->mcr & MCR_DTR ? MSR_DSR : 0) | (s->mcr & MCR_RTS ? MSR_CTS : 0) |
	       (s->mcr & MCR_OUT1 ? MSR_RI : 0) | (s->mcr & MCR_OUT2 ? MSR_DCD : 0);
}

/*
 * Sets the MSR input bits and latches their changes in the delta bits. Each
 * delta bit sits 4 below its input; RI's (TERI) records only the trailing
 * edge, when RI goes from on to off.
 */
static void serial_set_modem_inputs(struct serial8250 *s, uint8_t inputs)
{
	uint8_t old = s->msr & ~MSR_DELTAS;
	uint8_t changed = (old ^ inputs) & (MSR_CTS | MSR_DSR | MSR_DCD);
	uint8_t ri_fell = old & ~inputs & MSR_RI;

	s->msr = inputs | (s->msr & MSR_DELTAS) | (changed | ri_fell) >> 4;
}

/* The highest-priority enabled interrupt condition, as IIR reports it. */
static uint8_t serial_pending_interrupt(const struct serial8250 *s)
{
	if ((s->ier & IER_RLSI) && s->lsr_errors)
		return IIR_RLSI;
	if ((s->ier & IER_RDI) && s->rx_count)
		return IIR_RDI;
	if ((s->ier & IER_THRI) && s->thr_ipending)
		return IIR_THRI;
	if ((s->ier & IER_MSI) && (s->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NO_INT;
}

/*
 * On a PC the UART's interrupt output reaches the bus only through a driver
 * enabled by OUT2, which is why Linux sets OUT2 whenever it uses the port's
 * irq. Loopback mode forces the OUT2 pin inactive, so it also silences the
 * line. Only changes are sent.
 */
static void serial_update_irq(struct serial8250 *s)
{
	bool high = serial_pending_interrupt(s) != IIR_NO_INT &&
		    (s->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;

	if (high == s->irq_high)
		return;
	s->irq_high = high;
	irq_line_set(&s->irq, high);
}

/* After input was refused, the backend is told to resume once the guest has
 * drained the buffer and the receiver listens to the outside again. */
static bool serial_take_rx_ready(struct serial8250 *s)
{
	if (!s->rx_refused || s->rx_count || (s->mcr & MCR_LOOP))
		return false;
	s->rx_refused = false;
	return true;
}

/* Ends an access: updates the interrupt line under the lock, then unlocks
 * and, if due, calls rx_ready (which may call serial8250_receive()). */
static void serial_unlock(struct serial8250 *s)
{
	bool rx_ready;

	serial_update_irq(s);
	rx_ready = serial_take_rx_ready(s);
	pthread_mutex_unlock(&s->lock);
	if (rx_ready && s->backend.rx_ready)
		s->backend.rx_ready(s->backend.ctx);
}

static void serial_transmit(struct serial8250 *s, uint8_t byte)
{
	if (s->mcr & MCR_LOOP) {
		if (!serial_rx_push(s, &byte, 1))
			s->lsr_errors |= LSR_OE;
	} else if (s->backend.write) {
		s->backend.write(s->backend.ctx, &byte, 1);
	}
	/* Writing THR clears the THRE interrupt, and the byte leaves at once,
	 * so the emptied holding register raises it again. */
	s->thr_ipending = true;
}

static uint8_t serial_read_iir(struct serial8250 *s)
{
	uint8_t id = serial_pending_interrupt(s);

	/* Reading IIR clears a THRE interrupt if that is what it reports
	 * (datasheet, table IV); Linux's interrupt handler relies on it. */
	if (id == IIR_THRI)
		s->thr_ipending = false;
	return id | (s->fifo_enabled ? IIR_FIFOS_ENABLED : 0);
}

static uint8_t serial_read_lsr(struct serial8250 *s)
{
	uint8_t lsr = s->lsr_errors | LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);

	s->lsr_errors = 0;
	return lsr;
}

static uint8_t serial_read_msr(struct serial8250 *s)
{
	uint8_t msr = s->msr;

	s->msr &= ~MSR_DELTAS;
	return msr;
}

static void serial_write_ier(struct serial8250 *s, uint8_t ier)
{
	/* Enabling THRI while the transmitter is empty raises THRE even if a
	 * read of IIR had cleared it: Linux's startup test (UART_BUG_THRE)
	 * and its start_tx both depend on this. */
	if ((ier & IER_THRI) && !(s->ier & IER_THRI))
		s->thr_ipending = true;
	s->ier = ier & IER_MASK;
}

static void serial_write_fcr(struct serial8250 *s, uint8_t fcr)
{
	bool enable = fcr & FCR_ENABLE_FIFO;

	/* Changing the FIFO enable bit clears the FIFOs; the reset bits take
	 * effect only when written with the enable bit set. The transmit
	 * FIFO is always empty here, so its reset bit has nothing to do. */
	if (enable != s->fifo_enabled || (enable && (fcr & FCR_CLEAR_RCVR)))
		serial_rx_clear(s);
	s->fifo_enabled = enable;
}

static void serial_write_mcr(struct serial8250 *s, uint8_t mcr)
{
	s->mcr = mcr & MCR_MASK;
	serial_set_modem_inputs(s, serial_modem_inputs(s));
}

/* One byte-wide register read; reg may lie past the UART's 8 ports when a
 * wide access runs off its end, and nothing drives the bus there. */
static uint8_t serial_read_reg(struct serial8250 *s, unsigned reg)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		return dlab ? s->divisor & 0xff : serial_rx_pop(s);
	case UART_IER:
		return dlab ? s->divisor >> 8 : s->ier;
	case UART_IIR_FCR:
		return serial_read_iir(s);
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return serial_read_lsr(s);
	case UART_MSR:
		return serial_read_msr(s);
	case UART_SCR:
		return s->scr;
	}
	return 0xff;
}

/* One byte-wide register write. LSR and MSR are read-only (writing LSR is
 * a factory test on real parts); writes past the 8 ports go nowhere. */
static void serial_write_reg(struct serial8250 *s, unsigned reg, uint8_t v)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			s->divisor = (s->divisor & 0xff00) | v;
		else
			serial_transmit(s, v);
		break;
	case UART_IER:
		if (dlab)
			s->divisor = (s->divisor & 0x00ff) | v << 8;
		else
			serial_write_ier(s, v);
		break;
	case UART_IIR_FCR:
		serial_write_fcr(s, v);
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		serial_write_mcr(s, v);
		break;
	case UART_SCR:
		s->scr = v;
		break;
	}
}

/* A wider access reaches the following registers, one per byte lane, as the
 * ISA bus splits it for an 8-bit device. */
static void serial_io_read(void *dev, uint16_t offset, uint8_t *data, unsigned size)
{
	struct serial8250 *s = dev;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < size; i++)
		data[i] = serial_read_reg(s, offset + i);
	serial_unlock(s);
}

static void serial_io_write(void *dev, uint16_t offset, const uint8_t *data, unsigned size)
{
	struct serial8250 *s = dev;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < size; i++)
		serial_write_reg(s, offset + i, data[i]);
	serial_unlock(s);
}

const struct io_ops serial8250_io_ops = {
	.read = serial_io_read,
	.write = serial_io_write,
};

size_t serial8250_receive(struct serial8250 *s, const uint8_t *buf, size_t len)
{
	size_t taken = 0;

	pthread_mutex_lock(&s->lock);
	if (!(s->mcr & MCR_LOOP))
		taken = serial_rx_push(s, buf, len);
	if (taken < len)
		s->rx_refused = true;
	serial_unlock(s);
	return taken;
}

struct serial8250 *serial8250_create(const struct irq_line *irq,
				     const struct char_backend *backend)
{
	struct serial8250 *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	err = pthread_mutex_init(&s->lock, NULL);
	if (err) {
		free(s);
		errno = err;
		return NULL;
	}
	if (irq)
		s->irq = *irq;
	if (backend)
		s->backend = *backend;
	s->divisor = INITIAL_DIVISOR;
	s->msr = serial_modem_inputs(s);
	return s;
}

void serial8250_destroy(struct serial8250 *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}
