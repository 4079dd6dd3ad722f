/*
 * bloom.c — partition-key bloom filter (see bloom.h for the format).
 */
#include "store/bloom.h"

#include <stdlib.h>

#include "core/err.h"
#include "core/mem.h"
#include "store/murmur3.h"

#define BLOOM_MAX_WORDS (1u << 26) /* 512 MiB of filter: far above any sane table */

void store_bloom_init(store_bloom *b, uint64_t nkeys)
{
	uint64_t bits = nkeys * 10 + 64;
	uint64_t words = (bits + 63) / 64;
	if (words > BLOOM_MAX_WORDS)
		words = BLOOM_MAX_WORDS;
	b->nwords = (uint32_t)words;
	b->k = 7;
	b->words = brook_calloc(b->nwords, sizeof(uint64_t));
}

void store_bloom_release(store_bloom *b)
{
	free(b->words);
	b->words = NULL;
	b->nwords = 0;
}

void store_bloom_add(store_bloom *b, const void *key, size_t len)
{
	uint64_t h[2], nbits = (uint64_t)b->nwords * 64;
	store_murmur3_x64_128(key, len, 0, h);
	for (uint32_t i = 0; i < b->k; i++) {
		uint64_t bit = (h[0] + i * h[1]) % nbits;
		b->words[bit / 64] |= 1ULL << (bit % 64);
	}
}

int store_bloom_maybe(const store_bloom *b, const void *key, size_t len)
{
	uint64_t h[2], nbits = (uint64_t)b->nwords * 64;
	if (nbits == 0)
		return 1;
	store_murmur3_x64_128(key, len, 0, h);
	for (uint32_t i = 0; i < b->k; i++) {
		uint64_t bit = (h[0] + i * h[1]) % nbits;
		if (!(b->words[bit / 64] & (1ULL << (bit % 64))))
			return 0;
	}
	return 1;
}

void store_bloom_encode(const store_bloom *b, brook_buf *out)
{
	brook_buf_put_be32(out, b->k);
	brook_buf_put_be32(out, b->nwords);
	for (uint32_t i = 0; i < b->nwords; i++)
		brook_buf_put_be64(out, b->words[i]);
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

int store_bloom_decode(store_bloom *b, const uint8_t *p, size_t n)
{
	b->words = NULL;
	b->nwords = 0;
	if (n < 8)
		return BROOK_ERR;
	uint32_t k = (uint32_t)get_be(p, 4), nw = (uint32_t)get_be(p + 4, 4);
	if (k == 0 || k > 32 || nw == 0 || nw > BLOOM_MAX_WORDS || (n - 8) / 8 != nw ||
	    (n - 8) % 8 != 0)
		return BROOK_ERR;
	b->k = k;
	b->nwords = nw;
	b->words = brook_malloc((size_t)nw * 8);
	for (uint32_t i = 0; i < nw; i++)
		b->words[i] = get_be(p + 8 + (size_t)i * 8, 8);
	return BROOK_OK;
}
