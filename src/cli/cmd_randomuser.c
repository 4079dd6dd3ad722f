/*
 * cmd_randomuser.c — `brook randomuser`: serve the offline randomuser.me-compatible API
 * until SIGINT or SIGTERM, then stop gracefully (in-flight requests finish) and exit 0.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "core/err.h"
#include "core/log.h"
#include "source/randomuser_server.h"

int cmd_randomuser(int argc, char **argv);

static const brook_cli_opt randomuser_opts[] = {
	{"listen", 'l', "HOST:PORT", "randomuser.listen", NULL},
	{"threads", 't', "N", "randomuser.threads", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

static const brook_cli_spec randomuser_spec = {
	.name = "randomuser",
	.usage = "[--listen HOST:PORT] [--threads N]",
	.summary = "Serve an offline, seeded API compatible with randomuser.me 1.4 at "
		   "http://HOST:PORT/api/ (also /healthz and /metrics). The same seed, page "
		   "and results always give byte-identical users.",
	.opts = randomuser_opts,
	.min_args = 0,
	.max_args = 0,
};

int cmd_randomuser(int argc, char **argv)
{
	brook_cli cli;
	randomuser_server_opts opts;
	char err[512];

	int rc = brook_cli_parse(&cli, &randomuser_spec, argc, argv);
	if (rc != BROOK_CLI_RUN)
		return brook_cli_exit_code(rc);
	if (randomuser_server_opts_from_config(cli.cfg, &opts, err, sizeof(err)) != BROOK_OK) {
		brook_error("randomuser", "%s", err);
		brook_cli_release(&cli);
		return 2;
	}
	brook_cli_block_signals();
	randomuser_server *s = randomuser_server_open(&opts, err, sizeof(err));
	if (!s) {
		brook_error("randomuser", "cannot start the API: %s", err);
		brook_cli_release(&cli);
		return 1;
	}
	int sig = brook_cli_wait_signal();
	brook_info("randomuser", "signal %d received; finishing in-flight requests", sig);
	randomuser_server_close(s);
	brook_info("randomuser", "stopped");
	brook_cli_release(&cli);
	return 0;
}
