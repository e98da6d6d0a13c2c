/* parse_text - csv, tsv, ltsv and logfmt lines into fields, Ruby-exact */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "parse_text.h"

#define ISSPACE(c) ((c) == ' ' || ((c) >= '\t' && (c) <= '\r'))
#define ISDIGIT(c) ((unsigned char)((c) - '0') <= 9)

void
pfields_reset(struct pfields *pf, size_t len)
{
	pf->n = 0;
	pf->scratch.len = 0;
	buf_reserve(&pf->scratch, len + 1);
}

void
pfields_free(struct pfields *pf)
{
	free(pf->f);
	buf_free(&pf->scratch);
	pf->f = NULL;
	pf->n = pf->cap = 0;
}

struct pfield *
pfields_add_slow(struct pfields *pf, const char *k, size_t klen)
{
	struct pfield *f;
	size_t i;

	if (pf->dedup)
		for (i = 0; i < pf->n; i++)
			if (pf->f[i].klen == klen && memcmp(pf->f[i].k, k,
			    klen) == 0) {
				pf->f[i].kind = PK_NIL;
				return &pf->f[i];
			}
	if (pf->n == pf->cap) {
		pf->cap = pf->cap ? pf->cap * 2 : 16;
		pf->f = xrealloc(pf->f, pf->cap * sizeof(*pf->f));
	}
	f = &pf->f[pf->n++];
	f->k = k;
	f->klen = klen;
	f->kind = PK_NIL;
	f->drop = f->used = 0;
	return f;
}

int
pkeys_split(struct pkeys *ks, const char *list)
{
	const char *p = list, *c, *e;

	memset(ks, 0, sizeof(*ks));
	for (;;) {
		c = strchr(p, ',');
		e = c ? c : p + strlen(p);
		while (p < e && ISSPACE(*p))
			p++;
		while (e > p && ISSPACE(e[-1]))
			e--;
		if (e == p)
			return -1;
		ks->k = xrealloc(ks->k, (ks->n + 1) * sizeof(*ks->k));
		ks->len = xrealloc(ks->len, (ks->n + 1) * sizeof(*ks->len));
		ks->k[ks->n] = xstrndup(p, e - p);
		ks->len[ks->n++] = e - p;
		if (!c)
			return 0;
		p = c + 1;
	}
}

/*
 * The length of the valid UTF-8 character at s (1 to 4), or 0 with the
 * length of the longest start of a character there in *bad (at least 1).
 */
static size_t
utf8_char(const unsigned char *s, size_t n, size_t *bad)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 2;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 3;
	else
		return *bad = 1, 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	for (i = 1; i <= need; i++, lo = 0x80, hi = 0xbf)
		if (i >= n || s[i] < lo || s[i] > hi)
			return *bad = i, 0;
	return need + 1;
}

int
parse_scrub(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, bad = 0, from = 0;
	int changed = 0;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_char(p + i, len - i, &bad)) > 0) {
			i += k;
			continue;
		}
		if (!changed)
			out->len = 0;
		changed = 1;
		buf_put(out, s + from, i - from);
		buf_putc(out, '?');
		i += bad;
		from = i;
	}
	if (changed)
		buf_put(out, s + from, len - from);
	return changed;
}

void
pkeys_free(struct pkeys *ks)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		free(ks->k[i]);
	free(ks->k);
	free(ks->len);
	memset(ks, 0, sizeof(*ks));
}

/* The first sep in [p, e), or NULL. */
static const char *
find_sep(const char *p, const char *e, const char *sep, size_t seplen)
{
	if (seplen == 1)
		return memchr(p, *sep, e - p);
	for (; (size_t)(e - p) >= seplen; p++) {
		p = memchr(p, *sep, e - p - seplen + 1);
		if (!p)
			return NULL;
		if (memcmp(p, sep, seplen) == 0)
			return p;
	}
	return NULL;
}

/*
 * Ruby's String#split.
 */

static size_t
split_awk(const char *p, const char *e, size_t limit,
    void (*fn)(void *, const char *, size_t), void *arg)
{
	const char *q;
	size_t n = 0;

	while (p < e && ISSPACE(*p))
		p++;
	while (p < e) {
		if (limit && n + 1 == limit) {
			if (fn)
				fn(arg, p, e - p);
			return n + 1;
		}
		for (q = p; q < e && !ISSPACE(*q); q++)
			continue;
		if (fn)
			fn(arg, p, q - p);
		n++;
		for (p = q; p < e && ISSPACE(*p); p++)
			continue;
		if (p == e && q < e && limit) {
			if (fn)
				fn(arg, e, 0);
			n++;
		}
	}
	return n;
}

/* Length of the UTF-8 character at p (1 for a stray byte). */
static size_t
utf8_len(const char *p, const char *e)
{
	unsigned char c = (unsigned char)*p;
	size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	size_t i;

	if (n > (size_t)(e - p))
		return 1;
	for (i = 1; i < n; i++)
		if (((unsigned char)p[i] & 0xc0) != 0x80)
			return 1;
	return n;
}

static size_t
split_chars(const char *p, const char *e, size_t limit,
    void (*fn)(void *, const char *, size_t), void *arg)
{
	size_t n = 0, l;

	while (p < e) {
		l = limit && n + 1 == limit ? (size_t)(e - p) : utf8_len(p, e);
		if (fn)
			fn(arg, p, l);
		n++;
		p += l;
	}
	return n;
}

size_t
parse_split(const char *s, size_t len, const char *sep, size_t seplen,
    size_t limit, void (*fn)(void *arg, const char *p, size_t n), void *arg)
{
	const char *p = s, *e = s + len, *q, *end;
	size_t n = 0, pending = 0;

	if (len == 0)
		return 0;
	if (limit == 1) {
		if (fn)
			fn(arg, s, len);
		return 1;
	}
	if (seplen == 1 && *sep == ' ')
		return split_awk(p, e, limit, fn, arg);
	if (seplen == 0)
		return split_chars(p, e, limit, fn, arg);
	for (;;) {
		q = limit && n + 1 == limit ? NULL :
		    find_sep(p, e, sep, seplen);
		end = q ? q : e;
		if (end == p && !limit) {
			pending++;
		} else {
			for (; pending; pending--, n++)
				if (fn)
					fn(arg, p, 0);
			if (fn)
				fn(arg, p, end - p);
			n++;
		}
		if (!q)
			return n;
		p = q + seplen;
	}
}

/*
 * CSV, as Ruby's CSV.parse_line.
 */

static int
is_eol(const char *p, const char *e)
{
	return p < e && (*p == '\n' || *p == '\r');
}

/* A quoted field from p (after the quote) into scratch; NULL if unclosed. */
static const char *
csv_quoted(struct pfields *pf, const char *p, const char *e, const char **v,
    size_t *vlen)
{
	struct buf *b = &pf->scratch;
	const char *q;

	*v = b->p + b->len;
	*vlen = 0;
	for (;;) {
		if (!(q = memchr(p, '"', e - p)))
			return NULL;
		memcpy(b->p + b->len, p, q - p);   /* room: pfields_reset */
		b->len += q - p;
		*vlen += q - p;
		if (q + 1 < e && q[1] == '"') {
			b->p[b->len++] = '"';
			(*vlen)++;
			p = q + 2;
			continue;
		}
		return q + 1;
	}
}

/* The end of an unquoted field, or NULL if it holds a quote. */
static const char *
csv_plain(const char *p, const char *e, const char *sep, size_t seplen)
{
	const char *q = find_sep(p, e, sep, seplen), *end = q ? q : e, *r;

	for (r = p; r < end; r++) {
		if (*r == '\n' || *r == '\r')
			return r;
		if (*r == '"')
			return NULL;
	}
	return end;
}

static void
csv_set(struct pfields *pf, const struct pkeys *ks, size_t col, int nil,
    const char *v, size_t vlen)
{
	if (col >= ks->n)
		return;
	if (nil)
		pfields_add(pf, ks->k[col], ks->len[col]);
	else
		pfields_str(pf, ks->k[col], ks->len[col], v, vlen);
}

int
parse_csv(struct pfields *pf, const char *s, size_t len, const char *sep,
    size_t seplen, const struct pkeys *ks, const char **why)
{
	const char *p = s, *e = s + len, *q, *v;
	size_t col = 0, vlen;

	if (len == 0) {
		*why = "empty line";
		return -1;
	}
	while (!is_eol(p, e)) {
		if (p < e && *p == '"') {
			if (!(q = csv_quoted(pf, p + 1, e, &v, &vlen))) {
				*why = "unclosed quoted field";
				return -1;
			}
			csv_set(pf, ks, col++, 0, v, vlen);
		} else {
			if (!(q = csv_plain(p, e, sep, seplen))) {
				*why = "quote in an unquoted field";
				return -1;
			}
			csv_set(pf, ks, col++, q == p, p, q - p);
		}
		if (q == e || is_eol(q, e))
			break;
		if ((size_t)(e - q) < seplen || memcmp(q, sep, seplen) != 0) {
			*why = "text after a quoted field";
			return -1;
		}
		p = q + seplen;
		if (p == e || is_eol(p, e))
			csv_set(pf, ks, col++, 1, NULL, 0);
	}
	for (; col < ks->n; col++)
		csv_set(pf, ks, col, 1, NULL, 0);
	return 0;
}

/*
 * TSV and LTSV.
 */

struct tsv_ctx {
	struct pfields *pf;
	const struct pkeys *ks;
	size_t col;
};

static void
tsv_piece(void *arg, const char *p, size_t n)
{
	struct tsv_ctx *c = arg;

	csv_set(c->pf, c->ks, c->col++, 0, p, n);
}

void
parse_tsv(struct pfields *pf, const char *s, size_t len, const char *sep,
    size_t seplen, const struct pkeys *ks)
{
	struct tsv_ctx c = { pf, ks, 0 };

	parse_split(s, len, sep, seplen, ks->n, tsv_piece, &c);
	for (; c.col < ks->n; c.col++)
		csv_set(pf, ks, c.col, 1, NULL, 0);
}

struct ltsv_ctx {
	struct pfields *pf;
	const char *label;
	size_t labellen;
	const char *k;
	size_t klen, n;
};

static void
ltsv_half(void *arg, const char *p, size_t n)
{
	struct ltsv_ctx *c = arg;

	if (c->n++ == 0) {
		c->k = p;
		c->klen = n;
	} else {
		pfields_str(c->pf, c->k, c->klen, p, n);
	}
}

void
parse_ltsv_item(struct pfields *pf, const char *s, size_t len,
    const char *label, size_t labellen)
{
	struct ltsv_ctx c = { pf, label, labellen, NULL, 0, 0 };

	parse_split(s, len, label, labellen, 2, ltsv_half, &c);
}

static void
ltsv_item(void *arg, const char *p, size_t n)
{
	struct ltsv_ctx *c = arg;

	parse_ltsv_item(c->pf, p, n, c->label, c->labellen);
}

void
parse_ltsv(struct pfields *pf, const char *s, size_t len, const char *sep,
    size_t seplen, const char *label, size_t labellen)
{
	struct ltsv_ctx c = { pf, label, labellen, NULL, 0, 0 };

	parse_split(s, len, sep, seplen, 0, ltsv_item, &c);
}

/*
 * logfmt.
 */

static int
is_keych(int c)
{
	return (unsigned char)c > ' ' && c != '"' && c != '=';
}

/* /\A[-+]?[0-9]+\z/ */
static int
is_integer(const char *p, size_t n)
{
	size_t i = n && (*p == '-' || *p == '+');

	if (i == n)
		return 0;
	for (; i < n; i++)
		if (!ISDIGIT(p[i]))
			return 0;
	return 1;
}

/* /\A[-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?\z/ */
static int
is_numeric(const char *p, size_t n)
{
	const char *e = p + n, *d;
	size_t id = 0, fd = 0;
	int dot = 0;

	if (p < e && (*p == '-' || *p == '+'))
		p++;
	for (; p < e && ISDIGIT(*p); p++)
		id++;
	if (p < e && *p == '.') {
		dot = 1;
		for (p++; p < e && ISDIGIT(*p); p++)
			fd++;
	}
	if (dot ? fd == 0 : id == 0)
		return 0;
	if (p < e && (*p == 'e' || *p == 'E')) {
		if (++p < e && (*p == '-' || *p == '+'))
			p++;
		for (d = p; p < e && ISDIGIT(*p); p++)
			continue;
		if (p == d)
			return 0;
	}
	return p == e;
}

/* An unquoted value: a number when it reads as one, else text. */
static void
logfmt_value(struct pfield *f, const char *v, size_t n)
{
	int64_t i;
	double d;

	f->kind = PK_STR;
	f->v = v;
	f->vlen = n;
	if (is_integer(v, n)) {
		i = parse_ruby_int(v, n);
		if (i != INT64_MAX && i != INT64_MIN) {
			f->kind = PK_INT;
			f->i = i;
			return;
		}
	}
	if (is_numeric(v, n) && isfinite(d = parse_ruby_float(v, n))) {
		f->kind = PK_FLOAT;
		f->f = d;
	}
}

/* A quoted value from p (after the quote); NULL if it does not end. */
static const char *
logfmt_quoted(struct pfields *pf, const char *p, const char *e,
    const char **v, size_t *vlen)
{
	struct buf *b = &pf->scratch;
	int escaped = 0;

	*v = b->p + b->len;
	for (; p < e; p++) {
		if (*p == '"' && !escaped) {
			*vlen = b->p + b->len - *v;
			return p + 1;
		}
		if (*p == '"')
			b->len--;
		escaped = *p == '\\';
		b->p[b->len++] = *p;
	}
	return NULL;
}

void
parse_logfmt(struct pfields *pf, const char *s, size_t len)
{
	const char *p = s, *e = s + len, *k, *v;
	struct pfield *f;
	size_t vlen;

	while (p < e) {
		if (!is_keych(*p)) {
			p++;
			continue;
		}
		for (k = p; p < e && is_keych(*p); p++)
			continue;
		f = pfields_add(pf, k, p - k);
		f->kind = PK_TRUE;
		if (p == e || *p != '=' || ++p == e)
			continue;
		if (*p == '"') {
			if ((p = logfmt_quoted(pf, p + 1, e, &v, &vlen))) {
				f->kind = PK_STR;
				f->v = v;
				f->vlen = vlen;
				continue;
			}
			return;
		}
		if (!is_keych(*p))
			continue;
		for (v = p; p < e && (unsigned char)*p > ' ' && *p != '"'; p++)
			continue;
		logfmt_value(f, v, p - v);
	}
}

/*
 * Ruby's numeric conversions.
 */

/* Copies the digits (and single underscores between them) at *pp. */
static size_t
digits(const char **pp, const char *e, char *out, size_t room)
{
	const char *p = *pp;
	size_t n = 0;

	while (p < e) {
		if (ISDIGIT(*p)) {
			if (n < room)
				out[n++] = *p;
			p++;
		} else if (*p == '_' && p > *pp && ISDIGIT(p[-1]) &&
		    p + 1 < e && ISDIGIT(p[1])) {
			p++;
		} else {
			break;
		}
	}
	*pp = p;
	return n;
}

int64_t
parse_ruby_int(const char *s, size_t len)
{
	const char *p = s, *e = s + len;
	char d[32];
	uint64_t v = 0;
	size_t n, i;
	int neg = 0;

	while (p < e && ISSPACE(*p))
		p++;
	if (p < e && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	while (p + 1 < e && *p == '0' && ISDIGIT(p[1]))
		p++;
	n = digits(&p, e, d, sizeof(d));
	if (n > 19)
		return neg ? INT64_MIN : INT64_MAX;
	for (i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(d[i] - '0');
	if (v > (uint64_t)INT64_MAX)
		return neg ? INT64_MIN : INT64_MAX;
	return neg ? -(int64_t)v : (int64_t)v;
}

double
parse_ruby_float(const char *s, size_t len)
{
	const char *p = s, *e = s + len;
	char t[512];
	size_t n = 0, m;

	while (p < e && ISSPACE(*p))
		p++;
	if (p < e && (*p == '-' || *p == '+'))
		t[n++] = *p++;
	m = digits(&p, e, t + n, 400);
	n += m;
	if (p + 1 < e && *p == '.' && ISDIGIT(p[1])) {
		t[n++] = *p++;
		m = digits(&p, e, t + n, 60);
		n += m;
	}
	if (m == 0)
		return 0.0;
	if (p + 1 < e && (*p == 'e' || *p == 'E')) {
		size_t at = n;

		t[n++] = 'e';
		p++;
		if (p < e && (*p == '-' || *p == '+'))
			t[n++] = *p++;
		m = digits(&p, e, t + n, 16);
		n = m ? n + m : at;
	}
	t[n] = '\0';
	return strtod(t, NULL);
}
