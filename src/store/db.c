/*
 * db.c — catalog + engines, and the key encodings (see db.h).
 */
#include "store/db.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/cql_ast.h"
#include "store/values.h"

#define COMP "store"

struct store_db {
	char *dir;
	catalog *cat;
	store_engine_opts eo;
	store_table **tables;
	size_t n_tables, cap;
};

/* ---- keys --------------------------------------------------------------------------- */

int store_pk_encode(const store_table *t, const cql_bytes *vals, brook_buf *out, char *err,
		    size_t errlen)
{
	size_t n = t->meta->n_partition_key;
	for (size_t i = 0; i < n; i++) {
		if (vals[i].len > (int32_t)STORE_MAX_KEY) {
			snprintf(err, errlen, "Key length of %d is longer than maximum of %u",
				 vals[i].len, STORE_MAX_KEY);
			return BROOK_ERR;
		}
	}
	if (n == 1) {
		if (vals[0].len > 0)
			brook_buf_append(out, vals[0].ptr, (size_t)vals[0].len);
	} else {
		for (size_t i = 0; i < n; i++) {
			uint8_t l[2] = {(uint8_t)(vals[i].len >> 8), (uint8_t)vals[i].len};
			brook_buf_append(out, l, 2);
			if (vals[i].len > 0)
				brook_buf_append(out, vals[i].ptr, (size_t)vals[i].len);
			brook_buf_append(out, "", 1);
		}
	}
	if (out->len == 0 || out->len > STORE_MAX_KEY) {
		snprintf(err, errlen, out->len ? "Key length of %zu is longer than maximum of %u"
					       : "Key may not be empty",
			 out->len, STORE_MAX_KEY);
		return BROOK_ERR;
	}
	return BROOK_OK;
}

int store_pk_decode(const store_table *t, const uint8_t *pk, size_t n, cql_bytes *out)
{
	size_t np = t->meta->n_partition_key;
	if (np == 1) {
		out[0] = (cql_bytes){pk, (int32_t)n};
		return BROOK_OK;
	}
	size_t pos = 0;
	for (size_t i = 0; i < np; i++) {
		if (n - pos < 2)
			return BROOK_ERR;
		size_t l = (size_t)pk[pos] << 8 | pk[pos + 1];
		pos += 2;
		if (n - pos < l + 1)
			return BROOK_ERR;
		out[i] = (cql_bytes){pk + pos, (int32_t)l};
		pos += l + 1;
	}
	return pos == n ? BROOK_OK : BROOK_ERR;
}

void store_ck_encode(const cql_bytes *vals, size_t n, brook_buf *out)
{
	for (size_t i = 0; i < n; i++) {
		size_t l = vals[i].len > 0 ? (size_t)vals[i].len : 0;
		uint8_t h[2] = {(uint8_t)(l >> 8), (uint8_t)l};
		brook_buf_append(out, h, 2);
		if (l)
			brook_buf_append(out, vals[i].ptr, l);
	}
}

int store_ck_decode(const uint8_t *ck, size_t n, cql_bytes *out, size_t max)
{
	size_t pos = 0;
	int k = 0;
	while (pos < n) {
		if ((size_t)k == max || n - pos < 2)
			return -1;
		size_t l = (size_t)ck[pos] << 8 | ck[pos + 1];
		pos += 2;
		if (n - pos < l)
			return -1;
		out[k++] = (cql_bytes){ck + pos, (int32_t)l};
		pos += l;
	}
	return k;
}

/* The engine's clustering comparator: column by column, a prefix compares equal. */
static int ck_compare(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, void *ctx)
{
	const store_table *t = ctx;
	size_t pa = 0, pb = 0;
	for (size_t i = 0; i < t->n_ck && pa + 2 <= alen && pb + 2 <= blen; i++) {
		size_t la = (size_t)a[pa] << 8 | a[pa + 1];
		size_t lb = (size_t)b[pb] << 8 | b[pb + 1];
		pa += 2;
		pb += 2;
		if (la > alen - pa)
			la = alen - pa;
		if (lb > blen - pb)
			lb = blen - pb;
		int c = store_value_cmp(t->ck_types[i], a + pa, la, b + pb, lb);
		if (c)
			return t->desc[i] ? -c : c;
		pa += la;
		pb += lb;
	}
	return 0;
}

store_cmp store_table_cmp(const store_table *t)
{
	return (store_cmp){ck_compare, (void *)t};
}

/* ---- tables ------------------------------------------------------------------------- */

static char *table_dir(const store_db *db, const catalog_table *m)
{
	char id[BROOK_UUID_STRLEN + 1], hex[33];
	brook_uuid_format(&m->id, id);
	size_t k = 0;
	for (const char *p = id; *p; p++)
		if (*p != '-')
			hex[k++] = *p;
	hex[k] = '\0';
	size_t n = strlen(db->dir) + strlen(m->ks) + strlen(m->name) + 48;
	char *d = brook_malloc(n);
	snprintf(d, n, "%s/data/%s/%s-%s", db->dir, m->ks, m->name, hex);
	return d;
}

static store_table *table_open(store_db *db, const catalog_table *m, char *err, size_t errlen)
{
	store_table *t = brook_calloc(1, sizeof *t);
	t->meta = m;
	t->ks = brook_strdup(m->ks);
	t->name = brook_strdup(m->name);
	t->refs = 1;
	t->types = brook_arena_calloc(&t->arena, m->n_columns * sizeof *t->types);
	for (size_t i = 0; i < m->n_columns; i++) {
		char terr[256];
		t->types[i] = cql_type_parse(m->columns[i].type, strlen(m->columns[i].type),
					     &t->arena, terr, sizeof terr);
		if (!t->types[i]) {
			snprintf(err, errlen, "table %s.%s column %s: %s", m->ks, m->name,
				 m->columns[i].name, terr);
			goto fail;
		}
	}
	t->n_ck = m->n_clustering;
	t->ck_types = brook_arena_calloc(&t->arena, (t->n_ck + 1) * sizeof *t->ck_types);
	t->desc = brook_arena_calloc(&t->arena, t->n_ck + 1);
	for (size_t i = 0; i < t->n_ck; i++) {
		t->ck_types[i] = t->types[m->clustering[i]->index];
		t->desc[i] = m->clustering[i]->desc;
	}
	t->dir = table_dir(db, m);
	store_engine_opts o = db->eo;
	o.cmp = (store_cmp){ck_compare, t};
	char eerr[512];
	if (store_engine_open(t->dir, &o, &t->engine, eerr, sizeof eerr) != BROOK_OK) {
		snprintf(err, errlen, "table %s.%s: %s", m->ks, m->name, eerr);
		goto fail;
	}
	return t;
fail:
	free(t->dir);
	free(t->ks);
	free(t->name);
	brook_arena_release(&t->arena);
	free(t);
	return NULL;
}

static void table_free(store_table *t)
{
	if (t->engine)
		store_engine_close(t->engine);
	if (t->dropped && brook_remove_tree(t->dir) != BROOK_OK)
		brook_warn(COMP, "cannot remove %s: %s", t->dir, strerror(errno));
	free(t->dir);
	free(t->ks);
	free(t->name);
	brook_arena_release(&t->arena);
	free(t);
}

void store_table_ref(store_table *t)
{
	t->refs++;
}

void store_table_unref(store_table *t)
{
	if (--t->refs == 0)
		table_free(t);
}

static void tables_add(store_db *db, store_table *t)
{
	if (db->n_tables == db->cap) {
		db->cap = db->cap ? 2 * db->cap : 8;
		db->tables = brook_realloc(db->tables, db->cap * sizeof *db->tables);
	}
	db->tables[db->n_tables++] = t;
}

/* Unregisters tables matching ks (and name, unless NULL) and drops their data. */
static void tables_drop(store_db *db, const char *ks, const char *name)
{
	size_t k = 0;
	for (size_t i = 0; i < db->n_tables; i++) {
		store_table *t = db->tables[i];
		if (strcmp(t->ks, ks) == 0 && (!name || strcmp(t->name, name) == 0)) {
			t->dropped = true;
			t->meta = NULL;
			store_table_unref(t);
		} else {
			db->tables[k++] = t;
		}
	}
	db->n_tables = k;
}

store_table *store_db_table(store_db *db, const char *ks, const char *name)
{
	for (size_t i = 0; i < db->n_tables; i++)
		if (strcmp(db->tables[i]->name, name) == 0 && strcmp(db->tables[i]->ks, ks) == 0)
			return db->tables[i];
	return NULL;
}

/* Removes table directories the catalog does not know (a DROP interrupted by a crash). */
static void remove_orphans(store_db *db)
{
	size_t n = strlen(db->dir) + 8;
	char *data = brook_malloc(n);
	snprintf(data, n, "%s/data", db->dir);
	DIR *d = opendir(data);
	struct dirent *ks;
	while (d && (ks = readdir(d)) != NULL) {
		if (ks->d_name[0] == '.')
			continue;
		size_t kn = strlen(data) + strlen(ks->d_name) + 2;
		char *kd = brook_malloc(kn);
		snprintf(kd, kn, "%s/%s", data, ks->d_name);
		DIR *td = opendir(kd);
		struct dirent *te;
		while (td && (te = readdir(td)) != NULL) {
			if (te->d_name[0] == '.')
				continue;
			size_t tn = strlen(kd) + strlen(te->d_name) + 2;
			char *path = brook_malloc(tn);
			snprintf(path, tn, "%s/%s", kd, te->d_name);
			bool known = false;
			for (size_t i = 0; i < db->n_tables && !known; i++)
				known = strcmp(db->tables[i]->dir, path) == 0;
			if (!known) {
				brook_info(COMP, "removing %s: no such table in the schema", path);
				brook_remove_tree(path);
			}
			free(path);
		}
		if (td)
			closedir(td);
		free(kd);
	}
	if (d)
		closedir(d);
	free(data);
}

store_db *store_db_open(const char *dir, const store_engine_opts *eo, char *err, size_t errlen)
{
	store_db *db = brook_calloc(1, sizeof *db);
	db->dir = brook_strdup(dir);
	db->eo = *eo;
	db->cat = catalog_open(dir, err, errlen);
	if (!db->cat) {
		free(db->dir);
		free(db);
		return NULL;
	}
	const catalog_keyspace *const *kss;
	size_t nks = catalog_keyspaces(db->cat, &kss);
	for (size_t i = 0; i < nks; i++) {
		for (size_t j = 0; j < kss[i]->n_tables; j++) {
			store_table *t = table_open(db, kss[i]->tables[j], err, errlen);
			if (!t) {
				store_db_close(db);
				return NULL;
			}
			tables_add(db, t);
		}
	}
	remove_orphans(db);
	return db;
}

void store_db_close(store_db *db)
{
	for (size_t i = 0; i < db->n_tables; i++) {
		store_table *t = db->tables[i];
		if (t->refs > 1)
			brook_warn(COMP, "table %s.%s still has %d users at close", t->ks, t->name,
				   t->refs - 1);
		t->refs = 1;
		store_table_unref(t);
	}
	free(db->tables);
	catalog_close(db->cat);
	free(db->dir);
	free(db);
}

catalog *store_db_catalog(store_db *db)
{
	return db->cat;
}

int store_db_ddl(store_db *db, const cql_stmt *st, const char *session_ks, catalog_result *r)
{
	if (catalog_execute(db->cat, st, session_ks, r) != BROOK_OK)
		return BROOK_ERR;
	if (!r->applied)
		return BROOK_OK; /* an IF [NOT] EXISTS no-op */
	switch (st->kind) {
	case CQL_STMT_CREATE_TABLE: {
		const catalog_table *m = catalog_table_get(db->cat, r->ks, r->table);
		char err[512];
		store_table *t = m ? table_open(db, m, err, sizeof err) : NULL;
		if (!t) {
			brook_error(COMP, "creating table %s.%s: %s", r->ks, r->table,
				    m ? err : "not in the catalog");
			r->code = CATALOG_SERVER_ERROR;
			free(r->message);
			r->message = brook_strdup(m ? err : "table vanished from the catalog");
			return BROOK_ERR;
		}
		tables_add(db, t);
		break;
	}
	case CQL_STMT_DROP_TABLE:
		tables_drop(db, r->ks, r->table);
		break;
	case CQL_STMT_DROP_KEYSPACE:
		tables_drop(db, r->ks, NULL);
		break;
	default:
		break;
	}
	return BROOK_OK;
}

int store_db_truncate(store_db *db, store_table *t, char *err, size_t errlen)
{
	(void)db;
	return store_engine_truncate(t->engine, err, errlen);
}

void store_db_stats(store_db *db, store_engine_stats *out, uint64_t *tables)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < db->n_tables; i++) {
		store_engine_stats s;
		store_engine_get_stats(db->tables[i]->engine, &s);
		out->writes += s.writes;
		out->reads += s.reads;
		out->scans += s.scans;
		out->flushes += s.flushes;
		out->compactions += s.compactions;
		out->memtable_bytes += s.memtable_bytes;
		out->memtable_partitions += s.memtable_partitions;
		out->sstables += s.sstables;
		out->sstable_bytes += s.sstable_bytes;
		out->commitlog_segments += s.commitlog_segments;
	}
	*tables = db->n_tables;
}
