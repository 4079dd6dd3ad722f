/*
 * cql_ast.h — the syntax tree of one CQL statement, as cql_parse() builds it.
 *
 * Ownership: every node, array and string lives in the brook_arena given to
 * cql_parse(); releasing or resetting that arena frees the whole tree at once. Strings
 * are NUL-terminated copies (never views into the statement text).
 *
 * Names: identifiers are already folded (unquoted to lower case, "Quoted" unquoted with
 * "" as "). A table name's keyspace is NULL when the statement did not name one.
 *
 * Terms keep their literal kind and text; converting to typed values is the semantic
 * layer's work (it knows the column types): CQL_TERM_INT/FLOAT text is the number as
 * written, with a leading '-' when negative ("NaN", "Infinity", "-Infinity" are FLOATs);
 * STRING text is decoded ('' → '); UUID text is the 36 characters; BLOB text is the hex
 * digits after 0x (maybe empty); BOOL has `b`. `{}` is a MAP with no entries (it is also
 * the empty set). A MAP's items alternate key, value (n counts items, so it is even).
 *
 * Bind markers: every ? and :name is a CQL_TERM_BIND whose bind_index is its 0-based
 * position among all markers of the statement (a batch numbers across its statements);
 * the statement's binds[] lists them in order and names are NULL for positional ones.
 *
 * Positions: every node has the line (1-based) and column (0-based) of its first token.
 */
#ifndef BROOK_STORE_CQL_AST_H
#define BROOK_STORE_CQL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct cql_pos {
	uint32_t line; /* 1-based */
	uint32_t col;  /* 0-based */
} cql_pos;

/* ---- types ---- */

typedef enum cql_ast_type_kind {
	CQL_AST_TYPE_ASCII,
	CQL_AST_TYPE_BIGINT,
	CQL_AST_TYPE_BLOB,
	CQL_AST_TYPE_BOOLEAN,
	CQL_AST_TYPE_COUNTER,
	CQL_AST_TYPE_DATE,
	CQL_AST_TYPE_DECIMAL,
	CQL_AST_TYPE_DOUBLE,
	CQL_AST_TYPE_DURATION,
	CQL_AST_TYPE_FLOAT,
	CQL_AST_TYPE_INET,
	CQL_AST_TYPE_INT,
	CQL_AST_TYPE_SMALLINT,
	CQL_AST_TYPE_TEXT, /* text and varchar */
	CQL_AST_TYPE_TIME,
	CQL_AST_TYPE_TIMESTAMP,
	CQL_AST_TYPE_TIMEUUID,
	CQL_AST_TYPE_TINYINT,
	CQL_AST_TYPE_UUID,
	CQL_AST_TYPE_VARINT,
	CQL_AST_TYPE_LIST,  /* params[0] */
	CQL_AST_TYPE_SET,   /* params[0] */
	CQL_AST_TYPE_MAP,   /* params[0] key, params[1] value */
	CQL_AST_TYPE_TUPLE, /* params[0..n) */
	CQL_AST_TYPE_UDT,   /* name: a user type (not supported by the store, kept for messages) */
	CQL_AST_TYPE_CUSTOM, /* name: 'java.class.Name' */
} cql_ast_type_kind;

typedef struct cql_ast_type cql_ast_type;
struct cql_ast_type {
	cql_ast_type_kind kind;
	cql_pos pos;
	bool frozen;
	const char *name; /* UDT / CUSTOM */
	cql_ast_type **params;
	size_t n_params;
};

/* ---- terms ---- */

typedef enum cql_term_kind {
	CQL_TERM_NULL,
	CQL_TERM_BOOL,
	CQL_TERM_INT,
	CQL_TERM_FLOAT,
	CQL_TERM_STRING,
	CQL_TERM_UUID,
	CQL_TERM_BLOB,
	CQL_TERM_BIND,  /* ? or :name */
	CQL_TERM_LIST,  /* [a, b] */
	CQL_TERM_SET,   /* {a, b} */
	CQL_TERM_MAP,   /* {k: v, ...}, and {} */
	CQL_TERM_TUPLE, /* (a, b) */
	CQL_TERM_FUNC,  /* text(args): now(), uuid(), totimestamp(now()), token(?) */
	CQL_TERM_CAST,  /* (type) items[0] */
} cql_term_kind;

typedef struct cql_term cql_term;
struct cql_term {
	cql_term_kind kind;
	cql_pos pos;
	const char *text; /* literal text, function name, or bind name (NULL: positional) */
	size_t len;       /* strlen(text); strings may hold NUL bytes */
	bool b;           /* BOOL */
	int bind_index;   /* BIND */
	cql_term **items; /* LIST/SET/TUPLE elements, MAP key,value pairs, FUNC args, CAST */
	size_t n;
	cql_ast_type *cast;   /* CAST target type */
};

/* ---- names ---- */

typedef struct cql_qname {
	const char *ks; /* NULL: the session's keyspace */
	const char *name;
	cql_pos pos;
} cql_qname;

typedef struct cql_ident {
	const char *name;
	cql_pos pos;
} cql_ident;

/* name = value in WITH clauses; value is a term (maps for replication, compaction). */
typedef struct cql_option {
	const char *name;
	cql_pos pos;
	cql_term *value;
} cql_option;

/* USING TTL t AND TIMESTAMP t (NULL when absent). */
typedef struct cql_using {
	cql_term *ttl;
	cql_term *timestamp;
} cql_using;

/* ---- WHERE relations ---- */

typedef enum cql_op {
	CQL_OP_EQ,
	CQL_OP_LT,
	CQL_OP_LE,
	CQL_OP_GT,
	CQL_OP_GE,
	CQL_OP_NE,
	CQL_OP_IN,
	CQL_OP_CONTAINS,
	CQL_OP_CONTAINS_KEY,
} cql_op;

typedef enum cql_rel_kind {
	CQL_REL_COLUMN, /* col op term; col[key] op term when key != NULL */
	CQL_REL_TUPLE,  /* (c1, c2) op term-or-tuple */
	CQL_REL_TOKEN,  /* token(c1, c2) op term */
} cql_rel_kind;

typedef struct cql_relation {
	cql_rel_kind kind;
	cql_pos pos;
	cql_ident *cols; /* one for COLUMN */
	size_t n_cols;
	cql_term *key;   /* COLUMN with a map element: col[key] */
	cql_op op;
	/* The right side: for IN, either value (a single bind marker: IN ?) or in[]
	 * (the listed terms; tuples for a TUPLE relation). Otherwise value. */
	cql_term *value;
	cql_term **in;
	size_t n_in;
} cql_relation;

/* ---- statements ---- */

typedef enum cql_stmt_kind {
	CQL_STMT_CREATE_KEYSPACE,
	CQL_STMT_DROP_KEYSPACE,
	CQL_STMT_CREATE_TABLE,
	CQL_STMT_DROP_TABLE,
	CQL_STMT_USE,
	CQL_STMT_TRUNCATE,
	CQL_STMT_INSERT,
	CQL_STMT_UPDATE,
	CQL_STMT_DELETE,
	CQL_STMT_SELECT,
	CQL_STMT_BATCH,
} cql_stmt_kind;

typedef struct cql_create_keyspace {
	bool if_not_exists;
	cql_ident name;
	cql_option *options; /* replication, durable_writes, ... */
	size_t n_options;
} cql_create_keyspace;

typedef struct cql_drop {
	bool if_exists;
	cql_qname name; /* DROP KEYSPACE: name.name is the keyspace, ks NULL */
} cql_drop;

typedef struct cql_column_def {
	cql_ident name;
	cql_ast_type *type;
	bool is_static;
	bool primary_key; /* declared inline: `col type PRIMARY KEY` */
} cql_column_def;

typedef struct cql_order {
	cql_ident col;
	bool desc;
} cql_order;

typedef struct cql_create_table {
	bool if_not_exists;
	cql_qname name;
	cql_column_def *columns;
	size_t n_columns;
	/* The primary key, from the PRIMARY KEY (...) clause or else from the inline
	 * declaration. n_pk_decls counts declarations (inline + clause): the semantic layer
	 * rejects anything but exactly one, as Cassandra does. */
	cql_ident *partition_key;
	size_t n_partition_key;
	cql_ident *clustering;
	size_t n_clustering;
	int n_pk_decls;
	cql_order *clustering_order; /* WITH CLUSTERING ORDER BY (...) */
	size_t n_clustering_order;
	bool compact_storage;
	cql_option *options; /* every other WITH option, as written */
	size_t n_options;
} cql_create_table;

typedef struct cql_insert {
	cql_qname table;
	cql_ident *columns;
	size_t n_columns;
	cql_term **values;
	size_t n_values;
	bool if_not_exists;
	cql_using using;
} cql_insert;

typedef enum cql_assign_kind {
	CQL_ASSIGN_SET,     /* c = v */
	CQL_ASSIGN_ADD,     /* c = c + v (counter increment, list append, set/map add) */
	CQL_ASSIGN_SUB,     /* c = c - v */
	CQL_ASSIGN_PREPEND, /* c = v + c (list prepend) */
	CQL_ASSIGN_ELEMENT, /* c[key] = v */
} cql_assign_kind;

typedef struct cql_assign {
	cql_assign_kind kind;
	cql_ident col;
	cql_term *key; /* ELEMENT */
	cql_term *value;
} cql_assign;

typedef struct cql_update {
	cql_qname table;
	cql_using using;
	cql_assign *assigns;
	size_t n_assigns;
	cql_relation *where;
	size_t n_where;
	bool if_exists;
	cql_relation *conditions; /* IF c = v AND ... (lightweight transactions) */
	size_t n_conditions;
} cql_update;

/* DELETE target: a whole column, or one element col[key]. */
typedef struct cql_delete_target {
	cql_ident col;
	cql_term *key;
} cql_delete_target;

typedef struct cql_delete {
	cql_delete_target *targets; /* none: the whole row(s) */
	size_t n_targets;
	cql_qname table;
	cql_using using;
	cql_relation *where;
	size_t n_where;
	bool if_exists;
	cql_relation *conditions;
	size_t n_conditions;
} cql_delete;

typedef enum cql_sel_kind {
	CQL_SEL_COLUMN,    /* name */
	CQL_SEL_COUNT,     /* COUNT(*) or COUNT(1); count(col) is a FUNC named count */
	CQL_SEL_TTL,       /* ttl(col): args[0] is the column */
	CQL_SEL_WRITETIME, /* writetime(col) */
	CQL_SEL_FUNC,      /* name(args): token(a, b), totimestamp(c), ... */
	CQL_SEL_TERM,      /* a literal or bind marker (rare; kept for completeness) */
} cql_sel_kind;

typedef struct cql_selector cql_selector;
struct cql_selector {
	cql_sel_kind kind;
	cql_pos pos;
	const char *name;  /* COLUMN: column; FUNC: function (lower case) */
	cql_selector *args;
	size_t n_args;
	cql_term *term;    /* TERM */
	const char *alias; /* AS alias; NULL when absent */
};

typedef struct cql_select {
	bool distinct;
	bool json;
	bool star; /* SELECT *: selectors empty */
	cql_selector *selectors;
	size_t n_selectors;
	cql_qname table;
	cql_relation *where;
	size_t n_where;
	cql_order *order_by;
	size_t n_order_by;
	cql_term *per_partition_limit;
	cql_term *limit;
	bool allow_filtering;
} cql_select;

typedef enum cql_batch_kind {
	CQL_AST_BATCH_LOGGED,
	CQL_AST_BATCH_UNLOGGED,
	CQL_AST_BATCH_COUNTER,
} cql_batch_kind;

typedef struct cql_stmt cql_stmt;

typedef struct cql_ast_batch {
	cql_batch_kind kind;
	cql_using using; /* only TIMESTAMP is allowed */
	cql_stmt **stmts; /* INSERT, UPDATE, DELETE */
	size_t n_stmts;
} cql_ast_batch;

struct cql_stmt {
	cql_stmt_kind kind;
	cql_pos pos;
	union {
		cql_create_keyspace create_keyspace;
		cql_drop drop; /* DROP KEYSPACE, DROP TABLE */
		cql_create_table create_table;
		cql_ident use;
		cql_qname truncate;
		cql_insert insert;
		cql_update update;
		cql_delete del;
		cql_select select;
		cql_ast_batch batch;
	} u;
	/* Bind markers in order of appearance (set on the top-level statement only). */
	cql_term **binds;
	size_t n_binds;
};

/* Names for messages and debugging. */
const char *cql_stmt_kind_name(cql_stmt_kind k);
const char *cql_ast_type_kind_name(cql_ast_type_kind k);
const char *cql_op_name(cql_op op);

/* A compact one-line rendering of a term or statement, for tests and logs: names are
 * printed folded, strings re-quoted, markers as ? or :name. */
void cql_term_dump(brook_buf *b, const cql_term *t);
void cql_type_dump(brook_buf *b, const cql_ast_type *t);
void cql_stmt_dump(brook_buf *b, const cql_stmt *s);

#endif
