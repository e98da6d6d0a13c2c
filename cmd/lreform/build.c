/* build - lreform's events: the tag cache, the new record, time and tag */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mp.h"
#include "rec.h"
#include "recpath.h"
#include "stats.h"
#include "stream.h"

#include "lreform.h"

/* Tag cache: what depends only on the tag, rendered once per tag. */
#define NSLOTS 64
struct slot {
	struct buf tag;
	struct buf b;           /* the units back to back */
	size_t *off;            /* unit i is b.p[off[i] .. off[i + 1]) */
	int used;
	struct buf tail;        /* st.tail: the fields' pairs, encoded */
	uint32_t ntail;
};

struct fkey {                   /* a field's key for this event */
	const char *s;
	size_t len;
	size_t off;             /* in keybuf, for keys rendered per event */
	int shadowed;
};

/* Roles of a top-level name in this event. */
struct role {
	int field, remove, src, dst;
};

/* The work of one event, kept from one to the next. */
static struct {
	struct fkey *fk;        /* ed.fields[i]'s key is fk[i] */
	unsigned char *done;    /* fields already written in place */
	uint64_t bloom;         /* ed.bloom and the fields' keys */
	size_t ndone;           /* of done[] set */
	int tail;               /* constant keys, values per tag, none
				 * removed: a slot keeps the pairs to add */
	struct slot slots[NSLOTS], *last;
	struct buf recb, tmpb, keybuf, tagbuf;
} st;

/* After fields_setup: the fields' constant keys. */
void
build_init(void)
{
	size_t i;

	st.fk = xcalloc(ed.nfields + 1, sizeof(*st.fk));
	st.done = xcalloc(ed.nfields + 1, 1);
	st.bloom = ed.bloom;
	st.tail = !ed.keys_vary && !ed.nremove_names;
	for (i = 0; i < ed.nfields; i++) {
		if (ed.fields[i].val.unit < 0)
			st.tail = 0;
		st.fk[i].s = ed.fields[i].kconst;
		st.fk[i].len = ed.fields[i].kconst_len;
		st.fk[i].shadowed = ed.fields[i].shadowed;
		if (ed.fields[i].kconst)
			st.bloom |= bloom_bit(st.fk[i].s, st.fk[i].len);
	}
}

void
build_free(void)
{
	size_t i;

	free(st.fk);
	free(st.done);
	for (i = 0; i < NSLOTS; i++) {
		buf_free(&st.slots[i].tag);
		buf_free(&st.slots[i].b);
		buf_free(&st.slots[i].tail);
		free(st.slots[i].off);
	}
	buf_free(&st.recb);
	buf_free(&st.tmpb);
	buf_free(&st.keybuf);
	buf_free(&st.tagbuf);
}

static void
lookup(const char *k, size_t len, struct role *r)
{
	size_t i;

	r->field = r->src = r->dst = -1;
	r->remove = 0;
	if (!(st.bloom & bloom_bit(k, len)))
		return;
	for (i = ed.nfields; i-- > 0; )
		if (!st.fk[i].shadowed && st.fk[i].len == len &&
		    memcmp(st.fk[i].s, k, len) == 0) {
			r->field = (int)i;
			break;
		}
	for (i = 0; i < ed.nnames; i++) {
		if (ed.names[i].len != len ||
		    memcmp(ed.names[i].s, k, len) != 0)
			continue;
		r->remove |= ed.names[i].remove;
		if (ed.names[i].src >= 0 && r->src < 0)
			r->src = ed.names[i].src;
		if (ed.names[i].dst >= 0 && r->dst < 0)
			r->dst = ed.names[i].dst;
	}
}

/* With st.tail: the pairs build_into adds, of the fields not shadowed. */
static void
slot_tail(struct slot *s)
{
	size_t i;
	int u;

	s->tail.len = 0;
	s->ntail = 0;
	for (i = 0; i < ed.nfields; i++) {
		if (st.fk[i].shadowed)
			continue;
		u = ed.fields[i].val.unit;
		mp_put_strhdr(&s->tail, st.fk[i].len);
		buf_put(&s->tail, st.fk[i].s, st.fk[i].len);
		buf_put(&s->tail, s->b.p + s->off[u], s->off[u + 1] - s->off[u]);
		s->ntail++;
	}
}

static struct slot *
slot_for(const char *tag, size_t len)
{
	struct ctx c = { tag, len, 0, 0, NULL, NULL };
	struct slot *s;
	uint32_t h = 2166136261u;
	size_t i, u = 0;

	if (st.last && st.last->tag.len == len &&
	    memcmp(st.last->tag.p, tag, len) == 0)
		return st.last;
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)tag[i]) * 16777619u;
	s = st.last = &st.slots[h % NSLOTS];
	if (s->used && s->tag.len == len && memcmp(s->tag.p, tag, len) == 0)
		return s;
	s->tag.len = 0;
	buf_put(&s->tag, tag, len);
	s->b.len = 0;
	if (!s->off)
		s->off = xcalloc(ed.nunits + 1, sizeof(*s->off));
	for (i = 0; i < ed.nfields; i++) {
		if (ed.fields[i].key_unit >= 0) {
			s->off[u++] = s->b.len;
			tmpl_text(&ed.fields[i].key, &c, &s->b);
		}
		if (ed.fields[i].val.unit >= 0) {
			s->off[u++] = s->b.len;
			tmpl_value_render(&ed.fields[i].val, &c, &s->b);
		}
	}
	if (ed.tag_unit >= 0) {
		s->off[u++] = s->b.len;
		tmpl_text(&ed.tag, &c, &s->b);
	}
	s->off[u] = s->b.len;
	s->used = 1;
	if (st.tail)
		slot_tail(s);
	return s;
}

/* The fields' keys for this event, with duplicates shadowed. */
static void
resolve_keys(const struct ctx *c, const struct slot *s)
{
	size_t i, j;
	struct field *f;
	int u;

	st.keybuf.len = 0;
	st.bloom = ed.bloom;
	for (i = 0; i < ed.nfields; i++) {
		f = &ed.fields[i];
		if (f->key_unit >= 0) {
			u = f->key_unit;
			st.fk[i].s = s->b.p + s->off[u];
			st.fk[i].len = s->off[u + 1] - s->off[u];
		} else if (!f->kconst) {
			st.fk[i].off = st.keybuf.len;
			tmpl_text(&f->key, c, &st.keybuf);
			st.fk[i].len = st.keybuf.len - st.fk[i].off;
		}
	}
	for (i = 0; i < ed.nfields; i++) {
		if (!ed.fields[i].kconst && ed.fields[i].key_unit < 0)
			st.fk[i].s = st.keybuf.p + st.fk[i].off;
		st.fk[i].shadowed = ed.fields[i].shadowed;
		st.bloom |= bloom_bit(st.fk[i].s, st.fk[i].len);
	}
	for (i = 0; i < ed.nfields; i++)
		for (j = i + 1; j < ed.nfields && !st.fk[i].shadowed; j++)
			if (st.fk[i].len == st.fk[j].len &&
			    memcmp(st.fk[i].s, st.fk[j].s, st.fk[i].len) == 0)
				st.fk[i].shadowed = 1;
}

static void
field_value(size_t i, const struct ctx *c, const struct slot *s,
    struct buf *b)
{
	int u = ed.fields[i].val.unit;

	if (u >= 0)
		buf_put(b, s->b.p + s->off[u], s->off[u + 1] - s->off[u]);
	else
		tmpl_value_render(&ed.fields[i].val, c, b);
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
	for (i = 0; i < ed.nkeeps; i++)
		if (ed.keep_lens[i] == len && memcmp(ed.keeps[i], k, len) == 0)
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
		k = ed.renames[ro.src].new;
		klen = ed.renames[ro.src].new_len;
		renamed = 1;
		lookup(k, klen, &ro);
	} else if (ro.dst >= 0 && has_key(c, ed.renames[ro.dst].old,
	    ed.renames[ro.dst].old_len)) {
		return;         /* the renamed field takes its place */
	}
	if (ro.remove)
		return;
	if (ro.field >= 0) {
		if (st.done[ro.field])
			return;         /* a key the record has twice */
		st.done[ro.field] = 1;
		st.ndone++;
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
	const char *p = c->rec, *end = c->rec_end, *pair, *v, *run;
	struct mp_obj m, k;
	size_t i, vlen;
	uint32_t nrun;

	if (o.renew) {
		for (i = 0; i < ed.nkeeps; i++)
			if (mp_map_get(c->rec, end, ed.keeps[i],
			    ed.keep_lens[i], &v, &vlen))
				base_pair(r, c, s, ed.keeps[i],
				    ed.keep_lens[i], NULL, v, v + vlen);
		return;
	}
	/* pairs kept as they are go in runs, a copy a run */
	mp_head(&p, end, &m);
	run = p;
	nrun = 0;
	for (i = 0; i < m.v.n; i++) {
		pair = p;
		mp_head(&p, end, &k);
		if (k.type != MP_STR && k.type != MP_BIN) {
			p = pair;
			mp_skip(&p, end, NULL);
			mp_skip(&p, end, NULL);
			nrun++;
			continue;
		}
		v = p;
		mp_skip(&p, end, NULL);
		if (!(st.bloom & bloom_bit(k.data, k.len))) {
			nrun++;
			continue;
		}
		rec_pairs(r, run, pair - run, nrun);
		base_pair(r, c, s, k.data, k.len, pair, v, p);
		run = p;
		nrun = 0;
	}
	rec_pairs(r, run, p - run, nrun);
}

/* The pairs of the map at p (validated), or 0 if it is not a map. */
static uint32_t
map_pairs(const char *p, const char *end)
{
	struct mp_obj m;

	return mp_head(&p, end, &m) == MP_OK && m.type == MP_MAP ? m.v.n : 0;
}

/* Appends the new record to b, from the record in c. */
static void
build_into(const struct ctx *c, const struct slot *s, struct buf *b)
{
	struct rec r;
	struct role ro;
	size_t i;

	if (ed.keys_vary)
		resolve_keys(c, s);
	memset(st.done, 0, ed.nfields);
	st.ndone = 0;
	rec_begin_most(&r, b, (uint64_t)map_pairs(c->rec, c->rec_end) +
	    ed.nfields);
	base_record(&r, c, s);
	if (st.tail && s && !st.ndone) {
		rec_pairs(&r, s->tail.p, s->tail.len, s->ntail);
		rec_end(&r);
		return;
	}
	for (i = 0; i < ed.nfields; i++) {
		if (st.done[i] || st.fk[i].shadowed)
			continue;
		if (ed.nremove_names) {
			lookup(st.fk[i].s, st.fk[i].len, &ro);
			if (ro.remove)
				continue;
		}
		rec_key(&r, st.fk[i].s, st.fk[i].len);
		field_value(i, c, s, b);
	}
	rec_end(&r);
}

/* The new record in st.recb, from the record in c. */
static void
build(const struct ctx *c, const struct slot *s)
{
	struct buf t;
	size_t i;

	st.recb.len = 0;
	build_into(c, s, &st.recb);
	for (i = 0; i < ed.nnested; i++) {
		st.tmpb.len = 0;
		if (recpath_put_without(ed.nested[i], &st.tmpb, st.recb.p,
		    st.recb.p + st.recb.len)) {
			t = st.recb;
			st.recb = st.tmpb;
			st.tmpb = t;
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

/* The record rec without its top-level pairs of key k, in st.tmpb. */
static void
strip_key(const char *rec, size_t len, const char *k, size_t klen)
{
	const char *p = rec, *end = rec + len, *pair;
	struct mp_obj m, h;
	struct rec r;
	uint32_t i;

	st.tmpb.len = 0;
	rec_begin(&r, &st.tmpb);
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

/*
 * The usual case of constant pairs added: no key of the record is one the
 * edit names (the Bloom filter says so for each), so the new record is
 * the record's pairs as they are, then the slot's tail, under one map
 * header.  Writes the event and returns 1, or 0 (nothing written) when
 * build_into must decide.  The bytes are those of build_into's.
 */
static int
direct_tail(const struct event *ev, const struct ctx *c,
    const struct slot *s, const char *tag, size_t tag_len)
{
	const char *p = c->rec, *end = c->rec_end, *body, *k;
	const unsigned char *u = (const unsigned char *)p;
	struct buf *b = &out.b;
	struct mp_obj h;
	uint64_t pairs;
	uint32_t n, i;
	size_t klen;

	if (u[0] >= 0x80 && u[0] <= 0x8f) {
		n = u[0] & 0x0f;
		body = p + 1;
	} else if (u[0] == 0xde && end - p >= 3) {
		n = (uint32_t)u[1] << 8 | u[2];
		body = p + 3;
	} else if (u[0] == 0xdf && end - p >= 5) {
		n = (uint32_t)u[1] << 24 | (uint32_t)u[2] << 16 |
		    (uint32_t)u[3] << 8 | u[4];
		body = p + 5;
	} else {
		return 0;
	}
	p = body;
	for (i = 0; i < n; i++) {
		u = (const unsigned char *)p;
		if ((u[0] & 0xe0) == 0xa0) {
			klen = u[0] & 0x1f;
			k = p + 1;
			p = k + klen;
		} else if (mp_head(&p, end, &h) != MP_OK) {
			return 0;
		} else if (h.type == MP_STR || h.type == MP_BIN) {
			k = h.data;
			klen = h.len;
		} else {
			/* a key that is not text is kept as it is */
			p = (const char *)u;
			mp_skip(&p, end, NULL);
			mp_skip(&p, end, NULL);
			continue;
		}
		if (st.bloom & bloom_bit(k, klen))
			return 0;
		u = (const unsigned char *)p;
		if ((u[0] & 0xe0) == 0xa0)
			p += 1 + (u[0] & 0x1f);
		else if (u[0] == 0xd9 && end - p >= 2)
			p += 2 + u[1];
		else
			mp_skip(&p, end, NULL);
	}
	pairs = (uint64_t)n + s->ntail;
	if (pairs > 0xffffffffu)
		return 0;
	buf_reserve(b, 1 + 5 + tag_len + 10 + 5 + (size_t)(p - body) +
	    s->tail.len);
	b->p[b->len++] = (char)0x93;
	if (tag_len < 32)
		b->p[b->len++] = (char)(0xa0 | tag_len);
	else
		mp_put_strhdr(b, tag_len);
	memcpy(b->p + b->len, tag, tag_len);
	b->len += tag_len;
	event_put_time(b, ev->sec, ev->nsec);
	if (pairs < 16)
		b->p[b->len++] = (char)(0x80 | pairs);
	else
		mp_put_maphdr(b, (uint32_t)pairs);
	memcpy(b->p + b->len, body, p - body);
	b->len += p - body;
	memcpy(b->p + b->len, s->tail.p, s->tail.len);
	b->len += s->tail.len;
	out_check(&out);
	stats.out++;
	return 1;
}

/*
 * build_emit when the new record is all there is to do: the event goes
 * straight into the output buffer, the record built in its place.
 */
static void
emit_direct(const struct event *ev, const struct ctx *c,
    const struct slot *s)
{
	struct buf *b = &out.b;
	const char *tag = ev->tag;
	size_t tag_len = ev->tag_len;

	if (ed.tag_unit >= 0) {
		tag = s->b.p + s->off[ed.tag_unit];
		tag_len = s->off[ed.tag_unit + 1] - s->off[ed.tag_unit];
	} else if (ed.tag_set) {
		st.tagbuf.len = 0;
		tmpl_text(&ed.tag, c, &st.tagbuf);
		tag = st.tagbuf.p;
		tag_len = st.tagbuf.len;
	}
	if (st.tail && s && !o.renew && c->rec < c->rec_end &&
	    direct_tail(ev, c, s, tag, tag_len))
		return;
	buf_reserve(b, 1 + 5 + tag_len);
	b->p[b->len++] = (char)0x93;
	mp_put_strhdr(b, tag_len);
	memcpy(b->p + b->len, tag, tag_len);
	b->len += tag_len;
	event_put_time(b, ev->sec, ev->nsec);
	build_into(c, s, b);
	out_check(&out);
	stats.out++;
}

/* Writes the event with record rec, edited unless there is nothing to do. */
void
build_emit(const struct event *ev, const char *rec, size_t len)
{
	struct ctx c = { ev->tag, ev->tag_len, ev->sec, ev->nsec, rec,
		rec + len };
	const struct slot *s = ed.nunits ? slot_for(ev->tag, ev->tag_len) :
	    NULL;
	const char *tag = ev->tag;
	size_t tag_len = ev->tag_len;
	int64_t sec = ev->sec;
	uint32_t nsec = ev->nsec;

	if (!ed.plain && !o.renew_time_key && !ed.nnested) {
		emit_direct(ev, &c, s);
		return;
	}
	if (!ed.plain) {
		build(&c, s);
		rec = st.recb.p;
		len = st.recb.len;
	}
	if (o.renew_time_key && renew_time(rec, len, &sec, &nsec) < 0 &&
	    !cnt.bad_time++)
		warn("event %llu: field %s is not a unix time; the event "
		    "keeps its time", (unsigned long long)stats.in,
		    o.renew_time_key);
	if (ed.strip_time) {
		/* as Fluentd: the time is taken, then the field removed */
		strip_key(rec, len, o.renew_time_key,
		    strlen(o.renew_time_key));
		rec = st.tmpb.p;
		len = st.tmpb.len;
	}
	if (ed.tag_unit >= 0) {
		tag = s->b.p + s->off[ed.tag_unit];
		tag_len = s->off[ed.tag_unit + 1] - s->off[ed.tag_unit];
	} else if (ed.tag_set) {
		st.tagbuf.len = 0;
		tmpl_text(&ed.tag, &c, &st.tagbuf);
		tag = st.tagbuf.p;
		tag_len = st.tagbuf.len;
	}
	event_write(&out, tag, tag_len, sec, nsec, rec, len);
	out_check(&out);
	stats.out++;
}
