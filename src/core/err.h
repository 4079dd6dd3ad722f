/*
 * err.h — the return-code vocabulary shared by brook's modules.
 *
 * Functions that can fail return int: BROOK_OK (0) on success, BROOK_ERR on failure
 * (with a human message written to a caller-supplied `char *err, size_t errlen` where
 * the API has one), BROOK_AGAIN when a resumable parser needs more bytes or an
 * operation should be retried later. Protocol-level errors (Kafka ErrorCode, CQL error
 * codes, HTTP statuses) are carried separately by the modules that speak them.
 */
#ifndef BROOK_CORE_ERR_H
#define BROOK_CORE_ERR_H

enum {
	BROOK_OK = 0,
	BROOK_ERR = -1,
	BROOK_AGAIN = -2,
};

#endif
