/* json - JSON text to msgpack and back, exact */
#ifndef LKIT_JSON_H
#define LKIT_JSON_H

#include <stddef.h>

#include "buf.h"

/* Deepest nesting json_parse accepts (arrays and objects). */
#define JSON_MAX_DEPTH 512

enum { JSON_OK = 0, JSON_EMPTY = 1, JSON_SHORT = 2, JSON_BAD = 3 };

struct json_err {
	size_t offset;          /* byte offset of the problem, from s */
	const char *msg;        /* static text, e.g. "expected ':' after key" */
};

/*
 * Parses one JSON value at s (leading white space skipped) and appends its
 * msgpack encoding to out.  On JSON_OK, *used is the bytes consumed (white
 * space after the value is not consumed).  JSON_EMPTY: only white space.
 * JSON_SHORT: the text ends inside the value and eof is 0 (call again with
 * more text; nothing was appended).  JSON_BAD: err says where and what;
 * out is restored to its length on entry.
 *
 * Integers that fit int64 become msgpack ints, larger positive ones that
 * fit uint64 become uints, anything else (fraction, exponent, too large)
 * a float64.  Strings are str: escapes decoded (\u surrogate pairs joined);
 * an escaped lone surrogate \udc80..\udcff becomes the raw byte 0x80..0xff
 * (the inverse of json_put_str); other lone surrogates become U+FFFD; raw
 * bytes, valid UTF-8 or not, are kept as they are.
 */
int json_parse(const char *s, size_t len, int eof, size_t *used,
    struct buf *out, struct json_err *err);

/*
 * Appends the JSON text of the msgpack value at *p and advances *p past
 * it.  The value must already be validated by mp_skip.  str and bin are
 * JSON strings (bin as Fluentd's stdout shows it: its bytes as a string);
 * a float is written in the shortest form that reads back to the same
 * double, always with a '.' or exponent (1.0, not 1); NaN and infinities
 * are null; ext type 0 of 8 bytes (an EventTime) is its seconds as an
 * integer; any other ext is a string of its base64 payload; map keys that
 * are numbers, booleans or nil are written as the JSON string of their JSON
 * text, keys that are arrays or maps as the base64 of their msgpack bytes.
 */
void json_from_mp(struct buf *out, const char **p, const char *end);

/*
 * Appends s as a quoted JSON string.  Escapes '"', '\\' and control
 * characters (\b \f \n \r \t, others \u00XX); valid UTF-8 is kept; each
 * byte of invalid UTF-8 becomes \udcXX (PEP 383 surrogate escape), which
 * json_parse turns back into the same byte.
 */
void json_put_str(struct buf *out, const char *s, size_t len);

/* Appends the shortest decimal form of d that reads back the same. */
void json_put_double(struct buf *out, double d);

#endif
