/*
 * up.h — `brook up`: the whole pipeline as supervised child processes of one brook.
 *
 * brook_up_run() decides which parts to run, starts each as `brook <part> ...` (a child
 * of /proc/self/exe) in pipeline order, waits for each one's ready line before starting
 * the next, prints the endpoints once all are ready, restarts a part that dies (with
 * exponential backoff), shows a status line, and stops everything in reverse order on
 * SIGINT/SIGTERM. The process machinery is in up/supervisor.h; the status line in
 * up/status.h; this module holds the configuration, the choice of parts and the
 * endpoint table.
 *
 * Parts, in start order: postgres, randomuser, broker, store, registry, scheduler,
 * connect, stream. up.parts drops parts. A part whose endpoint key points somewhere else
 * than its own listener is *external* and not started:
 *
 *   postgres    postgres.dsn is set
 *   randomuser  source.url's host:port is not randomuser.listen
 *   broker      the first kafka.bootstrap entry is not broker.listen
 *   store       the first cassandra.contact_points entry is not store.listen
 *   registry    registry.url's host:port is not registry.listen
 *
 * (localhost and 127.0.0.1 are the same host; a listener on 0.0.0.0, :: or an empty
 * host matches either.)
 *
 * Errors: a configuration problem (bad up.parts name, unparsable endpoint) is a usage
 * error, exit code 2; a part that fails to start, exit code 1.
 */
#ifndef BROOK_UP_UP_H
#define BROOK_UP_UP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

extern const brook_cfg_key up_config_keys[];

/* How the children are started: these arguments are passed to every child unchanged
 * (after `brook <part> --data DIR`), typically the user's --config, --set, --log-level
 * and --log-format, in the order given. Not copied: keep them alive during the run. */
typedef struct brook_up_opts {
	const char *const *pass; /* argv-style, npass entries */
	size_t npass;
} brook_up_opts;

/* Validate the configuration for `brook up` (up.parts names, endpoint syntax).
 * BROOK_OK, or BROOK_ERR with a message. */
int brook_up_check(const brook_config *cfg, char *err, size_t errlen);

/* Run the pipeline until SIGINT/SIGTERM. Returns the exit code: 0 after a clean stop, 1
 * when a part failed to start or a second signal forced the stop, 2 on a configuration
 * error (message logged). Blocks SIGINT, SIGTERM and SIGCHLD in the calling thread. */
int brook_up_run(const brook_config *cfg, const brook_up_opts *opts);

/* Helpers, exposed for unit tests. */

/* "host:port" of an endpoint given as HOST:PORT or as a URL (scheme://host[:port]/...;
 * http's default port 80, https's 443). BROOK_OK with host (malloc'd) and port. */
int brook_up_endpoint(const char *s, char **host, int *port);
/* Whether a client endpoint `target` reaches the listener `listen` (see above). Both
 * are parsed with brook_up_endpoint; false when either does not parse. */
bool brook_up_same_endpoint(const char *target, const char *listen);
/* The sum over every series of metric `name` in Prometheus text exposition format.
 * BROOK_OK with *sum, BROOK_ERR when no sample of that name is present. */
int brook_up_prom_sum(const char *text, size_t len, const char *name, double *sum);

#endif
