/* tmpl - Fluentd's ${...} placeholders, parsed for the programs to render */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"

/* "NAME[N]" with an integer N: 1 and N, or 0. */
static int
indexed(const char *s, size_t len, const char *name, long *n)
{
	size_t nl = strlen(name);
	char tmp[24], *end;

	if (len < nl + 3 || memcmp(s, name, nl) != 0 || s[nl] != '[' ||
	    s[len - 1] != ']' || len - nl - 2 >= sizeof(tmp))
		return 0;
	memcpy(tmp, s + nl + 1, len - nl - 2);
	tmp[len - nl - 2] = '\0';
	if (!isdigit((unsigned char)tmp[tmp[0] == '-']))
		return 0;
	errno = 0;
	*n = strtol(tmp, &end, 10);
	return !errno && !*end;
}

/* A record_reformer key such as ${message}: not a Ruby expression. */
static int
is_bare_key(const char *s, size_t len)
{
	static const char *const ruby[] = { "tag.", "time.", "hostname.",
		"record.", "tag_parts.", NULL };
	size_t i;

	for (i = 0; ruby[i]; i++)
		if (len > strlen(ruby[i]) && memcmp(s, ruby[i],
		    strlen(ruby[i])) == 0)
			return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_-.@/:", s[i]))
			return 0;
	return 1;
}

static int
is(const char *s, size_t len, const char *name)
{
	return len == strlen(name) && memcmp(s, name, len) == 0;
}

/* Sets sg from the text s[0..len) between "${" and "}"; -1 and *why. */
static int
classify(struct tmpl_seg *sg, const char *s, size_t len, int flags,
    const char **why)
{
	static const char *const idx_names[] = { "tag_parts", "tags",
		"tag_prefix", "tag_suffix", "tag" };
	static const enum tmpl_kind idx_kinds[] = { TMPL_PARTS, TMPL_PARTS,
		TMPL_PREFIX, TMPL_SUFFIX, TMPL_PARTS };
	size_t i, nidx = flags & TMPL_TAG_INDEX ? 5 : 4;
	char path[1024];

	memset(sg, 0, sizeof(*sg));
	sg->s = s;
	sg->len = len;
	if (is(s, len, "hostname") || is(s, len, "tag") || is(s, len,
	    "time")) {
		sg->kind = *s == 'h' ? TMPL_HOSTNAME : len == 3 ? TMPL_TAG :
		    TMPL_TIME;
		return 0;
	}
	for (i = 0; i < nidx; i++)
		if (indexed(s, len, idx_names[i], &sg->n)) {
			sg->kind = idx_kinds[i];
			return 0;
		}
	sg->kind = TMPL_RECORD;
	if (len > 7 && memcmp(s, "record[", 7) == 0 && len < sizeof(path)) {
		snprintf(path, sizeof(path), "$%.*s", (int)len - 6, s + 6);
		return recpath_parse(&sg->path, path, why);
	}
	for (i = 0; i < 4; i++)
		if (is(s, len, idx_names[i])) {
			*why = "it needs an index, as in [0] or [-1]";
			return -1;
		}
	if (is(s, len, "record") || !is_bare_key(s, len)) {
		*why = "use ${record[\"KEY\"]} for a field, --jq for code";
		return -1;
	}
	snprintf(path, sizeof(path), "%.*s", (int)len, s);
	return recpath_parse(&sg->path, path, why);
}

/*
 * The next placeholder in p[0..end): "${", one or more bytes other than
 * '}', and "}".  0 when there is none.
 */
static int
next_ph(const char *p, const char *end, const char **ph, const char **close)
{
	while ((p = memchr(p, '$', end - p)) && end - p >= 4) {
		if (p[1] == '{' && p[2] != '}' && (*close = memchr(p + 2, '}',
		    end - p - 2))) {
			*ph = p;
			return 1;
		}
		p++;
	}
	return 0;
}

int
tmpl_next(const char **p, const char *end, int flags, struct tmpl_seg *sg,
    const char **why)
{
	const char *ph, *close;
	int more;

	if (*p >= end)
		return 0;
	more = next_ph(*p, end, &ph, &close);
	if (!more || ph > *p) {
		memset(sg, 0, sizeof(*sg));
		sg->kind = TMPL_LIT;
		sg->s = *p;
		sg->len = (more ? ph : end) - *p;
		*p += sg->len;
		return 1;
	}
	*p = close + 1;
	if (classify(sg, ph + 2, close - ph - 2, flags, why) < 0) {
		sg->s = ph + 2;
		sg->len = close - ph - 2;
		return -1;
	}
	return 1;
}

int
tmpl_tag_piece(enum tmpl_kind kind, long n, const char *tag, size_t len,
    const char **p, size_t *plen)
{
	const char *s, *e;
	size_t tl = len, i;
	long parts = 0;

	while (tl > 0 && tag[tl - 1] == '.')
		tl--;           /* split drops empty trailing parts */
	if (tl)
		for (parts = 1, i = 0; i < tl; i++)
			parts += tag[i] == '.';
	if (n < 0)
		n += parts;
	if (n < 0 || n >= parts)
		return 0;
	for (s = tag; n > 0; n--)
		s = (const char *)memchr(s, '.', tag + tl - s) + 1;
	e = memchr(s, '.', tag + tl - s);
	if (!e)
		e = tag + tl;
	*p = kind == TMPL_PREFIX ? tag : s;
	*plen = (kind == TMPL_SUFFIX ? tag + tl : e) - *p;
	return 1;
}
