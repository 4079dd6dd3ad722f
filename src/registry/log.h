/*
 * log.h — where the Schema Registry keeps its state: an ordered, durable log of
 * Confluent's `_schemas` records (JSON key, JSON value or tombstone), as in Confluent
 * Schema Registry. Two implementations: the Kafka one (log_kafka.c: topic `_schemas`,
 * one partition, cleanup.policy=compact, on brook's broker or a real Kafka, through
 * librdkafka) and an in-memory one (log_memory.c: for unit tests).
 *
 * Model: every registry process reads the whole log from the beginning at start and
 * then follows it, handing each record, in log order, to its state machine (store.h).
 * A write appends a record and then waits until the reader has applied that offset,
 * so a registry answers a write only from state that includes it, and two registries
 * on one log apply the same records in the same order and agree. Conflicts between
 * registries writing at once (two schemas given the same new id) are settled by that
 * order: the state machine accepts the first record and ignores the second, and the
 * writer of the second sees its record was not accepted and tries again.
 *
 * Threads: the log runs its own reader thread, which calls `apply` for each record;
 * append and wait may be called from any thread.
 */
#ifndef BROOK_REGISTRY_LOG_H
#define BROOK_REGISTRY_LOG_H

#include <stddef.h>
#include <stdint.h>

/* Called on the reader thread for each record in log order. value NULL: a tombstone. */
typedef void (*reg_apply_fn)(void *arg, int64_t offset, const char *key, size_t klen,
			     const char *value, size_t vlen);

typedef struct reg_log reg_log;

typedef struct reg_log_ops {
	/* Start reading from the beginning; returns once every record present at start
	 * has been applied (the registry is then "ready"). BROOK_OK / BROOK_ERR. */
	int (*start)(reg_log *l, reg_apply_fn apply, void *arg, char *err, size_t errlen);
	/* Append one record durably (acks=all); *offset is its offset. */
	int (*append)(reg_log *l, const char *key, size_t klen, const char *value, size_t vlen,
		      int64_t *offset, char *err, size_t errlen);
	/* Wait until the record at offset has been applied, at most timeout_ms.
	 * BROOK_OK, or BROOK_AGAIN on timeout. */
	int (*wait_applied)(reg_log *l, int64_t offset, int64_t timeout_ms);
	void (*close)(reg_log *l); /* stops the reader thread and frees */
} reg_log_ops;

struct reg_log {
	const reg_log_ops *ops;
};

/* The in-memory log (tests): records live in the process. */
reg_log *reg_log_memory_new(void);

/* The Kafka log: bootstrap "host:port[,host:port]", topic (default "_schemas"),
 * created when missing (1 partition, replication factor = min(3, brokers),
 * cleanup.policy=compact). NULL with a message when the cluster cannot be reached
 * within timeout_ms. */
reg_log *reg_log_kafka_new(const char *bootstrap, const char *topic, int64_t timeout_ms,
			   char *err, size_t errlen);

#endif
