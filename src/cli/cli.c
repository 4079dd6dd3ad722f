/*
 * cli.c — option parsing and configuration loading shared by every command.
 *
 * Parsing is two passes over argv so that precedence does not depend on the order the
 * user typed things: pass one collects --config, --set and keyed options; then the
 * configuration is built in precedence order (defaults, built-in YAML, --config file,
 * environment, then --set and keyed options in the order given); pass two is not
 * needed because local options were recorded in pass one.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

enum { OPT_CONFIG = 1000, OPT_SET, OPT_LOG_LEVEL, OPT_LOG_FORMAT, OPT_HELP, OPT_BASE = 2000 };

static const brook_cli_opt common_opts[] = {
	{"config", 0, "FILE", NULL, "layer a YAML configuration file over the built-in one"},
	{"set", 0, "KEY=VALUE", NULL, "override a configuration key (repeatable)"},
	{"log-level", 0, "LEVEL", "log.level", NULL},
	{"log-format", 0, "FORMAT", "log.format", NULL},
	{"help", 'h', NULL, NULL, "show this help"},
	{NULL, 0, NULL, NULL, NULL},
};

static const char *opt_help(const brook_config *cfg, const brook_cli_opt *o, char *buf,
			    size_t len)
{
	if (!o->key)
		return o->help ? o->help : "";
	/* Keyed options show the key they set and its current value. */
	const brook_cfg_key *k = brook_config_key_spec(cfg, o->key);
	const char *val = brook_config_text(cfg, o->key);
	snprintf(buf, len, "%s [%s%s%s]", o->help ? o->help : k ? k->help : "", o->key,
		 val ? ": " : "", val ? val : "");
	return buf;
}

static void print_opts(FILE *f, const brook_config *cfg, const brook_cli_opt *opts)
{
	for (const brook_cli_opt *o = opts; o && o->name; o++) {
		char left[64], hb[512];
		if (o->short_name)
			snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		fprintf(f, "  %-28s %s\n", left, opt_help(cfg, o, hb, sizeof hb));
	}
}

static void print_help(const brook_cli *cli)
{
	const brook_cli_spec *s = cli->spec;
	printf("usage: brook %s %s\n\n%s\n", s->name, s->usage ? s->usage : "", s->summary);
	if (s->opts && s->opts->name) {
		printf("\noptions:\n");
		print_opts(stdout, cli->cfg, s->opts);
	}
	printf("\ncommon options:\n");
	print_opts(stdout, cli->cfg, common_opts);
	printf("\nEvery configuration key can also be set with BROOK_<KEY> in the environment "
	       "(dots as\nunderscores, upper case); `brook config keys` lists them all.\n");
}

static int usage_error(const brook_cli *cli, const char *what, const char *arg)
{
	fprintf(stderr, "brook %s: %s%s%s\nTry 'brook %s --help'.\n", cli->spec->name, what,
		arg ? " " : "", arg ? arg : "", cli->spec->name);
	return BROOK_CLI_EXIT_USAGE;
}

/* One keyed assignment to apply after the file and the environment. */
typedef struct pending {
	const char *key;   /* NULL: value is "KEY=VALUE" */
	const char *value;
	const char *origin;
} pending;

int brook_cli_parse(brook_cli *cli, const brook_cli_spec *spec, int argc, char **argv)
{
	memset(cli, 0, sizeof *cli);
	cli->spec = spec;
	cli->cfg = brook_config_new();
	brook_cli_register_config(cli->cfg);

	size_t nspec = 0;
	while (spec->opts && spec->opts[nspec].name)
		nspec++;
	if (nspec > BROOK_CLI_MAX_OPTS) {
		fprintf(stderr, "brook %s: too many options declared\n", spec->name);
		abort();
	}

	struct option longopts[BROOK_CLI_MAX_OPTS + 8];
	char shortopts[2 * BROOK_CLI_MAX_OPTS + 8];
	size_t nl = 0, ns = 0;
	shortopts[ns++] = ':'; /* report missing arguments distinctly */
	shortopts[ns++] = 'h';
	for (const brook_cli_opt *o = common_opts; o->name; o++)
		longopts[nl++] = (struct option){o->name, o->arg ? required_argument : no_argument,
						 NULL, OPT_CONFIG + (int)(o - common_opts)};
	for (size_t i = 0; i < nspec; i++) {
		const brook_cli_opt *o = &spec->opts[i];
		longopts[nl++] = (struct option){o->name, o->arg ? required_argument : no_argument,
						 NULL, OPT_BASE + (int)i};
		if (o->short_name) {
			shortopts[ns++] = o->short_name;
			if (o->arg)
				shortopts[ns++] = ':';
		}
	}
	longopts[nl] = (struct option){NULL, 0, NULL, 0};
	shortopts[ns] = '\0';

	pending *sets = brook_calloc((size_t)argc + 1, sizeof *sets);
	size_t nsets = 0;
	const char *config_file = NULL;
	bool help = false;
	int rc = BROOK_CLI_RUN;

	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h' || c == OPT_HELP) {
			help = true;
		} else if (c == OPT_CONFIG) {
			config_file = optarg;
		} else if (c == OPT_SET) {
			sets[nsets++] = (pending){NULL, optarg, "--set"};
		} else if (c == OPT_LOG_LEVEL) {
			sets[nsets++] = (pending){"log.level", optarg, "log-level"};
		} else if (c == OPT_LOG_FORMAT) {
			sets[nsets++] = (pending){"log.format", optarg, "log-format"};
		} else if (c >= OPT_BASE && c < OPT_BASE + (int)nspec) {
			const brook_cli_opt *o = &spec->opts[c - OPT_BASE];
			if (o->key)
				sets[nsets++] = (pending){o->key, optarg, o->name};
			else
				cli->local[c - OPT_BASE] = optarg ? optarg : "";
		} else if (c == ':' ) {
			rc = usage_error(cli, "this option needs a value:", argv[optind - 1]);
			goto out;
		} else if (c == '?') {
			rc = usage_error(cli, "unknown option", argv[optind - 1]);
			goto out;
		} else {
			/* A declared short option: map it to its long twin. */
			for (size_t i = 0; i < nspec; i++) {
				const brook_cli_opt *o = &spec->opts[i];
				if (o->short_name != c)
					continue;
				if (o->key)
					sets[nsets++] = (pending){o->key, optarg, o->name};
				else
					cli->local[i] = optarg ? optarg : "";
			}
		}
	}
	cli->args = argv + optind;
	cli->nargs = argc - optind;

	char err[512];
	if (brook_config_load_string(cli->cfg, "built-in", brook_default_config_yaml,
				     strlen(brook_default_config_yaml), err, sizeof err) != BROOK_OK) {
		fprintf(stderr, "brook: the built-in configuration is invalid: %s\n", err);
		abort();
	}
	if (config_file &&
	    brook_config_load_file(cli->cfg, config_file, err, sizeof err) != BROOK_OK) {
		fprintf(stderr, "brook %s: %s\n", spec->name, err);
		rc = BROOK_CLI_EXIT_USAGE;
		goto out;
	}
	if (brook_config_load_env(cli->cfg, err, sizeof err) != BROOK_OK) {
		fprintf(stderr, "brook %s: %s\n", spec->name, err);
		rc = BROOK_CLI_EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < nsets; i++) {
		char origin[64];
		snprintf(origin, sizeof origin, "%s%s", sets[i].key ? "--" : "", sets[i].origin);
		int r = sets[i].key ? brook_config_set_kv(cli->cfg, sets[i].key, sets[i].value,
							  origin, err, sizeof err)
				    : brook_config_set(cli->cfg, sets[i].value, origin, err,
						       sizeof err);
		if (r != BROOK_OK) {
			fprintf(stderr, "brook %s: %s\n", spec->name, err);
			rc = BROOK_CLI_EXIT_USAGE;
			goto out;
		}
	}

	if (help) {
		print_help(cli);
		rc = BROOK_CLI_EXIT_OK;
		goto out;
	}
	if (cli->nargs < spec->min_args) {
		rc = usage_error(cli, "missing arguments", NULL);
		goto out;
	}
	if (spec->max_args >= 0 && cli->nargs > spec->max_args) {
		rc = usage_error(cli, "unexpected argument", cli->args[spec->max_args]);
		goto out;
	}

	brook_log_level level;
	brook_log_format format;
	brook_log_level_parse(brook_config_str(cli->cfg, "log.level"), &level);
	brook_log_format_parse(brook_config_str(cli->cfg, "log.format"), &format);
	brook_log_set_level(level);
	brook_log_set_format(format);
out:
	free(sets);
	if (rc != BROOK_CLI_RUN) {
		brook_config_free(cli->cfg);
		cli->cfg = NULL;
	}
	return rc;
}

void brook_cli_release(brook_cli *cli)
{
	brook_config_free(cli->cfg);
	cli->cfg = NULL;
}

const char *brook_cli_opt_value(const brook_cli *cli, const char *name)
{
	for (size_t i = 0; cli->spec->opts && cli->spec->opts[i].name; i++)
		if (strcmp(cli->spec->opts[i].name, name) == 0)
			return cli->local[i];
	fprintf(stderr, "brook %s: option '%s' read but not declared\n", cli->spec->name, name);
	abort();
}

void brook_cli_block_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* A closed pipe is an error on that write, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
}

int brook_cli_wait_signal(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	int sig = 0;
	while (sigwait(&set, &sig) != 0)
		;
	return sig;
}

static void *serve_thread(void *arg)
{
	const brook_cli_server *srv = ((void **)arg)[0];
	char name[16]; /* a thread's name: 15 bytes at most */
	snprintf(name, sizeof name, "%s", srv->comp);
	pthread_setname_np(pthread_self(), name);
	srv->run(((void **)arg)[1]);
	return NULL;
}

int brook_cli_serve(brook_cli *cli, const brook_cli_server *srv)
{
	brook_cli_block_signals();
	char err[512];
	void *s = srv->open(cli->cfg, err, sizeof err);
	if (!s) {
		brook_error(srv->comp, "cannot start: %s", err);
		brook_cli_release(cli);
		return 1;
	}
	srv->ready(s);
	void *args[2] = {(void *)srv, s};
	pthread_t t;
	if (srv->run)
		pthread_create(&t, NULL, serve_thread, args);
	int sig = brook_cli_wait_signal();
	brook_info(srv->comp, "signal %d received; shutting down", sig);
	if (srv->run) {
		srv->stop(s);
		pthread_join(t, NULL);
	}
	srv->close(s);
	brook_info(srv->comp, "stopped");
	brook_cli_release(cli);
	return 0;
}
