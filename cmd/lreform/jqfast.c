/* jqfast - a small subset of jq, evaluated on the msgpack record itself */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jqglue.h"
#include "mp.h"

#include "jqfast.h"

#define MAXKEYS 128             /* top-level pairs handled natively */
#define MAXNEST 64              /* pairs of a nested map re-encoded */
#define MAXDEPTH 32             /* nesting re-encoded */
#define MAXSEGS 16              /* keys in a path */
#define MAXNODES 64             /* nodes in a select condition */
#define MAXSTAGES 64

/* Kinds in jq's order (jv_cmp orders different kinds by it). */
enum kind { K_NULL, K_FALSE, K_TRUE, K_NUM, K_STR, K_ARR, K_OBJ };

/*
 * A value: raw msgpack bytes of the record, or a scalar.  origin is the
 * index of the top-level pair whose untouched value a raw value is (-1
 * when it is nested): libjq's output keeps such a value's bytes.
 */
struct val {
	int raw;
	enum kind kind;         /* !raw */
	double d;               /* K_NUM */
	const char *p;          /* raw bytes, or a string's bytes */
	size_t len;
	int scratch;            /* the string is at off in jf->scratch */
	size_t off;
	int origin;
};

struct seg {
	const char *k;
	size_t len;
};

struct path {
	struct seg seg[MAXSEGS];
	int nseg;               /* 0: `.` itself */
};

enum op { C_PATH, C_CONST, C_AND, C_OR, C_NOT, C_EQ, C_NE, C_LT, C_LE,
	C_GT, C_GE, C_TEST };

struct node {
	enum op op;
	int a, b;               /* operand nodes */
	struct path path;       /* C_PATH */
	struct val c;           /* C_CONST, C_TEST: the literal pattern */
};

/* An entry of an object construction: KEY: PATH or KEY: CONST. */
struct entry {
	struct seg key;
	int is_path;
	struct path path;
	struct val c;
};

enum stage_kind { S_ID, S_SET_CONST, S_SET_PATH, S_MOD, S_DEL, S_SELECT,
	S_OBJ };
enum fn { F_DOWN, F_UP, F_TOSTRING, F_LENGTH, F_TONUMBER };

struct stage {
	enum stage_kind kind;
	struct seg key;         /* S_SET_*, S_MOD */
	struct val c;           /* S_SET_CONST */
	struct path src;        /* S_SET_PATH */
	enum fn fn;             /* S_MOD */
	struct seg *dels;       /* S_DEL */
	int ndels;
	struct entry *ents;     /* S_OBJ */
	int nents;
	int cond;               /* S_SELECT: root node */
};

struct top {
	const char *pair, *k, *v;
	size_t pair_len, klen, vlen;
};

struct pair {
	const char *k;
	size_t klen;
	int top;                /* the record's pair of this key, or -1 */
	struct val v;
};

struct jqfast {
	char *text;             /* the program, owning constants' bytes */
	struct stage st[MAXSTAGES];
	int nst;
	struct node nodes[MAXNODES];
	int nnodes;
	struct top top[MAXKEYS];
	int ntop;
	struct pair *pairs;
	int npairs, cappairs;
	struct val vals[MAXKEYS];       /* values of a {...} */
	struct buf scratch;
};

/* Parsing. */

struct lex {
	struct jqfast *jf;
	char *s;                /* in jf->text, unescaped in place */
	int depth;              /* parentheses open */
};

static int
utf8_ok(const char *p, size_t n)
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

static int
is_id(int c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (!first && c >= '0' && c <= '9');
}

/* jq 1.6 lexes e5 and .e5 (an exponent alone) as numbers, and fails. */
static int
exponent_like(const char *k, size_t len)
{
	size_t i;

	if (len < 2 || (k[0] != 'e' && k[0] != 'E'))
		return 0;
	for (i = 1; i < len; i++)
		if (k[i] < '0' || k[i] > '9')
			return 0;
	return 1;
}

static void
ws(struct lex *l)
{
	/* jq 1.6 takes no other white space (not \r) */
	while (*l->s == ' ' || *l->s == '\t' || *l->s == '\n')
		l->s++;
}

/* Takes the punctuation t (after white space) if it is next. */
static int
punct(struct lex *l, const char *t)
{
	size_t n = strlen(t);

	ws(l);
	if (strncmp(l->s, t, n) != 0)
		return 0;
	/* "|" is not "|=", "=" is not "==", "<" is not "<=" */
	if ((n == 1 && strchr("|=<>", t[0]) && l->s[1] == '='))
		return 0;
	l->s += n;
	return 1;
}

/* Takes the word w (after white space) if it is next. */
static int
word(struct lex *l, const char *w)
{
	size_t n = strlen(w);

	ws(l);
	if (strncmp(l->s, w, n) != 0 || is_id((unsigned char)l->s[n], 0))
		return 0;
	l->s += n;
	return 1;
}

/*
 * A string literal at l->s: escapes \" \\ \/ \b \f \n \r \t only (no \u,
 * no interpolation), valid UTF-8.  Unescapes it in place.
 */
static int
string(struct lex *l, const char **k, size_t *len)
{
	char *r = l->s + 1, *w = r;

	if (*l->s != '"')
		return 0;
	for (;;) {
		if (*r == '\0')
			return 0;
		if (*r == '"')
			break;
		if ((unsigned char)*r < 0x20)
			return 0;
		if (*r != '\\') {
			*w++ = *r++;
			continue;
		}
		switch (r[1]) {
		case '"': case '\\': case '/': *w++ = r[1]; break;
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		default: return 0;
		}
		r += 2;
	}
	*k = l->s + 1;
	*len = w - (l->s + 1);
	l->s = r + 1;
	return utf8_ok(*k, *len);
}

/* A path with at least one key, no white space inside. */
static int
path(struct lex *l, struct path *p)
{
	char *s;

	ws(l);
	p->nseg = 0;
	if (*l->s != '.')
		return 0;
	s = l->s;
	for (;;) {
		struct seg *g = &p->seg[p->nseg];

		if (p->nseg == MAXSEGS)
			return 0;
		if (s[0] == '.' && is_id((unsigned char)s[1], 1)) {
			g->k = ++s;
			while (is_id((unsigned char)*s, 0))
				s++;
			g->len = s - g->k;
			if (exponent_like(g->k, g->len))
				return 0;
		} else if ((s[0] == '.' && s[1] == '[' && p->nseg == 0) ||
		    (s[0] == '[' && p->nseg > 0)) {
			l->s = s + (s[0] == '.' ? 2 : 1);
			if (!string(l, &g->k, &g->len) || *l->s != ']')
				return 0;
			s = l->s + 1;
		} else {
			break;
		}
		p->nseg++;
	}
	/* `.a .b`, `.a?`, `.a[0]` and the like are not in the subset */
	if (!p->nseg || *s == '?' || *s == '[' || *s == '.' ||
	    is_id((unsigned char)*s, 0))
		return 0;
	l->s = s;
	return 1;
}

/* A constant: a string, a plain decimal number, true, false or null. */
static int
constant(struct lex *l, struct val *v)
{
	char *s, *e;

	ws(l);
	memset(v, 0, sizeof(*v));
	v->origin = -1;
	if (*l->s == '"') {
		v->kind = K_STR;
		return string(l, &v->p, &v->len);
	}
	if (word(l, "true") || word(l, "false") || word(l, "null")) {
		v->kind = l->s[-1] == 'e' ? (l->s[-2] == 'u' ? K_TRUE :
		    K_FALSE) : K_NULL;
		return 1;
	}
	s = l->s;
	if (!(*s >= '0' && *s <= '9'))
		return 0;
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s == '.') {
		if (!(s[1] >= '0' && s[1] <= '9'))
			return 0;
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	}
	if (is_id((unsigned char)*s, 0) || *s == '.' || s - l->s > 40)
		return 0;
	v->kind = K_NUM;
	v->d = strtod(l->s, &e);
	if (e != s)
		return 0;
	l->s = s;
	return 1;
}

static int cond(struct lex *l);
static int test_node(struct lex *l, int a);

static int
node(struct lex *l, enum op op, int a, int b)
{
	struct node *n;

	if (l->jf->nnodes == MAXNODES)
		return -1;
	n = &l->jf->nodes[l->jf->nnodes];
	n->op = op;
	n->a = a;
	n->b = b;
	return l->jf->nnodes++;
}

static int
operand(struct lex *l)
{
	struct node *n;
	int i;

	ws(l);
	if (punct(l, "(")) {
		if (++l->depth > MAXDEPTH || (i = cond(l)) < 0 ||
		    !punct(l, ")"))
			return -1;
		l->depth--;
		return i;
	}
	if ((i = node(l, C_CONST, -1, -1)) < 0)
		return -1;
	n = &l->jf->nodes[i];
	if (*l->s == '.') {
		n->op = C_PATH;
		return path(l, &n->path) ? i : -1;
	}
	return constant(l, &n->c) ? i : -1;
}

static int
comparison(struct lex *l)
{
	static const struct { const char *t; enum op op; } ops[] = {
		{ "==", C_EQ }, { "!=", C_NE }, { "<=", C_LE },
		{ ">=", C_GE }, { "<", C_LT }, { ">", C_GT }
	};
	size_t j;
	int a, b;

	if ((a = operand(l)) < 0)
		return -1;
	for (j = 0; j < sizeof(ops) / sizeof(ops[0]); j++)
		if (punct(l, ops[j].t)) {
			if ((b = operand(l)) < 0)
				return -1;
			return node(l, ops[j].op, a, b);
		}
	return a;
}

static int
conjunction(struct lex *l)
{
	int a, b;

	if ((a = comparison(l)) < 0)
		return -1;
	while (word(l, "and")) {
		if ((b = comparison(l)) < 0 || (a = node(l, C_AND, a, b)) < 0)
			return -1;
	}
	return a;
}

/*
 * test("literal"): a pattern with no character that Oniguruma (jq) and a
 * substring search could read differently.
 */
static int
test_node(struct lex *l, int a)
{
	struct node *n;
	size_t i;
	int t;

	if (!punct(l, "(") || (t = node(l, C_TEST, a, -1)) < 0)
		return -1;
	n = &l->jf->nodes[t];
	ws(l);
	if (!constant(l, &n->c) || n->c.kind != K_STR || !punct(l, ")"))
		return -1;
	for (i = 0; i < n->c.len; i++)
		if ((unsigned char)n->c.p[i] < 0x20 ||
		    strchr("\\^$.|?*+()[]{}", n->c.p[i]))
			return -1;
	return t;
}

/* or-expression, then any number of `| not` and `| test("literal")` */
static int
cond(struct lex *l)
{
	int a, b;

	if ((a = conjunction(l)) < 0)
		return -1;
	while (word(l, "or")) {
		if ((b = conjunction(l)) < 0 || (a = node(l, C_OR, a, b)) < 0)
			return -1;
	}
	while (punct(l, "|")) {
		if (word(l, "not"))
			a = node(l, C_NOT, a, -1);
		else if (word(l, "test"))
			a = test_node(l, a);
		else
			return -1;
		if (a < 0)
			return -1;
	}
	return a;
}

static int
stage_del(struct lex *l, struct stage *st)
{
	struct path p;
	int cap = 0;

	if (!punct(l, "("))
		return 0;
	do {
		if (!path(l, &p) || p.nseg != 1)
			return 0;
		if (st->ndels == cap) {
			cap = cap ? cap * 2 : 4;
			st->dels = xrealloc(st->dels, cap * sizeof(*st->dels));
		}
		st->dels[st->ndels++] = p.seg[0];
	} while (punct(l, ","));
	return punct(l, ")");
}

/* One entry of {...}: name: v, "key": v, or name alone (name: .name). */
static int
entry(struct lex *l, struct entry *e)
{
	ws(l);
	memset(e, 0, sizeof(*e));
	if (*l->s == '"') {
		if (!string(l, &e->key.k, &e->key.len) || !punct(l, ":"))
			return 0;
	} else if (is_id((unsigned char)*l->s, 1)) {
		e->key.k = l->s;
		while (is_id((unsigned char)*l->s, 0))
			l->s++;
		e->key.len = l->s - e->key.k;
		if (exponent_like(e->key.k, e->key.len))
			return 0;
		if (!punct(l, ":")) {
			e->is_path = 1;
			e->path.nseg = 1;
			e->path.seg[0] = e->key;
			return 1;
		}
	} else {
		return 0;
	}
	ws(l);
	if (*l->s == '.') {
		e->is_path = 1;
		return path(l, &e->path);
	}
	return constant(l, &e->c);
}

/* {entry, ...}: keys all different. */
static int
stage_obj(struct lex *l, struct stage *st)
{
	struct entry *e;
	int cap = 0, i;

	st->kind = S_OBJ;
	if (punct(l, "}"))
		return 1;
	do {
		if (st->nents == cap) {
			cap = cap ? cap * 2 : 4;
			st->ents = xrealloc(st->ents, cap * sizeof(*st->ents));
		}
		e = &st->ents[st->nents];
		if (st->nents == MAXKEYS || !entry(l, e))
			return 0;
		for (i = 0; i < st->nents; i++)
			if (st->ents[i].key.len == e->key.len &&
			    memcmp(st->ents[i].key.k, e->key.k,
			    e->key.len) == 0)
				return 0;
		st->nents++;
	} while (punct(l, ","));
	return punct(l, "}");
}

static int
stage(struct lex *l, struct stage *st)
{
	struct path p;

	ws(l);
	if (word(l, "select")) {
		st->kind = S_SELECT;
		return punct(l, "(") && (st->cond = cond(l)) >= 0 &&
		    punct(l, ")");
	}
	if (word(l, "del")) {
		st->kind = S_DEL;
		return stage_del(l, st);
	}
	if (punct(l, "{"))
		return stage_obj(l, st);
	if (l->s[0] == '.' && !is_id((unsigned char)l->s[1], 1) &&
	    l->s[1] != '[') {
		l->s++;
		st->kind = S_ID;
		return 1;
	}
	if (!path(l, &p) || p.nseg != 1)
		return 0;
	st->key = p.seg[0];
	if (punct(l, "|=")) {
		st->kind = S_MOD;
		if (word(l, "ascii_downcase"))
			st->fn = F_DOWN;
		else if (word(l, "ascii_upcase"))
			st->fn = F_UP;
		else if (word(l, "tostring"))
			st->fn = F_TOSTRING;
		else if (word(l, "length"))
			st->fn = F_LENGTH;
		else if (word(l, "tonumber"))
			st->fn = F_TONUMBER;
		else
			return 0;
		return 1;
	}
	if (!punct(l, "="))
		return 0;
	ws(l);
	if (*l->s == '.') {
		st->kind = S_SET_PATH;
		return path(l, &st->src);
	}
	st->kind = S_SET_CONST;
	return constant(l, &st->c);
}

void
jqfast_free(struct jqfast *jf)
{
	int i;

	if (!jf)
		return;
	for (i = 0; i < MAXSTAGES; i++) {
		free(jf->st[i].dels);
		free(jf->st[i].ents);
	}
	free(jf->text);
	free(jf->pairs);
	buf_free(&jf->scratch);
	free(jf);
}

struct jqfast *
jqfast_new(const char *program)
{
	struct jqfast *jf = xcalloc(1, sizeof(*jf));
	struct lex l;

	jf->text = xstrdup(program);
	l.jf = jf;
	l.s = jf->text;
	l.depth = 0;
	do {
		if (jf->nst == MAXSTAGES || !stage(&l, &jf->st[jf->nst++])) {
			jqfast_free(jf);
			return NULL;
		}
	} while (punct(&l, "|"));
	ws(&l);
	if (*l.s != '\0') {
		jqfast_free(jf);
		return NULL;
	}
	return jf;
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
		if (!utf8_ok(o.data, o.len))
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
		    o.type != MP_BIN) || !utf8_ok(o.data, o.len))
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
		    k.type != MP_BIN) || !utf8_ok(k.data, k.len))
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
		if (!utf8_ok(o.data, o.len))
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
			    o.type != MP_BIN) || !utf8_ok(o.data, o.len))
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
