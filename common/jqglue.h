/* jqglue - libjq: programs compiled once with $tag and $time; msgpack <-> jv */
#ifndef LKIT_JQGLUE_H
#define LKIT_JQGLUE_H

#include <stddef.h>
#include <stdint.h>
#include <jv.h>

#include "buf.h"

/*
 * libjq 1.6 keeps every number as a double and every string as UTF-8, so
 * a record goes through jq like this:
 *   msgpack -> jv: str and bin become strings (invalid UTF-8 becomes
 *     U+FFFD); integers and floats become numbers (integers beyond 2^53
 *     are rounded); an EventTime ext becomes its seconds, any other ext
 *     the base64 string of its payload, a key that is not a string the
 *     JSON text of the key (all as json_from_mp writes them).
 *   jv -> msgpack: a number that is integral and fits int64 (or uint64) is
 *     an integer, any other a float64.
 * jqglue_put keeps untouched fields exact: a top-level value of the
 * output that is still the record's own (same string, array or object,
 * or the same number under the same key) is copied as the record's raw
 * bytes, key included.
 */

struct jqglue;

enum { JQGLUE_END = 0, JQGLUE_OUT = 1, JQGLUE_ERR = -1 };

/*
 * Compiles program once, with $tag (string) and $time (seconds, a number
 * with a fraction) defined for each event.  Returns NULL and jq's
 * compile message in err on failure; libjq prints nothing itself.
 */
struct jqglue *jqglue_new(const char *program, char *err, size_t errcap);
void jqglue_free(struct jqglue *jg);

/*
 * Starts the program on one event.  rec (a validated msgpack map) is
 * borrowed until the next jqglue_start: jqglue_put copies from it.
 */
void jqglue_start(struct jqglue *jg, const char *tag, size_t tag_len,
    int64_t sec, uint32_t nsec, const char *rec, size_t rec_len);

/*
 * The next output of the started program: JQGLUE_OUT with *out (the
 * caller owns it), JQGLUE_END, or JQGLUE_ERR (a jq error or halt_error:
 * jqglue_errmsg says which).  After END or ERR it keeps returning END.
 */
int jqglue_next(struct jqglue *jg, jv *out);
const char *jqglue_errmsg(const struct jqglue *jg);

/* Appends v (consumed) as msgpack, reusing the started record's bytes. */
void jqglue_put(struct jqglue *jg, struct buf *b, jv v);

/* The jv of the msgpack value at *p (validated); advances *p past it. */
jv jqglue_from_mp(struct jqglue *jg, const char **p, const char *end);
/* Appends v (consumed) as msgpack. */
void jqglue_to_mp(struct buf *b, jv v);
/* Appends number d as jqglue_to_mp writes a jv number. */
void jqglue_put_number(struct buf *b, double d);
/* Whether v (consumed) is neither false nor null (nor invalid). */
int jqglue_truthy(jv v);

#endif
