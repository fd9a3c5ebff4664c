/* SPDX-License-Identifier: Apache-2.0 */
#include "sim/sim_net.h"

#include <string.h>

#include "base/err.h"
#include "base/hash.h"
#include "base/panic.h"
#include "env/env.h"
#include "sim_int.h"

static void
net_layout(struct sim_net *net, struct sim_carve *c, const struct sim_net_config *cfg)
{
	uint32_t count = cfg->small_count + cfg->large_count;
	struct sim_net_msg *msgs = sim_carve_array(c, count, sizeof(struct sim_net_msg));
	uint8_t *small = sim_carve_array(c, cfg->small_count, SIM_NET_SMALL_SIZE);
	uint8_t *large = sim_carve_array(c, cfg->large_count, ENV_MSG_MAX);
	uint32_t *free_small = sim_carve_array(c, cfg->small_count, sizeof(uint32_t));
	uint32_t *free_large = sim_carve_array(c, cfg->large_count, sizeof(uint32_t));

	for (uint32_t i = 0; i < cfg->node_count; i++) {
		void *mem = sim_carve(c, base_ring_size(cfg->inbox_max, sizeof(uint32_t)));

		if (net != NULL) {
			net->inbox[i] = base_ring_init(mem, cfg->inbox_max, sizeof(uint32_t));
		}
	}
	if (net != NULL) {
		net->msgs = msgs;
		net->small_bufs = small;
		net->large_bufs = large;
		net->free_small = free_small;
		net->free_large = free_large;
	}
}

size_t
sim_net_size(const struct sim_net_config *cfg)
{
	struct sim_carve c = {NULL, 0};

	ASSERT(cfg != NULL);
	ASSERT(cfg->node_count >= 1 && cfg->node_count <= SIM_NODES_MAX);
	ASSERT(cfg->small_count > 0);
	ASSERT(cfg->large_count > 0);
	ASSERT(base_is_pow2(cfg->inbox_max));
	net_layout(NULL, &c, cfg);
	return sim_carve_size(&c);
}

void
sim_net_init(struct sim_net *net, void *memory, const struct sim_net_config *cfg,
	     struct sim_queue *queue, struct base_prng *prng)
{
	struct sim_carve c = {memory, 0};

	ASSERT(net != NULL);
	ASSERT(memory != NULL);
	ASSERT(queue != NULL);
	ASSERT(prng != NULL);
	memset(net, 0, sizeof(*net));
	(void)sim_net_size(cfg); /* validates cfg */
	net->cfg = *cfg;
	net->queue = queue;
	net->prng = prng;
	net->msg_count = cfg->small_count + cfg->large_count;
	net_layout(net, &c, cfg);
	sim_net_reset(net, 0);
}

void
sim_net_reset(struct sim_net *net, uint64_t tag_key)
{
	ASSERT(net != NULL);
	memset(&net->stats, 0, sizeof(net->stats));
	memset(&net->faults, 0, sizeof(net->faults));
	memset(net->is_blocked, 0, sizeof(net->is_blocked));
	net->tag_key = tag_key;
	for (uint32_t i = 0; i < net->msg_count; i++) {
		net->msgs[i].is_in_use = 0;
	}
	/* Free lists hand out low indices first, so a run's pool use is deterministic. */
	net->free_small_count = net->cfg.small_count;
	for (uint32_t i = 0; i < net->cfg.small_count; i++) {
		net->free_small[i] = net->cfg.small_count - 1 - i;
	}
	net->free_large_count = net->cfg.large_count;
	for (uint32_t i = 0; i < net->cfg.large_count; i++) {
		net->free_large[i] = net->cfg.small_count + net->cfg.large_count - 1 - i;
	}
	for (uint32_t i = 0; i < net->cfg.node_count; i++) {
		net->is_up[i] = 1;
		uint32_t idx;

		while (base_ring_pop(net->inbox[i], &idx) == 0) {
			/* the buffers were all freed above */
		}
	}
}

static uint8_t *
net_buf(struct sim_net *net, uint32_t index)
{
	ASSERT(index < net->msg_count);
	if (index < net->cfg.small_count) {
		return net->small_bufs + (size_t)index * SIM_NET_SMALL_SIZE;
	}
	return net->large_bufs + (size_t)(index - net->cfg.small_count) * ENV_MSG_MAX;
}

/* A free buffer index for size bytes, or UINT32_MAX when that pool is empty. */
static uint32_t
net_alloc(struct sim_net *net, size_t size)
{
	uint32_t index;

	if (size <= SIM_NET_SMALL_SIZE && net->free_small_count > 0) {
		index = net->free_small[--net->free_small_count];
	} else if (net->free_large_count > 0) {
		index = net->free_large[--net->free_large_count];
	} else {
		return UINT32_MAX;
	}
	ASSERT(!net->msgs[index].is_in_use);
	net->msgs[index].is_in_use = 1;
	return index;
}

static void
net_free(struct sim_net *net, uint32_t index)
{
	ASSERT(index < net->msg_count);
	ASSERT(net->msgs[index].is_in_use);
	net->msgs[index].is_in_use = 0;
	if (index < net->cfg.small_count) {
		net->free_small[net->free_small_count++] = index;
	} else {
		net->free_large[net->free_large_count++] = index;
	}
}

static uint64_t
net_tag(const struct sim_net *net, uint32_t src, uint32_t dst, const uint8_t *data, size_t size)
{
	uint64_t key = net->tag_key ^ ((uint64_t)src << 40) ^ ((uint64_t)dst << 20) ^ size;

	return base_hash64(data, size, key);
}

static uint64_t
net_delay(struct sim_net *net)
{
	const struct sim_net_faults *f = &net->faults;
	uint64_t delay = base_prng_range(net->prng, f->delay_min_ns, f->delay_max_ns);

	if (f->tail_ppm > 0 && f->tail_max_ns > 0 && base_prng_chance(net->prng, f->tail_ppm)) {
		delay += base_prng_range(net->prng, 0, f->tail_max_ns);
		net->stats.tail_count++;
	}
	return delay;
}

/* Flips one to three bytes, or cuts the tail off: the receiver's tag check must catch it. */
static void
net_corrupt(struct sim_net *net, struct sim_net_msg *m, uint8_t *buf)
{
	uint64_t flips = base_prng_range(net->prng, 1, 3);

	net->stats.corrupted_count++;
	if (m->size > 1 && base_prng_chance(net->prng, 200000)) {
		m->size = (uint32_t)base_prng_range(net->prng, 1, m->size - 1);
		return;
	}
	for (uint64_t i = 0; i < flips; i++) {
		uint64_t at = base_prng_below(net->prng, m->size);

		buf[at] ^= (uint8_t)base_prng_range(net->prng, 1, 255);
	}
}

/* Puts one copy of the datagram on the wire. */
static void
net_launch(struct sim_net *net, uint32_t src, uint32_t dst, const uint8_t *data, size_t size)
{
	uint32_t index = net_alloc(net, size);
	struct sim_net_msg *m;
	uint8_t *buf;
	int rc;

	if (index == UINT32_MAX) {
		net->stats.full_drop_count++;
		return;
	}
	m = &net->msgs[index];
	buf = net_buf(net, index);
	memcpy(buf, data, size);
	m->src = src;
	m->dst = dst;
	m->size = (uint32_t)size;
	m->tag = net_tag(net, src, dst, data, size);
	if (net->faults.corrupt_ppm > 0 && base_prng_chance(net->prng, net->faults.corrupt_ppm)) {
		net_corrupt(net, m, buf);
	}
	rc = sim_queue_push_after(net->queue, net_delay(net), SIM_EV_NET_DELIVER, dst, index, 0);
	ASSERT(rc == 0); /* the queue is sized for every pool buffer */
}

int
sim_net_send(struct sim_net *net, uint32_t src, uint32_t dst, const uint8_t *data, size_t size)
{
	ASSERT(net != NULL);
	ASSERT(src < net->cfg.node_count);
	ASSERT(data != NULL || size == 0);
	if (dst >= net->cfg.node_count) {
		return -EHOSTUNREACH;
	}
	if (size == 0 || size > ENV_MSG_MAX) {
		return -EMSGSIZE;
	}
	net->stats.sent_count++;
	net->stats.bytes_sent += size;
	if (net->is_blocked[src][dst]) {
		net->stats.partition_drop_count++;
		return 0;
	}
	if (net->faults.loss_ppm > 0 && base_prng_chance(net->prng, net->faults.loss_ppm)) {
		net->stats.lost_count++;
		return 0;
	}
	net_launch(net, src, dst, data, size);
	if (net->faults.dup_ppm > 0 && base_prng_chance(net->prng, net->faults.dup_ppm)) {
		net->stats.duplicated_count++;
		net_launch(net, src, dst, data, size);
	}
	return 0;
}

int
sim_net_on_deliver(struct sim_net *net, uint64_t msg_index)
{
	struct sim_net_msg *m;
	uint32_t index;

	ASSERT(net != NULL);
	ASSERT(msg_index < net->msg_count);
	index = (uint32_t)msg_index;
	m = &net->msgs[index];
	ASSERT(m->is_in_use);
	if (!net->is_up[m->dst]) {
		net->stats.down_drop_count++;
		net_free(net, index);
		return -1;
	}
	if (net->is_blocked[m->src][m->dst]) {
		net->stats.partition_drop_count++;
		net_free(net, index);
		return -1;
	}
	if (base_ring_push(net->inbox[m->dst], &index) != 0) {
		net->stats.full_drop_count++;
		net_free(net, index);
		return -1;
	}
	return (int)m->dst;
}

int
sim_net_recv(struct sim_net *net, uint32_t node, uint32_t *src, uint8_t *buf, size_t capacity,
	     size_t *size)
{
	uint32_t index;

	ASSERT(net != NULL);
	ASSERT(node < net->cfg.node_count);
	ASSERT(src != NULL && buf != NULL && size != NULL);
	while (base_ring_pop(net->inbox[node], &index) == 0) {
		struct sim_net_msg *m = &net->msgs[index];
		const uint8_t *data = net_buf(net, index);

		ASSERT(m->is_in_use && m->dst == node);
		if (net_tag(net, m->src, m->dst, data, m->size) != m->tag) {
			net->stats.rejected_count++;
			net_free(net, index);
			continue;
		}
		if (m->size > capacity) {
			net_free(net, index);
			return -EMSGSIZE;
		}
		memcpy(buf, data, m->size);
		*src = m->src;
		*size = m->size;
		net->stats.delivered_count++;
		net_free(net, index);
		return 0;
	}
	return -EAGAIN;
}

size_t
sim_net_pending(const struct sim_net *net, uint32_t node)
{
	ASSERT(net != NULL);
	ASSERT(node < net->cfg.node_count);
	return base_ring_count(net->inbox[node]);
}

void
sim_net_node_down(struct sim_net *net, uint32_t node)
{
	uint32_t index;

	ASSERT(net != NULL);
	ASSERT(node < net->cfg.node_count);
	net->is_up[node] = 0;
	while (base_ring_pop(net->inbox[node], &index) == 0) {
		net->stats.down_drop_count++;
		net_free(net, index);
	}
}

void
sim_net_node_up(struct sim_net *net, uint32_t node)
{
	ASSERT(net != NULL);
	ASSERT(node < net->cfg.node_count);
	net->is_up[node] = 1;
}

void
sim_net_link_block(struct sim_net *net, uint32_t src, uint32_t dst, int is_blocked)
{
	ASSERT(net != NULL);
	ASSERT(src < net->cfg.node_count);
	ASSERT(dst < net->cfg.node_count);
	net->is_blocked[src][dst] = is_blocked ? 1 : 0;
}

void
sim_net_unblock_all(struct sim_net *net)
{
	ASSERT(net != NULL);
	memset(net->is_blocked, 0, sizeof(net->is_blocked));
}

void
sim_net_set_faults(struct sim_net *net, const struct sim_net_faults *faults)
{
	ASSERT(net != NULL);
	ASSERT(faults != NULL);
	ASSERT(faults->delay_min_ns <= faults->delay_max_ns);
	ASSERT(faults->loss_ppm <= 1000000);
	net->faults = *faults;
}

uint32_t
sim_net_in_flight(const struct sim_net *net)
{
	ASSERT(net != NULL);
	return net->msg_count - net->free_small_count - net->free_large_count;
}
