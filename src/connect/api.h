/*
 * api.h — Kafka Connect's REST API for brook connect, on core/httpd.h.
 *
 *   GET    /                                  {"version","commit","kafka_cluster_id"}
 *   GET    /connectors[?expand=status]        ["name", ...] or {"name":{"status":...}}
 *   POST   /connectors {"name","config"}      201 {"name","config","tasks","type"}; 409
 *   GET    /connectors/{c}                    {"name","config","tasks","type"}
 *   GET    /connectors/{c}/config             the config
 *   PUT    /connectors/{c}/config             create (201) or update (200)
 *   GET    /connectors/{c}/status             {"name","connector","tasks","type"}
 *   GET    /connectors/{c}/tasks              [{"id":{"connector","task"},"config"}]
 *   PUT    /connectors/{c}/pause, /resume     202
 *   POST   /connectors/{c}/restart            204 (also .../tasks/0/restart)
 *   DELETE /connectors/{c}                    204
 *   GET    /connector-plugins                 [{"class","type","version"}]
 *
 * Errors use Kafka Connect's body {"error_code":N,"message":"..."}: 400 bad config or
 * body, 404 unknown connector, 409 exists, 500 when the connectors file cannot be
 * written. All state is in the connect_worker; handlers only translate.
 */
#ifndef BROOK_CONNECT_API_H
#define BROOK_CONNECT_API_H

#include <stddef.h>

#include "connect/worker.h"
#include "core/config.h"

/* connect.listen (the lead registers this table in src/cli/config_schema.c). */
extern const brook_cfg_key connect_config_keys[];

typedef struct connect_api connect_api;

/* Serves w on host:port (0: ephemeral). NULL with a message on failure. */
connect_api *connect_api_open(connect_worker *w, const char *host, int port, char *err,
			      size_t errlen);
int connect_api_port(const connect_api *a);
/* Stops serving; no handler runs after it returns. */
void connect_api_close(connect_api *a);

#endif
