/* up.c — `brook up`: configuration, the choice of parts, the endpoint table (see up.h). */
#include "up/up.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/httpd.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/text.h"
#include "pg/cluster.h"
#include "up/status.h"
#include "up/supervisor.h"

#define COMP "up"

const brook_cfg_key up_config_keys[] = {
	{"up.parts", BROOK_CFG_LIST,
	 "postgres,randomuser,broker,store,registry,scheduler,connect,stream",
	 "parts `brook up` runs (in pipeline order; drop any to run it elsewhere)", NULL},
	{"up.ready_timeout", BROOK_CFG_DURATION, "60s",
	 "how long `brook up` waits for a part's ready line before giving up on it", NULL},
	{"up.stop_timeout", BROOK_CFG_DURATION, "15s",
	 "how long `brook up` waits for a part to exit after SIGTERM before SIGKILL", NULL},
	{"up.restart_backoff_max", BROOK_CFG_DURATION, "30s",
	 "longest delay before `brook up` restarts a part that died (0.5 s, doubling)", NULL},
	{"up.status_interval", BROOK_CFG_DURATION, NULL,
	 "`brook up` status line period; unset: 1s on a terminal, 10s otherwise; 0: off", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

/* The parts in start order. listen: the key of the part's own listener. data_opt: the
 * command accepts --data (otherwise --set data=DIR). */
static const struct part {
	const char *name;
	const char *listen;
	int data_opt;
} parts[] = {
	{"postgres", "postgres.listen", 1}, {"randomuser", "randomuser.listen", 0},
	{"broker", "broker.listen", 1},     {"store", "store.listen", 1},
	{"registry", "registry.listen", 1}, {"scheduler", "scheduler.listen", 1},
	{"connect", "connect.listen", 1},   {"stream", "stream.metrics_listen", 1},
};
#define NPARTS (sizeof parts / sizeof parts[0])

int brook_up_endpoint(const char *s, char **host, int *port)
{
	if (!s)
		return BROOK_ERR;
	int def = 0;
	const char *p = strstr(s, "://");
	if (p) {
		if (!strncmp(s, "https://", 8))
			def = 443;
		else if (!strncmp(s, "http://", 7))
			def = 80;
		p += 3;
	} else {
		p = s;
	}
	size_t n = strcspn(p, "/?#");
	const char *at = memchr(p, '@', n); /* user:pass@ */
	if (at) {
		n -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	char *hp = brook_strndup(p, n);
	int rc = BROOK_ERR;
	/* A port is present when the text after the last ':' is digits (and, for [v6],
	 * the colon follows the ']'). */
	const char *colon = strrchr(hp, ':');
	const char *rb = strrchr(hp, ']');
	if (colon && (!rb || colon > rb) && colon[1]) {
		rc = brook_parse_hostport(hp, host, port);
	} else if (def && n > 0) {
		if (hp[0] == '[' && rb) {
			*host = brook_strndup(hp + 1, (size_t)(rb - hp - 1));
		} else {
			*host = brook_strdup(hp);
		}
		*port = def;
		rc = BROOK_OK;
	}
	free(hp);
	return rc;
}

static int host_class(const char *h)
{
	if (!h[0] || !strcmp(h, "0.0.0.0") || !strcmp(h, "::") || !strcmp(h, "*"))
		return 2; /* wildcard */
	if (!strcasecmp(h, "localhost") || !strcmp(h, "127.0.0.1") || !strcmp(h, "::1"))
		return 1; /* loopback */
	return 0;
}

bool brook_up_same_endpoint(const char *target, const char *listen)
{
	char *th = NULL, *lh = NULL;
	int tp = 0, lp = 0;
	bool same = false;
	if (brook_up_endpoint(target, &th, &tp) == BROOK_OK &&
	    brook_up_endpoint(listen, &lh, &lp) == BROOK_OK && tp == lp) {
		int tc = host_class(th), lc = host_class(lh);
		if (lc == 2)
			same = tc != 0 || !strcasecmp(th, lh);
		else if (lc == 1)
			same = tc == 1;
		else
			same = !strcasecmp(th, lh);
	}
	free(th);
	free(lh);
	return same;
}

int brook_up_prom_sum(const char *text, size_t len, const char *name, double *sum)
{
	size_t nl = strlen(name);
	bool found = false;
	double total = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if (*p != '#' && (size_t)(eol - p) > nl && !memcmp(p, name, nl) &&
		    (p[nl] == ' ' || p[nl] == '{' || p[nl] == '\t')) {
			const char *v = p + nl;
			if (*v == '{') { /* skip labels; values may hold '}' inside quotes */
				bool q = false;
				for (v++; v < eol; v++) {
					if (q && *v == '\\' && v + 1 < eol)
						v++;
					else if (*v == '"')
						q = !q;
					else if (!q && *v == '}')
						break;
				}
				if (v < eol)
					v++;
			}
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			char num[64];
			size_t k = 0;
			while (v < eol && *v != ' ' && *v != '\t' && *v != '\r' &&
			       k < sizeof num - 1)
				num[k++] = *v++;
			num[k] = '\0';
			char *ep;
			double d = strtod(num, &ep);
			if (k > 0 && *ep == '\0') {
				total += d;
				found = true;
			}
		}
		p = eol + 1;
	}
	if (!found)
		return BROOK_ERR;
	*sum = total;
	return BROOK_OK;
}

static const struct part *find_part(const char *name)
{
	for (size_t i = 0; i < NPARTS; i++)
		if (!strcmp(parts[i].name, name))
			return &parts[i];
	return NULL;
}

int brook_up_check(const brook_config *cfg, char *err, size_t errlen)
{
	const char *const *items;
	size_t n = brook_config_list(cfg, "up.parts", &items);
	for (size_t i = 0; i < n; i++) {
		if (find_part(items[i]))
			continue;
		const char *best = NULL;
		size_t bd = 3;
		for (size_t k = 0; k < NPARTS; k++) {
			size_t d = brook_edit_distance(items[i], parts[k].name);
			if (d < bd) {
				bd = d;
				best = parts[k].name;
			}
		}
		if (best)
			snprintf(err, errlen, "up.parts: unknown part '%s' (did you mean '%s'?)",
				 items[i], best);
		else
			snprintf(err, errlen, "up.parts: unknown part '%s' (parts: postgres, "
				 "randomuser, broker, store, registry, scheduler, connect, stream)",
				 items[i]);
		return BROOK_ERR;
	}
	for (size_t k = 0; k < NPARTS; k++) {
		const char *l = brook_config_str(cfg, parts[k].listen);
		char *h = NULL;
		int port;
		if (!l || brook_up_endpoint(l, &h, &port) != BROOK_OK) {
			snprintf(err, errlen, "%s must be HOST:PORT, not '%s'", parts[k].listen,
				 l ? l : "");
			return BROOK_ERR;
		}
		free(h);
	}
	return BROOK_OK;
}

/* Why a part is external ("kafka.bootstrap=10.0.0.5:9092"), or false. */
static bool is_external(const brook_config *cfg, const struct part *p, char *why, size_t len)
{
	const char *listen = brook_config_str(cfg, p->listen);
	const char *key = NULL, *target = NULL;
	const char *const *items;
	char first[256];
	if (!strcmp(p->name, "postgres")) {
		const char *dsn = brook_config_str(cfg, "postgres.dsn");
		if (dsn && *dsn) {
			snprintf(why, len, "postgres.dsn is set");
			return true;
		}
		return false;
	} else if (!strcmp(p->name, "randomuser")) {
		key = "source.url";
		target = brook_config_str(cfg, key);
	} else if (!strcmp(p->name, "broker")) {
		key = "kafka.bootstrap";
		const char *b = brook_config_str(cfg, key);
		snprintf(first, sizeof first, "%.*s", b ? (int)strcspn(b, ", ") : 0, b ? b : "");
		target = first;
	} else if (!strcmp(p->name, "store")) {
		key = "cassandra.contact_points";
		target = brook_config_list(cfg, key, &items) > 0 ? items[0] : NULL;
	} else if (!strcmp(p->name, "registry")) {
		key = "registry.url";
		target = brook_config_str(cfg, key);
	} else {
		return false;
	}
	if (!target || !*target)
		return false;
	/* A contact point may omit the port: Cassandra's default. */
	char withport[300];
	if (!strcmp(p->name, "store") && !strchr(target, ':')) {
		snprintf(withport, sizeof withport, "%s:9042", target);
		target = withport;
	}
	if (brook_up_same_endpoint(target, listen))
		return false;
	snprintf(why, len, "%s=%s", key, target);
	return true;
}

/* "127.0.0.1:8080" for a listener (a wildcard host shown as 127.0.0.1). */
static void show_addr(const brook_config *cfg, const char *key, char *out, size_t len)
{
	char *h = NULL;
	int port = 0;
	if (brook_up_endpoint(brook_config_str(cfg, key), &h, &port) != BROOK_OK) {
		snprintf(out, len, "?");
		return;
	}
	const char *host = host_class(h) == 2 ? "127.0.0.1" : h;
	if (strchr(host, ':'))
		snprintf(out, len, "[%s]:%d", host, port);
	else
		snprintf(out, len, "%s:%d", host, port);
	free(h);
}

static void endpoint_line(const brook_config *cfg, const struct part *p, brook_buf *b)
{
	char a[300];
	show_addr(cfg, p->listen, a, sizeof a);
	const char *n = p->name;
	if (!strcmp(n, "randomuser"))
		brook_buf_printf(b, "http://%s/api/", a);
	else if (!strcmp(n, "postgres"))
		brook_buf_printf(b, "postgresql://%s/brook (brook psql)", a);
	else if (!strcmp(n, "broker"))
		brook_buf_printf(b, "%s (kcat -b %s -L)", a, a);
	else if (!strcmp(n, "store"))
		brook_buf_printf(b, "%s (brook cql)", a);
	else if (!strcmp(n, "registry"))
		brook_buf_printf(b, "http://%s", a);
	else if (!strcmp(n, "scheduler"))
		brook_buf_printf(b, "http://%s (UI)", a);
	else if (!strcmp(n, "connect"))
		brook_buf_printf(b, "http://%s/connectors", a);
	else if (!strcmp(n, "stream"))
		brook_buf_printf(b, "metrics http://%s/metrics", a);
}

typedef struct up_run {
	const brook_config *cfg;
	const char *data;
	const struct part *run[NPARTS];
	size_t nrun;
	const struct part *ext[NPARTS];
	char ext_why[NPARTS][300];
	size_t next;
	up_status *status;
	int64_t status_ms;
	bool tty;
	bool scrape_stream;
} up_run;

static char *status_dsn(void *arg)
{
	up_run *r = arg;
	const char *dsn = brook_config_str(r->cfg, "postgres.dsn");
	if (dsn && *dsn)
		return brook_strdup(dsn);
	char *host = NULL;
	int port = 5433;
	if (brook_up_endpoint(brook_config_str(r->cfg, "postgres.listen"), &host, &port) !=
	    BROOK_OK)
		return NULL;
	char dir[4096], e[256];
	snprintf(dir, sizeof dir, "%s/postgres", r->data);
	char *d = pg_cluster_read_dsn(dir, host_class(host) == 2 ? "127.0.0.1" : host, port, e,
				      sizeof e);
	free(host);
	return d;
}

static void on_ready(void *arg, int64_t elapsed_ms)
{
	up_run *r = arg;
	/* The ready line names one endpoint: the scheduler's UI when it runs. */
	const struct part *lead = NULL;
	for (size_t i = 0; i < r->nrun; i++)
		if (!strcmp(r->run[i]->name, "scheduler"))
			lead = r->run[i];
	if (!lead && r->nrun > 0)
		lead = r->run[0];
	char a[300] = "";
	if (lead)
		show_addr(r->cfg, lead->listen, a, sizeof a);
	char line[600];
	snprintf(line, sizeof line, "ready in %.1f s — pipeline running (data %s)%s%s%s%s",
		 (double)elapsed_ms / 1000.0, r->data, lead ? "; " : "", lead ? lead->name : "",
		 lead ? " http://" : "", a);
	brook_info(COMP, "%s", line);

	/* The same line and the endpoint table on stdout. */
	brook_buf b = BROOK_BUF_INIT;
	brook_buf_printf(&b, "brook up: %s\n", line);
	for (size_t k = 0; k < NPARTS; k++) {
		const struct part *p = &parts[k];
		bool running = false;
		for (size_t i = 0; i < r->nrun; i++)
			running |= r->run[i] == p;
		int ext = -1;
		for (size_t i = 0; i < NPARTS && r->ext[i]; i++)
			if (r->ext[i] == p)
				ext = (int)i;
		if (running) {
			brook_buf_printf(&b, "  %-12s ", p->name);
			endpoint_line(r->cfg, p, &b);
			brook_buf_putc(&b, '\n');
		} else if (ext >= 0) {
			brook_buf_printf(&b, "  %-12s external (%s)\n", p->name, r->ext_why[ext]);
		}
	}
	fwrite(b.data, 1, b.len, stdout);
	fflush(stdout);
	brook_buf_release(&b);

	if (r->status_ms > 0) {
		char url[400];
		show_addr(r->cfg, "stream.metrics_listen", a, sizeof a);
		snprintf(url, sizeof url, "http://%s/metrics", a);
		up_status_opts so = {.interval_ms = r->status_ms, .tty = r->tty,
				     .metrics_url = r->scrape_stream ? url : NULL,
				     .dsn_fn = status_dsn, .arg = r};
		r->status = up_status_start(&so);
		up_status_enable(r->status, true);
	}
}

static void on_stopping(void *arg)
{
	up_run *r = arg;
	up_status_enable(r->status, false);
}

static void before_output(void *arg)
{
	up_run *r = arg;
	up_status_clear(r->status);
}

int brook_up_run(const brook_config *cfg, const brook_up_opts *opts)
{
	char err[512];
	if (brook_up_check(cfg, err, sizeof err) != BROOK_OK) {
		brook_error(COMP, "%s", err);
		return 2;
	}
	up_run r;
	memset(&r, 0, sizeof r);
	r.cfg = cfg;
	r.data = brook_config_str(cfg, "data");
	if (!r.data || !*r.data)
		r.data = ".";
	r.tty = isatty(2) == 1;
	if (brook_config_has(cfg, "up.status_interval"))
		r.status_ms = brook_config_duration_ms(cfg, "up.status_interval");
	else
		r.status_ms = r.tty ? 1000 : 10000;

	const char *const *items;
	size_t n = brook_config_list(cfg, "up.parts", &items);
	size_t next = 0;
	for (size_t k = 0; k < NPARTS; k++) {
		const struct part *p = &parts[k];
		bool wanted = false;
		for (size_t i = 0; i < n; i++)
			wanted |= !strcmp(items[i], p->name);
		if (!wanted)
			continue;
		if (!strcmp(p->name, "stream"))
			r.scrape_stream = true;
		char why[300];
		if (is_external(cfg, p, why, sizeof why)) {
			brook_info(COMP, "%s: external (%s), not started", p->name, why);
			r.ext[next] = p;
			snprintf(r.ext_why[next], sizeof r.ext_why[next], "%s", why);
			next++;
			continue;
		}
		r.run[r.nrun++] = p;
	}
	if (r.nrun == 0) {
		brook_error(COMP, "nothing to run: every part in up.parts is external or dropped");
		return 2;
	}

	char logdir[4096];
	snprintf(logdir, sizeof logdir, "%s/logs", r.data);
	if (brook_mkdirs(logdir, 0755) != BROOK_OK) {
		brook_error(COMP, "cannot create %s: %s", logdir, strerror(errno));
		return 1;
	}
	up_supervisor_opts so = {
		.log_dir = logdir,
		.ready_timeout_ms = brook_config_duration_ms(cfg, "up.ready_timeout"),
		.stop_timeout_ms = brook_config_duration_ms(cfg, "up.stop_timeout"),
		.backoff_max_ms = brook_config_duration_ms(cfg, "up.restart_backoff_max"),
		.on_ready = on_ready,
		.on_stopping = on_stopping,
		.before_output = before_output,
		.arg = &r,
	};
	if (so.backoff_max_ms < 500)
		so.backoff_max_ms = 500;
	up_supervisor *s = up_supervisor_new(&so);
	const char *level = brook_config_str(cfg, "log.level");
	bool quiet = level && (!strcmp(level, "warn") || !strcmp(level, "error") ||
			       !strcmp(level, "off"));
	char dataset[4200];
	snprintf(dataset, sizeof dataset, "data=%s", r.data);
	for (size_t i = 0; i < r.nrun; i++) {
		const struct part *p = r.run[i];
		const char **argv = brook_calloc(opts->npass + 8, sizeof *argv);
		size_t a = 0;
		argv[a++] = "brook";
		argv[a++] = p->name;
		argv[a++] = p->data_opt ? "--data" : "--set";
		argv[a++] = p->data_opt ? r.data : dataset;
		for (size_t k = 0; k < opts->npass; k++)
			argv[a++] = opts->pass[k];
		/* Parts log at least at info, whatever up's own level: their ready lines are
		 * info lines, and their log files should say what happened. */
		if (quiet) {
			argv[a++] = "--log-level";
			argv[a++] = "info";
		}
		argv[a] = NULL;
		up_supervisor_add(s, p->name, argv);
		free(argv);
	}
	brook_info(COMP, "starting %zu part%s (data %s, logs in %s)", r.nrun,
		   r.nrun == 1 ? "" : "s", r.data, logdir);
	int rc = up_supervisor_run(s);
	up_status_free(r.status);
	r.status = NULL;
	up_supervisor_free(s);
	if (rc == 0)
		brook_info(COMP, "stopped");
	else
		brook_info(COMP, "stopped (exit code %d)", rc);
	return rc;
}
