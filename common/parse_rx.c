/* parse_rx - Ruby regular expressions translated for PCRE2 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "parse_rx.h"

/* Appends s, noting for each byte that it stands for pattern offset at. */
static void
rx_put(struct buf *b, struct buf *map, const char *s, size_t n, size_t at)
{
	size_t i;

	buf_put(b, s, n);
	for (i = 0; i < n; i++)
		buf_put(map, &at, sizeof(at));
}

/* \h and \H are hex digits in Ruby, horizontal space in PCRE2. */
static void
rx_hex(struct buf *b, struct buf *map, char c, int inclass, size_t at)
{
	static const char *const forms[2][2] = {
		{ "[[:xdigit:]]", "[^[:xdigit:]]" },
		{ "[:xdigit:]", "[:^xdigit:]" }
	};
	const char *s = forms[inclass][c == 'H'];

	rx_put(b, map, s, strlen(s), at);
}

/* An inline option group "(?imx-imx:" or ")": Ruby's m is PCRE2's s. */
static size_t
rx_inline(struct buf *b, struct buf *map, const char *p, const char *e,
    size_t at)
{
	size_t n = 2;

	while (p + n < e && p[n] && strchr("imx-", p[n]))
		n++;
	if (n == 2 || p + n >= e || (p[n] != ':' && p[n] != ')'))
		return 0;
	rx_put(b, map, "(?", 2, at);
	for (n = 2; p[n] != ':' && p[n] != ')'; n++)
		rx_put(b, map, p[n] == 'm' ? "s" : p + n, 1, at + n);
	return n;
}

/* The ":]" ending a POSIX class "[:name:]" at p, or NULL. */
static const char *
rx_posix_end(const char *p, const char *e)
{
	for (p += 2; p + 1 < e; p++)
		if (p[0] == ':' && p[1] == ']')
			return p;
	return NULL;
}

/* Copies the bracket expression at p (s is the pattern); returns its end. */
static const char *
rx_class(struct buf *b, struct buf *map, const char *s, const char *p,
    const char *e, size_t base)
{
	const char *q;
	size_t n = 1;

	/* '[', then '^', then a ']' that is literal there */
	if (p + n < e && p[n] == '^')
		n++;
	if (p + n < e && p[n] == ']')
		n++;
	rx_put(b, map, p, n, base + (p - s));
	for (p += n; p < e && *p != ']'; p += n) {
		n = 1;
		if (*p == '\\' && p + 1 < e && (p[1] == 'h' || p[1] == 'H')) {
			rx_hex(b, map, p[1], 1, base + (p - s));
			n = 2;
			continue;
		}
		if (*p == '\\' && p + 1 < e)
			n = 2;
		else if (*p == '[' && p + 1 < e && p[1] == ':' &&
		    (q = rx_posix_end(p, e)))
			n = q + 2 - p;
		rx_put(b, map, p, n, base + (p - s));
	}
	if (p < e) {
		rx_put(b, map, p, 1, base + (p - s));
		p++;
	}
	return p;
}

/* The first d[0..dl) in s[0..n), or NULL. */
static const char *
rx_find(const char *s, size_t n, const char *d, size_t dl)
{
	const char *e = s + n;

	for (; (size_t)(e - s) >= dl; s++)
		if (memcmp(s, d, dl) == 0)
			return s;
	return NULL;
}

/*
 * A named group "(?<NAME DELIM TYPE>" (or "(?'...'", "(?P<...>") at p:
 * copied as "(?<NAME>", TYPE handed to t->fn.  Returns the bytes read, or
 * 0 when p holds no such group.
 */
static size_t
rx_typed(struct buf *b, struct buf *map, const char *p, const char *e,
    size_t at, const struct prx_types *t)
{
	size_t open, dl = strlen(t->delim), i;
	const char *name, *close, *d;
	char endc = '>';

	if (e - p > 3 && p[1] == '?' && p[2] == '<' && p[3] != '=' &&
	    p[3] != '!')
		open = 3;
	else if (e - p > 4 && p[1] == '?' && p[2] == 'P' && p[3] == '<')
		open = 4;
	else if (e - p > 3 && p[1] == '?' && p[2] == '\'')
		open = 3, endc = '\'';
	else
		return 0;
	name = p + open;
	if (!dl || !(close = memchr(name, endc, e - name)) ||
	    !(d = rx_find(name, close - name, t->delim, dl)) || d == name)
		return 0;
	for (i = 0; p + i < d; i++)
		rx_put(b, map, p + i, 1, at + i);
	rx_put(b, map, close, 1, at + (close - p));
	if (t->fn)
		t->fn(t->arg, name, d - name, d + dl, close - d - dl);
	return close + 1 - p;
}

/* Rewrites the Ruby pattern p[0..n) for PCRE2 into b (see parse_rx). */
static void
rx_translate(struct buf *b, struct buf *map, const char *p, size_t n,
    size_t base, int dotall, int flags, const struct prx_types *t)
{
	const char *pre = flags & PRX_NOLINE ? "(?s)" : dotall ? "(?ms)" :
	    "(?m)";
	const char *s = p, *e = p + n, *q;
	size_t at, k;

	/* PCRE2's (*VERB) options must stay first */
	while (e - p > 2 && p[0] == '(' && p[1] == '*' &&
	    (q = memchr(p, ')', e - p))) {
		rx_put(b, map, p, q + 1 - p, base + (p - s));
		p = q + 1;
	}
	rx_put(b, map, pre, strlen(pre), base);
	if (flags & PRX_WRAP)
		rx_put(b, map, "(?<_>", 5, base);
	while (p < e) {
		at = base + (p - s);
		if (*p == '\\' && p + 1 < e) {
			if (p[1] == 'h' || p[1] == 'H')
				rx_hex(b, map, p[1], 0, at);
			else
				rx_put(b, map, p, 2, at);
			p += 2;
		} else if (*p == '[') {
			p = rx_class(b, map, s, p, e, base);
		} else if (t && *p == '(' && (k = rx_typed(b, map, p, e, at,
		    t)) > 0) {
			p += k;
		} else if (*p == '(' && p + 1 < e && p[1] == '?' &&
		    (k = rx_inline(b, map, p, e, at)) > 0) {
			p += k;
		} else {
			rx_put(b, map, p++, 1, at);
		}
	}
	if (flags & PRX_WRAP)
		rx_put(b, map, ")", 1, base + n);
	buf_putc(b, '\0');
}

/* Fluentd's /pattern/flags form: 1 and the flags, or 0 for a bare one. */
static int
rx_slashed(const char *src, size_t *plen, int *caseless, int *dotall)
{
	const char *r = strrchr(src, '/'), *f;

	if (src[0] != '/' || r == src || strlen(r + 1) > 2)
		return 0;
	for (f = r + 1; *f; f++)
		if (*f != 'i' && *f != 'm')
			return 0;
	*caseless = strchr(r + 1, 'i') != NULL;
	*dotall = strchr(r + 1, 'm') != NULL;
	*plen = r - src - 1;
	return 1;
}

struct rx *
parse_rx(const char *src, int flags, char *err, size_t errcap)
{
	return parse_rx_typed(src, flags, NULL, err, errcap);
}

struct rx *
parse_rx_typed(const char *src, int flags, const struct prx_types *t,
    char *err, size_t errcap)
{
	struct buf b = { 0 }, map = { 0 };
	size_t plen = strlen(src), off, base = 0, mapped;
	int caseless = 0, dotall = 0;
	char *at;
	struct rx *rx;

	if (rx_slashed(src, &plen, &caseless, &dotall))
		base = 1;
	rx_translate(&b, &map, src + base, plen, base, dotall, flags, t);
	if (flags & PRX_CASELESS)
		caseless = 1;
	rx = rx_new(b.p, (caseless ? RX_CASELESS : 0) |
	    (flags & PRX_UTF ? RX_UTF : 0) |
	    (flags & PRX_WHOLE ? RX_WHOLE : 0), err, errcap);
	if (!rx && (at = strstr(err, " at offset ")) &&
	    sscanf(at + 11, "%zu", &off) == 1) {
		mapped = base + plen;
		if (off < map.len / sizeof(size_t))
			memcpy(&mapped, map.p + off * sizeof(size_t),
			    sizeof(size_t));
		snprintf(at, err + errcap - at, " at offset %zu", mapped);
	}
	buf_free(&b);
	buf_free(&map);
	return rx;
}
