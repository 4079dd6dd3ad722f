/* brook scheduler — the DAG scheduler with its REST API and HTML grid. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/err.h"
#include "core/httpd.h"
#include "core/log.h"
#include "core/mem.h"
#include "scheduler/api.h"
#include "scheduler/scheduler.h"

static const brook_cli_opt opts[] = {
	{"listen", 0, "HOST:PORT", "scheduler.listen", NULL},
	{"data", 0, "DIR", "data", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

static const brook_cli_spec spec = {
	.name = "scheduler",
	.usage = "[--listen HOST:PORT] [--data DIR] [--config FILE] [--set KEY=VALUE]...",
	.summary =
		"Run the scheduler: Airflow-style DAGs of tasks on cron schedules, with run\n"
		"history in PostgreSQL (postgres.dsn, or brook's private cluster under\n"
		"DIR/postgres, started when needed). DAGs live in the configuration under\n"
		"scheduler.dags (one mapping per dag_id: schedule, start_date, catchup,\n"
		"max_active_runs and tasks with operator, params, retries, upstream); put\n"
		"them in the YAML file given with --config. Airflow's stable REST API v1\n"
		"(/api/v1/dags, /dagRuns, /taskInstances, logs) and an HTML grid of recent\n"
		"runs (/home) are served on --listen; `brook dags` talks to it. SIGTERM or\n"
		"Ctrl-C cancels running tries without using them up: the next start runs\n"
		"them again. After a crash (SIGKILL), a try that was running counts as failed\n"
		"and is retried per its policy. See docs/SCHEDULER.md.",
	.opts = opts,
	.max_args = 0,
};

typedef struct sched_server {
	scheduler *s;
	sched_api *api;
	char *host;
} sched_server;

static void *open_server(const brook_config *cfg, char *err, size_t errlen)
{
	const char *listen = brook_config_str(cfg, "scheduler.listen");
	char *host = NULL;
	int port;

	if (!listen || brook_parse_hostport(listen, &host, &port) != BROOK_OK) {
		snprintf(err, errlen, "scheduler.listen must be HOST:PORT, not '%s'",
			 listen ? listen : "");
		return NULL;
	}
	scheduler *s = scheduler_open(cfg, err, errlen);
	if (!s) {
		free(host);
		return NULL;
	}
	sched_api *api = sched_api_open(s, host, port, err, errlen);
	if (!api) {
		scheduler_close(s);
		free(host);
		return NULL;
	}
	sched_server *srv = brook_calloc(1, sizeof *srv);
	srv->s = s;
	srv->api = api;
	srv->host = host;
	return srv;
}

static void ready(void *p)
{
	sched_server *srv = p;
	const sched_dagbag *bag = scheduler_dags(srv->s);
	int port = sched_api_port(srv->api);

	size_t n = bag ? bag->n : 0;

	brook_info("scheduler", "ready: scheduler on %s:%d with %zu DAG%s; REST API "
		   "http://%s:%d/api/v1, grid http://%s:%d/home", srv->host, port, n,
		   n == 1 ? "" : "s", srv->host, port, srv->host, port);
}

static void run(void *p)
{
	sched_server *srv = p;
	scheduler_run(srv->s);
}

static void stop(void *p)
{
	sched_server *srv = p;
	scheduler_stop(srv->s);
}

static void close_server(void *p)
{
	sched_server *srv = p;
	sched_api_close(srv->api);
	scheduler_close(srv->s);
	free(srv->host);
	free(srv);
}

static const brook_cli_server server = {"scheduler", open_server, ready, run, stop,
					close_server};

int cmd_scheduler(int argc, char **argv)
{
	brook_cli cli;
	int rc = brook_cli_parse(&cli, &spec, argc, argv);
	if (rc != BROOK_CLI_RUN)
		return brook_cli_exit_code(rc);
	return brook_cli_serve(&cli, &server);
}
