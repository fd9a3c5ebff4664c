/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One error report shared by the slice repository, loader and runtime: the negative code the
 * function returned plus one line of text that names the object and the reason, for example
 * "org.example:greeter:1.0.0: artifact hash does not match its manifest". Operators see that
 * line (aetherctl, logs, aether-pack), so it says what was refused and why, never just "invalid".
 *
 * The struct is caller memory; every function that takes a `struct slice_error *err` accepts
 * NULL (no text wanted) and fills it only when it fails. Any thread.
 */
#ifndef AETHER_SLICES_ERROR_H
#define AETHER_SLICES_ERROR_H

#include "base/compiler.h"

/* Longest error line, NUL included; longer text is cut. */
#define SLICE_ERROR_TEXT_MAX 320

struct slice_error {
	int code; /* 0 or the negative code returned */
	char text[SLICE_ERROR_TEXT_MAX];
};

/*
 * Records code (negative) and the formatted text into err (may be NULL) and returns code, so
 * that callers write `return slice_error_set(err, -EFBIG, "%s: larger than %zu bytes", ...)`.
 */
int slice_error_set(struct slice_error *err, int code, const char *fmt, ...) AE_PRINTF(3, 4);

/* Clears err (may be NULL): code 0, empty text. */
void slice_error_clear(struct slice_error *err);

#endif /* AETHER_SLICES_ERROR_H */
