/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the bounded reader and writer (base/bytes.h).
 *
 * The input is a little program that reads itself: the reader takes an op byte, and the op's
 * low 3 bits choose what to read next from the same input (u8, u16, u32, u64, a length-prefixed
 * blob bounded by the op's high bits, a view or a copy of op >> 3 bytes). Every value read is
 * written back, op byte included, through two writers: one as large as the input and one half
 * as large. Because the format is the reader's own, the writers must reproduce exactly the prefix
 * consumed by successful ops; the small writer must fail with -ENOBUFS exactly when that prefix
 * does not fit, and keep what it wrote before. A failed read must be sticky and must not move.
 * The input buffers are heap copies of the exact size, so ASan catches any read past the end.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/panic.h"

enum fuzz_bytes_op {
	FUZZ_BYTES_U8 = 0,
	FUZZ_BYTES_U16,
	FUZZ_BYTES_U32,
	FUZZ_BYTES_U64,
	FUZZ_BYTES_BLOB,
	FUZZ_BYTES_VIEW,
	FUZZ_BYTES_COPY,
	FUZZ_BYTES_OP_COUNT,
};

struct fuzz_bytes_run {
	struct base_reader r;
	struct base_writer big;
	struct base_writer small;
};

static void
fuzz_bytes_write_u64(struct fuzz_bytes_run *run, uint64_t v, unsigned width)
{
	struct base_writer *w[2] = {&run->big, &run->small};

	for (int i = 0; i < 2; i++) {
		switch (width) {
		case 1:
			(void)base_writer_u8(w[i], (uint8_t)v);
			break;
		case 2:
			(void)base_writer_u16(w[i], (uint16_t)v);
			break;
		case 4:
			(void)base_writer_u32(w[i], (uint32_t)v);
			break;
		default:
			ASSERT(width == 8);
			(void)base_writer_u64(w[i], v);
			break;
		}
	}
}

static void
fuzz_bytes_write_raw(struct fuzz_bytes_run *run, const uint8_t *p, size_t size, int as_blob)
{
	if (as_blob) {
		(void)base_writer_blob(&run->big, p, size);
		(void)base_writer_blob(&run->small, p, size);
	} else {
		(void)base_writer_bytes(&run->big, p, size);
		(void)base_writer_bytes(&run->small, p, size);
	}
}

/* Reads an integer of the given width and, on success, echoes op and value. */
static int
fuzz_bytes_int(struct fuzz_bytes_run *run, uint8_t op, unsigned width)
{
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v = 0;
	int rc;

	if (width == 1) {
		rc = base_reader_u8(&run->r, &v8);
		v = v8;
	} else if (width == 2) {
		rc = base_reader_u16(&run->r, &v16);
		v = v16;
	} else if (width == 4) {
		rc = base_reader_u32(&run->r, &v32);
		v = v32;
	} else {
		rc = base_reader_u64(&run->r, &v);
	}
	if (rc == 0) {
		fuzz_bytes_write_u64(run, op, 1);
		fuzz_bytes_write_u64(run, v, width);
	} else {
		ASSERT(v == 0); /* a failed read stores 0, never stale memory */
	}
	return rc;
}

/* Reads a blob, view or copy and, on success, echoes op and bytes. */
static int
fuzz_bytes_raw(struct fuzz_bytes_run *run, uint8_t op)
{
	size_t arg = (size_t)(op >> 3);
	uint8_t copy[32];
	const uint8_t *p = NULL;
	size_t size = 0;
	int rc;

	if ((op & 7) == FUZZ_BYTES_BLOB) {
		rc = base_reader_blob(&run->r, &p, &size, arg * 4);
		ASSERT(rc == 0 || (p == NULL && size == 0));
	} else if ((op & 7) == FUZZ_BYTES_VIEW) {
		rc = base_reader_view(&run->r, &p, arg);
		size = arg;
	} else {
		ASSERT(arg <= sizeof(copy));
		rc = base_reader_bytes(&run->r, copy, arg);
		p = copy;
		size = arg;
	}
	if (rc == 0) {
		ASSERT(size <= arg * 4);
		fuzz_bytes_write_u64(run, op, 1);
		fuzz_bytes_write_raw(run, p, size, (op & 7) == FUZZ_BYTES_BLOB);
	}
	return rc;
}

/*
 * Runs one op; returns the reader's code. The op byte is echoed only with a complete op, so
 * the writers always hold whole ops: exactly the prefix up to the last successful one.
 */
static int
fuzz_bytes_step(struct fuzz_bytes_run *run)
{
	static const unsigned widths[] = {1, 2, 4, 8};
	uint8_t op;
	int rc = base_reader_u8(&run->r, &op);

	if (rc != 0) {
		return rc;
	}
	if ((op & 7) < FUZZ_BYTES_BLOB) {
		return fuzz_bytes_int(run, op, widths[op & 7]);
	}
	if ((op & 7) >= FUZZ_BYTES_OP_COUNT) {
		fuzz_bytes_write_u64(run, op, 1); /* a no-op: only the op byte itself */
		return 0;
	}
	return fuzz_bytes_raw(run, op);
}

/* After a failure, every call fails with the same code and nothing moves. */
static void
fuzz_bytes_check_sticky(struct fuzz_bytes_run *run, int rc)
{
	size_t pos = run->r.pos;
	uint32_t v;
	const uint8_t *p;

	ASSERT(rc == -BASE_ERR_TRUNCATED || rc == -BASE_ERR_TOO_LONG);
	ASSERT(base_reader_remaining(&run->r) == 0);
	ASSERT(base_reader_u32(&run->r, &v) == rc);
	ASSERT(base_reader_view(&run->r, &p, 0) == rc);
	ASSERT(p == NULL);
	ASSERT(run->r.pos == pos);
	ASSERT(base_reader_finish(&run->r) == rc);
}

static void
fuzz_bytes_check_echo(const struct fuzz_bytes_run *run, const uint8_t *in, size_t done)
{
	size_t small_size = base_writer_size(&run->small);

	ASSERT(base_writer_status(&run->big) == 0);
	ASSERT(base_writer_size(&run->big) == done);
	ASSERT(done == 0 || memcmp(run->big.data, in, done) == 0);
	if (done <= run->small.capacity) {
		ASSERT(base_writer_status(&run->small) == 0);
		ASSERT(small_size == done);
	} else {
		ASSERT(base_writer_status(&run->small) == -ENOBUFS);
		ASSERT(small_size <= run->small.capacity);
	}
	ASSERT(small_size == 0 || memcmp(run->small.data, in, small_size) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact-size heap copies: one byte past the end is an ASan report. */
	uint8_t *in = malloc(size > 0 ? size : 1);
	uint8_t *out_big = malloc(size > 0 ? size : 1);
	uint8_t *out_small = malloc(size / 2 > 0 ? size / 2 : 1);
	struct fuzz_bytes_run run;
	size_t done = 0;
	int rc = 0;

	ASSERT(in != NULL && out_big != NULL && out_small != NULL);
	if (size > 0) {
		memcpy(in, data, size);
	}
	base_reader_init(&run.r, in, size);
	base_writer_init(&run.big, out_big, size);
	base_writer_init(&run.small, out_small, size / 2);
	while (rc == 0 && base_reader_remaining(&run.r) > 0) {
		rc = fuzz_bytes_step(&run);
		if (rc == 0) {
			done = run.r.pos;
		}
	}
	if (rc == 0) {
		ASSERT(done == size);
		ASSERT(base_reader_finish(&run.r) == 0);
	} else {
		fuzz_bytes_check_sticky(&run, rc);
	}
	fuzz_bytes_check_echo(&run, in, done);
	free(out_small);
	free(out_big);
	free(in);
	return 0;
}
