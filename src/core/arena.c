#include "core/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

struct brook_arena_chunk {
	brook_arena_chunk *next;
	size_t size;
	alignas(max_align_t) unsigned char data[];
};

#define ALIGN (alignof(max_align_t))

/* n does not fit in the newest chunk's free space (or is 0): a new chunk, the double of
 * the newest (or first_size), or n's size if that is more. */
void *brook_arena_alloc_chunk(brook_arena *a, size_t n)
{
	size_t need = (n + ALIGN - 1) & ~(ALIGN - 1);
	if (need < n)
		abort(); /* overflow: a caller bug, sizes are bounded before we get here */
	if (n == 0 && a->head)
		return a->ptr; /* a valid pointer, for nothing */
	brook_arena_chunk *c = a->head;
	size_t size = a->first_size ? a->first_size : 4096;
	if (c && c->size * 2 > size)
		size = c->size * 2;
	if (size < need)
		size = need;
	c = brook_malloc(sizeof *c + size);
	c->size = size;
	c->next = a->head;
	a->head = c;
	a->ptr = c->data + need;
	a->left = size - need;
	a->total += n;
	return c->data;
}

void *brook_arena_calloc(brook_arena *a, size_t n)
{
	void *p = brook_arena_alloc(a, n);
	memset(p, 0, n);
	return p;
}

char *brook_arena_strndup(brook_arena *a, const char *s, size_t n)
{
	char *p = brook_arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void free_chunks(brook_arena_chunk *c)
{
	while (c) {
		brook_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
}

void brook_arena_reset(brook_arena *a)
{
	brook_arena_chunk *c = a->head;
	if (!c)
		return;
	/* Keep the newest chunk, the largest: an arena reset once per batch soon holds a
	 * batch in one chunk and stops calling malloc at all. Free the older ones. */
	free_chunks(c->next);
	c->next = NULL;
	a->ptr = c->data;
	a->left = c->size;
	a->total = 0;
}

void brook_arena_release(brook_arena *a)
{
	free_chunks(a->head);
	a->head = NULL;
	a->ptr = NULL;
	a->left = 0;
	a->total = 0;
}
