/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A seeded fault hook on the send path of one link: it drops, corrupts, duplicates, delays and
 * reorders frames, because `tc netem` does not exist on the project's machines
 * (PLATFORM-NOTES.md, "Fault injection"). The same seed, configuration and sequence of calls
 * (frames and now_ns values) give the same decisions on every machine, so a failing run can be
 * replayed. It is off unless the node config enables it for a peer; the data path then pays one
 * branch per frame.
 *
 * Per frame, in this order, each with its own probability in parts per million:
 *  1. drop:      the frame is not sent;
 *  2. corrupt:   one random bit of the frame is flipped (in the caller's buffer), so the
 *                receiver's tag check (or decoder) must reject it;
 *  3. delay:     the frame is held and released at now + a uniform delay in
 *                [delay_ns_min, delay_ns_max];
 *  4. reorder:   the frame is held until the next frame of this link has been sent (or until
 *                reorder_ns_max passes, so a lone frame is not held forever);
 *  5. duplicate: the frame is emitted twice.
 * A frame that is neither dropped nor held is emitted at once. Held frames are copied into a
 * fixed set of hold_max slots allocated at create; when every slot is busy the frame is sent
 * at once instead and counted as `hold_full`.
 *
 * Use: call dp_fault_on_send for each outgoing frame and dp_fault_poll regularly (for example
 * on every receive poll); both return the frames to put on the wire now, in order, as views
 * that stay valid until the next call on this hook. This module is pure (time arrives as
 * now_ns; randomness from base_prng); one owner thread.
 */
#ifndef AETHER_DATAPLANE_FAULT_H
#define AETHER_DATAPLANE_FAULT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/compiler.h"
#include "base/prng.h"

/* Most frames one hook may hold at a time. */
#define DP_FAULT_HOLD_MAX 256u
/* Frames one call may emit: the input (twice when duplicated) plus every released frame. */
#define DP_FAULT_EMIT_MAX (DP_FAULT_HOLD_MAX + 2u)
/* One million: probabilities are in parts per million. */
#define DP_FAULT_PPM      1000000u

struct dp_fault_config {
	uint32_t drop_ppm;
	uint32_t corrupt_ppm;
	uint32_t delay_ppm;
	uint32_t reorder_ppm;
	uint32_t duplicate_ppm;
	uint64_t delay_ns_min; /* <= delay_ns_max */
	uint64_t delay_ns_max;
	uint64_t reorder_ns_max; /* longest a reordered frame waits for a successor; > 0 */
	uint32_t hold_max;       /* slots for held frames: 1 .. DP_FAULT_HOLD_MAX */
	size_t frame_size_max;   /* largest frame the hook copies (a held frame) */
	uint64_t seed;
};

/* A frame to put on the wire; data is borrowed until the next call on the hook. */
struct dp_fault_emit {
	const uint8_t *data;
	size_t size;
};

/* Counters, only ever incremented. */
struct dp_fault_stats {
	uint64_t frame_count; /* frames given to dp_fault_on_send */
	uint64_t dropped_count;
	uint64_t corrupted_count;
	uint64_t delayed_count;
	uint64_t reordered_count;
	uint64_t duplicated_count;
	uint64_t hold_full_count; /* would have been held, sent at once instead */
	uint64_t released_count;  /* held frames emitted later */
};

struct dp_fault;

/*
 * Validates cfg (borrowed) and allocates the hook with its hold slots through base_alloc
 * (hold_max * frame_size_max bytes). Returns 0 and *out, -EINVAL (a probability above
 * DP_FAULT_PPM, delay_ns_min > delay_ns_max, reorder_ns_max 0, hold_max 0 or above
 * DP_FAULT_HOLD_MAX, frame_size_max 0) or -ENOMEM. Startup only.
 */
AE_MUST_CHECK int dp_fault_create(const struct dp_fault_config *cfg, struct dp_fault **out);
/* Frees the hook and any frames it still holds. NULL is allowed. */
void dp_fault_destroy(struct dp_fault *f);

/*
 * Decides the fate of one outgoing frame (borrowed; may be modified in place by corruption;
 * size <= frame_size_max, larger frames are asserted against) and of held frames due at
 * now_ns. Writes the frames to send now into out (capacity out_max, at least
 * DP_FAULT_EMIT_MAX) in wire order: due held frames first, then this frame (unless dropped
 * or held), then reordered frames that were waiting for this one. Returns how many.
 */
size_t dp_fault_on_send(struct dp_fault *f, uint64_t now_ns, uint8_t *frame, size_t size,
			struct dp_fault_emit *out, size_t out_max);

/* Releases held frames whose time has come (out_max at least DP_FAULT_HOLD_MAX); returns how
 * many were written to out. */
size_t dp_fault_poll(struct dp_fault *f, uint64_t now_ns, struct dp_fault_emit *out,
		     size_t out_max);

/* Frames currently held. */
size_t dp_fault_held(const struct dp_fault *f);

/* Copies the counters into *out. */
void dp_fault_stats_get(const struct dp_fault *f, struct dp_fault_stats *out);

/* One line: the configuration and the counters. */
void dp_fault_dump(const struct dp_fault *f, FILE *out);

#endif /* AETHER_DATAPLANE_FAULT_H */
