/* lreform - add, rename, remove and keep fields, retag, or transform with jq */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/err.h"
#include "../common/input.h"
#include "../common/jqglue.h"
#include "../common/json.h"
#include "../common/mp.h"
#include "../common/opt.h"
#include "../common/rec.h"
#include "../common/recpath.h"
#include "../common/sig.h"
#include "../common/stats.h"
#include "../common/stream.h"
#include "../common/timefmt.h"

#define USAGE "[options] [KEY=VALUE ...]"
#define ABOUT "Add or overwrite fields, rename, remove or keep fields, " \
	"retag, or transform\neach record with a jq program, like Fluentd's " \
	"record_transformer.  VALUE may\nhold ${tag}, ${tag_parts[N]}, " \
	"${tag_prefix[N]}, ${tag_suffix[N]}, ${hostname},\n${time}, " \
	"${record[\"key\"]} and ${key}; a VALUE that starts with { or [ is " \
	"JSON."

enum {
	O_REMOVE = OPT_LONG, O_RENEW_TIME, O_TIME_FORMAT, O_UTC, O_TIMEZONE
};

static const struct opt opts[] = {
	{ 'j', "jq", "PROGRAM", "transform each record with a jq "
	    "program" },
	{ 't', "tag", "TAG", "retag events (placeholders allowed)" },
	{ 'd', "remove-keys", "K1,K2", "remove fields (KEY, $.a.b, "
	    "$['a'][0])" },
	{ 'k', "keep-keys", "K1,K2", "keep only these input fields (implies "
	    "-n)" },
	{ 'm', "rename", "OLD=NEW", "rename field OLD to NEW, in place" },
	{ 'n', "renew-record", NULL, "start from an empty record" },
	{ 'a', "auto-typecast", NULL, "a VALUE that is one placeholder "
	    "keeps its type" },
	{ O_RENEW_TIME, "renew-time-key", "KEY", "set the event time from "
	    "field KEY (unix time)" },
	{ O_TIME_FORMAT, "time-format", "FMT", "format of ${time} (default "
	    "%Y-%m-%d %H:%M:%S %z)" },
	{ O_UTC, "utc", NULL, "write ${time} in UTC" },
	{ O_TIMEZONE, "timezone", "TZ", "write ${time} in TZ (+09:00, "
	    "Asia/Tokyo)" },
	OPT_INPUT,
	OPT_STD,
	OPT_END
};

static const struct opt_exit exits[] = {
	{ 0, "all input was read and written" },
	{ 2, "usage error" },
	{ 3, "bad input data, or events dropped on jq errors" },
	{ 4, "system or I/O failure" },
	{ 141, "the reader of standard output went away" },
	OPT_EXIT_END
};

static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 0 };

static struct {
	const char *jq, *tag, *renew_time_key, *time_format, *tz;
	int renew, typecast, skip, stats;
	size_t max;
} o = { .max = STREAM_MAX_EVENT };

/* A template: text with placeholders, cut into segments. */
enum ph {
	PH_LIT, PH_HOSTNAME, PH_TAG, PH_PARTS, PH_PREFIX, PH_SUFFIX, PH_TIME,
	PH_RECORD
};

struct seg {
	enum ph kind;
	const char *s;          /* PH_LIT: the text (borrowed) */
	size_t len;
	long n;                 /* PH_PARTS, PH_PREFIX, PH_SUFFIX */
	struct recpath path;    /* PH_RECORD */
};

struct tmpl {
	struct seg *seg;
	size_t nseg;
	int dyn;                /* uses the time or the record */
	int single;             /* one placeholder, nothing else */
	int is_key;             /* a key in a JSON value: always a string */
};

/* A field's value: a template, or JSON whose strings are templates. */
struct value {
	struct tmpl t;
	int is_json, dyn;
	struct buf json;        /* msgpack; its strings are js[] in order */
	struct tmpl *js;
	size_t njs;
	int unit;               /* its rendering in the tag cache, or -1 */
};

struct field {
	const char *arg;        /* KEY=VALUE as given */
	struct tmpl key;
	const char *kconst;     /* a key without placeholders */
	size_t kconst_len;
	int key_unit;           /* a key rendered per tag, or -1 */
	struct value val;
	int shadowed;           /* a later field has the same constant key */
};

struct rename {
	const char *old, *new;
	size_t old_len, new_len;
};

struct name {                   /* a top-level name with a role */
	const char *s;
	size_t len;
	int remove;             /* in --remove-keys */
	int src, dst;           /* a rename's OLD or NEW, or -1 */
};

/* Tag cache: what depends only on the tag, rendered once per tag. */
#define NSLOTS 64
struct slot {
	struct buf tag;
	struct buf b;           /* the units back to back */
	size_t *off;            /* unit i is b.p[off[i] .. off[i + 1]) */
	int used;
};

/* What a placeholder may read: the event's tag, time and record. */
struct ctx {
	const char *tag;
	size_t tag_len;
	int64_t sec;
	uint32_t nsec;
	const char *rec, *rec_end;      /* NULL when rendering per tag */
};

struct fkey {                   /* a field's key for this event */
	const char *s;
	size_t len;
	size_t off;             /* in keybuf, for keys rendered per event */
	int shadowed;
};

static struct field *fields;
static size_t nfields;
static struct fkey *fk;
static unsigned char *done;
static int keys_vary;           /* some key has placeholders */
static struct rename *renames;
static size_t nrenames;
static struct recpath *removes; /* owns every -d and -k path */
static size_t nremoves;
static struct name *names;
static size_t nnames;
static const char **keeps;
static size_t *keep_lens, nkeeps;
static uint64_t bloom, bloom_static;
static size_t nremove_names;    /* top-level --remove-keys */
static struct tmpl tag_t;
static int tag_set, tag_unit = -1;
static size_t nunits;
static struct slot slots[NSLOTS], *last_slot;
static char hostname[256];
static size_t hostname_len;
static struct timefmt *tf;
static struct jqglue *jg;
static struct out out;
static struct buf recb, tmpb, keybuf, tagbuf, jqb;
static int plain;               /* nothing to do to the record */
static uint64_t jq_errors, jq_nonobj, bad_time, shown, dropped;
static struct recpath **nested; /* removes below the top level */
static size_t nnested;
static int strip_time;          /* -d names --renew-time-key: after it */

static _Noreturn void
bad_placeholder(const char *ph, size_t len, const char *arg, const char *why)
{
	die(EX_USAGE, "unknown placeholder '${%.*s}' in '%s'%s%s", (int)len, ph,
	    arg, why ? ": " : "", why ? why : "");
}

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

/* Sets seg from the text between "${" and "}". */
static void
classify(struct seg *sg, const char *s, size_t len, const char *arg)
{
	static const char *const idx_names[] = { "tag_parts", "tags",
		"tag_prefix", "tag_suffix" };
	static const enum ph idx_kinds[] = { PH_PARTS, PH_PARTS, PH_PREFIX,
		PH_SUFFIX };
	char path[1024];
	const char *err;
	size_t i;

	memset(sg, 0, sizeof(*sg));
	if (len == 8 && memcmp(s, "hostname", 8) == 0) {
		sg->kind = PH_HOSTNAME;
		return;
	}
	if ((len == 3 && memcmp(s, "tag", 3) == 0) || (len == 4 &&
	    memcmp(s, "time", 4) == 0)) {
		sg->kind = len == 3 ? PH_TAG : PH_TIME;
		return;
	}
	for (i = 0; i < 4; i++)
		if (indexed(s, len, idx_names[i], &sg->n)) {
			sg->kind = idx_kinds[i];
			return;
		}
	sg->kind = PH_RECORD;
	if (len > 7 && memcmp(s, "record[", 7) == 0 && len < sizeof(path)) {
		snprintf(path, sizeof(path), "$%.*s", (int)len - 6, s + 6);
		if (recpath_parse(&sg->path, path, &err) < 0)
			bad_placeholder(s, len, arg, err);
		return;
	}
	for (i = 0; i < 4; i++)
		if (len == strlen(idx_names[i]) && memcmp(s, idx_names[i],
		    len) == 0)
			bad_placeholder(s, len, arg, "it needs an index, as "
			    "in [0] or [-1]");
	if ((len == 6 && memcmp(s, "record", 6) == 0) || !is_bare_key(s, len))
		bad_placeholder(s, len, arg, "use ${record[\"KEY\"]} for a "
		    "field, --jq for code");
	snprintf(path, sizeof(path), "%.*s", (int)len, s);
	if (recpath_parse(&sg->path, path, &err) < 0)
		bad_placeholder(s, len, arg, err);
}

static void
add_seg(struct tmpl *t, const struct seg *sg)
{
	t->seg = xrealloc(t->seg, (t->nseg + 1) * sizeof(*t->seg));
	t->seg[t->nseg++] = *sg;
	if (sg->kind == PH_TIME || sg->kind == PH_RECORD)
		t->dyn = 1;
}

/*
 * The next placeholder in p[0..end): "${", one or more bytes other than
 * '}', and "}" (Fluentd's /\$\{[^}]+\}/).  0 when there is none.
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

/* Cuts s[0..len) into literal text and placeholders. */
static void
parse_tmpl(struct tmpl *t, const char *s, size_t len, const char *arg)
{
	const char *p = s, *end = s + len, *ph, *close;
	struct seg sg;
	size_t nph = 0;
	int more;

	memset(t, 0, sizeof(*t));
	while (p < end) {
		more = next_ph(p, end, &ph, &close);
		memset(&sg, 0, sizeof(sg));
		sg.kind = PH_LIT;
		sg.s = p;
		sg.len = (more ? ph : end) - p;
		if (sg.len)
			add_seg(t, &sg);
		if (!more)
			break;
		classify(&sg, ph + 2, close - ph - 2, arg);
		add_seg(t, &sg);
		nph++;
		p = close + 1;
	}
	t->single = t->nseg == 1 && nph == 1;
}

static void
free_tmpl(struct tmpl *t)
{
	size_t i;

	for (i = 0; i < t->nseg; i++)
		if (t->seg[i].kind == PH_RECORD)
			recpath_free(&t->seg[i].path);
	free(t->seg);
}

/* Part n of the tag as Ruby's tag.split('.') gives them. */
static int
tag_piece(const struct ctx *c, const struct seg *sg, const char **p,
    size_t *len)
{
	const char *t = c->tag, *s, *e;
	size_t tl = c->tag_len, i;
	long parts = 0, n = sg->n;

	while (tl > 0 && t[tl - 1] == '.')
		tl--;           /* split drops empty trailing parts */
	if (tl)
		for (parts = 1, i = 0; i < tl; i++)
			parts += t[i] == '.';
	if (n < 0)
		n += parts;
	if (n < 0 || n >= parts)
		return 0;
	for (s = t; n > 0; n--)
		s = (const char *)memchr(s, '.', t + tl - s) + 1;
	e = memchr(s, '.', t + tl - s);
	if (!e)
		e = t + tl;
	*p = sg->kind == PH_PREFIX ? t : s;
	*len = (sg->kind == PH_SUFFIX ? t + tl : e) - *p;
	return 1;
}

static void
put_time(struct buf *b, const struct ctx *c)
{
	size_t n;

	buf_reserve(b, 256);
	n = timefmt_format(tf, c->sec, c->nsec, b->p + b->len, 256);
	b->len += n;
}

static void
seg_text(const struct seg *sg, const struct ctx *c, struct buf *b)
{
	const char *v;
	size_t len;

	switch (sg->kind) {
	case PH_LIT: buf_put(b, sg->s, sg->len); break;
	case PH_HOSTNAME: buf_put(b, hostname, hostname_len); break;
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

static void
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

static void
value_render(const struct value *v, const struct ctx *c, struct buf *b)
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
		parse_tmpl(t, h.data, h.len, arg);
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
static void
parse_value(struct value *v, const char *s, const char *arg)
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
	parse_tmpl(&v->t, s, len, arg);
	v->dyn = v->t.dyn;
}

static uint64_t
bloom_bit(const char *k, size_t len)
{
	if (!len)
		return 1;
	return 1ull << ((len * 7 + (unsigned char)k[0] +
	    3u * (unsigned char)k[len - 1]) & 63);
}

static void
add_name(const char *s, size_t len, int remove, int src, int dst)
{
	struct name *n;

	names = xrealloc(names, (nnames + 1) * sizeof(*names));
	n = &names[nnames++];
	n->s = s;
	n->len = len;
	n->remove = remove;
	n->src = src;
	n->dst = dst;
	nremove_names += remove != 0;
	bloom_static |= bloom_bit(s, len);
}

/* Roles of a top-level name in this event. */
struct role {
	int field, remove, src, dst;
};

static void
lookup(const char *k, size_t len, struct role *r)
{
	size_t i;

	r->field = r->src = r->dst = -1;
	r->remove = 0;
	if (!(bloom & bloom_bit(k, len)))
		return;
	for (i = nfields; i-- > 0; )
		if (!fk[i].shadowed && fk[i].len == len && memcmp(fk[i].s, k,
		    len) == 0) {
			r->field = (int)i;
			break;
		}
	for (i = 0; i < nnames; i++) {
		if (names[i].len != len || memcmp(names[i].s, k, len) != 0)
			continue;
		r->remove |= names[i].remove;
		if (names[i].src >= 0 && r->src < 0)
			r->src = names[i].src;
		if (names[i].dst >= 0 && r->dst < 0)
			r->dst = names[i].dst;
	}
}

static struct slot *
slot_for(const char *tag, size_t len)
{
	struct ctx c = { tag, len, 0, 0, NULL, NULL };
	struct slot *s;
	uint32_t h = 2166136261u;
	size_t i, u = 0;

	if (last_slot && last_slot->tag.len == len &&
	    memcmp(last_slot->tag.p, tag, len) == 0)
		return last_slot;
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)tag[i]) * 16777619u;
	s = last_slot = &slots[h % NSLOTS];
	if (s->used && s->tag.len == len && memcmp(s->tag.p, tag, len) == 0)
		return s;
	s->tag.len = 0;
	buf_put(&s->tag, tag, len);
	s->b.len = 0;
	if (!s->off)
		s->off = xcalloc(nunits + 1, sizeof(*s->off));
	for (i = 0; i < nfields; i++) {
		if (fields[i].key_unit >= 0) {
			s->off[u++] = s->b.len;
			tmpl_text(&fields[i].key, &c, &s->b);
		}
		if (fields[i].val.unit >= 0) {
			s->off[u++] = s->b.len;
			value_render(&fields[i].val, &c, &s->b);
		}
	}
	if (tag_unit >= 0) {
		s->off[u++] = s->b.len;
		tmpl_text(&tag_t, &c, &s->b);
	}
	s->off[u] = s->b.len;
	s->used = 1;
	return s;
}

/* The fields' keys for this event, with duplicates shadowed. */
static void
resolve_keys(const struct ctx *c, const struct slot *s)
{
	size_t i, j;
	struct field *f;
	int u;

	keybuf.len = 0;
	bloom = bloom_static;
	for (i = 0; i < nfields; i++) {
		f = &fields[i];
		if (f->key_unit >= 0) {
			u = f->key_unit;
			fk[i].s = s->b.p + s->off[u];
			fk[i].len = s->off[u + 1] - s->off[u];
		} else if (!f->kconst) {
			fk[i].off = keybuf.len;
			tmpl_text(&f->key, c, &keybuf);
			fk[i].len = keybuf.len - fk[i].off;
		}
	}
	for (i = 0; i < nfields; i++) {
		if (!fields[i].kconst && fields[i].key_unit < 0)
			fk[i].s = keybuf.p + fk[i].off;
		fk[i].shadowed = fields[i].shadowed;
		bloom |= bloom_bit(fk[i].s, fk[i].len);
	}
	for (i = 0; i < nfields; i++)
		for (j = i + 1; j < nfields && !fk[i].shadowed; j++)
			if (fk[i].len == fk[j].len && memcmp(fk[i].s, fk[j].s,
			    fk[i].len) == 0)
				fk[i].shadowed = 1;
}

static void
field_value(size_t i, const struct ctx *c, const struct slot *s,
    struct buf *b)
{
	int u = fields[i].val.unit;

	if (u >= 0)
		buf_put(b, s->b.p + s->off[u], s->off[u + 1] - s->off[u]);
	else
		value_render(&fields[i].val, c, b);
}

static int
has_key(const struct ctx *c, const char *k, size_t len)
{
	const char *v;
	size_t vlen, i;

	if (!mp_map_get(c->rec, c->rec_end, k, len, &v, &vlen))
		return 0;
	if (!o.renew)
		return 1;
	for (i = 0; i < nkeeps; i++)
		if (keep_lens[i] == len && memcmp(keeps[i], k, len) == 0)
			return 1;
	return 0;
}

/*
 * One field of the base record: kept raw, renamed, replaced by a field
 * of the same name, or dropped.  kraw is the raw pair (key and value),
 * or NULL to write the key k.
 */
static void
base_pair(struct rec *r, const struct ctx *c, const struct slot *s,
    const char *k, size_t klen, const char *kraw, const char *v,
    const char *vend)
{
	struct role ro;
	int renamed = 0;

	lookup(k, klen, &ro);
	if (ro.src >= 0) {
		k = renames[ro.src].new;
		klen = renames[ro.src].new_len;
		renamed = 1;
		lookup(k, klen, &ro);
	} else if (ro.dst >= 0 && has_key(c, renames[ro.dst].old,
	    renames[ro.dst].old_len)) {
		return;         /* the renamed field takes its place */
	}
	if (ro.remove)
		return;
	if (ro.field >= 0) {
		if (done[ro.field])
			return;         /* a key the record has twice */
		done[ro.field] = 1;
		rec_key(r, k, klen);
		field_value((size_t)ro.field, c, s, r->b);
	} else if (renamed || !kraw) {
		rec_raw(r, k, klen, v, vend - v);
	} else {
		rec_pairs(r, kraw, vend - kraw, 1);
	}
}

static void
base_record(struct rec *r, const struct ctx *c, const struct slot *s)
{
	const char *p = c->rec, *end = c->rec_end, *pair, *v;
	struct mp_obj m, k;
	size_t i, vlen;

	if (o.renew) {
		for (i = 0; i < nkeeps; i++)
			if (mp_map_get(c->rec, end, keeps[i], keep_lens[i], &v,
			    &vlen))
				base_pair(r, c, s, keeps[i], keep_lens[i], NULL,
				    v, v + vlen);
		return;
	}
	mp_head(&p, end, &m);
	for (i = 0; i < m.v.n; i++) {
		pair = p;
		mp_head(&p, end, &k);
		if (k.type != MP_STR && k.type != MP_BIN) {
			p = pair;
			mp_skip(&p, end, NULL);
			mp_skip(&p, end, NULL);
			rec_pairs(r, pair, p - pair, 1);
			continue;
		}
		v = p;
		mp_skip(&p, end, NULL);
		if (!(bloom & bloom_bit(k.data, k.len)))
			rec_pairs(r, pair, p - pair, 1);
		else
			base_pair(r, c, s, k.data, k.len, pair, v, p);
	}
}

/* The new record in recb, from the record in c. */
static void
build(const struct ctx *c, const struct slot *s)
{
	struct rec r;
	struct role ro;
	struct buf t;
	size_t i;

	recb.len = 0;
	if (keys_vary)
		resolve_keys(c, s);
	memset(done, 0, nfields);
	rec_begin(&r, &recb);
	base_record(&r, c, s);
	for (i = 0; i < nfields; i++) {
		if (done[i] || fk[i].shadowed)
			continue;
		if (nremove_names) {
			lookup(fk[i].s, fk[i].len, &ro);
			if (ro.remove)
				continue;
		}
		rec_key(&r, fk[i].s, fk[i].len);
		field_value(i, c, s, &recb);
	}
	rec_end(&r);
	for (i = 0; i < nnested; i++) {
		tmpb.len = 0;
		if (recpath_put_without(nested[i], &tmpb, recb.p,
		    recb.p + recb.len)) {
			t = recb;
			recb = tmpb;
			tmpb = t;
		}
	}
}

/* --renew-time-key: the time from a number or a numeric string. */
static int
renew_time(const char *rec, size_t len, int64_t *sec, uint32_t *nsec)
{
	const char *v, *p;
	char num[64], *end;
	struct mp_obj h;
	size_t vlen;
	double d;

	if (!mp_map_get(rec, rec + len, o.renew_time_key,
	    strlen(o.renew_time_key), &v, &vlen))
		return 0;
	p = v;
	mp_head(&p, v + vlen, &h);
	if (h.type == MP_UINT && h.v.u <= INT64_MAX) {
		*sec = (int64_t)h.v.u;
		*nsec = 0;
		return 0;
	}
	if (h.type == MP_INT) {
		*sec = h.v.i;
		*nsec = 0;
		return 0;
	}
	d = h.type == MP_FLOAT ? h.v.f : 0;
	if (h.type == MP_STR && h.len > 0 && h.len < sizeof(num)) {
		memcpy(num, h.data, h.len);
		num[h.len] = '\0';
		d = strtod(num, &end);
		if (*end || end == num)
			return -1;
	} else if (h.type != MP_FLOAT) {
		return -1;
	}
	return event_time_from_double(d, sec, nsec);
}

/* The record rec without its top-level pairs of key k, in tmpb. */
static void
strip_key(const char *rec, size_t len, const char *k, size_t klen)
{
	const char *p = rec, *end = rec + len, *pair;
	struct mp_obj m, h;
	struct rec r;
	uint32_t i;

	tmpb.len = 0;
	rec_begin(&r, &tmpb);
	mp_head(&p, end, &m);
	for (i = 0; i < m.v.n; i++) {
		pair = p;
		mp_head(&p, end, &h);
		if ((h.type != MP_STR && h.type != MP_BIN) || h.len != klen ||
		    memcmp(h.data, k, klen) != 0) {
			p = pair;
			mp_skip(&p, end, NULL);
			mp_skip(&p, end, NULL);
			rec_pairs(&r, pair, p - pair, 1);
			continue;
		}
		mp_skip(&p, end, NULL);
	}
	rec_end(&r);
}

static void
emit(const struct event *ev, const char *rec, size_t len)
{
	struct ctx c = { ev->tag, ev->tag_len, ev->sec, ev->nsec, rec,
		rec + len };
	const struct slot *s = nunits ? slot_for(ev->tag, ev->tag_len) : NULL;
	const char *tag = ev->tag;
	size_t tag_len = ev->tag_len;
	int64_t sec = ev->sec;
	uint32_t nsec = ev->nsec;

	if (!plain) {
		build(&c, s);
		rec = recb.p;
		len = recb.len;
	}
	if (o.renew_time_key && renew_time(rec, len, &sec, &nsec) < 0 &&
	    !bad_time++)
		warn("event %llu: field %s is not a unix time; the event "
		    "keeps its time", (unsigned long long)stats.in,
		    o.renew_time_key);
	if (strip_time) {
		/* as Fluentd: the time is taken, then the field removed */
		strip_key(rec, len, o.renew_time_key,
		    strlen(o.renew_time_key));
		rec = tmpb.p;
		len = tmpb.len;
	}
	if (tag_unit >= 0) {
		tag = s->b.p + s->off[tag_unit];
		tag_len = s->off[tag_unit + 1] - s->off[tag_unit];
	} else if (tag_set) {
		tagbuf.len = 0;
		tmpl_text(&tag_t, &c, &tagbuf);
		tag = tagbuf.p;
		tag_len = tagbuf.len;
	}
	event_write(&out, tag, tag_len, sec, nsec, rec, len);
	out_check(&out);
	stats.out++;
}

static void
jq_problem(const struct event *ev, const char *what, const char *msg)
{
	if (shown++ < 10)
		warn("event %llu (tag %.*s): %s%s; dropped",
		    (unsigned long long)stats.in, (int)ev->tag_len, ev->tag,
		    what, msg);
	else if (shown == 11)
		warn("further jq errors are counted, not shown");
}

static void
run_jq(const struct event *ev)
{
	static const char *const kinds[] = { "invalid", "null", "false",
		"true", "a number", "a string", "an array", "an object" };
	uint64_t n = 0;
	int ret;
	jv v;

	jqglue_start(jg, ev->tag, ev->tag_len, ev->sec, ev->nsec, ev->rec,
	    ev->rec_len);
	while ((ret = jqglue_next(jg, &v)) == JQGLUE_OUT) {
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			jq_nonobj++;
			jq_problem(ev, "jq output is ", kinds[jv_get_kind(v)]);
			jv_free(v);
			continue;
		}
		jqb.len = 0;
		jqglue_put(jg, &jqb, v);
		emit(ev, jqb.p, jqb.len);
		n++;
	}
	if (ret == JQGLUE_ERR) {
		jq_errors++;
		jq_problem(ev, "jq error: ", jqglue_errmsg(jg));
	}
	if (!n)
		dropped++;
}

static void
add_field(const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct field *f;
	size_t i;

	if (!eq || eq == arg)
		die(EX_USAGE, "'%s' is not KEY=VALUE", arg);
	fields = xrealloc(fields, (nfields + 1) * sizeof(*fields));
	f = &fields[nfields++];
	memset(f, 0, sizeof(*f));
	f->arg = arg;
	f->key_unit = -1;
	parse_tmpl(&f->key, arg, eq - arg, arg);
	f->key.is_key = 1;
	if (f->key.nseg == 1 && f->key.seg[0].kind == PH_LIT) {
		f->kconst = arg;
		f->kconst_len = eq - arg;
		for (i = 0; i + 1 < nfields; i++)
			if (fields[i].kconst && fields[i].kconst_len ==
			    f->kconst_len && memcmp(fields[i].kconst, arg,
			    f->kconst_len) == 0)
				fields[i].shadowed = 1;
	} else if (f->key.dyn) {
		keys_vary = 1;
	} else {
		f->key_unit = (int)nunits++;
		keys_vary = 1;
	}
	parse_value(&f->val, eq + 1, arg);
	if (!f->val.dyn)
		f->val.unit = (int)nunits++;
}

#define ISSPACE(c) ((c) == ' ' || ((c) >= '\t' && (c) <= '\r'))

/*
 * Splits a comma-separated list of field names (commas in quotes kept),
 * white space around each name trimmed as Fluentd trims the items of its
 * array parameters, empty names left out.  The names point into s; the
 * list is to free.
 */
static char **
split_names(char *s, size_t *n)
{
	char **v = NULL, q = 0, *start = s, *b, *e;

	*n = 0;
	for (;; s++) {
		if (q) {
			if (*s == q && s[1] == ']')
				q = 0;
			if (*s)
				continue;
		}
		if ((*s == '\'' || *s == '"') && s > start && s[-1] == '[') {
			q = *s;
			continue;
		}
		if (*s && *s != ',')
			continue;
		for (b = start; b < s && ISSPACE(*b); b++)
			continue;
		for (e = s; e > b && ISSPACE(e[-1]); e--)
			continue;
		if (e > b) {
			v = xrealloc(v, (*n + 1) * sizeof(*v));
			v[(*n)++] = b;
		}
		if (!*s)
			break;
		*s = '\0';
		*e = '\0';
		start = s + 1;
	}
	if (e > b)
		*e = '\0';
	return v;
}

static void
add_paths(const char *arg, int keep)
{
	char *s = xstrdup(arg), **list;
	const char *err;
	struct recpath rp;
	size_t n, i;

	list = split_names(s, &n);
	for (i = 0; i < n; i++) {
		if (recpath_parse(&rp, list[i], &err) < 0)
			die(EX_USAGE, "bad field name '%s': %s", list[i], err);
		if (keep && (rp.n != 1 || !rp.step[0].key))
			die(EX_USAGE, "--keep-keys takes top-level keys, not "
			    "'%s'", list[i]);
		removes = xrealloc(removes, (nremoves + 1) * sizeof(*removes));
		removes[nremoves] = rp;
		if (keep) {
			keeps = xrealloc(keeps, (nkeeps + 1) * sizeof(*keeps));
			keep_lens = xrealloc(keep_lens, (nkeeps + 1) *
			    sizeof(*keep_lens));
			keeps[nkeeps] = rp.step[0].key;
			keep_lens[nkeeps++] = rp.step[0].len;
			removes[nremoves].n = 0;
		} else if (rp.n == 1 && rp.step[0].key) {
			add_name(rp.step[0].key, rp.step[0].len, 1, -1, -1);
		}
		nremoves++;
	}
	free(list);
	free(s);
	if (!n)
		die(EX_USAGE, "'%s' names no field", arg);
}

static void
add_rename(const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct rename *r;

	if (!eq || eq == arg || !eq[1])
		die(EX_USAGE, "--rename '%s' is not OLD=NEW", arg);
	renames = xrealloc(renames, (nrenames + 1) * sizeof(*renames));
	r = &renames[nrenames];
	r->old = arg;
	r->old_len = eq - arg;
	r->new = eq + 1;
	r->new_len = strlen(eq + 1);
	add_name(r->old, r->old_len, 0, (int)nrenames, -1);
	add_name(r->new, r->new_len, 0, -1, (int)nrenames);
	nrenames++;
}

static void
setup(void)
{
	const char *err;
	char msg[4096];
	size_t i;

	if (gethostname(hostname, sizeof(hostname) - 1) < 0)
		die(EX_SYS, "unable to get the host name:");
	hostname_len = strlen(hostname);
	tf = timefmt_new(o.time_format ? o.time_format :
	    "%Y-%m-%d %H:%M:%S %z", o.tz, &err);
	if (!tf)
		die(EX_USAGE, "bad time format '%s': %s", o.time_format ?
		    o.time_format : "%Y-%m-%d %H:%M:%S %z", err);
	if (o.jq && !(jg = jqglue_new(o.jq, msg, sizeof(msg))))
		die(EX_USAGE, "bad jq program: %s", msg);
	if (o.tag) {
		parse_tmpl(&tag_t, o.tag, strlen(o.tag), o.tag);
		tag_set = 1;
		if (!tag_t.dyn)
			tag_unit = (int)nunits++;
	}
	fk = xcalloc(nfields + 1, sizeof(*fk));
	done = xcalloc(nfields + 1, 1);
	bloom = bloom_static;
	for (i = 0; i < nfields; i++) {
		fk[i].s = fields[i].kconst;
		fk[i].len = fields[i].kconst_len;
		fk[i].shadowed = fields[i].shadowed;
		if (fields[i].kconst)
			bloom |= bloom_bit(fk[i].s, fk[i].len);
	}
	for (i = 0; o.renew_time_key && i < nnames; i++)
		if (names[i].remove && names[i].len == strlen(o.renew_time_key)
		    && memcmp(names[i].s, o.renew_time_key, names[i].len) == 0) {
			names[i].remove = 0;
			nremove_names--;
			strip_time = 1;
		}
	nested = xcalloc(nremoves + 1, sizeof(*nested));
	for (i = 0; i < nremoves; i++)
		if (removes[i].n > 1 || (removes[i].n == 1 &&
		    !removes[i].step[0].key))
			nested[nnested++] = &removes[i];
	plain = !nfields && !nrenames && !nremoves && !o.renew;
}

static void
option(int c, const char *arg)
{

	switch (c) {
	case 'j': o.jq = arg; break;
	case 't': o.tag = arg; break;
	case 'd': add_paths(arg, 0); break;
	case 'k': add_paths(arg, 1); o.renew = 1; break;
	case 'm': add_rename(arg); break;
	case 'n': o.renew = 1; break;
	case 'a': o.typecast = 1; break;
	case O_RENEW_TIME: o.renew_time_key = arg; break;
	case O_TIME_FORMAT: o.time_format = arg; break;
	case O_UTC: o.tz = "UTC"; break;
	case O_TIMEZONE: o.tz = arg; break;
	default: input_opt(c, arg); break;
	}
}

static void
options(int argc, char **argv)
{
	const char *arg;
	int c;

	/* options may follow KEY=VALUE operands (GNU order); "--" ends them */
	while ((c = opt_get(argc, argv, &prog, &arg)) != -1)
		option(c, arg);
	for (; optind < argc; optind++)
		add_field(argv[optind]);
}

static struct reader *rd;

static void
sync_stats(void)
{
	const struct reader_stats *rs = reader_stats(rd);

	stats.bytes_in = rs->bytes;
	stats.bytes_out = out.bytes + out.b.len;
	stats.dropped = dropped + input_dropped(rd);
}

static void
extra_stats(char *b, size_t cap)
{
	if (jg)
		snprintf(b, cap, ", jq errors %llu, jq non-object outputs %llu",
		    (unsigned long long)jq_errors,
		    (unsigned long long)jq_nonobj);
}

static void
free_value(struct value *v)
{
	size_t i;

	free_tmpl(&v->t);
	for (i = 0; i < v->njs; i++)
		free_tmpl(&v->js[i]);
	free(v->js);
	buf_free(&v->json);
}

static void
finish(void)
{
	size_t i;

	for (i = 0; i < nfields; i++) {
		free_tmpl(&fields[i].key);
		free_value(&fields[i].val);
	}
	free(fields);
	for (i = 0; i < nremoves; i++)
		recpath_free(&removes[i]);
	free(removes);
	free(nested);
	free(keeps);
	free(keep_lens);
	free(renames);
	free(names);
	free(fk);
	free(done);
	if (tag_set)
		free_tmpl(&tag_t);
	for (i = 0; i < NSLOTS; i++) {
		buf_free(&slots[i].tag);
		buf_free(&slots[i].b);
		free(slots[i].off);
	}
	buf_free(&recb);
	buf_free(&tmpb);
	buf_free(&keybuf);
	buf_free(&tagbuf);
	buf_free(&jqb);
	jqglue_free(jg);
	timefmt_free(tf);
	out_free(&out);
	reader_free(rd);
}

/* Says what was counted; returns the exit status. */
static int
report(void)
{
	if (bad_time)
		warn("%llu events kept their time: field %s was not a unix "
		    "time", (unsigned long long)bad_time, o.renew_time_key);
	if (jq_errors || jq_nonobj)
		warn("dropped: %llu jq errors, %llu outputs that were not "
		    "objects", (unsigned long long)jq_errors,
		    (unsigned long long)jq_nonobj);
	return jq_errors || jq_nonobj ? EX_DATA : EX_OK;
}

int
main(int argc, char **argv)
{
	struct event ev;
	int ret;

	progname_set(argv[0]);
	options(argc, argv);
	setup();
	sig_init();
	out_init(&out, 1, "stdout");
	rd = input_filter_reader(0, "stdin", &out);
	stats_init(sync_stats, extra_stats);
	while ((ret = reader_next(rd, &ev)) == READ_EVENT) {
		stats.in++;
		if (jg)
			run_jq(&ev);
		else
			emit(&ev, ev.rec, ev.rec_len);
	}
	ret = filter_end(rd, ret, &out, report);
	finish();
	return ret;
}
