/*
 * cmd_fetch.c — `brook fetch`: one batch from a randomuser-compatible API to stdout.
 *
 * Prints each valid user as one compact JSON line on stdout (pipe it into jq, a
 * file, `brook produce`); the summary, retries and rejected records go to the log on
 * stderr. Exit codes: 0 fetched, 1 the fetch failed after its retries, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "source/client.h"

#define LOG_COMP "fetch"

static const brook_cli_opt fetch_opts[] = {
	{"url", 'u', "URL", "source.url", NULL},
	{"results", 'n', "N", NULL, "users to fetch, 1..5000 (default 10)"},
	{"seed", 's', "SEED", NULL, "seed: the same seed gives the same users"},
	{"page", 'p', "P", NULL, "page of the seed's sequence (default: not sent)"},
	{"nat", 0, "LIST", NULL, "nationalities, comma-separated (us,gb,fr,...)"},
	{NULL, 0, NULL, NULL, NULL},
};

static const brook_cli_spec spec = {
	.name = "fetch",
	.usage = "[--url URL] [--results N] [--seed S] [--page P] [--nat LIST]",
	.summary = "Fetch one batch of users from a randomuser.me-compatible API, validate "
		   "every record, and print the valid ones as JSON, one per line. Failed "
		   "requests are retried (source.retries, source.backoff_*); records that "
		   "fail validation are counted and logged, not printed.",
	.opts = fetch_opts,
	.min_args = 0,
	.max_args = 0,
};

/* A decimal integer within [lo, hi]. */
static int parse_int(const char *s, long lo, long hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return BROOK_ERR;
	*out = (int)v;
	return BROOK_OK;
}

int cmd_fetch(int argc, char **argv)
{
	brook_cli cli;
	source_client_opts o;
	source_client *c = NULL;
	source_batch batch;
	char err[768];
	const char *v;
	int rc = brook_cli_parse(&cli, &spec, argc, argv), status = 1;

	if (rc != BROOK_CLI_RUN)
		return brook_cli_exit_code(rc);
	source_client_opts_default(&o);
	source_client_opts_from_config(&o, cli.cfg);
	o.results = 10;
	if ((v = brook_cli_opt_value(&cli, "results")) &&
	    parse_int(v, 1, SOURCE_MAX_RESULTS, &o.results) != BROOK_OK) {
		fprintf(stderr, "brook fetch: --results must be a number from 1 to %d, not '%s'\n",
			SOURCE_MAX_RESULTS, v);
		brook_cli_release(&cli);
		return 2;
	}
	if ((v = brook_cli_opt_value(&cli, "page")) && parse_int(v, 1, 1000000000, &o.page)) {
		fprintf(stderr, "brook fetch: --page must be a positive number, not '%s'\n", v);
		brook_cli_release(&cli);
		return 2;
	}
	o.seed = brook_cli_opt_value(&cli, "seed");
	o.nat = brook_cli_opt_value(&cli, "nat");

	c = source_client_new(&o, err, sizeof err);
	if (!c) {
		fprintf(stderr, "brook fetch: %s\n", err);
		brook_cli_release(&cli);
		return 2;
	}
	int64_t t0 = brook_mono_ms();
	if (source_client_fetch(c, &batch, err, sizeof err) != BROOK_OK) {
		brook_error(LOG_COMP, "fetch from %s failed: %s", o.url, err);
		goto out;
	}
	for (size_t i = 0; i < batch.resp.nrecords; i++) {
		fputs(batch.resp.records[i], stdout);
		fputc('\n', stdout);
	}
	if (fflush(stdout) != 0) {
		brook_error(LOG_COMP, "cannot write records to stdout: %s", strerror(errno));
		source_batch_release(&batch);
		goto out;
	}
	for (size_t i = 0; i < batch.resp.nreasons; i++)
		brook_warn(LOG_COMP, "rejected record %s", batch.resp.reasons[i]);
	if (batch.resp.nrejected > batch.resp.nreasons)
		brook_warn(LOG_COMP, "%zu more rejected records not shown",
			   batch.resp.nrejected - batch.resp.nreasons);
	brook_info(LOG_COMP, "fetched %zu users (%zu rejected) from %s in %.2f s "
		   "(seed %s, page %lld, %d attempt%s)",
		   batch.resp.nrecords, batch.resp.nrejected, o.url,
		   (double)(brook_mono_ms() - t0) / 1000.0, batch.resp.seed,
		   (long long)batch.resp.page, batch.attempts, batch.attempts == 1 ? "" : "s");
	source_batch_release(&batch);
	status = 0;
out:
	source_client_free(c);
	brook_cli_release(&cli);
	return status;
}
