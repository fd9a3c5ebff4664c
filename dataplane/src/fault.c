/* SPDX-License-Identifier: Apache-2.0 */
#include "dataplane/fault.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "base/alloc.h"
#include "base/panic.h"

enum slot_state {
	SLOT_FREE = 0,
	SLOT_HELD = 1,
	/* Emitted by the current call: its bytes must stay valid until the next call. */
	SLOT_EMITTED = 2,
};

struct hold_slot {
	enum slot_state state;
	bool is_reorder; /* waits for the next frame sent, or due_ns at the latest */
	uint64_t due_ns; /* release time */
	uint64_t seq;    /* hold order, breaks ties */
	size_t size;
	uint8_t *data; /* frame_size_max bytes inside f->storage */
};

struct dp_fault {
	struct dp_fault_config cfg;
	struct base_prng prng;
	uint64_t seq;
	size_t held;
	struct hold_slot *slots;
	uint8_t *storage;
	struct dp_fault_stats stats;
};

static int
config_check(const struct dp_fault_config *c)
{
	if (c->drop_ppm > DP_FAULT_PPM || c->corrupt_ppm > DP_FAULT_PPM ||
	    c->delay_ppm > DP_FAULT_PPM || c->reorder_ppm > DP_FAULT_PPM ||
	    c->duplicate_ppm > DP_FAULT_PPM) {
		return -EINVAL;
	}
	if (c->delay_ns_min > c->delay_ns_max || c->reorder_ns_max == 0) {
		return -EINVAL;
	}
	if (c->hold_max == 0 || c->hold_max > DP_FAULT_HOLD_MAX || c->frame_size_max == 0) {
		return -EINVAL;
	}
	return 0;
}

int
dp_fault_create(const struct dp_fault_config *cfg, struct dp_fault **out)
{
	struct dp_fault *f;
	int rc;

	ASSERT(cfg != NULL && out != NULL);
	*out = NULL;
	rc = config_check(cfg);
	if (rc != 0) {
		return rc;
	}
	f = base_alloc(sizeof(*f));
	if (f == NULL) {
		return -ENOMEM;
	}
	f->slots = base_alloc_array(cfg->hold_max, sizeof(*f->slots));
	f->storage = base_alloc_array(cfg->hold_max, cfg->frame_size_max);
	if (f->slots == NULL || f->storage == NULL) {
		dp_fault_destroy(f);
		return -ENOMEM;
	}
	f->cfg = *cfg;
	base_prng_init(&f->prng, cfg->seed);
	for (uint32_t i = 0; i < cfg->hold_max; i++) {
		f->slots[i].data = f->storage + (size_t)i * cfg->frame_size_max;
	}
	*out = f;
	return 0;
}

void
dp_fault_destroy(struct dp_fault *f)
{
	if (f == NULL) {
		return;
	}
	base_free(f->storage);
	base_free(f->slots);
	base_free(f);
}

size_t
dp_fault_held(const struct dp_fault *f)
{
	ASSERT(f != NULL);
	return f->held;
}

/* Slots emitted by the previous call become free: their views have expired. */
static void
slots_expire(struct dp_fault *f)
{
	for (uint32_t i = 0; i < f->cfg.hold_max; i++) {
		if (f->slots[i].state == SLOT_EMITTED) {
			f->slots[i].state = SLOT_FREE;
		}
	}
}

static bool
slot_before(const struct hold_slot *a, const struct hold_slot *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

/*
 * Appends the held slots selected by (is_due or is_successor) to out in (due, seq) order and
 * marks them emitted. is_successor releases every reordered frame (a later frame was sent).
 */
static size_t
release(struct dp_fault *f, uint64_t now_ns, bool is_successor, struct dp_fault_emit *out,
	size_t out_max)
{
	struct hold_slot *picked[DP_FAULT_HOLD_MAX];
	size_t n = 0;

	for (uint32_t i = 0; i < f->cfg.hold_max; i++) {
		struct hold_slot *s = &f->slots[i];

		if (s->state == SLOT_HELD &&
		    (s->due_ns <= now_ns || (is_successor && s->is_reorder))) {
			/* Insertion sort: at most DP_FAULT_HOLD_MAX entries, usually a few. */
			size_t j = n++;
			for (; j > 0 && slot_before(s, picked[j - 1]); j--) {
				picked[j] = picked[j - 1];
			}
			picked[j] = s;
		}
	}
	ASSERT(n <= out_max);
	for (size_t i = 0; i < n; i++) {
		picked[i]->state = SLOT_EMITTED;
		out[i].data = picked[i]->data;
		out[i].size = picked[i]->size;
	}
	f->held -= n;
	f->stats.released_count += n;
	return n;
}

/* Copies frame into a free slot; false when every slot is busy. */
static bool
hold(struct dp_fault *f, const uint8_t *frame, size_t size, uint64_t due_ns, bool is_reorder)
{
	for (uint32_t i = 0; i < f->cfg.hold_max; i++) {
		struct hold_slot *s = &f->slots[i];

		if (s->state == SLOT_FREE) {
			memcpy(s->data, frame, size);
			s->size = size;
			s->due_ns = due_ns;
			s->is_reorder = is_reorder;
			s->seq = f->seq++;
			s->state = SLOT_HELD;
			f->held++;
			return true;
		}
	}
	f->stats.hold_full_count++;
	return false;
}

/* Steps 3 and 4: returns true when the frame was held. */
static bool
maybe_hold(struct dp_fault *f, uint64_t now_ns, const uint8_t *frame, size_t size)
{
	const struct dp_fault_config *c = &f->cfg;

	if (base_prng_chance(&f->prng, c->delay_ppm)) {
		uint64_t delay = base_prng_range(&f->prng, c->delay_ns_min, c->delay_ns_max);

		if (hold(f, frame, size, now_ns + delay, false)) {
			f->stats.delayed_count++;
			return true;
		}
		return false;
	}
	if (base_prng_chance(&f->prng, c->reorder_ppm)) {
		if (hold(f, frame, size, now_ns + c->reorder_ns_max, true)) {
			f->stats.reordered_count++;
			return true;
		}
	}
	return false;
}

size_t
dp_fault_on_send(struct dp_fault *f, uint64_t now_ns, uint8_t *frame, size_t size,
		 struct dp_fault_emit *out, size_t out_max)
{
	size_t n;

	ASSERT(f != NULL && frame != NULL && out != NULL);
	ASSERT(size > 0 && size <= f->cfg.frame_size_max);
	ASSERT(out_max >= DP_FAULT_EMIT_MAX);
	slots_expire(f);
	f->stats.frame_count++;
	n = release(f, now_ns, false, out, out_max);
	if (base_prng_chance(&f->prng, f->cfg.drop_ppm)) {
		f->stats.dropped_count++;
		return n;
	}
	if (base_prng_chance(&f->prng, f->cfg.corrupt_ppm)) {
		uint64_t bit = base_prng_below(&f->prng, (uint64_t)size * 8u);

		frame[bit / 8u] ^= (uint8_t)(1u << (bit % 8u));
		f->stats.corrupted_count++;
	}
	if (maybe_hold(f, now_ns, frame, size)) {
		return n;
	}
	out[n++] = (struct dp_fault_emit){.data = frame, .size = size};
	if (base_prng_chance(&f->prng, f->cfg.duplicate_ppm)) {
		out[n++] = (struct dp_fault_emit){.data = frame, .size = size};
		f->stats.duplicated_count++;
	}
	/* A frame went out, so every reordered frame waiting for a successor follows it. */
	n += release(f, now_ns, true, out + n, out_max - n);
	ASSERT(n <= out_max);
	return n;
}

size_t
dp_fault_poll(struct dp_fault *f, uint64_t now_ns, struct dp_fault_emit *out, size_t out_max)
{
	ASSERT(f != NULL && out != NULL);
	ASSERT(out_max >= DP_FAULT_HOLD_MAX);
	slots_expire(f);
	return release(f, now_ns, false, out, out_max);
}

void
dp_fault_stats_get(const struct dp_fault *f, struct dp_fault_stats *out)
{
	ASSERT(f != NULL && out != NULL);
	*out = f->stats;
}

void
dp_fault_dump(const struct dp_fault *f, FILE *out)
{
	const struct dp_fault_stats *s = &f->stats;
	const struct dp_fault_config *c = &f->cfg;

	ASSERT(f != NULL && out != NULL);
	fprintf(out,
		"fault: seed=%" PRIu64 " ppm drop=%" PRIu32 " corrupt=%" PRIu32 " delay=%" PRIu32
		" reorder=%" PRIu32 " duplicate=%" PRIu32 " held=%zu frames=%" PRIu64
		" dropped=%" PRIu64 " corrupted=%" PRIu64 " delayed=%" PRIu64 " reordered=%" PRIu64
		" duplicated=%" PRIu64 " hold_full=%" PRIu64 " released=%" PRIu64 "\n",
		c->seed, c->drop_ppm, c->corrupt_ppm, c->delay_ppm, c->reorder_ppm,
		c->duplicate_ppm, f->held, s->frame_count, s->dropped_count, s->corrupted_count,
		s->delayed_count, s->reordered_count, s->duplicated_count, s->hold_full_count,
		s->released_count);
}
