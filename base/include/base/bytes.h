/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded binary reader and writer for wire formats: little-endian integers, raw bytes and
 * length-prefixed byte strings. Every read checks the remaining length first; nothing is read
 * past the end and nothing is written past the capacity.
 *
 * Errors are sticky: after the first failure every later call fails with the same code and the
 * position no longer moves, so a decoder may issue a run of reads and check once at the end
 * (base_reader_finish, base_writer_status, both must-check). Each call also returns the code,
 * for decoders that prefer early exits; ignoring it is allowed because of the sticky state.
 *
 * Ownership: both structs borrow their buffer for their whole life. Not thread-safe; one owner.
 * Errors: -BASE_ERR_TRUNCATED (reader: not enough bytes), -ENOBUFS (writer: out of space),
 * -BASE_ERR_TOO_LONG (a length prefix larger than the caller's bound),
 * -BASE_ERR_TRAILING (base_reader_finish: bytes left over).
 */
#ifndef AETHER_BASE_BYTES_H
#define AETHER_BASE_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"

struct base_reader {
	const uint8_t *data; /* borrows */
	size_t size;
	size_t pos;
	int err; /* 0 or the first negative error */
};

struct base_writer {
	uint8_t *data; /* borrows */
	size_t capacity;
	size_t pos;
	int err;
};

void base_reader_init(struct base_reader *r, const uint8_t *data, size_t size);
/* Bytes not yet consumed (0 after an error). */
size_t base_reader_remaining(const struct base_reader *r);

int base_reader_u8(struct base_reader *r, uint8_t *out);
int base_reader_u16(struct base_reader *r, uint16_t *out);
int base_reader_u32(struct base_reader *r, uint32_t *out);
int base_reader_u64(struct base_reader *r, uint64_t *out);
/* Copies exactly size bytes into out. */
int base_reader_bytes(struct base_reader *r, uint8_t *out, size_t size);
/* Points *out at the next size bytes inside the reader's buffer (no copy) and skips them. */
int base_reader_view(struct base_reader *r, const uint8_t **out, size_t size);
/*
 * Reads a u32 length prefix, checks it against max_size, and views that many bytes.
 * A prefix above max_size fails with -BASE_ERR_TOO_LONG before anything is consumed further.
 */
int base_reader_blob(struct base_reader *r, const uint8_t **out, size_t *out_size, size_t max_size);
/* 0 when no error happened and every byte was consumed; otherwise the error. */
AE_MUST_CHECK int base_reader_finish(const struct base_reader *r);

void base_writer_init(struct base_writer *w, uint8_t *data, size_t capacity);
int base_writer_u8(struct base_writer *w, uint8_t v);
int base_writer_u16(struct base_writer *w, uint16_t v);
int base_writer_u32(struct base_writer *w, uint32_t v);
int base_writer_u64(struct base_writer *w, uint64_t v);
int base_writer_bytes(struct base_writer *w, const uint8_t *data, size_t size);
/* Writes a u32 length prefix then the bytes; size must fit in 32 bits (-BASE_ERR_TOO_LONG). */
int base_writer_blob(struct base_writer *w, const uint8_t *data, size_t size);
/* 0 when every write so far succeeded, else the first error. */
AE_MUST_CHECK int base_writer_status(const struct base_writer *w);
/* Bytes written so far (valid even after an error: the prefix written before it). */
size_t base_writer_size(const struct base_writer *w);

/* Plain little-endian loads and stores on unaligned memory (memcpy, UBSan-clean). */
uint16_t base_load_le16(const uint8_t *p);
uint32_t base_load_le32(const uint8_t *p);
uint64_t base_load_le64(const uint8_t *p);
void base_store_le16(uint8_t *p, uint16_t v);
void base_store_le32(uint8_t *p, uint32_t v);
void base_store_le64(uint8_t *p, uint64_t v);

#endif /* AETHER_BASE_BYTES_H */
