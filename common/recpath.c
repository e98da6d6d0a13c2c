/* recpath - record access by key and by Fluentd's record_accessor paths */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "mp.h"
#include "recpath.h"

/* A decimal array index, optionally signed, filling s[0..len). */
static int
parse_index(const char *s, size_t len, long *idx)
{
	char tmp[24], *end;

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (!isdigit((unsigned char)tmp[tmp[0] == '-' || tmp[0] == '+']))
		return -1;
	errno = 0;
	*idx = strtol(tmp, &end, 10);
	return errno || *end ? -1 : 0;
}

static void
add_key(struct recpath *rp, const char *k, size_t len)
{
	rp->step[rp->n].key = k;
	rp->step[rp->n].len = len;
	rp->step[rp->n++].idx = 0;
}

/* "[0][1]" after a dot-notation key: indexes only. */
static int
dot_indexes(struct recpath *rp, const char *p, const char *end,
    const char **err)
{
	const char *c;
	long idx;

	while (p < end) {
		if (*p != '[') {
			*err = "found more characters after ']'";
			return -1;
		}
		if (!(c = memchr(p, ']', end - p))) {
			*err = "'[' found but ']' not found";
			return -1;
		}
		if (parse_index(p + 1, c - p - 1, &idx) < 0) {
			*err = "an array index must be an integer";
			return -1;
		}
		rp->step[rp->n].key = NULL;
		rp->step[rp->n++].idx = idx;
		p = c + 1;
	}
	return 0;
}

static int
parse_dot(struct recpath *rp, const char *s, const char **err)
{
	const char *p = s, *end = s + strlen(s), *dot, *br, *c;

	while (p <= end) {
		if (!(dot = memchr(p, '.', end - p)))
			dot = end;
		br = memchr(p, '[', dot - p);
		if (!br)
			br = dot;
		if (br == p && br == dot) {
			*err = "empty key in dot notation";
			return -1;
		}
		for (c = p; c < br; c++) {
			if (isspace((unsigned char)*c)) {
				*err = "white space in dot notation (use "
				    "bracket notation)";
				return -1;
			}
		}
		if (br > p)
			add_key(rp, p, br - p);
		if (dot_indexes(rp, br, dot, err) < 0)
			return -1;
		p = dot + 1;
	}
	return 0;
}

/* One "[...]" of bracket notation at *pp; advances past it. */
static int
bracket_step(struct recpath *rp, const char **pp, const char **err)
{
	const char *p = *pp + 1, *c;
	char q = *p;
	long idx;

	if (q == '\'' || q == '"') {
		for (c = p + 1; *c && !(c[0] == q && c[1] == ']'); c++)
			;
		if (!*c) {
			*err = "unterminated quoted key in bracket notation";
			return -1;
		}
		add_key(rp, p + 1, c - p - 1);
		*pp = c + 2;
		return 0;
	}
	if (!(c = strchr(p, ']'))) {
		*err = "'[' found but ']' not found";
		return -1;
	}
	if (parse_index(p, c - p, &idx) < 0) {
		*err = "an array index must be an integer (quote a key)";
		return -1;
	}
	rp->step[rp->n].key = NULL;
	rp->step[rp->n++].idx = idx;
	*pp = c + 1;
	return 0;
}

int
recpath_parse(struct recpath *rp, const char *s, const char **err)
{
	const char *p;
	size_t len = strlen(s);

	rp->text = xstrdup(s);
	rp->step = xcalloc(len + 1, sizeof(*rp->step));
	rp->n = 0;
	if (strncmp(s, "$.", 2) == 0) {
		if (parse_dot(rp, rp->text + 2, err) < 0)
			goto bad;
	} else if (strncmp(s, "$[", 2) == 0) {
		for (p = rp->text + 1; *p; )
			if (*p != '[') {
				*err = "found more characters after ']'";
				goto bad;
			} else if (bracket_step(rp, &p, err) < 0) {
				goto bad;
			}
	} else {
		if (!len) {
			*err = "empty field name";
			goto bad;
		}
		add_key(rp, rp->text, len);
	}
	return 0;
bad:
	recpath_free(rp);
	return -1;
}

void
recpath_free(struct recpath *rp)
{
	free(rp->text);
	free(rp->step);
	rp->text = NULL;
	rp->step = NULL;
	rp->n = 0;
}

size_t
recpath_span(const char *s)
{
	size_t i;
	char q = 0;

	for (i = 0; s[i]; i++) {
		if (q) {
			if (s[i] == q && s[i + 1] == ']')
				q = 0;
		} else if ((s[i] == '\'' || s[i] == '"') && i > 0 &&
		    s[i - 1] == '[') {
			q = s[i];
		} else if (s[i] == ' ') {
			break;
		}
	}
	return i;
}

/*
 * Which element of the container at *p the step names: its number, or -1.
 * *h is the container's head; *p is left after the head.
 */
static long
target(const struct recpath_step *st, const char **p, const char *end,
    struct mp_obj *h)
{
	const char *q;
	struct mp_obj k;
	uint32_t i;

	if (mp_head(p, end, h) != MP_OK)
		return -1;
	if (!st->key) {
		if (h->type != MP_ARRAY)
			return -1;
		if (st->idx < 0)
			return st->idx + (long)h->v.n < 0 ? -1 :
			    st->idx + (long)h->v.n;
		return st->idx < (long)h->v.n ? st->idx : -1;
	}
	if (h->type != MP_MAP)
		return -1;
	for (q = *p, i = 0; i < h->v.n; i++) {
		const char *at = q;

		if (mp_head(&q, end, &k) != MP_OK)
			return -1;
		if ((k.type == MP_STR || k.type == MP_BIN) &&
		    k.len == st->len && memcmp(k.data, st->key, st->len) == 0)
			return i;
		q = at;
		mp_skip(&q, end, NULL);
		mp_skip(&q, end, NULL);
	}
	return -1;
}

/* Moves *p from a container to its element (map: value) number i. */
static void
to_element(const char **p, const char *end, int map, long i)
{
	for (; i > 0; i--) {
		mp_skip(p, end, NULL);
		if (map)
			mp_skip(p, end, NULL);
	}
	if (map)
		mp_skip(p, end, NULL);
}

int
recpath_get(const struct recpath *rp, const char *rec, const char *end,
    const char **v, size_t *vlen)
{
	const char *p = rec, *q;
	struct mp_obj h;
	size_t s;
	long i;

	for (s = 0; s < rp->n; s++) {
		if ((i = target(&rp->step[s], &p, end, &h)) < 0)
			return 0;
		to_element(&p, end, h.type == MP_MAP, i);
	}
	q = p;
	if (mp_skip(&q, end, NULL) != MP_OK)
		return 0;
	*v = p;
	*vlen = q - p;
	return 1;
}

static void
put_hdr(struct buf *b, int map, uint32_t n)
{
	msgpack_packer pk;

	if (map) {
		mp_put_maphdr(b, n);
	} else {
		mp_packer_init(&pk, b);
		msgpack_pack_array(&pk, n);
	}
}

/* Copies the container at *p (advancing past it), dropping the target. */
static void
put_without(const struct recpath_step *st, size_t left, struct buf *out,
    const char **p, const char *end)
{
	const char *e;
	struct mp_obj h;
	long t = target(st, p, end, &h), i;
	int map = h.type == MP_MAP;

	put_hdr(out, map, left == 1 ? h.v.n - 1 : h.v.n);
	for (i = 0; i < (long)h.v.n; i++) {
		e = *p;
		if (map)
			mp_skip(p, end, NULL);
		if (i != t) {
			mp_skip(p, end, NULL);
			buf_put(out, e, *p - e);
		} else if (left == 1) {
			mp_skip(p, end, NULL);
		} else {
			buf_put(out, e, *p - e);
			put_without(st + 1, left - 1, out, p, end);
		}
	}
}

int
recpath_put_without(const struct recpath *rp, struct buf *out,
    const char *rec, const char *end)
{
	const char *v, *p = rec;
	size_t vlen;

	if (!rp->n || !recpath_get(rp, rec, end, &v, &vlen))
		return 0;
	put_without(rp->step, rp->n, out, &p, end);
	return 1;
}

/*
 * The shortest decimal digits that read back as d (finite, not zero),
 * without a sign or trailing zeros, and the exponent of the first one.
 */
static int
shortest_digits(double d, char *dig, int *exp)
{
	char tmp[40];
	const char *p;
	int prec, nd = 0;

	for (prec = 1; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, fabs(d));
	for (p = tmp; *p != 'e'; p++)
		if (*p != '.')
			dig[nd++] = *p;
	*exp = atoi(p + 1);
	while (nd > 1 && dig[nd - 1] == '0')
		nd--;
	return nd;
}

/* Ruby's Float#to_s: fixed for 1e-4 <= |d| < 1e15 or all digits whole. */
static void
put_ruby_float(struct buf *out, double d)
{
	char dig[24], e[16];
	int nd, exp, decpt, i;

	if (isnan(d) || isinf(d) || d == 0) {
		buf_puts(out, isnan(d) ? "NaN" : isinf(d) ? (d > 0 ?
		    "Infinity" : "-Infinity") : signbit(d) ? "-0.0" : "0.0");
		return;
	}
	nd = shortest_digits(d, dig, &exp);
	decpt = exp + 1;
	if (d < 0)
		buf_putc(out, '-');
	if (decpt > 0 && (decpt < nd || decpt <= 15)) {
		for (i = 0; i < decpt; i++)
			buf_putc(out, i < nd ? dig[i] : '0');
		buf_putc(out, '.');
		if (nd > decpt)
			buf_put(out, dig + decpt, nd - decpt);
		else
			buf_putc(out, '0');
	} else if (decpt <= 0 && decpt > -4) {
		buf_put(out, "0.", 2);
		for (i = decpt; i < 0; i++)
			buf_putc(out, '0');
		buf_put(out, dig, nd);
	} else {
		buf_putc(out, dig[0]);
		buf_putc(out, '.');
		buf_put(out, nd > 1 ? dig + 1 : "0", nd > 1 ? nd - 1 : 1);
		snprintf(e, sizeof(e), "e%+03d", decpt - 1);
		buf_puts(out, e);
	}
}

void
recpath_to_s(struct buf *out, const char *v, const char *end)
{
	const char *p = v;
	struct mp_obj o;
	char num[24];

	if (mp_head(&p, end, &o) != MP_OK)
		return;
	switch (o.type) {
	case MP_STR: case MP_BIN:
		buf_put(out, o.data, o.len);
		return;
	case MP_NIL:
		return;
	case MP_BOOL:
		buf_puts(out, o.v.b ? "true" : "false");
		return;
	case MP_UINT:
		snprintf(num, sizeof(num), "%" PRIu64, o.v.u);
		buf_puts(out, num);
		return;
	case MP_INT:
		snprintf(num, sizeof(num), "%" PRId64, o.v.i);
		buf_puts(out, num);
		return;
	case MP_FLOAT:
		put_ruby_float(out, o.v.f);
		return;
	default:
		p = v;
		json_from_mp(out, &p, end);
		return;
	}
}
