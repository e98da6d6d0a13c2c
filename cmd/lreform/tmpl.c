/* tmpl - lreform's placeholders and templates: ${tag}, ${record[...]}, ... */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "json.h"
#include "mp.h"
#include "recpath.h"
#include "timefmt.h"
#include "tmpl.h"

#include "lreform.h"

/* What ${hostname} and ${time} write. */
static struct {
	char hostname[256];
	size_t hostname_len;
	struct timefmt *tf;
} env;

/* The host name and --time-format, --utc, --timezone. */
void
tmpl_init(void)
{
	const char *fmt = o.time_format ? o.time_format :
	    "%Y-%m-%d %H:%M:%S %z", *err;

	if (gethostname(env.hostname, sizeof(env.hostname) - 1) < 0)
		die(EX_SYS, "unable to get the host name:");
	env.hostname_len = strlen(env.hostname);
	env.tf = timefmt_new(fmt, o.tz, &err);
	if (!env.tf)
		die(EX_USAGE, "bad time format '%s': %s", fmt, err);
}

void
tmpl_end(void)
{
	timefmt_free(env.tf);
}

/* --- parsing ---------------------------------------------------------- */

static _Noreturn void
bad_placeholder(const char *ph, size_t len, const char *arg, const char *why)
{
	die(EX_USAGE, "unknown placeholder '${%.*s}' in '%s'%s%s", (int)len, ph,
	    arg, why ? ": " : "", why ? why : "");
}

static void
add_seg(struct tmpl *t, const struct seg *sg)
{
	t->seg = xrealloc(t->seg, (t->nseg + 1) * sizeof(*t->seg));
	t->seg[t->nseg++] = *sg;
	if (sg->kind == PH_TIME || sg->kind == PH_RECORD)
		t->dyn = 1;
}

/* Cuts s[0..len) into literal text and placeholders (common/tmpl.c). */
void
tmpl_parse(struct tmpl *t, const char *s, size_t len, const char *arg)
{
	static const enum ph kinds[] = {
		[TMPL_LIT] = PH_LIT, [TMPL_HOSTNAME] = PH_HOSTNAME,
		[TMPL_TAG] = PH_TAG, [TMPL_PARTS] = PH_PARTS,
		[TMPL_PREFIX] = PH_PREFIX, [TMPL_SUFFIX] = PH_SUFFIX,
		[TMPL_TIME] = PH_TIME, [TMPL_RECORD] = PH_RECORD
	};
	const char *p = s, *why;
	struct tmpl_seg ts;
	struct seg sg;
	size_t nph = 0;
	int r;

	memset(t, 0, sizeof(*t));
	while ((r = tmpl_next(&p, s + len, 0, &ts, &why)) != 0) {
		if (r < 0)
			bad_placeholder(ts.s, ts.len, arg, why);
		memset(&sg, 0, sizeof(sg));
		sg.kind = kinds[ts.kind];
		if (ts.kind == TMPL_LIT) {
			sg.s = ts.s;
			sg.len = ts.len;
		} else {
			sg.n = ts.n;
			sg.path = ts.path;
			nph++;
		}
		add_seg(t, &sg);
	}
	t->single = t->nseg == 1 && nph == 1;
}

void
tmpl_free(struct tmpl *t)
{
	size_t i;

	for (i = 0; i < t->nseg; i++)
		if (t->seg[i].kind == PH_RECORD)
			recpath_free(&t->seg[i].path);
	free(t->seg);
}

/* --- rendering -------------------------------------------------------- */

/* Part n of the tag as Ruby's tag.split('.') gives them. */
static int
tag_piece(const struct ctx *c, const struct seg *sg, const char **p,
    size_t *len)
{
	enum tmpl_kind k = sg->kind == PH_PREFIX ? TMPL_PREFIX :
	    sg->kind == PH_SUFFIX ? TMPL_SUFFIX : TMPL_PARTS;

	return tmpl_tag_piece(k, sg->n, c->tag, c->tag_len, p, len);
}

static void
put_time(struct buf *b, const struct ctx *c)
{
	size_t n;

	buf_reserve(b, 256);
	n = timefmt_format(env.tf, c->sec, c->nsec, b->p + b->len, 256);
	b->len += n;
}

static void
seg_text(const struct seg *sg, const struct ctx *c, struct buf *b)
{
	const char *v;
	size_t len;

	switch (sg->kind) {
	case PH_LIT: buf_put(b, sg->s, sg->len); break;
	case PH_HOSTNAME: buf_put(b, env.hostname, env.hostname_len); break;
	case PH_TAG: buf_put(b, c->tag, c->tag_len); break;
	case PH_TIME: put_time(b, c); break;
	case PH_PARTS: case PH_PREFIX: case PH_SUFFIX:
		if (tag_piece(c, sg, &v, &len))
			buf_put(b, v, len);
		break;
	case PH_RECORD:
		if (recpath_get(&sg->path, c->rec, c->rec_end, &v, &len))
			recpath_to_s(b, v, v + len);
		break;
	}
}

void
tmpl_text(const struct tmpl *t, const struct ctx *c, struct buf *b)
{
	size_t i;

	for (i = 0; i < t->nseg; i++)
		seg_text(&t->seg[i], c, b);
}

/* Appends the template as a msgpack str. */
static void
tmpl_str(const struct tmpl *t, const struct ctx *c, struct buf *b)
{
	char hdr[5];
	struct buf h = { hdr, 0, sizeof(hdr) };
	size_t at = b->len, n;

	if (t->nseg == 1 && t->seg[0].kind == PH_LIT) {
		mp_put_strhdr(b, t->seg[0].len);
		buf_put(b, t->seg[0].s, t->seg[0].len);
		return;
	}
	buf_reserve(b, sizeof(hdr));
	b->len += sizeof(hdr);
	tmpl_text(t, c, b);
	n = b->len - at - sizeof(hdr);
	mp_put_strhdr(&h, n);
	if (h.len < sizeof(hdr))
		memmove(b->p + at + h.len, b->p + at + sizeof(hdr), n);
	memcpy(b->p + at, hdr, h.len);
	b->len = at + h.len + n;
}

/* Appends the template as one msgpack value (typed with -a). */
static void
tmpl_value(const struct tmpl *t, const struct ctx *c, struct buf *b)
{
	const struct seg *sg = &t->seg[0];
	const char *v;
	size_t len;

	if (o.typecast && t->single && !t->is_key) {
		if (sg->kind == PH_RECORD) {
			if (recpath_get(&sg->path, c->rec, c->rec_end, &v,
			    &len))
				buf_put(b, v, len);
			else
				buf_putc(b, 0xc0);
			return;
		}
		if ((sg->kind == PH_PARTS || sg->kind == PH_PREFIX ||
		    sg->kind == PH_SUFFIX) && !tag_piece(c, sg, &v, &len)) {
			buf_putc(b, 0xc0);
			return;
		}
	}
	tmpl_str(t, c, b);
}

void
tmpl_value_render(const struct value *v, const struct ctx *c, struct buf *b)
{
	const char *p, *end, *at;
	struct mp_obj h;
	size_t si = 0;

	if (!v->is_json) {
		tmpl_value(&v->t, c, b);
		return;
	}
	p = v->json.p;
	end = p + v->json.len;
	while (p < end) {
		at = p;
		mp_head(&p, end, &h);
		if (h.type == MP_STR)
			tmpl_value(&v->js[si++], c, b);
		else
			buf_put(b, at, p - at);   /* a scalar, or a header */
	}
}

/* --- values: a template, or JSON holding templates -------------------- */

/* Compiles the strings of a JSON value, keys marked as keys. */
static void
json_tmpls(struct value *v, const char **p, const char *end, int is_key,
    const char *arg)
{
	struct mp_obj h;
	struct tmpl *t;
	uint32_t i;

	mp_head(p, end, &h);
	if (h.type == MP_STR) {
		v->js = xrealloc(v->js, (v->njs + 1) * sizeof(*v->js));
		t = &v->js[v->njs++];
		tmpl_parse(t, h.data, h.len, arg);
		t->is_key = is_key;
		v->dyn |= t->dyn;
	}
	for (i = 0; h.type == MP_ARRAY && i < h.v.n; i++)
		json_tmpls(v, p, end, 0, arg);
	for (i = 0; h.type == MP_MAP && i < h.v.n; i++) {
		json_tmpls(v, p, end, 1, arg);
		json_tmpls(v, p, end, 0, arg);
	}
}

/* VALUE: JSON when it starts with { or [ and parses, else a template. */
void
tmpl_value_parse(struct value *v, const char *s, const char *arg)
{
	struct json_err err;
	const char *p;
	size_t used, len = strlen(s);

	memset(v, 0, sizeof(*v));
	v->unit = -1;
	if ((*s == '{' || *s == '[') && json_parse(s, len, 1, &used, &v->json,
	    &err) == JSON_OK && strspn(s + used, " \t\r\n") == len - used) {
		v->is_json = 1;
		p = v->json.p;
		json_tmpls(v, &p, p + v->json.len, 0, arg);
		return;
	}
	if (*s == '{' || *s == '[')
		warn("'%s' is not JSON: its value is used as a string", arg);
	buf_free(&v->json);
	tmpl_parse(&v->t, s, len, arg);
	v->dyn = v->t.dyn;
}

void
tmpl_value_free(struct value *v)
{
	size_t i;

	tmpl_free(&v->t);
	for (i = 0; i < v->njs; i++)
		tmpl_free(&v->js[i]);
	free(v->js);
	buf_free(&v->json);
}
