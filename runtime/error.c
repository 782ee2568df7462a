/*
 * error.c: error messages and the FNV-1a hash shared by params.c and jit.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "symgrad.h"

/* Formats a message into *err; returns -1. */
int sg_errorf(sg_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* Prints the message to stderr: as it is when it already says where
 * ("file:line:col: error: ..." on its first line), else after
 * "symgrad: error: ". */
void sg_error_print(const sg_error *err)
{
	const char *at = strstr(err->msg, ": error: ");
	const char *nl = strchr(err->msg, '\n');

	if (at && (!nl || at < nl))
		fprintf(stderr, "%s\n", err->msg);
	else
		fprintf(stderr, "symgrad: error: %s\n", err->msg);
}

/* FNV-1a 64 over n bytes, continuing from h. */
uint64_t sg_fnv1a(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3u;
	}
	return h;
}
