/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The few JSON pieces aetherctl --json needs, written straight to a FILE: string escaping and
 * byte strings that may not be text. No library: the output is small and flat, and the one
 * subtle part (what a JSON string may hold) is here, tested on its own.
 *
 * JSON strings must be valid Unicode, but keys and values in the store are arbitrary bytes. A
 * byte string that is valid UTF-8 is written as a string; any other is written as null plus a
 * "<name>_hex" field with its bytes in lower-case hex, so a script can always recover the bytes
 * and never receives invalid JSON. Tool-private (ctl/tools); any thread, FILE locking aside.
 */
#ifndef AETHER_CTL_TOOLS_CTL_JSON_H
#define AETHER_CTL_TOOLS_CTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* True when data is well-formed UTF-8 (no overlong forms, surrogates or code points above
 * U+10FFFF; NUL is allowed, JSON escapes it). */
bool ctl_json_utf8_valid(const uint8_t *data, size_t size);

/* Writes data (valid UTF-8, asserted by the caller's check) as a quoted JSON string: '"' and
 * '\\' escaped, control characters as \n, \t, ... or \u00XX, DEL as \u007f. */
void ctl_json_string(FILE *f, const uint8_t *data, size_t size);

/* Writes a NUL-terminated text (UTF-8) as a quoted JSON string. */
void ctl_json_text(FILE *f, const char *text);

/* Writes `"name":"text"` when data is valid UTF-8, else `"name":null,"name_hex":"6869"`. */
void ctl_json_bytes_field(FILE *f, const char *name, const uint8_t *data, size_t size);

#endif /* AETHER_CTL_TOOLS_CTL_JSON_H */
