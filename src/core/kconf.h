/*
 * kconf.h — librdkafka client configuration as brook's clients (connector, registry
 * log, stream processor) build it: settings from a NULL-terminated list of key, value
 * pairs, and librdkafka's own log lines routed into brook's log.
 *
 * librdkafka's log levels are syslog's; errors (≤ 4) become warnings here, since the
 * client code decides what is an error and says so itself; notices and info stay info
 * (≤ 6), the rest is debug. Lines have the component "kafka" and start with the
 * client's name (its client.id: set one that says who it is).
 */
#ifndef BROOK_CORE_KCONF_H
#define BROOK_CORE_KCONF_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* kv: "key", "value", ..., NULL. opaque: rd_kafka_opaque() of the client (may be NULL).
 * NULL with "WHAT setting KEY=VALUE: reason" in err. */
rd_kafka_conf_t *brook_kafka_conf(const char *const *kv, void *opaque, const char *what,
				  char *err, size_t errlen);

#endif
