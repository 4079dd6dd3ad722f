/*
 * mem.h — allocation with one out-of-memory policy for all of brook.
 *
 * Policy: running out of memory is not recovered from. Every allocation in brook goes
 * through these wrappers, which print one line and abort() when malloc fails (like
 * librdkafka's rd_malloc). Callers therefore never check for NULL. Limits on what a
 * peer may make us allocate are enforced before allocating, by the parsers.
 */
#ifndef BROOK_CORE_MEM_H
#define BROOK_CORE_MEM_H

#include <stddef.h>

void *brook_malloc(size_t n);
void *brook_calloc(size_t count, size_t n);
void *brook_realloc(void *p, size_t n);
char *brook_strdup(const char *s);
char *brook_strndup(const char *s, size_t n);

#endif
