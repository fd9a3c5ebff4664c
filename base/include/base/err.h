/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error codes (STYLE.md section 4).
 *
 * Every fallible function returns 0 or a negative number: either a negative errno (-EINVAL,
 * -ENOBUFS, -EBADMSG, ...) or a negative project code from the table below. Project codes are
 * >= 4096 so they never collide with errno values. There is no global error state.
 *
 * base_strerror() turns any such code (negative or positive) into a stable one-line text.
 */
#ifndef AETHER_BASE_ERR_H
#define AETHER_BASE_ERR_H

#include <errno.h>

/*
 * X(name, value, text): project codes that no errno describes. Append only; values are part of
 * the operator protocol and of logs.
 */
#define BASE_ERR_TABLE(X)                                                    \
	X(BASE_ERR_SYNTAX, 4096, "syntax error")                             \
	X(BASE_ERR_TOO_LONG, 4097, "value too long")                         \
	X(BASE_ERR_BAD_CHAR, 4098, "character not allowed here")             \
	X(BASE_ERR_EMPTY, 4099, "empty value or segment")                    \
	X(BASE_ERR_RANGE, 4100, "number out of range")                       \
	X(BASE_ERR_FULL, 4101, "fixed-capacity container is full")           \
	X(BASE_ERR_TRUNCATED, 4102, "input ends before the declared length") \
	X(BASE_ERR_TRAILING, 4103, "unexpected bytes after the end")         \
	X(BASE_ERR_UNKNOWN_FAMILY, 4104, "unknown key family")               \
	X(BASE_ERR_NO_MATCH, 4105, "nothing matches")                        \
	X(BASE_ERR_VERSION, 4106, "unsupported version")                     \
	X(BASE_ERR_SEALED, 4107, "allocation after seal")                    \
	X(BASE_ERR_CHECKSUM, 4108, "checksum mismatch")                      \
	X(BASE_ERR_PROTOCOL, 4109, "protocol violation")

enum base_err {
#define BASE_ERR_ENUM(name, value, text) name = (value),
	BASE_ERR_TABLE(BASE_ERR_ENUM)
#undef BASE_ERR_ENUM
		BASE_ERR_FIRST = 4096,
};

/*
 * The text for an error code; accepts -code or code. Returns a static string, never NULL:
 * project codes come from the table, errno values from strerror's table, anything else
 * "unknown error". Any thread may call it (it never writes shared state).
 */
const char *base_strerror(int code);

/* The symbolic name ("EINVAL", "BASE_ERR_SYNTAX") of a code, or "E?" when unknown. */
const char *base_errname(int code);

#endif /* AETHER_BASE_ERR_H */
