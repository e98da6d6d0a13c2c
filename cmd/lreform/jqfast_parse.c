/* jqfast_parse - reading a jq program of the subset into a jqfast plan */
#include <stdlib.h>
#include <string.h>

#include "err.h"

#include "jqfast_int.h"

/* Parsing. */

struct lex {
	struct jqfast *jf;
	char *s;                /* in jf->text, unescaped in place */
	int depth;              /* parentheses open */
};

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
	return jqfast_utf8_ok(*k, *len);
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
