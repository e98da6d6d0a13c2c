/* tmpl - Fluentd's ${...} placeholders, parsed for the programs to render */
#ifndef LKIT_TMPL_H
#define LKIT_TMPL_H

#include <stddef.h>

#include "recpath.h"

enum tmpl_kind {
	TMPL_LIT,               /* text between placeholders */
	TMPL_HOSTNAME,          /* ${hostname} */
	TMPL_TAG,               /* ${tag} */
	TMPL_PARTS,             /* ${tag_parts[N]}, ${tags[N]} */
	TMPL_PREFIX,            /* ${tag_prefix[N]}: parts 0 to N */
	TMPL_SUFFIX,            /* ${tag_suffix[N]}: parts N to the last */
	TMPL_TIME,              /* ${time} */
	TMPL_RECORD             /* ${record["k"]...}, or a bare ${k} */
};

/* One piece of a template. */
struct tmpl_seg {
	enum tmpl_kind kind;
	const char *s;          /* the text, or what is between "${" and "}"
				 * (borrowed from the template) */
	size_t len;
	long n;                 /* TMPL_PARTS, _PREFIX, _SUFFIX: N */
	struct recpath path;    /* TMPL_RECORD: the caller frees it */
};

/* Flags of tmpl_next. */
#define TMPL_TAG_INDEX 1        /* ${tag[N]} as ${tag_parts[N]}, as in
				 * Fluentd's buffer placeholders */

/*
 * The next piece of the template *p..end: the literal text up to the next
 * placeholder, or that placeholder: "${", one or more bytes other than
 * '}', and "}" (Fluentd's /\$\{[^}]+\}/; anything else is text).  Returns
 * 1 with *sg set and *p moved past the piece, 0 at the end, or -1 for a
 * placeholder it cannot read: then sg->s and sg->len name it and *why
 * says what is wrong (static text).
 */
int tmpl_next(const char **p, const char *end, int flags,
    struct tmpl_seg *sg, const char **why);

/*
 * The piece of tag[0..len) that a TMPL_PARTS, TMPL_PREFIX or TMPL_SUFFIX
 * placeholder with index n names, the parts cut as Ruby's
 * tag.split('.') cuts them (trailing empty parts dropped), a negative n
 * counting from the end: 1 and the piece in *p, *plen (borrowed), or 0
 * when n is out of range.
 */
int tmpl_tag_piece(enum tmpl_kind kind, long n, const char *tag, size_t len,
    const char **p, size_t *plen);

#endif
