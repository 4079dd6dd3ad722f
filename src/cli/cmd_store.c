/* brook store — the CQL store. */
#include "cli/cli.h"
#include "cli/commands.h"
#include "core/log.h"
#include "store/server.h"

static const brook_cli_opt opts[] = {
	{"listen", 0, "HOST:PORT", "store.listen", NULL},
	{"data", 0, "DIR", "data", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

static const brook_cli_spec spec = {
	.name = "store",
	.usage = "[--listen HOST:PORT] [--data DIR] [--config FILE] [--set KEY=VALUE]...",
	.summary = "Run brook's CQL store: a single-node wide-column store speaking the CQL native\n"
		   "protocol v4, so cqlsh, the DataStax drivers and `brook cql` work against it\n"
		   "as against Cassandra 3.11. Data lives in DIR/store; writes are fsynced before\n"
		   "they are acknowledged (store.commitlog_sync). Prometheus metrics are served\n"
		   "on store.metrics_listen. SIGTERM or Ctrl-C answers the writes in flight,\n"
		   "flushes every memtable and exits 0.",
	.opts = opts,
	.max_args = 0,
};

static void *open_server(const brook_config *cfg, char *err, size_t errlen)
{
	return store_server_open(cfg, err, errlen);
}

static void ready(void *srv)
{
	store_server *s = srv;
	if (store_server_metrics_port(s))
		brook_info("store", "ready: CQL store on %s, metrics on http://127.0.0.1:%d/metrics",
			   store_server_listen_addr(s), store_server_metrics_port(s));
	else
		brook_info("store", "ready: CQL store on %s", store_server_listen_addr(s));
}

static void run(void *srv)
{
	store_server_run(srv);
}

static void stop(void *srv)
{
	store_server_stop(srv);
}

static void close_server(void *srv)
{
	store_server_close(srv);
}

static const brook_cli_server server = {"store", open_server, ready, run, stop, close_server};

int cmd_store(int argc, char **argv)
{
	brook_cli cli;
	int rc = brook_cli_parse(&cli, &spec, argc, argv);
	if (rc != BROOK_CLI_RUN)
		return brook_cli_exit_code(rc);
	return brook_cli_serve(&cli, &server);
}
