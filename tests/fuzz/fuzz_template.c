/* Fuzz target: sched_render on arbitrary text: it renders, or fails with a message;
 * never reads or writes out of bounds, never leaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "scheduler/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	char *tmpl = brook_malloc(size + 1);
	if (size)
		memcpy(tmpl, data, size);
	tmpl[size] = '\0';
	sched_task_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	ctx.dag_id = "dag";
	ctx.run_id = "manual__2024-03-05T10:00:00";
	ctx.task_id = "task";
	ctx.try_number = 2;
	ctx.logical_date_ms = 1709632800000;
	ctx.data_interval_start_ms = 1709632800000;
	ctx.data_interval_end_ms = 1709719200000;
	char err[256];
	err[0] = '\0';
	char *out = sched_render(tmpl, &ctx, err, sizeof err);
	if (out) {
		free(out);
	} else if (err[0] == '\0') {
		abort(); /* a failure always says why */
	}
	free(tmpl);
	return 0;
}
