/*
 * api.h — the scheduler's HTTP face: Airflow's stable REST API v1 (the subset brook
 * implements) and a plain HTML grid view, served by a brook_httpd over a scheduler.
 *
 * Routes (JSON unless noted; shapes are Airflow 2.7's):
 *
 *   GET   /api/v1/health
 *   GET   /api/v1/dags                                   ?limit=&offset=
 *   GET   /api/v1/dags/{dag_id}
 *   PATCH /api/v1/dags/{dag_id}                          {"is_paused": bool}
 *   GET   /api/v1/dags/{dag_id}/dagRuns                  ?limit=&offset= (newest first)
 *   POST  /api/v1/dags/{dag_id}/dagRuns                  {"conf","dag_run_id","logical_date"}
 *   GET   /api/v1/dags/{dag_id}/dagRuns/{dag_run_id}
 *   GET   .../dagRuns/{dag_run_id}/taskInstances
 *   GET   .../taskInstances/{task_id}
 *   GET   .../taskInstances/{task_id}/logs/{task_try_number}   text/plain, or JSON
 *                                                      {"content","continuation_token"}
 *                                                      with Accept: application/json
 *   GET   .../taskInstances/{task_id}/xcomEntries
 *   POST  /api/v1/dags/{dag_id}/backfill                 brook extension:
 *                                                      {"from","to","conf"}
 *   GET   / and /home                                    HTML: every DAG, recent runs
 *   GET   /dags/{dag_id}/grid                            HTML: runs x tasks, log links
 *
 * Errors under /api/ use Airflow's problem shape: the status code and
 * {"detail": msg, "status": N, "title": "Not Found", "type": "about:blank"}.
 */
#ifndef BROOK_SCHEDULER_API_H
#define BROOK_SCHEDULER_API_H

#include <stddef.h>

#include "core/buf.h"
#include "scheduler/scheduler.h"

typedef struct sched_api sched_api;

/* Serve the API for s on host:port (port 0: ephemeral). s must outlive the API.
 * NULL with a message in err. */
sched_api *sched_api_open(scheduler *s, const char *host, int port, char *err, size_t errlen);
int sched_api_port(const sched_api *a);
/* Stops accepting, waits for requests in flight, frees. */
void sched_api_close(sched_api *a);

/* Append s percent-encoded as one URL path segment (unreserved characters kept), for
 * the HTML links and the `brook dags` client. */
void sched_api_put_segment(brook_buf *b, const char *s);

#endif
