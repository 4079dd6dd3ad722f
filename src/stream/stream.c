/* stream.c — the stream processor's jobs (see stream.h). */
#include "stream/stream.h"

const brook_cfg_key stream_config_keys[] = {
	{"stream.group", BROOK_CFG_STR, "brook-stream", "stream processor consumer group", NULL},
	{"stream.metrics_listen", BROOK_CFG_STR, "127.0.0.1:9310",
	 "Prometheus /metrics listener (HOST:PORT; port 0 picks one; empty: off)", NULL},
	{NULL, 0, NULL, NULL, NULL},
};
