/*
 * murmur3.h — Cassandra's Murmur3Partitioner hash and token.
 *
 * store_murmur3_x64_128() is MurmurHash3 x64 128-bit exactly as Cassandra's
 * org.apache.cassandra.utils.MurmurHash.hash3_x64_128 computes it, including its quirk:
 * the tail bytes (length % 16) are sign-extended before mixing (Java bytes are signed),
 * so results differ from the reference C implementation for tails with bytes >= 0x80.
 * store_token() is the partitioner's token: the first 64-bit half, with INT64_MIN
 * mapped to INT64_MAX (Cassandra reserves Long.MIN_VALUE as the minimum token).
 * Example: the token of the CQL int 1 (bytes 00 00 00 01) is -4069959284402364209.
 */
#ifndef BROOK_STORE_MURMUR3_H
#define BROOK_STORE_MURMUR3_H

#include <stddef.h>
#include <stdint.h>

void store_murmur3_x64_128(const void *data, size_t len, uint64_t seed, uint64_t out[2]);
int64_t store_token(const void *key, size_t len);

#endif
