/*
 * cli.h — what every `brook <command>` shares: option parsing, configuration
 * loading, help text, and waiting for SIGINT/SIGTERM.
 *
 * A command declares its options as a table. An option with a `key` is sugar for
 * `--set key=value` (so `--listen X` and `--set randomuser.listen=X` are the same
 * thing, at the highest precedence); an option without a key is local to the command
 * and read back with brook_cli_opt_value(). Every command also accepts:
 *
 *   --config FILE        layer a YAML file over the built-in configuration
 *   --set KEY=VALUE      override any configuration key (repeatable)
 *   --log-level LEVEL    debug|info|warn|error (sugar for log.level)
 *   --log-format FORMAT  text|json (sugar for log.format)
 *   -h, --help           print the command's help and exit 0
 *
 * brook_cli_parse() loads the configuration in precedence order (see
 * core/config.h), applies log settings, and returns BROOK_CLI_RUN; or it printed
 * help (BROOK_CLI_EXIT_OK) or an error with a usage hint (BROOK_CLI_EXIT_USAGE),
 * released everything, and the command returns brook_cli_exit_code(rc). After
 * BROOK_CLI_RUN the command calls brook_cli_release() when done.
 */
#ifndef BROOK_CLI_CLI_H
#define BROOK_CLI_CLI_H

#include <stddef.h>

#include "core/config.h"

#define BROOK_CLI_MAX_OPTS 32

typedef struct brook_cli_opt {
	const char *name; /* long option without dashes; NULL ends the table */
	char short_name;  /* 0 for none */
	const char *arg;  /* metavar ("HOST:PORT"), NULL for a flag */
	const char *key;  /* config key it sets, or NULL for a local option */
	const char *help; /* one line; for keyed options the key's help is used when NULL */
} brook_cli_opt;

typedef struct brook_cli_spec {
	const char *name;    /* "randomuser" */
	const char *usage;   /* "[--listen HOST:PORT]" */
	const char *summary; /* a paragraph shown by --help */
	const brook_cli_opt *opts;
	int min_args, max_args; /* positional arguments; max -1 for unlimited */
} brook_cli_spec;

typedef struct brook_cli {
	const brook_cli_spec *spec;
	brook_config *cfg;
	char **args; /* positional arguments (point into argv) */
	int nargs;
	const char *local[BROOK_CLI_MAX_OPTS]; /* values of local options ("" for flags) */
} brook_cli;

enum { BROOK_CLI_RUN = 0, BROOK_CLI_EXIT_OK = 1, BROOK_CLI_EXIT_USAGE = 2 };

int brook_cli_parse(brook_cli *cli, const brook_cli_spec *spec, int argc, char **argv);
static inline int brook_cli_exit_code(int rc) { return rc == BROOK_CLI_EXIT_USAGE ? 2 : 0; }
void brook_cli_release(brook_cli *cli);

/* The value of a local option, or NULL when not given ("" for a flag given). */
const char *brook_cli_opt_value(const brook_cli *cli, const char *name);

/* Block SIGINT and SIGTERM in the calling thread (call before starting threads, so
 * they inherit the mask), then later wait for one. Returns the signal number. */
void brook_cli_block_signals(void);
int brook_cli_wait_signal(void);

/* A server whose run() serves on the calling thread until stop() (any thread). */
typedef struct brook_cli_server {
	const char *comp; /* log component */
	void *(*open)(const brook_config *cfg, char *err, size_t errlen);
	void (*ready)(void *srv); /* logs the line containing "ready" */
	void (*run)(void *srv);   /* NULL: the server's own threads do the work */
	void (*stop)(void *srv);  /* makes run return; NULL when run is */
	void (*close)(void *srv);
} brook_cli_server;

/* The life of a server command after brook_cli_parse: blocks SIGINT/SIGTERM, opens the
 * server (failure: logged, exit code 1), logs ready, runs it on a thread until a signal,
 * then stops, joins and closes it. Releases cli; returns the exit code. */
int brook_cli_serve(brook_cli *cli, const brook_cli_server *srv);

/* Every configuration table brook knows (config_schema.c); registers them all. */
void brook_cli_register_config(brook_config *cfg);

#endif
