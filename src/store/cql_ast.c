/*
 * cql_ast.c — names of AST enums and a canonical re-rendering of a statement.
 *
 * The rendering is CQL again, normalised: keywords upper case, names folded (and
 * double-quoted when they would not survive folding), strings single-quoted with ''
 * escaping, one space between tokens, bind markers as ? or :name.
 * Parsing the rendering of a statement gives the same rendering, which the tests use.
 */
#include "store/cql_ast.h"
#include "store/cql_lex.h"

#include <ctype.h>
#include <string.h>

const char *cql_stmt_kind_name(cql_stmt_kind k)
{
	switch (k) {
	case CQL_STMT_CREATE_KEYSPACE: return "CREATE KEYSPACE";
	case CQL_STMT_DROP_KEYSPACE: return "DROP KEYSPACE";
	case CQL_STMT_CREATE_TABLE: return "CREATE TABLE";
	case CQL_STMT_DROP_TABLE: return "DROP TABLE";
	case CQL_STMT_USE: return "USE";
	case CQL_STMT_TRUNCATE: return "TRUNCATE";
	case CQL_STMT_INSERT: return "INSERT";
	case CQL_STMT_UPDATE: return "UPDATE";
	case CQL_STMT_DELETE: return "DELETE";
	case CQL_STMT_SELECT: return "SELECT";
	case CQL_STMT_BATCH: return "BATCH";
	}
	return "?";
}

const char *cql_ast_type_kind_name(cql_ast_type_kind k)
{
	switch (k) {
	case CQL_AST_TYPE_ASCII: return "ascii";
	case CQL_AST_TYPE_BIGINT: return "bigint";
	case CQL_AST_TYPE_BLOB: return "blob";
	case CQL_AST_TYPE_BOOLEAN: return "boolean";
	case CQL_AST_TYPE_COUNTER: return "counter";
	case CQL_AST_TYPE_DATE: return "date";
	case CQL_AST_TYPE_DECIMAL: return "decimal";
	case CQL_AST_TYPE_DOUBLE: return "double";
	case CQL_AST_TYPE_DURATION: return "duration";
	case CQL_AST_TYPE_FLOAT: return "float";
	case CQL_AST_TYPE_INET: return "inet";
	case CQL_AST_TYPE_INT: return "int";
	case CQL_AST_TYPE_SMALLINT: return "smallint";
	case CQL_AST_TYPE_TEXT: return "text";
	case CQL_AST_TYPE_TIME: return "time";
	case CQL_AST_TYPE_TIMESTAMP: return "timestamp";
	case CQL_AST_TYPE_TIMEUUID: return "timeuuid";
	case CQL_AST_TYPE_TINYINT: return "tinyint";
	case CQL_AST_TYPE_UUID: return "uuid";
	case CQL_AST_TYPE_VARINT: return "varint";
	case CQL_AST_TYPE_LIST: return "list";
	case CQL_AST_TYPE_SET: return "set";
	case CQL_AST_TYPE_MAP: return "map";
	case CQL_AST_TYPE_TUPLE: return "tuple";
	case CQL_AST_TYPE_UDT: return "udt";
	case CQL_AST_TYPE_CUSTOM: return "custom";
	}
	return "?";
}

const char *cql_op_name(cql_op op)
{
	switch (op) {
	case CQL_OP_EQ: return "=";
	case CQL_OP_LT: return "<";
	case CQL_OP_LE: return "<=";
	case CQL_OP_GT: return ">";
	case CQL_OP_GE: return ">=";
	case CQL_OP_NE: return "!=";
	case CQL_OP_IN: return "IN";
	case CQL_OP_CONTAINS: return "CONTAINS";
	case CQL_OP_CONTAINS_KEY: return "CONTAINS KEY";
	}
	return "?";
}

static void put_quoted(brook_buf *b, const char *s, size_t n, char q)
{
	brook_buf_putc(b, q);
	for (size_t i = 0; i < n; i++) {
		brook_buf_putc(b, s[i]);
		if (s[i] == q)
			brook_buf_putc(b, q);
	}
	brook_buf_putc(b, q);
}

static void put_name(brook_buf *b, const char *s)
{
	bool plain = isalpha((unsigned char)s[0]) != 0;
	for (const char *c = s; *c && plain; c++)
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_'))
			plain = false;
	if (plain && !cql_lex_is_reserved(s, strlen(s)))
		brook_buf_puts(b, s);
	else
		put_quoted(b, s, strlen(s), '"');
}

/* Function names print plain unless that would read back as something else. */
static void put_func_name(brook_buf *b, const char *s, const char *const *special)
{
	bool plain = isalpha((unsigned char)s[0]) != 0;
	for (const char *c = s; *c && plain; c++)
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_'))
			plain = false;
	for (int i = 0; plain && special[i]; i++)
		if (strcmp(s, special[i]) == 0)
			plain = false;
	if (plain)
		brook_buf_puts(b, s);
	else
		put_quoted(b, s, strlen(s), '"');
}

static const char *const term_specials[] = {"true", "false", "null", "nan", "infinity", NULL};
static const char *const sel_specials[] = {"count", "ttl", "writetime", NULL};

static void put_qname(brook_buf *b, const cql_qname *q)
{
	if (q->ks) {
		put_name(b, q->ks);
		brook_buf_putc(b, '.');
	}
	put_name(b, q->name);
}

static void put_terms(brook_buf *b, cql_term *const *items, size_t n, const char *open,
		      const char *close)
{
	brook_buf_puts(b, open);
	for (size_t i = 0; i < n; i++) {
		if (i)
			brook_buf_puts(b, ", ");
		cql_term_dump(b, items[i]);
	}
	brook_buf_puts(b, close);
}

void cql_type_dump(brook_buf *b, const cql_ast_type *t)
{
	if (t->frozen)
		brook_buf_puts(b, "frozen<");
	if (t->kind == CQL_AST_TYPE_UDT)
		put_quoted(b, t->name, strlen(t->name), '"'); /* never read back as a keyword */
	else if (t->kind == CQL_AST_TYPE_CUSTOM)
		put_quoted(b, t->name, strlen(t->name), '\'');
	else
		brook_buf_puts(b, cql_ast_type_kind_name(t->kind));
	if (t->n_params) {
		brook_buf_putc(b, '<');
		for (size_t i = 0; i < t->n_params; i++) {
			if (i)
				brook_buf_puts(b, ", ");
			cql_type_dump(b, t->params[i]);
		}
		brook_buf_putc(b, '>');
	}
	if (t->frozen)
		brook_buf_putc(b, '>');
}

void cql_term_dump(brook_buf *b, const cql_term *t)
{
	switch (t->kind) {
	case CQL_TERM_NULL:
		brook_buf_puts(b, "null");
		break;
	case CQL_TERM_BOOL:
	case CQL_TERM_INT:
	case CQL_TERM_FLOAT:
	case CQL_TERM_UUID:
		brook_buf_append(b, t->text, t->len);
		break;
	case CQL_TERM_STRING:
		put_quoted(b, t->text, t->len, '\'');
		break;
	case CQL_TERM_BLOB:
		brook_buf_puts(b, "0x");
		brook_buf_append(b, t->text, t->len);
		break;
	case CQL_TERM_BIND:
		if (t->text) {
			brook_buf_putc(b, ':');
			put_name(b, t->text);
		} else {
			brook_buf_putc(b, '?');
		}
		break;
	case CQL_TERM_LIST:
		put_terms(b, t->items, t->n, "[", "]");
		break;
	case CQL_TERM_SET:
		put_terms(b, t->items, t->n, "{", "}");
		break;
	case CQL_TERM_MAP:
		brook_buf_putc(b, '{');
		for (size_t i = 0; i + 1 < t->n; i += 2) {
			if (i)
				brook_buf_puts(b, ", ");
			cql_term_dump(b, t->items[i]);
			brook_buf_puts(b, ": ");
			cql_term_dump(b, t->items[i + 1]);
		}
		brook_buf_putc(b, '}');
		break;
	case CQL_TERM_TUPLE:
		put_terms(b, t->items, t->n, "(", ")");
		break;
	case CQL_TERM_FUNC:
		put_func_name(b, t->text, term_specials);
		put_terms(b, t->items, t->n, "(", ")");
		break;
	case CQL_TERM_CAST:
		brook_buf_putc(b, '(');
		cql_type_dump(b, t->cast);
		brook_buf_putc(b, ')');
		cql_term_dump(b, t->items[0]);
		break;
	}
}

static void put_using(brook_buf *b, const cql_using *u)
{
	if (!u->ttl && !u->timestamp)
		return;
	brook_buf_puts(b, " USING ");
	if (u->ttl) {
		brook_buf_puts(b, "TTL ");
		cql_term_dump(b, u->ttl);
		if (u->timestamp)
			brook_buf_puts(b, " AND ");
	}
	if (u->timestamp) {
		brook_buf_puts(b, "TIMESTAMP ");
		cql_term_dump(b, u->timestamp);
	}
}

static void put_idents(brook_buf *b, const cql_ident *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			brook_buf_puts(b, ", ");
		put_name(b, ids[i].name);
	}
}

static void put_relations(brook_buf *b, const char *kw, const cql_relation *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		brook_buf_puts(b, i ? " AND " : kw);
		switch (r[i].kind) {
		case CQL_REL_COLUMN:
			put_name(b, r[i].cols[0].name);
			if (r[i].key) {
				brook_buf_putc(b, '[');
				cql_term_dump(b, r[i].key);
				brook_buf_putc(b, ']');
			}
			break;
		case CQL_REL_TUPLE:
			brook_buf_putc(b, '(');
			put_idents(b, r[i].cols, r[i].n_cols);
			brook_buf_putc(b, ')');
			break;
		case CQL_REL_TOKEN:
			brook_buf_puts(b, "token(");
			put_idents(b, r[i].cols, r[i].n_cols);
			brook_buf_putc(b, ')');
			break;
		}
		brook_buf_printf(b, " %s ", cql_op_name(r[i].op));
		if (r[i].op == CQL_OP_IN && !r[i].value)
			put_terms(b, r[i].in, r[i].n_in, "(", ")");
		else
			cql_term_dump(b, r[i].value);
	}
}

static void put_options(brook_buf *b, const cql_option *o, size_t n, bool first)
{
	for (size_t i = 0; i < n; i++) {
		brook_buf_puts(b, first && i == 0 ? " WITH " : " AND ");
		put_name(b, o[i].name);
		brook_buf_puts(b, " = ");
		cql_term_dump(b, o[i].value);
	}
}

static void put_selector(brook_buf *b, const cql_selector *s)
{
	switch (s->kind) {
	case CQL_SEL_COLUMN:
		put_name(b, s->name);
		break;
	case CQL_SEL_COUNT:
		brook_buf_puts(b, "count(*)");
		break;
	case CQL_SEL_TERM:
		cql_term_dump(b, s->term);
		break;
	case CQL_SEL_TTL:
	case CQL_SEL_WRITETIME:
	case CQL_SEL_FUNC:
		if (s->kind == CQL_SEL_FUNC)
			put_func_name(b, s->name, sel_specials);
		else
			brook_buf_puts(b, s->name);
		brook_buf_putc(b, '(');
		for (size_t i = 0; i < s->n_args; i++) {
			if (i)
				brook_buf_puts(b, ", ");
			put_selector(b, &s->args[i]);
		}
		brook_buf_putc(b, ')');
		break;
	}
	if (s->alias) {
		brook_buf_puts(b, " AS ");
		put_name(b, s->alias);
	}
}

static void put_order(brook_buf *b, const cql_order *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			brook_buf_puts(b, ", ");
		put_name(b, o[i].col.name);
		brook_buf_puts(b, o[i].desc ? " DESC" : " ASC");
	}
}

static void put_conditions(brook_buf *b, bool if_exists, const cql_relation *c, size_t n)
{
	if (if_exists)
		brook_buf_puts(b, " IF EXISTS");
	put_relations(b, " IF ", c, n);
}

static void dump_create_table(brook_buf *b, const cql_create_table *ct)
{
	brook_buf_puts(b, "CREATE TABLE ");
	if (ct->if_not_exists)
		brook_buf_puts(b, "IF NOT EXISTS ");
	put_qname(b, &ct->name);
	brook_buf_puts(b, " (");
	for (size_t i = 0; i < ct->n_columns; i++) {
		put_name(b, ct->columns[i].name.name);
		brook_buf_putc(b, ' ');
		cql_type_dump(b, ct->columns[i].type);
		if (ct->columns[i].is_static)
			brook_buf_puts(b, " STATIC");
		brook_buf_puts(b, ", ");
	}
	if (ct->n_partition_key) {
		brook_buf_puts(b, "PRIMARY KEY ((");
		put_idents(b, ct->partition_key, ct->n_partition_key);
		brook_buf_putc(b, ')');
		for (size_t i = 0; i < ct->n_clustering; i++) {
			brook_buf_puts(b, ", ");
			put_name(b, ct->clustering[i].name);
		}
		brook_buf_puts(b, "))");
	} else if (ct->n_columns) {
		brook_buf_truncate(b, b->len - 2); /* the last ", " */
		brook_buf_putc(b, ')');
	} else {
		brook_buf_putc(b, ')');
	}
	bool with = false;
	if (ct->n_clustering_order) {
		brook_buf_puts(b, " WITH CLUSTERING ORDER BY (");
		put_order(b, ct->clustering_order, ct->n_clustering_order);
		brook_buf_putc(b, ')');
		with = true;
	}
	if (ct->compact_storage) {
		brook_buf_puts(b, with ? " AND COMPACT STORAGE" : " WITH COMPACT STORAGE");
		with = true;
	}
	put_options(b, ct->options, ct->n_options, !with);
}

void cql_stmt_dump(brook_buf *b, const cql_stmt *s)
{
	switch (s->kind) {
	case CQL_STMT_CREATE_KEYSPACE:
		brook_buf_puts(b, "CREATE KEYSPACE ");
		if (s->u.create_keyspace.if_not_exists)
			brook_buf_puts(b, "IF NOT EXISTS ");
		put_name(b, s->u.create_keyspace.name.name);
		put_options(b, s->u.create_keyspace.options, s->u.create_keyspace.n_options,
			    true);
		break;
	case CQL_STMT_DROP_KEYSPACE:
	case CQL_STMT_DROP_TABLE:
		brook_buf_puts(b, s->kind == CQL_STMT_DROP_TABLE ? "DROP TABLE " : "DROP KEYSPACE ");
		if (s->u.drop.if_exists)
			brook_buf_puts(b, "IF EXISTS ");
		put_qname(b, &s->u.drop.name);
		break;
	case CQL_STMT_CREATE_TABLE:
		dump_create_table(b, &s->u.create_table);
		break;
	case CQL_STMT_USE:
		brook_buf_puts(b, "USE ");
		put_name(b, s->u.use.name);
		break;
	case CQL_STMT_TRUNCATE:
		brook_buf_puts(b, "TRUNCATE ");
		put_qname(b, &s->u.truncate);
		break;
	case CQL_STMT_INSERT: {
		const cql_insert *in = &s->u.insert;
		brook_buf_puts(b, "INSERT INTO ");
		put_qname(b, &in->table);
		brook_buf_puts(b, " (");
		put_idents(b, in->columns, in->n_columns);
		brook_buf_puts(b, ") VALUES ");
		put_terms(b, in->values, in->n_values, "(", ")");
		if (in->if_not_exists)
			brook_buf_puts(b, " IF NOT EXISTS");
		put_using(b, &in->using);
		break;
	}
	case CQL_STMT_UPDATE: {
		const cql_update *u = &s->u.update;
		brook_buf_puts(b, "UPDATE ");
		put_qname(b, &u->table);
		put_using(b, &u->using);
		brook_buf_puts(b, " SET ");
		for (size_t i = 0; i < u->n_assigns; i++) {
			const cql_assign *a = &u->assigns[i];
			if (i)
				brook_buf_puts(b, ", ");
			put_name(b, a->col.name);
			if (a->kind == CQL_ASSIGN_ELEMENT) {
				brook_buf_putc(b, '[');
				cql_term_dump(b, a->key);
				brook_buf_putc(b, ']');
			}
			brook_buf_puts(b, " = ");
			if (a->kind == CQL_ASSIGN_ADD || a->kind == CQL_ASSIGN_SUB) {
				put_name(b, a->col.name);
				brook_buf_puts(b, a->kind == CQL_ASSIGN_ADD ? " + " : " - ");
			}
			cql_term_dump(b, a->value);
			if (a->kind == CQL_ASSIGN_PREPEND) {
				brook_buf_puts(b, " + ");
				put_name(b, a->col.name);
			}
		}
		put_relations(b, " WHERE ", u->where, u->n_where);
		put_conditions(b, u->if_exists, u->conditions, u->n_conditions);
		break;
	}
	case CQL_STMT_DELETE: {
		const cql_delete *d = &s->u.del;
		brook_buf_puts(b, "DELETE ");
		for (size_t i = 0; i < d->n_targets; i++) {
			put_name(b, d->targets[i].col.name);
			if (d->targets[i].key) {
				brook_buf_putc(b, '[');
				cql_term_dump(b, d->targets[i].key);
				brook_buf_putc(b, ']');
			}
			brook_buf_puts(b, i + 1 < d->n_targets ? ", " : " ");
		}
		brook_buf_puts(b, "FROM ");
		put_qname(b, &d->table);
		put_using(b, &d->using);
		put_relations(b, " WHERE ", d->where, d->n_where);
		put_conditions(b, d->if_exists, d->conditions, d->n_conditions);
		break;
	}
	case CQL_STMT_SELECT: {
		const cql_select *q = &s->u.select;
		brook_buf_puts(b, "SELECT ");
		if (q->json)
			brook_buf_puts(b, "JSON ");
		if (q->distinct)
			brook_buf_puts(b, "DISTINCT ");
		if (q->star)
			brook_buf_putc(b, '*');
		for (size_t i = 0; i < q->n_selectors; i++) {
			if (i)
				brook_buf_puts(b, ", ");
			put_selector(b, &q->selectors[i]);
		}
		brook_buf_puts(b, " FROM ");
		put_qname(b, &q->table);
		put_relations(b, " WHERE ", q->where, q->n_where);
		if (q->n_order_by) {
			brook_buf_puts(b, " ORDER BY ");
			put_order(b, q->order_by, q->n_order_by);
		}
		if (q->per_partition_limit) {
			brook_buf_puts(b, " PER PARTITION LIMIT ");
			cql_term_dump(b, q->per_partition_limit);
		}
		if (q->limit) {
			brook_buf_puts(b, " LIMIT ");
			cql_term_dump(b, q->limit);
		}
		if (q->allow_filtering)
			brook_buf_puts(b, " ALLOW FILTERING");
		break;
	}
	case CQL_STMT_BATCH: {
		const cql_ast_batch *bt = &s->u.batch;
		brook_buf_puts(b, bt->kind == CQL_AST_BATCH_UNLOGGED ? "BEGIN UNLOGGED BATCH" :
				  bt->kind == CQL_AST_BATCH_COUNTER ? "BEGIN COUNTER BATCH" :
								  "BEGIN BATCH");
		put_using(b, &bt->using);
		for (size_t i = 0; i < bt->n_stmts; i++) {
			brook_buf_putc(b, ' ');
			cql_stmt_dump(b, bt->stmts[i]);
			brook_buf_putc(b, ';');
		}
		brook_buf_puts(b, " APPLY BATCH");
		break;
	}
	}
}
