/*
 * cdc.c — the PostgreSQL CDC session (see cdc.h for the states and what an
 * acknowledgement means).
 */
#include "pg/cdc.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"

#define CDC_LOG "pg-cdc"
#define CDC_FETCH_ROWS 1000
#define CDC_SQLSTATE_UNDEFINED_OBJECT "42704"

struct pg_cdc {
	PGconn *repl;
	pg_cdc_callbacks cb;
	pgo_relations *rels;
	brook_arena arena;
	int status_interval_ms;
	bool slot_created;
	bool in_txn;
	bool streaming; /* in COPY BOTH mode (START_REPLICATION succeeded, no error since) */
	uint64_t acked;		/* acknowledged (and reported) position */
	uint64_t last_commit;	/* end_lsn of the last delivered commit */
	uint64_t server_wal_end; /* from the last keepalive */
	uint64_t reported;	/* acked as of the last status update */
	int64_t last_status_ms; /* monotonic */
};

static void cdc_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void cdc_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* libpq messages end with a newline; strip it for ours. */
static const char *cdc_pqmsg(const char *m)
{
	static __thread char buf[512];
	snprintf(buf, sizeof buf, "%s", m ? m : "");
	size_t n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}

int pg_cdc_snapshot_mode_parse(const char *s, pg_cdc_snapshot_mode *out)
{
	if (strcmp(s, "initial") == 0)
		*out = PG_CDC_SNAPSHOT_INITIAL;
	else if (strcmp(s, "never") == 0)
		*out = PG_CDC_SNAPSHOT_NEVER;
	else if (strcmp(s, "always") == 0)
		*out = PG_CDC_SNAPSHOT_ALWAYS;
	else
		return BROOK_ERR;
	return BROOK_OK;
}

static bool cdc_slot_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
			return false;
	}
	return true;
}

/* ---- small libpq helpers ---- */

static PGconn *cdc_connect(const char *conninfo, bool replication, char *err, size_t errlen)
{
	const char *keys[] = {"dbname", replication ? "replication" : NULL, NULL};
	const char *vals[] = {conninfo, replication ? "database" : NULL, NULL};
	PGconn *conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn) != CONNECTION_OK) {
		cdc_errf(err, errlen, "cannot connect to PostgreSQL%s: %s",
			 replication ? " for replication" : "", cdc_pqmsg(PQerrorMessage(conn)));
		PQfinish(conn);
		return NULL;
	}
	PGresult *r = PQexec(conn, "SET client_min_messages = warning");
	PQclear(r);
	return conn;
}

/* Run sql (with optional text parameters); on success the result is yours. */
static PGresult *cdc_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
			  char *err, size_t errlen)
{
	PGresult *r = nparams ? PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0)
			      : PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	cdc_errf(err, errlen, "%s", cdc_pqmsg(PQresultErrorMessage(r)));
	PQclear(r);
	return NULL;
}

static int cdc_exec_cmd(PGconn *conn, const char *sql, char *err, size_t errlen)
{
	PGresult *r = cdc_exec(conn, sql, 0, NULL, err, errlen);
	if (!r)
		return BROOK_ERR;
	PQclear(r);
	return BROOK_OK;
}

/* "schema.table" → "\"schema\".\"table\"" (schema public when absent); yours to free. */
static char *cdc_quote_table(PGconn *conn, const char *name)
{
	const char *dot = strchr(name, '.');
	char *schema = dot ? brook_strndup(name, (size_t)(dot - name)) : brook_strdup("public");
	const char *table = dot ? dot + 1 : name;
	char *qs = PQescapeIdentifier(conn, schema, strlen(schema));
	char *qt = PQescapeIdentifier(conn, table, strlen(table));
	size_t n = strlen(qs) + strlen(qt) + 2;
	char *out = brook_malloc(n);
	snprintf(out, n, "%s.%s", qs, qt);
	PQfreemem(qs);
	PQfreemem(qt);
	free(schema);
	return out;
}

/* ---- step 1: the publication ---- */

static int cdc_ensure_publication(PGconn *conn, const pg_cdc_opts *o, char *err, size_t errlen)
{
	const char *p[1] = {o->publication};
	PGresult *r = cdc_exec(conn, "SELECT puballtables FROM pg_publication WHERE pubname = $1",
			       1, p, err, errlen);
	if (!r)
		return BROOK_ERR;
	bool exists = PQntuples(r) == 1;
	bool alltables = exists && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!exists && o->resume) {
		cdc_errf(err, errlen, "publication \"%s\" does not exist: it was dropped while "
			 "the slot \"%s\" was in use", o->publication, o->slot);
		return PG_CDC_GONE;
	}
	if (exists) {
		if (o->ntables == 0 && !alltables)
			brook_warn(CDC_LOG, "publication \"%s\" exists and is not FOR ALL TABLES; "
				   "using it as is", o->publication);
		if (o->ntables == 0 || alltables) {
			if (o->ntables > 0)
				brook_warn(CDC_LOG, "publication \"%s\" exists FOR ALL TABLES, "
					   "not only the listed tables; using it as is",
					   o->publication);
			return BROOK_OK;
		}
		r = cdc_exec(conn, "SELECT schemaname || '.' || tablename "
			     "FROM pg_publication_tables WHERE pubname = $1", 1, p, err, errlen);
		if (!r)
			return BROOK_ERR;
		size_t matched = 0;
		for (int i = 0; i < PQntuples(r); i++) {
			const char *t = PQgetvalue(r, i, 0);
			for (size_t j = 0; j < o->ntables; j++) {
				const char *want = o->tables[j];
				bool same = strchr(want, '.')
						    ? strcmp(want, t) == 0
						    : strncmp(t, "public.", 7) == 0 &&
							      strcmp(t + 7, want) == 0;
				if (same) {
					matched++;
					break;
				}
			}
		}
		if (matched != o->ntables || (size_t)PQntuples(r) != o->ntables)
			brook_warn(CDC_LOG, "publication \"%s\" exists with a different table set "
				   "(%d tables, %zu of the %zu configured); using it as is",
				   o->publication, PQntuples(r), matched, o->ntables);
		PQclear(r);
		return BROOK_OK;
	}

	char *qp = PQescapeIdentifier(conn, o->publication, strlen(o->publication));
	size_t cap = strlen(qp) + 64, len = 0;
	char *sql = brook_malloc(cap);
	len = (size_t)snprintf(sql, cap, "CREATE PUBLICATION %s FOR %s", qp,
			       o->ntables ? "TABLE " : "ALL TABLES");
	PQfreemem(qp);
	for (size_t i = 0; i < o->ntables; i++) {
		char *qt = cdc_quote_table(conn, o->tables[i]);
		size_t need = len + strlen(qt) + 3;
		if (need > cap) {
			cap = need * 2;
			sql = brook_realloc(sql, cap);
		}
		len += (size_t)snprintf(sql + len, cap - len, "%s%s", i ? ", " : "", qt);
		free(qt);
	}
	int rc = cdc_exec_cmd(conn, sql, err, errlen);
	free(sql);
	if (rc != BROOK_OK)
		return BROOK_ERR;
	brook_info(CDC_LOG, "created publication \"%s\"", o->publication);
	return BROOK_OK;
}

/* ---- step 3: the snapshot ---- */

/* Read one table (quoted name qt) inside the snapshot transaction on conn. */
static int cdc_snapshot_table(pg_cdc *c, PGconn *conn, const char *qt, uint64_t lsn, char *err,
			      size_t errlen)
{
	const char *p[1] = {qt};
	PGresult *meta = cdc_exec(conn,
				  "SELECT c.oid, n.nspname, c.relname, c.relreplident "
				  "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
				  "WHERE c.oid = $1::regclass", 1, p, err, errlen);
	if (!meta)
		return BROOK_ERR;
	if (PQntuples(meta) != 1) {
		cdc_errf(err, errlen, "table %s not found", qt);
		PQclear(meta);
		return BROOK_ERR;
	}
	PGresult *cols = cdc_exec(conn,
				  "SELECT a.attname, a.atttypid, a.atttypmod, "
				  "coalesce(a.attnum = ANY(i.indkey), false) "
				  "FROM pg_attribute a LEFT JOIN pg_index i "
				  "ON i.indrelid = a.attrelid AND i.indisprimary "
				  "WHERE a.attrelid = $1::regclass AND a.attnum > 0 "
				  "AND NOT a.attisdropped AND a.attgenerated = '' "
				  "ORDER BY a.attnum", 1, p, err, errlen);
	if (!cols) {
		PQclear(meta);
		return BROOK_ERR;
	}
	int ncols = PQntuples(cols);
	pgo_relation rel = {
		.id = (uint32_t)strtoul(PQgetvalue(meta, 0, 0), NULL, 10),
		.nspname = PQgetvalue(meta, 0, 1),
		.relname = PQgetvalue(meta, 0, 2),
		.replident = PQgetvalue(meta, 0, 3)[0],
		.ncols = (uint16_t)ncols,
		.cols = brook_calloc(ncols ? (size_t)ncols : 1, sizeof(pgo_column)),
	};
	size_t cap = strlen(qt) + 64, len = 0;
	char *sql = brook_malloc(cap);
	len = (size_t)snprintf(sql, cap, "DECLARE brook_cdc_snap NO SCROLL CURSOR FOR SELECT ");
	for (int i = 0; i < ncols; i++) {
		const char *name = PQgetvalue(cols, i, 0);
		rel.cols[i].name = name;
		rel.cols[i].type_oid = (uint32_t)strtoul(PQgetvalue(cols, i, 1), NULL, 10);
		rel.cols[i].typmod = (int32_t)strtol(PQgetvalue(cols, i, 2), NULL, 10);
		rel.cols[i].flags = PQgetvalue(cols, i, 3)[0] == 't' ? PGO_COLUMN_KEY : 0;
		char *qc = PQescapeIdentifier(conn, name, strlen(name));
		size_t need = len + strlen(qc) + strlen(qt) + 16;
		if (need > cap) {
			cap = need * 2;
			sql = brook_realloc(sql, cap);
		}
		len += (size_t)snprintf(sql + len, cap - len, "%s%s", i ? ", " : "", qc);
		PQfreemem(qc);
	}
	snprintf(sql + len, cap - len, "%sFROM %s", ncols ? " " : "", qt);
	int rc = cdc_exec_cmd(conn, sql, err, errlen);
	free(sql);
	pgo_value *vals = brook_calloc(ncols ? (size_t)ncols : 1, sizeof(pgo_value));
	pgo_tuple tuple = {.ncols = (uint16_t)ncols, .cols = ncols ? vals : NULL};
	size_t rows = 0;
	while (rc == BROOK_OK) {
		PGresult *r = cdc_exec(conn, "FETCH 1000 FROM brook_cdc_snap", 0, NULL, err,
				       errlen);
		if (!r) {
			rc = BROOK_ERR;
			break;
		}
		int n = PQntuples(r);
		for (int row = 0; row < n && rc == BROOK_OK; row++) {
			for (int i = 0; i < ncols; i++) {
				if (PQgetisnull(r, row, i)) {
					vals[i] = (pgo_value){.kind = PGO_VALUE_NULL};
				} else {
					vals[i] = (pgo_value){
						.kind = PGO_VALUE_TEXT,
						.len = (uint32_t)PQgetlength(r, row, i),
						.data = (const uint8_t *)PQgetvalue(r, row, i),
					};
				}
			}
			pg_cdc_change ch = {.op = 'r', .rel = &rel, .after = &tuple, .lsn = lsn};
			if (c->cb.change && c->cb.change(c->cb.ud, &ch) != BROOK_OK) {
				cdc_errf(err, errlen, "snapshot of %s stopped by the consumer", qt);
				rc = BROOK_ERR;
			}
			rows++;
		}
		PQclear(r);
		if (n < CDC_FETCH_ROWS)
			break;
	}
	if (rc == BROOK_OK)
		rc = cdc_exec_cmd(conn, "CLOSE brook_cdc_snap", err, errlen);
	if (rc == BROOK_OK)
		brook_info(CDC_LOG, "snapshot of %s: %zu rows", qt, rows);
	free(vals);
	free(rel.cols);
	PQclear(cols);
	PQclear(meta);
	return rc;
}

/* snapshot_name NULL: the current state (mode always with an existing slot). */
static int cdc_snapshot(pg_cdc *c, const pg_cdc_opts *o, const char *snapshot_name,
			uint64_t lsn, char *err, size_t errlen)
{
	PGconn *conn = cdc_connect(o->conninfo, false, err, errlen);
	if (!conn)
		return BROOK_ERR;
	int rc = cdc_exec_cmd(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", err,
			      errlen);
	if (rc == BROOK_OK && snapshot_name) {
		char *lit = PQescapeLiteral(conn, snapshot_name, strlen(snapshot_name));
		char sql[256];
		snprintf(sql, sizeof sql, "SET TRANSACTION SNAPSHOT %s", lit);
		PQfreemem(lit);
		rc = cdc_exec_cmd(conn, sql, err, errlen);
	}
	PGresult *tables = NULL;
	if (rc == BROOK_OK) {
		const char *p[1] = {o->publication};
		tables = cdc_exec(conn, "SELECT quote_ident(schemaname) || '.' || "
				  "quote_ident(tablename) FROM pg_publication_tables "
				  "WHERE pubname = $1 ORDER BY schemaname, tablename",
				  1, p, err, errlen);
		if (!tables)
			rc = BROOK_ERR;
	}
	for (int i = 0; rc == BROOK_OK && i < PQntuples(tables); i++)
		rc = cdc_snapshot_table(c, conn, PQgetvalue(tables, i, 0), lsn, err, errlen);
	PQclear(tables);
	if (rc == BROOK_OK)
		rc = cdc_exec_cmd(conn, "COMMIT", err, errlen);
	PQfinish(conn);
	return rc;
}

/* ---- step 2 and 4: the replication connection ---- */

/* Look the slot up. BROOK_OK with *exists and *confirmed. */
static int cdc_find_slot(PGconn *conn, const pg_cdc_opts *o, bool *exists, uint64_t *confirmed,
			 char *err, size_t errlen)
{
	const char *p[1] = {o->slot};
	PGresult *r = cdc_exec(conn, "SELECT plugin, coalesce(confirmed_flush_lsn::text, '0/0'), "
			       "database = current_database() FROM pg_replication_slots "
			       "WHERE slot_name = $1", 1, p, err, errlen);
	if (!r)
		return BROOK_ERR;
	*exists = PQntuples(r) == 1;
	*confirmed = 0;
	int rc = BROOK_OK;
	if (*exists) {
		if (strcmp(PQgetvalue(r, 0, 0), "pgoutput") != 0 ||
		    strcmp(PQgetvalue(r, 0, 2), "t") != 0) {
			cdc_errf(err, errlen, "replication slot \"%s\" exists but is not a "
				 "pgoutput slot of this database", o->slot);
			rc = BROOK_ERR;
		} else if (pgo_lsn_parse(PQgetvalue(r, 0, 1), confirmed) != BROOK_OK) {
			cdc_errf(err, errlen, "slot \"%s\": bad confirmed_flush_lsn %s", o->slot,
				 PQgetvalue(r, 0, 1));
			rc = BROOK_ERR;
		}
	}
	PQclear(r);
	return rc;
}

static int cdc_start_replication(pg_cdc *c, const pg_cdc_opts *o, uint64_t lsn, char *err,
				 size_t errlen)
{
	char *qp = PQescapeIdentifier(c->repl, o->publication, strlen(o->publication));
	char *lit = PQescapeLiteral(c->repl, qp, strlen(qp));
	char lsnbuf[PGO_LSN_STRLEN];
	pgo_lsn_format(lsn, lsnbuf);
	size_t n = strlen(lit) + strlen(o->slot) + 128;
	char *sql = brook_malloc(n);
	snprintf(sql, n, "START_REPLICATION SLOT %s LOGICAL %s (proto_version '1', "
		 "publication_names %s)", o->slot, lsnbuf, lit);
	PQfreemem(lit);
	PQfreemem(qp);
	PGresult *r = PQexec(c->repl, sql);
	free(sql);
	int rc = BROOK_OK;
	if (PQresultStatus(r) != PGRES_COPY_BOTH) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		cdc_errf(err, errlen, "START_REPLICATION on slot \"%s\": %s", o->slot,
			 cdc_pqmsg(PQresultErrorMessage(r)));
		rc = state && strcmp(state, CDC_SQLSTATE_UNDEFINED_OBJECT) == 0 ? PG_CDC_GONE
										 : BROOK_ERR;
	}
	PQclear(r);
	if (rc == BROOK_OK)
		brook_info(CDC_LOG, "streaming slot \"%s\" from %s", o->slot, lsnbuf);
	return rc;
}

/* The initial snapshot of a slot created by this open failed: drop the slot, so that
 * the next open creates it again and repeats the snapshot (keeping it would make the
 * next open with mode initial stream from the slot without the rows never read). */
static void cdc_forget_slot(pg_cdc *c, const pg_cdc_opts *o)
{
	char sql[128], err[256];
	snprintf(sql, sizeof sql, "DROP_REPLICATION_SLOT %s", o->slot);
	if (cdc_exec_cmd(c->repl, sql, err, sizeof err) != BROOK_OK &&
	    pg_cdc_drop_slot(o->conninfo, o->slot, err, sizeof err) != BROOK_OK) {
		brook_error(CDC_LOG, "the snapshot failed and slot \"%s\" could not be dropped "
			    "(%s): drop it by hand before the next start, or its snapshot will "
			    "be missing", o->slot, err);
		return;
	}
	brook_warn(CDC_LOG, "the snapshot failed: dropped slot \"%s\" so that the next start "
		   "snapshots again", o->slot);
	c->slot_created = false;
}

int pg_cdc_open_rc(const pg_cdc_opts *o, pg_cdc **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!o->conninfo) {
		cdc_errf(err, errlen, "a connection string is required");
		return BROOK_ERR;
	}
	if (!o->slot || !cdc_slot_name_ok(o->slot)) {
		cdc_errf(err, errlen, "slot name \"%s\" is invalid: use 1 to 63 of a-z, 0-9, _",
			 o->slot ? o->slot : "");
		return BROOK_ERR;
	}
	if (!o->publication || !o->publication[0]) {
		cdc_errf(err, errlen, "a publication name is required");
		return BROOK_ERR;
	}
	PGconn *conn = cdc_connect(o->conninfo, false, err, errlen);
	if (!conn)
		return BROOK_ERR;
	/* 1. publication first */
	int rc = cdc_ensure_publication(conn, o, err, errlen);
	bool exists = false;
	uint64_t confirmed = 0;
	if (rc == BROOK_OK)
		rc = cdc_find_slot(conn, o, &exists, &confirmed, err, errlen);
	PQfinish(conn);
	if (rc != BROOK_OK)
		return rc;
	if (!exists && o->resume) {
		cdc_errf(err, errlen, "replication slot \"%s\" does not exist: it was dropped "
			 "behind our back", o->slot);
		return PG_CDC_GONE;
	}

	pg_cdc *c = brook_calloc(1, sizeof *c);
	c->cb = o->cb;
	c->rels = pgo_relations_new();
	c->arena = (brook_arena)BROOK_ARENA_INIT;
	c->status_interval_ms = o->status_interval_ms > 0 ? o->status_interval_ms : 10000;
	c->repl = cdc_connect(o->conninfo, true, err, errlen);
	if (!c->repl) {
		pg_cdc_close(c);
		return BROOK_ERR;
	}
	/* 2. identify, create the slot if missing */
	PGresult *r = cdc_exec(c->repl, "IDENTIFY_SYSTEM", 0, NULL, err, errlen);
	if (!r || PQntuples(r) != 1 || PQnfields(r) < 3) {
		if (r)
			cdc_errf(err, errlen, "IDENTIFY_SYSTEM: bad answer");
		PQclear(r);
		pg_cdc_close(c);
		return BROOK_ERR;
	}
	brook_debug(CDC_LOG, "system %s timeline %s at %s", PQgetvalue(r, 0, 0),
		    PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
	PQclear(r);
	char *snapshot_name = NULL;
	uint64_t start = confirmed;
	if (!exists) {
		char sql[160];
		snprintf(sql, sizeof sql,
			 "CREATE_REPLICATION_SLOT %s LOGICAL pgoutput EXPORT_SNAPSHOT", o->slot);
		r = cdc_exec(c->repl, sql, 0, NULL, err, errlen);
		if (!r || PQntuples(r) != 1 || PQnfields(r) < 3 ||
		    pgo_lsn_parse(PQgetvalue(r, 0, 1), &start) != BROOK_OK) {
			if (r)
				cdc_errf(err, errlen, "CREATE_REPLICATION_SLOT: bad answer");
			PQclear(r);
			pg_cdc_close(c);
			return BROOK_ERR;
		}
		snapshot_name = brook_strdup(PQgetvalue(r, 0, 2));
		PQclear(r);
		c->slot_created = true;
		char lsnbuf[PGO_LSN_STRLEN];
		pgo_lsn_format(start, lsnbuf);
		brook_info(CDC_LOG, "created replication slot \"%s\" at %s (snapshot %s)",
			   o->slot, lsnbuf, snapshot_name);
	}
	c->acked = c->reported = c->last_commit = c->server_wal_end = start;

	/* 3. snapshot, while the replication connection is idle */
	if ((c->slot_created && o->snapshot == PG_CDC_SNAPSHOT_INITIAL) ||
	    o->snapshot == PG_CDC_SNAPSHOT_ALWAYS) {
		if (!c->slot_created)
			brook_warn(CDC_LOG, "snapshot.mode always on existing slot \"%s\": reading "
				   "the current state; changes since the slot's position may "
				   "arrive twice", o->slot);
		rc = cdc_snapshot(c, o, snapshot_name, c->slot_created ? start : 0, err,
				  errlen);
		if (rc != BROOK_OK && c->slot_created)
			cdc_forget_slot(c, o);
	}
	free(snapshot_name);
	/* 4. stream */
	if (rc == BROOK_OK)
		rc = cdc_start_replication(c, o, start, err, errlen);
	if (rc != BROOK_OK) {
		pg_cdc_close(c);
		return rc;
	}
	c->streaming = true;
	c->last_status_ms = brook_mono_ms();
	*out = c;
	return BROOK_OK;
}

pg_cdc *pg_cdc_open(const pg_cdc_opts *o, char *err, size_t errlen)
{
	pg_cdc *c;
	pg_cdc_open_rc(o, &c, err, errlen);
	return c;
}

/* ---- streaming ---- */

static int cdc_status(pg_cdc *c, bool reply_requested, char *err, size_t errlen)
{
	uint8_t msg[PGO_STANDBY_STATUS_LEN];
	pgo_encode_standby_status(c->acked, c->acked, c->acked,
				  pgo_time_from_unix_ms(brook_now_ms()), reply_requested, msg);
	if (PQputCopyData(c->repl, (const char *)msg, sizeof msg) != 1 || PQflush(c->repl) != 0) {
		cdc_errf(err, errlen, "cannot send a status update: %s",
			 cdc_pqmsg(PQerrorMessage(c->repl)));
		return BROOK_ERR;
	}
	c->reported = c->acked;
	c->last_status_ms = brook_mono_ms();
	return BROOK_OK;
}

int pg_cdc_send_status(pg_cdc *c, char *err, size_t errlen)
{
	return cdc_status(c, false, err, errlen);
}

static int cdc_deliver(pg_cdc *c, const pg_cdc_change *ch, char *err, size_t errlen)
{
	if (c->cb.change && c->cb.change(c->cb.ud, ch) != BROOK_OK) {
		cdc_errf(err, errlen, "stream stopped by the consumer");
		return BROOK_ERR;
	}
	return BROOK_OK;
}

static int cdc_handle_xlog(pg_cdc *c, const pgo_copy *cp, char *err, size_t errlen)
{
	pgo_msg m;
	brook_arena_reset(&c->arena);
	if (pgo_decode(cp->payload, cp->payload_len, c->rels, &c->arena, &m, err, errlen) !=
	    BROOK_OK)
		return BROOK_ERR;
	pg_cdc_change ch = {.lsn = cp->wal_start};
	switch (m.type) {
	case PGO_BEGIN:
		c->in_txn = true;
		if (c->cb.begin &&
		    c->cb.begin(c->cb.ud, m.begin.xid, m.begin.final_lsn,
				pgo_time_to_unix_ms(m.begin.commit_time)) != BROOK_OK) {
			cdc_errf(err, errlen, "stream stopped by the consumer");
			return BROOK_ERR;
		}
		return BROOK_OK;
	case PGO_COMMIT:
		c->in_txn = false;
		if (m.commit.end_lsn > c->last_commit)
			c->last_commit = m.commit.end_lsn;
		if (c->cb.commit &&
		    c->cb.commit(c->cb.ud, m.commit.end_lsn,
				 pgo_time_to_unix_ms(m.commit.commit_time)) != BROOK_OK) {
			cdc_errf(err, errlen, "stream stopped by the consumer");
			return BROOK_ERR;
		}
		return BROOK_OK;
	case PGO_INSERT:
		ch.op = 'c';
		ch.rel = m.change.rel;
		ch.after = &m.change.new_tuple;
		return cdc_deliver(c, &ch, err, errlen);
	case PGO_UPDATE:
		ch.op = 'u';
		ch.rel = m.change.rel;
		ch.before_kind = m.change.old_kind;
		ch.before = m.change.old_kind ? &m.change.old_tuple : NULL;
		ch.after = &m.change.new_tuple;
		return cdc_deliver(c, &ch, err, errlen);
	case PGO_DELETE:
		ch.op = 'd';
		ch.rel = m.change.rel;
		ch.before_kind = m.change.old_kind;
		ch.before = m.change.old_kind ? &m.change.old_tuple : NULL;
		return cdc_deliver(c, &ch, err, errlen);
	case PGO_TRUNCATE:
		for (uint32_t i = 0; i < m.truncate.nrels; i++) {
			ch.op = 't';
			ch.rel = pgo_relations_get(c->rels, m.truncate.rel_ids[i]);
			if (!ch.rel) {
				cdc_errf(err, errlen, "Truncate of unknown relation %u",
					 m.truncate.rel_ids[i]);
				return BROOK_ERR;
			}
			if (cdc_deliver(c, &ch, err, errlen) != BROOK_OK)
				return BROOK_ERR;
		}
		return BROOK_OK;
	default: /* Relation (cached by pgo_decode), Type, Origin, Message */
		return BROOK_OK;
	}
}

static int cdc_handle_copy(pg_cdc *c, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	pgo_copy cp;
	if (pgo_parse_copy(buf, len, &cp, err, errlen) != BROOK_OK)
		return BROOK_ERR;
	if (cp.wal_end > c->server_wal_end)
		c->server_wal_end = cp.wal_end; /* a lower bound of the server's position */
	if (cp.kind == PGO_COPY_XLOGDATA)
		return cdc_handle_xlog(c, &cp, err, errlen);
	/* keepalive */
	if (!c->in_txn && c->last_commit <= c->acked && cp.wal_end > c->acked)
		c->acked = cp.wal_end; /* heartbeat: nothing of ours is awaiting an ack */
	if (cp.reply_requested)
		return cdc_status(c, false, err, errlen);
	return BROOK_OK;
}

/* The copy stream ended or failed: the server's error, classified. */
static int cdc_stream_error(pg_cdc *c, char *err, size_t errlen)
{
	int rc = BROOK_ERR;
	PGresult *r;
	bool any = false;
	c->streaming = false;
	while ((r = PQgetResult(c->repl)) != NULL) {
		if (PQresultStatus(r) == PGRES_FATAL_ERROR && !any) {
			const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
			if (state && strcmp(state, CDC_SQLSTATE_UNDEFINED_OBJECT) == 0)
				rc = PG_CDC_GONE;
			cdc_errf(err, errlen, "replication stream failed: %s",
				 cdc_pqmsg(PQresultErrorMessage(r)));
			any = true;
		}
		PQclear(r);
		if (PQstatus(c->repl) == CONNECTION_BAD)
			break;
	}
	if (!any)
		cdc_errf(err, errlen, "replication connection lost: %s",
			 cdc_pqmsg(PQerrorMessage(c->repl)));
	if (rc == PG_CDC_GONE)
		brook_error(CDC_LOG, "%s", err);
	return rc;
}

int pg_cdc_poll(pg_cdc *c, int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = brook_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	bool got = false;
	for (;;) {
		if (PQconsumeInput(c->repl) != 1)
			return cdc_stream_error(c, err, errlen);
		char *buf = NULL;
		int n;
		while ((n = PQgetCopyData(c->repl, &buf, 1)) > 0) {
			got = true;
			int rc = cdc_handle_copy(c, (const uint8_t *)buf, (size_t)n, err, errlen);
			PQfreemem(buf);
			buf = NULL;
			if (rc != BROOK_OK)
				return rc;
		}
		if (n == -1 || n == -2)
			return cdc_stream_error(c, err, errlen);
		int64_t now = brook_mono_ms();
		if (c->acked != c->reported ||
		    now - c->last_status_ms >= c->status_interval_ms) {
			if (cdc_status(c, false, err, errlen) != BROOK_OK)
				return BROOK_ERR;
		}
		if (got || now >= deadline)
			return BROOK_OK;
		int64_t wait = deadline - now;
		int64_t to_status = c->last_status_ms + c->status_interval_ms - now;
		if (to_status < wait)
			wait = to_status > 0 ? to_status : 0;
		struct pollfd pfd = {.fd = PQsocket(c->repl), .events = POLLIN};
		if (pfd.fd < 0) {
			cdc_errf(err, errlen, "replication connection lost");
			return BROOK_ERR;
		}
		if (poll(&pfd, 1, (int)wait) < 0 && errno != EINTR) {
			cdc_errf(err, errlen, "poll: %s", strerror(errno));
			return BROOK_ERR;
		}
	}
}

void pg_cdc_ack(pg_cdc *c, uint64_t lsn)
{
	if (lsn > c->acked)
		c->acked = lsn;
}

uint64_t pg_cdc_acked_lsn(const pg_cdc *c)
{
	return c->acked;
}

uint64_t pg_cdc_lag_bytes(const pg_cdc *c)
{
	return c->server_wal_end > c->acked ? c->server_wal_end - c->acked : 0;
}

bool pg_cdc_slot_created(const pg_cdc *c)
{
	return c->slot_created;
}

void pg_cdc_close(pg_cdc *c)
{
	if (!c)
		return;
	if (c->repl) {
		if (c->streaming && PQstatus(c->repl) == CONNECTION_OK) {
			char err[128];
			cdc_status(c, false, err, sizeof err); /* best effort: report acked */
			PQputCopyEnd(c->repl, NULL);
			PQflush(c->repl);
		}
		PQfinish(c->repl);
	}
	pgo_relations_free(c->rels);
	brook_arena_release(&c->arena);
	free(c);
}

int pg_cdc_drop_slot(const char *conninfo, const char *slot, char *err, size_t errlen)
{
	PGconn *conn = cdc_connect(conninfo, false, err, errlen);
	if (!conn)
		return BROOK_ERR;
	const char *p[1] = {slot};
	int rc = BROOK_ERR;
	int64_t deadline = brook_mono_ms() + 5000;
	for (;;) {
		PGresult *r = cdc_exec(conn, "SELECT pg_terminate_backend(active_pid) "
				       "FROM pg_replication_slots WHERE slot_name = $1 "
				       "AND active_pid IS NOT NULL", 1, p, err, errlen);
		PQclear(r);
		r = cdc_exec(conn, "SELECT pg_drop_replication_slot(slot_name) "
			     "FROM pg_replication_slots WHERE slot_name = $1", 1, p, err, errlen);
		if (r) {
			PQclear(r);
			rc = BROOK_OK;
			break;
		}
		if (brook_mono_ms() >= deadline)
			break;
		brook_sleep_ms(50);
	}
	PQfinish(conn);
	return rc;
}
