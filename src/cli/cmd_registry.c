/* brook registry — the Schema Registry (Confluent's REST API, state in `_schemas`). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/err.h"
#include "core/httpd.h"
#include "core/log.h"
#include "core/mem.h"
#include "registry/api.h"
#include "registry/log.h"
#include "registry/store.h"

#define COMP               "registry"
#define CONNECT_TIMEOUT_MS 30000

static const brook_cli_opt opts[] = {
	{"listen", 0, "HOST:PORT", "registry.listen", NULL},
	{"bootstrap", 0, "HOST:PORT", "kafka.bootstrap", NULL},
	{"data", 0, "DIR", "data", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

static const brook_cli_spec spec = {
	.name = "registry",
	.usage = "[--listen HOST:PORT] [--bootstrap HOST:PORT] [--config FILE] "
		 "[--set KEY=VALUE]...",
	.summary =
		"Run the Schema Registry: Confluent Schema Registry's REST API (subjects,\n"
		"versions, global schema ids, compatibility checks and levels, soft and\n"
		"permanent deletes) for Avro schemas, so Confluent clients and serializers\n"
		"work unchanged. Its state is a log of Confluent's records in a compacted\n"
		"topic (registry.topic, `_schemas`) on the broker at --bootstrap (brook's or a\n"
		"real Kafka): it survives restarts, and several registries on one topic agree\n"
		"on every id. --data is accepted and unused: nothing is kept on local disk.",
	.opts = opts,
	.max_args = 0,
};

typedef struct reg_server {
	reg_log *log;
	reg_store *st;
	reg_api *api;
	char *host;
	char *bootstrap;
	char *topic;
} reg_server;

static void *open_server(const brook_config *cfg, char *err, size_t errlen)
{
	const char *listen = brook_config_str(cfg, "registry.listen");
	const char *bootstrap = brook_config_str(cfg, "kafka.bootstrap");
	const char *topic = brook_config_str(cfg, "registry.topic");
	char *host = NULL;
	int port;

	if (!listen || brook_parse_hostport(listen, &host, &port) != BROOK_OK) {
		snprintf(err, errlen, "registry.listen must be HOST:PORT, not '%s'",
			 listen ? listen : "");
		return NULL;
	}
	if (!bootstrap || !*bootstrap) {
		snprintf(err, errlen, "kafka.bootstrap is empty: give --bootstrap HOST:PORT");
		free(host);
		return NULL;
	}
	if (!topic || !*topic)
		topic = "_schemas";
	reg_server *srv = brook_calloc(1, sizeof *srv);
	srv->host = host;
	srv->bootstrap = brook_strdup(bootstrap);
	srv->topic = brook_strdup(topic);
	srv->log = reg_log_kafka_new(bootstrap, topic, CONNECT_TIMEOUT_MS, err, errlen);
	if (!srv->log)
		goto fail;
	srv->st = reg_store_new();
	if (srv->log->ops->start(srv->log, reg_store_apply_cb, srv->st, err, errlen) != BROOK_OK)
		goto fail;
	srv->api = reg_api_open(srv->st, srv->log, host, port, err, errlen);
	if (!srv->api)
		goto fail;
	return srv;
fail:
	if (srv->log)
		srv->log->ops->close(srv->log);
	reg_store_free(srv->st);
	free(srv->host);
	free(srv->bootstrap);
	free(srv->topic);
	free(srv);
	return NULL;
}

static void ready(void *p)
{
	reg_server *srv = p;
	int port = reg_api_port(srv->api);
	json_t *subjects = reg_store_subjects(srv->st, false);
	brook_info(COMP, "ready: schema registry on %s:%d (http://%s:%d), %zu subject%s, "
		   "state in topic %s on %s", srv->host, port, srv->host, port,
		   json_array_size(subjects), json_array_size(subjects) == 1 ? "" : "s",
		   srv->topic, srv->bootstrap);
	json_decref(subjects);
}

static void close_server(void *p)
{
	reg_server *srv = p;
	reg_api_close(srv->api); /* no handler runs after this */
	srv->log->ops->close(srv->log);
	reg_store_free(srv->st);
	free(srv->host);
	free(srv->bootstrap);
	free(srv->topic);
	free(srv);
}

static const brook_cli_server server = {COMP, open_server, ready, NULL, NULL, close_server};

int cmd_registry(int argc, char **argv)
{
	brook_cli cli;
	int rc = brook_cli_parse(&cli, &spec, argc, argv);
	if (rc != BROOK_CLI_RUN)
		return brook_cli_exit_code(rc);
	return brook_cli_serve(&cli, &server);
}
