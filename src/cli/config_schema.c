/*
 * config_schema.c — every configuration table brook knows, registered in one place.
 *
 * Components own their tables (next to the code that reads them); this file only
 * lists them. Shared endpoint keys (where each part finds the others) and the
 * sections of parts not built yet live here until their component takes them over.
 */
#include "broker/broker.h"
#include "cli/cli.h"
#include "connect/api.h"
#include "pg/cluster.h"
#include "registry/api.h"
#include "scheduler/scheduler.h"
#include "source/client.h"
#include "source/randomuser_server.h"
#include "store/server.h"
#include "stream/stream.h"
#include "up/up.h"

static const brook_cfg_key shared_keys[] = {
	{"data", BROOK_CFG_STR, "./var", "data directory; each part keeps its files below it", NULL},
	{"log.level", BROOK_CFG_STR, "info", "least severe log level shown",
	 "debug|info|warn|error|off"},
	{"log.format", BROOK_CFG_STR, "text", "log line format", "text|json"},
	/* Where each part finds the others: brook's embedded servers by default, or the
	 * real systems when users outgrow one machine. */
	{"kafka.bootstrap", BROOK_CFG_STR, "127.0.0.1:9092",
	 "Kafka bootstrap servers (brook broker or a Kafka cluster)", NULL},
	{"registry.url", BROOK_CFG_STR, "http://127.0.0.1:8081",
	 "Schema Registry URL (brook registry or Confluent Schema Registry)", NULL},
	{"cassandra.contact_points", BROOK_CFG_LIST, "127.0.0.1:9042",
	 "CQL contact points (brook store or a Cassandra/ScyllaDB cluster)", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

void brook_cli_register_config(brook_config *cfg)
{
	brook_config_register(cfg, shared_keys);
	brook_config_register(cfg, source_config_keys);
	brook_config_register(cfg, randomuser_config_keys);
	brook_config_register(cfg, broker_config_keys);
	brook_config_register(cfg, store_config_keys);
	brook_config_register(cfg, pg_config_keys);
	brook_config_register(cfg, scheduler_config_keys);
	brook_config_register(cfg, registry_config_keys);
	brook_config_register(cfg, connect_config_keys);
	brook_config_register(cfg, stream_config_keys);
	brook_config_register(cfg, up_config_keys);
}
