/*
 * worker.c — the connector manager (design in worker.h).
 */
#include "connect/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "connect/connect_int.h"
#include "connect/incr_task.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/mem.h"

#define COMP	       "connect"
#define MAX_FILE_BYTES (16u << 20)

struct connect_worker {
	char *dir;	 /* DATA/connect */
	char *file;	 /* DATA/connect/connectors.json */
	char *state_dir; /* DATA/connect/state */
	char *bootstrap;
	char *registry;
	char *worker_id;
	pthread_mutex_t mu; /* guards conns and the connectors file */
	connect_connector **conns;
	size_t n;
};

const char *connect_state_name(connect_state s)
{
	switch (s) {
	case CONNECT_RUNNING: return "RUNNING";
	case CONNECT_PAUSED: return "PAUSED";
	case CONNECT_FAILED: return "FAILED";
	default: return "UNASSIGNED";
	}
}

const char *connect_cfg(const json_t *config, const char *key, const char *def)
{
	const char *v = json_string_value(json_object_get(config, key));
	return v && *v ? v : def;
}

bool connect_name_valid(const char *name)
{
	size_t n = strlen(name);
	return n >= 1 && n <= 200 && name[0] != '.' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
		       n;
}

int connect_config_validate(const json_t *config, char *err, size_t errlen)
{
	if (!json_is_object(config)) {
		snprintf(err, errlen, "config must be an object of strings");
		return BROOK_ERR;
	}
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)config, key, v) {
		if (!json_is_string(v)) {
			snprintf(err, errlen, "config value of %s must be a string", key);
			return BROOK_ERR;
		}
	}
	const char *cls = connect_cfg(config, "connector.class", NULL);
	if (!cls) {
		snprintf(err, errlen, "connector.class is required (postgres-cdc)");
		return BROOK_ERR;
	}
	if (strcmp(cls, "postgres-cdc") == 0 ||
	    strcmp(cls, "io.debezium.connector.postgresql.PostgresConnector") == 0)
		return connect_pgcdc_validate(config, err, errlen);
	if (strcmp(cls, "postgres-incrementing") == 0)
		return connect_incr_validate(config, err, errlen);
	snprintf(err, errlen, "unknown connector.class '%s' (known: postgres-cdc, "
		 "postgres-incrementing)", cls);
	return BROOK_ERR;
}

/* Numbers and booleans become strings (Kafka Connect configs are strings). */
static json_t *config_normalize(const json_t *in)
{
	json_t *out = json_object();
	const char *key;
	json_t *v;
	if (!json_is_object(in))
		return out;
	json_object_foreach((json_t *)in, key, v) {
		char tmp[64];
		if (json_is_integer(v))
			snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
		else if (json_is_real(v))
			snprintf(tmp, sizeof tmp, "%.17g", json_real_value(v));
		else if (json_is_boolean(v))
			snprintf(tmp, sizeof tmp, "%s", json_is_true(v) ? "true" : "false");
		if (json_is_number(v) || json_is_boolean(v))
			json_object_set_new(out, key, json_string(tmp));
		else
			json_object_set(out, key, v);
	}
	return out;
}

/* ---- task side ---- */

static bool yield_locked(const connect_connector *c)
{
	return c->stop || c->pause || c->restart_gen != c->run_gen;
}

bool connect_task_yield(connect_connector *c)
{
	pthread_mutex_lock(&c->mu);
	bool y = yield_locked(c);
	pthread_mutex_unlock(&c->mu);
	return y;
}

bool connect_task_sleep(connect_connector *c, int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&c->mu);
	int rc = 0;
	while (!yield_locked(c) && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&c->cond, &c->mu, &ts);
	bool y = yield_locked(c);
	pthread_mutex_unlock(&c->mu);
	return y;
}

void connect_task_fail(connect_connector *c, const char *msg)
{
	pthread_mutex_lock(&c->mu);
	snprintf(c->trace, sizeof c->trace, "%s", msg);
	pthread_mutex_unlock(&c->mu);
}

/* The connector's thread: runs its task while wanted (see worker.h's states). */
static void *connector_main(void *arg)
{
	pthread_setname_np(pthread_self(), "connector");
	connect_connector *c = arg;
	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		if (c->pause) {
			c->state = CONNECT_PAUSED;
			pthread_cond_wait(&c->cond, &c->mu);
			continue;
		}
		if (c->failed && c->failed_gen == c->restart_gen) {
			c->state = CONNECT_FAILED;
			pthread_cond_wait(&c->cond, &c->mu);
			continue;
		}
		c->failed = false;
		c->trace[0] = '\0';
		c->run_gen = c->restart_gen;
		c->state = CONNECT_RUNNING;
		pthread_mutex_unlock(&c->mu);
		brook_info(COMP, "connector %s: task 0 running", c->name);
		bool incr = strcmp(connect_cfg(c->config, "connector.class", ""),
				   "postgres-incrementing") == 0;
		int rc = incr ? connect_incr_run(c) : connect_pgcdc_run(c);
		pthread_mutex_lock(&c->mu);
		if (rc != BROOK_OK) {
			c->failed = true;
			c->failed_gen = c->run_gen;
		} else {
			c->trace[0] = '\0';
		}
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* ---- connectors ---- */

static connect_connector *conn_new(connect_worker *w, const char *name, json_t *config,
				   bool paused)
{
	connect_connector *c = brook_calloc(1, sizeof *c);
	c->name = brook_strdup(name);
	c->config = config;
	size_t n = strlen(w->state_dir) + strlen(name) + 8;
	c->state_path = brook_malloc(n);
	snprintf(c->state_path, n, "%s/%s.json", w->state_dir, name);
	c->default_bootstrap = w->bootstrap;
	c->default_registry = w->registry;
	c->worker_id = w->worker_id;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	c->pause = paused;
	return c;
}

static void conn_start(connect_connector *c)
{
	c->stop = false;
	c->state = CONNECT_UNASSIGNED;
	if (pthread_create(&c->thread, NULL, connector_main, c) != 0) {
		brook_error(COMP, "connector %s: cannot start its thread", c->name);
		c->state = CONNECT_FAILED;
		snprintf(c->trace, sizeof c->trace, "cannot start a thread");
		return;
	}
	c->thread_started = true;
}

static void conn_stop(connect_connector *c)
{
	if (!c->thread_started)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	c->thread_started = false;
}

static void conn_free(connect_connector *c)
{
	conn_stop(c);
	json_decref(c->config);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cond);
	free(c->state_path);
	free(c->name);
	free(c);
}

static connect_connector *find_locked(connect_worker *w, const char *name, size_t *idx)
{
	for (size_t i = 0; i < w->n; i++) {
		if (strcmp(w->conns[i]->name, name) == 0) {
			if (idx)
				*idx = i;
			return w->conns[i];
		}
	}
	return NULL;
}

/* The connectors file: {"connectors":[{"name","config","paused"}...]}, replaced
 * atomically (fsynced) on every change, under w->mu. */
static int save_locked(connect_worker *w)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < w->n; i++) {
		connect_connector *c = w->conns[i];
		pthread_mutex_lock(&c->mu);
		bool paused = c->pause;
		pthread_mutex_unlock(&c->mu);
		json_array_append_new(arr, json_pack("{s:s, s:O, s:b}", "name", c->name, "config",
						     c->config, "paused", paused));
	}
	json_t *root = json_pack("{s:i, s:o}", "version", 1, "connectors", arr);
	char *s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	int rc = brook_file_write_atomic(w->file, s, strlen(s));
	if (rc != BROOK_OK)
		brook_error(COMP, "cannot write %s: %m", w->file);
	free(s);
	return rc;
}

static int load(connect_worker *w, char *err, size_t errlen)
{
	brook_buf b;
	brook_buf_init(&b, 0);
	if (brook_file_read(w->file, MAX_FILE_BYTES, &b) != BROOK_OK) {
		brook_buf_release(&b);
		if (errno == ENOENT)
			return BROOK_OK;
		snprintf(err, errlen, "cannot read %s: %s", w->file, strerror(errno));
		return BROOK_ERR;
	}
	json_error_t je;
	json_t *root = json_loadb((const char *)b.data, b.len, 0, &je);
	brook_buf_release(&b);
	json_t *arr = json_object_get(root, "connectors");
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "%s is not a connectors file (%s)", w->file,
			 root ? "no connectors array" : je.text);
		json_decref(root);
		return BROOK_ERR;
	}
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		json_t *config = json_object_get(e, "config");
		if (!name || !connect_name_valid(name) || !json_is_object(config) ||
		    find_locked(w, name, NULL)) {
			snprintf(err, errlen, "%s: connector %zu is malformed", w->file, i);
			json_decref(root);
			return BROOK_ERR;
		}
		connect_connector *c = conn_new(w, name, config_normalize(config),
						json_is_true(json_object_get(e, "paused")));
		w->conns = brook_realloc(w->conns, (w->n + 1) * sizeof *w->conns);
		w->conns[w->n++] = c;
	}
	json_decref(root);
	return BROOK_OK;
}

static char *path_join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = brook_malloc(n);
	snprintf(p, n, "%s/%s", a, b);
	return p;
}

connect_worker *connect_worker_open(const connect_worker_opts *o, char *err, size_t errlen)
{
	connect_worker *w = brook_calloc(1, sizeof *w);
	w->dir = path_join(o->data_dir, "connect");
	w->file = path_join(w->dir, "connectors.json");
	w->state_dir = path_join(w->dir, "state");
	w->bootstrap = brook_strdup(o->kafka_bootstrap ? o->kafka_bootstrap : "127.0.0.1:9092");
	w->registry = brook_strdup(o->registry_url ? o->registry_url : "http://127.0.0.1:8081");
	w->worker_id = brook_strdup(o->worker_id ? o->worker_id : "brook");
	pthread_mutex_init(&w->mu, NULL);
	if (brook_mkdirs(w->state_dir, 0755) != BROOK_OK) {
		snprintf(err, errlen, "cannot create %s: %s", w->state_dir, strerror(errno));
		connect_worker_close(w);
		return NULL;
	}
	if (load(w, err, errlen) != BROOK_OK) {
		connect_worker_close(w);
		return NULL;
	}
	for (size_t i = 0; i < w->n; i++)
		conn_start(w->conns[i]);
	if (w->n)
		brook_info(COMP, "restored %zu connector%s from %s", w->n, w->n == 1 ? "" : "s",
			   w->file);
	return w;
}

void connect_worker_close(connect_worker *w)
{
	if (!w)
		return;
	/* Ask every task to stop first, so their sessions close in parallel. */
	for (size_t i = 0; i < w->n; i++) {
		connect_connector *c = w->conns[i];
		pthread_mutex_lock(&c->mu);
		c->stop = true;
		pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->mu);
	}
	for (size_t i = 0; i < w->n; i++)
		conn_free(w->conns[i]);
	free(w->conns);
	pthread_mutex_destroy(&w->mu);
	free(w->dir);
	free(w->file);
	free(w->state_dir);
	free(w->bootstrap);
	free(w->registry);
	free(w->worker_id);
	free(w);
}

int connect_worker_put(connect_worker *w, const char *name, const json_t *config,
		       bool create_only, bool *created, char *err, size_t errlen)
{
	if (!connect_name_valid(name)) {
		snprintf(err, errlen, "connector name '%s' is invalid: use 1 to 200 of "
			 "[A-Za-z0-9._-]", name);
		return BROOK_ERR;
	}
	if (!json_is_object(config)) {
		snprintf(err, errlen, "config must be an object");
		return BROOK_ERR;
	}
	json_t *cfg = config_normalize(config);
	const char *cname = connect_cfg(cfg, "name", NULL);
	if (cname && strcmp(cname, name) != 0) {
		snprintf(err, errlen, "config name '%s' does not match the connector name '%s'",
			 cname, name);
		json_decref(cfg);
		return BROOK_ERR;
	}
	if (connect_config_validate(cfg, err, errlen) != BROOK_OK) {
		json_decref(cfg);
		return BROOK_ERR;
	}
	json_object_set_new(cfg, "name", json_string(name));
	pthread_mutex_lock(&w->mu);
	connect_connector *c = find_locked(w, name, NULL);
	if (c && create_only) {
		pthread_mutex_unlock(&w->mu);
		json_decref(cfg);
		snprintf(err, errlen, "Connector %s already exists", name);
		return CONNECT_EXISTS;
	}
	*created = c == NULL;
	if (c) {
		conn_stop(c);
		/* Another slot, publication or database: the task starts afresh there. */
		static const char *const fresh[] = {"connection.url", "slot.name",
						    "publication.name"};
		for (size_t i = 0; i < sizeof fresh / sizeof fresh[0]; i++) {
			const char *a = connect_cfg(c->config, fresh[i], "");
			if (strcmp(a, connect_cfg(cfg, fresh[i], "")) != 0)
				unlink(c->state_path);
		}
		json_decref(c->config);
		c->config = cfg;
		c->failed = false;
		c->trace[0] = '\0';
	} else {
		c = conn_new(w, name, cfg, false);
		unlink(c->state_path); /* a stale one from a connector of the same name */
		w->conns = brook_realloc(w->conns, (w->n + 1) * sizeof *w->conns);
		w->conns[w->n++] = c;
	}
	if (save_locked(w) != BROOK_OK) {
		snprintf(err, errlen, "cannot save the connectors: %s", strerror(errno));
		pthread_mutex_unlock(&w->mu);
		return BROOK_ERR; /* the caller answers 500 */
	}
	conn_start(c);
	pthread_mutex_unlock(&w->mu);
	brook_info(COMP, "connector %s %s", name, *created ? "created" : "reconfigured");
	return BROOK_OK;
}

int connect_worker_delete(connect_worker *w, const char *name)
{
	size_t idx;
	pthread_mutex_lock(&w->mu);
	connect_connector *c = find_locked(w, name, &idx);
	if (!c) {
		pthread_mutex_unlock(&w->mu);
		return CONNECT_NOT_FOUND;
	}
	memmove(w->conns + idx, w->conns + idx + 1, (w->n - idx - 1) * sizeof *w->conns);
	w->n--;
	int rc = save_locked(w);
	pthread_mutex_unlock(&w->mu);
	/* Outside the map lock: the task may take a while to close its session. */
	conn_stop(c);
	unlink(c->state_path);
	brook_info(COMP, "connector %s deleted (its replication slot is kept: drop it with "
		   "pg_drop_replication_slot when no longer needed)", name);
	conn_free(c);
	return rc;
}

/* Apply fn to a connector under the map lock (so it cannot be deleted meanwhile). */
static int with_conn(connect_worker *w, const char *name, void (*fn)(connect_connector *),
		     bool save)
{
	pthread_mutex_lock(&w->mu);
	connect_connector *c = find_locked(w, name, NULL);
	if (!c) {
		pthread_mutex_unlock(&w->mu);
		return CONNECT_NOT_FOUND;
	}
	pthread_mutex_lock(&c->mu);
	fn(c);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mu);
	int rc = save ? save_locked(w) : BROOK_OK;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static void do_pause(connect_connector *c)
{
	c->pause = true;
}

static void do_resume(connect_connector *c)
{
	c->pause = false;
}

static void do_restart(connect_connector *c)
{
	c->restart_gen++;
}

int connect_worker_pause(connect_worker *w, const char *name)
{
	return with_conn(w, name, do_pause, true);
}

int connect_worker_resume(connect_worker *w, const char *name)
{
	return with_conn(w, name, do_resume, true);
}

int connect_worker_restart(connect_worker *w, const char *name)
{
	return with_conn(w, name, do_restart, false);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *connect_worker_names(connect_worker *w)
{
	pthread_mutex_lock(&w->mu);
	const char **names = brook_calloc(w->n + 1, sizeof *names);
	for (size_t i = 0; i < w->n; i++)
		names[i] = w->conns[i]->name;
	qsort(names, w->n, sizeof *names, name_cmp);
	json_t *arr = json_array();
	for (size_t i = 0; i < w->n; i++)
		json_array_append_new(arr, json_string(names[i]));
	free(names);
	pthread_mutex_unlock(&w->mu);
	return arr;
}

json_t *connect_worker_config(connect_worker *w, const char *name)
{
	pthread_mutex_lock(&w->mu);
	connect_connector *c = find_locked(w, name, NULL);
	json_t *cfg = c ? json_deep_copy(c->config) : NULL;
	pthread_mutex_unlock(&w->mu);
	return cfg;
}

json_t *connect_worker_status(connect_worker *w, const char *name)
{
	pthread_mutex_lock(&w->mu);
	connect_connector *c = find_locked(w, name, NULL);
	if (!c) {
		pthread_mutex_unlock(&w->mu);
		return NULL;
	}
	pthread_mutex_lock(&c->mu);
	connect_state st = c->state;
	/* A pause or restart asked for shows at once, as Kafka Connect does. */
	if (c->pause && (st == CONNECT_RUNNING || st == CONNECT_UNASSIGNED))
		st = CONNECT_PAUSED;
	json_t *task = json_pack("{s:i, s:s, s:s}", "id", 0, "state", connect_state_name(st),
				 "worker_id", w->worker_id);
	if (c->trace[0])
		json_object_set_new(task, "trace", json_string(c->trace));
	json_t *status = json_pack("{s:s, s:{s:s, s:s}, s:[o], s:s}", "name", c->name,
				   "connector", "state",
				   connect_state_name(st == CONNECT_FAILED ? CONNECT_RUNNING : st),
				   "worker_id", w->worker_id, "tasks", task, "type", "source");
	json_object_set_new(json_object_get(status, "connector"), "lag_bytes",
			    json_integer((json_int_t)c->lag_bytes));
	json_object_set_new(json_object_get(status, "connector"), "dead_letters",
			    json_integer((json_int_t)c->dead_letters));
	pthread_mutex_unlock(&c->mu);
	pthread_mutex_unlock(&w->mu);
	return status;
}
