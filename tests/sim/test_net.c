/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the simulated network injects exactly the faults it is configured with and nothing
 * else: a clean network delivers every datagram intact and in order, loss and duplication happen
 * at the configured rates, corrupted datagrams never reach the receiver (they are counted as
 * rejections), partitions and crashed nodes drop traffic. Method: drive the network with its own
 * event queue and a fixed seed, then compare counters and received bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "env/env.h"
#include "sim/sim_net.h"

#define QCAP 8192

struct fixture {
	struct sim_queue q;
	struct sim_net net;
	struct base_prng prng;
	void *qmem;
	void *nmem;
	uint32_t received[3];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sim_net_config cfg = {
		.node_count = 3, .small_count = 4096, .large_count = 64, .inbox_max = 4096};

	assert_non_null(f);
	f->qmem = malloc(sim_queue_size(QCAP));
	f->nmem = malloc(sim_net_size(&cfg));
	assert_non_null(f->qmem);
	assert_non_null(f->nmem);
	sim_queue_init(&f->q, f->qmem, QCAP);
	base_prng_init(&f->prng, 1234);
	sim_net_init(&f->net, f->nmem, &cfg, &f->q, &f->prng);
	sim_net_reset(&f->net, 99);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	free(f->qmem);
	free(f->nmem);
	free(f);
	return 0;
}

static void
set_delay(struct fixture *f, uint64_t lo, uint64_t hi)
{
	struct sim_net_faults faults = f->net.faults;

	faults.delay_min_ns = lo;
	faults.delay_max_ns = hi;
	sim_net_set_faults(&f->net, &faults);
}

static void
send_seq(struct fixture *f, uint32_t src, uint32_t dst, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		uint8_t msg[16];

		memset(msg, (int)(i & 0xff), sizeof(msg));
		memcpy(msg, &i, sizeof(i));
		assert_int_equal(sim_net_send(&f->net, src, dst, msg, sizeof(msg)), 0);
	}
}

/* Runs every delivery event; returns the messages node dst received, checking their order. */
static uint32_t
drain(struct fixture *f, uint32_t dst, int is_ordered)
{
	struct sim_event ev;
	uint32_t got = 0;
	uint32_t last = 0;

	while (sim_queue_pop(&f->q, &ev) == 0) {
		uint8_t buf[ENV_MSG_MAX];
		uint32_t src;
		size_t size;
		uint32_t seq;
		int rc;

		assert_int_equal(ev.kind, SIM_EV_NET_DELIVER);
		if (sim_net_on_deliver(&f->net, ev.arg0) < 0) {
			continue;
		}
		rc = sim_net_recv(&f->net, dst, &src, buf, sizeof(buf), &size);
		if (rc == -EAGAIN) {
			continue; /* it failed the tag check */
		}
		assert_int_equal(rc, 0);
		memcpy(&seq, buf, sizeof(seq));
		if (is_ordered && got > 0) {
			assert_true(seq > last);
		}
		last = seq;
		got++;
	}
	assert_int_equal(sim_net_in_flight(&f->net), 0);
	return got;
}

static void
test_sim_net_clean_links_deliver_everything_in_order(void **state)
{
	struct fixture *f = *state;

	set_delay(f, 100, 100);
	send_seq(f, 0, 1, 1000);
	assert_int_equal(drain(f, 1, 1), 1000);
	assert_int_equal(f->net.stats.delivered_count, 1000);
}

static void
test_sim_net_loss_rate_matches_configuration(void **state)
{
	struct fixture *f = *state;
	struct sim_net_faults faults = {.loss_ppm = 300000, .delay_min_ns = 10, .delay_max_ns = 10};
	uint32_t got;

	sim_net_set_faults(&f->net, &faults);
	send_seq(f, 0, 2, 4000);
	got = drain(f, 2, 1);
	assert_int_equal(got + f->net.stats.lost_count, 4000);
	assert_in_range(f->net.stats.lost_count, 1000, 1400);
}

static void
test_sim_net_duplicates_arrive_twice(void **state)
{
	struct fixture *f = *state;
	struct sim_net_faults faults = {.dup_ppm = 100000, .delay_min_ns = 10, .delay_max_ns = 500};
	uint32_t got;

	sim_net_set_faults(&f->net, &faults);
	send_seq(f, 1, 0, 2000);
	got = drain(f, 0, 0);
	assert_int_equal(got, 2000 + f->net.stats.duplicated_count);
	assert_in_range(f->net.stats.duplicated_count, 120, 280);
}

static void
test_sim_net_jitter_and_tail_reorder_datagrams(void **state)
{
	struct fixture *f = *state;
	struct sim_net_faults faults = {.delay_min_ns = 10,
					.delay_max_ns = 1000,
					.tail_ppm = 10000,
					.tail_max_ns = 1000000};
	struct sim_event ev;
	uint32_t last = 0;
	int reordered = 0;

	sim_net_set_faults(&f->net, &faults);
	send_seq(f, 0, 1, 500);
	while (sim_queue_pop(&f->q, &ev) == 0) {
		uint8_t buf[64];
		uint32_t src;
		size_t size;
		uint32_t seq;

		assert_true(sim_net_on_deliver(&f->net, ev.arg0) >= 0);
		assert_int_equal(sim_net_recv(&f->net, 1, &src, buf, sizeof(buf), &size), 0);
		memcpy(&seq, buf, sizeof(seq));
		reordered += seq < last;
		last = seq;
	}
	assert_true(reordered > 0);
	assert_true(f->net.stats.tail_count > 0);
}

static void
test_sim_net_corrupted_datagrams_are_rejected_and_counted(void **state)
{
	struct fixture *f = *state;
	struct sim_net_faults faults = {
		.corrupt_ppm = 200000, .delay_min_ns = 5, .delay_max_ns = 5};
	uint32_t got;

	sim_net_set_faults(&f->net, &faults);
	send_seq(f, 2, 1, 3000);
	got = drain(f, 1, 1);
	assert_true(f->net.stats.corrupted_count > 400);
	assert_int_equal(f->net.stats.rejected_count, f->net.stats.corrupted_count);
	assert_int_equal(got, 3000 - f->net.stats.corrupted_count);
}

static void
test_sim_net_blocked_link_drops_one_direction_only(void **state)
{
	struct fixture *f = *state;

	set_delay(f, 10, 10);
	sim_net_link_block(&f->net, 0, 1, 1);
	send_seq(f, 0, 1, 10);
	assert_int_equal(drain(f, 1, 1), 0);
	send_seq(f, 1, 0, 10);
	assert_int_equal(drain(f, 0, 1), 10);
	assert_int_equal(f->net.stats.partition_drop_count, 10);
	sim_net_unblock_all(&f->net);
	send_seq(f, 0, 1, 10);
	assert_int_equal(drain(f, 1, 1), 10);
}

static void
test_sim_net_partition_during_flight_drops_at_arrival(void **state)
{
	struct fixture *f = *state;
	struct sim_event ev;

	set_delay(f, 100, 100);
	send_seq(f, 0, 2, 5);
	sim_net_link_block(&f->net, 0, 2, 1);
	while (sim_queue_pop(&f->q, &ev) == 0) {
		assert_int_equal(sim_net_on_deliver(&f->net, ev.arg0), -1);
	}
	assert_int_equal(f->net.stats.partition_drop_count, 5);
	assert_int_equal(sim_net_in_flight(&f->net), 0);
}

static void
test_sim_net_crashed_node_loses_its_inbox_and_arrivals(void **state)
{
	struct fixture *f = *state;
	struct sim_event ev;
	uint8_t buf[64];
	uint32_t src;
	size_t size;

	set_delay(f, 10, 10);
	send_seq(f, 0, 1, 3);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(sim_queue_pop(&f->q, &ev), 0);
		assert_int_equal(sim_net_on_deliver(&f->net, ev.arg0), 1);
	}
	assert_int_equal(sim_net_pending(&f->net, 1), 2);
	sim_net_node_down(&f->net, 1);
	assert_int_equal(sim_net_pending(&f->net, 1), 0);
	assert_int_equal(sim_queue_pop(&f->q, &ev), 0);
	assert_int_equal(sim_net_on_deliver(&f->net, ev.arg0), -1);
	assert_int_equal(sim_net_recv(&f->net, 1, &src, buf, sizeof(buf), &size), -EAGAIN);
	assert_int_equal(f->net.stats.down_drop_count, 3);
	assert_int_equal(sim_net_in_flight(&f->net), 0);
}

static void
test_sim_net_rejects_bad_sizes_and_peers(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[ENV_MSG_MAX + 1];

	assert_int_equal(sim_net_send(&f->net, 0, 1, big, 0), -EMSGSIZE);
	assert_int_equal(sim_net_send(&f->net, 0, 1, big, sizeof(big)), -EMSGSIZE);
	assert_int_equal(sim_net_send(&f->net, 0, 3, big, 10), -EHOSTUNREACH);
	assert_int_equal(sim_net_send(&f->net, 0, 1, big, ENV_MSG_MAX), 0);
	assert_int_equal(drain(f, 1, 0), 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_sim_net_clean_links_deliver_everything_in_order),
		T(test_sim_net_loss_rate_matches_configuration),
		T(test_sim_net_duplicates_arrive_twice),
		T(test_sim_net_jitter_and_tail_reorder_datagrams),
		T(test_sim_net_corrupted_datagrams_are_rejected_and_counted),
		T(test_sim_net_blocked_link_drops_one_direction_only),
		T(test_sim_net_partition_during_flight_drops_at_arrival),
		T(test_sim_net_crashed_node_loses_its_inbox_and_arrivals),
		T(test_sim_net_rejects_bad_sizes_and_peers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
