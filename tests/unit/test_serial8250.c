/*
 * Unit tests of the 16550A model, driven through its io_ops as a guest
 * would, with a fake interrupt line and console backend that record calls.
 */
#include "test.h"
#include "devices/serial8250.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>

enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3,
       MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

struct fake_irq {
	unsigned calls;
	bool level;
};

struct fake_backend {
	uint8_t written[64];
	size_t nwritten;
	unsigned rx_ready_calls;
};

static void fake_irq_set(void *machine, unsigned gsi, bool high)
{
	struct fake_irq *irq = machine;

	(void)gsi;
	irq->calls++;
	irq->level = high;
}

static void fake_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct fake_backend *b = ctx;

	for (size_t i = 0; i < len && b->nwritten < sizeof(b->written); i++)
		b->written[b->nwritten++] = buf[i];
}

static void fake_rx_ready(void *ctx)
{
	struct fake_backend *b = ctx;

	b->rx_ready_calls++;
}

static struct fake_irq irq;
static struct fake_backend backend;

static struct serial8250 *new_uart(void)
{
	struct irq_line line = { .set = fake_irq_set, .machine = &irq, .gsi = 4 };
	struct char_backend be = { .write = fake_write, .rx_ready = fake_rx_ready,
				   .ctx = &backend };

	memset(&irq, 0, sizeof(irq));
	memset(&backend, 0, sizeof(backend));
	return serial8250_create(&line, &be);
}

static uint8_t inb(struct serial8250 *uart, uint16_t reg)
{
	uint8_t v;

	serial8250_io_ops.read(uart, reg, &v, 1);
	return v;
}

static void outb(struct serial8250 *uart, uint16_t reg, uint8_t v)
{
	serial8250_io_ops.write(uart, reg, &v, 1);
}

static bool receive_str(struct serial8250 *uart, const char *s)
{
	size_t len = strlen(s);

	return serial8250_receive(uart, (const uint8_t *)s, len) == len;
}

static void transmitted_bytes_reach_the_backend(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, THR, 'h');
	outb(uart, THR, 'i');
	CHECK_EQ(backend.nwritten, 2);
	CHECK_EQ(memcmp(backend.written, "hi", 2), 0);
	serial8250_destroy(uart);
}

static void lsr_reports_an_always_empty_transmitter(void)
{
	struct serial8250 *uart = new_uart();

	CHECK_EQ(inb(uart, LSR), 0x60);
	outb(uart, THR, 'x');
	CHECK_EQ(inb(uart, LSR), 0x60);
	serial8250_destroy(uart);
}

static void received_bytes_are_read_in_order_and_dr_clears_when_drained(void)
{
	struct serial8250 *uart = new_uart();

	CHECK(receive_str(uart, "abc"));
	CHECK(inb(uart, LSR) & 0x01);
	CHECK_EQ(inb(uart, RBR), 'a');
	CHECK_EQ(inb(uart, RBR), 'b');
	CHECK(inb(uart, LSR) & 0x01);
	CHECK_EQ(inb(uart, RBR), 'c');
	CHECK(!(inb(uart, LSR) & 0x01));
	serial8250_destroy(uart);
}

static void receive_refuses_beyond_buffer_space_and_rx_ready_fires_after_draining(void)
{
	struct serial8250 *uart = new_uart();
	static uint8_t input[SERIAL8250_RX_BUFFER_SIZE + 10];

	CHECK_EQ(serial8250_receive(uart, input, sizeof(input)), SERIAL8250_RX_BUFFER_SIZE);
	CHECK_EQ(serial8250_receive(uart, input, 1), 0);
	for (unsigned i = 0; i < SERIAL8250_RX_BUFFER_SIZE - 1; i++)
		inb(uart, RBR);
	CHECK_EQ(backend.rx_ready_calls, 0);
	inb(uart, RBR);
	CHECK_EQ(backend.rx_ready_calls, 1);
	inb(uart, RBR);
	CHECK_EQ(backend.rx_ready_calls, 1);
	serial8250_destroy(uart);
}

static void rx_ready_does_not_fire_when_nothing_was_refused(void)
{
	struct serial8250 *uart = new_uart();

	CHECK(receive_str(uart, "a"));
	inb(uart, RBR);
	CHECK_EQ(backend.rx_ready_calls, 0);
	serial8250_destroy(uart);
}

static void fifo_reset_discards_input_and_counts_as_drained(void)
{
	struct serial8250 *uart = new_uart();
	static uint8_t input[SERIAL8250_RX_BUFFER_SIZE + 1];

	outb(uart, FCR, 0x01);
	serial8250_receive(uart, input, sizeof(input));
	outb(uart, FCR, 0x03);
	CHECK(!(inb(uart, LSR) & 0x01));
	CHECK_EQ(backend.rx_ready_calls, 1);
	serial8250_destroy(uart);
}

static void iir_fifo_bits_follow_fcr_enable(void)
{
	struct serial8250 *uart = new_uart();

	CHECK_EQ(inb(uart, IIR), 0x01);
	outb(uart, FCR, 0x01);
	CHECK_EQ(inb(uart, IIR), 0xc1);
	outb(uart, FCR, 0x00);
	CHECK_EQ(inb(uart, IIR), 0x01);
	serial8250_destroy(uart);
}

/* Linux's autoconfig: IER keeps exactly its low nibble. */
static void ier_keeps_only_its_low_nibble(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, IER, 0x00);
	CHECK_EQ(inb(uart, IER), 0x00);
	outb(uart, IER, 0xff);
	CHECK_EQ(inb(uart, IER), 0x0f);
	serial8250_destroy(uart);
}

static void enabling_thri_with_empty_transmitter_raises_the_irq(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, MCR, 0x08);
	CHECK(!irq.level);
	outb(uart, IER, 0x02);
	CHECK(irq.level);
	CHECK_EQ(inb(uart, IIR), 0x02);
	serial8250_destroy(uart);
}

static void reading_iir_clears_the_thre_indication(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, MCR, 0x08);
	outb(uart, IER, 0x02);
	CHECK_EQ(inb(uart, IIR), 0x02);
	CHECK(!irq.level);
	CHECK_EQ(inb(uart, IIR), 0x01);
	serial8250_destroy(uart);
}

static void writing_thr_rearms_thre(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, MCR, 0x08);
	outb(uart, IER, 0x02);
	inb(uart, IIR);
	outb(uart, THR, 'x');
	CHECK(irq.level);
	CHECK_EQ(inb(uart, IIR), 0x02);
	serial8250_destroy(uart);
}

/* The sequence of serial8250_do_startup()'s UART_BUG_THRE test. */
static void reenabling_thri_reasserts_thre(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, IER, 0x02);
	CHECK_EQ(inb(uart, IIR), 0x02);
	outb(uart, IER, 0x00);
	outb(uart, IER, 0x02);
	CHECK_EQ(inb(uart, IIR), 0x02);
	serial8250_destroy(uart);
}

static void thre_stays_cleared_while_thri_is_left_enabled(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, IER, 0x02);
	inb(uart, IIR);
	outb(uart, IER, 0x03);
	CHECK_EQ(inb(uart, IIR), 0x01);
	serial8250_destroy(uart);
}

/*
 * Line status (overrun in loopback) outranks received data, which outranks
 * THRE, which outranks modem status (the deltas from entering loopback).
 */
static void iir_reports_interrupts_in_priority_order(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, IER, 0x0f);
	outb(uart, MCR, 0x10);
	for (unsigned i = 0; i <= SERIAL8250_RX_BUFFER_SIZE; i++)
		outb(uart, THR, 'x');
	CHECK_EQ(inb(uart, IIR), 0x06);
	CHECK(inb(uart, LSR) & 0x02);
	CHECK_EQ(inb(uart, IIR), 0x04);
	while (inb(uart, LSR) & 0x01)
		inb(uart, RBR);
	CHECK_EQ(inb(uart, IIR), 0x02);
	CHECK_EQ(inb(uart, IIR), 0x00);
	inb(uart, MSR);
	CHECK_EQ(inb(uart, IIR), 0x01);
	serial8250_destroy(uart);
}

static void received_data_raises_the_irq_until_drained(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, MCR, 0x08);
	outb(uart, IER, 0x01);
	CHECK(!irq.level);
	CHECK(receive_str(uart, "ab"));
	CHECK(irq.level);
	CHECK_EQ(inb(uart, IIR), 0x04);
	inb(uart, RBR);
	CHECK(irq.level);
	inb(uart, RBR);
	CHECK(!irq.level);
	serial8250_destroy(uart);
}

static void out2_gates_the_irq_line(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, IER, 0x01);
	CHECK(receive_str(uart, "a"));
	CHECK(!irq.level);
	CHECK_EQ(inb(uart, IIR), 0x04);
	outb(uart, MCR, 0x08);
	CHECK(irq.level);
	outb(uart, MCR, 0x00);
	CHECK(!irq.level);
	serial8250_destroy(uart);
}

static void loopback_mode_silences_the_irq_line(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, IER, 0x02);
	outb(uart, MCR, 0x08);
	CHECK(irq.level);
	outb(uart, MCR, 0x18);
	CHECK(!irq.level);
	serial8250_destroy(uart);
}

static void irq_line_is_only_set_on_change(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, MCR, 0x08);
	outb(uart, IER, 0x01);
	CHECK_EQ(irq.calls, 0);
	CHECK(receive_str(uart, "abc"));
	CHECK(receive_str(uart, "def"));
	inb(uart, LSR);
	inb(uart, IIR);
	CHECK_EQ(irq.calls, 1);
	while (inb(uart, LSR) & 0x01)
		inb(uart, RBR);
	CHECK_EQ(irq.calls, 2);
	inb(uart, LSR);
	CHECK_EQ(irq.calls, 2);
	serial8250_destroy(uart);
}

static void loopback_routes_thr_to_rbr_not_to_the_backend(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, MCR, 0x10);
	outb(uart, THR, 0x5a);
	CHECK_EQ(backend.nwritten, 0);
	CHECK(inb(uart, LSR) & 0x01);
	CHECK_EQ(inb(uart, RBR), 0x5a);
	outb(uart, MCR, 0x00);
	outb(uart, THR, 'x');
	CHECK_EQ(backend.nwritten, 1);
	serial8250_destroy(uart);
}

/* Linux's autoconfig writes LOOP | RTS | OUT2 and expects CTS | DCD. */
static void loopback_routes_mcr_outputs_to_msr_inputs(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, MCR, 0x1a);
	CHECK((inb(uart, MSR) & 0xf0) == 0x90);
	outb(uart, MCR, 0x15);
	CHECK((inb(uart, MSR) & 0xf0) == 0x60);
	outb(uart, MCR, 0x10);
	CHECK((inb(uart, MSR) & 0xf0) == 0x00);
	serial8250_destroy(uart);
}

static void loopback_disconnects_the_receiver_input(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, MCR, 0x10);
	CHECK_EQ(serial8250_receive(uart, (const uint8_t *)"a", 1), 0);
	CHECK(!(inb(uart, LSR) & 0x01));
	outb(uart, MCR, 0x00);
	CHECK_EQ(backend.rx_ready_calls, 1);
	CHECK(receive_str(uart, "a"));
	serial8250_destroy(uart);
}

static void msr_shows_a_connected_line_and_read_clears_deltas(void)
{
	struct serial8250 *uart = new_uart();

	CHECK_EQ(inb(uart, MSR), 0xb0);
	outb(uart, MCR, 0x10);
	CHECK_EQ(inb(uart, MSR), 0x0b);
	CHECK_EQ(inb(uart, MSR), 0x00);
	outb(uart, MCR, 0x14);
	CHECK_EQ(inb(uart, MSR), 0x40);
	outb(uart, MCR, 0x10);
	CHECK_EQ(inb(uart, MSR), 0x04);
	serial8250_destroy(uart);
}

static void divisor_latch_is_reached_with_dlab(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, IER, 0x05);
	outb(uart, LCR, 0x83);
	outb(uart, DLL, 0x0c);
	outb(uart, DLM, 0x01);
	CHECK_EQ(inb(uart, DLL), 0x0c);
	CHECK_EQ(inb(uart, DLM), 0x01);
	CHECK_EQ(backend.nwritten, 0);
	outb(uart, LCR, 0x03);
	CHECK_EQ(inb(uart, IER), 0x05);
	CHECK_EQ(inb(uart, LCR), 0x03);
	serial8250_destroy(uart);
}

static void divisor_starts_nonzero(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, LCR, 0x80);
	CHECK((inb(uart, DLL) | inb(uart, DLM) << 8) != 0);
	serial8250_destroy(uart);
}

static void scratch_register_holds_a_byte(void)
{
	struct serial8250 *uart = new_uart();

	outb(uart, SCR, 0xa5);
	CHECK_EQ(inb(uart, SCR), 0xa5);
	outb(uart, SCR, 0x5a);
	CHECK_EQ(inb(uart, SCR), 0x5a);
	serial8250_destroy(uart);
}

static void wide_accesses_split_into_byte_lanes(void)
{
	struct serial8250 *uart = new_uart();
	uint8_t data[4];

	outb(uart, LCR, 0x03);
	outb(uart, MCR, 0x0b);
	serial8250_io_ops.read(uart, LCR, data, 2);
	CHECK(data[0] == 0x03 && data[1] == 0x0b);
	outb(uart, SCR, 0x42);
	serial8250_io_ops.read(uart, MSR, data, 4);
	CHECK(data[0] == 0xb0 && data[1] == 0x42 && data[2] == 0xff && data[3] == 0xff);
	serial8250_io_ops.write(uart, SCR, (const uint8_t[]){ 0x11, 0x22 }, 2);
	CHECK_EQ(inb(uart, SCR), 0x11);
	serial8250_destroy(uart);
}

struct stream {
	struct serial8250 *uart;
	unsigned total;
};

static void *feed_stream(void *arg)
{
	struct stream *st = arg;
	unsigned sent = 0;

	while (sent < st->total) {
		uint8_t chunk[97];
		size_t n = 0;

		while (n < sizeof(chunk) && sent + n < st->total) {
			chunk[n] = (uint8_t)(sent + n);
			n++;
		}
		sent += serial8250_receive(st->uart, chunk, n);
		sched_yield();
	}
	return NULL;
}

/* Input from the event loop and reads from a vCPU, at once. */
static void concurrent_receive_and_drain_keep_every_byte_in_order(void)
{
	struct serial8250 *uart = new_uart();
	struct stream st = { .uart = uart, .total = 200000 };
	pthread_t feeder;
	unsigned got = 0;
	bool in_order = true;

	if (pthread_create(&feeder, NULL, feed_stream, &st)) {
		CHECK(!"pthread_create failed");
		serial8250_destroy(uart);
		return;
	}
	while (got < st.total) {
		if (!(inb(uart, LSR) & 0x01))
			continue;
		in_order &= inb(uart, RBR) == (uint8_t)got;
		got++;
	}
	pthread_join(feeder, NULL);
	CHECK(in_order);
	serial8250_destroy(uart);
}

int main(void)
{
	RUN(transmitted_bytes_reach_the_backend);
	RUN(lsr_reports_an_always_empty_transmitter);
	RUN(received_bytes_are_read_in_order_and_dr_clears_when_drained);
	RUN(receive_refuses_beyond_buffer_space_and_rx_ready_fires_after_draining);
	RUN(rx_ready_does_not_fire_when_nothing_was_refused);
	RUN(fifo_reset_discards_input_and_counts_as_drained);
	RUN(iir_fifo_bits_follow_fcr_enable);
	RUN(ier_keeps_only_its_low_nibble);
	RUN(enabling_thri_with_empty_transmitter_raises_the_irq);
	RUN(reading_iir_clears_the_thre_indication);
	RUN(writing_thr_rearms_thre);
	RUN(reenabling_thri_reasserts_thre);
	RUN(thre_stays_cleared_while_thri_is_left_enabled);
	RUN(iir_reports_interrupts_in_priority_order);
	RUN(received_data_raises_the_irq_until_drained);
	RUN(out2_gates_the_irq_line);
	RUN(loopback_mode_silences_the_irq_line);
	RUN(irq_line_is_only_set_on_change);
	RUN(loopback_routes_thr_to_rbr_not_to_the_backend);
	RUN(loopback_routes_mcr_outputs_to_msr_inputs);
	RUN(loopback_disconnects_the_receiver_input);
	RUN(msr_shows_a_connected_line_and_read_clears_deltas);
	RUN(divisor_latch_is_reached_with_dlab);
	RUN(divisor_starts_nonzero);
	RUN(scratch_register_holds_a_byte);
	RUN(wide_accesses_split_into_byte_lanes);
	RUN(concurrent_receive_and_drain_keep_every_byte_in_order);
	return test_done();
}
