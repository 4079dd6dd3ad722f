#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
	fprintf(stderr, "brook: out of memory allocating %zu bytes; aborting\n", n);
	abort();
}

void *brook_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *brook_calloc(size_t count, size_t n)
{
	void *p = calloc(count ? count : 1, n ? n : 1);
	if (!p)
		oom(count * n);
	return p;
}

void *brook_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *brook_strndup(const char *s, size_t n)
{
	char *p = brook_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *brook_strdup(const char *s)
{
	return brook_strndup(s, strlen(s));
}
