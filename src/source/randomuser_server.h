/*
 * randomuser_server.h — `brook randomuser`: the offline randomuser.me-compatible API.
 *
 * Routes (all GET; HEAD is served too):
 *   /api/, /api, /api/1.4/, /api/1.4   the generator (see source/randomuser.h for the
 *                                      parameters and the error rules): 200 with JSON or
 *                                      CSV; 400 {"error":"..."} for a bad parameter
 *   /healthz                           200 "ok"
 *   /metrics                           Prometheus text: brook_randomuser_requests_total
 *                                      {status}, brook_randomuser_users_total,
 *                                      brook_randomuser_request_duration_seconds
 *   anything else                      404 {"error":"..."}
 *
 * Lifecycle: randomuser_server_open() binds and serves at once, and logs
 * "ready: randomuser API on http://HOST:PORT/api/" with the port actually bound (so
 * port 0 works); randomuser_server_close() stops accepting, finishes in-flight
 * requests and frees everything. Handlers run on the HTTP worker threads.
 */
#ifndef BROOK_SOURCE_RANDOMUSER_SERVER_H
#define BROOK_SOURCE_RANDOMUSER_SERVER_H

#include <stdint.h>

#include "core/config.h"

typedef struct randomuser_server randomuser_server;

typedef struct randomuser_server_opts {
	char host[256];      /* "127.0.0.1" */
	int port;            /* 0: ephemeral */
	int threads;         /* HTTP worker threads; 0: number of CPUs */
	int64_t max_results; /* cap for ?results=, 1..5000; 0: 5000 */
} randomuser_server_opts;

/* randomuser.listen, randomuser.threads, randomuser.max_results */
extern const brook_cfg_key randomuser_config_keys[];

/* Fill opts from the randomuser.* keys. BROOK_OK, or BROOK_ERR with a message. */
int randomuser_server_opts_from_config(const brook_config *cfg, randomuser_server_opts *opts,
				       char *err, size_t errlen);
/* NULL on failure (cannot bind, ...) with a message in err. */
randomuser_server *randomuser_server_open(const randomuser_server_opts *opts, char *err,
					  size_t errlen);
int randomuser_server_port(const randomuser_server *s);
void randomuser_server_close(randomuser_server *s);

#endif
