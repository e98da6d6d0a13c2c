/* fuzz_bulkresp - libFuzzer target for lhttp's Elasticsearch bulk answer reader */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#include "../cmd/lhttp/bulkresp.c"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static struct buf scratch;
static struct bulk_item items[256];

/*
 * The first byte is the number of actions sent, the rest the answer.
 * A reading that succeeds gives each item a status from 100 to 599, the
 * fate that status has, and an error that lies inside the scratch buffer.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL, *lo, *hi;
	size_t n, i;

	if (size < 1)
		return 0;
	n = data[0];
	if (bulk_parse((const char *)data + 1, size - 1, n, &scratch, items,
	    &why) < 0) {
		CHECK(why != NULL);
		return 0;
	}
	lo = scratch.p;
	hi = scratch.p + scratch.len;
	for (i = 0; i < n; i++) {
		CHECK(items[i].status >= 100 && items[i].status <= 599);
		CHECK(items[i].fate == bulk_fate(items[i].status));
		if (items[i].err)
			CHECK(items[i].err >= lo && items[i].err +
			    items[i].err_len <= hi);
	}
	return 0;
}
