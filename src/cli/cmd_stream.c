/* brook stream — the stream processor (Spark Structured Streaming's part). */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/buf.h"
#include "core/err.h"
#include "stream/stream.h"

static const brook_cli_opt opts[] = {
	{"data", 0, "DIR", "data", NULL},
	{"bootstrap", 0, "HOST:PORT", "kafka.bootstrap", NULL},
	{"job", 0, "NAME[,NAME]", NULL, "run only these jobs of stream.jobs"},
	{"check", 0, NULL, NULL,
	 "load and type-check the jobs, print their tables and statements, and exit"},
	{NULL, 0, NULL, NULL, NULL},
};

static const brook_cli_spec spec = {
	.name = "stream",
	.usage = "[--data DIR] [--job NAME] [--check] [--config FILE] [--set KEY=VALUE]...",
	.summary =
		"Run the stream jobs of stream.jobs (docs/STREAM.md): each consumes its topics\n"
		"as a member of a consumer group, decodes Confluent-framed Avro through the\n"
		"Schema Registry (or JSON), filters and maps every record with its declarative\n"
		"mapping (checked at start: an unknown path or function is an error naming the\n"
		"line), and writes the rows to a CQL table as concurrent unlogged batches.\n"
		"Offsets are committed only after the store acknowledged every row before them\n"
		"(at-least-once; rows are keyed deterministically, so a replay rewrites them).\n"
		"A record that cannot be decoded, mapped or written goes to the job's dead-letter\n"
		"topic with headers naming the error and its topic, partition and offset.\n"
		"Start more processes with the same configuration to share the partitions.\n"
		"Metrics on stream.metrics_listen; SIGTERM finishes the batch and leaves the group.",
	.opts = opts,
	.max_args = 0,
};

static const char *only_jobs;

static void *open_proc(const brook_config *cfg, char *err, size_t errlen)
{
	return stream_proc_open(cfg, only_jobs, err, errlen);
}

static void ready(void *p)
{
	stream_proc_ready(p);
}

static void close_proc(void *p)
{
	stream_proc_close(p);
}

static const brook_cli_server server = {"stream", open_proc, ready, NULL, NULL, close_proc};

int cmd_stream(int argc, char **argv)
{
	brook_cli cli;
	int rc = brook_cli_parse(&cli, &spec, argc, argv);
	if (rc != BROOK_CLI_RUN)
		return brook_cli_exit_code(rc);
	only_jobs = brook_cli_opt_value(&cli, "job");
	if (brook_cli_opt_value(&cli, "check")) {
		brook_buf out;
		char err[1024];
		brook_buf_init(&out, 1024);
		rc = stream_check_config(cli.cfg, &out, err, sizeof err);
		if (rc == BROOK_OK)
			fwrite(out.data, 1, out.len, stdout);
		else
			fprintf(stderr, "brook stream: %s\n", err);
		brook_buf_release(&out);
		brook_cli_release(&cli);
		return rc == BROOK_OK ? 0 : 1;
	}
	return brook_cli_serve(&cli, &server);
}
