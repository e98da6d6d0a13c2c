/* jqfast - a small subset of jq, evaluated on the msgpack record itself */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jqglue.h"
#include "mp.h"

#include "jqfast_int.h"

/* Shared with jqfast_parse.c (string literals). */
int
jqfast_utf8_ok(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0, len, k;
	uint32_t cp, min;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			len = 2, cp = s[i] & 0x1f, min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			len = 3, cp = s[i] & 0x0f, min = 0x800;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			len = 4, cp = s[i] & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* Evaluation: any return of -1 means "let libjq do this record". */

/* The kind and number libjq gives the raw value at p; -1 if unsure. */
static int
raw_kind(const char *p, const char *end, enum kind *k, double *d,
    struct mp_obj *o)
{
	const unsigned char *u;

	if (mp_head(&p, end, o) != MP_OK)
		return -1;
	switch (o->type) {
	case MP_NIL: *k = K_NULL; break;
	case MP_BOOL: *k = o->v.b ? K_TRUE : K_FALSE; break;
	case MP_UINT: *k = K_NUM; *d = (double)o->v.u; break;
	case MP_INT: *k = K_NUM; *d = (double)o->v.i; break;
	case MP_FLOAT: *k = K_NUM; *d = o->v.f; break;
	case MP_STR: case MP_BIN: *k = K_STR; break;
	case MP_ARRAY: *k = K_ARR; break;
	case MP_MAP: *k = K_OBJ; break;
	case MP_EXT:
		if (o->ext_type != 0 || o->len != 8)
			return -1;
		u = (const unsigned char *)o->data;
		*k = K_NUM;
		*d = (double)((uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
		    (uint32_t)u[2] << 8 | u[3]);
		break;
	}
	return 0;
}

static const char *
sbytes(const struct jqfast *jf, const struct val *v)
{
	return v->scratch ? jf->scratch.p + v->off : v->p;
}

/* v as a scalar (strings checked as UTF-8), containers left raw. */
static int
view(const struct val *v, struct val *out)
{
	struct mp_obj o;
	double d = 0;
	enum kind k;

	*out = *v;
	if (!v->raw)
		return 0;
	if (raw_kind(v->p, v->p + v->len, &k, &d, &o) < 0)
		return -1;
	out->kind = k;
	out->d = d;
	if (k == K_STR) {
		if (!jqfast_utf8_ok(o.data, o.len))
			return -1;
		out->raw = 0;
		out->p = o.data;
		out->len = o.len;
		out->scratch = 0;
	} else if (k != K_ARR && k != K_OBJ) {
		out->raw = 0;
	}
	return 0;
}

static int
truthy(const struct val *v, int *t)
{
	struct val x;

	if (view(v, &x) < 0)
		return -1;
	*t = x.kind != K_NULL && x.kind != K_FALSE;
	return 0;
}

/* jq's order of a and b (jv_cmp), in *r. */
static int
compare(const struct jqfast *jf, const struct val *a, const struct val *b,
    int *r)
{
	struct val x, y;
	size_t n;

	if (view(a, &x) < 0 || view(b, &y) < 0)
		return -1;
	if (x.kind != y.kind) {
		*r = (int)x.kind - (int)y.kind;
		return 0;
	}
	switch (x.kind) {
	case K_NUM:
		if (isnan(x.d) || isnan(y.d))
			return -1;
		*r = x.d < y.d ? -1 : x.d > y.d;
		return 0;
	case K_STR:
		n = x.len < y.len ? x.len : y.len;
		*r = n ? memcmp(sbytes(jf, &x), sbytes(jf, &y), n) : 0;
		if (!*r)
			*r = x.len < y.len ? -1 : x.len > y.len;
		return 0;
	case K_ARR: case K_OBJ:
		return -1;
	default:
		*r = 0;
		return 0;
	}
}

static struct pair *
find_pair(struct jqfast *jf, const char *k, size_t len)
{
	int i;

	for (i = 0; i < jf->npairs; i++)
		if (jf->pairs[i].klen == len &&
		    memcmp(jf->pairs[i].k, k, len) == 0)
			return &jf->pairs[i];
	return NULL;
}

static void
null_val(struct val *v)
{
	memset(v, 0, sizeof(*v));
	v->kind = K_NULL;
	v->origin = -1;
}

/* The value of key k in the raw map at v (null if absent). */
static int
map_get(struct val *v, const char *k, size_t klen)
{
	const char *p = v->p, *end = v->p + v->len, *vp;
	struct mp_obj m, o;
	uint32_t i;
	int hits = 0;
	struct val r;

	null_val(&r);
	if (mp_head(&p, end, &m) != MP_OK || m.type != MP_MAP ||
	    m.v.n > MAXNEST)
		return -1;
	for (i = 0; i < m.v.n; i++) {
		if (mp_head(&p, end, &o) != MP_OK || (o.type != MP_STR &&
		    o.type != MP_BIN) || !jqfast_utf8_ok(o.data, o.len))
			return -1;
		vp = p;
		if (mp_skip(&p, end, NULL) != MP_OK)
			return -1;
		if (o.len == klen && memcmp(o.data, k, klen) == 0) {
			hits++;
			r.raw = 1;
			r.p = vp;
			r.len = p - vp;
		}
	}
	if (hits > 1)
		return -1;
	*v = r;
	return 0;
}

static int
get_path(struct jqfast *jf, const struct path *p, struct val *out)
{
	struct pair *pr;
	struct val x;
	int i;

	if ((pr = find_pair(jf, p->seg[0].k, p->seg[0].len)))
		*out = pr->v;
	else
		null_val(out);
	for (i = 1; i < p->nseg; i++) {
		if (view(out, &x) < 0)
			return -1;
		if (x.kind == K_NULL) {
			null_val(out);
			continue;
		}
		if (x.kind != K_OBJ || map_get(&x, p->seg[i].k,
		    p->seg[i].len) < 0)
			return -1;
		*out = x;
	}
	return 0;
}

/* Whether s[0..n) contains t[0..tn). */
static int
contains(const char *s, size_t n, const char *t, size_t tn)
{
	size_t i;

	if (!tn)
		return 1;
	for (i = 0; i + tn <= n; i++)
		if (s[i] == t[0] && memcmp(s + i, t, tn) == 0)
			return 1;
	return 0;
}

static int
eval(struct jqfast *jf, int ni, struct val *out)
{
	const struct node *n = &jf->nodes[ni];
	struct val a, b;
	int t, r;

	switch (n->op) {
	case C_PATH:
		return get_path(jf, &n->path, out);
	case C_CONST:
		*out = n->c;
		return 0;
	default:
		break;
	}
	null_val(out);
	if (eval(jf, n->a, &a) < 0)
		return -1;
	switch (n->op) {
	case C_AND: case C_OR:
		if (truthy(&a, &t) < 0)
			return -1;
		if (t == (n->op == C_AND)) {
			if (eval(jf, n->b, &b) < 0 || truthy(&b, &t) < 0)
				return -1;
		}
		break;
	case C_NOT:
		if (truthy(&a, &t) < 0)
			return -1;
		t = !t;
		break;
	case C_TEST:
		if (view(&a, &b) < 0 || b.kind != K_STR)
			return -1;
		t = contains(sbytes(jf, &b), b.len, n->c.p, n->c.len);
		break;
	default:
		if (eval(jf, n->b, &b) < 0 || compare(jf, &a, &b, &r) < 0)
			return -1;
		switch (n->op) {
		case C_EQ: t = r == 0; break;
		case C_NE: t = r != 0; break;
		case C_LT: t = r < 0; break;
		case C_LE: t = r <= 0; break;
		case C_GT: t = r > 0; break;
		default: t = r >= 0; break;
		}
		break;
	}
	out->kind = t ? K_TRUE : K_FALSE;
	return 0;
}

static void
set(struct jqfast *jf, const struct seg *k, const struct val *v)
{
	struct pair *pr = find_pair(jf, k->k, k->len);

	if (!pr) {
		if (jf->npairs == jf->cappairs) {
			jf->cappairs = jf->cappairs ? jf->cappairs * 2 : 16;
			jf->pairs = xrealloc(jf->pairs, jf->cappairs *
			    sizeof(*jf->pairs));
		}
		pr = &jf->pairs[jf->npairs++];
		pr->k = k->k;
		pr->klen = k->len;
		pr->top = -1;
	}
	pr->v = *v;
}

static void
del(struct jqfast *jf, const struct seg *k)
{
	struct pair *pr = find_pair(jf, k->k, k->len);
	size_t i;

	if (!pr)
		return;
	i = pr - jf->pairs;
	memmove(pr, pr + 1, (jf->npairs - i - 1) * sizeof(*pr));
	jf->npairs--;
}

/* jq's length of x (a view): -1 for an error or a map to check. */
static int
length(const struct jqfast *jf, const struct val *x, double *d)
{
	const char *p = x->p, *s;
	struct mp_obj o;
	size_t i;

	switch (x->kind) {
	case K_NULL:
		*d = 0;
		return 0;
	case K_NUM:
		if (isnan(x->d))
			return -1;
		*d = fabs(x->d);
		return 0;
	case K_STR:
		s = sbytes(jf, x);
		for (*d = 0, i = 0; i < x->len; i++)
			*d += ((unsigned char)s[i] & 0xc0) != 0x80;
		return 0;
	case K_ARR:
		if (mp_head(&p, p + x->len, &o) != MP_OK)
			return -1;
		*d = o.v.n;
		return 0;
	default:
		return -1;
	}
}

/* jq's tonumber of a string: plain integers of 15 digits at most. */
static int
to_number(const struct jqfast *jf, const struct val *x, double *d)
{
	const char *s = sbytes(jf, x);
	char tmp[20];
	size_t i = s[0] == '-' && x->len > 1;

	if (x->len > 16 || x->len == 0 || (s[i] == '0' && x->len > i + 1))
		return -1;
	for (; i < x->len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	memcpy(tmp, s, x->len);
	tmp[x->len] = '\0';
	*d = strtod(tmp, NULL);
	return 0;
}

/* .key |= length or tonumber: a number (the same one for a number). */
static int
modify_num(struct jqfast *jf, const struct stage *st, struct pair *pr)
{
	struct val x, n;

	if (pr)
		x = pr->v;
	else
		null_val(&x);
	if (view(&x, &x) < 0)
		return -1;
	null_val(&n);
	n.kind = K_NUM;
	if (st->fn == F_TONUMBER && x.kind == K_NUM && pr)
		return 0;
	if (st->fn == F_TONUMBER ? x.kind != K_STR ||
	    to_number(jf, &x, &n.d) < 0 : length(jf, &x, &n.d) < 0)
		return -1;
	set(jf, &st->key, &n);
	return 0;
}

static int
modify(struct jqfast *jf, const struct stage *st)
{
	struct pair *pr = find_pair(jf, st->key.k, st->key.len);
	struct val x;
	const char *s;
	char *d;
	size_t i;
	int lo, hi;

	if (st->fn == F_LENGTH || st->fn == F_TONUMBER)
		return modify_num(jf, st, pr);
	if (!pr || view(&pr->v, &x) < 0 || x.kind != K_STR)
		return -1;
	if (st->fn == F_TOSTRING)
		return 0;
	lo = st->fn == F_DOWN ? 'A' : 'a';
	hi = lo + 25;
	buf_reserve(&jf->scratch, x.len);
	s = sbytes(jf, &x);
	d = jf->scratch.p + jf->scratch.len;
	for (i = 0; i < x.len; i++)
		d[i] = s[i] >= lo && s[i] <= hi ? s[i] ^ 0x20 : s[i];
	x.scratch = 1;
	x.off = jf->scratch.len;
	x.origin = -1;
	jf->scratch.len += x.len;
	pr->v = x;
	return 0;
}

/* {...}: the values from the record as it is, then the new pairs. */
static int
construct(struct jqfast *jf, const struct stage *st)
{
	struct val *v = jf->vals;
	const struct entry *e;
	int i;

	for (i = 0; i < st->nents; i++) {
		e = &st->ents[i];
		if (!e->is_path)
			v[i] = e->c;
		else if (get_path(jf, &e->path, &v[i]) < 0)
			return -1;
	}
	for (i = 0; i < st->nents; i++) {
		jf->pairs[i].k = st->ents[i].key.k;
		jf->pairs[i].klen = st->ents[i].key.len;
		jf->pairs[i].top = -1;
		jf->pairs[i].v = v[i];
	}
	jf->npairs = st->nents;
	return 0;
}

/* Indexes the record's pairs: string keys, valid, none twice. */
static int
index_record(struct jqfast *jf, const char *rec, size_t len)
{
	const char *p = rec, *end = rec + len;
	struct mp_obj m, k;
	struct top *t;
	uint32_t i;
	int j;

	if (mp_head(&p, end, &m) != MP_OK || m.type != MP_MAP ||
	    m.v.n > MAXKEYS)
		return -1;
	for (i = 0; i < m.v.n; i++) {
		t = &jf->top[i];
		t->pair = p;
		if (mp_head(&p, end, &k) != MP_OK || (k.type != MP_STR &&
		    k.type != MP_BIN) || !jqfast_utf8_ok(k.data, k.len))
			return -1;
		t->k = k.data;
		t->klen = k.len;
		t->v = p;
		if (mp_skip(&p, end, NULL) != MP_OK)
			return -1;
		t->vlen = p - t->v;
		t->pair_len = p - t->pair;
		for (j = 0; j < (int)i; j++)
			if (jf->top[j].klen == k.len &&
			    memcmp(jf->top[j].k, k.data, k.len) == 0)
				return -1;
	}
	jf->ntop = (int)m.v.n;
	if (jf->cappairs < MAXKEYS + MAXSTAGES) {
		jf->cappairs = MAXKEYS + MAXSTAGES;
		jf->pairs = xrealloc(jf->pairs, jf->cappairs *
		    sizeof(*jf->pairs));
	}
	for (j = 0; j < jf->ntop; j++) {
		struct pair *pr = &jf->pairs[j];

		pr->k = jf->top[j].k;
		pr->klen = jf->top[j].klen;
		pr->top = j;
		memset(&pr->v, 0, sizeof(pr->v));
		pr->v.raw = 1;
		pr->v.p = jf->top[j].v;
		pr->v.len = jf->top[j].vlen;
		pr->v.origin = j;
	}
	jf->npairs = jf->ntop;
	return 0;
}

/* Appends the raw value at *p as jqglue_to_mp(jqglue_from_mp()) would. */
static int
normalize(struct buf *b, const char **p, const char *end, int depth)
{
	const char *at = *p, *keys[MAXNEST];
	struct mp_obj o;
	msgpack_packer pk;
	size_t klens[MAXNEST];
	double d = 0;
	enum kind k;
	uint32_t i, j;

	if (depth > MAXDEPTH || raw_kind(at, end, &k, &d, &o) < 0)
		return -1;
	mp_head(p, end, &o);
	switch (k) {
	case K_NULL: buf_putc(b, 0xc0); return 0;
	case K_FALSE: buf_putc(b, 0xc2); return 0;
	case K_TRUE: buf_putc(b, 0xc3); return 0;
	case K_NUM: jqglue_put_number(b, d); return 0;
	case K_STR:
		if (!jqfast_utf8_ok(o.data, o.len))
			return -1;
		mp_put_strhdr(b, o.len);
		buf_put(b, o.data, o.len);
		return 0;
	case K_ARR:
		mp_packer_init(&pk, b);
		msgpack_pack_array(&pk, o.v.n);
		for (i = 0; i < o.v.n; i++)
			if (normalize(b, p, end, depth + 1) < 0)
				return -1;
		return 0;
	case K_OBJ:
		if (o.v.n > MAXNEST)
			return -1;
		mp_put_maphdr(b, o.v.n);
		for (i = 0; i < o.v.n; i++) {
			if (mp_head(p, end, &o) != MP_OK || (o.type != MP_STR &&
			    o.type != MP_BIN) || !jqfast_utf8_ok(o.data, o.len))
				return -1;
			for (j = 0; j < i; j++)
				if (klens[j] == o.len &&
				    memcmp(keys[j], o.data, o.len) == 0)
					return -1;
			keys[i] = o.data;
			klens[i] = o.len;
			mp_put_strhdr(b, o.len);
			buf_put(b, o.data, o.len);
			if (normalize(b, p, end, depth + 1) < 0)
				return -1;
		}
		return 0;
	}
	return -1;
}

static int
emit(struct jqfast *jf, struct buf *b, const struct val *v)
{
	const char *p;

	if (v->raw) {
		p = v->p;
		return normalize(b, &p, v->p + v->len, 0);
	}
	switch (v->kind) {
	case K_NULL: buf_putc(b, 0xc0); break;
	case K_FALSE: buf_putc(b, 0xc2); break;
	case K_TRUE: buf_putc(b, 0xc3); break;
	case K_NUM: jqglue_put_number(b, v->d); break;
	case K_STR:
		mp_put_strhdr(b, v->len);
		buf_put(b, sbytes(jf, v), v->len);
		break;
	default:
		return -1;
	}
	return 0;
}

/* Whether libjq would see v as the very jv of top-level pair j. */
static int
identical(struct jqfast *jf, const struct val *v, int j, int *same)
{
	const struct top *t = &jf->top[j];
	struct mp_obj o;
	enum kind kv, kt;
	double dv = 0, dt = 0;

	*same = 0;
	if (v->raw && v->origin == j) {
		*same = 1;
		return 0;
	}
	if (raw_kind(t->v, t->v + t->vlen, &kt, &dt, &o) < 0)
		return -1;
	if (v->raw) {
		if (raw_kind(v->p, v->p + v->len, &kv, &dv, &o) < 0)
			return -1;
	} else {
		kv = v->kind;
		dv = v->d;
	}
	if (kv != kt)
		return 0;
	if (kv == K_NUM)
		*same = memcmp(&dv, &dt, sizeof(dv)) == 0;
	else
		*same = kv == K_NULL || kv == K_FALSE || kv == K_TRUE;
	return 0;
}

static int
find_top(const struct jqfast *jf, const char *k, size_t len)
{
	int j;

	for (j = 0; j < jf->ntop; j++)
		if (jf->top[j].klen == len && memcmp(jf->top[j].k, k, len) == 0)
			return j;
	return -1;
}

static int
put(struct jqfast *jf, struct buf *b)
{
	const struct pair *pr;
	int i, j, same;

	mp_put_maphdr(b, (uint32_t)jf->npairs);
	for (i = 0; i < jf->npairs; i++) {
		pr = &jf->pairs[i];
		if ((j = pr->top) < 0)
			j = find_top(jf, pr->k, pr->klen);
		if (j >= 0) {
			if (identical(jf, &pr->v, j, &same) < 0)
				return -1;
			if (same) {
				buf_put(b, jf->top[j].pair,
				    jf->top[j].pair_len);
				continue;
			}
		}
		mp_put_strhdr(b, pr->klen);
		buf_put(b, pr->k, pr->klen);
		if (emit(jf, b, &pr->v) < 0)
			return -1;
	}
	return 0;
}

int
jqfast_run(struct jqfast *jf, const char *rec, size_t len, struct buf *out)
{
	const struct stage *st;
	struct val v;
	int i, j, t;

	jf->scratch.len = 0;
	if (index_record(jf, rec, len) < 0)
		return JQFAST_FALLBACK;
	for (i = 0; i < jf->nst; i++) {
		st = &jf->st[i];
		switch (st->kind) {
		case S_ID:
			break;
		case S_SET_CONST:
			set(jf, &st->key, &st->c);
			break;
		case S_SET_PATH:
			if (get_path(jf, &st->src, &v) < 0)
				return JQFAST_FALLBACK;
			set(jf, &st->key, &v);
			break;
		case S_MOD:
			if (modify(jf, st) < 0)
				return JQFAST_FALLBACK;
			break;
		case S_DEL:
			for (j = 0; j < st->ndels; j++)
				del(jf, &st->dels[j]);
			break;
		case S_SELECT:
			if (eval(jf, st->cond, &v) < 0 || truthy(&v, &t) < 0)
				return JQFAST_FALLBACK;
			if (!t)
				return JQFAST_NONE;
			break;
		case S_OBJ:
			if (construct(jf, st) < 0)
				return JQFAST_FALLBACK;
			break;
		}
	}
	return put(jf, out) < 0 ? JQFAST_FALLBACK : JQFAST_OUT;
}
