/*
 * stream.h — the stream processor (`brook stream`): the jobs of `stream.jobs`, each a
 * member of its consumer group on its own thread (runner.h), sharing one registry client
 * and one metrics registry, served on stream.metrics_listen.
 *
 * Life: stream_proc_open loads and checks every job (an error names file:line), opens
 * /metrics, creates the Kafka clients and starts the jobs; sinks connect in the jobs'
 * threads (a store that is not up yet is waited for, not an error).
 * stream_proc_close raises the stop flag, waits for every job to finish or abandon its
 * micro-batch (nothing is committed for an abandoned one) and to leave its group.
 * Scale-out: start the same configuration in more processes; the group spreads the
 * partitions among them.
 */
#ifndef BROOK_STREAM_STREAM_H
#define BROOK_STREAM_STREAM_H

#include <stddef.h>

#include "core/config.h"

extern const brook_cfg_key stream_config_keys[];

typedef struct stream_proc stream_proc;

/* only: comma-separated job names to run (NULL: every job). */
stream_proc *stream_proc_open(const brook_config *cfg, const char *only, char *err,
			      size_t errlen);
/* Logs the ready line (jobs, metrics address). */
void stream_proc_ready(stream_proc *p);
void stream_proc_close(stream_proc *p);

/* Loads and checks the jobs of cfg without running anything (`brook stream --check`):
 * BROOK_OK with a summary in out, or BROOK_ERR with the first error. */
int stream_check_config(const brook_config *cfg, brook_buf *out, char *err, size_t errlen);

#endif
