/*
 * fuzz_config.c — the configuration loader on arbitrary bytes.
 *
 * The input is loaded as a YAML file over a table with every value type; then, split at
 * the first newline, the remainder is applied as `--set` assignments. Nothing may crash,
 * leak or read out of bounds, and a load that fails must leave the config usable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/mem.h"

static const brook_cfg_key keys[] = {
	{"a.str", BROOK_CFG_STR, "x", "", NULL},
	{"a.choice", BROOK_CFG_STR, "one", "", "one|two"},
	{"a.int", BROOK_CFG_INT, "1", "", NULL},
	{"a.bool", BROOK_CFG_BOOL, "true", "", NULL},
	{"b.double", BROOK_CFG_DOUBLE, "1.5", "", NULL},
	{"b.duration", BROOK_CFG_DURATION, "1s", "", NULL},
	{"b.size", BROOK_CFG_SIZE, "1KiB", "", NULL},
	{"c.list", BROOK_CFG_LIST, "a,b", "", NULL},
	{"c.tree", BROOK_CFG_TREE, NULL, "", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	brook_config *c = brook_config_new();
	brook_config_register(c, keys);
	char err[512];
	brook_config_load_string(c, "fuzz.yaml", (const char *)data, size, err, sizeof err);

	char *text = brook_strndup((const char *)data, size);
	char *line = text, *save = NULL;
	for (char *tok = strtok_r(line, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save))
		brook_config_set(c, tok, "--set", err, sizeof err);
	free(text);

	/* Every getter must still work, whatever happened. */
	(void)brook_config_str(c, "a.str");
	(void)brook_config_int(c, "a.int");
	(void)brook_config_bool(c, "a.bool");
	(void)brook_config_double(c, "b.double");
	(void)brook_config_duration_ms(c, "b.duration");
	(void)brook_config_size(c, "b.size");
	const char *const *items;
	(void)brook_config_list(c, "c.list", &items);
	(void)brook_config_tree(c, "c.tree");
	brook_buf dump = BROOK_BUF_INIT;
	brook_config_dump(c, &dump);
	brook_buf_release(&dump);
	brook_config_free(c);
	return 0;
}
