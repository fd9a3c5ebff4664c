/* SPDX-License-Identifier: Apache-2.0 */
#include "base/err.h"

#include <limits.h>
#include <string.h>

#include "base/compiler.h"

/*
 * glibc 2.32+ has strerrordesc_np/strerrorname_np: they return static strings or NULL and never
 * write shared state, unlike strerror, which formats unknown codes into a static buffer.
 */
#ifdef __GLIBC__
#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32)
#define ERR_HAVE_STRERRORDESC_NP 1
#endif
#endif

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

/*
 * errno names for the codes this project returns, so names are the same on every libc; other
 * codes fall back to the libc's own name table where there is one.
 */
static const struct err_entry errno_table[] = {
	{EPERM, "EPERM", NULL},
	{ENOENT, "ENOENT", NULL},
	{EINTR, "EINTR", NULL},
	{EIO, "EIO", NULL},
	{EBADF, "EBADF", NULL},
	{EAGAIN, "EAGAIN", NULL},
	{ENOMEM, "ENOMEM", NULL},
	{EACCES, "EACCES", NULL},
	{EBUSY, "EBUSY", NULL},
	{EEXIST, "EEXIST", NULL},
	{ENOTDIR, "ENOTDIR", NULL},
	{EISDIR, "EISDIR", NULL},
	{EINVAL, "EINVAL", NULL},
	{EFBIG, "EFBIG", NULL},
	{ENOSPC, "ENOSPC", NULL},
	{EPIPE, "EPIPE", NULL},
	{ERANGE, "ERANGE", NULL},
	{ENAMETOOLONG, "ENAMETOOLONG", NULL},
	{ENOSYS, "ENOSYS", NULL},
	{ELOOP, "ELOOP", NULL},
	{ENODATA, "ENODATA", NULL},
	{EPROTO, "EPROTO", NULL},
	{EBADMSG, "EBADMSG", NULL},
	{EOVERFLOW, "EOVERFLOW", NULL},
	{EMSGSIZE, "EMSGSIZE", NULL},
	{ENOTSUP, "ENOTSUP", NULL},
	{EADDRINUSE, "EADDRINUSE", NULL},
	{ENETDOWN, "ENETDOWN", NULL},
	{ENETUNREACH, "ENETUNREACH", NULL},
	{ECONNABORTED, "ECONNABORTED", NULL},
	{ECONNRESET, "ECONNRESET", NULL},
	{ENOBUFS, "ENOBUFS", NULL},
	{ENOTCONN, "ENOTCONN", NULL},
	{ETIMEDOUT, "ETIMEDOUT", NULL},
	{ECONNREFUSED, "ECONNREFUSED", NULL},
	{EHOSTUNREACH, "EHOSTUNREACH", NULL},
	{EALREADY, "EALREADY", NULL},
	{EINPROGRESS, "EINPROGRESS", NULL},
	{ESTALE, "ESTALE", NULL},
	{ECANCELED, "ECANCELED", NULL},
};

/* |code| without overflow: INT_MIN has no positive int, and no table holds it anyway. */
static int
err_abs(int code)
{
	if (code == INT_MIN) {
		return -1;
	}
	return code < 0 ? -code : code;
}

static const struct err_entry *
err_lookup(const struct err_entry *table, size_t count, int c)
{
	for (size_t i = 0; i < count; i++) {
		if (table[i].code == c) {
			return &table[i];
		}
	}
	return NULL;
}

const char *
base_strerror(int code)
{
	int c = err_abs(code);
	const struct err_entry *e = err_lookup(err_table, AE_ARRAY_SIZE(err_table), c);
	const char *text = NULL;

	if (c == 0) {
		return "success";
	}
	if (e != NULL) {
		return e->text;
	}
	if (c > 0 && c < BASE_ERR_FIRST) {
#ifdef ERR_HAVE_STRERRORDESC_NP
		text = strerrordesc_np(c);
#else
		/* Other libcs: strerror returns static text for the codes they know. */
		text = strerror(c);
#endif
	}
	return text != NULL ? text : "unknown error";
}

const char *
base_errname(int code)
{
	int c = err_abs(code);
	const struct err_entry *e = err_lookup(err_table, AE_ARRAY_SIZE(err_table), c);
	const char *name = NULL;

	if (c == 0) {
		return "OK";
	}
	if (e == NULL) {
		e = err_lookup(errno_table, AE_ARRAY_SIZE(errno_table), c);
	}
	if (e != NULL) {
		return e->name;
	}
#ifdef ERR_HAVE_STRERRORDESC_NP
	if (c > 0 && c < BASE_ERR_FIRST) {
		name = strerrorname_np(c);
	}
#endif
	return name != NULL ? name : "E?";
}
