/* brook broker — the Kafka-protocol broker. */
#include "broker/broker.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "core/log.h"

static const brook_cli_opt opts[] = {
	{"listen", 0, "HOST:PORT", "broker.listen", NULL},
	{"data", 0, "DIR", "data", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

static const brook_cli_spec spec = {
	.name = "broker",
	.usage = "[--listen HOST:PORT] [--data DIR] [--config FILE] [--set KEY=VALUE]...",
	.summary = "Run brook's Kafka-protocol broker: a single node with durable partition logs,\n"
		   "consumer groups and idempotent producers. Any Kafka client works against it\n"
		   "unchanged (bootstrap.servers=HOST:PORT). Data lives in DIR/broker. Prometheus\n"
		   "metrics are served on broker.metrics_listen. SIGTERM or Ctrl-C answers the\n"
		   "requests in flight, flushes every log and exits 0.",
	.opts = opts,
	.max_args = 0,
};

static void *open_server(const brook_config *cfg, char *err, size_t errlen)
{
	return broker_open(cfg, err, errlen);
}

static void ready(void *srv)
{
	broker *b = srv;
	if (broker_metrics_port(b))
		brook_info("broker", "ready: Kafka broker on %s (advertised as %s), metrics on "
			   "http://%s:%d/metrics", broker_listen_addr(b), broker_advertised(b),
			   "127.0.0.1", broker_metrics_port(b));
	else
		brook_info("broker", "ready: Kafka broker on %s (advertised as %s)",
			   broker_listen_addr(b), broker_advertised(b));
}

static void run(void *srv)
{
	broker_run(srv);
}

static void stop(void *srv)
{
	broker_stop(srv);
}

static void close_server(void *srv)
{
	broker_close(srv);
}

static const brook_cli_server server = {"broker", open_server, ready, run, stop, close_server};

int cmd_broker(int argc, char **argv)
{
	brook_cli cli;
	int rc = brook_cli_parse(&cli, &spec, argc, argv);
	if (rc != BROOK_CLI_RUN)
		return brook_cli_exit_code(rc);
	return brook_cli_serve(&cli, &server);
}
