/*
 * api.h — the Schema Registry's REST API, compatible with Confluent Schema Registry.
 *
 * Routes (core/httpd.h) over a store (store.h) fed by a record log (log.h). Reads are
 * answered from the store. A write builds its record(s) from the store
 * (reg_store_plan_*), appends them to the log, waits until the log's reader applied
 * them, and answers from the store; a registration whose record lost a race with
 * another registry (ignored by the store) is planned and written again, up to
 * REG_API_WRITE_TRIES times. Writes of one process are serialized by a mutex, so a
 * process never races itself.
 *
 * Answers are application/vnd.schemaregistry.v1+json; request bodies may be
 * application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json,
 * application/json or application/octet-stream (or untyped), others get 415. Errors are
 * Confluent's {"error_code":N,"message":"..."} with HTTP status N/100 (409 and 4xx
 * request errors as themselves); a log that fails or times out gives 50001/50002.
 * Beyond the list: GET /schemas/ids/{id}?fetchMaxId=true adds "maxId", and
 * GET /subjects/{s}/versions/{v}/referencedby answers [] (no schema references).
 */
#ifndef BROOK_REGISTRY_API_H
#define BROOK_REGISTRY_API_H

#include "core/config.h"
#include "registry/log.h"
#include "registry/store.h"

#define REG_API_WRITE_TRIES 20
#define REG_API_WAIT_MS     30000 /* longest wait for one's own record to be applied */

typedef struct reg_api reg_api;

/* Serve on host:port (0: ephemeral). The store and the (started) log stay the caller's
 * and must outlive the API. NULL with a message on failure. */
reg_api *reg_api_open(reg_store *st, reg_log *log, const char *host, int port, char *err,
		      size_t errlen);
int reg_api_port(const reg_api *a);
void reg_api_close(reg_api *a);

/* registry.listen, registry.topic (the bootstrap is kafka.bootstrap). */
extern const brook_cfg_key registry_config_keys[];

#endif
