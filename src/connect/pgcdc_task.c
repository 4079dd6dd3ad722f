/*
 * pgcdc_task.c — the postgres-cdc task: a pg/cdc.h session into a librdkafka producer.
 *
 * Offset flow (the invariant that makes delivery at-least-once and keeps WAL bounded):
 *   - every transaction gets a slot in a FIFO `txq` at BEGIN (snapshot rows share one
 *     slot, opened by the first row); each produced record carries its slot's sequence
 *     number as the message opaque and increments the slot's `outstanding`;
 *   - COMMIT records the transaction's end_lsn and marks the slot committed;
 *   - the delivery report (served by rd_kafka_poll on this thread) decrements
 *     `outstanding`; then, from the head, every committed slot with nothing outstanding
 *     is popped and its end_lsn acknowledged with pg_cdc_ack() — in commit order, so
 *     the slot's confirmed_flush_lsn never passes a record the broker has not
 *     acknowledged (idempotent producer, acks=all);
 *   - a failed delivery stops all acknowledgement and ends the session; the next
 *     session restarts from confirmed_flush_lsn and PostgreSQL sends the rest again.
 *
 * Sessions: open (resume when the state file says this connector streamed before) →
 * snapshot rows flushed to the broker → state file "streamed": true → stream until the
 * worker asks to yield (flush, final status update, close) or an error. Errors retry
 * with a capped exponential backoff; errors.retry.max consecutive failed sessions make
 * the task FAILED. PG_CDC_GONE (slot or publication dropped behind our back) is logged
 * as a warning, "streamed" is cleared and the next session recreates them, snapshotting
 * again per snapshot.mode.
 *
 * Config keys: connection.url (required), table.include.list ("schema.table, ..."; empty:
 * every table), topic (else <topic.prefix>.<schema>.<table>), topic.prefix (brook),
 * slot.name (brook_<name>), publication.name (brook_pub), snapshot.mode
 * (initial|never|always), value.format (json|avro), envelope (full|row),
 * kafka.bootstrap (the worker's), registry.url (the worker's registry.url; avro only),
 * errors.retry.max (10), errors.retry.backoff.max.ms (10000), kafka.message.timeout.ms
 * (30000: a record not acknowledged by then fails the session), kafka.connect.timeout.ms
 * (10000: the broker must answer metadata by then), errors.deadletterqueue.topic.name
 * (none).
 *
 * value.format=avro: one rowavro (connect/rowavro.h) and one registry client per task,
 * both kept across sessions (their caches stay warm). Per change: the relation's
 * rowavro_table; the key (only when the table has a key) and the value written as Avro
 * binary straight from the pgoutput tuples, then framed Confluent's way (magic 0,
 * big-endian id, Avro binary) with the ids of subjects "<topic>-key" and
 * "<topic>-value". Each table's two schemas are registered once, when its first record
 * needs them, and the ids kept in the rowavro_table (a changed relation gets a new
 * table, registered again); a failed registration is not kept, the next change asks
 * again. With envelope=row a delete is a tombstone (null value), as in JSON.
 *
 * Bad changes. A change that cannot be encoded (a value rowavro cannot parse or encode,
 * a table that cannot be mapped) or is larger than any record the producer may send
 * (message.max.bytes: retried, it would hold up everything after it) does not stop the
 * task: it is logged
 * with the table, LSN and reason, counted (connect_connector.dead_letters) and, when
 * errors.deadletterqueue.topic.name is set, produced there as its JSON key and full JSON
 * envelope with Kafka Connect's __connect.errors.* headers (acknowledged like any record).
 * A registry that does not answer, or answers with an error (an incompatible schema: 409),
 * fails the session like a broker error: retried with backoff, FAILED after
 * errors.retry.max consecutive attempts (a registry error counts as no progress).
 *
 * A first session whose snapshot never completed (no "streamed" in the state file)
 * drops a leftover slot first (snapshot.mode initial), so a crash in the middle of the
 * initial snapshot snapshots again instead of skipping rows.
 */
#include <ctype.h>
#include <limits.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "avro/datum.h"
#include "connect/connect_int.h"
#include "connect/rowavro.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "registry/client.h"

#define COMP		   "connect"
#define POLL_MS		   100
#define FLUSH_TIMEOUT_MS   30000
#define PROGRESS_MS	   60000 /* a session streaming this long made progress */
#define DEFAULT_REGISTRY   "http://127.0.0.1:8081"

typedef struct pgcdc_cfg {
	connect_task_cfg base; /* connection.url, kafka.*, errors.retry.* */
	char **tables;
	size_t ntables;
	const char *topic; /* NULL: <prefix>.<schema>.<table> */
	const char *prefix;
	char *slot;
	const char *publication;
	pg_cdc_snapshot_mode snapshot;
	bool row_envelope;
	bool avro;		  /* value.format=avro */
	const char *registry_url; /* avro only */
	const char *dlq_topic;	  /* errors.deadletterqueue.topic.name, NULL: none */
	char *db;		  /* the database name (the Avro source block) */
	/* Task-lifetime codec state (avro only; NULL in connect_pgcdc_validate). */
	rowavro *ra;
	sr_client *sr;
} pgcdc_cfg;

typedef struct txn {
	uint64_t end_lsn;
	size_t outstanding;
	bool committed;
} txn;

typedef struct session {
	connect_connector *c;
	pgcdc_cfg *cfg;
	rd_kafka_t *rk;
	pg_cdc *cdc;
	txn *q;
	size_t head, len, cap; /* q[head..head+len) */
	uint64_t seq_head;     /* sequence number of q[head] */
	bool in_txn;	       /* a transaction (or the snapshot) has the tail slot */
	uint32_t xid;
	int64_t commit_ms;
	connect_failure fail;
	bool no_progress; /* a registry error: the session does not count as progress */
	uint32_t *warned; /* relation ids whose unknown column types were reported */
	size_t nwarned;
	uint64_t produced;
	uint64_t acked; /* transactions acknowledged to PostgreSQL */
} session;

/* ---- configuration ---- */

static void cfg_release(pgcdc_cfg *cfg)
{
	connect_list_free(cfg->tables, cfg->ntables);
	free(cfg->slot);
	free(cfg->db);
	rowavro_free(cfg->ra);
	sr_client_free(cfg->sr);
	memset(cfg, 0, sizeof *cfg);
}

/* name → brook_<name> lower-cased, other characters as '_', at most 63. */
static char *default_slot(const char *name)
{
	char *s = brook_malloc(64);
	int n = snprintf(s, 64, "brook_");
	for (const char *p = name; *p && n < 63; p++)
		s[n++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
	s[n] = '\0';
	return s;
}

/* The database a libpq connection string or URI names (dbname, else user, else ""). */
static char *conninfo_dbname(const char *conninfo)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
	char *db = NULL;
	if (opts) {
		const char *user = NULL;
		for (PQconninfoOption *o = opts; o->keyword; o++) {
			if (o->val && *o->val && strcmp(o->keyword, "dbname") == 0)
				db = brook_strdup(o->val);
			else if (o->val && *o->val && strcmp(o->keyword, "user") == 0)
				user = o->val;
		}
		if (!db && user)
			db = brook_strdup(user);
		PQconninfoFree(opts);
	}
	PQfreemem(msg);
	return db ? db : brook_strdup("");
}

static int cfg_load(const json_t *config, const char *name, const char *bootstrap,
		    const char *registry, pgcdc_cfg *cfg, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof *cfg);
	if (connect_task_cfg_load(config, bootstrap, LONG_MAX, LONG_MAX, &cfg->base, err,
				  errlen) != BROOK_OK)
		return BROOK_ERR;
	cfg->tables = connect_list_split(connect_cfg(config, "table.include.list", NULL),
					 &cfg->ntables);
	cfg->topic = connect_cfg(config, "topic", NULL);
	cfg->prefix = connect_cfg(config, "topic.prefix", "brook");
	const char *slot = connect_cfg(config, "slot.name", NULL);
	if (slot) {
		size_t n = strlen(slot);
		if (n > 63 || strspn(slot, "abcdefghijklmnopqrstuvwxyz0123456789_") != n) {
			snprintf(err, errlen, "slot.name must be 1 to 63 of [a-z0-9_], not '%s'",
				 slot);
			goto fail;
		}
		cfg->slot = brook_strdup(slot);
	} else {
		cfg->slot = default_slot(name);
	}
	cfg->publication = connect_cfg(config, "publication.name", "brook_pub");
	const char *snap = connect_cfg(config, "snapshot.mode", "initial");
	if (pg_cdc_snapshot_mode_parse(snap, &cfg->snapshot) != BROOK_OK) {
		snprintf(err, errlen, "snapshot.mode must be initial, never or always, not '%s'",
			 snap);
		goto fail;
	}
	const char *fmt = connect_cfg(config, "value.format", "json");
	if (strcmp(fmt, "json") != 0 && strcmp(fmt, "avro") != 0) {
		snprintf(err, errlen, "value.format must be json or avro, not '%s'", fmt);
		goto fail;
	}
	cfg->avro = strcmp(fmt, "avro") == 0;
	cfg->registry_url = connect_cfg(config, "registry.url",
					registry ? registry : DEFAULT_REGISTRY);
	if (cfg->avro && strncmp(cfg->registry_url, "http://", 7) != 0 &&
	    strncmp(cfg->registry_url, "https://", 8) != 0) {
		snprintf(err, errlen, "registry.url must be an http:// or https:// URL, not '%s'",
			 cfg->registry_url);
		goto fail;
	}
	cfg->dlq_topic = connect_cfg(config, "errors.deadletterqueue.topic.name", NULL);
	cfg->db = conninfo_dbname(cfg->base.conninfo);
	const char *env = connect_cfg(config, "envelope", "full");
	if (strcmp(env, "full") != 0 && strcmp(env, "row") != 0) {
		snprintf(err, errlen, "envelope must be full or row, not '%s'", env);
		goto fail;
	}
	cfg->row_envelope = strcmp(env, "row") == 0;
	return BROOK_OK;
fail:
	cfg_release(cfg);
	return BROOK_ERR;
}

int connect_pgcdc_validate(const json_t *config, char *err, size_t errlen)
{
	pgcdc_cfg cfg;
	/* The bootstrap default comes from the worker; any non-NULL one validates. */
	if (cfg_load(config, "x", "-", NULL, &cfg, err, errlen) != BROOK_OK)
		return BROOK_ERR;
	cfg_release(&cfg);
	return BROOK_OK;
}

/* ---- the state file ---- */

static bool state_streamed(const connect_connector *c)
{
	json_error_t je;
	json_t *st = json_load_file(c->state_path, 0, &je);
	bool v = st && json_is_true(json_object_get(st, "streamed"));
	json_decref(st);
	return v;
}

static void state_set_streamed(connect_connector *c, bool streamed)
{
	char body[64];
	int n = snprintf(body, sizeof body, "{\"streamed\":%s}\n", streamed ? "true" : "false");
	if (brook_file_write_atomic(c->state_path, body, (size_t)n) != BROOK_OK)
		brook_warn(COMP, "connector %s: cannot write %s: %m", c->name, c->state_path);
}

/* ---- acknowledgement FIFO ---- */

static txn *tail_txn(session *s)
{
	return &s->q[s->head + s->len - 1];
}

static void txq_push(session *s)
{
	if (s->head + s->len == s->cap) {
		if (s->head > 0) {
			memmove(s->q, s->q + s->head, s->len * sizeof *s->q);
			s->head = 0;
		}
		if (s->len == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 64;
			s->q = brook_realloc(s->q, s->cap * sizeof *s->q);
		}
	}
	s->q[s->head + s->len] = (txn){0, 0, false};
	s->len++;
}

static void txq_advance(session *s)
{
	while (!s->fail.failed && s->len > 0 && s->q[s->head].committed &&
	       s->q[s->head].outstanding == 0) {
		if (s->q[s->head].end_lsn && s->cdc) {
			pg_cdc_ack(s->cdc, s->q[s->head].end_lsn);
			s->acked++;
		}
		s->head++;
		s->len--;
		s->seq_head++;
	}
	if (s->len == 0)
		s->head = 0;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	session *s = opaque;
	uint64_t seq = (uint64_t)(uintptr_t)m->_private;
	if (m->err) {
		connect_delivery_error(&s->fail, m);
		return;
	}
	if (seq < s->seq_head || seq - s->seq_head >= s->len)
		return; /* from before a purge: nothing waits for it */
	txn *t = &s->q[s->head + (seq - s->seq_head)];
	t->outstanding--;
	txq_advance(s);
}

/* ---- callbacks from the CDC session ---- */

static int on_begin(void *ud, uint32_t xid, uint64_t final_lsn, int64_t commit_ms)
{
	(void)final_lsn;
	session *s = ud;
	txq_push(s);
	s->in_txn = true;
	s->xid = xid;
	s->commit_ms = commit_ms;
	return BROOK_OK;
}

static int on_commit(void *ud, uint64_t end_lsn, int64_t commit_ms)
{
	(void)commit_ms;
	session *s = ud;
	if (!s->in_txn)
		return BROOK_OK;
	txn *t = tail_txn(s);
	t->end_lsn = end_lsn;
	t->committed = true;
	s->in_txn = false;
	txq_advance(s);
	return BROOK_OK;
}

/* Once per relation: the columns whose type brook does not know (t: the Avro mapping's
 * verdict; NULL: the JSON one). */
static void warn_unknown_types(session *s, const pgo_relation *rel, const rowavro_table *t)
{
	for (size_t i = 0; i < s->nwarned; i++)
		if (s->warned[i] == rel->id)
			return;
	s->warned = brook_realloc(s->warned, (s->nwarned + 1) * sizeof *s->warned);
	s->warned[s->nwarned++] = rel->id;
	for (uint16_t i = 0; i < rel->ncols; i++)
		if (t ? i < t->ncols && t->cols[i].unknown
		      : !connect_json_type_known(rel->cols[i].type_oid))
			brook_warn(COMP, "connector %s: %s.%s column %s has a type brook does not "
				   "know (oid %u): its values are sent as strings", s->c->name,
				   rel->nspname, rel->relname, rel->cols[i].name,
				   rel->cols[i].type_oid);
}

/* Produce one record (copied) carrying the tail transaction's sequence number. hdrs, when
 * not NULL, is the message's on success and destroyed here otherwise. CONNECT_TOO_LARGE
 * (why says so): the record can never be written. */
static int produce(session *s, const char *topic, void *k, size_t klen, void *v,
		   size_t vlen, rd_kafka_headers_t *hdrs, char *why, size_t whylen)
{
	uint64_t seq = s->seq_head + s->len - 1;
	connect_record r = {
		.topic = topic, .key = k, .klen = klen, .val = v, .vlen = vlen, .hdrs = hdrs,
		.opaque = (void *)(uintptr_t)seq,
	};
	int rc = connect_produce(s->rk, &r, s->c, &s->fail);
	if (rc == CONNECT_TOO_LARGE)
		connect_too_large(s->rk, &r, why, whylen);
	if (rc != BROOK_OK)
		return rc;
	tail_txn(s)->outstanding++;
	s->produced++;
	return BROOK_OK;
}

/* Outcome of encoding one change. */
enum { ENC_OK = 0, ENC_BAD, ENC_REGISTRY };

static char *json_text(json_t *j)
{
	char *t = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	return t;
}

static int encode_json(session *s, const pg_cdc_change *ch, int64_t now, brook_buf *kb,
		       bool *has_key, brook_buf *vb, bool *has_val)
{
	connect_source_info src = {
		.name = s->cfg->prefix,
		.xid = s->xid,
		.commit_ms = ch->op == 'r' ? now : s->commit_ms,
		.lsn = ch->lsn,
		.row_envelope = s->cfg->row_envelope,
	};
	char *ks = json_text(connect_json_key(ch));
	char *vs = json_text(connect_json_value_record(ch, &src, now));
	if ((*has_key = ks != NULL))
		brook_buf_puts(kb, ks);
	if ((*has_val = vs != NULL))
		brook_buf_puts(vb, vs);
	free(ks);
	free(vs);
	return ENC_OK;
}

/* The registry id of a table's schema under "<topic><suffix>": registered once per
 * rowavro_table (the id is kept in the table, which a changed relation replaces). */
static int schema_id(session *s, const char *topic, const char *suffix,
		     const char *schema_text, int32_t *id, char *why, size_t whylen)
{
	if (*id != ROWAVRO_NO_ID)
		return ENC_OK;
	char subject[600];
	sr_error e;
	snprintf(subject, sizeof subject, "%s%s", topic, suffix);
	if (sr_register(s->cfg->sr, subject, schema_text, id, &e) != BROOK_OK) {
		*id = ROWAVRO_NO_ID;
		snprintf(why, whylen, "registering subject %s at %s: %s", subject,
			 s->cfg->registry_url, e.message);
		return ENC_REGISTRY;
	}
	return ENC_OK;
}

/* Confluent's framing, written over the AVRO_CONFLUENT_HEADER bytes reserved at the
 * start of b: magic byte 0, the big-endian schema id. */
static void frame(brook_buf *b, int32_t id)
{
	b->data[0] = AVRO_CONFLUENT_MAGIC;
	brook_be_put((uint8_t *)b->data + 1, (uint32_t)id, 4);
}

/* Key and value written as Avro binary straight from the tuples (connect/rowavro.h),
 * behind a reserved header; both are encoded before any registry request, then each
 * one present is framed with its table's schema id. */
static int encode_avro(session *s, const pg_cdc_change *ch, const char *topic, int64_t now,
		       brook_buf *kb, bool *has_key, brook_buf *vb, bool *has_val, char *why,
		       size_t whylen)
{
	static const uint8_t header[AVRO_CONFLUENT_HEADER];
	rowavro_table *t = rowavro_table_for(s->cfg->ra, ch->rel, why, whylen);
	if (!t)
		return ENC_BAD;
	warn_unknown_types(s, ch->rel, t);
	rowavro_source src = {
		.lsn = ch->lsn,
		.txid = ch->op == 'r' ? 0 : s->xid,
		.commit_ms = ch->op == 'r' ? now : s->commit_ms,
		.now_ms = now,
	};
	brook_buf_append(kb, header, sizeof header);
	brook_buf_append(vb, header, sizeof header);
	if (rowavro_encode_key(t, ch, kb, has_key, why, whylen) != BROOK_OK ||
	    rowavro_encode_value(s->cfg->ra, t, ch, &src, vb, has_val, why, whylen) != BROOK_OK)
		return ENC_BAD;
	int rc = ENC_OK;
	if (*has_key) {
		rc = schema_id(s, topic, "-key", t->key_json, &t->key_id, why, whylen);
		if (rc == ENC_OK)
			frame(kb, t->key_id);
	}
	if (rc == ENC_OK && *has_val) {
		rc = schema_id(s, topic, "-value", t->value_json, &t->value_id, why, whylen);
		if (rc == ENC_OK)
			frame(vb, t->value_id);
	}
	return rc;
}

/* A change that cannot be encoded (stage VALUE_CONVERTER) or is too large for a record
 * (KAFKA_PRODUCE): logged, counted, and sent to the dead-letter topic when there is one
 * (its JSON key and full envelope, with Kafka Connect's error headers; without the
 * envelope when that is too large as well). */
static int dead_letter(session *s, const pg_cdc_change *ch, const char *topic, int64_t now,
		       const char *stage, const char *why)
{
	const char *schema = ch->rel->nspname[0] ? ch->rel->nspname : "pg_catalog";
	pthread_mutex_lock(&s->c->mu);
	uint64_t n = ++s->c->dead_letters;
	pthread_mutex_unlock(&s->c->mu);
	brook_warn(COMP, "connector %s: change '%c' of %s.%s at LSN %X/%X cannot be written to "
		   "%s (%s); %s (%llu so far)", s->c->name, ch->op, schema, ch->rel->relname,
		   (unsigned)(ch->lsn >> 32), (unsigned)ch->lsn, topic, why,
		   s->cfg->dlq_topic ? "sent to the dead-letter topic" : "skipped",
		   (unsigned long long)n);
	if (!s->cfg->dlq_topic)
		return BROOK_OK;
	connect_source_info src = {
		.name = s->cfg->prefix,
		.xid = s->xid,
		.commit_ms = ch->op == 'r' ? now : s->commit_ms,
		.lsn = ch->lsn,
		.row_envelope = false,
	};
	char *ks = json_text(connect_json_key(ch));
	char *vs = json_text(connect_json_value_record(ch, &src, now));
	char big[512];
	int rc = CONNECT_TOO_LARGE;
	for (int with_value = 1; with_value >= 0 && rc == CONNECT_TOO_LARGE; with_value--) {
		rd_kafka_headers_t *h = rd_kafka_headers_new(5);
		rd_kafka_header_add(h, "__connect.errors.topic", -1, topic, -1);
		rd_kafka_header_add(h, "__connect.errors.connector.name", -1, s->c->name, -1);
		rd_kafka_header_add(h, "__connect.errors.stage", -1, stage, -1);
		rd_kafka_header_add(h, "__connect.errors.exception.message", -1, why, -1);
		const char *v = with_value ? vs : NULL;
		rc = produce(s, s->cfg->dlq_topic, ks, ks ? strlen(ks) : 0, (void *)v,
			     v ? strlen(v) : 0, h, big, sizeof big);
	}
	if (rc == CONNECT_TOO_LARGE) { /* even its key alone */
		brook_warn(COMP, "connector %s: the dead letter itself cannot be written (%s); "
			   "skipped", s->c->name, big);
		rc = BROOK_OK;
	}
	free(ks);
	free(vs);
	return rc;
}

static int on_change(void *ud, const pg_cdc_change *ch)
{
	session *s = ud;
	if (ch->op == 't') {
		brook_info(COMP, "connector %s: TRUNCATE of %s.%s is not sent", s->c->name,
			   ch->rel->nspname, ch->rel->relname);
		return BROOK_OK;
	}
	if (s->fail.failed || connect_task_yield(s->c))
		return BROOK_ERR;
	if (!s->in_txn) { /* snapshot rows: one slot for the whole snapshot */
		txq_push(s);
		s->in_txn = true;
		s->xid = 0;
	}
	if (!s->cfg->avro)
		warn_unknown_types(s, ch->rel, NULL);

	char topic[512];
	char *tn = connect_topic_name(s->cfg->topic, s->cfg->prefix,
				      ch->rel->nspname[0] ? ch->rel->nspname : "pg_catalog",
				      ch->rel->relname);
	snprintf(topic, sizeof topic, "%s", tn);
	free(tn);
	int64_t now = brook_now_ms();
	brook_buf kb = BROOK_BUF_INIT, vb = BROOK_BUF_INIT;
	bool has_key = false, has_val = false;
	char why[1024];
	int enc = s->cfg->avro ? encode_avro(s, ch, topic, now, &kb, &has_key, &vb, &has_val,
					     why, sizeof why)
			       : encode_json(s, ch, now, &kb, &has_key, &vb, &has_val);
	int rc;
	if (enc == ENC_REGISTRY) {
		snprintf(s->fail.msg, sizeof s->fail.msg, "%s", why);
		s->fail.failed = true;
		s->no_progress = true;
		rc = BROOK_ERR;
	} else if (enc == ENC_BAD) {
		rc = dead_letter(s, ch, topic, now, "VALUE_CONVERTER", why);
	} else {
		rc = produce(s, topic, has_key ? kb.data : NULL, has_key ? kb.len : 0,
			     has_val ? vb.data : NULL, has_val ? vb.len : 0, NULL, why, sizeof why);
		if (rc == CONNECT_TOO_LARGE)
			rc = dead_letter(s, ch, topic, now, "KAFKA_PRODUCE", why);
	}
	brook_buf_release(&kb);
	brook_buf_release(&vb);
	return rc;
}

/* ---- one session ---- */

static rd_kafka_t *producer_new(session *s, char *err, size_t errlen)
{
	connect_producer_opts o = {
		.cfg = &s->cfg->base,
		.opaque = s,
		.on_delivery = on_delivery,
		.what = "producer",
		.topic = s->cfg->topic,
		.topic_prefix = s->cfg->topic ? NULL : s->cfg->prefix,
	};
	return connect_producer_new(s->c, &o, NULL, err, errlen);
}

/* Wait until nothing is outstanding (or failure / timeout). BROOK_OK when all acked. */
static int drain(session *s, bool stop_on_yield)
{
	int64_t deadline = brook_mono_ms() + FLUSH_TIMEOUT_MS;
	while (!s->fail.failed && rd_kafka_outq_len(s->rk) > 0) {
		if (brook_mono_ms() > deadline || (stop_on_yield && connect_task_yield(s->c)))
			return BROOK_ERR;
		rd_kafka_poll(s->rk, POLL_MS);
	}
	rd_kafka_poll(s->rk, 0);
	return s->fail.failed ? BROOK_ERR : BROOK_OK;
}

static void session_end(session *s)
{
	if (s->rk) {
		if (!s->fail.failed)
			drain(s, false);
		if (s->cdc && !s->fail.failed) {
			char e[256];
			txq_advance(s);
			if (pg_cdc_send_status(s->cdc, e, sizeof e) != BROOK_OK)
				brook_debug(COMP, "connector %s: final status update: %s",
					    s->c->name, e);
		}
		connect_producer_close(s->rk, &s->fail);
		s->rk = NULL;
	}
	pg_cdc_close(s->cdc);
	s->cdc = NULL;
	free(s->q);
	free(s->warned);
}

/* BROOK_OK: yielded. BROOK_ERR: failed (message in err; *progressed when the session
 * opened and streamed). PG_CDC_GONE: the slot or publication was dropped. */
static int session_run(connect_connector *c, pgcdc_cfg *cfg, bool *progressed, char *err,
		       size_t errlen)
{
	session s = {.c = c, .cfg = cfg};
	int rc;

	*progressed = false;
	s.rk = producer_new(&s, err, errlen);
	if (!s.rk)
		return BROOK_ERR;
	bool streamed = state_streamed(c);
	if (!streamed && cfg->snapshot == PG_CDC_SNAPSHOT_INITIAL) {
		/* An initial snapshot that never completed: start it over. */
		if (pg_cdc_drop_slot(cfg->base.conninfo, cfg->slot, err, errlen) != BROOK_OK) {
			rc = BROOK_ERR;
			goto out;
		}
	}
	pg_cdc_opts o = {
		.conninfo = cfg->base.conninfo,
		.slot = cfg->slot,
		.publication = cfg->publication,
		.tables = (const char *const *)cfg->tables,
		.ntables = cfg->ntables,
		.snapshot = cfg->snapshot,
		.cb = {&s, on_begin, on_change, on_commit},
		.resume = streamed,
	};
	rc = pg_cdc_open_rc(&o, &s.cdc, err, errlen);
	if (rc != BROOK_OK) {
		if (s.fail.failed)
			snprintf(err, errlen, "%s", s.fail.msg);
		if (rc == BROOK_ERR && connect_task_yield(c))
			rc = BROOK_OK;
		goto out;
	}
	if (s.in_txn) { /* the snapshot: committed once every row is acknowledged */
		tail_txn(&s)->committed = true;
		s.in_txn = false;
		uint64_t rows = s.produced;
		if (drain(&s, true) != BROOK_OK) {
			if (connect_task_yield(c) && !s.fail.failed) {
				rc = BROOK_OK;
			} else {
				snprintf(err, errlen, "%s", s.fail.failed ? s.fail.msg
					 : "the broker did not acknowledge the snapshot in time");
				rc = BROOK_ERR;
			}
			goto out;
		}
		brook_info(COMP, "connector %s: snapshot of %llu row%s delivered", c->name,
			   (unsigned long long)rows, rows == 1 ? "" : "s");
	}
	if (!streamed)
		state_set_streamed(c, true);
	*progressed = true; /* the snapshot, when there was one, is delivered */
	int64_t t_stream = brook_mono_ms();
	brook_info(COMP, "connector %s: streaming from slot %s (publication %s)", c->name,
		   cfg->slot, cfg->publication);
	while (!connect_task_yield(c)) {
		rc = pg_cdc_poll(s.cdc, POLL_MS, err, errlen);
		rd_kafka_poll(s.rk, 0);
		if (s.fail.failed) {
			snprintf(err, errlen, "%s", s.fail.msg);
			/* Progress: it acknowledged something, or it streamed a while (an idle
			 * slot); a change that fails every session at once is no progress. */
			*progressed = s.acked > 0 || brook_mono_ms() - t_stream >= PROGRESS_MS;
			rc = BROOK_ERR;
			goto out;
		}
		if (rc != BROOK_OK) {
			if (rc == BROOK_ERR && connect_task_yield(c))
				rc = BROOK_OK;
			goto out;
		}
		pthread_mutex_lock(&c->mu);
		c->lag_bytes = pg_cdc_lag_bytes(s.cdc);
		pthread_mutex_unlock(&c->mu);
	}
	rc = BROOK_OK;
out:
	if (s.no_progress)
		*progressed = false;
	session_end(&s);
	return rc;
}

int connect_pgcdc_run(connect_connector *c)
{
	pgcdc_cfg cfg;
	char err[1024];
	long attempts = 0;

	if (cfg_load(c->config, c->name, c->default_bootstrap, c->default_registry, &cfg, err,
		     sizeof err)) {
		connect_task_fail(c, err);
		return BROOK_ERR;
	}
	if (cfg.avro) {
		rowavro_envelope env = cfg.row_envelope ? ROWAVRO_ENVELOPE_ROW
							: ROWAVRO_ENVELOPE_FULL;
		rowavro_opts ro = {.prefix = cfg.prefix, .db = cfg.db, .envelope = env};
		cfg.ra = rowavro_new(&ro);
		/* Short timeouts: a stop must not wait long for an unreachable registry. */
		brook_httpc_opts ho = {.connect_timeout_ms = 2000, .timeout_ms = 10000};
		cfg.sr = sr_client_new(cfg.registry_url, &ho);
	}
	while (!connect_task_yield(c)) {
		bool progressed;
		err[0] = '\0';
		int rc = session_run(c, &cfg, &progressed, err, sizeof err);
		if (rc == BROOK_OK)
			break;
		if (rc == PG_CDC_GONE) {
			brook_warn(COMP, "connector %s: %s: the slot %s or the publication %s "
				   "was dropped behind brook's back; recreating them "
				   "(snapshot.mode decides whether the tables are read again; "
				   "changes in between may be lost)", c->name, err, cfg.slot,
				   cfg.publication);
			state_set_streamed(c, false);
			continue;
		}
		if (connect_task_retry(c, &attempts, progressed, &cfg.base, err) != BROOK_OK) {
			cfg_release(&cfg);
			return BROOK_ERR;
		}
	}
	cfg_release(&cfg);
	return BROOK_OK;
}
