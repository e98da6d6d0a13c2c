/* tagpat - Fluentd <match> tag patterns, translated to PCRE2 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "parse_rx.h"
#include "rx.h"
#include "tagpat.h"

#define ISSPACE(c) ((c) == ' ' || ((c) >= '\t' && (c) <= '\r'))

struct tagpat {
	struct rx **re;		/* one per alternative */
	size_t nre;
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

/*
 * One alternative: a glob, or "/regex/" read as Fluentd reads a regexp
 * (parse_rx, as lparse and lgrep do); either matches the whole tag.  NULL
 * with PCRE2's message in err.
 */
static struct rx *
compile_one(const char *p, size_t n, char *err, size_t errcap)
{
	struct rx *rx;
	char *src, *g, why[256];
	size_t gl;
	int flags = PRX_WHOLE | PRX_NOLINE;

	if (p[0] == '/') {
		/* Fluentd refuses a '/' that is not closed; "/" is empty */
		if (p[n - 1] != '/') {
			snprintf(err, errcap, "'%.*s': a /regex/ needs its "
			    "closing /", (int)n, p);
			return NULL;
		}
		src = xmalloc(n + 3);
		memcpy(src, n == 1 ? "//" : p, n == 1 ? 2 : n);
		src[n == 1 ? 2 : n] = '\0';
		flags |= PRX_UTF;
	} else {
		g = glob_regex(p, n);
		gl = strlen(g);
		src = xmalloc(gl + 3);
		src[0] = '/';   /* a glob's regex has no flags */
		memcpy(src + 1, g, gl);
		memcpy(src + 1 + gl, "/", 2);
		free(g);
	}
	rx = parse_rx(src, flags, why, sizeof(why));
	if (!rx)
		snprintf(err, errcap, "'%.*s': %s", (int)n, p, why);
	free(src);
	return rx;
}

struct tagpat *
tagpat_new(const char *pattern, const char **err)
{
	static char msg[320];   /* the last error: a static message */
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
		tp->re[tp->nre] = compile_one(p, (size_t)(q - p), msg,
		    sizeof(msg));
		if (tp->re[tp->nre++] == NULL) {
			*err = msg;
			goto fail;
		}
		p = q;
	}
	if (tp->nre == 0) {
		*err = "empty tag pattern";
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
		r = rx_match(tp->re[i], tag, len) > 0;
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
		rx_free(tp->re[i]);
	free(tp->re);
	free(tp->last);
	free(tp);
}
