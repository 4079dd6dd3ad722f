/* brook broker — the Kafka-protocol broker. */
#include <pthread.h>
#include <stdio.h>

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

static void *run(void *arg)
{
	broker_run(arg);
	return NULL;
}

int cmd_broker(int argc, char **argv)
{
	brook_cli cli;
	int rc = brook_cli_parse(&cli, &spec, argc, argv);
	if (rc != BROOK_CLI_RUN)
		return brook_cli_exit_code(rc);
	brook_cli_block_signals();
	char err[512];
	broker *b = broker_open(cli.cfg, err, sizeof err);
	if (!b) {
		brook_error("broker", "cannot start: %s", err);
		brook_cli_release(&cli);
		return 1;
	}
	if (broker_metrics_port(b))
		brook_info("broker", "ready: Kafka broker on %s (advertised as %s), metrics on "
			   "http://%s:%d/metrics", broker_listen_addr(b), broker_advertised(b),
			   "127.0.0.1", broker_metrics_port(b));
	else
		brook_info("broker", "ready: Kafka broker on %s (advertised as %s)",
			   broker_listen_addr(b), broker_advertised(b));
	pthread_t t;
	pthread_create(&t, NULL, run, b);
	int sig = brook_cli_wait_signal();
	brook_info("broker", "signal %d received; shutting down", sig);
	broker_stop(b);
	pthread_join(t, NULL);
	broker_close(b);
	brook_info("broker", "stopped");
	brook_cli_release(&cli);
	return 0;
}
