/*
 * crc32c.h — CRC-32C (Castagnoli), as used by Kafka record batches.
 *
 * Uses the SSE4.2 crc32 instruction when the CPU has it, slicing-by-8 otherwise;
 * both give identical results. Incremental: pass the previous result as `crc`
 * (0 to start). brook_crc32c(0, "123456789", 9) == 0xE3069283.
 */
#ifndef BROOK_CORE_CRC32C_H
#define BROOK_CORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t brook_crc32c(uint32_t crc, const void *data, size_t n);
/* The portable implementation, always; for tests and benchmarks. */
uint32_t brook_crc32c_sw(uint32_t crc, const void *data, size_t n);
/* 1 when brook_crc32c() uses the CPU's crc32 instruction, else 0. */
int brook_crc32c_hw_available(void);

#endif
