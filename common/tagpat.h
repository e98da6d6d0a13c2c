/* tagpat - Fluentd <match> tag patterns */
#ifndef LKIT_TAGPAT_H
#define LKIT_TAGPAT_H

#include <stddef.h>

struct tagpat;

/*
 * Compiles a pattern with Fluentd's match semantics: `*` matches within one
 * dot-separated part, `**` zero or more parts, `{a,b}` either, a space
 * separates alternative patterns, `/regex/` is a regular expression read
 * as Fluentd reads one (parse_rx).  Returns NULL and a message in *err
 * (static: valid until the next call) on a bad pattern.
 */
struct tagpat *tagpat_new(const char *pattern, const char **err);
int tagpat_match(struct tagpat *tp, const char *tag, size_t len);
void tagpat_free(struct tagpat *tp);

#endif
