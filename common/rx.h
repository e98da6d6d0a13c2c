/* rx - PCRE2 regular expressions, compiled once with JIT */
#ifndef LKIT_RX_H
#define LKIT_RX_H

#include <stddef.h>

struct rx;

/*
 * Compiles pattern (PCRE2 syntax; Fluentd's (?<name>...) groups work as
 * they are).  flags: RX_CASELESS, RX_UTF, RX_WHOLE.  Returns NULL and a
 * message such as "missing closing parenthesis at offset 7" in err.
 */
#define RX_CASELESS 1
#define RX_UTF 2        /* characters are UTF-8; other bytes match nothing */
#define RX_WHOLE 4      /* match the whole subject only */
struct rx *rx_new(const char *pattern, int flags, char *err, size_t errcap);
void rx_free(struct rx *rx);

/* Matches s[0..len): 1 match, 0 no match, -1 an error (match limit). */
int rx_match(struct rx *rx, const char *s, size_t len);

/* Named groups of the pattern, in group-number order. */
size_t rx_names(const struct rx *rx);
const char *rx_name(const struct rx *rx, size_t i);

/*
 * After a successful rx_match: the text of named group i, or -1 if that
 * group did not take part in the match.  *p is borrowed from s.
 */
int rx_group(const struct rx *rx, size_t i, const char *s, const char **p,
    size_t *len);

/*
 * After a successful rx_match: the offsets of the match, a start and an
 * end by group number (the start RX_UNSET for a group that did not take
 * part), and in *groups each named group's number, in rx_name order: all
 * the groups read at once, without a call each.
 */
#define RX_UNSET ((size_t)-1)
const size_t *rx_ovector(const struct rx *rx, const int **groups);

#endif
