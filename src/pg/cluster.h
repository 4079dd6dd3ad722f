/*
 * cluster.h — brook's private PostgreSQL cluster: initdb on first start, pg_ctl to start
 * and stop, a generated password for user `brook`.
 *
 * Layout of a cluster directory DIR (brook postgres uses DATA/postgres):
 *
 *   DIR/pgdata        the PostgreSQL data directory (initdb'd on first open)
 *   DIR/password      the password of the superuser `brook` (mode 0600, created once)
 *   DIR/listen        "HOST:PORT" of the last start, so `brook psql` finds the server
 *   DIR/postgres.log  the server's log (and initdb's output)
 *   DIR/.s.PGSQL.P    the unix socket (password-authenticated like TCP)
 *
 * Authentication is scram-sha-256 everywhere (TCP and the unix socket); no trust or
 * peer lines. pg_hba.conf admits any client address (with the password), so
 * postgres.listen alone decides who can reach the server. postgresql.conf includes pgdata/brook.conf, rewritten on every start
 * with listen_addresses, port, unix_socket_directories and wal_level=logical (CDC needs
 * it), max_replication_slots and max_wal_senders (8 each).
 *
 * States: absent → (initdb) initialised → (pg_ctl start -w) running → (pg_ctl stop -m
 * fast) stopped. pg_cluster_open performs the first two transitions as needed (a
 * server left running by a killed brook is stopped and started again, so the new
 * settings apply) and creates database `brook` if it is missing. PostgreSQL refuses to
 * run as root: when brook is root, DIR is chowned to the `postgres` system user and
 * initdb/pg_ctl run as that user in a forked child (every parent of DIR must then be
 * searchable by it). The binaries are those of the highest version under
 * /usr/lib/postgresql (or $BROOK_PG_BINDIR).
 */
#ifndef BROOK_PG_CLUSTER_H
#define BROOK_PG_CLUSTER_H

#include <stddef.h>
#include <sys/types.h>

#include "core/config.h"

typedef struct pg_cluster pg_cluster;

/* The postgres.* configuration keys. */
extern const brook_cfg_key pg_config_keys[];

/* Initialise DIR if needed and start the server listening on listen_host:port (port
 * 1..65535, or 0: a port free now, chosen here — pg_cluster_port() tells which). On success the handle is yours: pg_cluster_stop() then pg_cluster_close().
 * NULL with a message in err (DIR too long for a unix socket path, initdb or start
 * failed — the message names DIR/postgres.log). */
pg_cluster *pg_cluster_open(const char *dir, const char *listen_host, int port, char *err,
			    size_t errlen);
/* "host=H port=P user=brook password=... dbname=brook"; owned by the handle. */
const char *pg_cluster_dsn(const pg_cluster *c);
const char *pg_cluster_datadir(const pg_cluster *c); /* DIR/pgdata, absolute */
int pg_cluster_port(const pg_cluster *c);
const char *pg_cluster_version(const pg_cluster *c); /* "15" */
/* The postmaster's pid while running (from postmaster.pid), else 0. */
pid_t pg_cluster_postmaster_pid(const pg_cluster *c);
/* pg_ctl stop -m fast (waits). BROOK_OK, or BROOK_ERR with a message. Idempotent. */
int pg_cluster_stop(pg_cluster *c, char *err, size_t errlen);
/* Frees the handle; stops the server first if it is still running. */
void pg_cluster_close(pg_cluster *c);

/* The DSN of an initialised cluster without starting it: the password from
 * DIR/password, the address from DIR/listen (or listen_host:port when DIR/listen is
 * absent). Free with free(). NULL with a message when DIR holds no cluster. */
char *pg_cluster_read_dsn(const char *dir, const char *listen_host, int port, char *err,
			  size_t errlen);

/* Split "HOST:PORT" (port 1..65535). BROOK_OK with host (freed by the caller) and port. */
int pg_parse_listen(const char *listen, char **host, int *port, char *err, size_t errlen);

/* The highest installed PostgreSQL bin directory; freed by the caller; NULL if none. */
char *pg_find_bindir(void);

#endif
