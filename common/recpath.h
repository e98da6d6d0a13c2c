/* recpath - record fields by key or by Fluentd's $.a.b / $['a'][0] paths */
#ifndef LKIT_RECPATH_H
#define LKIT_RECPATH_H

#include <stddef.h>

#include "buf.h"

struct recpath_step {
	const char *key;        /* a map key (into the path's text), or NULL */
	size_t len;
	long idx;               /* an array index when key is NULL; < 0 from
				 * the end, as Ruby's Array#dig */
};

struct recpath {
	char *text;             /* owned: the keys point into it */
	size_t n;
	struct recpath_step *step;      /* owned, n steps */
};

/*
 * Parses a field name the way Fluentd's record_accessor does: "$.a.b[0]"
 * (dot notation, array indexes in brackets), "$['a b'][0][\"c\"]"
 * (bracket notation), or anything else as one plain key.  Returns 0, or
 * -1 with a static message in *err.  Free with recpath_free.
 */
int recpath_parse(struct recpath *rp, const char *s, const char **err);
void recpath_free(struct recpath *rp);

/*
 * Length of the field name at the start of s: up to the first space, or
 * for bracket notation up to the space after its last ']' (so "KEY
 * PATTERN" arguments can hold keys with spaces).
 */
size_t recpath_span(const char *s);

/*
 * Finds the value the path names in the validated map rec[0..end): 1 and
 * its raw bytes in *v, *vlen (borrowed), or 0 when some step is missing or
 * walks into a value of the wrong type.
 */
int recpath_get(const struct recpath *rp, const char *rec, const char *end,
    const char **v, size_t *vlen);

/*
 * Appends the record to out without the value the path names (the maps
 * and arrays around it are rewritten, all else copied raw).  Returns 1,
 * or 0 when the path names nothing: then out is unchanged.
 */
int recpath_put_without(const struct recpath *rp, struct buf *out,
    const char *rec, const char *end);

/*
 * Appends the text of the validated value v[0..end) as Ruby's to_s gives
 * it, which is what Fluentd matches and interpolates: str and bin as
 * their bytes, nil as nothing, true, false, integers in decimal, floats
 * as Ruby writes them (1.0, 1.0e+20, NaN, Infinity); arrays, maps and ext
 * values as JSON (Ruby would write its inspect form).
 */
void recpath_to_s(struct buf *out, const char *v, const char *end);

#endif
