/* kconf.c — librdkafka configuration with brook's logging (kconf.h). */
#include <stdio.h>

#include "core/kconf.h"
#include "core/log.h"

static void kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	brook_log(level <= 4 ? BROOK_LOG_WARN : level <= 6 ? BROOK_LOG_INFO : BROOK_LOG_DEBUG,
		  "kafka", "%s %s: %s", rd_kafka_name(rk), fac, buf);
}

rd_kafka_conf_t *brook_kafka_conf(const char *const *kv, void *opaque, const char *what,
				  char *err, size_t errlen)
{
	char e[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	for (size_t i = 0; kv[i] && kv[i + 1]; i += 2) {
		if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], e, sizeof e) != RD_KAFKA_CONF_OK) {
			snprintf(err, errlen, "%s setting %s=%s: %s", what, kv[i], kv[i + 1], e);
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	rd_kafka_conf_set_log_cb(conf, kafka_log);
	rd_kafka_conf_set_opaque(conf, opaque);
	return conf;
}
