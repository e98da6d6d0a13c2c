/* tagpat - Fluentd <match> tag patterns, translated to PCRE2 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "tagpat.h"

#define BAD_REGEX "invalid regular expression in tag pattern"
#define ISSPACE(c) ((c) == ' ' || ((c) >= '\t' && (c) <= '\r'))

struct tagpat {
	pcre2_code **re;	/* one per alternative */
	size_t nre;
	pcre2_match_data *md;
	char *last;		/* the last tag asked about */
	size_t lastlen;
	size_t lastcap;
	int lastres;		/* its answer, or -1 */
};

static char *
put(char *o, const char *s)
{
	size_t n = strlen(s);

	memcpy(o, s, n);
	return o + n;
}

/* Appends c matched literally. */
static char *
put_lit(char *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c >= 0x80)
		*o++ = (char)c;
	else if (c < ' ' || c == 0x7f) {
		o = put(o, "\\x{");
		*o++ = hex[c >> 4];
		*o++ = hex[c & 15];
		*o++ = '}';
	} else {
		*o++ = '\\';
		*o++ = (char)c;
	}
	return o;
}

/* The state of a glob being translated. */
struct glob {
	char *o;		/* the regex so far */
	int dot;		/* a '.' is held back */
	int esc;		/* the next character is literal */
	int depth;		/* open '{' groups */
};

/* Translates "**" at p[i]; returns the index after what it used. */
static size_t
glob_stars(struct glob *g, const char *p, size_t i, size_t n)
{
	/* "a.**" matches "a" too: the dot becomes "end or a dot follows". */
	if (g->dot)
		g->o = put(g->o, "(?![^.])");
	g->dot = 0;
	if (i + 2 < n && p[i + 2] == '.') {
		g->o = put(g->o, "(?:.*\\.|^)");
		return i + 3;
	}
	g->o = put(g->o, ".*");
	return i + 2;
}

static void
glob_char(struct glob *g, char c)
{
	if (g->dot)
		g->o = put(g->o, "\\.");
	g->dot = 0;
	switch (c) {
	case '\\':
		g->esc = 1;
		break;
	case '.':
		g->dot = 1;
		break;
	case '*':
		g->o = put(g->o, "[^.]*");
		break;
	case '{':
		g->o = put(g->o, "(?:");
		g->depth++;
		break;
	case '}':
	case ',':
		if (g->depth == 0) {
			g->o = put_lit(g->o, (unsigned char)c);
			break;
		}
		*g->o++ = c == ',' ? '|' : ')';
		g->depth -= c == '}';
		break;
	default:
		g->o = put_lit(g->o, (unsigned char)c);
		break;
	}
}

/*
 * Translates one glob alternative as Fluentd's GlobMatchPattern does.  A
 * dot is held back until the next character; one still held at the end
 * is dropped, as in Fluentd.  Groups left open are closed at the end.
 * Returns an allocated string; no input byte yields more than 11 bytes.
 */
static char *
glob_regex(const char *p, size_t n)
{
	char *out = xmalloc(n * 11 + 16);
	struct glob g = { out, 0, 0, 0 };
	size_t i = 0;

	while (i < n) {
		if (g.esc) {
			g.o = put_lit(g.o, (unsigned char)p[i++]);
			g.esc = 0;
		} else if (p[i] == '*' && i + 1 < n && p[i + 1] == '*')
			i = glob_stars(&g, p, i, n);
		else
			glob_char(&g, p[i++]);
	}
	while (g.depth-- > 0)
		*g.o++ = ')';
	*g.o = '\0';
	return out;
}

static pcre2_code *
compile_one(const char *p, size_t n)
{
	uint32_t opt = PCRE2_ANCHORED | PCRE2_ENDANCHORED;
	pcre2_code *re;
	PCRE2_SIZE off;
	char *rx = NULL;
	int code;

	if (p[0] == '/') {
		/* "/regex/"; Fluentd refuses a '/' that is not closed. */
		if (p[n - 1] != '/')
			return NULL;
		opt |= PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
		re = pcre2_compile((PCRE2_SPTR)(p + 1), n > 1 ? n - 2 : 0, opt,
		    &code, &off, NULL);
	} else {
		rx = glob_regex(p, n);
		re = pcre2_compile((PCRE2_SPTR)rx, PCRE2_ZERO_TERMINATED, opt,
		    &code, &off, NULL);
		free(rx);
	}
	if (re)
		(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

struct tagpat *
tagpat_new(const char *pattern, const char **err)
{
	struct tagpat *tp = xcalloc(1, sizeof *tp);
	const char *p = pattern, *q;

	tp->lastres = -1;
	tp->re = xcalloc(strlen(pattern) / 2 + 1, sizeof *tp->re);
	while (*p) {
		if (ISSPACE(*p)) {
			p++;
			continue;
		}
		for (q = p; *q && !ISSPACE(*q); q++)
			continue;
		tp->re[tp->nre] = compile_one(p, (size_t)(q - p));
		if (tp->re[tp->nre++] == NULL) {
			*err = BAD_REGEX;
			goto fail;
		}
		p = q;
	}
	if (tp->nre == 0) {
		*err = "empty tag pattern";
		goto fail;
	}
	if ((tp->md = pcre2_match_data_create(1, NULL)) == NULL) {
		*err = "out of memory";
		goto fail;
	}
	return tp;
fail:
	tagpat_free(tp);
	return NULL;
}

/* Returns 1 if tag[0..len) matches, else 0.  The last answer is kept. */
int
tagpat_match(struct tagpat *tp, const char *tag, size_t len)
{
	size_t i;
	int r = 0;

	if (tag == NULL)
		tag = "";
	if (tp->lastres >= 0 && len == tp->lastlen &&
	    (len == 0 || memcmp(tag, tp->last, len) == 0))
		return tp->lastres;
	for (i = 0; i < tp->nre && !r; i++)
		r = pcre2_match(tp->re[i], (PCRE2_SPTR)tag, len, 0, 0, tp->md,
		    NULL) >= 0;
	if (len > tp->lastcap) {
		tp->lastcap = len + 32;
		tp->last = xrealloc(tp->last, tp->lastcap);
	}
	if (len)
		memcpy(tp->last, tag, len);
	tp->lastlen = len;
	tp->lastres = r;
	return r;
}

void
tagpat_free(struct tagpat *tp)
{
	size_t i;

	if (tp == NULL)
		return;
	for (i = 0; i < tp->nre; i++)
		pcre2_code_free(tp->re[i]);
	free(tp->re);
	pcre2_match_data_free(tp->md);
	free(tp->last);
	free(tp);
}
