/* bulkresp.h - reading an Elasticsearch bulk response, item by item */
#ifndef LHTTP_BULKRESP_H
#define LHTTP_BULKRESP_H

#include <stddef.h>

#include "buf.h"

/* What became of one action of a bulk request. */
enum { BULK_OK, BULK_RETRY, BULK_REJECT };

struct bulk_item {
	int status;             /* the item's HTTP status */
	int fate;               /* BULK_OK (2xx), BULK_RETRY (429, 5xx) or
				 * BULK_REJECT (anything else) */
	const char *err;        /* its "error" value as msgpack, or NULL */
	size_t err_len;         /* (borrowed from the scratch buffer) */
};

/*
 * Reads the bulk response json[0..len) to a request of n actions, as the
 * Elasticsearch and OpenSearch bulk APIs write it: an object whose
 * "items" array holds one object per action, in request order, each
 * with one key (the action: index, create, ...) whose object has a
 * "status" and, when it failed, an "error".  Without "items", "errors":
 * false says that every action succeeded.  Returns 0 with items[0..n)
 * filled, or -1 with a static message in *why when the body is not such
 * a response (not JSON, items missing or not n of them, a status that is
 * not a number from 100 to 599).  scratch is overwritten with the
 * response as msgpack; the err pointers borrow from it.
 */
int bulk_parse(const char *json, size_t len, size_t n, struct buf *scratch,
    struct bulk_item *items, const char **why);

/* The fate of an HTTP status: BULK_OK, BULK_RETRY or BULK_REJECT. */
int bulk_fate(long status);

#endif
