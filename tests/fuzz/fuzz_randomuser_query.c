/*
 * fuzz_randomuser_query.c — the randomuser query-string parser, and the generator on
 * whatever query it accepts (results capped small to keep runs fast).
 *
 * Invariants checked: parsing never crashes or reads out of bounds; an accepted query
 * has results within 1..cap, page within 1..RANDOMUSER_MAX_PAGE, a non-empty
 * nationality set and a NUL-terminated seed; a rejected one has a message.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "source/randomuser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	randomuser_query q;
	char err[256];

	randomuser_query_init(&q);
	err[0] = '\0';
	int rc = randomuser_query_parse(&q, (const char *)data, size, 3, err, sizeof(err));
	if (rc != BROOK_OK) {
		assert(rc == BROOK_ERR);
		assert(err[0] != '\0');
		return 0;
	}
	assert(q.results >= 1 && q.results <= 3);
	assert(q.page >= 1 && q.page <= RANDOMUSER_MAX_PAGE);
	assert(q.nats != 0);
	assert(strlen(q.seed) <= RANDOMUSER_SEED_MAX);
	brook_buf b = BROOK_BUF_INIT;
	randomuser_generate(&q, &b);
	assert(b.len > 0);
	brook_buf_release(&b);
	return 0;
}
