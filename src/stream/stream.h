/*
 * stream.h — the stream processor (`brook stream`): jobs that consume topics, decode,
 * map and filter records, and write them to a CQL table. (Being written.)
 */
#ifndef BROOK_STREAM_STREAM_H
#define BROOK_STREAM_STREAM_H

#include "core/config.h"

extern const brook_cfg_key stream_config_keys[];

#endif
