/* stream.c — the stream processor's process: jobs, registry client, metrics (stream.h). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/httpd.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "registry/client.h"
#include "stream/job.h"
#include "stream/runner.h"
#include "stream/stream.h"

#define COMP "stream"

const brook_cfg_key stream_config_keys[] = {
	{"stream.group", BROOK_CFG_STR, "brook-stream",
	 "consumer group prefix: a job's group is <stream.group>.<job> unless it names one",
	 NULL},
	{"stream.jobs", BROOK_CFG_TREE, NULL,
	 "the stream jobs (docs/STREAM.md): source, input, where, map, sink, dead_letter_topic",
	 NULL},
	{"stream.metrics_listen", BROOK_CFG_STR, "127.0.0.1:9310",
	 "Prometheus /metrics listener (HOST:PORT; port 0 picks one; empty: off)", NULL},
	{"stream.threads", BROOK_CFG_INT, "2",
	 "threads per job that decode and map a micro-batch's records (1: the job's own)", NULL},
	{"stream.session_timeout", BROOK_CFG_DURATION, "10s",
	 "consumer group session timeout: how soon a dead member's partitions move", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

struct stream_proc {
	stream_jobs jobs;
	stream_runner **runners;
	sr_client *registry;
	brook_metrics *metrics;
	brook_httpd *http;
	atomic_bool stop;
	cql_client_opts cql;
	stream_env env;
	char *bootstrap;
};

static void metrics_handler(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	(void)req;
	stream_proc *p = arg;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	brook_metrics_render(p->metrics, &resp->body);
}

static int load_jobs(const brook_config *cfg, const char *only, stream_jobs *jobs, char *err,
		     size_t errlen)
{
	if (stream_jobs_load(brook_config_tree(cfg, "stream.jobs"),
			     brook_config_str(cfg, "stream.group"), jobs, err, errlen) != BROOK_OK)
		return BROOK_ERR;
	if (stream_jobs_select(jobs, only, err, errlen) != BROOK_OK) {
		stream_jobs_free(jobs);
		return BROOK_ERR;
	}
	if (!jobs->n) {
		snprintf(err, errlen, "no stream jobs to run (stream.jobs is empty)");
		stream_jobs_free(jobs);
		return BROOK_ERR;
	}
	return BROOK_OK;
}

int stream_check_config(const brook_config *cfg, brook_buf *out, char *err, size_t errlen)
{
	stream_jobs jobs;
	if (load_jobs(cfg, NULL, &jobs, err, errlen) != BROOK_OK)
		return BROOK_ERR;
	for (size_t i = 0; i < jobs.n; i++) {
		const stream_job *j = &jobs.v[i];
		brook_buf_printf(out, "job %s: %s -> %s.%s (group %s)\n", j->name, j->topics[0],
				 j->keyspace, j->table, j->group);
		stream_job_create_table_cql(j, out);
		brook_buf_puts(out, "\n");
		stream_job_insert_cql(j, out);
		brook_buf_puts(out, "\n");
	}
	stream_jobs_free(&jobs);
	return BROOK_OK;
}

stream_proc *stream_proc_open(const brook_config *cfg, const char *only, char *err,
			      size_t errlen)
{
	stream_proc *p = brook_calloc(1, sizeof *p);
	atomic_init(&p->stop, false);
	if (load_jobs(cfg, only, &p->jobs, err, errlen) != BROOK_OK) {
		free(p);
		return NULL;
	}
	const char *bootstrap = brook_config_str(cfg, "kafka.bootstrap");
	if (!bootstrap || !*bootstrap) {
		snprintf(err, errlen, "kafka.bootstrap is empty");
		goto fail;
	}
	int64_t threads = brook_config_int(cfg, "stream.threads");
	if (threads < 1 || threads > 64) {
		snprintf(err, errlen, "stream.threads must be 1 to 64, not %lld", (long long)threads);
		goto fail;
	}
	p->bootstrap = brook_strdup(bootstrap);
	p->metrics = brook_metrics_new();
	if (brook_httpd_open_metrics(cfg, "stream.metrics_listen", COMP, metrics_handler, p,
				     &p->http, err, errlen) != BROOK_OK)
		goto fail;
	p->registry = sr_client_new(brook_config_str(cfg, "registry.url"), NULL);
	cql_client_opts_default(&p->cql);
	const char *const *cps;
	p->cql.n_contact_points = brook_config_list(cfg, "cassandra.contact_points", &cps);
	p->cql.contact_points = cps;
	p->cql.connect_timeout_ms = 3000;
	p->env = (stream_env){
		.bootstrap = p->bootstrap,
		.registry = p->registry,
		.cql = &p->cql,
		.session_timeout_ms = brook_config_duration_ms(cfg, "stream.session_timeout"),
		.threads = (int)threads,
		.metrics = p->metrics,
		.stop = &p->stop,
	};
	p->runners = brook_calloc(p->jobs.n, sizeof *p->runners);
	for (size_t i = 0; i < p->jobs.n; i++) {
		p->runners[i] = stream_runner_start(&p->jobs.v[i], &p->env, err, errlen);
		if (!p->runners[i])
			goto fail;
	}
	return p;
fail:
	stream_proc_close(p);
	return NULL;
}

void stream_proc_ready(stream_proc *p)
{
	char jobs[512];
	size_t w = 0;
	jobs[0] = 0;
	for (size_t i = 0; i < p->jobs.n && w < sizeof jobs; i++)
		w += (size_t)snprintf(jobs + w, sizeof jobs - w, "%s%s", i ? ", " : "",
				      p->jobs.v[i].name);
	if (p->http)
		brook_info(COMP, "ready: %zu job(s) (%s); metrics on http://127.0.0.1:%d/metrics",
			   p->jobs.n, jobs, brook_httpd_port(p->http));
	else
		brook_info(COMP, "ready: %zu job(s) (%s)", p->jobs.n, jobs);
}

void stream_proc_close(stream_proc *p)
{
	if (!p)
		return;
	atomic_store(&p->stop, true);
	if (p->runners)
		for (size_t i = 0; i < p->jobs.n; i++)
			stream_runner_join(p->runners[i]);
	free(p->runners);
	brook_httpd_close(p->http);
	sr_client_free(p->registry);
	brook_metrics_free(p->metrics);
	stream_jobs_free(&p->jobs);
	free(p->bootstrap);
	free(p);
}
