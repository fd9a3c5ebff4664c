/* SPDX-License-Identifier: Apache-2.0 */
#include "slices/error.h"

#include <stdarg.h>
#include <stdio.h>

#include "base/panic.h"

int
slice_error_set(struct slice_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	ASSERT(code < 0);
	ASSERT(fmt != NULL);
	if (err == NULL) {
		return code;
	}
	err->code = code;
	va_start(ap, fmt);
	/* A cut line is still one clear line; vsnprintf always terminates it. */
	(void)vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return code;
}

void
slice_error_clear(struct slice_error *err)
{
	if (err == NULL) {
		return;
	}
	err->code = 0;
	err->text[0] = '\0';
}
