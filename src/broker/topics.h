/*
 * topics.h — the broker's topics: names, partitions, per-topic configuration, and the
 * on-disk layout that makes them survive restarts.
 *
 * Layout under the topics directory (<data>/broker/topics):
 *   <dir>/<topic>/topic.json     {"name", "id", "partitions", "configs": {k: v}}
 *   <dir>/<topic>/<partition>/   one broker_log each (log.h)
 * topic.json is replaced atomically (write, fsync, rename, fsync the directory), so a
 * crash leaves either the old or the new description. Partition directories are created
 * before topic.json names them; extra directories from an interrupted CreatePartitions
 * are ignored.
 *
 * Configuration: Kafka's topic config names (cleanup.policy, retention.ms, ...). Each
 * topic stores only its explicit overrides; the rest come from the broker defaults.
 * Everything runs on the broker loop's thread.
 */
#ifndef BROOK_BROKER_TOPICS_H
#define BROOK_BROKER_TOPICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log.h"
#include "core/uuid.h"

#define BROKER_TOPIC_NAME_MAX 249

typedef struct broker_topic broker_topic;

typedef struct broker_partition {
	broker_topic *topic;
	int32_t index;
	broker_log *log;
	void *waiters; /* the broker's list of fetches waiting for data here */
} broker_partition;

/* A topic config override: Kafka name and value text. */
typedef struct broker_topic_kv {
	const char *name;
	const char *value; /* NULL: remove the override (AlterConfigs) */
} broker_topic_kv;

struct broker_topic {
	char *name;
	brook_uuid id;
	int32_t npartitions;
	broker_partition **parts;
	broker_log_config cfg; /* effective: defaults + overrides */
	size_t noverrides;
	char **override_names, **override_values;
	bool internal; /* __consumer_offsets */
};

typedef struct broker_topics broker_topics;

/* Opens every topic found under dir (recovering their logs). */
broker_topics *broker_topics_open(const char *dir, const broker_log_config *defaults, char *err,
				  size_t errlen);
void broker_topics_close(broker_topics *t);

broker_topic *broker_topics_get(broker_topics *t, const char *name, size_t len);
size_t broker_topics_count(const broker_topics *t);
broker_topic *broker_topics_at(broker_topics *t, size_t i); /* in name order */

/* Kafka's rules: 1..249 characters of [a-zA-Z0-9._-], not "." or "..". */
bool broker_topic_name_valid(const char *name, size_t len);

/* The Kafka ErrorCode results carry a message for the response's error_message. */
int16_t broker_topics_create(broker_topics *t, const char *name, int32_t partitions,
			     const broker_topic_kv *configs, size_t nconfigs, bool validate_only,
			     broker_topic **out, char *msg, size_t msglen);
int16_t broker_topics_delete(broker_topics *t, const char *name, char *msg, size_t msglen);
int16_t broker_topics_add_partitions(broker_topics *t, broker_topic *topic, int32_t total,
				     bool validate_only, char *msg, size_t msglen);
/* Replace (incremental = false: all overrides become `configs`) or patch overrides. */
int16_t broker_topics_set_configs(broker_topics *t, broker_topic *topic,
				  const broker_topic_kv *configs, size_t n, bool validate_only,
				  char *msg, size_t msglen);

/* Config names brook knows, their effective value for a topic (or the default when
 * topic is NULL), and whether the topic overrides it. Returns false for unknown names. */
size_t broker_topic_config_count(void);
const char *broker_topic_config_name(size_t i);
bool broker_topic_config_get(const broker_topic *topic, const broker_log_config *defaults,
			     const char *name, char *value, size_t vlen, bool *is_override);

#endif
