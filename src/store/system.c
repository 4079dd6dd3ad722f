/*
 * system.c — the system tables drivers read on connect and after schema changes:
 * system.local (this node), system.peers / peers_v2 (empty: one node), the
 * system_schema tables (keyspaces, tables, columns from the catalog; the others empty).
 *
 * Each is a virtual table: a column list and rows of CQL literal text, turned into
 * values (cql_value_from_text) and then selected like a user table — columns or *,
 * COUNT(*), WHERE col = / IN on any column (the drivers ask for one keyspace or table),
 * LIMIT. Results fit one page. Writes to these keyspaces are refused in exec.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/fileio.h"
#include "core/mem.h"
#include "store/cql_parse.h"
#include "store/exec.h"
#include "store/values.h"

static const char *const system_keyspaces[] = {
	"system", "system_schema", "system_auth", "system_distributed", "system_traces", NULL,
};

bool store_system_keyspace(const char *ks)
{
	for (size_t i = 0; system_keyspaces[i]; i++)
		if (strcmp(ks, system_keyspaces[i]) == 0)
			return true;
	return false;
}

static const catalog_sys_column local_cols[] = {
	{"key", "text"},
	{"bootstrapped", "text"},
	{"broadcast_address", "inet"},
	{"cluster_name", "text"},
	{"cql_version", "text"},
	{"data_center", "text"},
	{"gossip_generation", "int"},
	{"host_id", "uuid"},
	{"listen_address", "inet"},
	{"native_protocol_version", "text"},
	{"partitioner", "text"},
	{"rack", "text"},
	{"release_version", "text"},
	{"rpc_address", "inet"},
	{"schema_version", "uuid"},
	{"thrift_version", "text"},
	{"tokens", "set<text>"},
	{"truncated_at", "map<uuid, blob>"},
};

static const catalog_sys_column peers_cols[] = {
	{"peer", "inet"},          {"data_center", "text"},    {"host_id", "uuid"},
	{"preferred_ip", "inet"},  {"rack", "text"},           {"release_version", "text"},
	{"rpc_address", "inet"},   {"schema_version", "uuid"}, {"tokens", "set<text>"},
};

static const catalog_sys_column peers_v2_cols[] = {
	{"peer", "inet"},           {"peer_port", "int"},        {"data_center", "text"},
	{"host_id", "uuid"},        {"native_address", "inet"},  {"native_port", "int"},
	{"preferred_ip", "inet"},   {"preferred_port", "int"},   {"rack", "text"},
	{"release_version", "text"}, {"schema_version", "uuid"}, {"tokens", "set<text>"},
};

/* system_schema tables the drivers read that brook has nothing for. */
static const catalog_sys_column types_cols[] = {
	{"keyspace_name", "text"}, {"type_name", "text"},
	{"field_names", "frozen<list<text>>"}, {"field_types", "frozen<list<text>>"},
};
static const catalog_sys_column functions_cols[] = {
	{"keyspace_name", "text"}, {"function_name", "text"},
	{"argument_types", "frozen<list<text>>"}, {"argument_names", "frozen<list<text>>"},
	{"body", "text"}, {"called_on_null_input", "boolean"}, {"language", "text"},
	{"return_type", "text"},
};
static const catalog_sys_column aggregates_cols[] = {
	{"keyspace_name", "text"}, {"aggregate_name", "text"},
	{"argument_types", "frozen<list<text>>"}, {"final_func", "text"}, {"initcond", "text"},
	{"return_type", "text"}, {"state_func", "text"}, {"state_type", "text"},
};
static const catalog_sys_column triggers_cols[] = {
	{"keyspace_name", "text"}, {"table_name", "text"}, {"trigger_name", "text"},
	{"options", "frozen<map<text, text>>"},
};
static const catalog_sys_column indexes_cols[] = {
	{"keyspace_name", "text"}, {"table_name", "text"}, {"index_name", "text"},
	{"kind", "text"}, {"options", "frozen<map<text, text>>"},
};
static const catalog_sys_column views_cols[] = {
	{"keyspace_name", "text"}, {"view_name", "text"}, {"base_table_id", "uuid"},
	{"base_table_name", "text"}, {"id", "uuid"}, {"include_all_columns", "boolean"},
	{"where_clause", "text"},
};
static const catalog_sys_column dropped_cols[] = {
	{"keyspace_name", "text"}, {"table_name", "text"}, {"column_name", "text"},
	{"dropped_time", "timestamp"}, {"type", "text"},
};

#define COLS(a) a, sizeof(a) / sizeof((a)[0])

/* Every system table: its columns (key columns first) and how many are partition key
 * and clustering columns. keyspaces / tables / columns take their column lists from the
 * catalog (cols NULL here). */
typedef struct vdef {
	const char *ks, *name;
	const catalog_sys_column *cols;
	size_t n;
	int npk, nck;
	int sys; /* catalog_system_table + 1 for the catalog-backed ones, else 0 */
} vdef;

static const vdef vdefs[] = {
	{"system", "local", COLS(local_cols), 1, 0, 0},
	{"system", "peers", COLS(peers_cols), 1, 0, 0},
	{"system", "peers_v2", COLS(peers_v2_cols), 1, 1, 0},
	{"system_schema", "keyspaces", NULL, 0, 1, 0, CATALOG_SYS_KEYSPACES + 1},
	{"system_schema", "tables", NULL, 0, 1, 1, CATALOG_SYS_TABLES + 1},
	{"system_schema", "columns", NULL, 0, 1, 2, CATALOG_SYS_COLUMNS + 1},
	{"system_schema", "types", COLS(types_cols), 1, 1, 0},
	{"system_schema", "functions", COLS(functions_cols), 1, 2, 0},
	{"system_schema", "aggregates", COLS(aggregates_cols), 1, 2, 0},
	{"system_schema", "triggers", COLS(triggers_cols), 1, 2, 0},
	{"system_schema", "indexes", COLS(indexes_cols), 1, 2, 0},
	{"system_schema", "views", COLS(views_cols), 1, 1, 0},
	{"system_schema", "dropped_columns", COLS(dropped_cols), 1, 2, 0},
};

static const vdef *vdef_find(const char *ks, const char *name)
{
	for (size_t i = 0; i < sizeof vdefs / sizeof vdefs[0]; i++)
		if (strcmp(vdefs[i].ks, ks) == 0 && strcmp(vdefs[i].name, name) == 0)
			return &vdefs[i];
	return NULL;
}

/* The columns of a catalog-backed table (static arrays of the catalog). */
static void catalog_columns(const catalog *cat, int which, const catalog_sys_column **cols,
			    size_t *n)
{
	brook_arena a = BROOK_ARENA_INIT;
	catalog_rows rows;
	catalog_system_rows(cat, (catalog_system_table)which, &a, &rows);
	*cols = rows.columns;
	*n = rows.n_columns;
	brook_arena_release(&a);
}

/* Runs one DDL statement on cat; BROOK_ERR with the message in err. */
static int run_ddl(catalog *cat, const char *cql, size_t len, char *err, size_t errlen)
{
	brook_arena a = BROOK_ARENA_INIT;
	cql_stmt *st;
	int rc = cql_parse(&a, cql, len, &st, err, errlen);
	if (rc == BROOK_OK) {
		catalog_result r = {0};
		rc = catalog_execute(cat, st, NULL, &r);
		if (rc != BROOK_OK)
			snprintf(err, errlen, "%s", r.message ? r.message : "failed");
		catalog_result_release(&r);
	}
	brook_arena_release(&a);
	return rc;
}

catalog *store_system_catalog_open(const char *dir, char *err, size_t errlen)
{
	brook_remove_tree(dir); /* definitions come from this code, never from old files */
	catalog *cat = catalog_open(dir, err, errlen);
	if (!cat)
		return NULL;
	static const char *const keyspaces[] = {
		"system", "{'class': 'LocalStrategy'}",
		"system_schema", "{'class': 'LocalStrategy'}",
		"system_auth", "{'class': 'SimpleStrategy', 'replication_factor': '1'}",
		"system_distributed", "{'class': 'SimpleStrategy', 'replication_factor': '3'}",
		"system_traces", "{'class': 'SimpleStrategy', 'replication_factor': '2'}",
	};
	brook_buf b = BROOK_BUF_INIT;
	int rc = BROOK_OK;
	for (size_t i = 0; i < sizeof keyspaces / sizeof keyspaces[0] && rc == BROOK_OK; i += 2) {
		brook_buf_reset(&b);
		brook_buf_printf(&b, "CREATE KEYSPACE %s WITH replication = %s", keyspaces[i],
				 keyspaces[i + 1]);
		rc = run_ddl(cat, b.data, b.len, err, errlen);
	}
	for (size_t i = 0; i < sizeof vdefs / sizeof vdefs[0] && rc == BROOK_OK; i++) {
		const vdef *d = &vdefs[i];
		const catalog_sys_column *cols = d->cols;
		size_t n = d->n;
		if (d->sys)
			catalog_columns(cat, d->sys - 1, &cols, &n);
		brook_buf_reset(&b);
		brook_buf_printf(&b, "CREATE TABLE %s.%s (", d->ks, d->name);
		for (size_t k = 0; k < n; k++)
			brook_buf_printf(&b, "%s %s, ", cols[k].name, cols[k].type);
		brook_buf_puts(&b, "PRIMARY KEY ((");
		for (int k = 0; k < d->npk + d->nck; k++)
			brook_buf_printf(&b, "%s%s%s", k ? ", " : "", cols[k].name,
					 k + 1 == d->npk ? ")" : "");
		brook_buf_puts(&b, "))");
		rc = run_ddl(cat, b.data, b.len, err, errlen);
	}
	brook_buf_release(&b);
	if (rc != BROOK_OK) {
		catalog_close(cat);
		return NULL;
	}
	return cat;
}

/* Appends the rows of b to a (same columns). */
static void rows_concat(brook_arena *ar, catalog_rows *a, const catalog_rows *b)
{
	size_t nc = a->n_columns;
	const char **cells = brook_arena_calloc(ar, ((a->n_rows + b->n_rows) * nc + 1) *
						       sizeof *cells);
	if (a->n_rows)
		memcpy(cells, a->cells, a->n_rows * nc * sizeof *cells);
	if (b->n_rows)
		memcpy(cells + a->n_rows * nc, b->cells, b->n_rows * nc * sizeof *cells);
	a->cells = cells;
	a->n_rows += b->n_rows;
}

/* The rows of ks.name, or false for an unknown table. */
static bool vtable_rows(store_exec_ctx *x, const char *ks, const char *name, catalog_rows *rows)
{
	memset(rows, 0, sizeof *rows);
	if (strcmp(ks, "system") == 0 && strcmp(name, "local") == 0) {
		const store_node_info *n = x->node;
		char sv[BROOK_UUID_STRLEN + 1], hid[BROOK_UUID_STRLEN + 1], addr[32];
		brook_uuid_format(catalog_schema_version(store_db_catalog(x->db)), sv);
		brook_uuid_format(&n->host_id, hid);
		snprintf(addr, sizeof addr, "%u.%u.%u.%u", n->addr[0], n->addr[1], n->addr[2],
			 n->addr[3]);
		char tokens[64];
		snprintf(tokens, sizeof tokens, "{'%s'}", n->token);
		const char *vals[] = {
			"local", "COMPLETED", addr, n->cluster_name, n->cql_version, "datacenter1",
			"1", hid, addr, "4", "org.apache.cassandra.dht.Murmur3Partitioner", "rack1",
			n->release_version, addr, sv, "20.1.0", tokens, NULL,
		};
		rows->columns = local_cols;
		rows->n_columns = sizeof local_cols / sizeof local_cols[0];
		rows->n_rows = 1;
		rows->cells = brook_arena_calloc(x->arena, rows->n_columns * sizeof *rows->cells);
		for (size_t i = 0; i < rows->n_columns; i++)
			rows->cells[i] = vals[i] ? brook_arena_strndup(x->arena, vals[i], strlen(vals[i]))
						 : NULL;
		return true;
	}
	const vdef *d = vdef_find(ks, name);
	if (!d)
		return false;
	if (d->sys) {
		/* The system keyspaces' own definitions, then the user's. */
		catalog_rows user;
		catalog_system_rows(x->node->system_catalog, (catalog_system_table)(d->sys - 1),
				    x->arena, rows);
		catalog_system_rows(store_db_catalog(x->db), (catalog_system_table)(d->sys - 1),
				    x->arena, &user);
		rows_concat(x->arena, rows, &user);
		return true;
	}
	rows->columns = d->cols;
	rows->n_columns = d->n;
	return true;
}

static int col_index(const catalog_rows *rows, const char *name)
{
	for (size_t i = 0; i < rows->n_columns; i++)
		if (strcmp(rows->columns[i].name, name) == 0)
			return (int)i;
	return -1;
}

int store_system_select(store_exec_ctx *x, const char *ks, const cql_select *q,
			store_exec_out *o)
{
	catalog_rows rows;
	if (!vtable_rows(x, ks, q->table.name, &rows)) {
		store_exec_error(o, CQL_ERR_INVALID, "unconfigured table %s", q->table.name);
		return BROOK_OK;
	}
	brook_arena *a = x->arena;
	size_t nc = rows.n_columns;
	const cql_type **types = brook_arena_calloc(a, (nc + 1) * sizeof *types);
	for (size_t i = 0; i < nc; i++) {
		char err[256];
		types[i] = cql_type_parse(rows.columns[i].type, strlen(rows.columns[i].type), a, err,
					  sizeof err);
	}
	/* Values of every cell. */
	cql_bytes *vals = brook_arena_calloc(a, (rows.n_rows * nc + 1) * sizeof *vals);
	for (size_t r = 0; r < rows.n_rows; r++)
		for (size_t c = 0; c < nc; c++) {
			const char *txt = rows.cells[r * nc + c];
			cql_bytes *v = &vals[r * nc + c];
			*v = (cql_bytes){NULL, -1};
			if (!txt || !types[c])
				continue;
			brook_buf b = BROOK_BUF_INIT;
			char err[256];
			if (cql_value_from_text(types[c], txt, strlen(txt), &b, err, sizeof err) ==
			    BROOK_OK) {
				uint8_t *d = brook_arena_alloc(a, b.len + 1);
				if (b.len)
					memcpy(d, b.data, b.len);
				*v = (cql_bytes){d, (int32_t)b.len};
			}
			brook_buf_release(&b);
		}
	/* Selection: columns (or *) and COUNT(*). */
	size_t nsel = q->star ? nc : q->n_selectors;
	int *sel = brook_arena_calloc(a, (nsel + 1) * sizeof *sel); /* column, or -1: count */
	const char **names = brook_arena_calloc(a, (nsel + 1) * sizeof *names);
	bool aggregate = false;
	for (size_t i = 0; i < nsel; i++) {
		if (q->star) {
			sel[i] = (int)i;
			names[i] = rows.columns[i].name;
			continue;
		}
		const cql_selector *se = &q->selectors[i];
		if (se->kind == CQL_SEL_COUNT) {
			sel[i] = -1;
			names[i] = "count";
			aggregate = true;
		} else if (se->kind == CQL_SEL_COLUMN && (sel[i] = col_index(&rows, se->name)) >= 0) {
			names[i] = rows.columns[sel[i]].name;
		} else {
			store_exec_error(o, CQL_ERR_INVALID, "Undefined column name %s",
					 se->name ? se->name : "?");
			return BROOK_OK;
		}
		if (se->alias)
			names[i] = se->alias;
	}
	/* WHERE: = and IN on any column. */
	bool *keep = brook_arena_calloc(a, rows.n_rows + 1);
	for (size_t r = 0; r < rows.n_rows; r++)
		keep[r] = true;
	for (size_t i = 0; i < q->n_where; i++) {
		const cql_relation *rel = &q->where[i];
		int c = rel->kind == CQL_REL_COLUMN ? col_index(&rows, rel->cols[0].name) : -1;
		if (c < 0 || (rel->op != CQL_OP_EQ && rel->op != CQL_OP_IN) || !types[c]) {
			store_exec_error(o, CQL_ERR_INVALID, "Unsupported restriction on %s.%s", ks,
					 q->table.name);
			return BROOK_OK;
		}
		size_t nv = rel->op == CQL_OP_IN && !rel->value ? rel->n_in : 1;
		for (size_t r = 0; r < rows.n_rows; r++) {
			bool any = false;
			for (size_t k = 0; k < nv && !any; k++) {
				const cql_term *term = rel->op == CQL_OP_IN && !rel->value ? rel->in[k]
											   : rel->value;
				store_value v;
				if (store_exec_value(x, types[c], rows.columns[c].name, term, &v, o) !=
				    BROOK_OK)
					return BROOK_OK;
				cql_bytes cv = vals[r * nc + (size_t)c];
				any = v.kind == STORE_VALUE_SET && cv.len == (int32_t)v.len &&
				      (v.len == 0 || memcmp(cv.ptr, v.ptr, v.len) == 0);
			}
			keep[r] = keep[r] && any;
		}
	}
	uint64_t limit = UINT64_MAX;
	if (q->limit) {
		store_value v;
		if (store_exec_value(x, cql_type_native(CQL_TYPE_INT), "[limit]", q->limit, &v, o) !=
		    BROOK_OK)
			return BROOK_OK;
		if (v.kind == STORE_VALUE_SET && v.len == 4)
			limit = (uint64_t)((uint32_t)v.ptr[0] << 24 | (uint32_t)v.ptr[1] << 16 |
					   (uint32_t)v.ptr[2] << 8 | v.ptr[3]);
	}
	cql_metadata meta = {0};
	meta.columns_count = (int32_t)nsel;
	if (x->skip_metadata) {
		meta.flags = CQL_META_NO_METADATA;
	} else {
		meta.flags = CQL_META_GLOBAL_TABLES_SPEC;
		meta.keyspace = cql_str_from(ks);
		meta.table = cql_str_from(q->table.name);
		meta.cols = brook_arena_calloc(a, (nsel + 1) * sizeof *meta.cols);
		for (size_t i = 0; i < nsel; i++) {
			meta.cols[i].name = cql_str_from(names[i]);
			meta.cols[i].type = sel[i] < 0 ? cql_type_native(CQL_TYPE_BIGINT)
						       : types[sel[i]];
		}
	}
	cql_rows_wr wr;
	cql_rows_begin(&wr, o->body, &meta);
	uint64_t count = 0;
	size_t first = SIZE_MAX;
	for (size_t r = 0; r < rows.n_rows && count < limit; r++) {
		if (!keep[r])
			continue;
		if (first == SIZE_MAX)
			first = r;
		count++;
		if (aggregate)
			continue;
		for (size_t i = 0; i < nsel; i++) {
			cql_bytes v = vals[r * nc + (size_t)sel[i]];
			cql_rows_cell(&wr, v.ptr, v.len);
		}
	}
	if (aggregate)
		for (size_t i = 0; i < nsel; i++) {
			if (sel[i] < 0) {
				cql_rows_cell_bigint(&wr, (int64_t)count);
			} else {
				cql_bytes v = first == SIZE_MAX ? (cql_bytes){NULL, -1}
								: vals[first * nc + (size_t)sel[i]];
				cql_rows_cell(&wr, v.ptr, v.len);
			}
		}
	cql_rows_end(&wr);
	o->reads += count;
	return BROOK_OK;
}
