/*
 * arena.h — a bump allocator for memory that dies all at once (one request, one batch).
 *
 * Allocations come from chunks that grow geometrically; nothing is freed individually;
 * brook_arena_reset() keeps the newest (largest) chunk for reuse and brook_arena_release() frees
 * everything. Out of memory aborts (core/mem.h). Alignment is that of max_align_t.
 *
 * The newest chunk's free space is ptr[0..left): an allocation that fits is a few
 * instructions inline (parsers allocate a node per value); one that does not takes a
 * new chunk out of line.
 */
#ifndef BROOK_CORE_ARENA_H
#define BROOK_CORE_ARENA_H

#include <stdalign.h>
#include <stddef.h>

typedef struct brook_arena_chunk brook_arena_chunk;

typedef struct brook_arena {
	brook_arena_chunk *head; /* newest chunk first */
	size_t first_size;       /* size of the first chunk; 0: 4096 */
	size_t total;            /* bytes handed out, for limits and metrics */
	unsigned char *ptr;      /* the newest chunk's free space */
	size_t left;
} brook_arena;

#define BROOK_ARENA_INIT {NULL, 0, 0, NULL, 0}

void *brook_arena_alloc_chunk(brook_arena *a, size_t n); /* the out-of-line part */

static inline void *brook_arena_alloc(brook_arena *a, size_t n) /* uninitialised */
{
	size_t need = (n + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
	if (need - 1 >= a->left) /* also n == 0, and an n so large that need wrapped to 0 */
		return brook_arena_alloc_chunk(a, n);
	void *p = a->ptr;
	a->ptr += need;
	a->left -= need;
	a->total += n;
	return p;
}

void *brook_arena_calloc(brook_arena *a, size_t n); /* zeroed */
char *brook_arena_strndup(brook_arena *a, const char *s, size_t n);
void brook_arena_reset(brook_arena *a);
void brook_arena_release(brook_arena *a);

#endif
