/*
 * common.c — what every program in bench/ shares (common.h).
 */
#include "common.h"

#include <errno.h> /* program_invocation_short_name (_GNU_SOURCE) */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", program_invocation_short_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}
