/*
 * Unit tests of the 16550A model, driven through its io_ops as a guest
 * would, with a fake interrupt line and console backend that record calls.
 * Output is TAP.
 */
#include "devices/serial8250.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, \
				__LINE__, #cond);                             \
			return false;                                         \
		}                                                             \
	} while (0)

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

static bool transmitted_bytes_reach_the_backend(struct serial8250 *uart)
{
	outb(uart, THR, 'h');
	outb(uart, THR, 'i');
	CHECK(backend.nwritten == 2);
	CHECK(memcmp(backend.written, "hi", 2) == 0);
	return true;
}

static bool lsr_reports_an_always_empty_transmitter(struct serial8250 *uart)
{
	CHECK(inb(uart, LSR) == 0x60);
	outb(uart, THR, 'x');
	CHECK(inb(uart, LSR) == 0x60);
	return true;
}

static bool received_bytes_are_read_in_order_and_dr_clears_when_drained(struct serial8250 *uart)
{
	CHECK(receive_str(uart, "abc"));
	CHECK(inb(uart, LSR) & 0x01);
	CHECK(inb(uart, RBR) == 'a');
	CHECK(inb(uart, RBR) == 'b');
	CHECK(inb(uart, LSR) & 0x01);
	CHECK(inb(uart, RBR) == 'c');
	CHECK(!(inb(uart, LSR) & 0x01));
	return true;
}

static bool receive_refuses_beyond_buffer_space_and_rx_ready_fires_after_draining(struct serial8250 *uart)
{
	static uint8_t input[SERIAL8250_RX_BUFFER_SIZE + 10];

	CHECK(serial8250_receive(uart, input, sizeof(input)) == SERIAL8250_RX_BUFFER_SIZE);
	CHECK(serial8250_receive(uart, input, 1) == 0);
	for (unsigned i = 0; i < SERIAL8250_RX_BUFFER_SIZE - 1; i++)
		inb(uart, RBR);
	CHECK(backend.rx_ready_calls == 0);
	inb(uart, RBR);
	CHECK(backend.rx_ready_calls == 1);
	inb(uart, RBR);
	CHECK(backend.rx_ready_calls == 1);
	return true;
}

static bool rx_ready_does_not_fire_when_nothing_was_refused(struct serial8250 *uart)
{
	CHECK(receive_str(uart, "a"));
	inb(uart, RBR);
	CHECK(backend.rx_ready_calls == 0);
	return true;
}

static bool fifo_reset_discards_input_and_counts_as_drained(struct serial8250 *uart)
{
	static uint8_t input[SERIAL8250_RX_BUFFER_SIZE + 1];

	outb(uart, FCR, 0x01);
	serial8250_receive(uart, input, sizeof(input));
	outb(uart, FCR, 0x03);
	CHECK(!(inb(uart, LSR) & 0x01));
	CHECK(backend.rx_ready_calls == 1);
	return true;
}

static bool iir_fifo_bits_follow_fcr_enable(struct serial8250 *uart)
{
	CHECK(inb(uart, IIR) == 0x01);
	outb(uart, FCR, 0x01);
	CHECK(inb(uart, IIR) == 0xc1);
	outb(uart, FCR, 0x00);
	CHECK(inb(uart, IIR) == 0x01);
	return true;
}

/* Linux's autoconfig: IER keeps exactly its low nibble. */
static bool ier_keeps_only_its_low_nibble(struct serial8250 *uart)
{
	outb(uart, IER, 0x00);
	CHECK(inb(uart, IER) == 0x00);
	outb(uart, IER, 0xff);
	CHECK(inb(uart, IER) == 0x0f);
	return true;
}

static bool enabling_thri_with_empty_transmitter_raises_the_irq(struct serial8250 *uart)
{
	outb(uart, MCR, 0x08);
	CHECK(!irq.level);
	outb(uart, IER, 0x02);
	CHECK(irq.level);
	CHECK(inb(uart, IIR) == 0x02);
	return true;
}

static bool reading_iir_clears_the_thre_indication(struct serial8250 *uart)
{
	outb(uart, MCR, 0x08);
	outb(uart, IER, 0x02);
	CHECK(inb(uart, IIR) == 0x02);
	CHECK(!irq.level);
	CHECK(inb(uart, IIR) == 0x01);
	return true;
}

static bool writing_thr_rearms_thre(struct serial8250 *uart)
{
	outb(uart, MCR, 0x08);
	outb(uart, IER, 0x02);
	inb(uart, IIR);
	outb(uart, THR, 'x');
	CHECK(irq.level);
	CHECK(inb(uart, IIR) == 0x02);
	return true;
}

/* The sequence of serial8250_do_startup()'s UART_BUG_THRE test. */
static bool reenabling_thri_reasserts_thre(struct serial8250 *uart)
{
	outb(uart, IER, 0x02);
	CHECK(inb(uart, IIR) == 0x02);
	outb(uart, IER, 0x00);
	outb(uart, IER, 0x02);
	CHECK(inb(uart, IIR) == 0x02);
	return true;
}

static bool thre_stays_cleared_while_thri_is_left_enabled(struct serial8250 *uart)
{
	outb(uart, IER, 0x02);
	inb(uart, IIR);
	outb(uart, IER, 0x03);
	CHECK(inb(uart, IIR) == 0x01);
	return true;
}

/*
 * Line status (overrun in loopback) outranks received data, which outranks
 * THRE, which outranks modem status (the deltas from entering loopback).
 */
static bool iir_reports_interrupts_in_priority_order(struct serial8250 *uart)
{
	outb(uart, IER, 0x0f);
	outb(uart, MCR, 0x10);
	for (unsigned i = 0; i <= SERIAL8250_RX_BUFFER_SIZE; i++)
		outb(uart, THR, 'x');
	CHECK(inb(uart, IIR) == 0x06);
	CHECK(inb(uart, LSR) & 0x02);
	CHECK(inb(uart, IIR) == 0x04);
	while (inb(uart, LSR) & 0x01)
		inb(uart, RBR);
	CHECK(inb(uart, IIR) == 0x02);
	CHECK(inb(uart, IIR) == 0x00);
	inb(uart, MSR);
	CHECK(inb(uart, IIR) == 0x01);
	return true;
}

static bool received_data_raises_the_irq_until_drained(struct serial8250 *uart)
{
	outb(uart, MCR, 0x08);
	outb(uart, IER, 0x01);
	CHECK(!irq.level);
	CHECK(receive_str(uart, "ab"));
	CHECK(irq.level);
	CHECK(inb(uart, IIR) == 0x04);
	inb(uart, RBR);
	CHECK(irq.level);
	inb(uart, RBR);
	CHECK(!irq.level);
	return true;
}

static bool out2_gates_the_irq_line(struct serial8250 *uart)
{
	outb(uart, IER, 0x01);
	CHECK(receive_str(uart, "a"));
	CHECK(!irq.level);
	CHECK(inb(uart, IIR) == 0x04);
	outb(uart, MCR, 0x08);
	CHECK(irq.level);
	outb(uart, MCR, 0x00);
	CHECK(!irq.level);
	return true;
}

static bool loopback_mode_silences_the_irq_line(struct serial8250 *uart)
{
	outb(uart, IER, 0x02);
	outb(uart, MCR, 0x08);
	CHECK(irq.level);
	outb(uart, MCR, 0x18);
	CHECK(!irq.level);
	return true;
}

static bool irq_line_is_only_set_on_change(struct serial8250 *uart)
{
	outb(uart, MCR, 0x08);
	outb(uart, IER, 0x01);
	CHECK(irq.calls == 0);
	CHECK(receive_str(uart, "abc"));
	CHECK(receive_str(uart, "def"));
	inb(uart, LSR);
	inb(uart, IIR);
	CHECK(irq.calls == 1);
	while (inb(uart, LSR) & 0x01)
		inb(uart, RBR);
	CHECK(irq.calls == 2);
	inb(uart, LSR);
	CHECK(irq.calls == 2);
	return true;
}

static bool loopback_routes_thr_to_rbr_not_to_the_backend(struct serial8250 *uart)
{
	outb(uart, MCR, 0x10);
	outb(uart, THR, 0x5a);
	CHECK(backend.nwritten == 0);
	CHECK(inb(uart, LSR) & 0x01);
	CHECK(inb(uart, RBR) == 0x5a);
	outb(uart, MCR, 0x00);
	outb(uart, THR, 'x');
	CHECK(backend.nwritten == 1);
	return true;
}

/* Linux's autoconfig writes LOOP | RTS | OUT2 and expects CTS | DCD. */
static bool loopback_routes_mcr_outputs_to_msr_inputs(struct serial8250 *uart)
{
	outb(uart, MCR, 0x1a);
	CHECK((inb(uart, MSR) & 0xf0) == 0x90);
	outb(uart, MCR, 0x15);
	CHECK((inb(uart, MSR) & 0xf0) == 0x60);
	outb(uart, MCR, 0x10);
	CHECK((inb(uart, MSR) & 0xf0) == 0x00);
	return true;
}

static bool loopback_disconnects_the_receiver_input(struct serial8250 *uart)
{
	outb(uart, MCR, 0x10);
	CHECK(serial8250_receive(uart, (const uint8_t *)"a", 1) == 0);
	CHECK(!(inb(uart, LSR) & 0x01));
	outb(uart, MCR, 0x00);
	CHECK(backend.rx_ready_calls == 1);
	CHECK(receive_str(uart, "a"));
	return true;
}

static bool msr_shows_a_connected_line_and_read_clears_deltas(struct serial8250 *uart)
{
	CHECK(inb(uart, MSR) == 0xb0);
	outb(uart, MCR, 0x10);
	CHECK(inb(uart, MSR) == 0x0b);
	CHECK(inb(uart, MSR) == 0x00);
	outb(uart, MCR, 0x14);
	CHECK(inb(uart, MSR) == 0x40);
	outb(uart, MCR, 0x10);
	CHECK(inb(uart, MSR) == 0x04);
	return true;
}

static bool divisor_latch_is_reached_with_dlab(struct serial8250 *uart)
{
	outb(uart, IER, 0x05);
	outb(uart, LCR, 0x83);
	outb(uart, DLL, 0x0c);
	outb(uart, DLM, 0x01);
	CHECK(inb(uart, DLL) == 0x0c);
	CHECK(inb(uart, DLM) == 0x01);
	CHECK(backend.nwritten == 0);
	outb(uart, LCR, 0x03);
	CHECK(inb(uart, IER) == 0x05);
	CHECK(inb(uart, LCR) == 0x03);
	return true;
}

static bool divisor_starts_nonzero(struct serial8250 *uart)
{
	outb(uart, LCR, 0x80);
	CHECK((inb(uart, DLL) | inb(uart, DLM) << 8) != 0);
	return true;
}

static bool scratch_register_holds_a_byte(struct serial8250 *uart)
{
	outb(uart, SCR, 0xa5);
	CHECK(inb(uart, SCR) == 0xa5);
	outb(uart, SCR, 0x5a);
	CHECK(inb(uart, SCR) == 0x5a);
	return true;
}

static bool wide_accesses_split_into_byte_lanes(struct serial8250 *uart)
{
	uint8_t data[4];

	outb(uart, LCR, 0x03);
	outb(uart, MCR, 0x0b);
	serial8250_io_ops.read(uart, LCR, data, 2);
	CHECK(data[0] == 0x03 && data[1] == 0x0b);
	outb(uart, SCR, 0x42);
	serial8250_io_ops.read(uart, MSR, data, 4);
	CHECK(data[0] == 0xb0 && data[1] == 0x42 && data[2] == 0xff && data[3] == 0xff);
	serial8250_io_ops.write(uart, SCR, (const uint8_t[]){ 0x11, 0x22 }, 2);
	CHECK(inb(uart, SCR) == 0x11);
	return true;
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
static bool concurrent_receive_and_drain_keep_every_byte_in_order(struct serial8250 *uart)
{
	struct stream st = { .uart = uart, .total = 200000 };
	pthread_t feeder;
	unsigned got = 0;
	bool in_order = true;

	CHECK(pthread_create(&feeder, NULL, feed_stream, &st) == 0);
	while (got < st.total) {
		if (!(inb(uart, LSR) & 0x01))
			continue;
		in_order &= inb(uart, RBR) == (uint8_t)got;
		got++;
	}
	pthread_join(feeder, NULL);
	CHECK(in_order);
	return true;
}

#define TEST(fn) { #fn, fn }

static const struct {
	const char *name;
	bool (*run)(struct serial8250 *uart);
} tests[] = {
	TEST(transmitted_bytes_reach_the_backend),
	TEST(lsr_reports_an_always_empty_transmitter),
	TEST(received_bytes_are_read_in_order_and_dr_clears_when_drained),
	TEST(receive_refuses_beyond_buffer_space_and_rx_ready_fires_after_draining),
	TEST(rx_ready_does_not_fire_when_nothing_was_refused),
	TEST(fifo_reset_discards_input_and_counts_as_drained),
	TEST(iir_fifo_bits_follow_fcr_enable),
	TEST(ier_keeps_only_its_low_nibble),
	TEST(enabling_thri_with_empty_transmitter_raises_the_irq),
	TEST(reading_iir_clears_the_thre_indication),
	TEST(writing_thr_rearms_thre),
	TEST(reenabling_thri_reasserts_thre),
	TEST(thre_stays_cleared_while_thri_is_left_enabled),
	TEST(iir_reports_interrupts_in_priority_order),
	TEST(received_data_raises_the_irq_until_drained),
	TEST(out2_gates_the_irq_line),
	TEST(loopback_mode_silences_the_irq_line),
	TEST(irq_line_is_only_set_on_change),
	TEST(loopback_routes_thr_to_rbr_not_to_the_backend),
	TEST(loopback_routes_mcr_outputs_to_msr_inputs),
	TEST(loopback_disconnects_the_receiver_input),
	TEST(msr_shows_a_connected_line_and_read_clears_deltas),
	TEST(divisor_latch_is_reached_with_dlab),
	TEST(divisor_starts_nonzero),
	TEST(scratch_register_holds_a_byte),
	TEST(wide_accesses_split_into_byte_lanes),
	TEST(concurrent_receive_and_drain_keep_every_byte_in_order),
};

int main(void)
{
	int failed = 0;

	printf("1..%zu\n", sizeof(tests) / sizeof(tests[0]));
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		struct serial8250 *uart = new_uart();
		bool ok = uart && tests[i].run(uart);

		serial8250_destroy(uart);
		printf("%s - %s\n", ok ? "ok" : "not ok", tests[i].name);
		failed += !ok;
	}
	return failed ? 1 : 0;
}
