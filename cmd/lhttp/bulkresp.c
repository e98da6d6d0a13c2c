/* bulkresp - an Elasticsearch bulk response read item by item (no I/O) */
#include <stdint.h>
#include <string.h>

#include "json.h"
#include "mp.h"

#include "bulkresp.h"

int
bulk_fate(long status)
{
	if (status >= 200 && status <= 299)
		return BULK_OK;
	if (status == 429 || (status >= 500 && status <= 599))
		return BULK_RETRY;
	return BULK_REJECT;
}

/*
 * One element of "items": a map whose first value that is a map is the
 * action's result ({"index": {"status": 201, ...}}).  0, or -1.
 */
static int
read_item(const char *v, const char *end, struct bulk_item *it)
{
	const char *p = v, *res = NULL, *s, *pair;
	struct mp_obj m, k, h;
	size_t slen;
	uint32_t i;

	if (mp_head(&p, end, &m) != MP_OK || m.type != MP_MAP)
		return -1;
	for (i = 0; i < m.v.n && !res; i++) {
		mp_skip(&p, end, NULL);         /* the key */
		pair = p;
		if (mp_head(&pair, end, &h) == MP_OK && h.type == MP_MAP)
			res = p;
		mp_skip(&p, end, NULL);
	}
	if (!res)
		return -1;
	p = res;
	mp_skip(&p, end, NULL);
	if (!mp_map_get(res, p, "status", 6, &s, &slen))
		return -1;
	end = p;
	p = s;
	if (mp_head(&p, s + slen, &k) != MP_OK || k.type != MP_UINT ||
	    k.v.u < 100 || k.v.u > 599)
		return -1;
	it->status = (int)k.v.u;
	it->fate = bulk_fate(it->status);
	it->err = NULL;
	it->err_len = 0;
	if (mp_map_get(res, end, "error", 5, &s, &slen)) {
		it->err = s;
		it->err_len = slen;
	}
	return 0;
}

static int
all_ok(const char *top, const char *end, size_t n, struct bulk_item *items)
{
	const char *v, *p;
	struct mp_obj h;
	size_t vlen, i;

	if (!mp_map_get(top, end, "errors", 6, &v, &vlen))
		return -1;
	p = v;
	if (mp_head(&p, v + vlen, &h) != MP_OK || h.type != MP_BOOL || h.v.b)
		return -1;
	for (i = 0; i < n; i++) {
		items[i].status = 200;
		items[i].fate = BULK_OK;
		items[i].err = NULL;
		items[i].err_len = 0;
	}
	return 0;
}

int
bulk_parse(const char *json, size_t len, size_t n, struct buf *scratch,
    struct bulk_item *items, const char **why)
{
	const char *top, *end, *v, *p, *q;
	struct json_err jerr;
	struct mp_obj h;
	size_t used, vlen, i;

	scratch->len = 0;
	if (json_parse(json, len, 1, &used, scratch, &jerr) != JSON_OK) {
		*why = "the response is not JSON";
		return -1;
	}
	top = scratch->p;
	end = scratch->p + scratch->len;
	p = top;
	if (mp_head(&p, end, &h) != MP_OK || h.type != MP_MAP) {
		*why = "the response is not a JSON object";
		return -1;
	}
	if (!mp_map_get(top, end, "items", 5, &v, &vlen)) {
		*why = "the response has no \"items\" and no \"errors\": false";
		return all_ok(top, end, n, items);
	}
	p = v;
	if (mp_head(&p, v + vlen, &h) != MP_OK || h.type != MP_ARRAY ||
	    h.v.n != n) {
		*why = "the response's \"items\" are not one per event sent";
		return -1;
	}
	for (i = 0; i < n; i++) {
		q = p;
		if (mp_skip(&p, v + vlen, NULL) != MP_OK ||
		    read_item(q, p, &items[i]) < 0) {
			*why = "an item of the response has no status from 100 "
			    "to 599";
			return -1;
		}
	}
	return 0;
}
