/*
 * bloom.h — a bloom filter on partition keys, stored inside sstables.
 *
 * Bits are set by double hashing the two halves of the key's MurmurHash3 x64 128
 * (seed 0): bit_i = (h1 + i*h2) mod nbits for i in [0, k). ~10 bits per key and k = 7
 * give about 1% false positives. The serialized form is u32 BE k, u32 BE nwords, then
 * nwords u64 BE words; store_bloom_decode() validates it against the bytes given.
 */
#ifndef BROOK_STORE_BLOOM_H
#define BROOK_STORE_BLOOM_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct store_bloom {
	uint64_t *words;
	uint32_t nwords;
	uint32_t k;
} store_bloom;

/* Sized for n keys; free with store_bloom_release(). */
void store_bloom_init(store_bloom *b, uint64_t nkeys);
void store_bloom_release(store_bloom *b);
void store_bloom_add(store_bloom *b, const void *key, size_t len);
/* 0: definitely absent; 1: maybe present. */
int store_bloom_maybe(const store_bloom *b, const void *key, size_t len);
void store_bloom_encode(const store_bloom *b, brook_buf *out);
/* BROOK_OK or BROOK_ERR (malformed); on success b owns a copy of the words. */
int store_bloom_decode(store_bloom *b, const uint8_t *p, size_t n);

#endif
