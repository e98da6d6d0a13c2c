/* parse_rx - Ruby (Fluentd) regular expressions in PCRE2 */
#ifndef LKIT_PARSE_RX_H
#define LKIT_PARSE_RX_H

#include <stddef.h>

#include "rx.h"

#define PRX_WRAP 1      /* the whole match is the first named group */
#define PRX_NOLINE 2    /* for text without a newline only: faster */
#define PRX_CASELESS 4  /* ignore case, as the /i flag does */
#define PRX_WHOLE 8     /* match the whole text only */
#define PRX_UTF 16      /* by UTF-8 characters, not bytes (tag patterns) */

/*
 * Compiles src as Fluentd reads a regexp parameter: "/pattern/flags"
 * (i ignores case, m lets '.' match a newline) or a bare pattern, with
 * Ruby's meanings PCRE2 lacks: ^ and $ match at every line, \h and \H
 * are (not) hex digits, the inline option m is PCRE2's s.  Matching is
 * by bytes.  With PRX_NOLINE the expression gives the same matches as
 * without on text that has no newline, and is faster ('.' need not test
 * for one).  Returns NULL and PCRE2's message with the offset in src,
 * "missing ) at offset 7", in err.
 */
struct rx *parse_rx(const char *src, int flags, char *err, size_t errcap);

/*
 * Named groups that carry a type (lparse --types-label-delimiter): a group
 * "(?<NAME DELIM TYPE>...)", also written "(?'...'...)" or "(?P<...>...)",
 * is compiled as "(?<NAME>...)", and fn, when not NULL, is called with
 * NAME and TYPE (borrowed from src) for each such group, in order.
 */
struct prx_types {
	const char *delim;
	void (*fn)(void *arg, const char *name, size_t nlen, const char *type,
	    size_t tlen);
	void *arg;
};

/* parse_rx, with the typed names of t (NULL: none) rewritten. */
struct rx *parse_rx_typed(const char *src, int flags,
    const struct prx_types *t, char *err, size_t errcap);

#endif
