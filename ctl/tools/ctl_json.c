/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl_json.h"

#include <string.h>

#include "base/panic.h"

/* Length of the UTF-8 sequence starting at data[0] (RFC 3629 table 3-7), or 0 if malformed. */
static size_t
utf8_sequence(const uint8_t *data, size_t size)
{
	uint8_t b = data[0];
	size_t len;
	uint8_t lo = 0x80;
	uint8_t hi = 0xbf;

	if (b < 0x80) {
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf) {
		len = 2;
	} else if (b >= 0xe0 && b <= 0xef) {
		len = 3;
		lo = b == 0xe0 ? 0xa0 : 0x80; /* no overlong forms */
		hi = b == 0xed ? 0x9f : 0xbf; /* no surrogates */
	} else if (b >= 0xf0 && b <= 0xf4) {
		len = 4;
		lo = b == 0xf0 ? 0x90 : 0x80; /* no overlong forms */
		hi = b == 0xf4 ? 0x8f : 0xbf; /* nothing above U+10FFFF */
	} else {
		return 0;
	}
	if (size < len || data[1] < lo || data[1] > hi) {
		return 0;
	}
	for (size_t i = 2; i < len; i++) {
		if (data[i] < 0x80 || data[i] > 0xbf) {
			return 0;
		}
	}
	return len;
}

bool
ctl_json_utf8_valid(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	ASSERT(data != NULL || size == 0);
	while (pos < size) {
		size_t n = utf8_sequence(data + pos, size - pos);

		if (n == 0) {
			return false;
		}
		pos += n;
	}
	return true;
}

static void
json_char(FILE *f, uint8_t c)
{
	switch (c) {
	case '"':
		fputs("\\\"", f);
		return;
	case '\\':
		fputs("\\\\", f);
		return;
	case '\n':
		fputs("\\n", f);
		return;
	case '\r':
		fputs("\\r", f);
		return;
	case '\t':
		fputs("\\t", f);
		return;
	case '\b':
		fputs("\\b", f);
		return;
	case '\f':
		fputs("\\f", f);
		return;
	default:
		break;
	}
	if (c < 0x20 || c == 0x7f) {
		fprintf(f, "\\u%04x", (unsigned)c);
	} else {
		fputc(c, f);
	}
}

void
ctl_json_string(FILE *f, const uint8_t *data, size_t size)
{
	ASSERT(f != NULL);
	ASSERT(data != NULL || size == 0);
	fputc('"', f);
	for (size_t i = 0; i < size; i++) {
		json_char(f, data[i]);
	}
	fputc('"', f);
}

void
ctl_json_text(FILE *f, const char *text)
{
	ASSERT(text != NULL);
	ctl_json_string(f, (const uint8_t *)text, strlen(text));
}

void
ctl_json_bytes_field(FILE *f, const char *name, const uint8_t *data, size_t size)
{
	ASSERT(f != NULL);
	ASSERT(name != NULL);
	ctl_json_text(f, name);
	if (ctl_json_utf8_valid(data, size)) {
		fputc(':', f);
		ctl_json_string(f, data, size);
		return;
	}
	fputs(":null,\"", f);
	fputs(name, f);
	fputs("_hex\":\"", f);
	for (size_t i = 0; i < size; i++) {
		fprintf(f, "%02x", (unsigned)data[i]);
	}
	fputc('"', f);
}
