/*
 * config.h — brook's configuration: one YAML file, table-driven, with overrides.
 *
 * Every key is declared once, in a component's table (brook_cfg_key[]): its dotted
 * path, type, default and one line of help. The tables drive parsing, validation,
 * `brook config keys`, and `brook <cmd> --help`. A key's value comes from, in rising
 * precedence:
 *
 *   1. the table default
 *   2. the built-in YAML (config/brook.yaml, embedded at build time)
 *   3. the user's file (--config FILE)
 *   4. the environment: BROOK_<PATH>, dots as underscores, upper case
 *      (source.url -> BROOK_SOURCE_URL)
 *   5. --set path=value on the command line (and command options that are sugar for it)
 *
 * YAML may nest sections (`source: {url: ...}`) or use dotted keys (`source.url: ...`).
 * Unknown keys and ill-typed values are errors naming the file, line and key
 * ("brook.yaml:12: unknown key 'broker.segmnt_bytes' (did you mean
 * 'broker.segment_bytes'?)"). Types:
 *
 *   STR       any scalar; with `choices` ("text|json"), one of them
 *   INT       a 64-bit integer
 *   BOOL      true/false, yes/no, on/off, 1/0
 *   DOUBLE    a finite number
 *   DURATION  "250ms", "30s", "5m", "2h", "1d" or bare milliseconds; read as ms
 *   SIZE      "64MiB", "1GB", "512k" or bare bytes; read as bytes
 *   LIST      a YAML sequence of scalars, or one comma-separated scalar
 *   TREE      any YAML subtree, validated by its component (DAGs, mappings); from the
 *             environment or --set the value text is parsed as YAML
 *
 * Getters take a key that must be registered with that type: asking for an unknown
 * key is a programming error and aborts.
 */
#ifndef BROOK_CORE_CONFIG_H
#define BROOK_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef enum {
	BROOK_CFG_STR,
	BROOK_CFG_INT,
	BROOK_CFG_BOOL,
	BROOK_CFG_DOUBLE,
	BROOK_CFG_DURATION,
	BROOK_CFG_SIZE,
	BROOK_CFG_LIST,
	BROOK_CFG_TREE,
} brook_cfg_type;

typedef struct brook_cfg_key {
	const char *key;     /* "source.url"; NULL ends a table */
	brook_cfg_type type;
	const char *def;     /* default as text (parsed like a value); NULL: unset */
	const char *help;    /* one line */
	const char *choices; /* STR only: "a|b|c", or NULL */
} brook_cfg_key;

/* A node of a TREE value: the YAML as parsed, with source lines for error messages. */
typedef enum { BROOK_CFG_NODE_SCALAR, BROOK_CFG_NODE_SEQ, BROOK_CFG_NODE_MAP } brook_cfg_node_kind;
typedef struct brook_cfg_node {
	brook_cfg_node_kind kind;
	const char *file; /* where it was read (owned by the tree's root) */
	int line;
	char *scalar;                 /* SCALAR: the text */
	bool null;                    /* SCALAR: a plain ~, null or empty value */
	size_t n;                     /* SEQ/MAP: number of children */
	struct brook_cfg_node **items; /* SEQ: items; MAP: values */
	char **keys;                  /* MAP: keys, parallel to items */
} brook_cfg_node;

typedef struct brook_config brook_config;

brook_config *brook_config_new(void);
void brook_config_free(brook_config *c);

/* Declare keys (a table ending with {NULL}). Tables are not copied: keep them static.
 * Registering a key twice aborts. Defaults are applied here. */
void brook_config_register(brook_config *c, const brook_cfg_key *table);

/* Layer YAML text (name is used in messages) or a file over the current values.
 * BROOK_OK, or BROOK_ERR with "FILE:LINE: ..." in err. */
int brook_config_load_string(brook_config *c, const char *name, const char *yaml, size_t len,
			     char *err, size_t errlen);
int brook_config_load_file(brook_config *c, const char *path, char *err, size_t errlen);
/* Apply BROOK_<PATH> variables found in the environment. */
int brook_config_load_env(brook_config *c, char *err, size_t errlen);
/* Apply one "path=value" (origin names the source in messages, e.g. "--set"). */
int brook_config_set(brook_config *c, const char *assignment, const char *origin, char *err,
		     size_t errlen);
int brook_config_set_kv(brook_config *c, const char *key, const char *value, const char *origin,
			char *err, size_t errlen);

bool brook_config_has(const brook_config *c, const char *key); /* registered and set */
const char *brook_config_str(const brook_config *c, const char *key); /* NULL when unset */
int64_t brook_config_int(const brook_config *c, const char *key);
bool brook_config_bool(const brook_config *c, const char *key);
double brook_config_double(const brook_config *c, const char *key);
int64_t brook_config_duration_ms(const brook_config *c, const char *key);
uint64_t brook_config_size(const brook_config *c, const char *key);
/* The items stay owned by the config. */
size_t brook_config_list(const brook_config *c, const char *key, const char *const **items);
const brook_cfg_node *brook_config_tree(const brook_config *c, const char *key);
/* The table entry of a registered key, or NULL. */
const brook_cfg_key *brook_config_key_spec(const brook_config *c, const char *key);
/* The current value as text, whatever the type (LIST items joined with ", "; NULL for
 * unset and TREE values). */
const char *brook_config_text(const brook_config *c, const char *key);
/* Where the current value came from: "default", "built-in:7", "my.yaml:12",
 * "env BROOK_SOURCE_URL", "--set". */
const char *brook_config_origin(const brook_config *c, const char *key);

/* The effective configuration as YAML, one key per line, origin as a comment. */
void brook_config_dump(const brook_config *c, brook_buf *out);
/* Every registered key: key, type, default, help; as text or a Markdown table. */
void brook_config_describe(const brook_config *c, brook_buf *out, bool markdown);
const char *brook_cfg_type_name(brook_cfg_type t);

/* A TREE node helper: the value under `key` in a MAP node, or NULL. */
const brook_cfg_node *brook_cfg_map_get(const brook_cfg_node *map, const char *key);
/* Parse YAML text into a node tree (depth and size bounded; aliases rejected).
 * NULL with "NAME:LINE: ..." in err. Free with brook_cfg_node_free(). */
brook_cfg_node *brook_cfg_parse_yaml(const char *name, const char *yaml, size_t len, char *err,
				     size_t errlen);
void brook_cfg_node_free(brook_cfg_node *n);

/* The environment variable for a key: "BROOK_SOURCE_URL". out >= strlen(key) + 7. */
void brook_config_env_name(const char *key, char *out, size_t outlen);

/* The built-in YAML (config/brook.yaml). */
extern const char brook_default_config_yaml[];

#endif
