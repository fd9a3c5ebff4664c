/* SPDX-License-Identifier: Apache-2.0 */
#include "base/bytes.h"

#include <string.h>

#include "base/err.h"
#include "base/panic.h"

uint16_t
base_load_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)(p[1] << 8));
}

uint32_t
base_load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

uint64_t
base_load_le64(const uint8_t *p)
{
	return (uint64_t)base_load_le32(p) | ((uint64_t)base_load_le32(p + 4) << 32);
}

void
base_store_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void
base_store_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

void
base_store_le64(uint8_t *p, uint64_t v)
{
	base_store_le32(p, (uint32_t)v);
	base_store_le32(p + 4, (uint32_t)(v >> 32));
}

void
base_reader_init(struct base_reader *r, const uint8_t *data, size_t size)
{
	ASSERT(r != NULL);
	ASSERT(data != NULL || size == 0);
	r->data = data;
	r->size = size;
	r->pos = 0;
	r->err = 0;
}

size_t
base_reader_remaining(const struct base_reader *r)
{
	ASSERT(r->pos <= r->size);
	return r->err != 0 ? 0 : r->size - r->pos;
}

/* The one place that checks a read length: every other reader goes through it. */
static int
reader_take(struct base_reader *r, size_t size, const uint8_t **out)
{
	if (r->err != 0) {
		return r->err;
	}
	if (size > r->size - r->pos) {
		r->err = -BASE_ERR_TRUNCATED;
		return r->err;
	}
	*out = r->data + r->pos;
	r->pos += size;
	ASSERT(r->pos <= r->size);
	return 0;
}

int
base_reader_u8(struct base_reader *r, uint8_t *out)
{
	const uint8_t *p;
	int rc = reader_take(r, 1, &p);

	*out = rc == 0 ? p[0] : 0;
	return rc;
}

int
base_reader_u16(struct base_reader *r, uint16_t *out)
{
	const uint8_t *p;
	int rc = reader_take(r, 2, &p);

	*out = rc == 0 ? base_load_le16(p) : 0;
	return rc;
}

int
base_reader_u32(struct base_reader *r, uint32_t *out)
{
	const uint8_t *p;
	int rc = reader_take(r, 4, &p);

	*out = rc == 0 ? base_load_le32(p) : 0;
	return rc;
}

int
base_reader_u64(struct base_reader *r, uint64_t *out)
{
	const uint8_t *p;
	int rc = reader_take(r, 8, &p);

	*out = rc == 0 ? base_load_le64(p) : 0;
	return rc;
}

int
base_reader_bytes(struct base_reader *r, uint8_t *out, size_t size)
{
	const uint8_t *p;
	int rc = reader_take(r, size, &p);

	if (rc == 0 && size > 0) {
		memcpy(out, p, size);
	}
	return rc;
}

int
base_reader_view(struct base_reader *r, const uint8_t **out, size_t size)
{
	int rc = reader_take(r, size, out);

	if (rc != 0) {
		*out = NULL;
	}
	return rc;
}

int
base_reader_blob(struct base_reader *r, const uint8_t **out, size_t *out_size, size_t max_size)
{
	uint32_t len;
	int rc = base_reader_u32(r, &len);

	*out = NULL;
	*out_size = 0;
	if (rc != 0) {
		return rc;
	}
	if (len > max_size) {
		r->err = -BASE_ERR_TOO_LONG;
		return r->err;
	}
	rc = base_reader_view(r, out, len);
	if (rc == 0) {
		*out_size = len;
	}
	return rc;
}

int
base_reader_finish(const struct base_reader *r)
{
	if (r->err != 0) {
		return r->err;
	}
	return r->pos == r->size ? 0 : -BASE_ERR_TRAILING;
}

void
base_writer_init(struct base_writer *w, uint8_t *data, size_t capacity)
{
	ASSERT(w != NULL);
	ASSERT(data != NULL || capacity == 0);
	w->data = data;
	w->capacity = capacity;
	w->pos = 0;
	w->err = 0;
}

static int
writer_take(struct base_writer *w, size_t size, uint8_t **out)
{
	if (w->err != 0) {
		return w->err;
	}
	if (size > w->capacity - w->pos) {
		w->err = -ENOBUFS;
		return w->err;
	}
	*out = w->data + w->pos;
	w->pos += size;
	ASSERT(w->pos <= w->capacity);
	return 0;
}

int
base_writer_u8(struct base_writer *w, uint8_t v)
{
	uint8_t *p;
	int rc = writer_take(w, 1, &p);

	if (rc == 0) {
		p[0] = v;
	}
	return rc;
}

int
base_writer_u16(struct base_writer *w, uint16_t v)
{
	uint8_t *p;
	int rc = writer_take(w, 2, &p);

	if (rc == 0) {
		base_store_le16(p, v);
	}
	return rc;
}

int
base_writer_u32(struct base_writer *w, uint32_t v)
{
	uint8_t *p;
	int rc = writer_take(w, 4, &p);

	if (rc == 0) {
		base_store_le32(p, v);
	}
	return rc;
}

int
base_writer_u64(struct base_writer *w, uint64_t v)
{
	uint8_t *p;
	int rc = writer_take(w, 8, &p);

	if (rc == 0) {
		base_store_le64(p, v);
	}
	return rc;
}

int
base_writer_bytes(struct base_writer *w, const uint8_t *data, size_t size)
{
	uint8_t *p;
	int rc = writer_take(w, size, &p);

	if (rc == 0 && size > 0) {
		memcpy(p, data, size);
	}
	return rc;
}

int
base_writer_blob(struct base_writer *w, const uint8_t *data, size_t size)
{
	int rc;

	if (w->err != 0) {
		return w->err;
	}
	if (size > UINT32_MAX) {
		w->err = -BASE_ERR_TOO_LONG;
		return w->err;
	}
	rc = base_writer_u32(w, (uint32_t)size);
	if (rc != 0) {
		return rc;
	}
	return base_writer_bytes(w, data, size);
}

size_t
base_writer_size(const struct base_writer *w)
{
	return w->pos;
}

int
base_writer_status(const struct base_writer *w)
{
	return w->err;
}
