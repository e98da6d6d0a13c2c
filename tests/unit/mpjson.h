/* mpjson.h - msgpack from JSON for the C unit tests of common/ */
#ifndef LKIT_MPJSON_H
#define LKIT_MPJSON_H

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "json.h"

/* The msgpack of a JSON text, in b. */
static void
mp_of(struct buf *b, const char *json)
{
	struct json_err err;
	size_t used;

	b->len = 0;
	if (json_parse(json, strlen(json), 1, &used, b, &err) != JSON_OK)
		printf("# bad test JSON %s\n", json);
}

#endif
