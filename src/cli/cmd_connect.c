/* brook connect — Kafka Connect's REST API running brook's PostgreSQL source connectors. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "connect/api.h"
#include "connect/worker.h"
#include "core/err.h"
#include "core/httpd.h"
#include "core/log.h"
#include "core/mem.h"
#include "pg/cluster.h"

#define COMP "connect"

static const brook_cli_opt opts[] = {
	{"listen", 0, "HOST:PORT", "connect.listen", NULL},
	{"bootstrap", 0, "HOST:PORT", "kafka.bootstrap", NULL},
	{"data", 0, "DIR", "data", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

static const brook_cli_spec spec = {
	.name = "connect",
	.usage = "[--listen HOST:PORT] [--data DIR] [--bootstrap HOST:PORT] [--config FILE] "
		 "[--set KEY=VALUE]...",
	.summary =
		"Run the connector worker: Kafka Connect's REST API (POST /connectors,\n"
		"GET /connectors/NAME/status, pause, resume, restart, delete) for brook's\n"
		"PostgreSQL source connectors. connector.class=postgres-cdc streams a table's\n"
		"rows (a consistent initial snapshot, then every insert, update and delete in\n"
		"commit order) through logical replication into topics on kafka.bootstrap, as\n"
		"Debezium-style records keyed by the primary key: JSON, or Confluent-framed\n"
		"Avro registered in the Schema Registry at registry.url. The replication slot\n"
		"only advances once the broker acknowledged the records, so nothing is lost\n"
		"across restarts. connector.class=postgres-incrementing polls tables by an\n"
		"incrementing column (offsets in the connect-offsets topic). Connectors are\n"
		"kept in DIR/connect and restored at start. See docs/CONNECT.md.",
	.opts = opts,
	.max_args = 0,
};

typedef struct connect_server {
	connect_worker *w;
	connect_api *api;
	char *host;
	char *bootstrap;
} connect_server;

/* The connectors of connect.connectors, with postgres.dsn or the private cluster's DSN
 * for those that name no connection.url. */
static void declare_connectors(const brook_config *cfg, connect_worker *w, const char *data)
{
	const brook_cfg_node *tree = brook_config_tree(cfg, "connect.connectors");
	if (!tree)
		return;
	const char *dsn = brook_config_str(cfg, "postgres.dsn");
	char *own = NULL;
	if (!dsn || !*dsn) {
		char dir[4096], e[256], *host = NULL;
		int port = 5433;
		snprintf(dir, sizeof dir, "%s/postgres", data);
		if (pg_parse_listen(brook_config_str(cfg, "postgres.listen"), &host, &port, e,
				    sizeof e) != BROOK_OK)
			host = NULL;
		own = pg_cluster_read_dsn(dir, host ? host : "127.0.0.1", port, e, sizeof e);
		free(host);
		dsn = own;
	}
	connect_declare(w, tree, dsn);
	free(own);
}

static void *open_server(const brook_config *cfg, char *err, size_t errlen)
{
	const char *listen = brook_config_str(cfg, "connect.listen");
	const char *bootstrap = brook_config_str(cfg, "kafka.bootstrap");
	const char *data = brook_config_str(cfg, "data");
	char *host = NULL;
	int port;

	if (!listen || brook_parse_hostport(listen, &host, &port) != BROOK_OK) {
		snprintf(err, errlen, "connect.listen must be HOST:PORT, not '%s'",
			 listen ? listen : "");
		return NULL;
	}
	if (!data || !*data) {
		snprintf(err, errlen, "data is empty: give --data DIR");
		free(host);
		return NULL;
	}
	connect_server *srv = brook_calloc(1, sizeof *srv);
	srv->host = host;
	srv->bootstrap = brook_strdup(bootstrap ? bootstrap : "");
	char worker_id[300];
	snprintf(worker_id, sizeof worker_id, "%s:%d", host, port);
	connect_worker_opts wo = {
		.data_dir = data,
		.kafka_bootstrap = bootstrap,
		.registry_url = brook_config_str(cfg, "registry.url"),
		.worker_id = worker_id,
	};
	srv->w = connect_worker_open(&wo, err, errlen);
	if (!srv->w)
		goto fail;
	declare_connectors(cfg, srv->w, data);
	srv->api = connect_api_open(srv->w, host, port, err, errlen);
	if (!srv->api)
		goto fail;
	return srv;
fail:
	connect_worker_close(srv->w);
	free(srv->host);
	free(srv->bootstrap);
	free(srv);
	return NULL;
}

static void ready(void *p)
{
	connect_server *srv = p;
	int port = connect_api_port(srv->api);
	brook_info(COMP, "ready: connect REST API on %s:%d (http://%s:%d), records to %s",
		   srv->host, port, srv->host, port, srv->bootstrap);
}

static void close_server(void *p)
{
	connect_server *srv = p;
	connect_api_close(srv->api); /* no handler runs after this */
	connect_worker_close(srv->w); /* each task flushes, acknowledges and closes */
	free(srv->host);
	free(srv->bootstrap);
	free(srv);
}

static const brook_cli_server server = {COMP, open_server, ready, NULL, NULL, close_server};

int cmd_connect(int argc, char **argv)
{
	brook_cli cli;
	int rc = brook_cli_parse(&cli, &spec, argc, argv);
	if (rc != BROOK_CLI_RUN)
		return brook_cli_exit_code(rc);
	return brook_cli_serve(&cli, &server);
}
