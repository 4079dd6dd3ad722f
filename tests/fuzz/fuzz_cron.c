/*
 * fuzz_cron.c — the cron parser and next-fire-time search on arbitrary text.
 *
 * The first line is the expression. When it parses, a few next fire times are computed
 * from several start instants (the extremes of the accepted range included) in zones
 * chosen by the input's last byte. Nothing may crash, leak, read out of bounds or loop
 * forever, and every fire time must lie strictly after the instant before it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "scheduler/cron.h"

static const char *const zones[] = {"UTC", "Europe/Berlin", "America/New_York",
				    "Australia/Lord_Howe"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cron_zone *z[4];
	static const int64_t starts[] = {0, 1710032400, 1730592000, CRON_MIN_TIME,
					 CRON_MAX_TIME - 60, -1};
	char err[512], out[CRON_TIME_LEN];

	if (!z[0])
		for (int i = 0; i < 4; i++)
			z[i] = cron_zone_open(zones[i], err, sizeof err); /* NULL if absent */

	char *text = brook_strndup((const char *)data, size);
	char *nl = strchr(text, '\n');
	if (nl)
		*nl = 0;
	cron_expr *e = cron_expr_parse(text, err, sizeof err);
	free(text);
	if (!e)
		return 0;
	const cron_zone *zone = z[size ? data[size - 1] % 4 : 0];
	if (!zone)
		zone = z[0];
	for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++) {
		int64_t t = starts[s], next;
		for (int k = 0; k < 3; k++) {
			if (cron_next(e, t, zone, &next, err, sizeof err) != BROOK_OK)
				break;
			if (next <= t)
				abort();
			cron_format_time(next, zone, out);
			t = next;
		}
	}
	cron_expr_free(e);
	return 0;
}
