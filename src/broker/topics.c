/*
 * topics.c — topic registry and its on-disk description (see topics.h).
 */
#include "broker/topics.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/err.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/mem.h"

#define LOG "broker"

/* Kafka ErrorCodes used here. */
enum {
	ERR_NONE = 0,
	ERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
	ERR_INVALID_TOPIC_EXCEPTION = 17,
	ERR_TOPIC_ALREADY_EXISTS = 36,
	ERR_INVALID_PARTITIONS = 37,
	ERR_INVALID_CONFIG = 40,
	ERR_KAFKA_STORAGE_ERROR = 56,
};

#define MAX_PARTITIONS 10000

struct broker_topics {
	char *dir;
	broker_log_config defaults;
	broker_topic **topics; /* sorted by name */
	size_t n;
};

/* ---- configuration names ---------------------------------------------------------- */

typedef enum { CFG_POLICY, CFG_I64, CFG_FIXED } cfg_kind;

static const struct topic_cfg {
	const char *name;
	cfg_kind kind;
	size_t offset;         /* CFG_I64: into broker_log_config */
	int64_t min;           /* CFG_I64: smallest accepted value */
	const char *fixed;     /* CFG_FIXED: the only value brook supports */
} topic_cfgs[] = {
	{"cleanup.policy", CFG_POLICY, 0, 0, NULL},
	{"retention.ms", CFG_I64, offsetof(broker_log_config, retention_ms), -1, NULL},
	{"retention.bytes", CFG_I64, offsetof(broker_log_config, retention_bytes), -1, NULL},
	{"segment.bytes", CFG_I64, offsetof(broker_log_config, segment_bytes), 1024, NULL},
	{"segment.ms", CFG_I64, offsetof(broker_log_config, segment_ms), 1, NULL},
	{"max.message.bytes", CFG_I64, offsetof(broker_log_config, max_message_bytes), 0, NULL},
	{"delete.retention.ms", CFG_I64, offsetof(broker_log_config, delete_retention_ms), 0,
	 NULL},
	{"min.compaction.lag.ms", CFG_I64, offsetof(broker_log_config, min_compaction_lag_ms), 0,
	 NULL},
	{"index.interval.bytes", CFG_I64, offsetof(broker_log_config, index_interval_bytes), 0,
	 NULL},
	{"compression.type", CFG_FIXED, 0, 0, "producer"},
	{"message.timestamp.type", CFG_FIXED, 0, 0, "CreateTime"},
	{"min.insync.replicas", CFG_FIXED, 0, 0, "1"},
};
#define NCFG (sizeof topic_cfgs / sizeof topic_cfgs[0])

size_t broker_topic_config_count(void)
{
	return NCFG;
}

const char *broker_topic_config_name(size_t i)
{
	return i < NCFG ? topic_cfgs[i].name : NULL;
}

static const struct topic_cfg *cfg_find(const char *name)
{
	for (size_t i = 0; i < NCFG; i++)
		if (!strcmp(topic_cfgs[i].name, name))
			return &topic_cfgs[i];
	return NULL;
}

/* Fields of broker_log_config differ in width; read/write them by size. */
static int64_t cfg_read(const broker_log_config *c, const struct topic_cfg *tc)
{
	const char *p = (const char *)c + tc->offset;
	if (tc->offset == offsetof(broker_log_config, segment_bytes))
		return (int64_t)*(const uint64_t *)p;
	if (tc->offset == offsetof(broker_log_config, max_message_bytes) ||
	    tc->offset == offsetof(broker_log_config, index_interval_bytes))
		return (int64_t)*(const uint32_t *)p;
	return *(const int64_t *)p;
}

static void cfg_write(broker_log_config *c, const struct topic_cfg *tc, int64_t v)
{
	char *p = (char *)c + tc->offset;
	if (tc->offset == offsetof(broker_log_config, segment_bytes))
		*(uint64_t *)p = (uint64_t)v;
	else if (tc->offset == offsetof(broker_log_config, max_message_bytes) ||
		 tc->offset == offsetof(broker_log_config, index_interval_bytes))
		*(uint32_t *)p = (uint32_t)(v > UINT32_MAX ? UINT32_MAX : v);
	else
		*(int64_t *)p = v;
}

/* Applies one override to cfg; ERR_INVALID_CONFIG with a message when it is not valid. */
static int16_t cfg_apply(broker_log_config *cfg, const char *name, const char *value, char *msg,
			 size_t msglen)
{
	const struct topic_cfg *tc = cfg_find(name);
	if (!tc) {
		snprintf(msg, msglen, "unknown or unsupported topic config '%s'", name);
		return ERR_INVALID_CONFIG;
	}
	switch (tc->kind) {
	case CFG_POLICY:
		if (!strcmp(value, "delete"))
			cfg->compact = false;
		else if (!strcmp(value, "compact") || !strcmp(value, "compact,delete") ||
			 !strcmp(value, "delete,compact"))
			cfg->compact = true;
		else
			goto bad;
		return ERR_NONE;
	case CFG_I64: {
		char *end;
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (errno || !*value || *end || v < tc->min)
			goto bad;
		cfg_write(cfg, tc, v);
		return ERR_NONE;
	}
	case CFG_FIXED:
		if (strcmp(value, tc->fixed) != 0)
			goto bad;
		return ERR_NONE;
	}
bad:
	if (tc->kind == CFG_FIXED)
		snprintf(msg, msglen, "invalid value '%s' for %s: brook supports only '%s'", value,
			 name, tc->fixed);
	else
		snprintf(msg, msglen, "invalid value '%s' for %s", value, name);
	return ERR_INVALID_CONFIG;
}

bool broker_topic_config_get(const broker_topic *topic, const broker_log_config *defaults,
			     const char *name, char *value, size_t vlen, bool *is_override)
{
	const struct topic_cfg *tc = cfg_find(name);
	if (!tc)
		return false;
	const broker_log_config *c = topic ? &topic->cfg : defaults;
	*is_override = false;
	for (size_t i = 0; topic && i < topic->noverrides; i++)
		if (!strcmp(topic->override_names[i], name))
			*is_override = true;
	switch (tc->kind) {
	case CFG_POLICY:
		snprintf(value, vlen, "%s", c->compact ? "compact" : "delete");
		break;
	case CFG_I64:
		snprintf(value, vlen, "%" PRId64, cfg_read(c, tc));
		break;
	case CFG_FIXED:
		snprintf(value, vlen, "%s", tc->fixed);
		break;
	}
	return true;
}

/* ---- names and files -------------------------------------------------------------- */

bool broker_topic_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > BROKER_TOPIC_NAME_MAX)
		return false;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static char *path_join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = brook_malloc(n);
	snprintf(p, n, "%s/%s", a, b);
	return p;
}

/* Writes <topicdir>/topic.json atomically. */
static int topic_save(broker_topics *t, const broker_topic *tp)
{
	char id[BROOK_UUID_STRLEN + 1];
	brook_uuid_format(&tp->id, id);
	json_t *configs = json_object();
	for (size_t i = 0; i < tp->noverrides; i++)
		json_object_set_new(configs, tp->override_names[i],
				    json_string(tp->override_values[i]));
	json_t *doc = json_pack("{s:s, s:s, s:i, s:o}", "name", tp->name, "id", id, "partitions",
				(json_int_t)tp->npartitions, "configs", configs);
	char *tdir = path_join(t->dir, tp->name);
	char *final = path_join(tdir, "topic.json");
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	int rc = brook_file_write_atomic(final, text, strlen(text));
	if (rc != BROOK_OK)
		brook_error(LOG, "cannot write %s: %s", final, strerror(errno));
	free(text);
	json_decref(doc);
	free(tdir);
	free(final);
	return rc;
}

static void topic_free(broker_topic *tp)
{
	for (int32_t i = 0; i < tp->npartitions; i++) {
		if (tp->parts[i]->log)
			broker_log_close(tp->parts[i]->log);
		free(tp->parts[i]);
	}
	free(tp->parts);
	for (size_t i = 0; i < tp->noverrides; i++) {
		free(tp->override_names[i]);
		free(tp->override_values[i]);
	}
	free(tp->override_names);
	free(tp->override_values);
	free(tp->name);
	free(tp);
}

/* Opens partitions [from, to) of tp (creating their directories). */
static int open_partitions(broker_topics *t, broker_topic *tp, int32_t from, int32_t to, char *msg,
			   size_t msglen)
{
	char *tdir = path_join(t->dir, tp->name);
	mkdir(tdir, 0755);
	tp->parts = brook_realloc(tp->parts, (size_t)to * sizeof *tp->parts);
	int rc = 0;
	for (int32_t i = from; i < to; i++) {
		char idx[16];
		snprintf(idx, sizeof idx, "%d", i);
		char *pdir = path_join(tdir, idx);
		broker_partition *p = brook_calloc(1, sizeof *p);
		p->topic = tp;
		p->index = i;
		char err[512];
		p->log = broker_log_open(pdir, &tp->cfg, err, sizeof err);
		free(pdir);
		tp->parts[i] = p;
		tp->npartitions = i + 1;
		if (!p->log) {
			snprintf(msg, msglen, "cannot open partition %s-%d: %s", tp->name, i, err);
			rc = -1;
			break;
		}
	}
	free(tdir);
	return rc;
}

static void insert_sorted(broker_topics *t, broker_topic *tp)
{
	size_t i = 0;
	while (i < t->n && strcmp(t->topics[i]->name, tp->name) < 0)
		i++;
	t->topics = brook_realloc(t->topics, (t->n + 1) * sizeof *t->topics);
	memmove(&t->topics[i + 1], &t->topics[i], (t->n - i) * sizeof *t->topics);
	t->topics[i] = tp;
	t->n++;
}

static void set_override(broker_topic *tp, const char *name, const char *value)
{
	for (size_t i = 0; i < tp->noverrides; i++) {
		if (strcmp(tp->override_names[i], name) != 0)
			continue;
		free(tp->override_values[i]);
		if (value) {
			tp->override_values[i] = brook_strdup(value);
		} else {
			free(tp->override_names[i]);
			tp->noverrides--;
			tp->override_names[i] = tp->override_names[tp->noverrides];
			tp->override_values[i] = tp->override_values[tp->noverrides];
		}
		return;
	}
	if (!value)
		return;
	tp->override_names = brook_realloc(tp->override_names,
					   (tp->noverrides + 1) * sizeof(char *));
	tp->override_values = brook_realloc(tp->override_values,
					    (tp->noverrides + 1) * sizeof(char *));
	tp->override_names[tp->noverrides] = brook_strdup(name);
	tp->override_values[tp->noverrides] = brook_strdup(value);
	tp->noverrides++;
}

/* The effective config: defaults, then every override. */
static int16_t compute_cfg(const broker_topics *t, broker_topic *tp, char *msg, size_t msglen)
{
	broker_log_config cfg = t->defaults;
	for (size_t i = 0; i < tp->noverrides; i++) {
		int16_t e = cfg_apply(&cfg, tp->override_names[i], tp->override_values[i], msg,
				      msglen);
		if (e)
			return e;
	}
	tp->cfg = cfg;
	return ERR_NONE;
}

static broker_topic *load_topic(broker_topics *t, const char *name)
{
	char *tdir = path_join(t->dir, name);
	char *file = path_join(tdir, "topic.json");
	free(tdir);
	json_error_t jerr;
	json_t *doc = json_load_file(file, 0, &jerr);
	if (!doc) {
		brook_warn(LOG, "skipping %s: %s (line %d)", file, jerr.text, jerr.line);
		free(file);
		return NULL;
	}
	const char *jname = NULL, *jid = NULL;
	json_int_t nparts = 0;
	json_t *configs = NULL;
	broker_topic *tp = NULL;
	if (json_unpack(doc, "{s:s, s:s, s:I, s?o}", "name", &jname, "id", &jid, "partitions",
			&nparts, "configs", &configs) != 0 ||
	    strcmp(jname, name) != 0 || nparts < 1 || nparts > MAX_PARTITIONS) {
		brook_warn(LOG, "skipping %s: not a valid topic description", file);
		goto out;
	}
	tp = brook_calloc(1, sizeof *tp);
	tp->name = brook_strdup(name);
	tp->internal = name[0] == '_' && name[1] == '_';
	if (brook_uuid_parse(jid, strlen(jid), &tp->id) != BROOK_OK)
		brook_uuid_v4(&tp->id);
	const char *k;
	json_t *v;
	json_object_foreach(configs, k, v) {
		if (json_is_string(v))
			set_override(tp, k, json_string_value(v));
	}
	char msg[256];
	if (compute_cfg(t, tp, msg, sizeof msg) != ERR_NONE)
		brook_warn(LOG, "topic %s: %s; using defaults for it", name, msg);
	if (open_partitions(t, tp, 0, (int32_t)nparts, msg, sizeof msg) != 0) {
		brook_error(LOG, "topic %s: %s", name, msg);
		topic_free(tp);
		tp = NULL;
	}
out:
	json_decref(doc);
	free(file);
	return tp;
}

broker_topics *broker_topics_open(const char *dir, const broker_log_config *defaults, char *err,
				  size_t errlen)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return NULL;
	}
	broker_topics *t = brook_calloc(1, sizeof *t);
	t->dir = brook_strdup(dir);
	t->defaults = *defaults;
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
		broker_topics_close(t);
		return NULL;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!broker_topic_name_valid(e->d_name, strlen(e->d_name)))
			continue;
		broker_topic *tp = load_topic(t, e->d_name);
		if (tp)
			insert_sorted(t, tp);
	}
	closedir(d);
	return t;
}

void broker_topics_close(broker_topics *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		topic_free(t->topics[i]);
	free(t->topics);
	free(t->dir);
	free(t);
}

broker_topic *broker_topics_get(broker_topics *t, const char *name, size_t len)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *m = t->topics[mid]->name;
		int c = strncmp(m, name, len);
		if (c == 0)
			c = m[len] ? 1 : 0;
		if (c == 0)
			return t->topics[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t broker_topics_count(const broker_topics *t)
{
	return t->n;
}

broker_topic *broker_topics_at(broker_topics *t, size_t i)
{
	return i < t->n ? t->topics[i] : NULL;
}

int16_t broker_topics_create(broker_topics *t, const char *name, int32_t partitions,
			     const broker_topic_kv *configs, size_t nconfigs, bool validate_only,
			     broker_topic **out, char *msg, size_t msglen)
{
	size_t len = strlen(name);
	*out = NULL;
	msg[0] = '\0';
	if (!broker_topic_name_valid(name, len)) {
		snprintf(msg, msglen, "topic name '%.*s' is invalid: use 1-249 characters of "
			 "a-z A-Z 0-9 . _ -", (int)(len > 64 ? 64 : len), name);
		return ERR_INVALID_TOPIC_EXCEPTION;
	}
	if (broker_topics_get(t, name, len)) {
		snprintf(msg, msglen, "topic '%s' already exists", name);
		return ERR_TOPIC_ALREADY_EXISTS;
	}
	if (partitions < 1 || partitions > MAX_PARTITIONS) {
		snprintf(msg, msglen, "number of partitions must be 1..%d, not %d", MAX_PARTITIONS,
			 partitions);
		return ERR_INVALID_PARTITIONS;
	}
	broker_topic *tp = brook_calloc(1, sizeof *tp);
	tp->name = brook_strdup(name);
	tp->internal = name[0] == '_' && name[1] == '_';
	brook_uuid_v4(&tp->id);
	for (size_t i = 0; i < nconfigs; i++)
		set_override(tp, configs[i].name, configs[i].value);
	int16_t e = compute_cfg(t, tp, msg, msglen);
	if (e || validate_only) {
		topic_free(tp);
		return e;
	}
	if (open_partitions(t, tp, 0, partitions, msg, msglen) != 0 || topic_save(t, tp) != BROOK_OK) {
		if (!msg[0])
			snprintf(msg, msglen, "cannot store topic '%s' on disk", name);
		topic_free(tp);
		return ERR_KAFKA_STORAGE_ERROR;
	}
	insert_sorted(t, tp);
	brook_info(LOG, "created topic %s with %d partition%s%s", name, partitions,
		   partitions == 1 ? "" : "s", tp->cfg.compact ? " (compacted)" : "");
	*out = tp;
	return ERR_NONE;
}

int16_t broker_topics_delete(broker_topics *t, const char *name, char *msg, size_t msglen)
{
	broker_topic *tp = broker_topics_get(t, name, strlen(name));
	if (!tp) {
		snprintf(msg, msglen, "topic '%s' does not exist", name);
		return ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	size_t i = 0;
	while (t->topics[i] != tp)
		i++;
	memmove(&t->topics[i], &t->topics[i + 1], (t->n - i - 1) * sizeof *t->topics);
	t->n--;
	/* Forget the description first: a crash mid-way leaves no half-deleted topic. */
	char *tdir = path_join(t->dir, tp->name);
	char *file = path_join(tdir, "topic.json");
	unlink(file);
	brook_fsync_dir(tdir);
	int32_t np = tp->npartitions;
	for (int32_t p = 0; p < np; p++) {
		broker_log_close(tp->parts[p]->log);
		tp->parts[p]->log = NULL;
		char idx[16];
		snprintf(idx, sizeof idx, "%d", p);
		char *pdir = path_join(tdir, idx);
		broker_log_remove_dir(pdir);
		free(pdir);
	}
	rmdir(tdir);
	free(file);
	free(tdir);
	brook_info(LOG, "deleted topic %s", tp->name);
	topic_free(tp);
	return ERR_NONE;
}

int16_t broker_topics_add_partitions(broker_topics *t, broker_topic *tp, int32_t total,
				     bool validate_only, char *msg, size_t msglen)
{
	if (total <= tp->npartitions || total > MAX_PARTITIONS) {
		snprintf(msg, msglen, "topic '%s' has %d partitions; the new count must be "
			 "larger (and at most %d), not %d", tp->name, tp->npartitions,
			 MAX_PARTITIONS, total);
		return ERR_INVALID_PARTITIONS;
	}
	if (validate_only)
		return ERR_NONE;
	int32_t old = tp->npartitions;
	if (open_partitions(t, tp, old, total, msg, msglen) != 0 || topic_save(t, tp) != BROOK_OK)
		return ERR_KAFKA_STORAGE_ERROR;
	brook_info(LOG, "topic %s now has %d partitions (was %d)", tp->name, total, old);
	return ERR_NONE;
}

int16_t broker_topics_set_configs(broker_topics *t, broker_topic *tp,
				  const broker_topic_kv *configs, size_t n, bool validate_only,
				  char *msg, size_t msglen)
{
	/* Validate on a scratch copy first: all or nothing. */
	broker_log_config cfg = tp->cfg;
	for (size_t i = 0; i < n; i++) {
		if (!configs[i].value) {
			if (!cfg_find(configs[i].name)) {
				snprintf(msg, msglen, "unknown topic config '%s'", configs[i].name);
				return ERR_INVALID_CONFIG;
			}
			continue;
		}
		int16_t e = cfg_apply(&cfg, configs[i].name, configs[i].value, msg, msglen);
		if (e)
			return e;
	}
	if (validate_only)
		return ERR_NONE;
	for (size_t i = 0; i < n; i++)
		set_override(tp, configs[i].name, configs[i].value);
	int16_t e = compute_cfg(t, tp, msg, msglen);
	if (e)
		return e;
	for (int32_t p = 0; p < tp->npartitions; p++)
		broker_log_set_config(tp->parts[p]->log, &tp->cfg);
	if (topic_save(t, tp) != BROOK_OK) {
		snprintf(msg, msglen, "cannot store the configuration of '%s'", tp->name);
		return ERR_KAFKA_STORAGE_ERROR;
	}
	return ERR_NONE;
}
