/*
 * arena.h — a bump allocator for memory that dies all at once (one request, one batch).
 *
 * Allocations come from chunks that grow geometrically; nothing is freed individually;
 * brook_arena_reset() keeps the newest (largest) chunk for reuse and brook_arena_release() frees
 * everything. Out of memory aborts (core/mem.h). Alignment is that of max_align_t.
 */
#ifndef BROOK_CORE_ARENA_H
#define BROOK_CORE_ARENA_H

#include <stddef.h>

typedef struct brook_arena_chunk brook_arena_chunk;

typedef struct brook_arena {
	brook_arena_chunk *head; /* newest chunk first */
	size_t first_size;       /* size of the first chunk; 0: 4096 */
	size_t total;            /* bytes handed out, for limits and metrics */
} brook_arena;

#define BROOK_ARENA_INIT {NULL, 0, 0}

void *brook_arena_alloc(brook_arena *a, size_t n);  /* uninitialised */
void *brook_arena_calloc(brook_arena *a, size_t n); /* zeroed */
char *brook_arena_strndup(brook_arena *a, const char *s, size_t n);
void brook_arena_reset(brook_arena *a);
void brook_arena_release(brook_arena *a);

#endif
