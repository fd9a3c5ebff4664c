/* SPDX-License-Identifier: Apache-2.0 */
#include "base/err.h"

#include <string.h>

struct err_entry {
	int code;
	const char *name;
	const char *text;
};

static const struct err_entry err_table[] = {
#define ERR_ENTRY(name, value, text) {(value), #name, (text)},
	BASE_ERR_TABLE(ERR_ENTRY)
#undef ERR_ENTRY
};

/* errno names for the codes this project returns; others print their number via strerror. */
static const struct err_entry errno_table[] = {
	{EPERM, "EPERM", NULL},		{ENOENT, "ENOENT", NULL},   {EIO, "EIO", NULL},
	{EBADF, "EBADF", NULL},		{EAGAIN, "EAGAIN", NULL},   {ENOMEM, "ENOMEM", NULL},
	{EACCES, "EACCES", NULL},	{EEXIST, "EEXIST", NULL},   {EINVAL, "EINVAL", NULL},
	{ENOSPC, "ENOSPC", NULL},	{ERANGE, "ERANGE", NULL},   {ENAMETOOLONG, "ENAMETOOLONG", NULL},
	{ENOBUFS, "ENOBUFS", NULL},	{EBADMSG, "EBADMSG", NULL}, {ETIMEDOUT, "ETIMEDOUT", NULL},
	{EOVERFLOW, "EOVERFLOW", NULL}, {ELOOP, "ELOOP", NULL},	    {EPROTO, "EPROTO", NULL},
	{ENOTSUP, "ENOTSUP", NULL},	{EFBIG, "EFBIG", NULL},	    {ECONNREFUSED, "ECONNREFUSED", NULL},
	{EADDRINUSE, "EADDRINUSE", NULL}, {EALREADY, "EALREADY", NULL}, {ECANCELED, "ECANCELED", NULL},
	{EBUSY, "EBUSY", NULL},		{ENODATA, "ENODATA", NULL}, {ESTALE, "ESTALE", NULL},
};

static int
err_abs(int code)
{
	return code < 0 ? -code : code;
}

const char *
base_strerror(int code)
{
	int c = err_abs(code);

	if (c == 0) {
		return "success";
	}
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++) {
		if (err_table[i].code == c) {
			return err_table[i].text;
		}
	}
	if (c < BASE_ERR_FIRST) {
		/* glibc's strerror returns pointers into a static table for known codes. */
		return strerror(c);
	}
	return "unknown error";
}

const char *
base_errname(int code)
{
	int c = err_abs(code);

	if (c == 0) {
		return "OK";
	}
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++) {
		if (err_table[i].code == c) {
			return err_table[i].name;
		}
	}
	for (size_t i = 0; i < sizeof(errno_table) / sizeof(errno_table[0]); i++) {
		if (errno_table[i].code == c) {
			return errno_table[i].name;
		}
	}
	return "E?";
}
