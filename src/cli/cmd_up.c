/* brook up — the whole pipeline, every part a supervised child process (see up/up.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/mem.h"
#include "up/up.h"

static const brook_cli_opt opts[] = {
	{"data", 0, "DIR", "data", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

static const brook_cli_spec spec = {
	.name = "up",
	.usage = "[--data DIR] [--config FILE] [--set KEY=VALUE]...",
	.summary =
		"Run the whole pipeline: postgres, randomuser, broker, store, registry,\n"
		"scheduler, connect and stream, in that order, each as a child process\n"
		"`brook <part> --data DIR` given the same --config, --set, --log-level and\n"
		"--log-format. Each part must log its ready line (within up.ready_timeout)\n"
		"before the next starts; if one fails, its last log lines are shown, the\n"
		"others are stopped and brook up exits 1. When all are ready, the endpoints are\n"
		"printed. up.parts drops parts; a part whose endpoint points elsewhere is\n"
		"external and not started (postgres: postgres.dsn set; randomuser: source.url;\n"
		"broker: kafka.bootstrap; store: cassandra.contact_points; registry:\n"
		"registry.url — compared with the part's own listen address).\n"
		"\n"
		"Each part's output goes to DIR/logs/<part>.log; its warnings and errors are\n"
		"also shown here, prefixed with [part]. A part that dies is restarted after\n"
		"0.5 s, doubling up to up.restart_backoff_max (reset after 60 s up). A status\n"
		"line (users staged/s from PostgreSQL, streamed/s, stored/s, total stored and\n"
		"lag from the stream's metrics; '-' when unknown) is shown every\n"
		"up.status_interval: unset means 1 s rewritten in place on a terminal, 10 s as\n"
		"log lines otherwise; 0 turns it off.\n"
		"\n"
		"Children run in their own process group, so Ctrl-C reaches brook up only, which\n"
		"stops them in reverse order (SIGTERM, then SIGKILL after up.stop_timeout) and\n"
		"exits 0; a second Ctrl-C kills them all at once (exit 1). Children also get\n"
		"SIGTERM if brook up itself dies (even by SIGKILL).",
	.opts = opts,
	.max_args = 0,
};

/* The options passed on to every child, as typed: --config, --set, --log-level and
 * --log-format (both "--opt VALUE" and "--opt=VALUE"). */
static size_t collect_pass(int argc, char **argv, const char **out)
{
	static const char *const names[] = {"--config", "--set", "--log-level", "--log-format"};
	size_t n = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
			size_t len = strlen(names[k]);
			if (strncmp(argv[i], names[k], len) != 0)
				continue;
			if (argv[i][len] == '=') {
				out[n++] = argv[i];
			} else if (argv[i][len] == '\0' && i + 1 < argc) {
				out[n++] = argv[i];
				out[n++] = argv[++i];
			}
			break;
		}
	}
	return n;
}

int cmd_up(int argc, char **argv)
{
	brook_cli cli;
	int rc = brook_cli_parse(&cli, &spec, argc, argv);
	if (rc != BROOK_CLI_RUN)
		return brook_cli_exit_code(rc);
	const char **pass = brook_calloc((size_t)argc + 1, sizeof *pass);
	brook_up_opts o = {.pass = pass, .npass = collect_pass(argc, argv, pass)};
	rc = brook_up_run(cli.cfg, &o);
	free(pass);
	brook_cli_release(&cli);
	return rc;
}
