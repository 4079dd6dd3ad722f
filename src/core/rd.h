/*
 * rd.h — a bounded big-endian reader with a sticky error, the base of every binary
 * protocol decoder in brook (Kafka, CQL).
 *
 * Every read checks the bytes left first. The first failure records a message naming
 * what was being read and at which byte offset, moves the cursor to the end and makes
 * every later read return 0/NULL, so a decoder can read a whole structure and check
 * `failed` once (STYLE.md habit 7). Nothing here allocates.
 */
#ifndef BROOK_CORE_RD_H
#define BROOK_CORE_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct brook_rd {
	const uint8_t *p, *end;
	const uint8_t *start; /* for byte offsets in messages */
	char err[160];
	bool failed;
} brook_rd;

/* data may be NULL when len is 0. */
void brook_rd_init(brook_rd *rd, const void *data, size_t len);
/* Sets the sticky error (the first one wins) and stops reading. */
void brook_rd_fail(brook_rd *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline size_t brook_rd_left(const brook_rd *rd)
{
	return (size_t)(rd->end - rd->p);
}
static inline size_t brook_rd_pos(const brook_rd *rd)
{
	return (size_t)(rd->p - rd->start);
}
/* Room for n bytes of `what`? Otherwise fails (sticky) and returns false. */
bool brook_rd_need(brook_rd *rd, size_t n, const char *what);
/* An n-byte (1..8) big-endian unsigned integer, or 0 after a failure. */
uint64_t brook_rd_be(brook_rd *rd, size_t n, const char *what);
/* A view of the next n bytes, or NULL after a failure. */
const uint8_t *brook_rd_take(brook_rd *rd, size_t n, const char *what);

#endif
