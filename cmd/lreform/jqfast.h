/* jqfast - a small subset of jq run directly on msgpack records */
#ifndef JQFAST_H
#define JQFAST_H

#include <stddef.h>

#include "buf.h"

/*
 * The subset (lreform(1), "The jq subset run natively", defines it): a
 * pipe of stages, each `.`, `.K = CONST`, `.K = PATH`, `.K |= F` (F one
 * of ascii_downcase, ascii_upcase, tostring, length, tonumber),
 * `del(.K, ...)`, `{K: PATH, K: CONST, K}` or `select(COND)` with
 * comparisons of paths and constants, and, or, `| not` and
 * `| test("literal")`.  Anything else, and any record the native
 * evaluator cannot treat exactly as libjq 1.6 with jqglue would, goes to
 * libjq.
 */

struct jqfast;

enum { JQFAST_OUT = 1, JQFAST_NONE = 0, JQFAST_FALLBACK = -1 };

/* Parses program; NULL if it is not entirely inside the subset. */
struct jqfast *jqfast_new(const char *program);
void jqfast_free(struct jqfast *jf);

/*
 * Runs the program on rec, a validated msgpack map.  JQFAST_OUT: the one
 * output object was appended to out; JQFAST_NONE: no output (select);
 * JQFAST_FALLBACK: run libjq on this record instead (out may hold junk
 * past its old length).
 */
int jqfast_run(struct jqfast *jf, const char *rec, size_t len,
    struct buf *out);

#endif
