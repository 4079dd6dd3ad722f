/*
 * main.c — the `brook` binary: a table of subcommands, each a thin wrapper that
 * parses options (cli.h) and calls into a component.
 */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "cli/commands.h"

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{"up", cmd_up, "run the whole pipeline: every part as a supervised child process"},
	{"randomuser", cmd_randomuser, "serve an offline randomuser.me-compatible API"},
	{"fetch", cmd_fetch, "fetch users from a randomuser-compatible API as JSON lines"},
	{"cron", cmd_cron, "print the next fire times of a cron expression"},
	{"broker", cmd_broker, "run the Kafka-protocol broker (durable log, consumer groups)"},
	{"store", cmd_store, "run the CQL store (Cassandra-compatible, CQL native protocol v4)"},
	{"cql", cmd_cql, "run CQL statements against the store or a Cassandra node"},
	{"postgres", cmd_postgres, "run brook's private PostgreSQL cluster (logical WAL for CDC)"},
	{"scheduler", cmd_scheduler, "run the DAG scheduler with its Airflow-style REST API"},
	{"dags", cmd_dags, "list, trigger, follow and test the scheduler's DAGs"},
	{"registry", cmd_registry, "run the Schema Registry (Confluent-compatible REST API)"},
	{"stream", cmd_stream, "run the stream jobs: topics -> mapping -> CQL table (Spark's part)"},
	{"connect", cmd_connect, "run the PostgreSQL source connector (Kafka Connect REST API)"},
	{"psql", cmd_psql, "run psql against brook's PostgreSQL cluster"},
	{"config", cmd_config, "show the effective configuration or list every key"},
	{"version", cmd_version, "print brook's version and the libraries it uses"},
	{NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: brook <command> [options]\n\n"
		   "brook runs a real-time user pipeline (randomuser API -> scheduler -> "
		   "PostgreSQL ->\nKafka -> stream processor -> Cassandra) as one lean "
		   "program.\n\ncommands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->help);
	fprintf(f, "\n'brook <command> --help' shows a command's options.\n");
}

int main(int argc, char **argv)
{
	/* The process is named as it was called: `brook up` runs its parts from
	 * /proc/self/exe (which survives an upgrade of the binary), so they would show as
	 * "exe" in top, ps -o comm and pgrep. */
	if (argc > 0 && argv[0][0]) {
		const char *slash = strrchr(argv[0], '/');
		prctl(PR_SET_NAME, slash ? slash + 1 : argv[0], 0, 0, 0);
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(name, "--version"))
		name = "version";
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "brook: unknown command '%s'\n\n", name);
	usage(stderr);
	return 2;
}
