/*
 * net.h — a libuv TCP server for framed binary protocols (Kafka, CQL): framing by a
 * protocol callback, a response queue per connection, back-pressure.
 *
 * Each complete frame becomes a request with a *slot* in its connection's response
 * queue. The protocol's frame_len callback looks at the buffered bytes and says how long
 * the next frame is (header included), that more bytes are needed, or that the frame is
 * bad. A handler completes its slot now or later (a write waiting for fsync, a fetch
 * waiting for data). Ordered mode (Kafka: clients expect responses in request order)
 * writes completed slots from the head of the queue only; unordered mode (CQL: matched by
 * stream id) writes each as soon as it completes.
 *
 * Bounds: frame_len checks the size against the protocol's maximum BEFORE anything is
 * allocated; a bad frame either closes the connection with a log line, or (when
 * on_bad_frame is set) gets an answer written before the close. At most max_inflight
 * requests per connection are outstanding — beyond that the connection stops reading
 * until responses drain, which pushes back on the client through TCP.
 *
 * Lifetimes: a slot stays valid until completed, even if its connection closes
 * meanwhile (the response is then dropped). A connection is freed once it is closed
 * and has no outstanding slots. Everything runs on the loop's thread.
 */
#ifndef BROOK_CORE_NET_H
#define BROOK_CORE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "core/buf.h"

typedef struct brook_net brook_net;
typedef struct brook_conn brook_conn;
typedef struct brook_slot brook_slot;

/* A frame arrived: frame[0..len) is the whole frame (header included) and is the
 * handler's to free() when done with it. The handler must eventually complete slot. */
typedef void (*brook_frame_fn)(void *arg, brook_conn *conn, brook_slot *slot, uint8_t *frame,
				size_t len);

/* The length of the frame starting at p (avail bytes buffered): BROOK_OK with *len (the
 * whole frame, header included), BROOK_AGAIN when more bytes are needed to tell, or
 * BROOK_ERR with the reason in why (the frame is malformed or over the maximum). */
typedef int (*brook_frame_len_fn)(void *arg, const uint8_t *p, size_t avail, size_t *len,
				  char *why, size_t whylen);
/* Optional answer to a bad frame: complete slot with brook_slot_complete_close (or
 * brook_slot_fail). p[0..avail) are the bytes buffered, starting at the bad frame. */
typedef void (*brook_bad_frame_fn)(void *arg, brook_conn *conn, brook_slot *slot, const uint8_t *p,
				   size_t avail, const char *why);

typedef struct brook_net_opts {
	const char *host;
	int port;         /* 0: ephemeral */
	const char *comp; /* log component ("broker", "store") */
	bool unordered;   /* write responses as they complete, not in request order */
	int max_inflight; /* outstanding requests per connection; 0: 32 */
	brook_frame_len_fn frame_len;
	brook_frame_fn on_frame;
	brook_bad_frame_fn on_bad_frame; /* NULL: close the connection */
	void *arg;
} brook_net_opts;

brook_net *brook_net_open(uv_loop_t *loop, const brook_net_opts *o, char *err, size_t errlen);
int brook_net_port(const brook_net *n);
/* Stop listening and close every connection (pending slots stay valid). */
void brook_net_close(brook_net *n);
size_t brook_net_connections(const brook_net *n);

/* The response bytes (a whole frame) are taken from resp, which is left empty. */
void brook_slot_complete(brook_slot *s, brook_buf *resp);
/* Complete, then close the connection once the response is written (a fatal protocol
 * error the client should read, e.g. CQL's unsupported version answer). */
void brook_slot_complete_close(brook_slot *s, brook_buf *resp);
/*
 * Complete with file regions spliced into the response (zero-copy Fetch): part i's
 * bytes belong at position parts[i].at of resp (ascending). When the connection has
 * nothing else queued, the buffer goes out with write() and the file regions with
 * sendfile(2), straight from the page cache; if the socket fills up, the rest is read
 * into memory and queued. parts (heap) is taken; each part's release(ref) is called
 * once its bytes are sent or the connection is gone.
 */
typedef struct brook_file_part {
	size_t at;
	int fd;
	int64_t pos;
	size_t len;
	void (*release)(void *ref);
	void *ref;
} brook_file_part;
void brook_slot_complete_parts(brook_slot *s, brook_buf *resp, brook_file_part *parts,
				size_t nparts);
/* Complete without sending anything (Produce with acks=0). */
void brook_slot_complete_silent(brook_slot *s);
/* Complete by closing the connection (a malformed request). */
void brook_slot_fail(brook_slot *s, const char *why);

brook_conn *brook_slot_conn(const brook_slot *s);
bool brook_conn_alive(const brook_conn *c);
const char *brook_conn_peer(const brook_conn *c); /* "127.0.0.1:51234" */
/* Queue a message the server sends on its own (a CQL EVENT); resp is taken. In ordered
 * mode it goes out after the responses queued before it. */
void brook_conn_push(brook_conn *c, brook_buf *msg);
/* Close a connection now (responses not yet written are dropped). */
void brook_conn_close(brook_conn *c, const char *why);
/* Per-connection state owned by the layer above (SASL progress, CQL session). */
void *brook_conn_user(const brook_conn *c);
void brook_conn_set_user(brook_conn *c, void *user, void (*free_fn)(void *));

#endif
