/* brook config show|keys [--markdown] */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/buf.h"

static const brook_cli_opt opts[] = {
	{"markdown", 0, NULL, NULL, "with `keys`: print a Markdown table (docs/CONFIG.md)"},
	{NULL, 0, NULL, NULL, NULL},
};

static const brook_cli_spec spec = {
	.name = "config",
	.usage = "show|keys [--config FILE] [--set KEY=VALUE]...",
	.summary = "`show` prints the effective configuration as YAML, each key with where its\n"
		   "value came from (default, built-in, file:line, environment or --set).\n"
		   "`keys` lists every key with its type, default and meaning.",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
};

int cmd_config(int argc, char **argv)
{
	brook_cli cli;
	int rc = brook_cli_parse(&cli, &spec, argc, argv);
	if (rc != BROOK_CLI_RUN)
		return brook_cli_exit_code(rc);
	brook_buf out = BROOK_BUF_INIT;
	int code = 0;
	if (!strcmp(cli.args[0], "show")) {
		brook_config_dump(cli.cfg, &out);
	} else if (!strcmp(cli.args[0], "keys")) {
		brook_config_describe(cli.cfg, &out, brook_cli_opt_value(&cli, "markdown") != NULL);
	} else {
		fprintf(stderr, "brook config: unknown action '%s' (show or keys)\n", cli.args[0]);
		code = 2;
	}
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	brook_buf_release(&out);
	brook_cli_release(&cli);
	return code;
}
