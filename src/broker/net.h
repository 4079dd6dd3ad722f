/*
 * net.h — the broker's network layer: a libuv TCP listener, Kafka framing, and
 * in-order responses.
 *
 * Kafka clients pipeline requests on one connection and expect responses in request
 * order. Each complete frame (a 4-byte big-endian size, then that many bytes) becomes a
 * request with a *slot* in its connection's response queue. A handler completes its
 * slot now or later (a produce waiting for fsync, a fetch waiting for data, a join
 * waiting for the rebalance); the connection writes completed slots from the head of
 * the queue only, so responses leave in order whatever order handlers finish in.
 *
 * Bounds: a frame larger than max_request_bytes (or with a negative size) closes that
 * connection with a log line; at most max_inflight requests per connection are
 * outstanding — beyond that the connection stops reading until responses drain, which
 * pushes back on the client through TCP.
 *
 * Lifetimes: a slot stays valid until completed, even if its connection closes
 * meanwhile (the response is then dropped). A connection is freed once it is closed
 * and has no outstanding slots. Everything runs on the loop's thread.
 */
#ifndef BROOK_BROKER_NET_H
#define BROOK_BROKER_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "core/buf.h"

typedef struct broker_net broker_net;
typedef struct broker_conn broker_conn;
typedef struct broker_slot broker_slot;

/* A frame arrived: frame[0..len) is the request (without the size prefix) and is the
 * handler's to free() when done with it. The handler must eventually complete slot. */
typedef void (*broker_frame_fn)(void *arg, broker_conn *conn, broker_slot *slot, uint8_t *frame,
				size_t len);

typedef struct broker_net_opts {
	const char *host;
	int port;                 /* 0: ephemeral */
	size_t max_request_bytes; /* frames above this close the connection */
	int max_inflight;         /* outstanding requests per connection */
	broker_frame_fn on_frame;
	void *arg;
} broker_net_opts;

broker_net *broker_net_open(uv_loop_t *loop, const broker_net_opts *o, char *err, size_t errlen);
int broker_net_port(const broker_net *n);
/* Stop listening and close every connection (pending slots stay valid). */
void broker_net_close(broker_net *n);
size_t broker_net_connections(const broker_net *n);

/* The response bytes (with the 4-byte size prefix, see broker_slot_begin_response) are
 * taken from resp, which is left empty. */
void broker_slot_complete(broker_slot *s, brook_buf *resp);
/*
 * Complete with file regions spliced into the response (zero-copy Fetch): part i's
 * bytes belong at position parts[i].at of resp (ascending). When the connection has
 * nothing else queued, the buffer goes out with write() and the file regions with
 * sendfile(2), straight from the page cache; if the socket fills up, the rest is read
 * into memory and queued. parts (heap) is taken; each part's release(ref) is called
 * once its bytes are sent or the connection is gone.
 */
typedef struct broker_file_part {
	size_t at;
	int fd;
	int64_t pos;
	size_t len;
	void (*release)(void *ref);
	void *ref;
} broker_file_part;
void broker_slot_complete_parts(broker_slot *s, brook_buf *resp, broker_file_part *parts,
				size_t nparts);
/* Complete without sending anything (Produce with acks=0). */
void broker_slot_complete_silent(broker_slot *s);
/* Complete by closing the connection (a malformed request). */
void broker_slot_fail(broker_slot *s, const char *why);

broker_conn *broker_slot_conn(const broker_slot *s);
bool broker_conn_alive(const broker_conn *c);
const char *broker_conn_peer(const broker_conn *c); /* "127.0.0.1:51234" */
/* Per-connection state owned by the layer above (SASL progress). */
void *broker_conn_user(const broker_conn *c);
void broker_conn_set_user(broker_conn *c, void *user, void (*free_fn)(void *));

#endif
