#include "core/rd.h"

#include <stdarg.h>
#include <stdio.h>

void brook_rd_init(brook_rd *rd, const void *data, size_t len)
{
	static const uint8_t empty[1];
	if (!data) /* NULL + 0 is undefined behaviour; an empty input reads from here */
		data = empty, len = 0;
	rd->start = data;
	rd->p = data;
	rd->end = rd->p + len;
	rd->err[0] = '\0';
	rd->failed = false;
}

void brook_rd_fail(brook_rd *rd, const char *fmt, ...)
{
	if (rd->failed)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rd->err, sizeof rd->err, fmt, ap);
	va_end(ap);
	rd->failed = true;
	rd->p = rd->end;
}

bool brook_rd_need(brook_rd *rd, size_t n, const char *what)
{
	if (rd->failed)
		return false;
	if (brook_rd_left(rd) < n) {
		brook_rd_fail(rd, "%s at byte %zu needs %zu bytes, %zu left", what, brook_rd_pos(rd),
			      n, brook_rd_left(rd));
		return false;
	}
	return true;
}

uint64_t brook_rd_be(brook_rd *rd, size_t n, const char *what)
{
	if (!brook_rd_need(rd, n, what))
		return 0;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | rd->p[i];
	rd->p += n;
	return v;
}

const uint8_t *brook_rd_take(brook_rd *rd, size_t n, const char *what)
{
	if (!brook_rd_need(rd, n, what))
		return NULL;
	const uint8_t *p = rd->p;
	rd->p += n;
	return p;
}
