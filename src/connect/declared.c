/*
 * declared.c — connectors declared in the configuration (connect.connectors: a mapping
 * of connector name → config mapping), created by `brook connect` at start when they
 * do not exist yet. An existing connector of that name is left as it is (changed or
 * paused through the REST API, it stays so), so a declaration is a default, not an
 * override. A declaration without connection.url gets postgres.dsn, or the DSN of
 * brook's private cluster under DATA/postgres; when neither is there the connector is
 * not created this time (a warning says why) and the next start tries again.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connect/worker.h"
#include "core/err.h"
#include "core/log.h"

#define COMP "connect"

int connect_declare(connect_worker *w, const brook_cfg_node *tree, const char *default_dsn)
{
	if (!tree || tree->kind != BROOK_CFG_NODE_MAP)
		return BROOK_OK;
	json_t *names = connect_worker_names(w);
	for (size_t i = 0; i < tree->n; i++) {
		const char *name = tree->keys[i];
		const brook_cfg_node *c = tree->items[i];
		bool exists = false;
		size_t k;
		json_t *n;
		json_array_foreach(names, k, n)
			exists = exists || strcmp(json_string_value(n), name) == 0;
		if (exists)
			continue;
		if (c->kind != BROOK_CFG_NODE_MAP) {
			brook_warn(COMP, "%s:%d: connect.connectors.%s must be a mapping of config "
				   "keys; not created", c->file, c->line, name);
			continue;
		}
		json_t *config = json_object();
		for (size_t j = 0; j < c->n; j++)
			if (c->items[j]->kind == BROOK_CFG_NODE_SCALAR && !c->items[j]->null)
				json_object_set_new(config, c->keys[j],
						    json_string(c->items[j]->scalar));
		if (!json_object_get(config, "connection.url")) {
			if (!default_dsn) {
				brook_warn(COMP, "declared connector %s not created: it has no "
					   "connection.url, postgres.dsn is unset and there is no "
					   "PostgreSQL cluster under the data dir", name);
				json_decref(config);
				continue;
			}
			json_object_set_new(config, "connection.url", json_string(default_dsn));
		}
		char err[512];
		bool created;
		if (connect_worker_put(w, name, config, true, &created, err, sizeof err) ==
		    BROOK_OK)
			brook_info(COMP, "created declared connector %s (%s:%d)", name, c->file,
				   c->line);
		else
			brook_warn(COMP, "%s:%d: declared connector %s not created: %s", c->file,
				   c->line, name, err);
		json_decref(config);
	}
	json_decref(names);
	return BROOK_OK;
}
