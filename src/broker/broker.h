/*
 * broker.h — brook's Kafka-protocol broker: one node, durable logs, consumer groups.
 *
 *   broker *b = broker_open(cfg, err, sizeof err);   // recovers every log, binds
 *   broker_run(b);      // serves on the calling thread until broker_stop()
 *   broker_close(b);
 *
 * broker_stop() may be called from any thread (a signal-waiting main thread): the
 * broker stops accepting requests, answers the ones in flight (fetches waiting for
 * data answer with what they have; produces waiting for fsync get it), flushes every
 * log, and broker_run() returns.
 *
 * What an acknowledgement promises (docs/BROKER.md says the same for users):
 *   acks=0   nothing: no response is sent.
 *   acks=1   the batch was validated, assigned offsets and written to the partition's
 *            segment file: it survives the brook process being killed (SIGKILL), but
 *            not a machine crash or power loss before the next flush (at most
 *            broker.flush_interval later).
 *   acks=all the batch was fdatasync()ed to disk before the answer (group commit across
 *            requests and partitions): it survives a power loss.
 * Committed consumer offsets are acknowledged like acks=all.
 */
#ifndef BROOK_BROKER_BROKER_H
#define BROOK_BROKER_BROKER_H

#include <stddef.h>

#include "core/config.h"

typedef struct broker broker;

/* The broker.* configuration keys. */
extern const brook_cfg_key broker_config_keys[];

/* Reads the broker.* keys and `data` from cfg (which must outlive the broker). */
broker *broker_open(const brook_config *cfg, char *err, size_t errlen);
int broker_port(const broker *b);
/* "host:port" the broker listens on (the real port when configured with 0). */
const char *broker_listen_addr(const broker *b);
/* "host:port" clients are told to connect to (Metadata). */
const char *broker_advertised(const broker *b);
int broker_metrics_port(const broker *b); /* 0 when metrics are off */
void broker_run(broker *b);
void broker_stop(broker *b);
void broker_close(broker *b);

#endif
