/*
 * cmd_cron.c — `brook cron next EXPR`: the next fire times of a cron expression.
 *
 * Prints one ISO-8601 instant per line on stdout: in UTC ("2024-03-05T10:00:00Z"), or
 * with the zone's offset when --tz is given ("2024-03-10T03:00:00-04:00"). Grammar
 * and DST rules: scheduler/cron.h. Exit codes: 0 printed, 1 the expression never fires
 * within the search horizon, 2 usage (bad expression, zone, --from or -n).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/err.h"
#include "core/timeutil.h"
#include "scheduler/cron.h"

#define CRON_MAX_COUNT 10000

static const brook_cli_opt cron_opts[] = {
	{"from", 'f', "ISO8601", NULL, "start after this instant (default: now)"},
	{"count", 'n', "N", NULL, "how many fire times to print, 1..10000 (default 5)"},
	{"tz", 0, "ZONE", NULL, "evaluate in this IANA zone, e.g. Europe/Berlin (default UTC)"},
	{NULL, 0, NULL, NULL, NULL},
};

static const brook_cli_spec spec = {
	.name = "cron",
	.usage = "next EXPR [--from ISO8601] [-n N] [--tz ZONE]",
	.summary = "Print the next fire times of a cron expression, one ISO-8601 instant per "
		   "line. EXPR has five fields (minute hour day-of-month month day-of-week; "
		   "*, a-b, */n, a-b/n, lists, JAN-DEC, SUN-SAT) or is a preset (@hourly, "
		   "@daily, @weekly, @monthly, @yearly, @once, none); quote it. With --tz the "
		   "expression is read as wall-clock time in that zone: a time skipped by a "
		   "DST change fires shifted forward, a repeated time fires once, and "
		   "expressions firing every hour follow real hours.",
	.opts = cron_opts,
	.min_args = 2,
	.max_args = 2,
};

int cmd_cron(int argc, char **argv)
{
	brook_cli cli;
	cron_expr *e = NULL;
	cron_zone *z = NULL;
	char err[512], line[CRON_TIME_LEN];
	const char *v, *tz;
	int64_t t;
	long count = 5;
	int status = 2;
	int rc = brook_cli_parse(&cli, &spec, argc, argv);

	if (rc != BROOK_CLI_RUN)
		return brook_cli_exit_code(rc);
	if (strcmp(cli.args[0], "next") != 0) {
		fprintf(stderr, "brook cron: unknown subcommand '%s' (known: next)\n", cli.args[0]);
		goto out;
	}
	if ((v = brook_cli_opt_value(&cli, "count"))) {
		char *end;
		errno = 0;
		count = strtol(v, &end, 10);
		if (errno || end == v || *end || count < 1 || count > CRON_MAX_COUNT) {
			fprintf(stderr, "brook cron: -n must be a number from 1 to %d, not '%s'\n",
				CRON_MAX_COUNT, v);
			goto out;
		}
	}
	if ((v = brook_cli_opt_value(&cli, "from"))) {
		int64_t ms;
		if (brook_time_parse_iso8601(v, &ms) != BROOK_OK) {
			fprintf(stderr, "brook cron: --from must be an ISO-8601 time like "
					"2024-03-05T10:00:00Z, not '%s'\n", v);
			goto out;
		}
		t = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	} else {
		t = brook_now_ms() / 1000;
	}
	if (!(e = cron_expr_parse(cli.args[1], err, sizeof err))) {
		fprintf(stderr, "brook %s\n", err);
		goto out;
	}
	tz = brook_cli_opt_value(&cli, "tz");
	if (!(z = cron_zone_open(tz ? tz : "UTC", err, sizeof err))) {
		fprintf(stderr, "brook %s\n", err);
		goto out;
	}
	status = 0;
	for (long i = 0; i < count; i++) {
		rc = cron_next(e, t, z, &t, err, sizeof err);
		if (rc == BROOK_AGAIN) {
			fprintf(stderr, "brook %s\n", err);
			break;
		}
		if (rc != BROOK_OK) {
			fprintf(stderr, "brook %s\n", err);
			status = 1;
			break;
		}
		cron_format_time(t, tz ? z : NULL, line);
		puts(line);
	}
	if (fflush(stdout) != 0)
		status = 1;
out:
	cron_zone_free(z);
	cron_expr_free(e);
	brook_cli_release(&cli);
	return status;
}
