/*
 * server.h — brook's CQL store server: CQL native protocol v4 on a libuv loop.
 *
 *   store_server *s = store_server_open(cfg, err, sizeof err);  // recovers, binds
 *   store_server_run(s);    // serves on the calling thread until store_server_stop()
 *   store_server_close(s);
 *
 * store_server_stop() may be called from any thread: the server stops reading, waits
 * for the writes in flight to be synced and answered, flushes every memtable, and
 * store_server_run() returns.
 *
 * What an acknowledgement of a write (INSERT / UPDATE / DELETE / BATCH answered with a
 * RESULT) promises — docs/STORE.md says the same for users:
 *   store.commitlog_sync=batch (default): the mutation is in the commit log and was
 *     fdatasync()ed before the answer (group commit: concurrent requests share one
 *     fdatasync, optionally waiting store.commitlog_sync_window_us for company). It
 *     survives a crash of brook, of the kernel, or a power loss.
 *   store.commitlog_sync=periodic: the mutation was written to the commit log file (it
 *     survives a brook crash such as SIGKILL); fdatasync runs every
 *     store.commitlog_sync_period_ms, so a power loss may lose that much.
 * A batch's mutations of one table are atomic (one commit log record); across tables
 * they are not (as Cassandra's unlogged batches). Schema changes are durable before
 * their answer.
 */
#ifndef BROOK_STORE_SERVER_H
#define BROOK_STORE_SERVER_H

#include <stddef.h>

#include "core/config.h"

typedef struct store_server store_server;

/* The store.* configuration keys. */
extern const brook_cfg_key store_config_keys[];

/* Reads the store.* keys and `data` from cfg (which must outlive the server). */
store_server *store_server_open(const brook_config *cfg, char *err, size_t errlen);
/* "host:port" the server listens on (the real port when configured with 0). */
const char *store_server_listen_addr(const store_server *s);
int store_server_metrics_port(const store_server *s); /* 0 when metrics are off */
void store_server_run(store_server *s);
void store_server_stop(store_server *s);
void store_server_close(store_server *s);

#endif
