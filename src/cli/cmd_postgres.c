/*
 * brook postgres — run brook's private PostgreSQL cluster in the foreground (or print
 * its DSN); brook psql — psql connected to it.
 *
 * The cluster lives in DATA/postgres (see pg/cluster.h). `brook postgres` starts it
 * with pg_ctl, logs the ready line, and on SIGTERM/SIGINT stops it (pg_ctl stop -m
 * fast) and exits 0; if the postmaster dies meanwhile, it logs that and exits 1.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "pg/cluster.h"

#define COMP "postgres"

static const brook_cli_opt opts[] = {
	{"data", 0, "DIR", "data", NULL},
	{"listen", 0, "HOST:PORT", "postgres.listen", NULL},
	{"print-dsn", 0, NULL, NULL, "print the DSN of the cluster in DIR and exit"},
	{NULL, 0, NULL, NULL, NULL},
};

static const brook_cli_spec spec = {
	.name = "postgres",
	.usage = "[--data DIR] [--listen HOST:PORT] [--print-dsn] [--config FILE] "
		 "[--set KEY=VALUE]...",
	.summary = "Run brook's private PostgreSQL cluster in the foreground. The first start\n"
		   "initialises DIR/postgres/pgdata with the installed PostgreSQL (as user\n"
		   "postgres when brook runs as root), user and database `brook`, a random\n"
		   "password kept in DIR/postgres/password (mode 0600), scram-sha-256\n"
		   "authentication everywhere and wal_level=logical for change data capture.\n"
		   "SIGTERM or Ctrl-C stops PostgreSQL (fast shutdown) and exits 0.\n"
		   "--print-dsn prints the libpq connection string and exits; `brook psql\n"
		   "--data DIR` opens psql on it.",
	.opts = opts,
	.max_args = 0,
};

/* DATA/postgres; freed by the caller. */
static char *cluster_dir(const brook_config *cfg)
{
	const char *data = brook_config_str(cfg, "data");
	size_t n = strlen(data) + sizeof "/postgres";
	char *dir = brook_malloc(n);
	snprintf(dir, n, "%s/postgres", data);
	return dir;
}

typedef struct pg_server {
	pg_cluster *cluster;
	char *dir;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool stopping;
} pg_server;

static bool postmaster_died;

static void *open_server(const brook_config *cfg, char *err, size_t errlen)
{
	char *host;
	int port;
	if (pg_parse_listen(brook_config_str(cfg, "postgres.listen"), &host, &port, err,
			    errlen) != BROOK_OK)
		return NULL;
	char *dir = cluster_dir(cfg);
	pg_cluster *c = pg_cluster_open(dir, host, port, err, errlen);
	free(host);
	if (!c) {
		free(dir);
		return NULL;
	}
	pg_server *s = brook_calloc(1, sizeof *s);
	s->cluster = c;
	s->dir = dir;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cond, NULL);
	return s;
}

static void ready(void *srv)
{
	pg_server *s = srv;
	const char *dsn = pg_cluster_dsn(s->cluster);
	const char *h = strstr(dsn, "host=") + 5;
	int hl = (int)strcspn(h, " ");
	brook_info(COMP, "ready: PostgreSQL %s on %.*s:%d (data %s, postmaster pid %d; "
			 "`brook psql` connects, `--print-dsn` shows the DSN)",
		   pg_cluster_version(s->cluster), hl, h, pg_cluster_port(s->cluster),
		   pg_cluster_datadir(s->cluster), (int)pg_cluster_postmaster_pid(s->cluster));
}

/* Waits for stop(); checks every second that the postmaster is still there. */
static void run(void *srv)
{
	pg_server *s = srv;
	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&s->cond, &s->mu, &ts);
		if (!s->stopping && !pg_cluster_postmaster_pid(s->cluster)) {
			brook_error(COMP, "the PostgreSQL server in %s exited; see %s/postgres.log",
				    pg_cluster_datadir(s->cluster), s->dir);
			postmaster_died = true;
			kill(getpid(), SIGTERM); /* wakes brook_cli_serve */
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
}

static void stop(void *srv)
{
	pg_server *s = srv;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

static void close_server(void *srv)
{
	pg_server *s = srv;
	char err[512];
	if (!postmaster_died) {
		if (pg_cluster_stop(s->cluster, err, sizeof err) != BROOK_OK) {
			brook_error(COMP, "%s", err);
			postmaster_died = true;
		} else {
			brook_info(COMP, "PostgreSQL stopped");
		}
	}
	pg_cluster_close(s->cluster);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->mu);
	free(s->dir);
	free(s);
}

static const brook_cli_server server = {COMP, open_server, ready, run, stop, close_server};

/* The DSN of the cluster under the configured data directory; NULL after logging. */
static char *configured_dsn(const brook_config *cfg, const char *cmd)
{
	char err[512];
	char *host;
	int port;
	if (pg_parse_listen(brook_config_str(cfg, "postgres.listen"), &host, &port, err,
			    sizeof err) != BROOK_OK) {
		fprintf(stderr, "brook %s: %s\n", cmd, err);
		return NULL;
	}
	char *dir = cluster_dir(cfg);
	char *dsn = pg_cluster_read_dsn(dir, host, port, err, sizeof err);
	if (!dsn)
		fprintf(stderr, "brook %s: %s\n", cmd, err);
	free(dir);
	free(host);
	return dsn;
}

int cmd_postgres(int argc, char **argv)
{
	brook_cli cli;
	int rc = brook_cli_parse(&cli, &spec, argc, argv);
	if (rc != BROOK_CLI_RUN)
		return brook_cli_exit_code(rc);
	if (brook_cli_opt_value(&cli, "print-dsn")) {
		char *dsn = configured_dsn(cli.cfg, "postgres");
		brook_cli_release(&cli);
		if (!dsn)
			return 1;
		printf("%s\n", dsn);
		free(dsn);
		return 0;
	}
	rc = brook_cli_serve(&cli, &server);
	return rc == 0 && postmaster_died ? 1 : rc;
}

/* ---------- brook psql ---------- */

static const brook_cli_opt psql_opts[] = {
	{"data", 0, "DIR", "data", NULL},
	{"listen", 0, "HOST:PORT", "postgres.listen", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

static const brook_cli_spec psql_spec = {
	.name = "psql",
	.usage = "[--data DIR] [--config FILE] [--set KEY=VALUE]... [--] [PSQL ARGS...]",
	.summary = "Run psql connected to brook's PostgreSQL cluster in DIR/postgres (started\n"
		   "by `brook postgres`) as user brook, database brook. The password is passed\n"
		   "in PGPASSWORD. Arguments after brook's own options (or after --) go to\n"
		   "psql unchanged: brook psql --data DIR -c 'select 1'.",
	.opts = psql_opts,
	.max_args = 0,
};

/* brook's options that take a value, as accepted by `brook psql`. */
static bool is_valued_opt(const char *a)
{
	static const char *const names[] = {"--data", "--listen", "--config", "--set",
					    "--log-level", "--log-format", NULL};
	for (const char *const *n = names; *n; n++) {
		size_t l = strlen(*n);
		if (!strncmp(a, *n, l) && (a[l] == '\0' || a[l] == '='))
			return true;
	}
	return false;
}

int cmd_psql(int argc, char **argv)
{
	/* brook's options come first; the first other argument starts psql's. */
	int split = 1;
	while (split < argc) {
		const char *a = argv[split];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			split++;
		} else if (is_valued_opt(a)) {
			split += strchr(a, '=') ? 1 : 2;
		} else {
			break;
		}
	}
	if (split > argc)
		split = argc; /* a missing value: brook_cli_parse reports it */
	int psql_from = split;
	if (psql_from < argc && !strcmp(argv[psql_from], "--"))
		psql_from++;

	brook_cli cli;
	int rc = brook_cli_parse(&cli, &psql_spec, split, argv);
	if (rc != BROOK_CLI_RUN)
		return brook_cli_exit_code(rc);
	char *dsn = configured_dsn(cli.cfg, "psql");
	brook_cli_release(&cli);
	if (!dsn)
		return 1;
	/* The password goes in the environment, not on psql's command line. */
	char *pw = strstr(dsn, " password=");
	char *conninfo = dsn;
	if (pw) {
		char *val = pw + strlen(" password=");
		size_t vl = strcspn(val, " ");
		char *password = brook_strndup(val, vl);
		setenv("PGPASSWORD", password, 1);
		free(password);
		memmove(pw, val + vl, strlen(val + vl) + 1);
	}
	char *bindir = pg_find_bindir();
	char *psql = NULL;
	if (bindir) {
		size_t n = strlen(bindir) + sizeof "/psql";
		psql = brook_malloc(n);
		snprintf(psql, n, "%s/psql", bindir);
		free(bindir);
		if (access(psql, X_OK) != 0) {
			free(psql);
			psql = NULL;
		}
	}
	int nargs = argc - psql_from;
	char **av = brook_calloc((size_t)nargs + 4, sizeof *av);
	av[0] = "psql";
	av[1] = "-d";
	av[2] = conninfo;
	for (int i = 0; i < nargs; i++)
		av[3 + i] = argv[psql_from + i];
	fflush(stdout);
	if (psql)
		execv(psql, av);
	else
		execvp("psql", av);
	fprintf(stderr, "brook psql: cannot run %s: %s\n", psql ? psql : "psql", strerror(errno));
	free(psql);
	free(av);
	free(dsn);
	return 1;
}
