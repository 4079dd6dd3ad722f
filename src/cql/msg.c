/*
 * msg.c — CQL v4 message bodies (see msg.h).
 *
 * Every decoder reads with the sticky reader and checks counts against the bytes left
 * (the smallest encoding of one element times the count) before allocating; every
 * encoder writes exactly what its decoder reads, field for field, driven by the same
 * flags, so a decoded message re-encodes to canonical bytes.
 */
#include "cql/msg.h"

#include <string.h>

#include "core/err.h"

const char *cql_error_name(int32_t code)
{
	switch (code) {
	case CQL_ERR_SERVER:
		return "Server_error";
	case CQL_ERR_PROTOCOL:
		return "Protocol_error";
	case CQL_ERR_BAD_CREDENTIALS:
		return "Bad_credentials";
	case CQL_ERR_UNAVAILABLE:
		return "Unavailable";
	case CQL_ERR_OVERLOADED:
		return "Overloaded";
	case CQL_ERR_IS_BOOTSTRAPPING:
		return "Is_bootstrapping";
	case CQL_ERR_TRUNCATE:
		return "Truncate_error";
	case CQL_ERR_WRITE_TIMEOUT:
		return "Write_timeout";
	case CQL_ERR_READ_TIMEOUT:
		return "Read_timeout";
	case CQL_ERR_READ_FAILURE:
		return "Read_failure";
	case CQL_ERR_FUNCTION_FAILURE:
		return "Function_failure";
	case CQL_ERR_WRITE_FAILURE:
		return "Write_failure";
	case CQL_ERR_SYNTAX:
		return "Syntax_error";
	case CQL_ERR_UNAUTHORIZED:
		return "Unauthorized";
	case CQL_ERR_INVALID:
		return "Invalid";
	case CQL_ERR_CONFIG:
		return "Config_error";
	case CQL_ERR_ALREADY_EXISTS:
		return "Already_exists";
	case CQL_ERR_UNPREPARED:
		return "Unprepared";
	default:
		return "Unknown_error";
	}
}

/* ---- query parameters ---------------------------------------------------------- */

static void values_read(cql_rd *rd, brook_arena *a, bool names, uint16_t *n, cql_str **nm,
			cql_bytes **vals)
{
	*n = (uint16_t)cql_rd_count(rd, cql_rd_short(rd), names ? 6 : 4, "values");
	*nm = names && *n ? brook_arena_alloc(a, *n * sizeof(cql_str)) : NULL;
	*vals = *n ? brook_arena_alloc(a, *n * sizeof(cql_bytes)) : NULL;
	for (uint16_t i = 0; i < *n; i++) {
		if (names)
			(*nm)[i] = cql_rd_string(rd);
		(*vals)[i] = cql_rd_value(rd);
	}
	if (rd->failed)
		*n = 0;
}

static void values_write(brook_buf *b, uint16_t n, const cql_str *nm, const cql_bytes *vals)
{
	cql_wr_short(b, n);
	for (uint16_t i = 0; i < n; i++) {
		if (nm)
			cql_wr_string(b, nm[i]);
		cql_wr_value(b, vals[i]);
	}
}

void cql_query_params_read(cql_rd *rd, brook_arena *a, cql_query_params *p)
{
	memset(p, 0, sizeof *p);
	p->paging_state = CQL_BYTES_NULL;
	p->consistency = cql_rd_consistency(rd);
	p->flags = cql_rd_byte(rd);
	if (p->flags & CQL_QF_VALUES)
		values_read(rd, a, p->flags & CQL_QF_NAMES, &p->n_values, &p->names, &p->values);
	if (p->flags & CQL_QF_PAGE_SIZE)
		p->page_size = cql_rd_int(rd);
	if (p->flags & CQL_QF_PAGING_STATE)
		p->paging_state = cql_rd_bytes(rd);
	if (p->flags & CQL_QF_SERIAL_CONSISTENCY)
		p->serial_consistency = cql_rd_consistency(rd);
	if (p->flags & CQL_QF_DEFAULT_TIMESTAMP)
		p->timestamp = cql_rd_long(rd);
}

void cql_query_params_write(brook_buf *b, const cql_query_params *p)
{
	cql_wr_short(b, p->consistency);
	cql_wr_byte(b, p->flags);
	if (p->flags & CQL_QF_VALUES)
		values_write(b, p->n_values, p->flags & CQL_QF_NAMES ? p->names : NULL, p->values);
	if (p->flags & CQL_QF_PAGE_SIZE)
		cql_wr_int(b, p->page_size);
	if (p->flags & CQL_QF_PAGING_STATE)
		cql_wr_bytes(b, p->paging_state);
	if (p->flags & CQL_QF_SERIAL_CONSISTENCY)
		cql_wr_short(b, p->serial_consistency);
	if (p->flags & CQL_QF_DEFAULT_TIMESTAMP)
		cql_wr_long(b, p->timestamp);
}

/* ---- BATCH ----------------------------------------------------------------------- */

static void batch_read(cql_rd *rd, brook_arena *a, cql_batch *bt)
{
	memset(bt, 0, sizeof *bt);
	bt->type = cql_rd_byte(rd);
	if (!rd->failed && bt->type > CQL_BATCH_COUNTER)
		cql_rd_fail(rd, "BATCH type %u is not 0 (logged), 1 (unlogged) or 2 (counter)",
			    bt->type);
	bt->n = (uint16_t)cql_rd_count(rd, cql_rd_short(rd), 5, "BATCH queries");
	bt->stmts = bt->n ? brook_arena_calloc(a, bt->n * sizeof *bt->stmts) : NULL;
	for (uint16_t i = 0; i < bt->n && !rd->failed; i++) {
		cql_batch_stmt *s = &bt->stmts[i];
		size_t at = cql_rd_pos(rd);
		s->kind = cql_rd_byte(rd);
		s->id = CQL_BYTES_NULL;
		if (s->kind == 0)
			s->query = cql_rd_long_string(rd);
		else if (s->kind == 1)
			s->id = cql_rd_short_bytes(rd);
		else
			cql_rd_fail(rd, "BATCH query kind %u at byte %zu is not 0 or 1", s->kind,
				    at);
		values_read(rd, a, false, &s->n_values, &s->names, &s->values);
	}
	bt->consistency = cql_rd_consistency(rd);
	bt->flags = cql_rd_byte(rd);
	if (!rd->failed && (bt->flags & CQL_QF_NAMES))
		cql_rd_fail(rd, "BATCH with named values (flag 0x40) is not supported "
				"(see CASSANDRA-10246); send values by position");
	if (bt->flags & CQL_QF_SERIAL_CONSISTENCY)
		bt->serial_consistency = cql_rd_consistency(rd);
	if (bt->flags & CQL_QF_DEFAULT_TIMESTAMP)
		bt->timestamp = cql_rd_long(rd);
	if (rd->failed)
		bt->n = 0;
}

static void batch_write(brook_buf *b, const cql_batch *bt)
{
	cql_wr_byte(b, bt->type);
	cql_wr_short(b, bt->n);
	for (uint16_t i = 0; i < bt->n; i++) {
		const cql_batch_stmt *s = &bt->stmts[i];
		cql_wr_byte(b, s->kind);
		if (s->kind == 0)
			cql_wr_long_string(b, s->query);
		else
			cql_wr_short_bytes(b, s->id);
		if (s->packed) {
			cql_wr_short(b, s->n_values);
			brook_buf_append(b, s->packed, s->packed_len);
		} else {
			values_write(b, s->n_values, NULL, s->values);
		}
	}
	cql_wr_short(b, bt->consistency);
	cql_wr_byte(b, bt->flags & (uint8_t)~CQL_QF_NAMES);
	if (bt->flags & CQL_QF_SERIAL_CONSISTENCY)
		cql_wr_short(b, bt->serial_consistency);
	if (bt->flags & CQL_QF_DEFAULT_TIMESTAMP)
		cql_wr_long(b, bt->timestamp);
}

/* ---- ERROR ----------------------------------------------------------------------- */

static void error_read(cql_rd *rd, brook_arena *a, cql_error *e)
{
	memset(e, 0, sizeof *e);
	e->id = CQL_BYTES_NULL;
	e->code = cql_rd_int(rd);
	e->message = cql_rd_string(rd);
	switch (e->code) {
	case CQL_ERR_UNAVAILABLE:
		e->cl = cql_rd_consistency(rd);
		e->required = cql_rd_int(rd);
		e->alive = cql_rd_int(rd);
		break;
	case CQL_ERR_WRITE_TIMEOUT:
		e->cl = cql_rd_consistency(rd);
		e->received = cql_rd_int(rd);
		e->blockfor = cql_rd_int(rd);
		e->write_type = cql_rd_string(rd);
		break;
	case CQL_ERR_READ_TIMEOUT:
		e->cl = cql_rd_consistency(rd);
		e->received = cql_rd_int(rd);
		e->blockfor = cql_rd_int(rd);
		e->data_present = cql_rd_byte(rd);
		break;
	case CQL_ERR_READ_FAILURE:
		e->cl = cql_rd_consistency(rd);
		e->received = cql_rd_int(rd);
		e->blockfor = cql_rd_int(rd);
		e->numfailures = cql_rd_int(rd);
		e->data_present = cql_rd_byte(rd);
		break;
	case CQL_ERR_FUNCTION_FAILURE:
		e->keyspace = cql_rd_string(rd);
		e->function = cql_rd_string(rd);
		cql_rd_string_list(rd, a, &e->arg_types);
		break;
	case CQL_ERR_WRITE_FAILURE:
		e->cl = cql_rd_consistency(rd);
		e->received = cql_rd_int(rd);
		e->blockfor = cql_rd_int(rd);
		e->numfailures = cql_rd_int(rd);
		e->write_type = cql_rd_string(rd);
		break;
	case CQL_ERR_ALREADY_EXISTS:
		e->keyspace = cql_rd_string(rd);
		e->table = cql_rd_string(rd);
		break;
	case CQL_ERR_UNPREPARED:
		e->id = cql_rd_short_bytes(rd);
		break;
	default:
		break;
	}
}

static void error_write(brook_buf *b, const cql_error *e)
{
	cql_wr_int(b, e->code);
	cql_wr_string(b, e->message);
	switch (e->code) {
	case CQL_ERR_UNAVAILABLE:
		cql_wr_short(b, e->cl);
		cql_wr_int(b, e->required);
		cql_wr_int(b, e->alive);
		break;
	case CQL_ERR_WRITE_TIMEOUT:
		cql_wr_short(b, e->cl);
		cql_wr_int(b, e->received);
		cql_wr_int(b, e->blockfor);
		cql_wr_string(b, e->write_type);
		break;
	case CQL_ERR_READ_TIMEOUT:
		cql_wr_short(b, e->cl);
		cql_wr_int(b, e->received);
		cql_wr_int(b, e->blockfor);
		cql_wr_byte(b, e->data_present);
		break;
	case CQL_ERR_READ_FAILURE:
		cql_wr_short(b, e->cl);
		cql_wr_int(b, e->received);
		cql_wr_int(b, e->blockfor);
		cql_wr_int(b, e->numfailures);
		cql_wr_byte(b, e->data_present);
		break;
	case CQL_ERR_FUNCTION_FAILURE:
		cql_wr_string(b, e->keyspace);
		cql_wr_string(b, e->function);
		cql_wr_string_list(b, &e->arg_types);
		break;
	case CQL_ERR_WRITE_FAILURE:
		cql_wr_short(b, e->cl);
		cql_wr_int(b, e->received);
		cql_wr_int(b, e->blockfor);
		cql_wr_int(b, e->numfailures);
		cql_wr_string(b, e->write_type);
		break;
	case CQL_ERR_ALREADY_EXISTS:
		cql_wr_string(b, e->keyspace);
		cql_wr_string(b, e->table);
		break;
	case CQL_ERR_UNPREPARED:
		cql_wr_short_bytes(b, e->id);
		break;
	default:
		break;
	}
}

void cql_error_write(brook_buf *b, int32_t code, const char *message)
{
	cql_wr_int(b, code);
	cql_wr_cstring(b, message);
}

void cql_error_write_already_exists(brook_buf *b, const char *message, const char *ks,
				    const char *table)
{
	cql_error_write(b, CQL_ERR_ALREADY_EXISTS, message);
	cql_wr_cstring(b, ks);
	cql_wr_cstring(b, table ? table : "");
}

void cql_error_write_unprepared(brook_buf *b, const char *message, const void *id, size_t idlen)
{
	cql_error_write(b, CQL_ERR_UNPREPARED, message);
	cql_wr_short_bytes(b, cql_bytes_of(id, idlen));
}

void cql_supported_write_default(brook_buf *b)
{
	cql_str keys[2] = {CQL_STR("COMPRESSION"), CQL_STR("CQL_VERSION")};
	cql_str comp[1] = {CQL_STR("lz4")}, ver[1] = {CQL_STR("3.4.4")};
	cql_str_list vals[2] = {{1, comp}, {1, ver}};
	cql_multimap m = {2, keys, vals};
	cql_wr_multimap(b, &m);
}

/* ---- metadata, schema change, event ------------------------------------------- */

void cql_metadata_read(cql_rd *rd, brook_arena *a, cql_metadata *m, bool prepared)
{
	memset(m, 0, sizeof *m);
	m->paging_state = CQL_BYTES_NULL;
	m->flags = cql_rd_int(rd);
	int32_t cc = cql_rd_int(rd);
	if (!rd->failed && cc < 0)
		cql_rd_fail(rd, "metadata has a negative column count %d", (int)cc);
	m->columns_count = rd->failed ? 0 : cc;
	if (prepared) {
		int32_t pk = cql_rd_int(rd);
		if (!rd->failed && pk < 0)
			cql_rd_fail(rd, "prepared metadata has a negative pk_count %d", (int)pk);
		m->pk_count =
		    (int32_t)cql_rd_count(rd, rd->failed ? 0 : (uint32_t)pk, 2, "pk_index");
		m->pk_index = m->pk_count ? brook_arena_alloc(a, (size_t)m->pk_count * 2) : NULL;
		for (int32_t i = 0; i < m->pk_count; i++)
			m->pk_index[i] = cql_rd_short(rd);
	} else if (m->flags & CQL_META_HAS_MORE_PAGES) {
		m->paging_state = cql_rd_bytes(rd);
	}
	if (!prepared && (m->flags & CQL_META_NO_METADATA))
		return;
	bool global = m->flags & CQL_META_GLOBAL_TABLES_SPEC;
	if (global) {
		m->keyspace = cql_rd_string(rd);
		m->table = cql_rd_string(rd);
	}
	uint32_t n = cql_rd_count(rd, (uint32_t)m->columns_count, global ? 4 : 8, "columns");
	m->cols = n ? brook_arena_calloc(a, n * sizeof *m->cols) : NULL;
	for (uint32_t i = 0; i < n && !rd->failed; i++) {
		cql_col_spec *c = &m->cols[i];
		if (!global) {
			c->keyspace = cql_rd_string(rd);
			c->table = cql_rd_string(rd);
		}
		c->name = cql_rd_string(rd);
		c->type = cql_type_read(rd, a);
	}
}

void cql_metadata_write(brook_buf *b, const cql_metadata *m, bool prepared)
{
	cql_wr_int(b, m->flags);
	cql_wr_int(b, m->columns_count);
	if (prepared) {
		cql_wr_int(b, m->pk_count);
		for (int32_t i = 0; i < m->pk_count; i++)
			cql_wr_short(b, m->pk_index[i]);
	} else if (m->flags & CQL_META_HAS_MORE_PAGES) {
		cql_wr_bytes(b, m->paging_state);
	}
	if (!prepared && (m->flags & CQL_META_NO_METADATA))
		return;
	bool global = m->flags & CQL_META_GLOBAL_TABLES_SPEC;
	if (global) {
		cql_wr_string(b, m->keyspace);
		cql_wr_string(b, m->table);
	}
	for (int32_t i = 0; i < m->columns_count; i++) {
		const cql_col_spec *c = &m->cols[i];
		if (!global) {
			cql_wr_string(b, c->keyspace);
			cql_wr_string(b, c->table);
		}
		cql_wr_string(b, c->name);
		cql_type_write(b, c->type);
	}
}

enum { TARGET_BAD, TARGET_KS, TARGET_NAMED, TARGET_FUNC };

static int schema_target(cql_str t)
{
	if (cql_str_eq(t, "KEYSPACE"))
		return TARGET_KS;
	if (cql_str_eq(t, "TABLE") || cql_str_eq(t, "TYPE"))
		return TARGET_NAMED;
	if (cql_str_eq(t, "FUNCTION") || cql_str_eq(t, "AGGREGATE"))
		return TARGET_FUNC;
	return TARGET_BAD;
}

void cql_schema_change_read(cql_rd *rd, brook_arena *a, cql_schema_change *c)
{
	memset(c, 0, sizeof *c);
	c->change_type = cql_rd_string(rd);
	c->target = cql_rd_string(rd);
	if (rd->failed)
		return;
	int kind = schema_target(c->target);
	if (kind == TARGET_BAD) {
		cql_rd_fail(rd,
			    "schema change target '%.*s' is not KEYSPACE, TABLE, TYPE, "
			    "FUNCTION or AGGREGATE",
			    (int)(c->target.len > 32 ? 32 : c->target.len), c->target.ptr);
		return;
	}
	c->keyspace = cql_rd_string(rd);
	if (kind != TARGET_KS)
		c->name = cql_rd_string(rd);
	if (kind == TARGET_FUNC)
		cql_rd_string_list(rd, a, &c->arg_types);
}

void cql_schema_change_write(brook_buf *b, const cql_schema_change *c)
{
	cql_wr_string(b, c->change_type);
	cql_wr_string(b, c->target);
	int kind = schema_target(c->target);
	cql_wr_string(b, c->keyspace);
	if (kind != TARGET_KS)
		cql_wr_string(b, c->name);
	if (kind == TARGET_FUNC)
		cql_wr_string_list(b, &c->arg_types);
}

static void event_read(cql_rd *rd, brook_arena *a, cql_event *e)
{
	memset(e, 0, sizeof *e);
	e->type = cql_rd_string(rd);
	if (rd->failed)
		return;
	if (cql_str_eq(e->type, "SCHEMA_CHANGE")) {
		cql_schema_change_read(rd, a, &e->schema);
	} else if (cql_str_eq(e->type, "TOPOLOGY_CHANGE") || cql_str_eq(e->type, "STATUS_CHANGE")) {
		e->change = cql_rd_string(rd);
		cql_rd_inet(rd, &e->addr);
	} else {
		cql_rd_fail(rd, "unknown event type '%.*s'",
			    (int)(e->type.len > 32 ? 32 : e->type.len), e->type.ptr);
	}
}

static void event_write(brook_buf *b, const cql_event *e)
{
	cql_wr_string(b, e->type);
	if (cql_str_eq(e->type, "SCHEMA_CHANGE")) {
		cql_schema_change_write(b, &e->schema);
	} else {
		cql_wr_string(b, e->change);
		cql_wr_inet(b, &e->addr);
	}
}

/* ---- RESULT ---------------------------------------------------------------------- */

static void rows_read(cql_rd *rd, brook_arena *a, cql_result *r)
{
	cql_metadata_read(rd, a, &r->meta, false);
	int32_t rc = cql_rd_int(rd);
	if (rd->failed)
		return;
	if (rc < 0) {
		cql_rd_fail(rd, "Rows result has a negative row count %d", (int)rc);
		return;
	}
	if (rc > 0 && r->meta.columns_count == 0) {
		/* zero-width rows cost nothing to claim and a loop each to walk */
		cql_rd_fail(rd, "Rows result has %d rows but no columns", (int)rc);
		return;
	}
	r->rows_count = rc;
	const uint8_t *start = rd->p;
	uint64_t cells = (uint64_t)rc * (uint64_t)r->meta.columns_count;
	if (cells > cql_rd_left(rd) / 4) {
		cql_rd_fail(rd, "Rows result claims %d rows of %d columns in %zu bytes", (int)rc,
			    (int)r->meta.columns_count, cql_rd_left(rd));
		return;
	}
	for (uint64_t i = 0; i < cells && !rd->failed; i++)
		cql_rd_bytes(rd);
	r->rows_content = start;
	r->rows_len = (size_t)(rd->p - start);
}

static void result_read(cql_rd *rd, brook_arena *a, cql_result *r)
{
	memset(r, 0, sizeof *r);
	r->id = CQL_BYTES_NULL;
	r->kind = cql_rd_int(rd);
	if (rd->failed)
		return;
	switch (r->kind) {
	case CQL_RESULT_VOID:
		break;
	case CQL_RESULT_ROWS:
		rows_read(rd, a, r);
		break;
	case CQL_RESULT_SET_KEYSPACE:
		r->keyspace = cql_rd_string(rd);
		break;
	case CQL_RESULT_PREPARED:
		r->id = cql_rd_short_bytes(rd);
		cql_metadata_read(rd, a, &r->meta, true);
		cql_metadata_read(rd, a, &r->result_meta, false);
		break;
	case CQL_RESULT_SCHEMA_CHANGE:
		cql_schema_change_read(rd, a, &r->change);
		break;
	default:
		cql_rd_fail(rd, "unknown RESULT kind 0x%04x", (unsigned)r->kind);
	}
}

static void result_write(brook_buf *b, const cql_result *r)
{
	cql_wr_int(b, r->kind);
	switch (r->kind) {
	case CQL_RESULT_ROWS:
		cql_metadata_write(b, &r->meta, false);
		cql_wr_int(b, r->rows_count);
		if (r->rows_len)
			brook_buf_append(b, r->rows_content, r->rows_len);
		break;
	case CQL_RESULT_SET_KEYSPACE:
		cql_wr_string(b, r->keyspace);
		break;
	case CQL_RESULT_PREPARED:
		cql_wr_short_bytes(b, r->id);
		cql_metadata_write(b, &r->meta, true);
		cql_metadata_write(b, &r->result_meta, false);
		break;
	case CQL_RESULT_SCHEMA_CHANGE:
		cql_schema_change_write(b, &r->change);
		break;
	default: /* Void */
		break;
	}
}

/* ---- whole messages ------------------------------------------------------------ */

int cql_msg_decode(uint8_t opcode, cql_rd *rd, brook_arena *a, cql_msg *out)
{
	memset(out, 0, sizeof *out);
	out->opcode = opcode;
	switch (opcode) {
	case CQL_OP_ERROR:
		error_read(rd, a, &out->u.error);
		break;
	case CQL_OP_STARTUP:
		cql_rd_string_map(rd, a, &out->u.startup);
		break;
	case CQL_OP_READY:
	case CQL_OP_OPTIONS:
		break;
	case CQL_OP_AUTHENTICATE:
		out->u.authenticator = cql_rd_string(rd);
		break;
	case CQL_OP_SUPPORTED:
		cql_rd_multimap(rd, a, &out->u.supported);
		break;
	case CQL_OP_QUERY:
		out->u.query.query = cql_rd_long_string(rd);
		cql_query_params_read(rd, a, &out->u.query.params);
		break;
	case CQL_OP_RESULT:
		result_read(rd, a, &out->u.result);
		break;
	case CQL_OP_PREPARE:
		out->u.prepare = cql_rd_long_string(rd);
		break;
	case CQL_OP_EXECUTE:
		out->u.execute.id = cql_rd_short_bytes(rd);
		cql_query_params_read(rd, a, &out->u.execute.params);
		break;
	case CQL_OP_REGISTER:
		cql_rd_string_list(rd, a, &out->u.register_events);
		break;
	case CQL_OP_EVENT:
		event_read(rd, a, &out->u.event);
		break;
	case CQL_OP_BATCH:
		batch_read(rd, a, &out->u.batch);
		break;
	case CQL_OP_AUTH_CHALLENGE:
	case CQL_OP_AUTH_RESPONSE:
	case CQL_OP_AUTH_SUCCESS:
		out->u.token = cql_rd_bytes(rd);
		break;
	default:
		cql_rd_fail(rd, "unknown opcode 0x%02x", opcode);
		return BROOK_ERR;
	}
	if (!rd->failed && cql_opcode_is_request(opcode) && cql_rd_left(rd))
		cql_rd_fail(rd, "%s body has %zu unexpected bytes after byte %zu",
			    cql_opcode_name(opcode), cql_rd_left(rd), cql_rd_pos(rd));
	return rd->failed ? BROOK_ERR : BROOK_OK;
}

void cql_msg_encode(brook_buf *b, const cql_msg *m)
{
	switch (m->opcode) {
	case CQL_OP_ERROR:
		error_write(b, &m->u.error);
		break;
	case CQL_OP_STARTUP:
		cql_wr_string_map(b, &m->u.startup);
		break;
	case CQL_OP_AUTHENTICATE:
		cql_wr_string(b, m->u.authenticator);
		break;
	case CQL_OP_SUPPORTED:
		cql_wr_multimap(b, &m->u.supported);
		break;
	case CQL_OP_QUERY:
		cql_wr_long_string(b, m->u.query.query);
		cql_query_params_write(b, &m->u.query.params);
		break;
	case CQL_OP_RESULT:
		result_write(b, &m->u.result);
		break;
	case CQL_OP_PREPARE:
		cql_wr_long_string(b, m->u.prepare);
		break;
	case CQL_OP_EXECUTE:
		cql_wr_short_bytes(b, m->u.execute.id);
		cql_query_params_write(b, &m->u.execute.params);
		break;
	case CQL_OP_REGISTER:
		cql_wr_string_list(b, &m->u.register_events);
		break;
	case CQL_OP_EVENT:
		event_write(b, &m->u.event);
		break;
	case CQL_OP_BATCH:
		batch_write(b, &m->u.batch);
		break;
	case CQL_OP_AUTH_CHALLENGE:
	case CQL_OP_AUTH_RESPONSE:
	case CQL_OP_AUTH_SUCCESS:
		cql_wr_bytes(b, m->u.token);
		break;
	default: /* READY, OPTIONS: empty */
		break;
	}
}

/* ---- rows writer and iterator -------------------------------------------------- */

void cql_rows_begin(cql_rows_wr *w, brook_buf *b, const cql_metadata *meta)
{
	w->b = b;
	w->columns = meta->columns_count;
	w->rows = 0;
	w->cell = 0;
	cql_wr_int(b, CQL_RESULT_ROWS);
	w->meta_pos = b->len;
	cql_metadata_write(b, meta, false);
	w->count_pos = b->len;
	cql_wr_int(b, 0);
}

static void cell_done(cql_rows_wr *w)
{
	if (++w->cell == w->columns) {
		w->cell = 0;
		w->rows++;
	}
}

void cql_rows_cell(cql_rows_wr *w, const void *p, int32_t len)
{
	cql_wr_bytes(w->b, (cql_bytes){p, len});
	cell_done(w);
}

void cql_rows_cell_null(cql_rows_wr *w)
{
	cql_wr_int(w->b, CQL_NULL);
	cell_done(w);
}

void cql_rows_cell_text(cql_rows_wr *w, const char *s)
{
	cql_rows_cell(w, s, (int32_t)strlen(s));
}

void cql_rows_cell_int(cql_rows_wr *w, int32_t v)
{
	cql_wr_int(w->b, 4);
	cql_wr_int(w->b, v);
	cell_done(w);
}

void cql_rows_cell_bigint(cql_rows_wr *w, int64_t v)
{
	cql_wr_int(w->b, 8);
	cql_wr_long(w->b, v);
	cell_done(w);
}

void cql_rows_cell_boolean(cql_rows_wr *w, bool v)
{
	cql_wr_int(w->b, 1);
	cql_wr_byte(w->b, v ? 1 : 0);
	cell_done(w);
}

static void patch_be32(brook_buf *b, size_t pos, uint32_t n)
{
	uint8_t *p = (uint8_t *)b->data + pos;
	p[0] = (uint8_t)(n >> 24);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
}

void cql_rows_set_paging_state(cql_rows_wr *w, const void *state, int32_t len)
{
	brook_buf *b = w->b;
	const uint8_t *f = (const uint8_t *)b->data + w->meta_pos;
	uint32_t flags = (uint32_t)f[0] << 24 | (uint32_t)f[1] << 16 | (uint32_t)f[2] << 8 | f[3];
	patch_be32(b, w->meta_pos, flags | CQL_META_HAS_MORE_PAGES);
	/* the paging state goes right after <flags><columns_count> */
	size_t at = w->meta_pos + 8;
	size_t n = 4 + (len > 0 ? (size_t)len : 0);
	brook_buf_reserve(b, n);
	memmove(b->data + at + n, b->data + at, b->len - at);
	b->len += n;
	b->data[b->len] = '\0';
	patch_be32(b, at, (uint32_t)(len < 0 ? CQL_NULL : len));
	if (len > 0)
		memcpy(b->data + at + 4, state, (size_t)len);
	w->count_pos += n;
}

int32_t cql_rows_end(cql_rows_wr *w)
{
	patch_be32(w->b, w->count_pos, (uint32_t)w->rows);
	return w->rows;
}

void cql_rows_iter_init(cql_rows_iter *it, const cql_result *r)
{
	cql_rd_init(&it->rd, r->rows_content, r->rows_len);
	it->columns = r->meta.columns_count;
	it->rows_left = r->rows_count;
}

bool cql_rows_next(cql_rows_iter *it, cql_bytes *cells)
{
	if (it->rows_left <= 0)
		return false;
	for (int32_t i = 0; i < it->columns; i++)
		cells[i] = cql_rd_bytes(&it->rd);
	if (it->rd.failed)
		return false;
	it->rows_left--;
	return true;
}
